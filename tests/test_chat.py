"""The chat page's logic (qa/chat.py) and app.py's wiring, without a browser."""

from __future__ import annotations

import json
import socket
from types import SimpleNamespace

import pytest

from index.errors import SettingsError, UsageError
from index.settings import load_settings
from qa.answer import NOT_FOUND, Answer, Citation, Passage, Quote, citation_label
from qa.chat import (
    EMPTY_SOURCE,
    UNKNOWN_REGION,
    SourceTarget,
    answer_sources,
    citation_marker,
    escape_text,
    example_questions,
    format_answer,
    has_paragraph,
    library_summary,
    library_table,
    period_text,
    region_choices,
    rewrite_follow_up,
    scope_note,
    selected_doc_ids,
    source_html,
    step,
    user_message,
    year_choices,
)

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>[点我](javascript:alert(1))**粗**'
SECTION = f"一、章{EVIL} > 节<b>"
QUESTION = "2020年罗湖区一般公共预算收入是多少？"


def evil_index() -> SimpleNamespace:
    """A stand-in StoredIndex whose report and paragraphs carry markup."""
    report = SimpleNamespace(
        title=f"报告{EVIL}",
        year=2021,
        reviews=2020,
        plans=(2021,),
        doc_id="evil",
        region=f"地区{EVIL}",
        level="",
        review_period=None,
        plan_period=None,
    )
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
        1,
        "evil",
        f"报告{EVIL}",
        2021,
        f"地区{EVIL}",
        "",
        f"一、章{EVIL} > 节<b>",
        2,
        text,
        start,
        start + len(EVIL),
    )
    passage = Passage(1, "evil", f"地区{EVIL}", "", 2, EVIL, 0.5, 0, len(EVIL))
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
        assert f"[{citation.n}] {escape_text(citation_label(citation))}" in message
        assert f"第{citation.paragraph}段" in message
    assert NOT_FOUND not in message
    assert "检索得分" not in message
    scored = format_answer(answer, answerer.stored, show_scores=True)
    assert "检索得分" in scored and f"{answer.passages[0].score:.4f}" in scored


def test_not_found_answer_says_so_and_offers_related_passages(answerer):
    stored = answerer.stored
    doc_id, number = next(iter(stored.paragraphs))
    paragraph = stored.paragraphs[(doc_id, number)]
    report = stored.reports[doc_id]
    passage = Passage(1, doc_id, report.region, report.level, number, paragraph.text[:10], 0.1, 0, 10)
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


# --- the library: facets, summary, table, examples -------------------------------------------


def library_report(doc_id: str, region: str, level: str, year: int, **fields) -> SimpleNamespace:
    """A stand-in Report: only the fields the facets read."""
    defaults = {"title": f"{region}{year}年政府工作报告", "reviews": year - 1, "plans": (year,)}
    return SimpleNamespace(
        doc_id=doc_id,
        region=region,
        level=level,
        year=year,
        review_period=None,
        plan_period=None,
        **(defaults | fields),
    )


LIBRARY = [
    library_report("zj-2026", "浙江省", "省", 2026),
    library_report("hn-2026", "湖南省", "省", 2026),
    library_report("luohu-2021", "深圳市罗湖区", "区县", 2021),
    library_report("luohu-2015", "深圳市罗湖区", "区县", 2015),
    library_report("odd", "", "", 2021, reviews=None, plans=()),
    library_report("gov-2026", "中华人民共和国", "国家", 2026),
]


def test_region_choices_by_level_then_official_order_with_counts():
    assert region_choices(LIBRARY) == [
        ("中华人民共和国（1份）", "中华人民共和国"),
        ("浙江省（1份）", "浙江省"),  # 330000 before 湖南省 430000
        ("湖南省（1份）", "湖南省"),
        ("深圳市罗湖区（2份）", "深圳市罗湖区"),
        (f"{UNKNOWN_REGION}（1份）", UNKNOWN_REGION),
    ]


