"""The chat page's logic, without the page: testable with no browser and no gradio.

In: an ``Answerer`` and its ``Answer`` objects, the loaded index's reports, the user's text, the
page's settings.
Out: chat messages (Markdown whose every piece of question or report text is escaped; each quote's
[n] marker carries the number of its source so a click on it can open that source; a comparison's
answer is a table, one row per report, each quoted cell with its marker), a comparison's rows as a
CSV file for spreadsheets (``comparison_csv``, ``write_comparison_csv``), the 「来源」
panel's HTML (the whole paragraph, the quote in <mark>; for a PDF report its page and a link to the
original opened at that page), the list of sources a user can pick, the library's facets (regions
and years with their report counts, the reports a selection leaves), its summary line, table and
example questions, and follow-up questions rewritten into complete ones by fixed rules (no
language model).

Escaping: ``escape_text`` runs ``html.escape`` and then turns the characters Markdown gives a
meaning to into numeric entities, so neither typed nor indexed text can add a tag, a link or
emphasis to the page. Everything this module returns goes through it, except the fixed markup
it writes itself.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from index.corpus import Report
from index.metadata import period_text
from index.regions import LEVELS, by_full_name, is_common_word, lookup, short_name
from index.store import StoredIndex
from qa.answer import NOT_FOUND, Answer, Citation, citation_label, report_label
from qa.compare import NOT_STATED, Row
from qa.rank import describe

# ---------------------------------------------------------------------------------------------
# Escaping

# Characters Markdown (and the chat's LaTeX/emphasis rendering) treat as syntax.
_MARKDOWN_SPECIALS = {ch: f"&#{ord(ch)};" for ch in "\\`*_{}[]()#+-!|~$:"}
_MARKDOWN_TABLE = str.maketrans(_MARKDOWN_SPECIALS)


def escape_text(text: str) -> str:
    """``text`` safe inside HTML and Markdown: html.escape, then Markdown syntax as entities."""
    return html.escape(str(text), quote=True).translate(_MARKDOWN_TABLE)


def escape_html(text: str) -> str:
    """``text`` safe inside HTML (the source panel is HTML, not Markdown)."""
    return html.escape(str(text), quote=True)


# ---------------------------------------------------------------------------------------------
# The library: facets to narrow a question to some reports, a summary and a table of them

UNKNOWN_REGION = "未知地区"
SUMMARY_REGIONS = 6  # regions named in the summary line before the rest fold into 「等N个地区」
EXAMPLE_COUNT = 4
# Generic questions and the phrase a report must contain for the question to be put to it: an
# example is only offered where the report speaks of its subject.
EXAMPLE_TEMPLATES: tuple[tuple[str, str], ...] = (
    ("一般公共预算收入", "{region}{reviews}年一般公共预算收入是多少？"),
    ("主要预期目标", "{region}{plan}年经济社会发展的主要预期目标是什么？"),
    ("城镇新增就业", "{region}{plan}年城镇新增就业目标是多少？"),
    ("民生实事", "{region}{plan}年要办哪些民生实事？"),
    ("地区生产总值", "{region}{reviews}年地区生产总值增长多少？"),
)


def region_of(report: Report) -> str:
    """The report's region as the facets name it: its full name, or 「未知地区」."""
    return report.region or UNKNOWN_REGION


def _level_rank(level: str) -> int:
    """国家 0, 省 1, 市 2, 区县 3; an unknown level after them."""
    return LEVELS.index(level) if level in LEVELS else len(LEVELS)  # type: ignore[arg-type]


def _region_order(reports: Iterable[Report]) -> list[tuple[str, int]]:
    """(region, report count), higher levels first (国家, 省, 市, 区县), then in the official order
    of division codes (北京市, 天津市, 河北省…; names not in the table by name); unknown last."""
    counts: dict[str, int] = {}
    levels: dict[str, int] = {}
    for report in reports:
        region = region_of(report)
        counts[region] = counts.get(region, 0) + 1
        rank = _level_rank(report.level)
        levels[region] = min(levels.get(region, rank), rank)
    if UNKNOWN_REGION in levels:
        levels[UNKNOWN_REGION] = len(LEVELS) + 1

    def order(item: tuple[str, int]) -> tuple[int, str, str]:
        division = by_full_name(item[0]) if item[0] != UNKNOWN_REGION else None
        return (levels[item[0]], division.code if division else "999999", item[0])

    return sorted(counts.items(), key=order)


