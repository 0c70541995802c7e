"""The chat page: ``python app.py [--host 127.0.0.1] [--port 7860]`` (or settings host/port).

Only wiring: the page's layout and events call ``qa.answer.Answerer`` (loaded once at start,
building the index on first use) and format with ``qa.chat``. The page scales to a library of many
reports: a summary line, 「地区」 and 「年份」 filters whose choices come from the loaded index, a
「报告库」 tab listing every report, and example questions made from the library. A click on a
quote's [n] opens its paragraph in 「来源」: a small inline script (no file from any other host)
passes the marker's source number to a hidden button's event. A comparison's answer is a table,
one row per report, each quoted cell with its clickable [n]; 「下载对比表」 then offers its rows with
their citations as a CSV file, written into gradio's cache (never the library's folder) in a folder
of its own with a random name. Besides the page, the named API
endpoint ``/ask`` returns the same JSON as ``python -m qa ask --json``::

    from gradio_client import Client
    Client("http://127.0.0.1:7860/").predict("2020年罗湖区一般公共预算收入是多少？", api_name="/ask")

With ``settings.upload`` on, a 「添加报告」 tab adds report files to the library (read and check them,
correct their title, region or year, confirm, watch the new chunks embedded) and removes a report;
its logic is ``qa.adding``. Every one of its events is private and checks the 口令 (``upload_token``;
``main`` makes a random one when none is set and logs it once). After an addition or removal the
filters, summary, example questions and 「报告库」 table are refreshed, and another tab sees the new
library when it reloads. A PDF report's original is served at ``govqa/original/<id>`` (by report id
from the live index only, never by path), so 「来源」 can link to the cited page.

Offline: analytics are off and the theme uses system fonts only, so the page makes no request
to any host but its own.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("GRADIO_SSR_MODE", "False")
# Gradio keeps timings of the last N events for its monitoring page and copies them all after every
# event; at its default of 10,000 the /ask API fell from 45 to 28 questions/s over 6,000 questions.
os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "1000")

import gradio as gr
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from index.build import os_error_line
from index.corpus import Report
from index.errors import QAError, UsageError
from index.extract import MAX_FILE_BYTES
from index.logs import setup_logging
from index.settings import Settings, load_settings
from index.store import StoredIndex
from qa import adding
from qa.answer import Answerer, LiveAnswerer, clean_question
from qa.chat import (
    EMPTY_SOURCE,
    ORIGINAL_PATH,
    answer_sources,
    escape_html,
    escape_text,
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
    write_comparison_csv,
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
#govqa-chat table th:nth-child(-n+2), #govqa-chat table td:nth-child(-n+2) { white-space: nowrap; }
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
LIBRARY_ERROR_MESSAGE = "出错了，报告库没有改动，请稍后重试。"
WARNING_TITLE = "提示"
HELP_LINE = "回答只摘录报告原文，每条引文后标注出处 [n]；点击 [n] 或在右侧选择引用，可查看原文段落。"
CSV_ERROR_MESSAGE = "对比表文件没能生成，请稍后重试；表格内容不受影响。"
DOWNLOAD_LABEL = "下载对比表（CSV）"
# Where a comparison's CSV files go, inside gradio's cache: served from there as they are (not copied)
# and removed with the rest of the cache (``delete_cache``).
CSV_FOLDER = "govqa-compare"
# Gradio's cache: files older than a day removed every hour, and all of them when the server stops —
# uploads (read, then confirmed later) and comparison tables (downloaded soon after the answer).
CACHE_LIFETIME = (3600, 86400)
# The upload events run one at a time: additions and removals take the library's lock anyway, each
# embeds on every core, and a wrong 口令's delay then holds guessing to about one try a second.
LIBRARY_EVENTS: dict[str, Any] = {"concurrency_limit": 1, "concurrency_id": "library"}


def reports_of(stored: StoredIndex) -> list[Report]:
    """The library's reports, newest first."""
    return sorted(stored.reports.values(), key=lambda r: (-r.year, r.doc_id))


def header_markdown(reports: list[Report]) -> str:
    """The page's title, the library's summary line and how to read the answers."""
    return f"## 政府工作报告问答\n{library_summary(reports)}\n\n{HELP_LINE}"


