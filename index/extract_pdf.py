"""PDF extraction: a PDF's bytes in, the report text its text layer carries out (no OCR).

In: the bytes of a PDF file and its name (the name only for messages).
Out: ``Extracted`` with format "pdf": the report text one paragraph or heading a line — lines the page
layout wrapped joined back (CJK without a space), running headers, footers and page numbers dropped,
PDF character artefacts mapped to the characters the page shows — ``pages``, the offset in that text
where each page's text starts, and ``title``, the PDF's metadata title when it looks like a real one.

The library is pypdfium2 (Google's PDFium; Apache-2.0/BSD), chosen by measurement against pypdf,
pdfplumber and pdfminer.six (``eval/extract_pdf.py``, ``eval/results/extract-pdf.md``): it gives the
characters the page shows where the others return the Kangxi radicals of Skia-made (Chrome) PDFs, and
it is several times faster. The layout rules below (``assemble``) take lines with their positions from
any library, so the evaluation runs the same rules on every library's lines.

Paragraphs are decided by layout: a line that starts indented (first-line indent, centred heading), a
previous line that stops short of the right margin by more than the next line's first word would
have needed, a vertical gap or a change of font size start a new paragraph; punctuation only where the
layout is silent (``paragraph_signals``). Headers and footers are lines at the top or bottom of a page
that repeat on many pages (digits masked) or read as a page number.

Refused with ``ExtractError`` (one line, in Chinese): not a PDF, truncated, damaged, password-protected,
scanned (no text layer on most pages), fonts without a Unicode mapping, too many pages or characters,
too little text, more memory or time than a report needs. ``extract_pdf`` runs PDFium in a child process under
those two limits; ``extract_pdf_here`` is the same extraction in the calling process, without them
(PDFium is not thread-safe, so there every call into it holds one module-wide lock).
"""

from __future__ import annotations

import ctypes
import dataclasses
import itertools
import json
import logging
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from index.extract import MIN_TEXT_CHARS, Extracted, ExtractError

log = logging.getLogger(__name__)

# Hostile-input limits. A 300-page report has about 300,000 characters and a dense A4 page about 3,000.
MAX_PAGES = 2000
MAX_PAGE_CHARS = 100_000
MAX_TEXT_CHARS = 5_000_000
# PDFium inflates a content stream whole: a 1 MB file holding 1 GB of compressed blanks took 1.9 GB.
# So extraction runs in a child process with its address space capped (a 48-page report peaks at
# 36 MB of it) and a wall-clock limit (a 300-page report takes about 3 s); a crash in PDFium on a
# malformed file ends the child, not the app.
MAX_MEMORY_BYTES = 1 << 30
MAX_SECONDS = 60.0
# Acrobat's own rules: the header may sit anywhere in the first 1,024 bytes, %%EOF in the last 1,024.
HEADER_WINDOW = 1024
EOF_WINDOW = 1024

_PDFIUM_LOCK = threading.Lock()  # PDFium keeps global state: one document operation at a time


@dataclass(frozen=True)
class PdfLine:
    """One printed line: its text and where it sits (points; x from the left, y down from the top)."""

    text: str
    x0: float
    x1: float
    top: float
    base: float  # bottom of most of its characters' boxes: the line's place in the page's rhythm
    em: float  # font size: the height of its characters' boxes
    edges: tuple[float, ...] = ()  # right edge of each character of ``text``; () when not known


@dataclass(frozen=True)
class PdfPage:
    width: float
    height: float
    lines: tuple[PdfLine, ...]  # top to bottom


@dataclass
class _Geometry:
    left: float
    right: float
    pitch: float  # the usual distance between the bases of two lines of one paragraph
    indents: bool = True  # the document starts its paragraphs with a first-line indent


@dataclass
class _Budget:
    name: str
    chars: int = 0

    def spend(self, chars: int) -> None:
        self.chars += chars
        if self.chars > MAX_TEXT_CHARS:
            raise ExtractError(
                f"{self.name}: PDF 中的文字超过 {MAX_TEXT_CHARS:,} 字，不像一份工作报告，"
                "请只保留报告正文后再添加"
            )


# --- characters ---------------------------------------------------------------------------------

