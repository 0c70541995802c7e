"""The page's 「添加报告」 panel: qa/adding.py and its wiring in app.py, without a browser.

Fast: every library here is a tmp copy of the two bundled 罗湖 reports, indexed (and re-indexed after
each addition or removal) with conftest's fake embedder; the files uploaded are the bundled 浙江 2026
report and an excerpt of it that names no region (so the user has something to correct). Uploaded
files are put where gradio keeps them: a folder of their own, the original name as the base name.
"""

from __future__ import annotations

import math
import shutil
import time
from pathlib import Path

import gradio as gr
import pytest
from conftest import REPORTS_DIR, FakeEmbedder

import index.build
import index.library
from index.build import build_index
from index.errors import QAError
from index.extract import MAX_FILE_BYTES
from index.settings import PROJECT_ROOT, Settings
from index.store import CURRENT, load_index
from qa import adding
from qa.answer import Answerer, LiveAnswerer
from qa.chat import SourceTarget, source_html

TOKEN = "open-sesame-123"
ZHEJIANG = PROJECT_ROOT / "data" / "examples" / "provincial_2026" / "浙江省_2026.txt"
# From 「三、2026年重点工作」 on: no title line, no session line, so no region is read from it.
EXCERPT_START = "三、2026年重点工作"
QUESTION = "浙江2026年城镇新增就业目标是多少？"
ANSWER = "确保城镇新增就业100万人以上"


@pytest.fixture(autouse=True)
def fast(monkeypatch: pytest.MonkeyPatch, fake_embedder: FakeEmbedder) -> None:
    """No wrong-token delay, and every rebuild an addition or removal runs uses the fake embedder."""
    monkeypatch.setattr(adding, "WRONG_TOKEN_DELAY", 0.0)
    monkeypatch.setattr(index.build, "settings_embedder", lambda *args, **kwargs: fake_embedder)


@pytest.fixture()
def settings(tmp_path: Path, fake_embedder: FakeEmbedder) -> Settings:
    library = tmp_path / "library"
    shutil.copytree(REPORTS_DIR, library)
    settings = Settings(
        corpus_dir=library,
        index_dir=tmp_path / "index",
        model=FakeEmbedder.name,
        upload=True,
        upload_token=TOKEN,
        max_upload_files=3,
    )
    build_index(settings, fake_embedder)
    return settings


@pytest.fixture()
def live(settings: Settings, fake_embedder: FakeEmbedder) -> LiveAnswerer:
    return LiveAnswerer(Answerer(settings, stored=load_index(settings.index_dir), embedder=fake_embedder))


@pytest.fixture()
def uploads(tmp_path: Path):
    """Put a file where gradio would: its own folder, its original name; returns its path."""
    count = 0

    def put(name: str, data: bytes) -> str:
        nonlocal count
        count += 1
        folder = tmp_path / "gradio" / f"{count:040x}"
        folder.mkdir(parents=True)
        (folder / name).write_bytes(data)
        return str(folder / name)

    return put


def excerpt() -> bytes:
    text = ZHEJIANG.read_text(encoding="utf-8")
    return text[text.index(EXCERPT_START) :].encode("utf-8")


def snapshot(settings: Settings) -> dict[str, bytes]:
    """The library folder's files (hidden ones aside) and their bytes."""
    folder = settings.corpus_dir
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    }


def live_build(settings: Settings) -> str:
    return (settings.index_dir / CURRENT).read_text(encoding="utf-8")


def one_chinese_line(text: str) -> bool:
    return "\n" not in text and "Traceback" not in text and any("\u4e00" <= ch <= "\u9fff" for ch in text)


