"""Cleaning: a report's exact text in, its lines classified as report text or page furniture out.

In: the full text of one report file.
Out: ``Line`` objects, one per non-blank line, each an exact slice ``text[start:end]`` of the file
(surrounding white space trimmed off the slice, nothing inside altered) and a flag saying whether
it is page furniture — navigation, video and link labels, breadcrumbs, pagers, counters, and
news items embedded in the page — rather than report text.

The rules are general patterns of web pages that carry government reports, not lists of lines from
the bundled files. Deliberately left out: any rewriting of the kept text (quotes must stay exact).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Each rule: a reason (kept for debugging and tests) and a pattern matched against a stripped line.
FURNITURE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (reason, re.compile(pattern))
    for reason, pattern in (
        ("video or live-stream label", r"^.{0,20}(直播视频|短视频|视频直播)$"),
        ("more-link", r"^(MORE\+|更多>*|更多\+)(\s*(MORE\+|更多>*|更多\+))*$"),
        ("detail link", r"^[\[【]?(详细|详情|全文|阅读全文)[\]】]?>*$"),
        ("link label ending in >", r"^[^。，,；;]{1,12}>{1,2}$"),
        ("breadcrumb", r"^[^。，,；;>]{1,12}(>[^。，,；;>]{1,12}){2,}>?$"),
        ("pager", r"^(上一页|下一页|首页|尾页|第\s*\d+\s*页)"),
        ("page counter", r"^\d{4,}$"),
        ("navigation bullet", r"^[•●▪■◆·]"),
        ("share or author line", r"^\S{1,8}(分享|转载|编辑|来源)$"),
        ("page title with a page number", r"^.{2,30}([（(]\d{1,2}[)）]|篇\d{1,2})$"),
        ("news column headline", r"^\S{1,12}丨"),
    )
)


NEWS_ITEM_MAX_LINES = 3


@dataclass(frozen=True)
class Line:
    start: int  # offset of the first kept character in the report text
    end: int
    text: str  # == report_text[start:end]
    furniture: str | None  # the reason it is furniture, or None for report text
    indented: bool  # the raw line started with white space (continuation of a list item)


def furniture_reason(stripped: str) -> str | None:
    """Why this (stripped) line is page furniture, or None if it is report text."""
    for reason, pattern in FURNITURE_RULES:
        if pattern.search(stripped):
            return reason
    return None


def split_lines(text: str) -> list[Line]:
    """Every non-blank line of ``text`` with its exact offsets and furniture verdict."""
    lines: list[Line] = []
    for match in re.finditer(r"[^\n]+", text):
        raw = match.group()
        if not raw.strip():
            continue
        lead = len(raw) - len(raw.lstrip())
        start = match.start() + lead
        end = match.start() + len(raw.rstrip())
        lines.append(Line(start, end, text[start:end], furniture_reason(text[start:end]), lead > 0))
    return _mark_blocks(lines)


def _mark_blocks(lines: list[Line]) -> list[Line]:
    """Furniture that spans several lines: indented continuations of a bullet, and news items.

    A news item embedded in the page (a 「…丨…」 headline) runs up to its own detail link, if that
    link comes within ``NEWS_ITEM_MAX_LINES`` lines (otherwise only the headline is dropped, so a
    page without detail links never loses report text); an indented line right after a
    navigation bullet continues that bullet.
    """
    news_body: set[int] = set()
    for i, line in enumerate(lines):
        if line.furniture != "news column headline":
            continue
        following = lines[i + 1 : i + 1 + NEWS_ITEM_MAX_LINES + 1]
        for offset, later in enumerate(following, start=1):
            if later.furniture == "detail link":
                news_body.update(range(i + 1, i + offset))
                break

    marked: list[Line] = []
    for i, line in enumerate(lines):
        reason = line.furniture
        if reason is None and i in news_body:
            reason = "news item body"
        if reason is None and line.indented and marked and marked[-1].furniture == "navigation bullet":
            reason = "navigation bullet"
        marked.append(Line(line.start, line.end, line.text, reason, line.indented))
    return marked