# Radicals a CJK font draws with the same glyph as an ideograph. A PDF's ToUnicode map may name the
# radical (Chrome/Skia names the lowest code point of a shared glyph), so text extractors return
# ⼯作 for 工作 and ⻓ for 长. Kangxi radicals map as NFKC does, except where the SC font's glyph is the
# simplified form (⼾ draws 户, NFKC gives 戶); the CJK Radicals Supplement has no NFKC mapping, so its
# table is the glyph sharing of Noto Sans/Serif CJK SC (eval/extract_pdf.py ``radical_table`` rebuilds it).
SUPPLEMENT_PAIRS = (
    "⺂乛⺃乚⺅亻⺇𠘨⺉刂⺋㔾⺍𭕄⺎兀⺏尣⺐尢⺒巳⺓幺⺔彑⺕彐⺖忄⺘扌⺙攵⺛旡⺞歺⺟母⺠民⺡氵⺣灬⺤爫⺦丬⺨犭⺩𤣩⺫罒⺭礻⺮𥫗"
    "⺯糹⺰纟⺱罓⺲罒⺳㓁⺹耂⺺肀⺽𦥑⺾艹⻁虎⻂衤⻃覀⻅见⻆角⻇𧢲⻈讠⻉贝⻊𧾷⻋车⻌辶⻐钅⻑長⻒镸⻓长⻔门⻕𨸏⻖阝⻘青⻙韦"
    "⻚页⻛风⻜飞⻝食⻞𩙿⻟飠⻠饣⻡𩠐⻢马⻣骨⻤鬼⻥鱼⻦鸟⻧卤⻨麦⻩黄⻪黾⻫斉⻬齐⻮齿⻯竜⻰龙⻱龜⻲亀⻳龟⼾户"
)


def _char_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0x2F00, 0x2FD6):  # Kangxi radicals
        table[code] = unicodedata.normalize("NFKC", chr(code))
    for code in list(range(0xF900, 0xFB00)) + list(range(0x2F800, 0x2FA20)):
        # CJK compatibility ideographs: canonically the same character (NFC maps them)
        mapped = unicodedata.normalize("NFC", chr(code))
        if mapped != chr(code):
            table[code] = mapped
    for code in range(0xFB00, 0xFB07):  # Latin ligatures ﬁ ﬂ …
        table[code] = unicodedata.normalize("NFKC", chr(code))
    pairs = SUPPLEMENT_PAIRS
    for radical, ideograph in zip(pairs[::2], pairs[1::2], strict=True):
        table[ord(radical)] = ideograph
    # Spaces of other widths read as a space; invisible marks and control characters go. U+3000 (the
    # ideographic space) stays: reports use it, and it is what the page shows.
    for code in (0x09, 0x0B, 0x0C, 0xA0, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007):
        table[code] = " "
    for code in (0x2008, 0x2009, 0x200A, 0x202F, 0x205F):
        table[code] = " "
    for code in [*range(0x00, 0x09), *range(0x0D, 0x20), *range(0x7F, 0xA0), 0xAD, 0x200B, 0x200C, 0x200D]:
        table[code] = ""
    for code in (0x2060, 0xFEFF, 0xFFFE, 0xFFFF):
        table[code] = ""
    table[0x02] = "-"  # PDFium's mark for a hyphen it found at a line end: the page shows a hyphen
    table[0x0A] = ""
    return table


CHAR_TABLE = _char_table()
# A text layer without a Unicode map reads as glyph numbers taken for characters: Latin-1 letters
# (Wå p工,5) or any script at all (ᠣ♢ആグỮᡋ). What a Chinese report is written in: ASCII, Latin-1's
# symbols (·×°±²³§), Greek, punctuation and symbols (U+2000–2BFF), CJK punctuation, kana, CJK
# ideographs (with extensions and radicals), full-width forms. Anything else is counted as unreadable.
_EXPECTED = (
    "\\s!-~\u00a0-\u00bf\u00d7\u00f7\u0370-\u03ff\u2000-\u2bff\u2e80-\u2fdf\u3000-\u33ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003134f"
)
UNREADABLE = re.compile(f"[^{_EXPECTED}]")
UNREADABLE_SHARE = 0.02


def clean_chars(text: str) -> str:
    """``text`` with PDF character artefacts mapped to what the page shows; no control characters."""
    return re.sub(r" {2,}", " ", text.translate(CHAR_TABLE))


# --- page furniture -----------------------------------------------------------------------------

_DASHES = r"\-—–－─‐‒―~～·•_\s"
# Page numbers as printed: - 3 -, — 3 —, 第3页, 第 3 页 共 20 页, 共20页 第3页, 3/20, Page 3 (of 20).
DECORATED_PAGE_NUMBER = re.compile(
    rf"^(?:[{_DASHES}]*[{_DASHES}][{_DASHES}]*\d{{1,4}}[{_DASHES}]*"
    rf"|[{_DASHES}]*\d{{1,4}}[{_DASHES}]*[{_DASHES}][{_DASHES}]*"
    r"|第\s*\d{1,4}\s*页(?:\s*[,，/／、]?\s*共\s*\d{1,4}\s*页)?"
    r"|共\s*\d{1,4}\s*页\s*[,，/／、]?\s*第\s*\d{1,4}\s*页"
    r"|\d{1,4}\s*[/／]\s*\d{1,4}"
    r"|(?i:page|p\.)\s*\d{1,4}(?:\s*(?i:of|/)\s*\d{1,4})?)$"
)
BARE_PAGE_NUMBER = re.compile(r"^\d{1,4}$")
EDGE_LINES = 2  # lines looked at from the top and from the bottom of each page
REPEAT_SHARE = 0.4  # a header or footer is on at least this share of the pages (and on two)


