"""The chat page's logic, without the page: testable with no browser and no gradio.

In: an ``Answerer`` and its ``Answer`` objects, the user's text, the page's settings.
Out: chat messages (Markdown whose every piece of question or report text is escaped), the
「来源」 panel's HTML (the whole paragraph, the quote in <mark>), the list of sources a user can
pick, and follow-up questions rewritten into complete ones by fixed rules (no language model).

Escaping: ``escape_text`` runs ``html.escape`` and then turns the characters Markdown gives a
meaning to into numeric entities, so neither typed nor indexed text can add a tag, a link or
emphasis to the page. Everything this module returns goes through it, except the fixed markup
it writes itself.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from index.store import StoredIndex
from qa.answer import NOT_FOUND, Answer, citation_label

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
# Reports: filter choices and a filtered ask


def report_choices(stored: StoredIndex) -> list[tuple[str, str]]:
    """(label, doc_id) for the report checkboxes, newest report first."""
    reports = sorted(stored.reports.values(), key=lambda r: (r.year, r.doc_id), reverse=True)
    return [(f"{r.year}年报告（回顾{r.reviews}年）", r.doc_id) for r in reports]


# ---------------------------------------------------------------------------------------------
# The chat message for an answer


def source_label(stored: StoredIndex, doc_id: str, paragraph: int) -> str:
    """report title · last section segment · 第N段 (plain text, not escaped)."""
    report = stored.reports.get(doc_id)
    title = report.title if report else doc_id
    para = stored.paragraphs.get((doc_id, paragraph))
    section = para.section.split(" > ")[-1] if para and para.section else ""
    return " · ".join(p for p in (title, section, f"第{paragraph}段") if p)


def format_answer(
    answer: Answer, stored: StoredIndex, show_scores: bool = False, rewritten_from: str | None = None
) -> str:
    """The assistant's chat message (Markdown, all text escaped)."""
    parts: list[str] = []
    if rewritten_from is not None:
        parts.append(f"*按上文理解为：{escape_text(answer.question)}*")
    if answer.found:
        for quote in answer.quotes:
            parts.append(f"> {escape_text(quote.text)} **[{quote.citation}]**")
        cites = "<br>".join(f"[{c.n}] {escape_text(citation_label(c))}" for c in answer.citations)
        parts.append(f"<small>{cites}</small>")
    else:
        parts.append(f"**{escape_text(NOT_FOUND)}**" + (escape_text(answer.reason) if answer.reason else ""))
        if answer.passages:
            lines = ["可能相关："]
            for p in answer.passages[:3]:
                label = escape_text(source_label(stored, p.doc_id, p.paragraph))
                lines.append(f"- {label}：{escape_text(_shorten(p.text, 80))}")
            parts.append("\n".join(lines))
    if show_scores and answer.passages:
        lines = ["检索得分："]
        for p in answer.passages:
            label = escape_text(source_label(stored, p.doc_id, p.paragraph))
            lines.append(f"{p.rank}. {label} — {p.score:.4f}")
        parts.append("<small>" + "<br>".join(lines) + "</small>")
    return "\n\n".join(parts)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def user_message(text: str) -> str:
    """The user's chat bubble: their text, escaped."""
    return escape_text(text)


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
    return (
        '<div class="govqa-source">'
        f'<div class="govqa-title">{label}{escape_html(report.title)}（{report.year}年）</div>'
        f'<div class="govqa-meta">章节：{section}</div>'
        f'<div class="govqa-meta">第{target.paragraph}段 / 共{total}段{escape_html(where)}</div>'
        f'<p class="govqa-text">{body}</p>'
        "</div>"
    )


# ---------------------------------------------------------------------------------------------
# Follow-up questions, rewritten by rules

_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)(年)?")
_CN_YEAR = re.compile(r"[〇零一二三四五六七八九]{4}年")
_RELATIVE = re.compile(r"前年|去年|上一年|今年|本年|明年")
_END = r"\s*[？?。．.!！]*\s*$"
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


def _is_bare_ask(text: str) -> bool:
    """The text asks something (not just 「那」 or punctuation) and names no topic of its own."""
    core = re.sub(_END, "", text).strip()
    return 2 <= len(core) <= 12 and bool(_ASKS.search(core))