# --- the token -----------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "wrong", TOKEN.upper(), TOKEN + "x", "口令"])
def test_wrong_or_missing_token_is_refused_and_nothing_is_written(settings, live, uploads, token):
    before, build = snapshot(settings), live_build(settings)
    path = uploads("工作报告.md", excerpt())
    report_id = next(iter(live.current().stored.reports))
    shown = [adding.Shown(path, "工作报告.md", "", "", "2026")]
    rows = [["工作报告.md", "", "浙江", "2026"]]
    for attempt in (
        lambda: adding.preview(token, [path], settings),
        lambda: adding.confirm(token, shown, rows, settings),
        lambda: adding.remove(token, report_id, settings),
    ):
        with pytest.raises(adding.TokenError) as refused:
            attempt()
        assert one_chinese_line(str(refused.value)) and "口令" in str(refused.value)
    assert snapshot(settings) == before and live_build(settings) == build


def test_a_wrong_token_waits_before_it_is_refused(settings, monkeypatch):
    monkeypatch.setattr(adding, "WRONG_TOKEN_DELAY", 0.3)
    started = time.perf_counter()
    with pytest.raises(adding.TokenError):
        adding.check_token("guess", settings)
    assert time.perf_counter() - started >= 0.3
    started = time.perf_counter()
    adding.check_token(TOKEN, settings)
    assert time.perf_counter() - started < 0.1


def test_nothing_is_accepted_when_upload_is_off_or_has_no_token(settings):
    with pytest.raises(QAError, match="未开启"):
        adding.check_token(TOKEN, settings.replace(upload=False))
    with pytest.raises(adding.TokenError, match="未设置"):
        adding.check_token("", Settings(upload=True, upload_token=""))


# --- limits --------------------------------------------------------------------------------------


def test_too_many_files_too_large_or_of_another_type_are_refused(settings, uploads, tmp_path):
    before = snapshot(settings)
    many = [uploads(f"报告{i}.txt", excerpt()) for i in range(settings.max_upload_files + 1)]
    big = Path(uploads("大报告.pdf", b""))
    with big.open("r+b") as handle:  # sparse: its size is over the limit without writing 50 MB
        handle.truncate(MAX_FILE_BYTES + 1)
    cases = [
        ([], "请先选择"),
        (many, f"一次最多添加 {settings.max_upload_files} 个文件"),
        ([str(big)], "超过 50 MB"),
        ([uploads("报告.xlsx", b"PK\x03\x04")], "不支持这种文件"),
        ([uploads("报告", excerpt())], "不支持这种文件"),
        ([uploads("空白.txt", b"   ")], "文件是空的"),
        ([uploads("短.txt", "各位代表：谢谢。".encode())], "几乎没有文字"),
    ]
    for paths, expected in cases:
        with pytest.raises(QAError) as refused:
            adding.preview(TOKEN, paths, settings)
        assert expected in str(refused.value) and one_chinese_line(str(refused.value))
    assert snapshot(settings) == before


# --- preview, correct, confirm, ask, remove ------------------------------------------------------