def _masked(text: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", text))


def _edge_slots(page: PdfPage) -> list[tuple[str, int]]:
    """(zone, line index) of the lines at the page's top and bottom edges."""
    count = len(page.lines)
    top = [("top", i) for i in range(min(EDGE_LINES, count))]
    bottom = [("bottom", i) for i in range(max(count - EDGE_LINES, 0), count)]
    return top + bottom


def _furniture(pages: Sequence[PdfPage]) -> list[set[int]]:
    """For each page, the indices of its lines that are running headers, footers or page numbers."""
    dropped: list[set[int]] = [set() for _ in pages]
    with_text = sum(1 for page in pages if page.lines)
    needed = max(2, math.ceil(REPEAT_SHARE * with_text))

    # Repeating lines: the same text (digits masked) in the same zone at the same height.
    seen: dict[tuple[str, str], list[tuple[int, int, float]]] = {}
    for p, page in enumerate(pages):
        for zone, i in _edge_slots(page):
            line = page.lines[i]
            seen.setdefault((zone, _masked(line.text)), []).append((p, i, line.top))
    for places in seen.values():
        if len({p for p, _, _ in places}) < needed:
            continue
        usual = statistics.median(top for _, _, top in places)
        em = max(statistics.median(pages[p].lines[i].em for p, i, _ in places), 1.0)
        same_place = [(p, i) for p, i, top in places if abs(top - usual) <= em]
        if len({p for p, _ in same_place}) >= needed:
            for p, i in same_place:
                dropped[p].add(i)

    # Page numbers. Decorated ones (— 3 —, 第3页) are unmistakable at a page's edge; a bare number
    # must also count the pages (its value minus the page's index the same on most numbered pages)
    # or stand apart from the text, so that a body line that is only a figure stays.
    bare: list[tuple[int, int, int]] = []
    for p, page in enumerate(pages):
        for _, i in _edge_slots(page):
            text = page.lines[i].text.strip()
            if DECORATED_PAGE_NUMBER.match(text):
                dropped[p].add(i)
            elif BARE_PAGE_NUMBER.match(text) and i in (0, len(page.lines) - 1):  # outermost only
                bare.append((p, i, int(text) - p))
    offsets = Counter(offset for _, _, offset in bare)
    numbered = len({p for p, _, _ in bare})
    for p, i, offset in bare:
        counts_pages = numbered >= 2 and offsets[offset] >= max(2, math.ceil(0.6 * numbered))
        if counts_pages or _stands_apart(pages[p], i):
            dropped[p].add(i)
    return dropped


def _stands_apart(page: PdfPage, i: int) -> bool:
    """The line is further from its neighbours than two usual line distances (it sits in a margin)."""
    lines = page.lines
    neighbours = [lines[j] for j in (i - 1, i + 1) if 0 <= j < len(lines)]
    if not neighbours:
        return True
    pitches = [b.base - a.base for a, b in itertools.pairwise(lines) if b.base > a.base]
    pitch = statistics.median(pitches) if pitches else 2 * lines[i].em
    return all(abs(n.base - lines[i].base) > 2 * pitch for n in neighbours)


# --- paragraphs ---------------------------------------------------------------------------------

# Characters a line may not start with (closing punctuation) and may not end with (opening): the
# line breaker moved them together with their neighbour, so they belong to the next line's first unit.
_NO_LINE_START = set("，。、；：？！）》」』】〕〉”’…—%％,.;:?!)]}·")
_NO_LINE_END = set("（《「『【〔〈“‘([{")
_ASCII_WORD = re.compile(r"[A-Za-z0-9][!-~]*")
INDENT_EMS = 0.5  # a line starting this far right of the left margin starts a paragraph
SLACK_EMS = 0.4  # room left at a line's end beyond what the next line's first unit needed
GAP_EMS = 0.4  # extra vertical distance over the usual line pitch that separates paragraphs
SIZE_CHANGE = 0.15  # relative change of font size between two lines that separates them


def _first_unit_width(line: PdfLine) -> float:
    """Width of what the line breaker could not have put on the line before: the first word."""
    text = line.text
    end = 0
    while end < len(text) - 1 and text[end] in _NO_LINE_END:
        end += 1
    match = _ASCII_WORD.match(text, end)
    end = match.end() if match else end + 1
    while end < len(text) and text[end] in _NO_LINE_START:
        end += 1
    if end > 1 and text[end - 1] in _NO_LINE_START and (match := _ASCII_WORD.match(text, end)):
        end = match.end()  # ICU keeps 「设，1550」 together: no break between a comma and a number
    if line.edges:
        return min(line.edges[end - 1] - line.x0, 8 * line.em)
    wide = sum(1 for ch in text[:end] if unicodedata.east_asian_width(ch) in "WF")
    return min((wide + 0.55 * (end - wide)) * line.em, 8 * line.em)


def _quantile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _left_edge(x0s: Sequence[float]) -> float:
    """The smallest start shared (within 1 pt) by several lines: the text column's left margin."""
    ordered = sorted(x0s)
    needed = max(2, math.ceil(0.05 * len(ordered)))
    for k, x in enumerate(ordered):
        if k + needed - 1 < len(ordered) and ordered[k + needed - 1] - x <= 1.0:
            return x
    return ordered[0]


def _geometries(pages: Sequence[Sequence[PdfLine]]) -> list[_Geometry]:
    """Left and right margin and line pitch for each page, from all pages of the same parity.

    Margins come from the whole document (per parity, for mirrored margins), because a page with
    few lines — the last one, a page of headings — cannot show its own.
    """
    pitches = [
        b.base - a.base
        for lines in pages
        for a, b in itertools.pairwise(lines)
        if b.base > a.base and abs(a.em - b.em) <= SIZE_CHANGE * max(a.em, b.em)
    ]
    pitch = statistics.median(pitches) if pitches else 0.0
    every = [line for lines in pages for line in lines if len(line.text) >= 4]
    by_parity = [
        [line for lines in pages[parity::2] for line in lines if len(line.text) >= 4] for parity in (0, 1)
    ]
    margins = []
    for same in by_parity:
        sample = same if len(same) >= 10 else every
        if not sample:
            margins.append(_Geometry(0.0, 0.0, pitch))
            continue
        margins.append(
            _Geometry(_left_edge([x.x0 for x in sample]), _quantile([x.x1 for x in sample], 0.9), pitch)
        )
    # Does the document indent its paragraphs? Look at the lines after a line that stops short (a
    # paragraph's last line): in an indented document most of them are indented.
    after_short = [
        b.x0 - margins[p % 2].left > INDENT_EMS * max(b.em, 1.0)
        for p, lines in enumerate(pages)
        for a, b in itertools.pairwise(lines)
        if margins[p % 2].right - a.x1 > _first_unit_width(b) + SLACK_EMS * max(b.em, 1.0)
    ]
    if len(after_short) >= 3 and sum(after_short) < 0.5 * len(after_short):
        margins = [dataclasses.replace(margin, indents=False) for margin in margins]
    return [margins[p % 2] for p in range(len(pages))]


# Punctuation decides only where the layout is silent (see ``paragraph_signals``).
_HEADING_START = re.compile(
    r"^(?:[一二三四五六七八九十]{1,3}、|[(（][一二三四五六七八九十]{1,3}[)）]|\d{1,2}[.．、](?!\d))"
)
_SENTENCE_END = "。！？；!?;"


def paragraph_signals(
    prev: PdfLine, cur: PdfLine, before: _Geometry, here: _Geometry, same_page: bool
) -> dict[str, bool]:
    """What says ``cur`` starts a new paragraph after ``prev``; any one of ``PARAGRAPH_SIGNALS`` does.

    size: the font size changes; indent: ``cur`` starts right of the left margin (first-line indent,
    a centred line); short: ``prev`` stopped short of the right margin by more than ``cur``'s first
    word needed; gap: more vertical distance than the usual line pitch (same page only); heading:
    ``cur`` opens with 一、/（一）/1. after a sentence ended; page_turn: in a document that spaces its
    paragraphs instead of indenting them, a page's last line ended a sentence. The last two are
    punctuation, consulted because the layout is silent when a paragraph's last line happens to be
    full and what follows is flush left (a heading; a spaced paragraph on the next page).
    """
    em = max(cur.em, 1.0)
    return {
        "size": abs(cur.em - prev.em) > SIZE_CHANGE * max(cur.em, prev.em),
        "indent": cur.x0 - here.left > INDENT_EMS * em,
        "short": before.right - prev.x1 > _first_unit_width(cur) + SLACK_EMS * em,
        "gap": same_page and here.pitch > 0 and cur.base - prev.base > here.pitch + GAP_EMS * em,
        "heading": prev.text[-1] in _SENTENCE_END and _HEADING_START.match(cur.text) is not None,
        "page_turn": not same_page and not here.indents and prev.text[-1] in "。！？!?",
        # Not used: the punctuation-only rule, measured as a baseline by the evaluation.
        "sentence_end": prev.text[-1] in _SENTENCE_END + "：:",
    }


PARAGRAPH_SIGNALS = ("size", "indent", "short", "gap", "heading", "page_turn")  # what ``assemble`` uses


def joiner(before: str, after: str) -> str:
    """What goes between two lines of one paragraph: a space only before a Latin word.

    Line breakers break Latin text at the space between words, so a letter after a letter (or after
    , . ; : ! ? )) had a space the PDF does not draw. A digit never follows a break at a space in a
    report (figures are not written 「2025 2026」): a number a generator broke anywhere joins as one.
    """
    last, first = before[-1:], after[:1]
    if first.isascii() and first.isalpha() and last.isascii() and (last.isalpha() or last in ",.;:!?)"):
        return " "
    return ""


def assemble(
    pages: Sequence[PdfPage], rule: Callable[[dict[str, bool]], bool] | None = None
) -> tuple[str, tuple[int, ...]]:
    """The report text (one paragraph a line) and each page's start offset in it, from laid-out lines.

    ``rule`` decides a paragraph start from ``paragraph_signals`` (any of ``PARAGRAPH_SIGNALS`` by
    default; the evaluation tries others).
    """
    decide = rule or (lambda signals: any(signals[name] for name in PARAGRAPH_SIGNALS))
    dropped = _furniture(pages)
    bodies: list[list[PdfLine]] = []
    for page, drop in zip(pages, dropped, strict=True):
        body = []
        for i, line in enumerate(page.lines):
            text = clean_chars(line.text).strip()
            if i not in drop and text:
                body.append(line if text == line.text else _retexted(line, text))
        bodies.append(body)
    geometries = _geometries(bodies)

    paragraphs: list[str] = []
    current = ""
    done = 0  # length of "\n".join(paragraphs) + "\n" when paragraphs is not empty
    offsets: list[int] = []
    prev: PdfLine | None = None
    prev_page = -1
    for p, body in enumerate(bodies):
        for k, line in enumerate(body):
            starts = prev is None or decide(
                paragraph_signals(prev, line, geometries[prev_page], geometries[p], same_page=prev_page == p)
            )
            if starts and current:
                paragraphs.append(current)
                done += len(current) + 1
                current = ""
            if k == 0:
                offsets.append(done + len(current) + (len(joiner(current, line.text)) if current else 0))
            current += (joiner(current, line.text) if current else "") + line.text
            prev, prev_page = line, p
        if not body:
            offsets.append(done + len(current))
    if current:
        paragraphs.append(current)
    text = "\n".join(paragraphs)
    # An empty page before any text points at 0; an empty last page at the text's end.
    offsets = [min(o, len(text)) for o in offsets]
    if offsets:
        offsets[0] = 0
    return text, tuple(offsets)


def _retexted(line: PdfLine, text: str) -> PdfLine:
    """The line with cleaned text; character edges are kept only while they still line up."""
    edges = line.edges if len(line.edges) == len(text) else ()
    return PdfLine(text, line.x0, line.x1, line.top, line.base, line.em, edges)


# --- reading with PDFium ------------------------------------------------------------------------


def _fail(name: str, what: str) -> ExtractError:
    messages = {
        "empty": f"{name}: 文件是空的（0 字节），请重新下载后再添加",
        "not-pdf": f"{name}: 不是 PDF 文件（文件开头没有 %PDF 标记），请确认文件格式，或改用网页版报告",
        "truncated": f"{name}: PDF 文件不完整（缺少结尾标记，可能下载中断），请重新下载后再添加",
        "damaged": f"{name}: PDF 文件已损坏，无法读取，请重新下载，或改用网页版报告",
        "encrypted": f"{name}: PDF 文件有打开密码，请先用密码打开并另存为无密码的 PDF 再添加，"
        "或改用网页版报告",
        "scanned": f"{name}: 这是扫描版 PDF，没有文字层（本程序不做文字识别），"
        "请使用带文字的 PDF 或网页版报告",
        "unreadable": f"{name}: PDF 中的文字缺少编码信息，提取出来是乱码，请使用其他来源的 PDF 或网页版报告",
        "too-big": f"{name}: PDF 解析所需内存超过 {MAX_MEMORY_BYTES >> 20} MB（文件结构异常或过于复杂），"
        "请改用网页版报告",
        "timeout": f"{name}: PDF 解析超过 {MAX_SECONDS:.0f} 秒仍未完成（文件结构异常或过于复杂），"
        "请改用网页版报告",
    }
    return ExtractError(messages[what])


def _check_bytes(data: bytes, name: str) -> None:
    if not data:
        raise _fail(name, "empty")
    if b"%PDF-" not in data[:HEADER_WINDOW]:
        raise _fail(name, "not-pdf")
    if b"%%EOF" not in data[-EOF_WINDOW:]:
        raise _fail(name, "truncated")


def _open(data: bytes, name: str) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        if error.err_code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise _fail(name, "encrypted") from None
        raise _fail(name, "damaged") from None


def _read_page(pdf: pdfium.PdfDocument, index: int, name: str, budget: _Budget) -> tuple[PdfPage, bool]:
    """The page's lines, and whether it holds an image (a scanned page holds one and no text)."""
    page = pdf[index]
    try:
        width, height = page.get_size()
        textpage = page.get_textpage()
        try:
            count = pdfium_c.FPDFText_CountChars(textpage)
            if count > MAX_PAGE_CHARS:
                raise ExtractError(
                    f"{name}: 第 {index + 1} 页有 {count:,} 个字符，超出一页的合理范围，文件可能已损坏，"
                    "请改用网页版报告"
                )
            budget.spend(max(count, 0))
            lines = _page_lines(textpage, max(count, 0), height)
        finally:
            textpage.close()
        has_image = not lines and _has_image(page)
    finally:
        page.close()
    return PdfPage(width, height, tuple(lines)), has_image


def _has_image(page: pdfium.PdfPage) -> bool:
    # Only pages without text are looked at, and only their top-level objects (a scan is one image).
    count = pdfium_c.FPDFPage_CountObjects(page)
    for i in range(min(count, 1000)):
        obj = pdfium_c.FPDFPage_GetObject(page, i)
        if obj and pdfium_c.FPDFPageObj_GetType(obj) in (
            pdfium_c.FPDF_PAGEOBJ_IMAGE,
            pdfium_c.FPDF_PAGEOBJ_FORM,
        ):
            return True
    return False


@dataclass
class CharRun:
    """Characters of one line as a library gives them, before spaces are judged (see ``run_line``)."""

    chars: list[str] = field(default_factory=list)
    boxes: list[tuple[float, float, float, float] | None] = field(default_factory=list)  # l, t, r, b
    generated: list[bool] = field(default_factory=list)  # a space PDFium inferred from a gap


def wide(char: str) -> bool:
    """A CJK character or full-width form: no word spaces around it in Chinese text."""
    return unicodedata.east_asian_width(char) in "WF"


def _page_lines(textpage: pdfium.PdfTextPage, count: int, height: float) -> list[PdfLine]:
    """PDFium's characters grouped into lines: its own line breaks, then lines at one height merged."""
    runs: list[CharRun] = [CharRun()]
    rect = pdfium_c.FS_RECTF()
    last: tuple[float, float, float, float] | None = None
    for i in range(count):
        code = pdfium_c.FPDFText_GetUnicode(textpage, i)
        if code in (0x0D, 0x0A):  # PDFium's line break (generated, or a real one in the text)
            if runs[-1].chars:
                runs.append(CharRun())
            continue
        char = chr(code) if code < 0x110000 else "\ufffd"
        generated = pdfium_c.FPDFText_IsGenerated(textpage, i) == 1
        if generated or char.isspace():
            # A space glyph, or a space PDFium inferred from a gap; its box is not the text's.
            runs[-1].chars.append(" ")
            runs[-1].boxes.append(None)
            runs[-1].generated.append(generated)
            continue
        if not pdfium_c.FPDFText_GetLooseCharBox(textpage, i, ctypes.byref(rect)):
            continue
        box = (rect.left, height - rect.top, rect.right, height - rect.bottom)
        if last is not None and not _same_line(last, box) and runs[-1].chars:
            runs.append(CharRun())  # PDFium did not see this line change (it happens after a dash)
        runs[-1].chars.append(char)
        runs[-1].boxes.append(box)
        runs[-1].generated.append(False)
        last = box
    lines = [line for run in runs if (line := run_line(run)) is not None]
    return _merge_same_height(sorted(lines, key=lambda line: (line.top, line.x0)))


SPACE_EMS = 0.2  # a gap this much wider than the line's usual one between CJK characters is a space


def _typed_space(chars: list[str], boxes: list[tuple[float, float, float, float] | None], k: int) -> bool:
    """Whether a space PDFium inferred from a gap is one the author typed.

    Between a CJK and a Latin character the gap is the one Word and LibreOffice put there
    (autospace), not a space: 2026 年 reads 2026年. Between two CJK characters it is a typed space
    (省长 王正谱) only when wider than the line's usual gap, since a justified line spreads every gap.
    Between two Latin characters it is a word space.
    """
    if k == 0 or k + 1 == len(chars) or boxes[k - 1] is None or boxes[k + 1] is None:
        return True
    before, after = wide(chars[k - 1]), wide(chars[k + 1])
    if before != after:
        return False
    if not before:
        return True
    solid = [(char, box) for char, box in zip(chars, boxes, strict=True) if box is not None]
    gaps = [b[0] - a[2] for (x, a), (y, b) in itertools.pairwise(solid) if wide(x) and wide(y)]
    usual = statistics.median(gaps) if gaps else 0.0
    em = boxes[k - 1][2] - boxes[k - 1][0]
    return boxes[k + 1][0] - boxes[k - 1][2] - usual > SPACE_EMS * em


def run_line(run: CharRun) -> PdfLine | None:
    """The line of a run of characters: inferred spaces judged, ends trimmed, its geometry measured."""
    chars, boxes = run.chars, run.boxes
    keep = [not run.generated[k] or _typed_space(chars, boxes, k) for k in range(len(chars))]
    chars = [c for c, kept in zip(chars, keep, strict=True) if kept]
    boxes = [b for b, kept in zip(run.boxes, keep, strict=True) if kept]
    # Trim spaces at both ends; a run of spaces only is nothing.
    while chars and boxes[-1] is None:
        chars, boxes = chars[:-1], boxes[:-1]
    while chars and boxes[0] is None:
        chars, boxes = chars[1:], boxes[1:]
    real = [box for box in boxes if box is not None]
    if not real:
        return None
    edges: list[float] = []
    for box in boxes:
        edges.append(box[2] if box is not None else edges[-1])
    bottoms = Counter(round(box[3], 1) for box in real)
    # A CJK character's advance is one em; box heights follow the font's ascent and descent instead.
    ems = [box[2] - box[0] for char, box in zip(chars, boxes, strict=True) if box and wide(char)]
    ems = ems or [box[3] - box[1] for box in real]
    return PdfLine(
        "".join(chars),
        min(box[0] for box in real),
        max(box[2] for box in real),
        min(box[1] for box in real),
        bottoms.most_common(1)[0][0],
        statistics.median(ems),
        tuple(edges),
    )


def _same_line(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    """Two boxes (left, top, right, bottom) share most of their height: they sit on one line."""
    overlap = min(a[3], b[3]) - max(a[1], b[1])
    return overlap > 0.5 * min(a[3] - a[1], b[3] - b[1])


def _merge_same_height(lines: list[PdfLine]) -> list[PdfLine]:
    """Pieces of one printed line that PDFium left apart (a gap, a change of font) joined, left to right."""
    merged: list[PdfLine] = []
    for line in lines:
        last = merged[-1] if merged else None
        if last is not None and _same_line(
            (last.x0, last.top, last.x1, last.base), (line.x0, line.top, line.x1, line.base)
        ):
            first, second = sorted((last, line), key=lambda x: x.x0)
            apart = second.x0 - first.x1 > 0.3 * max(first.em, second.em)
            gap = " " if apart and wide(first.text[-1]) == wide(second.text[0]) else ""
            edges = (*first.edges, *((first.x1,) if gap else ()), *second.edges)
            merged[-1] = PdfLine(
                first.text + gap + second.text,
                first.x0,
                max(first.x1, second.x1),
                min(first.top, second.top),
                first.base if len(first.text) >= len(second.text) else second.base,
                first.em if len(first.text) >= len(second.text) else second.em,
                edges if len(edges) == len(first.text) + len(gap) + len(second.text) else (),
            )
        else:
            merged.append(line)
    return merged


_NOT_A_TITLE = re.compile(
    r"^(?:microsoft\s+(?:word|powerpoint)|untitled|无标题|未命名|新建|文档\d*$|document\d*$|slide|幻灯片|\W*$)",
    re.IGNORECASE,
)
_FILE_SUFFIX = re.compile(r"\.(?:docx?|wps|pdf|txt|html?|rtf|odt|indd|xlsx?|pptx?|ceb|ofd)$", re.IGNORECASE)


def plausible_title(raw: str) -> str:
    """The metadata title when it reads as a title, else "" (file names, 'Microsoft Word - x.doc')."""
    title = clean_chars(raw).strip()
    title = re.sub(r"^microsoft\s+word\s*-\s*", "", title, flags=re.IGNORECASE)
    title = _FILE_SUFFIX.sub("", title).strip()
    if not 2 <= len(title) <= 100 or _NOT_A_TITLE.match(title) or re.search(r"[\\/]|^[A-Za-z]:", title):
        return ""
    if not re.search(r"[\u4e00-\u9fff]|[A-Za-z]{3}", title):
        return ""
    return title


def read_layout(data: bytes, name: str) -> tuple[list[PdfPage], str, int]:
    """The laid-out lines of every page, the metadata title and how many pages hold only an image."""
    _check_bytes(data, name)
    budget = _Budget(name)
    with _PDFIUM_LOCK:
        pdf = _open(data, name)
        try:
            count = len(pdf)
            if count > MAX_PAGES:
                raise ExtractError(
                    f"{name}: PDF 有 {count:,} 页，超过上限 {MAX_PAGES:,} 页，请只保留报告正文后再添加"
                )
            try:
                title = pdf.get_metadata_value("Title")
            except (pdfium.PdfiumError, UnicodeDecodeError, ValueError):
                title = ""
            pages: list[PdfPage] = []
            image_only = 0
            for index in range(count):
                try:
                    page, has_image = _read_page(pdf, index, name, budget)
                except pdfium.PdfiumError:
                    raise _fail(name, "damaged") from None
                pages.append(page)
                image_only += has_image
        finally:
            pdf.close()
    return pages, plausible_title(title or ""), image_only


def _one_line(name: str) -> str:
    """The file's name as messages show it: one line, printable, not endless."""
    return " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", name).split())[:200] or "PDF"