def test_year_choices_newest_first_with_counts():
    assert year_choices(LIBRARY) == [
        ("2026年（3份）", 2026),
        ("2021年（2份）", 2021),
        ("2015年（1份）", 2015),
    ]


@pytest.mark.parametrize(
    ("regions", "years", "expected"),
    [
        (
            [],
            [],
            ["zj-2026", "hn-2026", "luohu-2021", "luohu-2015", "odd", "gov-2026"],
        ),  # nothing chosen: all
        (None, None, ["zj-2026", "hn-2026", "luohu-2021", "luohu-2015", "odd", "gov-2026"]),
        (["深圳市罗湖区"], [], ["luohu-2021", "luohu-2015"]),
        (["深圳市罗湖区"], [2021], ["luohu-2021"]),  # region AND year
        (["深圳市罗湖区", "浙江省"], ["2026", 2015], ["zj-2026", "luohu-2015"]),  # a year may come as text
        ([UNKNOWN_REGION], [], ["odd"]),
        ([], [2021], ["luohu-2021", "odd"]),
        (["浙江省"], [2015], []),  # matches nothing: the page warns instead of asking
    ],
)
def test_selected_doc_ids(regions, years, expected):
    assert selected_doc_ids(LIBRARY, regions, years) == expected


def test_scope_note():
    assert scope_note(6, 6) == "将检索全部 6 份报告。"
    assert scope_note(2, 6) == "将检索 2 / 6 份报告。"
    assert "没有符合条件的报告" in scope_note(0, 6)


def test_library_summary_names_regions_and_folds_a_long_list():
    assert library_summary(LIBRARY) == escape_text(
        "报告库：6 份报告 · 地区：中华人民共和国、浙江省、湖南省、深圳市罗湖区、未知地区 · 年份：2015–2026"
    )
    many = [library_report(f"r{i}", f"第{i}号地区", "", 2026) for i in range(20)]
    summary = library_summary(many)
    assert summary.count("、") == 5 and "等20个地区" in summary and "年份：2026" in summary
    assert_no_markup(library_summary([library_report("evil", EVIL, "", 2021)]))


def test_five_year_plan_names():
    assert period_text((2021, 2025)) == "“十四五”2021–2025"
    assert period_text((2026, 2030)) == "“十五五”2026–2030"
    assert period_text((2001, 2005)) == "“十五”2001–2005"
    assert period_text((1953, 1957)) == "“一五”1953–1957"
    assert period_text((1966, 1970)) == "“三五”1966–1970"  # after 1963–1965's readjustment
    assert period_text((2022, 2026)) == "2022–2026"  # not a plan's period
    assert period_text(None) == ""


def test_library_table_lists_every_report_with_its_metadata(answerer):
    table = library_table(answerer.stored)
    assert table.count("<tr>") == 1 + len(answerer.stored.reports)
    for header in ("标题", "地区", "级别", "年份", "回顾", "规划", "段落数"):
        assert f"<th>{header}</th>" in table
    paragraphs = sum(1 for doc_id, _ in answerer.stored.paragraphs if doc_id == "luohu-2021")
    row = next(r for r in table.split("<tr>") if "罗湖区2021年政府工作报告" in r)
    assert "<td>深圳市罗湖区</td><td>区县</td><td>2021年</td><td>2020年</td>" in row
    assert f"<td>{paragraphs}</td>" in row
    evil = evil_index()
    evil.reports["evil"].plan_period = (2021, 2025)
    evil_table = library_table(evil)
    assert_no_markup(evil_table, markdown=False)
    assert "&lt;script&gt;" in evil_table and "<td>2021年；“十四五”2021–2025</td>" in evil_table
    assert f"<td>{UNKNOWN_REGION}</td>" not in evil_table  # its region, escaped, is named


def test_example_questions_come_from_the_library(answerer):
    examples = example_questions(answerer.stored)
    assert examples and all(q.startswith("罗湖") for q in examples)  # short name of 深圳市罗湖区
    assert len(examples) == 1  # one per region: the library has one
    assert "2021" in examples[0] or "2020" in examples[0]  # the newest report's years


