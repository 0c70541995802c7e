"""The chat page's logic (qa/chat.py) and app.py's wiring, without a browser."""

from __future__ import annotations

import json
import socket
from types import SimpleNamespace

import pytest

from index.errors import SettingsError, UsageError
from index.settings import load_settings
from qa.answer import NOT_FOUND, Answer, Citation, Passage, Quote
from qa.chat import (
    EMPTY_SOURCE,
    SourceTarget,
    answer_sources,
    escape_text,
    format_answer,
    has_paragraph,
    report_choices,
    rewrite_follow_up,
    source_html,
    step,
    user_message,
)

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>[点我](javascript:alert(1))**粗**'
SECTION = f"一、章{EVIL} > 节<b>"
QUESTION = "2020年罗湖区一般公共预算收入是多少？"


def evil_index() -> SimpleNamespace:
    """A stand-in StoredIndex whose report and paragraphs carry markup."""
    report = SimpleNamespace(title=f"报告{EVIL}", year=2021, reviews=2020, plans=(2021,), doc_id="evil")
    paragraphs = {
        ("evil", n): SimpleNamespace(
            doc_id="evil",
            number=n,
            text=f"第{n}段开头。{EVIL}结尾。",
            section=f"一、章{EVIL} > 节<b>",
            kind="body",
        )
        for n in (1, 2, 3)
    }
    return SimpleNamespace(reports={"evil": report}, paragraphs=paragraphs, chunks=[])


def evil_answer(found: bool = True) -> Answer:
    text = f"第2段开头。{EVIL}结尾。"
    start = text.index("<script>")
    citation = Citation(
        1, "evil", f"报告{EVIL}", 2021, f"一、章{EVIL} > 节<b>", 2, text, start, start + len(EVIL)
    )
    passage = Passage(1, "evil", 2, EVIL, 0.5, 0, len(EVIL))
    return Answer(
        EVIL,
        found,
        "unused",
        (Quote(EVIL, 1),) if found else (),
        (citation,) if found else (),
        (passage,),
        1.0,
    )


def assert_no_markup(html_text: str, markdown: bool = True) -> None:
    """No tag from the text; for Markdown (the chat), no link or emphasis either."""
    for bad in ("<script", "<img", "<b>", *(("](javascript", "**粗**") if markdown else ())):
        assert bad not in html_text


# --- escaping -------------------------------------------------------------------------------


def test_escape_text_neutralises_html_and_markdown():
    escaped = escape_text(EVIL)
    assert "<" not in escaped and ">" not in escaped
    assert "[" not in escaped and "](" not in escaped and "*" not in escaped
    assert "&lt;script&gt;" in escaped
    assert user_message(EVIL) == escaped


def test_chat_message_escapes_question_and_report_text():
    stored = evil_index()
    for found in (True, False):
        message = format_answer(evil_answer(found), stored, show_scores=True, rewritten_from="x")
        assert_no_markup(message)
        assert "&lt;script&gt;" in message


def test_source_panel_escapes_report_text_but_marks_the_quote():
    stored = evil_index()
    answer = evil_answer()
    (_, target), *_ = answer_sources(answer, stored)
    panel = source_html(stored, target)
    assert_no_markup(panel, markdown=False)  # gr.HTML does not render Markdown
    assert panel.count("<mark>") == 1
    assert f"<mark>{escape_text(EVIL)[:20]}" not in panel  # the panel is HTML-escaped only
    assert "<mark>&lt;script&gt;" in panel
    assert "第2段 / 共3段" in panel


# --- answers --------------------------------------------------------------------------------


def test_found_answer_is_quotes_then_markers_then_citation_list(answerer):
    answer = answerer.ask(QUESTION)
    assert answer.found
    message = format_answer(answer, answerer.stored)
    for quote in answer.quotes:
        assert f"> {escape_text(quote.text)} **[{quote.citation}]**" in message
    for citation in answer.citations:
        assert f"[{citation.n}] {escape_text(citation.title)}" in message
        assert f"第{citation.paragraph}段" in message
    assert NOT_FOUND not in message
    assert "检索得分" not in message
    scored = format_answer(answer, answerer.stored, show_scores=True)
    assert "检索得分" in scored and f"{answer.passages[0].score:.4f}" in scored