def extract_pdf_here(data: bytes, name: str) -> Extracted:
    """``extract_pdf`` in this process, without its memory and time limits (the child runs this)."""
    name = _one_line(name)
    try:
        pages, title, image_only = read_layout(data, name)
        text, offsets = assemble(pages)
    except ExtractError:
        raise
    except MemoryError:
        raise _fail(name, "too-big") from None
    except Exception as error:  # a library failing on a hostile file: the user gets one line, we the log
        log.warning("PDF extraction failed for %s", name, exc_info=error)
        raise _fail(name, "damaged") from None
    visible = len(re.sub(r"\s", "", text))
    odd = len(UNREADABLE.findall(text))
    if odd >= 10 and odd > UNREADABLE_SHARE * visible:  # before the length: mojibake says more
        raise _fail(name, "unreadable")
    if image_only and image_only * 2 >= len(pages):
        if visible < MIN_TEXT_CHARS:
            raise _fail(name, "scanned")
        # Text on a few pages (a typed cover), pictures on most: storing that text would pass a fraction
        # of the report off as the whole of it.
        raise ExtractError(
            f"{name}: PDF 的 {len(pages)} 页中有 {image_only} 页是扫描图片、没有文字层"
            "（本程序不做文字识别），请使用带文字的 PDF 或网页版报告"
        )
    if visible < MIN_TEXT_CHARS:
        raise ExtractError(
            f"{name}: PDF 中只提取到 {visible} 个字，不像一份完整的报告，请确认文件内容，或改用网页版报告"
        )
    return Extracted(text=text, format="pdf", pages=offsets, title=title)