def region_choices(reports: Iterable[Report]) -> list[tuple[str, str]]:
    """(label, region) for the 「地区」 filter: 「浙江省（1份）」, by level then name."""
    return [(f"{region}（{count}份）", region) for region, count in _region_order(reports)]


def year_choices(reports: Iterable[Report]) -> list[tuple[str, int]]:
    """(label, year delivered) for the 「年份」 filter, newest first: 「2026年（15份）」."""
    counts: dict[int, int] = {}
    for report in reports:
        counts[report.year] = counts.get(report.year, 0) + 1
    return [(f"{year}年（{count}份）", year) for year, count in sorted(counts.items(), reverse=True)]


def selected_doc_ids(
    reports: Iterable[Report], regions: Iterable[str] | None, years: Iterable[int | str] | None
) -> list[str]:
    """Ids of the reports in one of ``regions`` and delivered in one of ``years``; an empty (or
    None) selection of either does not filter. The order of ``reports`` is kept."""
    wanted_regions = set(regions or ())
    wanted_years = {int(year) for year in years or ()}
    return [
        r.doc_id
        for r in reports
        if (not wanted_regions or region_of(r) in wanted_regions)
        and (not wanted_years or r.year in wanted_years)
    ]


def scope_note(count: int, total: int) -> str:
    """What the filters leave to search, under them (plain text)."""
    if count == 0:
        return "没有符合条件的报告：请更改地区或年份。"
    return f"将检索全部 {total} 份报告。" if count == total else f"将检索 {count} / {total} 份报告。"


def library_summary(reports: Iterable[Report]) -> str:
    """The line under the page title (Markdown, escaped): 「报告库：17 份报告 · 地区：河北省、河南省…
    等16个地区 · 年份：2015–2026」."""
    reports = list(reports)
    regions = [region for region, _ in _region_order(reports)]
    shown = "、".join(regions[:SUMMARY_REGIONS])
    if len(regions) > SUMMARY_REGIONS:
        shown += f"等{len(regions)}个地区"
    first, last = min(r.year for r in reports), max(r.year for r in reports)
    years = str(first) if first == last else f"{first}–{last}"
    return escape_text(f"报告库：{len(reports)} 份报告 · 地区：{shown} · 年份：{years}")


def _covered(years: Iterable[int], period: tuple[int, int] | None) -> str:
    parts = ["、".join(f"{year}年" for year in years), period_text(period)]
    return "；".join(p for p in parts if p) or "—"


def library_table(stored: StoredIndex) -> str:
    """The 「报告库」 view: one row per report with its metadata (HTML, all text escaped)."""
    paragraphs: dict[str, int] = {}
    for doc_id, _ in stored.paragraphs:
        paragraphs[doc_id] = paragraphs.get(doc_id, 0) + 1
    order = {region: i for i, (region, _) in enumerate(_region_order(stored.reports.values()))}
    reports = sorted(stored.reports.values(), key=lambda r: (order[region_of(r)], -r.year, r.doc_id))
    head = "".join(f"<th>{name}</th>" for name in ("标题", "地区", "级别", "年份", "回顾", "规划", "段落数"))
    rows = []
    for r in reports:
        reviews = _covered([r.reviews] if r.reviews is not None else [], r.review_period)
        cells = (
            r.title,
            region_of(r),
            r.level or "—",
            f"{r.year}年",
            reviews,
            _covered(r.plans, r.plan_period),
            str(paragraphs.get(r.doc_id, 0)),
        )
        rows.append("<tr>" + "".join(f"<td>{escape_html(cell)}</td>" for cell in cells) + "</tr>")
    return (
        '<div class="govqa-library"><table>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody>"
        "</table></div>"
    )


def _short_region(report: Report) -> str:
    region = by_full_name(report.region) if report.region else None
    return region.short if region else short_name(report.region)