def test_upload_previewed_corrected_confirmed_and_answered_then_removed(settings, live, uploads):
    before, reports_before = snapshot(settings), set(live.current().stored.reports)
    path = uploads("工作报告.md", excerpt())

    found = adding.preview(TOKEN, [path], settings)
    assert snapshot(settings) == before  # reading writes nothing
    (row,) = found.rows
    assert list(dict(zip(adding.PREVIEW_HEADERS, row, strict=True))) == list(adding.PREVIEW_HEADERS)
    name, title, region, year, reviews, plans, paragraphs, pages, note = row
    assert (name, title, region, year, reviews, pages) == (
        "工作报告.md",
        "2026年政府工作报告",
        "",
        "2026",
        "2025",
        "",
    )
    assert plans.startswith("2026") and int(paragraphs) > 10
    assert note == "标题由地区和年份拼成；地区未知，请填写；年份推测，请核对"
    assert found.shown[0].path == path and found.shown[0].year == "2026"

    # The user writes the region's short name and a title; the year is left as read.
    edited = [
        [name, "浙江省2026年政府工作报告（节选）", "浙江", 2026.0, reviews, plans, paragraphs, pages, note],
        [None, "", "", "", "", "", "", "", ""],  # a row added to the table and left empty
    ]
    steps: list[tuple[int, int]] = []
    (added,) = adding.confirm(
        TOKEN, found.shown, edited, settings, lambda done, total: steps.append((done, total))
    )
    assert (added.title, added.region, added.level, added.year) == (
        "浙江省2026年政府工作报告（节选）",
        "浙江省",
        "省",
        2026,
    )
    assert steps and steps[-1][0] == steps[-1][1]  # progress reached the end
    stored_files = set(snapshot(settings)) - set(before)
    assert stored_files == {f"{added.doc_id}.md", f"{added.doc_id}.toml"}
    toml = (settings.corpus_dir / f"{added.doc_id}.toml").read_text(encoding="utf-8")
    assert 'region = "浙江省"' in toml and "year =" not in toml  # only what the user changed
    assert (settings.corpus_dir / f"{added.doc_id}.md").read_bytes() == excerpt()  # byte for byte

    answerer = live.current(wait=True)
    assert added.doc_id in answerer.stored.reports
    answer = answerer.ask(QUESTION)
    assert answer.found and answer.citations[0].doc_id == added.doc_id
    assert any(ANSWER in quote.text for quote in answer.quotes)

    # The same report again is refused, whatever its name.
    again = uploads("另一个名字.md", excerpt())
    with pytest.raises(QAError, match="已在库中") as refused:
        adding.preview(TOKEN, [again], settings)
    assert one_chinese_line(str(refused.value))

    removed = adding.remove(TOKEN, added.doc_id, settings)
    assert removed.doc_id == added.doc_id
    assert snapshot(settings) == before
    assert set(live.current(wait=True).stored.reports) == reports_before


def test_two_copies_in_one_upload_are_refused(settings, uploads):
    paths = [uploads("a.md", excerpt()), uploads("b.txt", excerpt())]
    with pytest.raises(QAError, match="是同一份报告"):
        adding.preview(TOKEN, paths, settings)


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["", "", ""], {}),  # emptied cells keep what was read
        (["2026年政府工作报告", "", "2026"], {}),  # unchanged
        ([None, math.nan, "2025年"], {"year": 2025}),
        (["新标题", "罗湖", 2026.0], {"title": "新标题", "region": "深圳市罗湖区"}),
    ],
)
def test_only_corrected_fields_are_set(cells, expected):
    shown = adding.Shown("/tmp/x", "x.md", "2026年政府工作报告", "", "2026")
    assert adding.corrected_fields(["x.md", *cells], shown) == expected


def test_a_composed_title_follows_the_corrected_region_and_year():
    shown = adding.Shown("/tmp/x", "x.md", "2026年政府工作报告", "", "2026", derived_title=True)
    assert adding.corrected_fields(["x.md", "", "湖北", "2025"], shown) == {
        "region": "湖北省",
        "year": 2025,
        "title": "湖北省2025年政府工作报告",
    }
    assert adding.corrected_fields(["x.md", "我的标题", "湖北", ""], shown)["title"] == "我的标题"
    assert adding.corrected_fields(["x.md", "", "", ""], shown) == {}


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["", "火星", ""], "不认识地区"),
        (["", "朝阳区", ""], "有多个"),
        (["", "", "二〇二六"], "不是四位数的年份"),
        (["", "", "1800"], "年份 1800 不对"),
        (["题" * 101, "", ""], "标题太长"),
    ],
)
def test_bad_corrections_are_refused_naming_the_file(cells, expected):
    shown = adding.Shown("/tmp/x", "x.md", "2026年政府工作报告", "", "2026")
    with pytest.raises(QAError) as refused:
        adding.corrected_fields(["x.md", *cells], shown)
    assert expected in str(refused.value) and str(refused.value).startswith("x.md: ")