def extract_pdf(data: bytes, name: str) -> Extracted:
    """The report text of a PDF with a text layer, or ExtractError with one line saying why not.

    Runs in a child process limited to ``MAX_MEMORY_BYTES`` of address space and ``MAX_SECONDS``.
    """
    name = _one_line(name)
    _check_bytes(data, name)  # the cheap refusals need no child
    command = [sys.executable, "-m", "index.extract_pdf", name, str(MAX_MEMORY_BYTES)]
    environment = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, (str(_ROOT), os.environ.get("PYTHONPATH"))))
    )
    try:
        child = subprocess.run(
            command, input=data, capture_output=True, timeout=MAX_SECONDS, env=environment, check=False
        )
    except subprocess.TimeoutExpired:
        raise _fail(name, "timeout") from None
    except OSError as error:
        log.warning("cannot start the PDF extraction process: %s", error)
        raise ExtractError(f"{name}: 无法启动 PDF 解析进程（{error.strerror}），请稍后重试") from None
    try:
        answer = json.loads(child.stdout)
    except ValueError:
        # No answer: the child died. PDFium aborts when an allocation fails under the cap (SIGABRT);
        # the kernel's OOM killer sends SIGKILL; anything else is a crash on a malformed file.
        log.warning(
            "PDF extraction of %s ended with code %s: %s", name, child.returncode, child.stderr[-2000:]
        )
        raise _fail(name, "too-big" if child.returncode in _OUT_OF_MEMORY else "damaged") from None
    if "error" in answer:
        raise ExtractError(answer["error"])
    return Extracted(text=answer["text"], format="pdf", pages=tuple(answer["pages"]), title=answer["title"])


_ROOT = Path(__file__).resolve().parent.parent
_OUT_OF_MEMORY = (-signal.SIGKILL, -signal.SIGABRT)


def _child(argv: Sequence[str]) -> int:
    """Read a PDF on stdin, write its extraction (or the error line) as JSON on stdout."""
    name, limit = argv[0], int(argv[1])
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass  # not every system lets a process cap itself; the time limit still holds
    data = sys.stdin.buffer.read()
    try:
        extracted = extract_pdf_here(data, name)
        answer: dict[str, object] = {
            "text": extracted.text,
            "pages": list(extracted.pages),
            "title": extracted.title,
        }
    except ExtractError as error:
        answer = {"error": str(error)}
    except MemoryError:
        answer = {"error": str(_fail(name, "too-big"))}
    sys.stdout.write(json.dumps(answer, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