def example_questions(stored: StoredIndex, count: int = EXAMPLE_COUNT) -> list[str]:
    """A few questions the library can be asked, from generic templates filled with a report's short
    region name and years: one per region, newest reports first, each only where the report mentions
    the template's subject. Reports of unknown region are left out (a question must name a place)."""
    texts: dict[str, list[str]] = {}
    for (doc_id, _), paragraph in stored.paragraphs.items():
        texts.setdefault(doc_id, []).append(paragraph.text)
    order = {region: i for i, (region, _) in enumerate(_region_order(stored.reports.values()))}
    reports = sorted(
        (r for r in stored.reports.values() if r.region), key=lambda r: (-r.year, order[r.region], r.doc_id)
    )
    examples: list[str] = []
    used_regions: set[str] = set()
    for report in reports:
        if len(examples) >= count:
            break
        if report.region in used_regions:
            continue
        text = "\n".join(texts.get(report.doc_id, ()))
        for offset in range(len(EXAMPLE_TEMPLATES)):
            # Rotating the templates gives each region a different kind of question.
            subject, template = EXAMPLE_TEMPLATES[(len(examples) + offset) % len(EXAMPLE_TEMPLATES)]
            if (
                subject not in text
                or ("{reviews}" in template and report.reviews is None)
                or ("{plan}" in template and not report.plans)
            ):
                continue
            examples.append(
                template.format(
                    region=_short_region(report),
                    reviews=report.reviews,
                    plan=report.plans[0] if report.plans else "",
                )
            )
            used_regions.add(report.region)
            break
    return examples


# ---------------------------------------------------------------------------------------------
# The chat message for an answer


def source_label(stored: StoredIndex, doc_id: str, paragraph: int) -> str:
    """report title · last section segment · 第N段 (plain text, not escaped)."""
    report = stored.reports.get(doc_id)
    title = report_label(report.title, report.region) if report else doc_id
    para = stored.paragraphs.get((doc_id, paragraph))
    section = para.section.split(" > ")[-1] if para and para.section else ""
    return " · ".join(p for p in (title, section, f"第{paragraph}段") if p)


def citation_marker(n: int, first_source: int | None = None) -> str:
    """The 「[n]」 after a quote (fixed markup: ``n`` and ``first_source`` are numbers). With
    ``first_source`` (where this answer's sources start in the conversation's list of sources) the
    marker names its source, ``first_source + n - 1``, for the page's click handler: in a class,
    since the chat's HTML sanitiser drops data attributes but keeps classes."""
    if first_source is None:
        return f"**[{n}]**"
    source = int(first_source) + int(n) - 1
    return (
        f'<span class="govqa-cite govqa-source-{source}" role="button" tabindex="0" '
        f'title="查看原文"><strong>[{int(n)}]</strong></span>'
    )


def format_answer(
    answer: Answer,
    stored: StoredIndex,
    show_scores: bool = False,
    rewritten_from: str | None = None,
    first_source: int | None = None,
) -> str:
    """The assistant's chat message (Markdown, all text escaped). ``first_source``: see
    ``citation_marker``; None leaves the markers plain. A comparison (``answer.rows``) is a table:
    see ``comparison_parts``."""
    parts: list[str] = []
    if rewritten_from is not None:
        parts.append(f"*按上文理解为：{escape_text(answer.question)}*")
    if answer.rows:
        parts.extend(comparison_parts(answer, stored, first_source))
    elif answer.found:
        for quote in answer.quotes:
            parts.append(f"> {escape_text(quote.text)} {citation_marker(quote.citation, first_source)}")
        parts.append(citation_list(answer.citations))
    else:
        parts.extend(_not_found_parts(answer, stored))
    if show_scores and answer.passages:
        lines = ["检索得分："]
        for p in answer.passages:
            label = escape_text(source_label(stored, p.doc_id, p.paragraph))
            lines.append(f"{p.rank}. {label} — {p.score:.4f}")
        parts.append("<small>" + "<br>".join(lines) + "</small>")
    return "\n\n".join(parts)


def citation_list(citations: Iterable[Citation]) -> str:
    """「[n] report · section · 第N段」, one a line, small (escaped)."""
    cites = "<br>".join(f"[{c.n}] {escape_text(citation_label(c))}" for c in citations)
    return f"<small>{cites}</small>"