def test_a_changed_file_list_must_be_read_again(settings, uploads):
    path = uploads("工作报告.md", excerpt())
    found = adding.preview(TOKEN, [path], settings)
    with pytest.raises(QAError, match="重新点击「读取」"):
        adding.confirm(TOKEN, found.shown, [*found.rows, ["多出来的.md", "", "", ""]], settings)
    with pytest.raises(QAError, match="重新点击「读取」"):
        adding.confirm(TOKEN, found.shown, [], settings)
    with pytest.raises(QAError, match="请先选择文件并点击「读取」"):
        adding.confirm(TOKEN, [], [], settings)


def test_removal_refuses_an_unknown_report_and_the_last_one(settings, live):
    with pytest.raises(QAError, match="请先选择"):
        adding.remove(TOKEN, None, settings)
    with pytest.raises(QAError, match="库中没有编号"):
        adding.remove(TOKEN, "no-such-report", settings)
    first, second = list(live.current().stored.reports)
    adding.remove(TOKEN, first, settings)
    with pytest.raises(QAError, match="至少要留一份"):
        adding.remove(TOKEN, second, settings)


# --- the page ------------------------------------------------------------------------------------


def page_functions(demo: gr.Blocks) -> dict:
    return {f.name: f for f in demo.fns.values()}


