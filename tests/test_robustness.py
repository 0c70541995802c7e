"""Robustness: whatever users type or feed it, and whatever happened on disk, the chatbot answers or
says in one line what is wrong and what to do — never a traceback, never a hang, never a lost index.

Bad questions go through every entry point (Python API, command line, chat page logic, HTTP API)
from one table; index and corpus faults check the message names the file and the fix.
"""

from __future__ import annotations

import errno
import io
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import index.build
import index.store
import qa.answer
from index.__main__ import main as index_main
from index.build import build_index, open_index
from index.errors import CorpusError, IndexCorruptError, IndexMismatchError, UsageError
from index.settings import PROJECT_ROOT, Settings
from index.store import current_build, load_index, read_manifest
from qa.__main__ import main as qa_main
from qa.answer import NOT_FOUND, Answerer
from qa.chat import format_answer, user_message

MAX_SECONDS = 2.0  # the bound on one answer with the fake embedder (typically a few ms)
BUDGET = "一般公共预算收入"

# ---------------------------------------------------------------------------------------------
# One table of bad (and odd) questions for every entry point.
# expect: ("error", text the one-line message contains) or ("answer", found?, text a quote contains)
# found? is None where either outcome is sensible; the point is a clean answer, not a traceback.

CASES: list[tuple[str, object, tuple]] = [
    ("empty", "", ("error", "问题是空的")),
    ("blank", " \t\u3000 ", ("error", "问题是空的")),
    ("newlines only", "\n\r\n", ("error", "问题是空的")),
    ("nul only", "\x00", ("error", "问题是空的")),
    ("zero-width only", "\u200b\ufeff", ("error", "问题是空的")),
    ("one character", "问", ("answer", None, None)),
    ("one digit", "7", ("answer", None, None)),
    ("just over the limit", "财" * 501, ("error", "问题太长（501 字）")),
    ("10,000 characters", "收入" * 5000, ("error", "请缩短到 500 字以内")),
    ("100,000 characters", "罗" * 100_000, ("error", "问题太长")),
    ("punctuation only", "？？？！！。。。……", ("answer", False, None)),
    ("ascii punctuation", "?!.,;:'\"()[]{}", ("answer", False, None)),
    ("emoji only", "😀🎉🇨🇳👍🏽", ("answer", False, None)),
    ("english", "What was the general public budget revenue in 2020?", ("answer", None, None)),
    ("mixed", "2020年罗湖区 general public budget 一般公共预算收入是多少？", ("answer", True, BUDGET)),
    ("traditional", "一般公共預算收入是多少", ("answer", True, BUDGET)),
    ("traditional, quoted", "「一般公共預算收入是多少」", ("answer", True, BUDGET)),
    ("traditional, full", "2020年羅湖區一般公共預算收入是多少？", ("answer", True, BUDGET)),
    ("full-width latin", "２０２０年一般公共预算收入是多少？", ("answer", True, BUDGET)),
    ("control characters", "\x07一般公共\x1b[31m预算收入\x7f是多少\x0c", ("answer", None, None)),
    ("nul inside", "一般公共预算\x00收入是多少", ("answer", None, None)),
    ("line separators", "\u2028一般公共预算收入\u2029是多少", ("answer", True, BUDGET)),
    ("html script", '<script>alert("x")</script>一般公共预算收入', ("answer", None, None)),
    ("html img", "<img src=x onerror=alert(1)>", ("answer", None, None)),
    ("markdown link", "[点我](javascript:alert(1)) **粗** `code` # 标题", ("answer", None, None)),
    ("sql drop", "'; DROP TABLE reports; --", ("answer", False, None)),
    ("sql or", "1' OR '1'='1", ("answer", None, None)),
    ("sql union", "收入 UNION SELECT * FROM paragraphs WHERE 1=1 --", ("answer", None, None)),
    ("format string", "{0} %s %d ${HOME} {{7*7}}", ("answer", None, None)),
    ("regex meta", ".*+?^$()[]{}|\\ 收入", ("answer", None, None)),
    ("lone surrogates", "\udcff\udcfe财政收入", ("answer", None, None)),
    ("right-to-left", "\u202e收入\u202d预算", ("answer", None, None)),
]
IDS = [name for name, _, _ in CASES]