def original_file(stored: StoredIndex, doc_id: str) -> Path | None:
    """The original PDF kept beside report ``doc_id`` of the live index, or None: only a report's own
    ``original`` (a bare file name, in the report's folder, a .pdf) is ever served."""
    report = stored.reports.get(doc_id)
    if report is None or report.format != "pdf" or not report.original:
        return None
    name = report.original
    if Path(name).name != name or not name.lower().endswith(".pdf"):
        return None
    path = report.path.parent / name
    return path if path.is_file() and not path.is_symlink() else None


def original_route(live: LiveAnswerer) -> Route:
    """GET govqa/original/<id>: the original PDF of a report in the live index, shown inline."""

    async def original(request: Request) -> Response:
        doc_id = request.path_params["doc_id"]  # decoded once by the server, as quoted once by the link
        path = original_file(live.current().stored, doc_id)
        if path is None:
            return PlainTextResponse("没有这份报告的 PDF 原件。", status_code=404)
        headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
        return FileResponse(
            path,
            media_type="application/pdf",
            filename=path.name,
            content_disposition_type="inline",
            headers=headers,
        )

    return Route("/" + ORIGINAL_PATH + "{doc_id:path}", original, methods=["GET", "HEAD"])


def build_demo(answerer: Answerer | LiveAnswerer) -> gr.Blocks:
    """The page and the /ask endpoint over the live build of ``answerer``'s index: a report added or
    removed meanwhile is picked up at the next question (and its filters at the next page load)."""
    live = answerer if isinstance(answerer, LiveAnswerer) else LiveAnswerer(answerer)
    loaded = live.current()
    max_chars = loaded.settings.max_question_chars
    library = reports_of(loaded.stored)
    examples = example_questions(loaded.stored)
    upload = loaded.settings.upload

    def scope(regions, years):
        return selected_doc_ids(reports_of(live.current().stored), regions, years)

    def note(regions, years):
        return scope_note(len(scope(regions, years)), len(live.current().stored.reports))

    tables = LatestTables(loaded.settings.max_sessions)

    def table_file(answer, stored):
        # A comparison's rows as a CSV in a folder of its own (no other download is overwritten, and
        # its random name keeps the file from being guessed); None for a single answer.
        if not answer.rows:
            return None
        folder = Path(download.GRADIO_CACHE) / CSV_FOLDER / secrets.token_hex(16)
        try:
            return str(write_comparison_csv(answer, stored, folder))
        except OSError:
            log.exception("writing the comparison table of %r failed", answer.question)
            gr.Warning(CSV_ERROR_MESSAGE, title=WARNING_TITLE)
            return None

    def offer_table(request: gr.Request | None = None):
        # Run after ``respond`` and ``clear``: the button offers the session's latest answer's table.
        path = tables.get(request.session_hash) if request is not None else None
        return gr.DownloadButton(value=path, visible=path is not None)

    def respond(
        message,
        history,
        previous,
        doc_ids,
        top_k,
        show_scores,
        sources=None,
        request: gr.Request | None = None,
    ):
        # ``sources``: every source offered so far in this conversation; a quote's [n] marker names
        # its place in that list, so a marker in an earlier answer still opens its own paragraph.
        # ``request``: gradio's, for the session whose latest table ``offer_table`` then offers.
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
        if request is not None:
            tables.set(request.session_hash, table_file(answer, stored))
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

    def clear(request: gr.Request | None = None):
        if request is not None:
            tables.set(request.session_hash, None)
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
    # Uploaded files and comparison tables stay in gradio's cache until deleted: a day is ample to read
    # and confirm an upload (a later 「确认添加」 asks for it again; the library keeps its own copy of
    # each added file) or to download a table.
    with gr.Blocks(title="政府工作报告问答", analytics_enabled=False, delete_cache=CACHE_LIFETIME) as demo:
        header = gr.Markdown(header_markdown(library), elem_id="govqa-header")
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
                # Shown by ``offer_table`` (after ``respond``) while the latest answer is a comparison.
                download = gr.DownloadButton(
                    DOWNLOAD_LABEL, visible=False, size="sm", variant="secondary", elem_id="govqa-download"
                )
                example_set = (
                    gr.Examples(examples=examples, inputs=textbox, label="示例问题") if examples else None
                )
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
            ).then(offer_table, None, download, queue=False, api_visibility="private")
        for facet in (regions, years):
            facet.change(note, [regions, years], scope_text, queue=False, api_visibility="private")
        for cleared in (clear_button.click, chatbot.clear):
            cleared(clear, None, chat_outputs, api_visibility="private", queue=False).then(
                offer_table, None, download, queue=False, api_visibility="private"
            )
        nav_outputs = [target, source, previous_button, next_button]
        radio.input(show, [radio, targets], nav_outputs, api_visibility="private")
        cite_open.click(
            open_marker, [cite_key, targets], [*nav_outputs, radio], js=CITE_VALUE, api_visibility="private"
        )
        previous_button.click(lambda t: move(t, -1), target, nav_outputs, api_visibility="private")
        next_button.click(lambda t: move(t, 1), target, nav_outputs, api_visibility="private")
        with gr.Tab("报告库"):
            library_html = gr.HTML(library_table(loaded.stored), elem_id="govqa-library")
        upload_tab = _upload_tab(library, loaded.settings) if upload else None

        # What shows the library: computed when the page was built, so refreshed after an addition or
        # removal, and when a page loads after another tab (or the command line) changed the library.
        views = [header, regions, years, scope_text, library_html]
        if example_set is not None:
            views.append(example_set.dataset)
        if upload_tab is not None:
            views.append(upload_tab.remove_choice)

        def library_views(chosen_regions, chosen_years):
            stored = live.current().stored
            reports = reports_of(stored)
            region_list, year_list = region_choices(reports), year_choices(reports)
            kept_regions = [r for r in chosen_regions or () if r in {value for _, value in region_list}]
            kept_years = [y for y in chosen_years or () if int(y) in {value for _, value in year_list}]
            count = len(selected_doc_ids(reports, kept_regions, kept_years))
            updates: list[Any] = [
                header_markdown(reports),
                gr.Dropdown(choices=region_list, value=kept_regions, multiselect=True),
                gr.Dropdown(choices=year_list, value=kept_years, multiselect=True),
                scope_note(count, len(reports)),
                library_table(stored),
            ]
            if example_set is not None:
                updates.append(gr.Dataset(samples=[[q] for q in example_questions(stored)]))
            if upload_tab is not None:
                updates.append(gr.Dropdown(choices=[adding.report_choice(r) for r in reports], value=None))
            return updates

        built = loaded.stored.folder

        def refresh(chosen_regions, chosen_years):
            if live.current().stored.folder == built:  # the library this page was built with
                return [gr.skip()] * len(views)
            return library_views(chosen_regions, chosen_years)

        demo.load(refresh, [regions, years], views, queue=False, api_visibility="private")
        if upload_tab is not None:
            _wire_upload(upload_tab, live, library_views, [regions, years], views)
        gr.api(ask, api_name="ask", **answering)
    # The route serving PDF originals, for ``launch`` to add to the server.
    demo.govqa_routes = [original_route(live)]  # type: ignore[attr-defined]
    return demo