def test_not_found_answer_says_so_and_offers_related_passages(answerer):
    stored = answerer.stored
    doc_id, number = next(iter(stored.paragraphs))
    paragraph = stored.paragraphs[(doc_id, number)]
    passage = Passage(1, doc_id, number, paragraph.text[:10], 0.1, 0, 10)
    answer = Answer("火星", False, "", (), (), (passage,), 1.0)
    message = format_answer(answer, stored)
    assert "报告中没有找到这个问题的答案" in message
    assert "可能相关" in message
    ((label, target),) = answer_sources(answer, stored)
    assert label.startswith("可能相关 1")
    panel = source_html(stored, target)
    assert f"<mark>{escape_text(paragraph.text[:10])}</mark>" in panel or "<mark>" in panel


def test_sources_point_at_the_quoted_span(answerer):
    answer = answerer.ask(QUESTION)
    sources = answer_sources(answer, answerer.stored)
    assert len(sources) == len(answer.citations)
    for (label, target), citation, quote in zip(sources, answer.citations, answer.quotes, strict=True):
        assert label.startswith(f"[{citation.n}] ")
        panel = source_html(answerer.stored, target)
        assert f"<mark>{quote.text}</mark>" in panel  # plain Chinese text is unchanged by escaping
        assert citation.title in panel and f"（{citation.year}年）" in panel
        assert f"第{citation.paragraph}段" in panel


def test_previous_and_next_paragraphs(answerer):
    stored = answerer.stored
    doc_id = next(iter(stored.reports))
    numbers = sorted(n for d, n in stored.paragraphs if d == doc_id)
    first = SourceTarget(doc_id, numbers[0], numbers[0], 0, 2, "[1]")
    assert step(first, -1, stored) == first  # stays at the start
    assert not has_paragraph(stored, first, -1) and has_paragraph(stored, first, 1)
    second = step(first, 1, stored)
    assert second.paragraph == numbers[1] and second.marked == numbers[0]
    panel = source_html(stored, second)
    assert "<mark>" not in panel and "引用在第" in panel
    assert "<mark>" in source_html(stored, step(second, -1, stored))
    last = SourceTarget(doc_id, numbers[-1], numbers[-1], 0, 1)
    assert step(last, 1, stored) == last
    assert source_html(stored, None) == EMPTY_SOURCE
    assert not has_paragraph(stored, None, 1)


# --- report filter --------------------------------------------------------------------------


def test_report_choices_by_year(answerer):
    choices = report_choices(answerer.stored)
    assert [doc_id for _, doc_id in choices] == ["luohu-2021", "luohu-2015"]
    assert choices[0][0].startswith("2021年")


def test_ask_searches_only_the_chosen_reports(answerer):
    everything = answerer.ask(QUESTION, 5, None)
    assert {c.doc_id for c in everything.citations} == {"luohu-2021"}
    only_2015 = answerer.ask(QUESTION, 5, ["luohu-2015"])
    assert only_2015.passages and {p.doc_id for p in only_2015.passages} == {"luohu-2015"}
    assert {c.doc_id for c in only_2015.citations} <= {"luohu-2015"}
    assert [p.rank for p in only_2015.passages] == list(range(1, len(only_2015.passages) + 1))
    with pytest.raises(UsageError):
        answerer.ask(QUESTION, 5, [])


# --- follow-ups -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "previous", "expected"),
    [
        ("那2014年呢？", "2020年罗湖区一般公共预算收入是多少？", "2014年罗湖区一般公共预算收入是多少？"),
        ("2014年呢", "2020年罗湖区一般公共预算收入是多少？", "2014年罗湖区一般公共预算收入是多少？"),
        ("那么2015年的情况如何？", "2020年棚改签约率是多少？", "2015年棚改签约率是多少？"),
        ("那2014年呢？", "三公经费下降了多少？", "2014年三公经费下降了多少？"),
        ("那2014年呢？", "二〇二〇年财政收入多少？", "2014年财政收入多少？"),
        ("那2015年呢？", "去年财政收入多少？", "2015年财政收入多少？"),
        ("具体有哪些？", "罗湖2021年要新增多少学位？", "罗湖2021年要新增学位具体有哪些？"),
        ("有哪些措施？", "2014年三公经费下降了多少？", "2014年三公经费下降有哪些措施？"),
        ("那具体措施呢？", "棚改签约率是多少", "棚改签约率具体措施？"),
        ("怎么做的？", "如何优化营商环境？", "优化营商环境怎么做的？"),
        # complete questions, and follow-ups with nothing to follow, are left unchanged
        ("2014年三公经费下降了多少？", "2020年罗湖区一般公共预算收入是多少？", "2014年三公经费下降了多少？"),
        ("罗湖2021年要新增多少学位？", "2014年三公经费下降了多少？", "罗湖2021年要新增多少学位？"),
        ("2014年财政收入呢？", "2020年罗湖区一般公共预算收入是多少？", "2014年财政收入呢？"),
        ("有哪些民生实事项目已经完成？", "2014年三公经费下降了多少？", "有哪些民生实事项目已经完成？"),
        ("那2014年呢？", None, "那2014年呢？"),
        ("具体有哪些？", "", "具体有哪些？"),
        ("那么？", "三公经费下降了多少？", "那么？"),
    ],
)
def test_rewrite_follow_up(question, previous, expected):
    assert rewrite_follow_up(question, previous) == expected