def check_answer(row: dict, expect: tuple) -> None:
    """An answer row (as JSON) fits the expectation of its case."""
    _, found, quote = expect
    assert set(row) >= {"question", "found", "answer", "quotes", "citations", "passages"}
    if found is not None:
        assert row["found"] is found, row["answer"][:200]
    if quote is not None:
        assert any(quote in q["text"] for q in row["quotes"]), row["answer"][:200]
    if not row["found"]:
        assert row["answer"].startswith(NOT_FOUND)
    json.dumps(row, ensure_ascii=False).encode("utf-8")  # printable and encodable as UTF-8


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


# --- Python API ------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "question", "expect"), CASES, ids=IDS)
def test_api_question_classes(answerer: Answerer, name: str, question: str, expect: tuple) -> None:
    started = time.perf_counter()
    if expect[0] == "error":
        with pytest.raises(UsageError, match=expect[1]) as error:
            answerer.ask(question)
        one_line(str(error.value))
    else:
        check_answer(json.loads(json.dumps(answerer.ask(question).to_dict())), expect)
    assert time.perf_counter() - started < MAX_SECONDS


def test_traditional_question_finds_what_the_simplified_one_does(answerer: Answerer) -> None:
    simplified = answerer.ask("一般公共预算收入是多少")
    traditional = answerer.ask("一般公共預算收入是多少")
    assert traditional.found and [q.text for q in traditional.quotes] == [q.text for q in simplified.quotes]
    assert traditional.question == "一般公共預算收入是多少"  # shown as typed; only the search copy is 简体


@pytest.mark.parametrize("question", [None, 42, b"\xe8\xb4\xa2", ["财政"]])
def test_api_non_text_question_is_a_usage_error(answerer: Answerer, question: object) -> None:
    with pytest.raises(UsageError, match="问题必须是文字"):
        answerer.ask(question)  # type: ignore[arg-type]


def test_api_bad_top_k_and_report_filter(answerer: Answerer) -> None:
    with pytest.raises(UsageError, match="top-k"):
        answerer.ask("财政收入", -3)
    with pytest.raises(UsageError, match="报告"):
        answerer.ask("财政收入", 5, ["no-such-report"])
    assert len(answerer.ask("财政收入", 1000).passages) <= len(answerer.stored.chunks)


QUESTION_TEXT = st.one_of(
    st.text(),  # any unicode but surrogates, control characters included
    st.text(alphabet=st.characters(codec="utf-8"), max_size=600),
    st.text(
        alphabet=st.sampled_from(list("罗湖区一般公共预算收入2020年多少？！。<>&*_[]()`#\x00\n\t 😀預算")),
        max_size=80,
    ),
)