@pytest.fixture()
def shown_lines(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    shown: dict[str, list[str]] = {"warning": [], "info": []}
    monkeypatch.setattr(gr, "Warning", lambda message, *args, **kwargs: shown["warning"].append(message))
    monkeypatch.setattr(gr, "Info", lambda message, *args, **kwargs: shown["info"].append(message))
    return shown


def test_the_panel_is_absent_when_upload_is_off(answerer):
    import app

    assert not answerer.settings.upload
    demo = app.build_demo(answerer)
    tabs = {b.label for b in demo.blocks.values() if type(b).__name__ == "Tab"}
    assert tabs == {"问答", "报告库"}
    assert not {"read_files", "add_files", "remove_report"} & set(page_functions(demo))
    assert not any(type(b).__name__ == "File" for b in demo.blocks.values())


def test_page_adds_and_removes_through_private_token_checked_events(live, settings, uploads, shown_lines):
    import app

    demo = app.build_demo(live)
    functions = page_functions(demo)
    tabs = {b.label for b in demo.blocks.values() if type(b).__name__ == "Tab"}
    assert tabs == {"问答", "报告库", "添加报告"}
    for name in ("clear_preview", "read_files", "add_files", "ask_remove", "remove_report", "refresh"):
        assert functions[name].api_visibility == "private", name
    for name in ("read_files", "add_files", "remove_report"):
        assert functions[name].concurrency_id == "library" and functions[name].concurrency_limit == 1
    files = next(b for b in demo.blocks.values() if type(b).__name__ == "File")
    assert files.file_count == "multiple" and set(files.file_types) == set(adding.ACCEPTED_SUFFIXES)
    token_box = next(b for b in demo.blocks.values() if getattr(b, "label", "") == "口令")
    assert token_box.type == "password"
    read_files, add_files = functions["read_files"].fn, functions["add_files"].fn
    remove_report, refresh = functions["remove_report"].fn, functions["refresh"].fn
    before = snapshot(settings)
    assert all(update == gr.skip() for update in refresh([], []))  # the library is as built

    path = uploads("浙江省_2026.txt", ZHEJIANG.read_bytes())
    # A wrong token: one warning, the preview emptied, nothing written.
    rows, shown, button, _ = read_files("nope", [path])
    assert (rows, shown, button.interactive) == ([], [], False)
    assert len(shown_lines["warning"]) == 1 and "口令" in shown_lines["warning"][0]

    rows, shown, button, _ = read_files(TOKEN, [path])
    assert button.interactive and rows[0][1:4] == ["2026年浙江省政府工作报告", "浙江省", "2026"]
    assert rows[0][-1] == "标题、地区、年份均读自正文"

    outputs = add_files("nope", shown, rows, [], [])
    assert all(update == gr.skip() for update in outputs) and snapshot(settings) == before
    assert len(shown_lines["warning"]) == 2

    outputs = add_files(TOKEN, shown, rows, ["深圳市罗湖区"], [])
    assert len(shown_lines["warning"]) == 2, shown_lines["warning"]
    files_value, table, kept, add_button, result, header, regions, years, scope, library = outputs[:10]
    assert files_value is None and table == [] and kept == [] and not add_button.interactive
    assert len(shown_lines["info"]) == 1 and shown_lines["info"][0].startswith("已添加：")
    assert "已添加：2026年浙江省政府工作报告（浙江省，2026年" in result
    assert "3 份报告" in header and "浙江省" in header
    assert ("浙江省（1份）", "浙江省") in regions.choices and regions.value == ["深圳市罗湖区"]
    assert [value for _, value in years.choices] == [2026, 2021, 2015]
    assert "2 / 3" in scope and "2026年浙江省政府工作报告" in library
    remove_choices = outputs[-1].choices
    added_id = next(value for label, value in remove_choices if "浙江省" in label)
    assert refresh([], [])[1].choices == regions.choices  # another tab sees it when it loads

    assert functions["scope"].fn(["浙江省"], []) == [added_id]
    history = functions["respond"].fn(QUESTION, [], None, [added_id], 5, False, [])[0]
    assert ANSWER in history[-1]["content"]

    row, note = functions["ask_remove"].fn(added_id)
    assert row.visible and "浙江省" in note
    assert all(update == gr.skip() for update in remove_report("nope", added_id, [], []))
    row, line, *views = remove_report(TOKEN, added_id, [], [])
    assert not row.visible and "已删除" in line and "2 份报告" in views[0]
    assert snapshot(settings) == before
    assert added_id not in [value for _, value in views[-1].choices]


def test_a_failure_of_the_build_shows_one_line_and_leaves_the_library(
    settings, live, uploads, shown_lines, monkeypatch
):
    import app

    demo = app.build_demo(live)
    functions = page_functions(demo)
    path = uploads("浙江省_2026.txt", ZHEJIANG.read_bytes())
    rows, shown, *_ = functions["read_files"].fn(TOKEN, [path])
    before, build = snapshot(settings), live_build(settings)

    def broken(*args, **kwargs):
        raise RuntimeError("embedding exploded")

    monkeypatch.setattr(index.library, "build_index", broken)
    outputs = functions["add_files"].fn(TOKEN, shown, rows, [], [])
    assert all(update == gr.skip() for update in outputs)
    assert shown_lines["warning"] == [app.LIBRARY_ERROR_MESSAGE]
    assert snapshot(settings) == before and live_build(settings) == build


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (ImportError("No module named 'docx'"), "不能读取这种格式"),
        (RuntimeError("a parser's own bug"), "出错了，报告库没有改动"),
    ],
)
def test_an_unexpected_failure_while_reading_is_one_chinese_line(
    live, uploads, shown_lines, monkeypatch, failure, expected
):
    import app

    def failing(*args, **kwargs):
        raise failure

    monkeypatch.setattr(index.library, "prepare", failing)  # what prepare_all calls per file
    read_files = page_functions(app.build_demo(live))["read_files"].fn
    rows, shown, button, _ = read_files(TOKEN, [uploads("报告.txt", excerpt())])
    assert (rows, shown, button.interactive) == ([], [], False)
    (line,) = shown_lines["warning"]
    assert expected in line and one_chinese_line(line) and str(failure) not in line


# --- a PDF report's page and original ------------------------------------------------------------


@pytest.fixture()
def pdf_library(settings: Settings, fake_embedder: FakeEmbedder) -> LiveAnswerer:
    """The library with a report as an added PDF leaves it: its text, a .toml with its page offsets and
    its original, and the original beside them (a stand-in: only its name and bytes matter here)."""
    text = excerpt().decode("utf-8")
    folder = settings.corpus_dir
    (folder / "zj.txt").write_text(text, encoding="utf-8")
    second_page = text.index("加强民生建设")
    (folder / "zj.toml").write_text(
        'id = "zj-2026"\nregion = "浙江省"\nformat = "pdf"\noriginal = "zj.pdf"\n'
        f"pages = [0, {second_page}]\n",
        encoding="utf-8",
    )
    (folder / "zj.pdf").write_bytes(b"%PDF-1.4\n% stand-in\n%%EOF\n")
    (folder / "other.pdf").write_bytes(b"%PDF-1.4\n% not any report's original\n%%EOF\n")
    build_index(settings, fake_embedder)
    return LiveAnswerer(Answerer(settings, stored=load_index(settings.index_dir), embedder=fake_embedder))