def _not_found_parts(answer: Answer, stored: StoredIndex) -> list[str]:
    """「报告中没有找到…」 with the reason, then up to three related passages."""
    parts = [f"**{escape_text(NOT_FOUND)}**" + (escape_text(answer.reason) if answer.reason else "")]
    if answer.passages:
        lines = ["可能相关："]
        for p in answer.passages[:3]:
            label = escape_text(source_label(stored, p.doc_id, p.paragraph))
            lines.append(f"- {label}：{escape_text(_shorten(p.text, 80))}")
        parts.append("\n".join(lines))
    return parts


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def user_message(text: str) -> str:
    """The user's chat bubble: their text, escaped."""
    return escape_text(text)


# ---------------------------------------------------------------------------------------------
# Comparisons: a table in the chat, and its rows as a CSV file

TABLE_HEAD = "| 地区 | 年份 | 报告原文 |\n| --- | --- | --- |"
CSV_COLUMNS = ("地区", "年份", "报告", "是否找到", "原文", "出处", "doc_id", "paragraph", "start", "end")
# A spreadsheet reads a cell starting with one of these as a formula (=HYPERLINK(…), +cmd|…, @SUM);
# tab and carriage return too (OWASP's list), as some apps strip them and read what follows.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_NAME_CHARS = 40  # characters of the question kept in the CSV file's name


def row_label(row: Row, stored: StoredIndex) -> str:
    """The report's region, or its title when its region is unknown (plain text)."""
    if row.region:
        return row.region
    report = stored.reports.get(row.doc_id)
    return report_label(report.title, report.region) if report else row.doc_id


def _table_cell(text: str) -> str:
    """Text safe in one cell of a Markdown table: escaped (``|`` too, so it cannot end the cell) and
    on one line (a line break would end the row)."""
    return escape_text(" ".join(str(text).split()))


def comparison_table(answer: Answer, stored: StoredIndex, first_source: int | None = None) -> str:
    """The comparison's Markdown table: one row per report, in the answer's order (never re-ordered
    nor ranked: the page states what each report says, and a person compares), with its region, its
    year and its quote with the [n] marker (``citation_marker``), or 「未找到」."""
    lines = [TABLE_HEAD]
    for row in answer.rows:
        if row.found and row.citation is not None:
            said = f"{_table_cell(row.quote)} {citation_marker(row.citation, first_source)}"
        else:
            said = escape_text(NOT_STATED)
        year = int(row.year) if row.year else ""
        lines.append(f"| {_table_cell(row_label(row, stored))} | {year} | {said} |")
    return "\n".join(lines)


def comparison_parts(answer: Answer, stored: StoredIndex, first_source: int | None = None) -> list[str]:
    """A comparison's message parts: the table, the citations, the ranking of a 「哪个…最高」 question
    (its figures' markers clickable too), then the note (the regions named that the library has no
    report of). When no report states it: 「报告中没有找到…」 and the note first,
    the table of 「未找到」 rows, then the related passages (which 「可能相关」 then offers)."""
    table = comparison_table(answer, stored, first_source)
    if not answer.found:
        first, *related = _not_found_parts(answer, stored)
        return [first, table, *related]
    parts = [table, citation_list(answer.citations)]
    if answer.ranking:
        parts.append(describe(answer.ranking, lambda n: citation_marker(n, first_source), escape_text))
    if answer.reason:
        parts.append(escape_text(answer.reason))
    return parts


def spreadsheet_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: a leading formula character gets a ' before it."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def comparison_rows(answer: Answer, stored: StoredIndex) -> list[list[str]]:
    """One CSV row per compared report (``CSV_COLUMNS``): region, year, report title, 是/否, the
    quote, where it is (title · section · 第N页 · 第N段), and the id, paragraph and character span
    that locate the quote in the index; the last four left empty for a report that does not state it."""
    citations = {c.n: c for c in answer.citations}
    rows = []
    for row in answer.rows:
        report = stored.reports.get(row.doc_id)
        cited = citations.get(row.citation) if row.found and row.citation is not None else None
        title = report.title if report else (cited.title if cited else "")
        located = (citation_label(cited), cited.paragraph, cited.start, cited.end) if cited else ("",) * 4
        cells = (
            row_label(row, stored),
            row.year or "",
            title,
            "是" if cited else "否",
            row.quote if cited else "",
            located[0],
            row.doc_id,
            *located[1:],
        )
        rows.append([spreadsheet_cell(cell) for cell in cells])
    return rows