class LatestTables:
    """Each page session's latest comparison table (a CSV file's path; None when its latest answer is a
    single one, or after 「清空」), for the 「下载对比表」 button.

    The button is set by an event chained after ``respond`` (which keeps the outputs it has always had)
    from this record. Least recently used sessions are dropped past ``capacity``, as gradio drops its own
    session state (``max_sessions``)."""

    def __init__(self, capacity: int) -> None:
        self._paths: OrderedDict[str, str | None] = OrderedDict()
        self._capacity = max(1, capacity)
        self._lock = threading.Lock()  # questions of several sessions are answered at once

    def set(self, session: str, path: str | None) -> None:
        with self._lock:
            self._paths[session] = path
            self._paths.move_to_end(session)
            while len(self._paths) > self._capacity:
                self._paths.popitem(last=False)

    def get(self, session: str) -> str | None:
        with self._lock:
            return self._paths.get(session)


class UploadTab:
    """The 「添加报告」 tab's components."""

    def __init__(self, library: list[Report], settings: Settings) -> None:
        accepted = " ".join(adding.ACCEPTED_SUFFIXES)
        limit = MAX_FILE_BYTES // 2**20
        gr.Markdown(
            f"上传政府工作报告文件（{accepted}；每个不超过 {limit} MB，"
            f"一次最多 {settings.max_upload_files} 个）。"
            "先点「读取」，核对标题、地区和年份（可直接在表中修改，留空则用读出的值），再点「确认添加」。"
            "添加后即可在「问答」中提问。"
        )
        self.token = gr.Textbox(label="口令", type="password", max_lines=1, elem_id="govqa-token")
        self.files = gr.File(
            label="报告文件",
            file_count="multiple",
            file_types=list(adding.ACCEPTED_SUFFIXES),
            elem_id="govqa-files",
        )
        self.read = gr.Button("读取", elem_id="govqa-read")
        self.preview = gr.Dataframe(
            headers=list(adding.PREVIEW_HEADERS),
            datatype="str",
            type="array",
            interactive=True,
            static_columns=[
                i for i in range(len(adding.PREVIEW_HEADERS)) if i not in adding.EDITABLE_COLUMNS
            ],
            label="核对（标题、地区、年份可修改）",
            wrap=True,
            column_widths=["13%", "17%", "10%", "6%", "13%", "13%", "5%", "5%", "18%"],
            elem_id="govqa-preview",
        )
        self.shown = gr.State([])
        self.add = gr.Button("确认添加", variant="primary", interactive=False, elem_id="govqa-add")
        self.added = gr.Markdown(elem_id="govqa-added")
        gr.Markdown("### 删除报告")
        self.remove_choice = gr.Dropdown(
            choices=[adding.report_choice(r) for r in library],
            value=None,
            label="选择要删除的报告",
            filterable=True,
            elem_id="govqa-remove-choice",
        )
        self.remove = gr.Button("删除…", elem_id="govqa-remove")
        with gr.Row(visible=False) as self.confirm_row:
            self.confirm_note = gr.Markdown(elem_id="govqa-remove-note")
            self.remove_yes = gr.Button("确认删除", variant="stop", elem_id="govqa-remove-yes")
            self.remove_no = gr.Button("取消", elem_id="govqa-remove-no")
        self.removed = gr.Markdown(elem_id="govqa-removed")