@settings(deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(question=QUESTION_TEXT)
def test_any_text_is_answered_or_refused_quickly(answerer: Answerer, question: str) -> None:
    started = time.perf_counter()
    try:
        answer = answerer.ask(question)
    except UsageError as error:
        one_line(str(error))
    else:
        row = answer.to_dict()
        json.dumps(row, ensure_ascii=False).encode("utf-8")
        assert row["passages"] and (row["found"] or row["answer"].startswith(NOT_FOUND))
        message = format_answer(answer, answerer.stored, show_scores=True)
        assert "<script" not in message and "<img" not in message
        assert "<" not in user_message(question) and "](" not in user_message(question)
    assert time.perf_counter() - started < MAX_SECONDS


def test_concurrent_questions_get_the_same_answers(answerer: Answerer) -> None:
    """The page answers two (or more) users at once from one Answerer."""
    questions = [q for _, q, e in CASES if e[0] == "answer"] * 3
    expected = {q: [p.paragraph for p in answerer.ask(q).passages] for q in set(questions)}
    results: dict[int, list[int]] = {}
    failures: list[BaseException] = []

    def worker(offset: int) -> None:
        try:
            for i in range(offset, len(questions), 8):
                results[i] = [p.paragraph for p in answerer.ask(questions[i]).passages]
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures and not any(t.is_alive() for t in threads)
    assert all(results[i] == expected[q] for i, q in enumerate(questions))


# --- command line ----------------------------------------------------------------------------


@pytest.fixture()
def cli_env(monkeypatch: pytest.MonkeyPatch, fake_settings: Settings, fake_index, fake_embedder) -> Path:
    """The CLIs pointed at the fake-embedder index and model, nothing built with the real one."""
    monkeypatch.setattr(qa.answer, "settings_embedder", lambda *args, **kwargs: fake_embedder)
    monkeypatch.setattr(index.build, "load_embedder", lambda *args, **kwargs: fake_embedder)
    monkeypatch.setenv("GOVQA_MODEL", fake_embedder.name)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    return fake_settings.index_dir


@pytest.mark.parametrize(("name", "question", "expect"), CASES, ids=IDS)
def test_cli_question_classes(
    cli_env: Path, capsys: pytest.CaptureFixture[str], name: str, question: str, expect: tuple
) -> None:
    status = qa_main(["ask", question, "--json", "--index", str(cli_env)])
    captured = capsys.readouterr()
    if expect[0] == "error":
        assert status == 2 and captured.out == ""
        assert expect[1] in one_line(captured.err)
    else:
        assert status == 0, captured.err
        check_answer(json.loads(captured.out), expect)


def test_cli_plain_text_output_for_odd_questions(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for question in ("😀", "<b>收入</b>", "\x1b[2J一般公共预算收入"):
        assert qa_main(["ask", question, "--index", str(cli_env)]) == 0
        out = capsys.readouterr().out
        assert "\x1b" not in out and "毫秒" in out  # no terminal escape sequence gets through


def test_cli_batch_file_with_bad_lines(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = tmp_path / "questions.txt"
    lines = ["一般公共預算收入是多少", "\x00\x01", "财" * 10_000, "😀", "'; DROP TABLE x; --"]
    batch.write_text("\n".join(lines) + "\n\n   \n", encoding="utf-8")
    assert qa_main(["ask", "--json", "--batch", str(batch), "--index", str(cli_env)]) == 2
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 5  # blank lines are skipped, every other line answered in order
    assert rows[0]["found"] and "问题是空的" in rows[1]["error"] and "问题太长" in rows[2]["error"]
    assert not rows[3]["found"] and not rows[4]["found"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfe\xb2\xc6\n", "not UTF-8"),
        ("财政收入是多少\n".encode("gbk"), "not UTF-8"),
        ("财政收入\n".encode() + b"\x80\n", "byte 13"),
    ],
)
def test_cli_batch_file_not_utf8(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes, message: str
) -> None:
    batch = tmp_path / "questions.txt"
    batch.write_bytes(data)
    assert qa_main(["ask", "--json", "--batch", str(batch), "--index", str(cli_env)]) == 2
    captured = capsys.readouterr()
    line = one_line(captured.err)
    assert captured.out == "" and message in line and str(batch) in line and "UTF-8" in line


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ask", "--json", "--batch", "MISSING"], "cannot read batch file"),
        (["ask", "--json", "--batch", "DIR"], "cannot read batch file"),
        (["ask", "--batch", "-"], "add --json"),
        (["ask", "问", "--batch", "-"], "not both"),
        (["ask", "问", "-k", "1000"], "between 1 and 100"),
    ],
)
def test_cli_other_usage_errors(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    argv = [
        str(tmp_path / "nope.txt") if a == "MISSING" else str(tmp_path) if a == "DIR" else a for a in argv
    ]
    assert qa_main([*argv, "--index", str(cli_env)]) == 2
    assert message in one_line(capsys.readouterr().err)


def test_cli_interactive_survives_bad_input(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    typed = b"\xff\xfe\n" + "\x00\n😀\n财\n".encode() + ("问" * 600).encode() + b"\n\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(typed), encoding="utf-8"))
    monkeypatch.setenv("GOVQA_INDEX_DIR", str(cli_env))
    assert qa_main([]) == 0
    assert "UTF-8" in capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("\x00\n😀\n".encode()), encoding="utf-8"))
    assert qa_main([]) == 0  # ends at end of input, no hang
    out = capsys.readouterr().out
    assert "问题是空的" in out and NOT_FOUND in out


