"""A comparison's answer on the page (qa/chat.py and app.py's wiring), without a browser: the table in
the chat (one row per report, every text escaped, each quoted cell's [n] opening its own source) and
the CSV download of its rows (header, one line per report, BOM, formulas neutralised).

The fake index (conftest) holds the two 罗湖 reports, so 「罗湖区2014年和2020年的一般公共预算收入分别是
多少？」 compares them; stand-in answers cover what that index cannot (a report that does not state it,
a region the library lacks, markup and formulas in the text)."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from markdown_it import MarkdownIt
from test_chat import EVIL, assert_no_markup

from qa.answer import NOT_FOUND, Answer, Citation, Passage, Quote, citation_label
from qa.chat import (
    CSV_COLUMNS,
    answer_sources,
    citation_marker,
    comparison_csv,
    csv_file_name,
    escape_text,
    format_answer,
    source_html,
    spreadsheet_cell,
    write_comparison_csv,
)
from qa.compare import NOT_STATED, Row
from qa.rank import Ranking, RowFigure, describe

COMPARISON = "罗湖区2014年和2020年的一般公共预算收入分别是多少？"
SINGLE = "2020年罗湖区一般公共预算收入是多少？"
BOM = "\ufeff".encode()


def table_rows(message: str) -> list[str]:
    """The body rows of the Markdown table in a chat message."""
    lines = message.splitlines()
    head = lines.index("| 地区 | 年份 | 报告原文 |")
    body = []
    for line in lines[head + 2 :]:
        if not line.startswith("| "):
            break
        body.append(line)
    return body


def rendered_cells(message: str) -> list[list[str]]:
    """The table as a GFM renderer reads it: the HTML of each body cell, row by row."""
    html_text = MarkdownIt("commonmark", {"html": True}).enable("table").render(message)
    body = html_text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [re.findall(r"<td>(.*?)</td>", row, re.S) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def csv_lines(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


# --- stand-ins: a comparison of three reports, one not stating it, with markup and formulas ------


def stand_in_index() -> SimpleNamespace:
    reports = {
        doc_id: SimpleNamespace(doc_id=doc_id, title=title, region=region, year=2026, level="省")
        for doc_id, title, region in (
            ("a", f"=报告{EVIL}", f"+地区{EVIL}"),
            ("b", "乙省2026年政府工作报告", "乙省"),
            ("c", "@丙省报告", ""),
        )
    }
    paragraphs = {
        (doc_id, 3): SimpleNamespace(doc_id=doc_id, number=3, text=text, section="一、回顾", kind="body")
        for doc_id, text in (("a", f"开头。{EVIL}|结尾。"), ("b", "-5%的增长。其后。"), ("c", "无关。"))
    }
    return SimpleNamespace(reports=reports, paragraphs=paragraphs, chunks=[])


def stand_in_answer(question: str = f"=HYPERLINK(各省){EVIL}") -> Answer:
    stored = stand_in_index()
    a_text = stored.paragraphs[("a", 3)].text
    a_quote = f"{EVIL}|结尾。"
    b_quote = "-5%的增长。"
    b_text = stored.paragraphs[("b", 3)].text
    citations = (
        Citation(1, "a", f"=报告{EVIL}", 2026, f"+地区{EVIL}", "省", "一、回顾", 3, a_text, 3, len(a_text)),
        Citation(
            2, "b", "乙省2026年政府工作报告", 2026, "乙省", "省", "一、回顾", 3, b_text, 0, len(b_quote)
        ),
    )
    assert a_text[3:] == a_quote
    rows = (
        Row("a", f"+地区{EVIL}", 2026, True, a_quote, 1),
        Row("b", "乙省", 2026, True, b_quote, 2),
        Row("c", "", 2026, False, "", None),
    )
    return Answer(
        question,
        True,
        "unused",
        (Quote(a_quote, 1), Quote(b_quote, 2)),
        citations,
        (),
        1.0,
        f"报告库中没有江苏省{EVIL}的报告。",
        rows,
    )


# --- the table in the chat ----------------------------------------------------------------------


def test_comparison_is_a_table_with_a_clickable_marker_per_quoted_cell(answerer):
    answer = answerer.ask(COMPARISON)
    stored = answerer.stored
    assert answer.rows and {row.doc_id for row in answer.rows} == {"luohu-2015", "luohu-2021"}
    first = 4  # four sources offered earlier in the conversation
    message = format_answer(answer, stored, first_source=first)
    rows = table_rows(message)
    assert len(rows) == len(answer.rows)
    sources = [None] * first + [target for _, target in answer_sources(answer, stored)]
    for line, row in zip(rows, answer.rows, strict=True):
        assert line.startswith(f"| {escape_text(row.region)} | {row.year} | ")
        if not row.found:
            assert line.endswith(f"| {NOT_STATED} |") and "govqa-cite" not in line
            continue
        marker = citation_marker(row.citation, first)
        assert f"{escape_text(row.quote)} {marker} |" in line
        # The marker's source is this row's report, its paragraph with this row's quote marked.
        target = sources[int(re.search(r"govqa-source-(\d+)", marker).group(1))]
        assert target.doc_id == row.doc_id
        paragraph = stored.paragraphs[(target.doc_id, target.paragraph)]
        assert paragraph.text[target.start : target.end] == row.quote
        assert f"<mark>{row.quote}</mark>" in source_html(stored, target)
    for citation in answer.citations:
        assert f"[{citation.n}] {escape_text(citation_label(citation))}" in message
    # Parsed as a table: three cells a row, the quote's marker inside the third.
    cells = rendered_cells(message)
    assert [len(row) for row in cells] == [3] * len(answer.rows)
    assert all("govqa-cite" in row[2] for row, r in zip(cells, answer.rows, strict=True) if r.found)


def test_table_rows_keep_the_answer_s_order_and_name_no_winner(answerer):
    answer = answerer.ask(COMPARISON)
    message = format_answer(answer, answerer.stored, first_source=0)
    years = [int(line.split("|")[2]) for line in table_rows(message)]
    assert years == [row.year for row in answer.rows]
    assert "最" not in message  # the page states each report's words; it does not rank them


def test_table_escapes_every_text_and_says_what_is_missing():
    stored = stand_in_index()
    answer = stand_in_answer()
    message = format_answer(answer, stored, show_scores=True, rewritten_from="x", first_source=0)
    assert_no_markup(message)
    rows = table_rows(message)
    assert len(rows) == 3
    # A | in the text is an entity, so every row has exactly its four cell borders.
    assert [line.count("|") for line in rows] == [4, 4, 4]
    assert rows[0].startswith(f"| {escape_text(answer.rows[0].region)} | 2026 | ")
    assert "govqa-source-0" in rows[0] and "govqa-source-1" in rows[1]
    assert rows[2] == f"| {escape_text('@丙省报告')} | 2026 | {NOT_STATED} |"  # its title, for no region
    assert [len(row) for row in rendered_cells(message)] == [3, 3, 3]
    # Table, citations, then the note.
    table_at = message.index("| 地区 |")
    cites_at = message.index("<small>[1]")
    note_at = message.index(escape_text(answer.reason))
    assert table_at < cites_at < note_at


def test_a_comparison_no_report_states_says_so_above_its_table():
    stored = stand_in_index()
    passage = Passage(1, "c", "", "省", 3, "无关。", 0.1, 0, 3)
    rows = tuple(Row(doc_id, "", 2026, False, "", None) for doc_id in ("a", "b", "c"))
    answer = Answer("各省的火星基地？", False, "unused", (), (), (passage,), 1.0, "", rows)
    message = format_answer(answer, stored, first_source=0)
    assert message.index(NOT_FOUND) < message.index("| 地区 |") < message.index("可能相关")
    assert [line.endswith(f"| {NOT_STATED} |") for line in table_rows(message)] == [True] * 3
    assert "govqa-cite" not in message
    ((label, _),) = answer_sources(answer, stored)
    assert label.startswith("可能相关 1")


# --- the CSV ------------------------------------------------------------------------------------


def test_csv_has_a_line_per_report_with_its_citation(answerer, tmp_path):
    answer = answerer.ask(COMPARISON)
    stored = answerer.stored
    path = write_comparison_csv(answer, stored, tmp_path / "new")
    assert path.parent == tmp_path / "new" and path.suffix == ".csv"
    data = path.read_bytes()
    assert data.startswith(BOM) and not data[len(BOM) :].startswith(BOM)
    lines = csv_lines(data.decode("utf-8-sig"))
    assert lines[0] == list(CSV_COLUMNS)
    assert len(lines) == 1 + len(answer.rows)
    citations = {c.n: c for c in answer.citations}
    for line, row in zip(lines[1:], answer.rows, strict=True):
        cell = dict(zip(CSV_COLUMNS, line, strict=True))
        report = stored.reports[row.doc_id]
        assert (cell["地区"], cell["年份"], cell["报告"], cell["doc_id"]) == (
            row.region,
            str(row.year),
            report.title,
            row.doc_id,
        )
        if not row.found:
            assert cell["是否找到"] == "否" and cell["原文"] == cell["出处"] == cell["paragraph"] == ""
            continue
        citation = citations[row.citation]
        assert cell["是否找到"] == "是" and cell["原文"] == row.quote
        assert cell["出处"] == citation_label(citation)
        # The location checks out against the index: the paragraph's text[start:end] is the quote.
        paragraph = stored.paragraphs[(cell["doc_id"], int(cell["paragraph"]))]
        assert paragraph.text[int(cell["start"]) : int(cell["end"])] == row.quote
    assert data.count(b"\r\n") == len(lines)  # CRLF line ends, as spreadsheets expect


def test_csv_neutralises_formulas_and_keeps_text_as_text():
    stored = stand_in_index()
    answer = stand_in_answer()
    lines = csv_lines(comparison_csv(answer, stored))
    assert len(lines) == 4
    a, b, c = (dict(zip(CSV_COLUMNS, line, strict=True)) for line in lines[1:])
    assert a["地区"] == f"'+地区{EVIL}" and a["报告"] == f"'=报告{EVIL}"
    assert a["原文"] == f"{EVIL}|结尾。"  # markup stays text in a CSV: nothing there renders it
    assert b["原文"] == "'-5%的增长。" and b["出处"] == "乙省2026年政府工作报告 · 一、回顾 · 第3段"
    assert c["地区"] == "'@丙省报告" and c["是否找到"] == "否"
    for cell in (cell for line in lines for cell in line):
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+86", "'+86"),
        ("-5%", "'-5%"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("增长5%", "增长5%"),
        ("a=1", "a=1"),
        (2026, "2026"),
        (None, ""),
    ],
)
def test_spreadsheet_cell(value, expected):
    assert spreadsheet_cell(value) == expected


def test_csv_file_name_keeps_only_letters_and_digits_of_the_question(tmp_path):
    assert csv_file_name(COMPARISON) == "对比_罗湖区2014年和2020年的一般公共预算收入分别是多少.csv"
    assert csv_file_name("../../etc/passwd") == "对比_etcpasswd.csv"
    assert csv_file_name("？？？") == "对比.csv"
    assert len(csv_file_name("问" * 600)) == len("对比_.csv") + 40
    path = write_comparison_csv(stand_in_answer('=HYPERLINK("x")/../<b>'), stand_in_index(), tmp_path)
    assert path.parent == tmp_path and path.name == "对比_HYPERLINKxb.csv"


# --- app.py: the download button follows the latest answer ---------------------------------------


def file_path(update) -> Path:
    """The file a DownloadButton update offers (gradio gives its value as FileData)."""
    value = update.value
    return Path(value["path"] if isinstance(value, dict) else value)


def test_page_offers_the_latest_comparison_as_csv_only(answerer, fake_settings, tmp_path, monkeypatch):
    import gradio as gr

    import app

    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))  # gradio's cache, for this test only
    demo = app.build_demo(answerer)
    functions = {f.name: f.fn for f in demo.fns.values()}
    respond, clear, offer_table = functions["respond"], functions["clear"], functions["offer_table"]
    doc_ids = list(answerer.stored.reports)
    mine, other = SimpleNamespace(session_hash="mine"), SimpleNamespace(session_hash="other")
    assert offer_table(mine).visible is False  # nothing asked yet

    compared = respond(COMPARISON, [], None, doc_ids, 5, False, [], mine)
    assert len(compared) == 10  # the chat's outputs, as for a single answer
    assert "govqa-source-0" in compared[0][1]["content"] and "| 地区 |" in compared[0][1]["content"]
    download = offer_table(mine)
    assert download.visible is True
    path = file_path(download)
    assert path.resolve().is_relative_to((tmp_path / "gradio").resolve())  # served by gradio as it is
    assert not path.resolve().is_relative_to(Path(fake_settings.corpus_dir).resolve())
    lines = csv_lines(path.read_bytes().decode("utf-8-sig"))
    assert lines[0] == list(CSV_COLUMNS) and len(lines) == 1 + len(answerer.ask(COMPARISON).rows)
    assert offer_table(other).visible is False  # another page's session has its own latest answer

    # A failed question changes nothing; a single answer next hides the button, its message as before.
    warned: list[str] = []
    monkeypatch.setattr(gr, "Warning", lambda message, *args, **kwargs: warned.append(message))
    failed = respond("", compared[0], compared[3], doc_ids, 5, False, compared[4], mine)
    assert failed == (gr.skip(),) * 10 and "问题是空的" in warned[0]
    assert file_path(offer_table(mine)) == path
    single = respond(SINGLE, compared[0], compared[3], doc_ids, 5, False, compared[4], mine)
    assert offer_table(mine).visible is False
    assert "| 地区 |" not in single[0][-1]["content"]

    # Another comparison gets a file of its own (one offered earlier is never overwritten); 清空 hides it.
    again = respond(COMPARISON, [], None, doc_ids, 5, False, [], mine)
    assert file_path(offer_table(mine)) != path and path.is_file() and again[0]
    clear(mine)
    assert offer_table(mine).visible is False


def test_latest_tables_are_bounded_like_sessions():
    import app

    tables = app.LatestTables(2)
    for session in ("a", "b", "c"):
        tables.set(session, f"/{session}.csv")
    assert [tables.get(s) for s in ("a", "b", "c")] == [None, "/b.csv", "/c.csv"]
    tables.set("b", None)
    assert tables.get("b") is None


def test_a_ranking_names_its_winner_under_the_table_with_clickable_figures():
    stored = stand_in_index()
    figures = (
        RowFigure("a", f"+地区{EVIL}", 1, "3%", 3.0, 3.0, "%", ("review", False), 1.0),
        RowFigure("b", "乙省", 2, "5%", 5.0, 5.0, "%", ("review", False), 1.0),
    )
    ranking = Ranking("最快", ("b",), figures, ("@丙省报告",), "", "")
    answer = dataclasses.replace(
        stand_in_answer(), ranking=dataclasses.replace(ranking, said=describe(ranking))
    )
    message = format_answer(answer, stored, first_source=0)
    assert_no_markup(message)
    said = describe(ranking, lambda n: citation_marker(n, 0), escape_text)
    assert said in message and "这2行中最快的是乙省" in said
    # Each figure's marker opens its row's source, as the row's own marker does.
    assert f"乙省（5% {citation_marker(2, 0)}" in said
    assert message.index("<small>[1]") < message.index(said) < message.index(escape_text(answer.reason))