def _upload_tab(library: list[Report], settings: Settings) -> UploadTab:
    with gr.Tab("添加报告", elem_id="govqa-adding"):
        return UploadTab(library, settings)


def _refuse(error: Exception, what: str) -> None:
    """One Chinese line for a refused or failed addition or removal; a traceback only in the log."""
    # A toast renders HTML, and these lines can hold a file's name or a report's title.
    if isinstance(error, QAError):
        gr.Warning(escape_html(str(error)), title=WARNING_TITLE)
    elif isinstance(error, ImportError):  # a format whose parsing library is not installed here
        log.exception("%s failed", what)
        gr.Warning("这台服务器暂时不能读取这种格式的文件，请改用 .txt 或 .pdf 文件。", title=WARNING_TITLE)
    elif isinstance(error, OSError):
        log.exception("%s failed", what)
        gr.Warning(
            f"无法写入报告库（{error.strerror or error}），报告库没有改动：请检查磁盘空间和文件夹权限。",
            title=WARNING_TITLE,
        )
    else:
        log.exception("%s failed", what)
        gr.Warning(LIBRARY_ERROR_MESSAGE, title=WARNING_TITLE)


def _embedding(progress: gr.Progress) -> Callable[[int, int], None]:
    def told(done: int, total: int) -> None:
        progress((done, total), desc="正在为报告建立索引", unit="块")

    return told