# --- chat page logic (app.py's respond) --------------------------------------------------------


@pytest.fixture(scope="module")
def demo(answerer: Answerer):
    import app

    return app.build_demo(answerer)


def page_function(demo, name: str):
    return next(f.fn for f in demo.fns.values() if f.name == name)


@pytest.fixture()
def warnings_shown(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    import gradio as gr

    shown: list[str] = []
    monkeypatch.setattr(gr, "Warning", lambda message, *args, **kwargs: shown.append(message))
    return shown


@pytest.mark.parametrize(("name", "question", "expect"), CASES, ids=IDS)
def test_page_question_classes(
    demo, answerer: Answerer, warnings_shown: list[str], name: str, question: str, expect: tuple
) -> None:
    respond = page_function(demo, "respond")
    outputs = respond(question, [], None, list(answerer.stored.reports), 5, True)
    if expect[0] == "error":
        assert len(warnings_shown) == 1 and expect[1] in one_line(warnings_shown[0])
        assert len(outputs) == 10  # nothing on the page changes
        return
    assert not warnings_shown, warnings_shown
    history = outputs[0]
    assert [m["role"] for m in history] == ["user", "assistant"]
    for message in history:
        for bad in ("<script", "<img", "](javascript", "**粗**", "\x00", "\x1b"):
            assert bad not in message["content"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((None, [], None, ["luohu-2021"], 5, False), "问题必须是文字"),
        (("财政收入", [], None, [], 5, False), "请至少选择一份报告"),
        (("财政收入", [], None, ["no-such-report"], 5, False), "请至少选择一份已收录的报告"),
    ],
)
def test_page_other_bad_inputs_warn(demo, warnings_shown: list[str], args: tuple, message: str) -> None:
    page_function(demo, "respond")(*args)
    assert len(warnings_shown) == 1 and message in warnings_shown[0]


def test_page_follow_up_of_an_odd_previous_question(
    demo, answerer: Answerer, warnings_shown: list[str]
) -> None:
    respond = page_function(demo, "respond")
    for previous in ("<script>", "😀", "财" * 500, "'; DROP TABLE x; --"):
        outputs = respond("那2014年呢？", [], previous, list(answerer.stored.reports), 5, False)
        assert [m["role"] for m in outputs[0]] == ["user", "assistant"], previous
    assert not warnings_shown  # a rewrite that would run over the limit falls back to the question as typed


def test_page_source_panel_with_stale_choices(demo) -> None:
    show = page_function(demo, "show")
    for choice, targets in (("7", []), ("x", None), (None, []), ("-1", [])):
        target, panel, *_ = show(choice, targets)
        assert target is None and "govqa-empty" in panel


# --- HTTP API (/ask through gradio_client against a live server) -------------------------------


@pytest.fixture(scope="module")
def http_server(demo):
    """One live app on 127.0.0.1 for the module; yields its URL."""
    import socket

    import app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app.launch(demo, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@pytest.fixture(scope="module")
def http_client(http_server: str):
    from gradio_client import Client

    return Client(http_server, verbose=False)


def post_ask(url: str, body: bytes) -> tuple[str, object]:
    """Plain HTTP to the gradio API: ("complete", answer) or ("error", message)."""
    import urllib.request

    call = f"{url}gradio_api/call/ask"
    request = urllib.request.Request(call, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        event_id = json.loads(response.read())["event_id"]
    with urllib.request.urlopen(f"{call}/{event_id}", timeout=10) as response:
        stream = response.read().decode("utf-8")
    event = next(line.split(": ", 1)[1] for line in stream.splitlines() if line.startswith("event: "))
    data = json.loads(
        next(line[len("data: ") :] for line in stream.splitlines() if line.startswith("data: "))
    )
    return event, data[0] if event == "complete" else data["error"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"data": ["\\udcff\\udcfe\\u8d22\\u653f\\u6536\\u5165"]}', ("complete", "财政收入")),
        (b'{"data": ["\\u0000\\u0001"]}', ("error", "问题是空的")),
        (b'{"data": [null]}', ("error", "问题必须是文字")),
        (b'{"data": [123]}', ("error", "问题必须是文字")),
        (b'{"data": [["a"]]}', ("error", "问题必须是文字")),
    ],
)
def test_http_raw_json_bodies(http_server: str, body: bytes, expected: tuple[str, str]) -> None:
    event, payload = post_ask(http_server, body)
    assert event == expected[0]
    if event == "complete":
        assert isinstance(payload, dict) and payload["question"] == expected[1] and payload["passages"]
    else:
        assert isinstance(payload, str) and expected[1] in payload