def comparison_csv(answer: Answer, stored: StoredIndex) -> str:
    """The comparison's rows as CSV text (header first, lines ended by CRLF, as spreadsheets expect);
    ``write_comparison_csv`` adds the BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(comparison_rows(answer, stored))
    return buffer.getvalue()


def csv_file_name(question: str) -> str:
    """「对比_罗湖区2014年和2020年的一般公共预算收入分别是多少.csv」: the question's letters and digits
    only, so no path or markup can come from it."""
    kept = re.sub(r"\W+", "", question)[:CSV_NAME_CHARS].strip("_")
    return f"对比_{kept}.csv" if kept else "对比.csv"


def write_comparison_csv(answer: Answer, stored: StoredIndex, folder: Path) -> Path:
    """Write the comparison's CSV into ``folder`` (created) and return its path. UTF-8 with a BOM:
    without it Excel reads the file in the system's code page and the Chinese is garbled."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / csv_file_name(answer.question)
    path.write_bytes(comparison_csv(answer, stored).encode("utf-8-sig"))
    return path


# ---------------------------------------------------------------------------------------------
# Sources: what the 「来源」 panel shows


@dataclass(frozen=True)
class SourceTarget:
    """A paragraph to show, and the span to highlight when that paragraph is the cited one."""

    doc_id: str
    paragraph: int  # the paragraph shown now
    marked: int  # the paragraph the highlight belongs to
    start: int
    end: int
    label: str = ""  # e.g. "[1]" or "可能相关 2"


def answer_sources(answer: Answer, stored: StoredIndex) -> list[tuple[str, SourceTarget]]:
    """(choice label, target) for each citation; for a not-found answer, each related passage."""
    sources: list[tuple[str, SourceTarget]] = []
    if answer.found:
        for c in answer.citations:
            target = SourceTarget(c.doc_id, c.paragraph, c.paragraph, c.start, c.end, f"[{c.n}]")
            sources.append((f"[{c.n}] {citation_label(c)}", target))
        return sources
    for p in answer.passages:
        para = stored.paragraphs.get((p.doc_id, p.paragraph))
        start = para.text.find(p.text) if para else -1
        start, end = (start, start + len(p.text)) if start >= 0 else (0, 0)
        label = f"可能相关 {p.rank}"
        target = SourceTarget(p.doc_id, p.paragraph, p.paragraph, start, end, label)
        sources.append((f"{label} · {source_label(stored, p.doc_id, p.paragraph)}", target))
    return sources


def step(target: SourceTarget, delta: int, stored: StoredIndex) -> SourceTarget:
    """The target moved ``delta`` paragraphs within its report; unchanged at either end."""
    number = target.paragraph + delta
    if (target.doc_id, number) not in stored.paragraphs:
        return target
    return SourceTarget(target.doc_id, number, target.marked, target.start, target.end, target.label)


def has_paragraph(stored: StoredIndex, target: SourceTarget | None, delta: int) -> bool:
    return target is not None and (target.doc_id, target.paragraph + delta) in stored.paragraphs


EMPTY_SOURCE = (
    '<div class="govqa-source govqa-empty">提问后，在「引用」里选择一条，这里显示它在报告中的原文段落。</div>'
)