def test_example_questions_ask_only_what_a_report_speaks_of():
    def paragraph(doc_id: str, text: str) -> tuple[tuple[str, int], SimpleNamespace]:
        return (doc_id, 1), SimpleNamespace(doc_id=doc_id, number=1, text=text, section="", kind="body")

    reports = [
        library_report("zj", "浙江省", "省", 2026),
        library_report("hn", "湖南省", "省", 2026),
        library_report("none", "湖北省", "省", 2026),
        library_report("odd", "", "", 2026),
    ]
    stored = SimpleNamespace(
        reports={r.doc_id: r for r in reports},
        paragraphs=dict(
            [
                paragraph("zj", "全省一般公共预算收入增长3%。"),
                paragraph("hn", "城镇新增就业70万人。"),
                paragraph("none", "没有任何模板的主题。"),
                paragraph("odd", "一般公共预算收入增长5%。"),
            ]
        ),
    )
    assert example_questions(stored) == [
        "浙江2025年一般公共预算收入是多少？",
        "湖南2026年城镇新增就业目标是多少？",
    ]


def test_clickable_markers_name_their_place_in_the_conversation(answerer):
    answer = answerer.ask(QUESTION)
    assert citation_marker(2) == "**[2]**"
    message = format_answer(answer, answerer.stored, first_source=7)
    for quote in answer.quotes:
        marker = citation_marker(quote.citation, 7)
        assert f"> {escape_text(quote.text)} {marker}" in message
        assert f"govqa-source-{6 + quote.citation}" in marker and f"[{quote.citation}]" in marker
    assert_no_markup(format_answer(evil_answer(), evil_index(), first_source=0))


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


def test_page_is_titled_for_a_library_and_filters_by_region_and_year(answerer):
    import app

    demo = app.build_demo(answerer)
    assert demo.title == "政府工作报告问答"
    functions = {f.name: f.fn for f in demo.fns.values()}
    assert functions["scope"](["深圳市罗湖区"], [2015]) == ["luohu-2015"]
    assert functions["scope"]([], []) == ["luohu-2021", "luohu-2015"]
    assert functions["note"](["浙江省"], []) == scope_note(0, 2)
    dropdowns = {b.label: b for b in demo.blocks.values() if type(b).__name__ == "Dropdown"}
    assert dropdowns["地区"].choices == [("深圳市罗湖区（2份）", "深圳市罗湖区")]
    assert dropdowns["地区"].multiselect and dropdowns["地区"].filterable
    assert [value for _, value in dropdowns["年份"].choices] == [2021, 2015]


def test_argparse_description_is_generic(capsys):
    import app

    with pytest.raises(SystemExit):
        app.parse_args(["--help"])
    assert "政府工作报告问答" in capsys.readouterr().out


def test_page_markers_open_their_own_answer_s_sources(answerer):
    import app

    demo = app.build_demo(answerer)
    functions = {f.name: f.fn for f in demo.fns.values()}
    respond, open_marker = functions["respond"], functions["open_marker"]
    doc_ids = list(answerer.stored.reports)
    first = respond(QUESTION, [], None, doc_ids, 5, False, [])
    history, sources = first[0], first[4]
    second = respond("2014年三公经费下降了多少？", history, first[3], doc_ids, 5, False, sources)
    all_sources = second[4]
    assert all_sources[: len(sources)] == sources  # the earlier answer's sources stay reachable
    assert [value for _, value in second[5].choices] == [
        str(i) for i in range(len(sources), len(all_sources))
    ]
    assert "govqa-source-0" in history[1]["content"]
    assert f"govqa-source-{len(sources)}" in second[0][3]["content"]
    target, panel, *_, radio_value = open_marker("0", all_sources)
    assert target == sources[0] and "<mark>" in panel and radio_value == "0"
    for stale in ("", "-1", "99", None):
        assert open_marker(stale, all_sources)[0] is None
