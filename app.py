"""The chat page: ``python app.py [--host 127.0.0.1] [--port 7860]`` (or settings host/port).

Only wiring: the page's layout and events call ``qa.answer.Answerer`` (loaded once at start,
building the index on first use) and format with ``qa.chat``. Besides the page, the named API
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
from index.errors import QAError, UsageError
from index.logs import setup_logging
from index.settings import Settings, load_settings
from qa.answer import Answerer, clean_question
from qa.chat import (
    EMPTY_SOURCE,
    answer_sources,
    format_answer,
    has_paragraph,
    report_choices,
    rewrite_follow_up,
    source_html,
    step,
    user_message,
)

log = logging.getLogger("app")

EXAMPLES = [
    "2020年罗湖区一般公共预算收入是多少？",
    "2014年三公经费下降了多少？",
    "罗湖2021年要新增多少学位？",
]
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
"""
ERROR_MESSAGE = "出错了，这个问题没能回答，请稍后重试。"
WARNING_TITLE = "提示"


def build_demo(answerer: Answerer) -> gr.Blocks:
    """The page and the /ask endpoint over one loaded ``answerer``."""
    stored = answerer.stored
    max_chars = answerer.settings.max_question_chars
    all_reports = [doc_id for _, doc_id in report_choices(stored)]

    def respond(message, history, previous, doc_ids, top_k, show_scores):
        unchanged = (gr.skip(),) * 10
        try:
            if not doc_ids:
                raise UsageError("请至少选择一份报告再提问。")
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
        history = [
            *history,
            {"role": "user", "content": user_message(cleaned)},
            {"role": "assistant", "content": format_answer(answer, stored, bool(show_scores), rewritten)},
        ]
        sources = answer_sources(answer, stored)
        choices = [(label, str(i)) for i, (label, _) in enumerate(sources)]
        label = "引用（选择一条查看原文）" if answer.found else "可能相关（选择一条查看原文）"
        return (
            history,
            history,
            "",
            answer.question,
            [target for _, target in sources],
            gr.Radio(choices=choices, value=None, label=label),
            None,
            EMPTY_SOURCE,
            *_nav_buttons(None),
        )

    def _nav_buttons(target):
        return (
            gr.Button(interactive=has_paragraph(stored, target, -1)),
            gr.Button(interactive=has_paragraph(stored, target, 1)),
        )

    def show(choice, targets):
        try:
            target = targets[int(choice)]
        except (TypeError, ValueError, IndexError):
            target = None
        return (target, source_html(stored, target), *_nav_buttons(target))

    def move(target, delta):
        if target is None:
            return (None, EMPTY_SOURCE, *_nav_buttons(None))
        target = step(target, delta, stored)
        return (target, source_html(stored, target), *_nav_buttons(target))

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
            *_nav_buttons(None),
        )

    def ask(question: str) -> dict[str, Any]:
        """Answer one question; the same JSON as `python -m qa ask --json`."""
        try:
            return answerer.ask(question).to_dict()
        except QAError as error:  # the caller's mistake: no traceback in the server log
            raise gr.Error(str(error), print_exception=False) from None
        except Exception:
            log.exception("API question %r failed", question)
            raise gr.Error(ERROR_MESSAGE, print_exception=False) from None

    with gr.Blocks(title="罗湖区政府工作报告问答", analytics_enabled=False) as demo:
        gr.Markdown(
            "## 罗湖区政府工作报告问答\n"
            "回答只摘录报告原文，每条引文后标注出处 [n]；在右侧选择引用可查看原文段落。"
        )
        history = gr.State([])
        previous = gr.State(None)
        targets = gr.State([])
        target = gr.State(None)
        with gr.Row():
            with gr.Column(scale=3):
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
                    placeholder="输入问题，例如：2020年罗湖区一般公共预算收入是多少？（可追问：那2014年呢？）",
                    lines=1,
                    max_lines=4,
                    elem_id="govqa-question",
                )
                with gr.Row():
                    send = gr.Button("发送", variant="primary", elem_id="govqa-send")
                    clear_button = gr.Button("清空", elem_id="govqa-clear")
                gr.Examples(examples=EXAMPLES, inputs=textbox, label="示例问题")
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
                    reports = gr.CheckboxGroup(
                        choices=report_choices(stored), value=all_reports, label="检索哪些报告（按年份）"
                    )
                    top_k = gr.Slider(
                        1, 10, value=min(10, max(1, answerer.settings.top_k)), step=1, label="检索段落数"
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
        chat_inputs = [textbox, history, previous, reports, top_k, show_scores]
        for trigger in (send.click, textbox.submit):
            trigger(respond, chat_inputs, chat_outputs, api_visibility="private")
        clear_button.click(clear, None, chat_outputs, api_visibility="private", queue=False)
        chatbot.clear(clear, None, chat_outputs, api_visibility="private", queue=False)
        nav_outputs = [target, source, previous_button, next_button]
        radio.input(show, [radio, targets], nav_outputs, api_visibility="private")
        previous_button.click(lambda t: move(t, -1), target, nav_outputs, api_visibility="private")
        next_button.click(lambda t: move(t, 1), target, nav_outputs, api_visibility="private")
        gr.api(ask, api_name="ask")
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
        **kwargs,
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="罗湖区政府工作报告问答：网页")
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