def test_rewritten_question_is_shown_in_the_answer(answerer):
    question = rewrite_follow_up("那2014年呢？", "2020年罗湖区一般公共预算收入是多少？")
    message = format_answer(answerer.ask(question), answerer.stored, rewritten_from="那2014年呢？")
    assert message.startswith(f"*按上文理解为：{question}*")


# --- app.py ---------------------------------------------------------------------------------


def test_app_settings_and_offline_theme(monkeypatch):
    import app

    assert app.THEME._stylesheets == []  # no web-font stylesheet (Google Fonts) to fetch
    assert (load_settings(environ={}).host, load_settings(environ={}).port) == ("127.0.0.1", 7860)
    assert load_settings(environ={"GOVQA_PORT": "7999"}).port == 7999
    args = app.parse_args(["--host", "0.0.0.0", "--port", "8000"])
    assert (args.host, args.port) == ("0.0.0.0", 8000)
    assert app.parse_args([]).port is None  # falls back to the settings
    with pytest.raises(SettingsError):
        load_settings(environ={"GOVQA_PORT": "many"})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_api_endpoint_returns_the_cli_json(answerer):
    from gradio_client import Client

    import app

    demo = app.build_demo(answerer)
    port = free_port()
    app.launch(demo, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        result = client.predict(QUESTION, api_name="/ask")
        expected = json.loads(json.dumps(answerer.ask(QUESTION).to_dict()))
        assert result | {"elapsed_ms": 0} == expected | {"elapsed_ms": 0}
        with pytest.raises(Exception, match="问题太长"):
            client.predict("问" * 600, api_name="/ask")
        endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
        assert list(endpoints) == ["/ask"]
    finally:
        demo.close()


def test_sessions_kept_in_memory_are_bounded(answerer):
    # Every /ask call is a new Gradio session of about 65 KB: without a bound the app grew by
    # 50 MiB per 1,000 questions (README, Load).
    import app
    from eval.load import AskClient

    demo = app.build_demo(answerer)
    port = free_port()
    app.launch(demo, "127.0.0.1", port, max_sessions=2, prevent_thread_lock=True, quiet=True)
    try:
        client = AskClient(f"http://127.0.0.1:{port}/", timeout=30)
        for _ in range(4):
            assert client.ask(QUESTION)["found"]
        client.close()
        assert len(demo.state_holder.session_data) == 2
    finally:
        demo.close()


@pytest.mark.parametrize(
    ("question", "previous", "expected"),
    [
        ("投了多少辆？", "2014年罗湖投放公共自行车了吗？", "2014年罗湖投放公共自行车了吗？ 投了多少辆？"),
        ("还有别的措施吗？", "罗湖怎么治理水环境？", "罗湖怎么治理水环境？ 还有别的措施吗？"),
        ("危重病人抢救成功率呢？", "2014年门急诊量有多少？", "2014年门急诊量有多少？ 危重病人抢救成功率呢？"),
        # Complete questions stand alone: long enough to name their subject, or naming a year.
        ("罗湖2021年计划新建多少所学校？", "2014年三公经费下降了多少？", "罗湖2021年计划新建多少所学校？"),
        ("莲塘口岸什么时候开通的？", "2014年三公经费下降了多少？", "莲塘口岸什么时候开通的？"),
    ],
)
def test_elliptical_follow_ups_carry_the_previous_turn(question, previous, expected):
    assert rewrite_follow_up(question, previous) == expected