def source_html(stored: StoredIndex, target: SourceTarget | None) -> str:
    """The 「来源」 panel: report and year, section path, paragraph number, the paragraph with the
    quote in <mark> (when the shown paragraph is the cited one). All text escaped."""
    if target is None:
        return EMPTY_SOURCE
    report = stored.reports.get(target.doc_id)
    para = stored.paragraphs.get((target.doc_id, target.paragraph))
    if report is None or para is None:
        return '<div class="govqa-source govqa-empty">找不到这一段。</div>'
    total = sum(1 for doc_id, _ in stored.paragraphs if doc_id == target.doc_id)
    text = para.text
    if target.paragraph == target.marked and 0 <= target.start < target.end <= len(text):
        body = (
            escape_html(text[: target.start])
            + "<mark>"
            + escape_html(text[target.start : target.end])
            + "</mark>"
            + escape_html(text[target.end :])
        )
    else:
        body = escape_html(text)
    section = " › ".join(escape_html(s) for s in para.section.split(" > ")) if para.section else "（无章节）"
    offset = target.paragraph - target.marked
    where = ""
    if offset:
        where = f"（引用段落{'后' if offset > 0 else '前'}第{abs(offset)}段，引用在第{target.marked}段）"
    label = f'<span class="govqa-tag">{escape_html(target.label)}</span> ' if target.label else ""
    # A PDF report's page (other reports have no pages): of the quote in the cited paragraph, else of
    # the paragraph's start; with a link to the original opened at that page.
    page = None
    if getattr(report, "pages", ()):
        quoted = target.paragraph == target.marked and 0 <= target.start < len(text)
        page = report.page_at(para.start + (target.start if quoted else 0))
    page_text = f"第{page}页 · " if page else ""
    link = original_link(report, page) if page else None
    if link:
        attributes = f'href="{escape_html(link)}" target="_blank" rel="noopener noreferrer"'
        page_text += f"<a {attributes}>查看PDF原件</a> · "
    return (
        '<div class="govqa-source">'
        f'<div class="govqa-title">{label}{escape_html(report_label(report.title, report.region))}'
        f"（{report.year}年）</div>"
        f'<div class="govqa-meta">章节：{section}</div>'
        f'<div class="govqa-meta">{page_text}第{target.paragraph}段 / 共{total}段{escape_html(where)}</div>'
        f'<p class="govqa-text">{body}</p>'
        "</div>"
    )


# Where the page serves a PDF report's original (app.py's route; relative to the page's address).
ORIGINAL_PATH = "govqa/original/"


def original_link(report: Report, page: int | None = None) -> str | None:
    """The page's link to a PDF report's original file, opened at ``page``; None for other reports.
    The route serves a report by id, never by path."""
    if report.format != "pdf" or not report.original:
        return None
    return ORIGINAL_PATH + quote(report.doc_id, safe="") + (f"#page={page}" if page else "")


# ---------------------------------------------------------------------------------------------
# Follow-up questions, rewritten by rules

_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)(年)?")
_CN_YEAR = re.compile(r"[〇零一二三四五六七八九]{4}年")
_RELATIVE = re.compile(r"前年|去年|上一年|今年|本年|明年")
_END = r"\s*[？?。．.!！]*\s*$"
_CJK = re.compile(r"[\u4e00-\u9fff]")
# 「那2014年呢？」「2014年的呢」「那么2014年的情况如何？」
YEAR_FOLLOW_UP = re.compile(
    r"^\s*(?:那么?|那|还有)?\s*((?:19|20)\d\d)\s*年?\s*(?:的)?\s*(?:情况|数据|数字)?\s*"
    r"(?:呢|怎么样|如何|又如何|又是多少|是多少|多少)?" + _END
)
# 「具体有哪些？」「有哪些措施？」「具体措施呢？」「都包括什么？」「怎么做的？」
TOPIC_FOLLOW_UP = re.compile(
    r"^\s*(?:那么?|那|还有)?\s*(?:具体|都|还|又|主要)?\s*(?:有|是|包括|包含|采取了?|做了|靠)?\s*"
    r"(?:哪些|什么|哪几[项个条方面]?|啥)?\s*"
    r"(?:具体)?(?:措施|举措|做法|办法|内容|方面|项目|工作|情况)?\s*"
    r"(?:有哪些|是什么|呢|怎么做的?|如何做的?)?" + _END
)
_ASKS = re.compile(r"哪些|什么|哪几|啥|措施|举措|做法|办法|内容|怎么|如何|包括|包含")
# Question words and endings stripped from the previous question to leave its topic.
_ASK_WORDS = re.compile(
    r"是多少|有多少|多少|有哪些|哪些|是什么|什么|怎么样|怎样|如何|为什么|几[个项家所条]?|吗|呢|了"
)


# A message leans on the previous turn when it opens with 那/那么/还有/另外, or ends in 呢 without
# a year of its own, or is too short to name a subject (「投了多少辆？」, 「在全市排第几？」).
ELLIPTICAL_OPENING = re.compile(r"^\s*(?:那么?|还有|另外|再问一下)")
ELLIPTICAL = re.compile(r"^\s*(?:那么?|还有|另外|再问一下)|呢\s*[？?。！!]*\s*$")
ELLIPTICAL_MAX_CHARS = 10