# JSON can carry a lone surrogate only as an escape; gradio_client (httpx) cannot encode one at all,
# so that case goes over plain HTTP below.
HTTP_CASES = [c for c in CASES if c[0] != "lone surrogates"]


@pytest.mark.parametrize(("name", "question", "expect"), HTTP_CASES, ids=[c[0] for c in HTTP_CASES])
def test_http_question_classes(http_client, name: str, question: str, expect: tuple) -> None:
    import app

    started = time.perf_counter()
    if expect[0] == "error":
        with pytest.raises(Exception) as error:  # gradio_client raises AppError with the gr.Error text
            http_client.predict(question, api_name="/ask")
        assert expect[1] in str(error.value) and app.ERROR_MESSAGE not in str(error.value)
    else:
        check_answer(http_client.predict(question, api_name="/ask"), expect)
    assert time.perf_counter() - started < 10


# --- index faults --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template_index(tmp_path_factory: pytest.TempPathFactory, fake_settings: Settings, fake_index) -> Path:
    """A good build to copy: copying takes milliseconds, building a third of a second."""
    target = tmp_path_factory.mktemp("template") / "idx"
    shutil.copytree(fake_settings.index_dir, target)
    return target


@pytest.fixture()
def built(tmp_path: Path, corpus_copy: Path, fake_embedder, template_index: Path) -> Settings:
    """A good index of a writable corpus copy, in a folder of its own."""
    settings = Settings(corpus_dir=corpus_copy, index_dir=tmp_path / "idx", model=fake_embedder.name)
    shutil.copytree(template_index, settings.index_dir)
    edit_manifest(current_build(settings.index_dir), corpus_dir=str(corpus_copy.resolve()))
    return settings


def rewrite_with_checksum(folder: Path, name: str, data: bytes) -> None:
    """Replace a file and record its new checksum: damage the checksum cannot catch."""
    (folder / name).write_bytes(data)
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["checksums"][name] = index.store.sha256_file(folder / name)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def edit_manifest(folder: Path, **changes: object) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest.update(changes)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def _truncate(folder: Path, name: str) -> None:
    path = folder / name
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])


def _bm25_file(folder: Path) -> str:
    return str(sorted((folder / "bm25").iterdir())[0].relative_to(folder))


INDEX_FAULTS = [
    # (name, damage(folder), error class, text the message names)
    ("reports.jsonl truncated", lambda f: _truncate(f, "reports.jsonl"), IndexCorruptError, "reports.jsonl"),
    ("bm25 file truncated", lambda f: _truncate(f, _bm25_file(f)), IndexCorruptError, "bm25"),
    ("table deleted", lambda f: (f / "chunks.jsonl").unlink(), IndexCorruptError, "chunks.jsonl is missing"),
    (
        "table not JSON, checksum agrees",
        lambda f: rewrite_with_checksum(f, "chunks.jsonl", b'{"doc_id": \n'),
        IndexCorruptError,
        "chunks.jsonl line 1 is not valid JSON",
    ),
    (
        "table rows of the wrong shape",
        lambda f: rewrite_with_checksum(f, "paragraphs.jsonl", b'{"id": 1}\n[1, 2]\n'),
        IndexCorruptError,
        "wrong shape",
    ),
    (
        "faiss file garbage, checksum agrees",
        lambda f: rewrite_with_checksum(f, "dense.faiss", b"not a FAISS index\n"),
        IndexCorruptError,
        "dense.faiss is not a readable FAISS index",
    ),
    (
        "faiss file empty, checksum agrees",
        lambda f: rewrite_with_checksum(f, "dense.faiss", b""),
        IndexCorruptError,
        "dense.faiss",
    ),
    ("manifest of another dimension", lambda f: edit_manifest(f, dimension=512), IndexMismatchError, "512"),
    (
        "manifest checksums null",
        lambda f: edit_manifest(f, checksums=None),
        IndexCorruptError,
        "manifest.json",
    ),
    (
        "manifest a list",
        lambda f: (f / "manifest.json").write_text("[]"),
        IndexMismatchError,
        "manifest.json",
    ),
    (
        "manifest not UTF-8",
        lambda f: (f / "manifest.json").write_bytes(b"\xff\xfe{"),
        IndexCorruptError,
        "manifest",
    ),
    (
        "manifest deleted",
        lambda f: (f / "manifest.json").unlink(),
        IndexCorruptError,
        "manifest.json is missing",
    ),
    (
        "CURRENT names a missing build",
        lambda f: (f.parent / "CURRENT").write_text("build-gone\n"),
        IndexCorruptError,
        "CURRENT",
    ),
    (
        "CURRENT names a path",
        lambda f: (f.parent / "CURRENT").write_text("../../etc\n"),
        IndexCorruptError,
        "CURRENT",
    ),
    (
        "CURRENT binary",
        lambda f: (f.parent / "CURRENT").write_bytes(b"\xff\x00\xfe"),
        IndexCorruptError,
        "CURRENT",
    ),
    ("build folder deleted", lambda f: shutil.rmtree(f), IndexCorruptError, "missing build"),
]


