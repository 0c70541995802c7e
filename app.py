"""The chat page: ``python app.py [--host 127.0.0.1] [--port 7860]`` (or settings host/port).

Only wiring: the page's layout and events call ``qa.answer.Answerer`` (loaded once at start,
building the index on first use) and format with ``qa.chat``. The page scales to a library of many
reports: a summary line, 「地区」 and 「年份」 filters whose choices come from the loaded index, a
「报告库」 tab listing every report, and example questions made from the library. A click on a
quote's [n] opens its paragraph in 「来源」: a small inline script (no file from any other host)
passes the marker's source number to a hidden button's event. Besides the page, the named API
endpoint ``/ask`` returns the same JSON as ``python -m qa ask --json``::

    from gradio_client import Client
    Client("http://127.0.0.1:7860/").predict("2020年罗湖区一般公共预算收入是多少？", api_name="/ask")

Offline: analytics are off and the theme uses system fonts only, so the page makes no request
to any host but its own.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("GRADIO_SSR_MODE", "False")
# Gradio keeps timings of the last N events for its monitoring page and copies them all after every
# event; at its default of 10,000 the /ask API fell from 45 to 28 questions/s over 6,000 questions.
os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "1000")

import gradio as gr

from index.build import os_error_line
from index.corpus import Report
from index.errors import QAError, UsageError
from index.logs import setup_logging
from index.settings import Settings, load_settings
from index.store import StoredIndex
from qa.answer import Answerer, LiveAnswerer, clean_question
from qa.chat import (
    EMPTY_SOURCE,
    answer_sources,
    example_questions,
    format_answer,
    has_paragraph,
    library_summary,
    library_table,
    region_choices,
    rewrite_follow_up,
    scope_note,
    selected_doc_ids,
    source_html,
    step,
    user_message,
    year_choices,
)

log = logging.getLogger("app")

SYSTEM_SANS = [
    "PingFang SC",
    "Microsoft YaHei",
    "Noto Sans CJK SC",
    "ui-sans-serif",
    "system-ui",
    "sans-serif",
]
SYSTEM_MONO = ["ui-monospace", "Consolas", "monospace"]
THEME = gr.themes.Default(font=SYSTEM_SANS, font_mono=SYSTEM_MONO)
CSS = """
.govqa-source { line-height: 1.7; }
.govqa-title { font-weight: 600; font-size: 1.05em; margin-bottom: 4px; }
.govqa-meta { color: var(--body-text-color-subdued); font-size: 0.9em; }
.govqa-text { margin-top: 8px; }
.govqa-source mark { background: #ffe58a; padding: 0 2px; }
.govqa-tag { color: var(--color-accent); }
.govqa-empty { color: var(--body-text-color-subdued); }
.govqa-cite { cursor: pointer; color: var(--color-accent); }
.govqa-cite:hover, .govqa-cite:focus { text-decoration: underline; }
.govqa-library { max-height: 640px; overflow: auto; }
.govqa-library table { border-collapse: collapse; width: 100%; font-size: 0.95em; }
.govqa-library th { position: sticky; top: 0; background: var(--background-fill-secondary); }
.govqa-library th, .govqa-library td { padding: 4px 8px; border-bottom: 1px solid var(--border-color-primary);
  text-align: left; white-space: nowrap; }
"""
# Runs once when the page loads. A click (or Enter) on a quote's [n] marker in the chat puts the
# marker's source number where the hidden button's event reads it, and clicks that button; the
# event then shows the source as choosing it in 「引用」 does. Capturing the click first keeps the
# chat from treating it as a click on the message.
CITE_SCRIPT = r"""
() => {
  const open = (event) => {
    const marker = event.target.closest && event.target.closest("#govqa-chat .govqa-cite");
    const source = marker && /(?:^|\s)govqa-source-(\d+)(?:\s|$)/.exec(marker.className);
    if (!source || (event.type === "keydown" && event.key !== "Enter")) return;
    event.preventDefault();
    event.stopPropagation();
    window.govqaSource = source[1];
    document.getElementById("govqa-cite-open")?.click();
  };
  document.addEventListener("click", open, true);
  document.addEventListener("keydown", open, true);
}
"""
# The hidden button's event takes the source number from the script instead of the hidden box.
CITE_VALUE = "(key, targets) => [window.govqaSource ?? '', targets]"
ERROR_MESSAGE = "出错了，这个问题没能回答，请稍后重试。"
WARNING_TITLE = "提示"


def reports_of(stored: StoredIndex) -> list[Report]:
    """The library's reports, newest first."""
    return sorted(stored.reports.values(), key=lambda r: (-r.year, r.doc_id))


def build_demo(answerer: Answerer | LiveAnswerer) -> gr.Blocks:
    """The page and the /ask endpoint over the live build of ``answerer``'s index: a report added or
    removed meanwhile is picked up at the next question (and its filters at the next page load)."""
    live = answerer if isinstance(answerer, LiveAnswerer) else LiveAnswerer(answerer)
    loaded = live.current()
    max_chars = loaded.settings.max_question_chars
    library = reports_of(loaded.stored)
    examples = example_questions(loaded.stored)

    def scope(regions, years):
        return selected_doc_ids(reports_of(live.current().stored), regions, years)

    def note(regions, years):
        return scope_note(len(scope(regions, years)), len(live.current().stored.reports))

    def respond(message, history, previous, doc_ids, top_k, show_scores, sources=None):
        # ``sources``: every source offered so far in this conversation; a quote's [n] marker names
        # its place in that list, so a marker in an earlier answer still opens its own paragraph.
        unchanged = (gr.skip(),) * 10
        sources = list(sources or [])
        answerer = live.current()  # this build answers the whole question, even if another goes live
        stored = answerer.stored
        try:
            if not doc_ids:
                raise UsageError("没有符合所选地区和年份的报告，请至少选择一份报告再提问。")
            cleaned = clean_question(message, max_chars)
            question = rewrite_follow_up(cleaned, previous)
            if len(question) > max_chars:  # the previous turn was long: ask what was typed
                question = cleaned
            answer = answerer.ask(question, int(top_k), doc_ids)
        except QAError as error:
            gr.Warning(str(error), title=WARNING_TITLE)
            return unchanged
        except Exception:
            log.exception("answering %r failed", message)
            gr.Warning(ERROR_MESSAGE, title=WARNING_TITLE)
            return unchanged
        rewritten = cleaned if question != cleaned else None
        first = len(sources)
        message = format_answer(answer, stored, bool(show_scores), rewritten, first)
        history = [
            *history,
            {"role": "user", "content": user_message(cleaned)},
            {"role": "assistant", "content": message},
        ]
        offered = answer_sources(answer, stored)
        choices = [(label, str(first + i)) for i, (label, _) in enumerate(offered)]
        label = "引用（选择一条查看原文）" if answer.found else "可能相关（选择一条查看原文）"
        return (
            history,
            history,
            "",
            answer.question,
            sources + [target for _, target in offered],
            gr.Radio(choices=choices, value=None, label=label),
            None,
            EMPTY_SOURCE,
            *_nav_buttons(None, stored),
        )

    def _nav_buttons(target, stored):
        return (
            gr.Button(interactive=has_paragraph(stored, target, -1)),
            gr.Button(interactive=has_paragraph(stored, target, 1)),
        )

    def show(choice, targets):
        stored = live.current().stored
        try:
            number = int(choice)
            target = targets[number] if number >= 0 else None
        except (TypeError, ValueError, IndexError):
            target = None
        return (target, source_html(stored, target), *_nav_buttons(target, stored))

    def open_marker(choice, targets):
        # The 「引用」 list shows the newest answer's sources; a marker of an earlier one selects none.
        return (*show(choice, targets), choice)

    def move(target, delta):
        stored = live.current().stored
        if target is None:
            return (None, EMPTY_SOURCE, *_nav_buttons(None, stored))
        target = step(target, delta, stored)
        return (target, source_html(stored, target), *_nav_buttons(target, stored))

    def clear():
        return (
            [],
            [],
            "",
            None,
            [],
            gr.Radio(choices=[], value=None, label="引用（选择一条查看原文）"),
            None,
            EMPTY_SOURCE,
            gr.Button(interactive=False),
            gr.Button(interactive=False),
        )

    def ask(question: str) -> dict[str, Any]:
        """Answer one question; the same JSON as `python -m qa ask --json`."""
        try:
            return live.ask(question).to_dict()
        except QAError as error:  # the caller's mistake: no traceback in the server log
            raise gr.Error(str(error), print_exception=False) from None
        except Exception:
            log.exception("API question %r failed", question)
            raise gr.Error(ERROR_MESSAGE, print_exception=False) from None

    # One bound for every question the page and the /ask API answer at once: each runs the embedding
    # model on its own threads, and more at once than the cores allow only queue inside the CPU.
    answering = {"concurrency_limit": loaded.settings.concurrency, "concurrency_id": "answer"}
    with gr.Blocks(title="政府工作报告问答", analytics_enabled=False) as demo:
        gr.Markdown(
            "## 政府工作报告问答\n"
            f"{library_summary(library)}\n\n"
            "回答只摘录报告原文，每条引文后标注出处 [n]；点击 [n] 或在右侧选择引用，可查看原文段落。",
            elem_id="govqa-header",
        )
        history = gr.State([])
        previous = gr.State(None)
        targets = gr.State([])
        target = gr.State(None)
        selected = gr.State([r.doc_id for r in library])
        with gr.Tab("问答"), gr.Row():
            with gr.Column(scale=3):
                with gr.Row(equal_height=True):
                    regions = gr.Dropdown(
                        choices=region_choices(library),
                        value=[],
                        multiselect=True,
                        filterable=True,
                        label="地区",
                        info="可输入地区名筛选；不选即全部",
                        scale=3,
                        elem_id="govqa-regions",
                    )
                    years = gr.Dropdown(
                        choices=year_choices(library),
                        value=[],
                        multiselect=True,
                        filterable=True,
                        label="年份",
                        info="报告作出的年份；不选即全部",
                        scale=2,
                        elem_id="govqa-years",
                    )
                scope_text = gr.Markdown(scope_note(len(library), len(library)), elem_id="govqa-scope")
                chatbot = gr.Chatbot(
                    label="对话",
                    height=520,
                    feedback_options=None,
                    buttons=["copy"],
                    latex_delimiters=[],
                    elem_id="govqa-chat",
                )
                textbox = gr.Textbox(
                    label="问题",
                    placeholder=f"输入问题，例如：{examples[0]}（可接着追问）" if examples else "输入问题",
                    lines=1,
                    max_lines=4,
                    elem_id="govqa-question",
                )
                with gr.Row():
                    send = gr.Button("发送", variant="primary", elem_id="govqa-send")
                    clear_button = gr.Button("清空", elem_id="govqa-clear")
                if examples:
                    gr.Examples(examples=examples, inputs=textbox, label="示例问题")
                # Fed by CITE_SCRIPT: a click on a quote's [n] marker clicks this hidden button.
                cite_key = gr.Textbox(visible="hidden", elem_id="govqa-cite-key")
                cite_open = gr.Button(visible="hidden", elem_id="govqa-cite-open")
            with gr.Column(scale=2):
                radio = gr.Radio(
                    choices=[], value=None, label="引用（选择一条查看原文）", elem_id="govqa-citations"
                )
                gr.Markdown("### 来源")
                source = gr.HTML(EMPTY_SOURCE, elem_id="govqa-source")
                with gr.Row():
                    previous_button = gr.Button("上一段", size="sm", interactive=False, elem_id="govqa-prev")
                    next_button = gr.Button("下一段", size="sm", interactive=False, elem_id="govqa-next")
                with gr.Accordion("检索设置", open=True):
                    top_k = gr.Slider(
                        1, 10, value=min(10, max(1, loaded.settings.top_k)), step=1, label="检索段落数"
                    )
                    show_scores = gr.Checkbox(value=False, label="显示检索得分")

        chat_outputs = [
            chatbot,
            history,
            textbox,
            previous,
            targets,
            radio,
            target,
            source,
            previous_button,
            next_button,
        ]
        chat_inputs = [textbox, history, previous, selected, top_k, show_scores, targets]
        for trigger in (send.click, textbox.submit):
            # The filters are read when the question is sent, so a change just before it counts.
            trigger(scope, [regions, years], selected, queue=False, api_visibility="private").then(
                respond, chat_inputs, chat_outputs, api_visibility="private", **answering
            )
        for facet in (regions, years):
            facet.change(note, [regions, years], scope_text, queue=False, api_visibility="private")
        clear_button.click(clear, None, chat_outputs, api_visibility="private", queue=False)
        chatbot.clear(clear, None, chat_outputs, api_visibility="private", queue=False)
        nav_outputs = [target, source, previous_button, next_button]
        radio.input(show, [radio, targets], nav_outputs, api_visibility="private")
        cite_open.click(
            open_marker, [cite_key, targets], [*nav_outputs, radio], js=CITE_VALUE, api_visibility="private"
        )
        previous_button.click(lambda t: move(t, -1), target, nav_outputs, api_visibility="private")
        next_button.click(lambda t: move(t, 1), target, nav_outputs, api_visibility="private")
        with gr.Tab("报告库"):
            gr.HTML(library_table(loaded.stored), elem_id="govqa-library")
        gr.api(ask, api_name="ask", **answering)
    return demo


def launch(
    demo: gr.Blocks, host: str, port: int, max_sessions: int = Settings.max_sessions, **kwargs: Any
) -> Any:
    """Serve ``demo`` (several users at once) with the offline theme.

    Gradio keeps about 65 KB for every session it has seen, and every /ask API call is a new
    session: ``max_sessions`` (least recently used dropped first) bounds that memory.
    """
    demo.queue(default_concurrency_limit=2)
    return demo.launch(
        server_name=host,
        server_port=port,
        state_session_capacity=max_sessions,
        theme=THEME,
        css=CSS,
        show_error=False,
        ssr_mode=False,
        footer_links=["api"],
        js=CITE_SCRIPT,
        **kwargs,
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="政府工作报告问答：网页")
    parser.add_argument("--host", help="address to bind (default: settings host, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: settings port, 7860)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging()
    try:
        settings = load_settings().replace(host=args.host, port=args.port)
        answerer = Answerer(settings)
    except QAError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except OSError as error:  # e.g. no space or permission while building the index on first use
        print(f"error: {os_error_line(error)}", file=sys.stderr)
        return 1
    launch(build_demo(answerer), settings.host, settings.port, settings.max_sessions)
    return 0


if __name__ == "__main__":
    sys.exit(main())