def question_topic(question: str) -> str:
    """The previous question without its question words and end punctuation."""
    topic = re.sub(_END, "", question)
    topic = _ASK_WORDS.sub("", topic)
    return topic.strip(" ，,、")


def rewrite_follow_up(question: str, previous: str | None) -> str:
    """A follow-up made complete from the previous question, by rules; anything else unchanged.

    「那2014年呢？」 → the previous question with its year replaced by 2014 (or 2014年 put first);
    「具体有哪些？」/「有哪些措施？」 → the previous question's topic + the new ask.
    """
    text = question.strip()
    if not previous or not text:
        return question
    previous = previous.strip()
    region_match = REGION_FOLLOW_UP.match(text)
    if region_match and _region_name(region_match.group(1)):
        return _swap_region(previous, region_match.group(1))
    year_match = YEAR_FOLLOW_UP.match(text)
    if year_match:
        year = year_match.group(1)
        if _YEAR.search(previous):
            old = _YEAR.search(previous).group(1)  # type: ignore[union-attr]
            return re.sub(rf"(?<!\d){old}(?!\d)", year, previous)
        if _CN_YEAR.search(previous):
            return _CN_YEAR.sub(f"{year}年", previous, count=1)
        if _RELATIVE.search(previous):
            return _RELATIVE.sub(f"{year}年", previous, count=1)
        return f"{year}年{previous}"
    if TOPIC_FOLLOW_UP.match(text) and _is_bare_ask(text):
        topic = question_topic(previous)
        ask = re.sub(r"^\s*(?:那么?|那|还有)\s*", "", text)
        ask = re.sub(r"呢(" + _END[:-1] + ")$", r"\1", ask)
        return f"{topic}{ask}" if topic else question
    core = re.sub(_END, "", ELLIPTICAL.sub("", text))
    has_year = bool(_YEAR.search(text))
    leans_on_previous = (
        bool(ELLIPTICAL_OPENING.match(text))
        or (len(core) <= ELLIPTICAL_MAX_CHARS and not has_year)
        or (bool(ELLIPTICAL.search(text)) and not has_year)
    )
    if leans_on_previous and len(core) >= 2:
        # An elliptical follow-up (「危重病人抢救成功率呢？」) is asked with the previous turn, so its
        # year and subject carry over; retrieval weighs the words of both.
        return f"{previous} {text}"
    return question


# 「那湖北呢？」「湖南的呢？」「浙江的情况呢」「那罗湖区呢」: another region, the same question.
REGION_FOLLOW_UP = re.compile(
    r"^\s*(?:那么?|那|还有)?\s*([\u4e00-\u9fff]{1,12}?)\s*(?:的)?\s*(?:情况|数据|数字)?\s*"
    r"(?:呢|怎么样|如何|又如何|又是多少|是多少)" + _END
)


def _region_name(text: str) -> bool:
    """Whether ``text`` names one administrative division (浙江, 湘, 罗湖区): a province or prefecture,
    a name of three or more characters, or a county's short name no other county shares (城区 is the
    name of five)."""
    found = lookup(text)
    if not found or (len(text) == 1 and is_common_word(text)):
        return False
    return len(text) >= 3 or found[0].level in ("省", "市") or len(found) == 1


def _swap_region(previous: str, region: str) -> str:
    """``previous`` with the first region it names replaced by ``region`` (or ``region`` put first)."""
    for start in range(len(previous)):
        for end in range(min(len(previous), start + 12), start, -1):
            name = previous[start:end]
            # A one-character short name (浙) counts only before a figure or the end, not inside a word.
            if _region_name(name) and (len(name) > 1 or not _CJK.match(previous[end : end + 1])):
                return previous[:start] + region + previous[end:]
    return f"{region}{previous}"


def _is_bare_ask(text: str) -> bool:
    """The text asks something (not just 「那」 or punctuation) and names no topic of its own."""
    core = re.sub(_END, "", text).strip()
    return 2 <= len(core) <= 12 and bool(_ASKS.search(core))