@pytest.mark.parametrize(("name", "damage", "kind", "named"), INDEX_FAULTS, ids=[f[0] for f in INDEX_FAULTS])
def test_index_fault_is_named_with_the_fix(
    built: Settings, name: str, damage, kind: type, named: str
) -> None:
    damage(current_build(built.index_dir))
    with pytest.raises(kind) as error:
        load_index(built.index_dir)
    line = one_line(str(error.value))
    assert named in line and "python -m index build" in line


@pytest.mark.parametrize(
    ("name", "damage", "kind", "named"),
    INDEX_FAULTS[:3] + INDEX_FAULTS[7:9],
    ids=[f[0] for f in INDEX_FAULTS[:3] + INDEX_FAULTS[7:9]],
)
def test_cli_index_fault_is_one_line(
    built: Settings,
    cli_env: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    damage,
    kind: type,
    named: str,
) -> None:
    damage(current_build(built.index_dir))
    assert qa_main(["ask", "财政收入", "--index", str(built.index_dir)]) == 1
    captured = capsys.readouterr()
    line = one_line(captured.err)
    assert captured.out == "" and named in line and "python -m index build" in line


def test_cli_index_from_another_model_or_a_changed_corpus(
    built: Settings, cli_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVQA_MODEL", "BAAI/bge-small-zh-v1.5")
    assert qa_main(["ask", "财政收入", "--index", str(built.index_dir)]) == 1
    line = one_line(capsys.readouterr().err)
    assert "fake-bigram-64" in line and "BAAI/bge-small-zh-v1.5" in line and str(built.index_dir) in line
    assert "python -m index build --index" in line
    monkeypatch.setenv("GOVQA_MODEL", "fake-bigram-64")
    report = next(built.corpus_dir.glob("*.txt"))
    report.write_bytes(report.read_bytes() + "\n新增一段。\n".encode())
    assert qa_main(["ask", "财政收入", "--index", str(built.index_dir)]) == 1
    line = one_line(capsys.readouterr().err)
    assert "corpus" in line and str(built.corpus_dir) in line and "python -m index build --index" in line


def test_cli_missing_default_index_is_built_on_first_use(
    cli_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "new" / "index"
    monkeypatch.setenv("GOVQA_INDEX_DIR", str(target))
    assert qa_main(["ask", "一般公共预算收入是多少", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["found"]
    assert load_index(target).manifest.model == "fake-bigram-64"


def _fail(code: int):
    def fail(*args, **kwargs):
        path = next((a for a in args if isinstance(a, str | Path)), None)
        raise OSError(code, os.strerror(code), str(path) if path is not None else None)

    return fail


WRITE_FAULTS = [
    ("no space, first table", "jsonl", errno.ENOSPC, "free some disk space"),
    ("no space, bm25 save", "bm25", errno.ENOSPC, "free some disk space"),
    ("no permission", "jsonl", errno.EACCES, "make the folder writable"),
    ("read-only file system", "bm25", errno.EROFS, "make the folder writable"),
    ("i/o error", "jsonl", errno.EIO, "check that the folder can be written"),
]


def _break_writes(monkeypatch: pytest.MonkeyPatch, where: str, code: int) -> None:
    if where == "jsonl":
        monkeypatch.setattr(index.store, "_write_jsonl", _fail(code))
    else:
        monkeypatch.setattr(index.store.bm25s.BM25, "save", _fail(code))


@pytest.mark.parametrize(("name", "where", "code", "fix"), WRITE_FAULTS, ids=[f[0] for f in WRITE_FAULTS])
def test_index_build_cli_write_failure_is_one_line_and_keeps_the_old_index(
    built: Settings,
    cli_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    where: str,
    code: int,
    fix: str,
) -> None:
    before = current_build(built.index_dir)
    _break_writes(monkeypatch, where, code)
    argv = ["build", "--corpus", str(built.corpus_dir), "--index", str(built.index_dir), "-q"]
    assert index_main([*argv, "--model", "fake-bigram-64"]) == 1
    line = one_line(capsys.readouterr().err)
    assert str(built.index_dir) in line and fix in line and "--index DIR" in line
    assert os.strerror(code) in line
    assert current_build(built.index_dir) == before and load_index(built.index_dir).chunks
    assert not list(built.index_dir.glob("*.partial"))


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES])
def test_qa_cli_and_app_building_on_first_use_report_a_write_failure(
    cli_env: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    code: int,
) -> None:
    import app

    target = tmp_path / "fresh"
    monkeypatch.setenv("GOVQA_INDEX_DIR", str(target))
    _break_writes(monkeypatch, "jsonl", code)
    assert qa_main(["ask", "财政收入"]) == 1
    captured = capsys.readouterr()
    line = one_line(captured.err.splitlines()[-1])
    assert captured.out == "" and str(target) in line and os.strerror(code) in line
    assert app.main(["--port", "1"]) == 1  # the page never starts on a half-built index
    assert str(target) in one_line(capsys.readouterr().err.splitlines()[-1])


def test_index_folder_that_is_a_file(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    for index_dir in (blocker, blocker / "idx"):
        argv = ["build", "--index", str(index_dir), "--model", "fake-bigram-64", "-q"]
        assert index_main(argv) == 1
        line = one_line(capsys.readouterr().err)
        assert str(index_dir) in line and "--index DIR" in line


def test_unexpected_os_error_in_cli_is_one_line(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A file-system error outside the save step (here: reading the corpus) is still one line."""
    monkeypatch.setattr(index.build, "load_corpus", _fail(errno.EIO))
    argv = ["build", "--corpus", str(tmp_path), "--index", str(tmp_path / "i"), "--model", "fake-bigram-64"]
    assert index_main(argv) == 1
    line = one_line(capsys.readouterr().err)
    assert str(tmp_path) in line and os.strerror(errno.EIO) in line


# --- a build killed midway ----------------------------------------------------------------------

SLOW_BUILD = Path(__file__).resolve().parent / "fixtures" / "slow_build.py"


@pytest.mark.parametrize("phase", ["embed", "write"])
def test_build_killed_midway_keeps_the_previous_index(
    built: Settings, fake_embedder, tmp_path: Path, phase: str
) -> None:
    before = current_build(built.index_dir)
    built_at = read_manifest(before).built_at
    marker = tmp_path / f"stalled-{phase}"
    process = subprocess.Popen(
        [sys.executable, str(SLOW_BUILD), str(built.corpus_dir), str(built.index_dir), str(marker), phase],
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            assert time.monotonic() < deadline, "the slow build never reached its stall point"
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=10) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stderr:
            process.stderr.close()

    partials = list(built.index_dir.glob("build-*.partial"))
    assert bool(partials) == (phase == "write")  # the killed build left its half-written folder
    stored = load_index(built.index_dir)
    assert stored.folder == before and stored.manifest.built_at == built_at
    answer = Answerer(built, stored=stored, embedder=fake_embedder).ask("一般公共预算收入是多少")
    assert answer.found
    assert open_index(built, rebuild=False, embedder=fake_embedder).folder == before

    after = build_index(built, fake_embedder)  # the lock died with the process: no hang
    assert current_build(built.index_dir) == after != before
    assert sorted(p.name for p in built.index_dir.glob("build-*")) == [after.name]
    assert not list(built.index_dir.glob("CURRENT.*.tmp"))


def test_leftover_partial_folders_and_pointer_files_do_not_break_loading(
    built: Settings, fake_embedder
) -> None:
    before = current_build(built.index_dir)
    junk = built.index_dir / "build-20990101-000000-1-abcdef.partial"
    junk.mkdir()
    (junk / "chunks.jsonl").write_bytes(b"\x00garbage")
    (built.index_dir / "CURRENT.999999.tmp").write_text("build-20990101-000000-1-abcdef.partial\n")
    orphan = built.index_dir / "build-20990101-000000-2-abcdef"  # renamed, never made current
    orphan.mkdir()
    assert load_index(built.index_dir).folder == before
    after = build_index(built, fake_embedder)
    kept = sorted(p.name for p in built.index_dir.iterdir() if p.name not in (".lock", "vector-cache"))
    assert kept == ["CURRENT", after.name]


# --- corpus faults -------------------------------------------------------------------------------

BAD_REPORTS = {
    "empty.txt": (b"", "the file is empty"),
    "blank.md": (b"  \n\n\t\n", "the file is empty"),
    "binary.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "looks binary"),
    "gbk.txt": (
        "罗湖区2015年政府工作报告\n\n一、工作回顾\n\n全区一般公共预算收入增长。\n".encode("gbk"),
        "not UTF-8",
    ),
    "headings.txt": ("一、总体要求\n\n（一）主要目标\n".encode(), "no paragraphs of report text"),
}


def test_no_paragraphs_report_is_skipped_with_its_name(
    tmp_path: Path, fake_embedder, caplog: pytest.LogCaptureFixture
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "headings.txt").write_text("一、总体要求\n\n（一）主要目标\n", encoding="utf-8")
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "idx", model=fake_embedder.name)
    with caplog.at_level(logging.WARNING), pytest.raises(CorpusError) as error:
        build_index(settings, fake_embedder)
    assert str(corpus) in one_line(str(error.value)) and "check the files are reports" in str(error.value)
    assert "headings.txt" in caplog.text and "no paragraphs of report text" in caplog.text


def test_bad_reports_among_good_ones_are_named_and_the_rest_indexed(
    tmp_path: Path, corpus_copy: Path, fake_embedder, caplog: pytest.LogCaptureFixture
) -> None:
    for name, (data, _) in BAD_REPORTS.items():
        (corpus_copy / name).write_bytes(data)
    settings = Settings(corpus_dir=corpus_copy, index_dir=tmp_path / "idx", model=fake_embedder.name)
    with caplog.at_level(logging.WARNING):
        build_index(settings, fake_embedder)
    for name, (_, reason) in BAD_REPORTS.items():
        assert any(name in r.getMessage() and reason in r.getMessage() for r in caplog.records), name
    stored = load_index(settings.index_dir)
    assert sorted(stored.reports) == ["luohu-2015", "luohu-2021"]
    assert stored.manifest.counts["paragraphs"] == 163
    assert Answerer(settings, stored=stored, embedder=fake_embedder).ask("一般公共預算收入是多少").found


def test_index_cli_on_a_corpus_of_only_bad_files(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, (data, _) in BAD_REPORTS.items():
        (tmp_path / name).write_bytes(data)
    argv = ["build", "--corpus", str(tmp_path), "--index", str(tmp_path / "idx"), "--model", "fake-bigram-64"]
    assert index_main([*argv, "-q"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: ") and str(tmp_path) in last
    assert not (tmp_path / "idx" / "CURRENT").exists()


def test_missing_corpus_folder_is_one_line(
    cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["build", "--corpus", str(tmp_path / "nope"), "--index", str(tmp_path / "idx"), "-q"]
    assert index_main(argv) == 1
    assert "--corpus DIR" in one_line(capsys.readouterr().err)
