"""Structure: cleaned lines in, numbered ``Paragraph`` objects with section paths out.

In: a ``Report`` and its ``Line`` objects from ``index.clean``.
Out: one ``Paragraph`` per kept line: a stable number (1-based, in file order, furniture
excluded), the exact text and its offsets in the report file, its kind (heading or body), its
section path (e.g. 「一、2014年工作回顾 > (一)着力稳中求进… > 总量新突破、质量再提升」) and the
period it speaks of (review of the past year, or plan for the coming one).

Headings recognised: 一、 (level 1), (一) (level 2), 1. / 1、 (level 3), a short unpunctuated
title line (level 0, a new part such as an appendix), and run-in headings that open a body
paragraph (「助力升级优势产业。…」, 「一是…。」). Page furniture ends a section, because a web
page starts a new block after it.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Literal

from index.clean import Line
from index.corpus import Report

Period = Literal["review", "plan", "unknown"]
Kind = Literal["heading", "body"]

_CN_NUM = "一二三四五六七八九十"
HEADING_LEVELS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (1, re.compile(rf"^[{_CN_NUM}]{{1,3}}、")),
    (2, re.compile(rf"^[(（][{_CN_NUM}]{{1,3}}[)）]")),
    (3, re.compile(r"^\d{1,2}[.．、](?!\d)")),
)
MAX_HEADING_CHARS = 40
# A run-in heading: a short clause with no inner punctuation closed by 。, opening a paragraph
# (or after the space a web page leaves between run-in items), or introduced by 一是/二是….
RUN_IN_AT_START = re.compile(r"^([^。，,；;：:！？!?\s“”\"]{2,16})。(?=\S)")
RUN_IN_AFTER_SPACE = re.compile(r"(?<=。)\s+([^。，,；;：:、！？!?\s“”\"]{2,16})。")
RUN_IN_ORDINAL = re.compile(rf"(?:^|(?<=[。；;\s]))([{_CN_NUM}]是[^。，,；;：:！？!?]{{2,20}})。")
SENTENCE_END = "。！？!?；;：:"

# Cue words for the period a passage speaks of. Headings decide for their whole section; body
# paragraphs without a deciding heading are scored on their own words, or their section's.
REVIEW_HEADING_CUES = ("回顾", "成绩", "过去", "一年来")
PLAN_HEADING_CUES = ("任务", "目标", "计划", "总体要求", "思路", "测算", "部署", "展望")
# Verbs used both ways (推进, 实施, 提升) are left out on purpose.
REVIEW_CUES = re.compile(
    r"完成|实现|建成|达到|获评|荣获|成功|累计|全年|同比|顺利|取得|率先|居全市|首个|"
    r"首家|启动|开通|投入使用|刷新|(增长|下降|提高|减少)\d"
)
PLAN_CUES = re.compile(
    r"今年|将|力争|确保|预期|预计|计划|左右|以上|着力|加快|推动|打造|深化|强化|健全|"
    r"完善|围绕|聚焦|要"
)
# Cue counts (review minus plan) that decide on their own, for a paragraph and for a section.
CLEAR_MARGIN = 2
CLEAR_SECTION_MARGIN = 3


@dataclass(frozen=True)
class Paragraph:
    doc_id: str
    number: int  # 1-based among the report's kept paragraphs
    start: int  # offsets into the report file: report.text[start:end] == text
    end: int
    text: str
    kind: Kind
    section: str  # heading path, " > "-separated; "" before the first heading
    period: Period

    @property
    def paragraph_id(self) -> str:
        return f"{self.doc_id}#{self.number}"


def heading_level(text: str) -> int | None:
    """0–3 for a heading line, None for body text."""
    if len(text) > MAX_HEADING_CHARS or "。" in text:
        return None
    for level, pattern in HEADING_LEVELS:
        if pattern.match(text):
            return level
    # A short title line without closing punctuation opens a new part (e.g. an appendix).
    if len(text) <= 30 and text[-1] not in SENTENCE_END + "，,、" and not re.search(r"\d+(\.\d+)?%", text):
        return 0
    return None


def run_in_headings(text: str) -> list[tuple[int, str]]:
    """(offset, heading) of each run-in heading inside a body paragraph, in order."""
    found: dict[int, str] = {}
    for pattern in (RUN_IN_AT_START, RUN_IN_AFTER_SPACE, RUN_IN_ORDINAL):
        for match in pattern.finditer(text):
            found.setdefault(match.start(1), match.group(1))
    return sorted(found.items())


def _period_of_heading(text: str, report: Report) -> Period:
    """A heading naming only the year its report reviews (「一、2025年主要工作和“十四五”发展成就」) heads
    the review, one naming only a year it plans (「三、2026年重点工作」) the plan; else its cue words."""
    named = {int(year) for year in re.findall(r"(?<!\d)((?:19|20)\d\d)(?=年)", text)}
    reviewed = named & {report.reviews}
    planned = named & set(report.plans)
    if reviewed and not planned:
        return "review"
    if planned and not reviewed:
        return "plan"
    if any(cue in text for cue in REVIEW_HEADING_CUES):
        return "review"
    if any(cue in text for cue in PLAN_HEADING_CUES):
        return "plan"
    return "unknown"


def structure(report: Report, lines: list[Line]) -> list[Paragraph]:
    """Number the kept lines and give each its section path and period."""
    stack: dict[int, tuple[str, Period]] = {}  # heading level → (heading text, its period)
    paragraphs: list[Paragraph] = []
    for line in lines:
        if line.furniture is not None:
            stack.clear()
            continue
        level = heading_level(line.text)
        if level is not None:
            stack = {lvl: head for lvl, head in stack.items() if lvl < level}
            stack[level] = (line.text, _period_of_heading(line.text, report))
            section = " > ".join(text for _, (text, _) in sorted(stack.items()))
            period = _inherited_period(stack)
            kind: Kind = "heading"
        else:
            path = [text for _, (text, _) in sorted(stack.items())]
            runs = run_in_headings(line.text)
            if runs and runs[0][0] == 0:
                path.append(runs[0][1])
            section = " > ".join(path)
            period = _inherited_period(stack)
            kind = "body"
        paragraphs.append(
            Paragraph(
                report.doc_id, len(paragraphs) + 1, line.start, line.end, line.text, kind, section, period
            )
        )
    return _periods_from_text(paragraphs)


def _cue_margin(text: str) -> int:
    return len(REVIEW_CUES.findall(text)) - len(PLAN_CUES.findall(text))


def _periods_from_text(paragraphs: list[Paragraph]) -> list[Paragraph]:
    """Periods for body paragraphs whose headings decide none, from cue words.

    A paragraph's own words decide when they lean clearly one way. Otherwise its top-level section
    decides, when that section's words together lean clearly: a summary item such as
    「生态环境更趋优良。修复完善……」 carries one plan-like verb but sits among a year's results.
    """
    sections: dict[str, int] = {}
    for p in paragraphs:
        if p.kind == "body" and p.period == "unknown":
            root = p.section.split(" > ")[0]
            sections[root] = sections.get(root, 0) + _cue_margin(p.text)
    result = []
    for p in paragraphs:
        if p.kind == "body" and p.period == "unknown":
            own = _cue_margin(p.text)
            section = sections[p.section.split(" > ")[0]]
            margin = own if abs(own) >= CLEAR_MARGIN or abs(section) < CLEAR_SECTION_MARGIN else section
            period: Period = "review" if margin > 0 else "plan" if margin < 0 else "unknown"
            p = dataclasses.replace(p, period=period)
        result.append(p)
    return result


def _inherited_period(stack: dict[int, tuple[str, Period]]) -> Period:
    """The period of the innermost heading that decides one."""
    for _, (_, period) in sorted(stack.items(), reverse=True):
        if period != "unknown":
            return period
    return "unknown"