def _wire_upload(
    tab: UploadTab,
    live: LiveAnswerer,
    library_views: Callable[..., list[Any]],
    filters: list[Any],
    views: list[Any],
) -> None:
    """The 「添加报告」 tab's events: private, one at a time, each checking the 口令 (``qa.adding``)."""

    def clear_preview():
        return [], [], gr.Button(interactive=False), ""

    def read_files(token, paths):
        try:
            found = adding.preview(token, paths, live.current().settings)
        except Exception as error:
            _refuse(error, "reading uploaded files")
            return clear_preview()
        return found.rows, found.shown, gr.Button(interactive=True), ""

    def add_files(token, shown, rows, chosen_regions, chosen_years, progress=gr.Progress()):  # noqa: B008
        progress(0, desc="正在检查文件")
        try:
            current = live.current()
            added = adding.confirm(
                token, shown, rows, current.settings, _embedding(progress), current.embedder
            )
            # The next question, on this page or another, is answered from the new build.
            stored = live.current(wait=True).stored
        except Exception as error:
            _refuse(error, "adding reports")
            return [gr.skip()] * (5 + len(views))
        counts: dict[str, int] = {}
        for doc_id, _ in stored.paragraphs:
            counts[doc_id] = counts.get(doc_id, 0) + 1
        lines = [adding.added_line(stored.reports.get(r.doc_id, r), counts.get(r.doc_id)) for r in added]
        for line in lines:
            gr.Info(escape_html(line), title="添加报告")
        result = "\n".join(f"- {escape_text(line)}" for line in lines) + "\n\n可以在「问答」中提问了。"
        return [None, *clear_preview()[:3], result, *library_views(chosen_regions, chosen_years)]

    def ask_remove(doc_id):
        report = live.current().stored.reports.get(doc_id or "")
        if report is None:
            gr.Warning("请先选择要删除的报告。", title=WARNING_TITLE)
            return gr.Row(visible=False), ""
        label = escape_text(adding.report_choice(report)[0])
        return gr.Row(visible=True), f"将从报告库删除「{label}」及其原件，确认吗？"

    def remove_report(token, doc_id, chosen_regions, chosen_years, progress=gr.Progress()):  # noqa: B008
        progress(0, desc="正在删除")
        try:
            current = live.current()
            removed = adding.remove(token, doc_id, current.settings, _embedding(progress), current.embedder)
            live.current(wait=True)
        except Exception as error:
            _refuse(error, "removing a report")
            return [gr.skip()] * (2 + len(views))
        line = adding.removed_line(removed)
        gr.Info(escape_html(line), title="删除报告")
        return [gr.Row(visible=False), escape_text(line), *library_views(chosen_regions, chosen_years)]

    private: dict[str, Any] = {"api_visibility": "private"}
    preview_outputs = [tab.preview, tab.shown, tab.add, tab.added]
    # Only a user's own change of the files clears the preview (not the clearing after an addition).
    for event in (tab.files.upload, tab.files.clear, tab.files.delete):
        event(clear_preview, None, preview_outputs, queue=False, **private)
    tab.read.click(read_files, [tab.token, tab.files], preview_outputs, **private, **LIBRARY_EVENTS)
    tab.add.click(
        add_files,
        [tab.token, tab.shown, tab.preview, *filters],
        [tab.files, *preview_outputs, *views],
        show_progress_on=[tab.added],
        **private,
        **LIBRARY_EVENTS,
    )
    tab.remove.click(ask_remove, tab.remove_choice, [tab.confirm_row, tab.confirm_note], **private)
    tab.remove_no.click(lambda: gr.Row(visible=False), None, tab.confirm_row, queue=False, **private)
    tab.remove_yes.click(
        remove_report,
        [tab.token, tab.remove_choice, *filters],
        [tab.confirm_row, tab.removed, *views],
        show_progress_on=[tab.removed],
        **private,
        **LIBRARY_EVENTS,
    )


def launch(
    demo: gr.Blocks, host: str, port: int, max_sessions: int = Settings.max_sessions, **kwargs: Any
) -> Any:
    """Serve ``demo`` (several users at once) with the offline theme.

    Gradio keeps about 65 KB for every session it has seen, and every /ask API call is a new
    session: ``max_sessions`` (least recently used dropped first) bounds that memory.
    """
    demo.queue(default_concurrency_limit=2)
    routes = getattr(demo, "govqa_routes", [])
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
        # An upload over the extractor's limit is refused by the server before any handler sees it.
        max_file_size=MAX_FILE_BYTES,
        app_kwargs={"routes": routes},
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
        if settings.upload and not settings.upload_token:
            # The 「添加报告」 tab is never open without a token: one for this run, logged once.
            settings = settings.replace(upload_token=secrets.token_urlsafe(16))
            log.warning(
                "upload is on and no upload_token is set; this run's 「添加报告」 口令: %s",
                settings.upload_token,
            )
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