def test_pdf_source_shows_its_page_and_links_the_original(pdf_library):
    answer = pdf_library.ask(QUESTION)
    cited = answer.citations[0]
    assert cited.doc_id == "zj-2026" and cited.page == 2
    stored = pdf_library.current().stored
    target = SourceTarget(cited.doc_id, cited.paragraph, cited.paragraph, cited.start, cited.end, "[1]")
    panel = source_html(stored, target)
    assert "第2页" in panel and 'href="govqa/original/zj-2026#page=2"' in panel
    first = SourceTarget(cited.doc_id, 1, 1, 0, 1)
    assert "第1页" in source_html(stored, first)
    luohu = next(doc_id for doc_id in stored.reports if doc_id.startswith("luohu"))
    plain = source_html(stored, SourceTarget(luohu, 1, 1, 0, 1))
    assert "页 · " not in plain and "govqa/original" not in plain


def test_only_report_originals_are_served_and_only_ask_is_public(pdf_library):
    import httpx

    import app

    demo = app.build_demo(pdf_library)
    port = _free_port()
    app.launch(demo, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    try:
        assert demo.max_file_size == MAX_FILE_BYTES
        base = f"http://127.0.0.1:{port}/"
        response = httpx.get(base + "govqa/original/zj-2026")
        assert response.status_code == 200 and response.content.startswith(b"%PDF-")
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-disposition"].startswith("inline")
        luohu = next(d for d in pdf_library.current().stored.reports if d.startswith("luohu"))
        for path in (
            luohu,
            "other",
            "other.pdf",
            "zj.pdf",
            "..%2Fzj.pdf",
            "%2E%2E%2Fetc%2Fpasswd",
            "nothing",
        ):
            assert httpx.get(base + "govqa/original/" + path).status_code == 404, path
        assert httpx.get(base + "govqa/original/../zj.pdf").status_code == 404
        # The upload events are private: the API still lists /ask only.
        from gradio_client import Client

        endpoints = Client(base, verbose=False).view_api(print_info=False, return_format="dict")
        assert list(endpoints["named_endpoints"]) == ["/ask"]
    finally:
        demo.close()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- start ---------------------------------------------------------------------------------------


def test_main_makes_a_token_when_upload_is_on_without_one(monkeypatch, caplog):
    import app

    started: list[Settings] = []

    class Stub:
        def __init__(self, settings: Settings) -> None:
            started.append(settings)

    monkeypatch.setattr(app, "Answerer", Stub)
    monkeypatch.setattr(app, "build_demo", lambda answerer: None)
    monkeypatch.setattr(app, "launch", lambda *args, **kwargs: None)
    monkeypatch.setattr(app, "setup_logging", lambda: None)
    monkeypatch.setenv("GOVQA_UPLOAD", "true")
    with caplog.at_level("INFO", logger="app"):
        assert app.main([]) == 0
    token = started[0].upload_token
    assert len(token) >= 20
    assert [r.getMessage().count(token) for r in caplog.records] == [1]
    monkeypatch.setenv("GOVQA_UPLOAD_TOKEN", "set-by-admin")
    caplog.clear()
    assert app.main([]) == 0
    assert started[1].upload_token == "set-by-admin" and "set-by-admin" not in caplog.text
    monkeypatch.delenv("GOVQA_UPLOAD")
    monkeypatch.delenv("GOVQA_UPLOAD_TOKEN")
    assert app.main([]) == 0 and started[2].upload_token == ""
