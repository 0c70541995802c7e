"""PDF extraction (index/extract_pdf.py): committed fixtures, synthetic page layouts, and (slow) real
reports printed by Chromium.

The fixtures come from ``tests/fixtures/make_pdf.py``; each ``report*.pdf`` has its paragraphs in
``report*.txt`` and, in ``report*-pages.json``, the first characters of each page's text as poppler's
pdftotext found them when the fixture was made.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import zlib
from pathlib import Path

import pytest

from index import extract_pdf as module
from index.extract import MIN_TEXT_CHARS, Extracted, ExtractError
from index.extract_pdf import (
    PdfLine,
    PdfPage,
    assemble,
    clean_chars,
    extract_pdf,
    extract_pdf_here,
    joiner,
    plausible_title,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "pdf"
PAGE_NUMBER_LINE = re.compile(r"^[-—–\s]*\d+[-—–\s]*$|^第\s*\d+\s*页|^\d+\s*/\s*\d+$")


def _read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture(scope="module")
def report() -> Extracted:
    return extract_pdf(_read("report.pdf"), "report.pdf")


@pytest.fixture(scope="module")
def report_lo() -> Extracted:
    return extract_pdf(_read("report-lo.pdf"), "report-lo.pdf")


# --- the committed PDFs -------------------------------------------------------------------------


@pytest.mark.parametrize("stem", ["report", "report-lo"])
def test_text_is_the_source_paragraphs_exactly(stem: str, report: Extracted, report_lo: Extracted) -> None:
    extracted = report if stem == "report" else report_lo
    truth = (FIXTURES / f"{stem}.txt").read_text(encoding="utf-8").splitlines()
    assert extracted.format == "pdf"
    assert extracted.text.split("\n") == truth


def test_headers_footers_and_page_numbers_are_dropped(report: Extracted, report_lo: Extracted) -> None:
    for extracted in (report, report_lo):
        lines = extracted.text.split("\n")
        assert not [line for line in lines if PAGE_NUMBER_LINE.match(line)]
        # The running header is the report's title: kept once, as the title line, never again.
        assert extracted.text.count(lines[0]) == 1
    assert "— 2 —" not in report.text and "第2页" not in report_lo.text


@pytest.mark.parametrize("stem", ["report", "report-lo"])
def test_page_offsets_point_at_each_page_s_first_characters(
    stem: str, report: Extracted, report_lo: Extracted
) -> None:
    extracted = report if stem == "report" else report_lo
    expected = json.loads((FIXTURES / f"{stem}-pages.json").read_text(encoding="utf-8"))
    assert len(extracted.pages) == len(expected) >= 2
    assert extracted.pages[0] == 0
    assert list(extracted.pages) == sorted(extracted.pages)
    for offset, start in zip(extracted.pages, expected, strict=True):
        assert re.sub(r"\s", "", extracted.text[offset : offset + 30]).startswith(start)


def test_a_paragraph_across_a_page_break_is_one_line(report: Extracted, report_lo: Extracted) -> None:
    for stem, extracted in (("report", report), ("report-lo", report_lo)):
        truth = set((FIXTURES / f"{stem}.txt").read_text(encoding="utf-8").splitlines())
        inside = [offset for offset in extracted.pages[1:] if extracted.text[offset - 1] != "\n"]
        assert inside, f"{stem}: no page starts inside a paragraph"
        for offset in inside:
            start = extracted.text.rfind("\n", 0, offset) + 1
            end = extracted.text.find("\n", offset)
            assert extracted.text[start : end if end >= 0 else None] in truth


def test_metadata_title(report: Extracted) -> None:
    assert report.title == "2026年河南省政府工作报告"


def test_latin_digits_among_chinese_get_no_space(report_lo: Extracted) -> None:
    # LibreOffice leaves a gap between Chinese and Latin text; PDFium reads it as a space.
    assert "5%—5.5%" in report_lo.text and "5% 以内" not in report_lo.text
    assert not re.search(r"[\u4e00-\u9fff] [0-9]|[0-9] [\u4e00-\u9fff]", report_lo.text)


def test_text_has_no_control_characters_or_radicals(report: Extracted, report_lo: Extracted) -> None:
    for extracted in (report, report_lo):
        assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f\u2e80-\u2fdf]", extracted.text)


def test_owner_password_only_pdf_is_read() -> None:
    plain = extract_pdf(_read("short.pdf"), "short.pdf")
    owner = extract_pdf(_read("owner-only.pdf"), "owner-only.pdf")
    assert owner.text == plain.text and len(owner.text) >= MIN_TEXT_CHARS


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("encrypted.pdf", "密码"),
        ("scanned.pdf", "扫描版"),
        ("truncated.pdf", "不完整"),
        ("not-a-pdf.pdf", "不是 PDF"),
        ("no-tounicode.pdf", "乱码"),
    ],
)
def test_bad_files_are_refused_with_one_line(name: str, says: str) -> None:
    with pytest.raises(ExtractError) as caught:
        extract_pdf(_read(name), name)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{name}: ") and says in message


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"PK\x03\x04" + bytes(200),  # a .docx renamed
        b"\x89PNG\r\n\x1a\n" + bytes(200),
        "<html><body>政府工作报告</body></html>".encode(),
        b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n",  # a header, then nothing a reader can use
    ],
)
def test_renamed_binaries_and_empty_files_are_refused(data: bytes) -> None:
    with pytest.raises(ExtractError) as caught:
        extract_pdf(data, "报告\n\x00.pdf")
    assert "\n" not in str(caught.value)


def test_mostly_scanned_pdf_is_refused_even_with_some_text() -> None:
    import pypdfium2

    mixed = pypdfium2.PdfDocument(_read("short.pdf"))
    for _ in range(2):
        mixed.import_pages(pypdfium2.PdfDocument(_read("scanned.pdf")))
    buffer = io.BytesIO()
    mixed.save(buffer)
    with pytest.raises(ExtractError, match="3 页中有 2 页是扫描图片"):
        extract_pdf(buffer.getvalue(), "mixed.pdf")


def test_too_little_text_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "MIN_TEXT_CHARS", 10_000)
    with pytest.raises(ExtractError, match=r"只提取到 \d+ 个字"):
        extract_pdf_here(_read("short.pdf"), "short.pdf")


def test_page_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "MAX_PAGES", 2)
    with pytest.raises(ExtractError, match="超过上限 2 页"):
        extract_pdf_here(_read("report.pdf"), "report.pdf")


def test_character_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "MAX_TEXT_CHARS", 500)
    with pytest.raises(ExtractError, match="超过 500 字"):
        extract_pdf_here(_read("report.pdf"), "report.pdf")


def test_time_limit_stops_the_child(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "MAX_SECONDS", 0.001)
    with pytest.raises(ExtractError, match="秒仍未完成"):
        extract_pdf(_read("report.pdf"), "report.pdf")


def test_memory_cap_stops_a_decompression_bomb(monkeypatch: pytest.MonkeyPatch) -> None:
    # 200 MB of blanks in one content stream, in a 200 KB file; the child may use 128 MB.
    monkeypatch.setattr(module, "MAX_MEMORY_BYTES", 128 << 20)
    packer = zlib.compressobj(9)
    stream = b"".join(packer.compress(b" " * (1 << 20)) for _ in range(200)) + packer.flush()
    with pytest.raises(ExtractError, match="内存超过 128 MB"):
        extract_pdf(_bomb(stream), "bomb.pdf")


def _bomb(stream: bytes) -> bytes:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 5\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


# --- layout rules on synthetic pages -------------------------------------------------------------

EM = 16.0
LEFT = 80.0
WIDTH = 26  # characters to a full line
PITCH = 28.0
# Real report text, so that no two pages' lines repeat (a repeated line at a page's edge is a header).
FILLER = "".join((FIXTURES / "report.txt").read_text(encoding="utf-8").splitlines()[4:])


def _text(n: int, length: int) -> str:
    return FILLER[n * 300 : n * 300 + length]


def _line(text: str, row: int, indent: int = 0) -> PdfLine:
    x0 = LEFT + indent * EM
    edges = tuple(x0 + (k + 1) * EM for k in range(len(text)))
    top = 100.0 + row * PITCH
    return PdfLine(text, x0, edges[-1], top, top + EM, EM, edges)


def _paragraph(text: str, row: int, indent: int = 2) -> list[PdfLine]:
    """``text`` laid out as a justified paragraph from ``row``: first line indented, full lines after."""
    lines, first = [], WIDTH - indent
    lines.append(_line(text[:first], row, indent))
    for k, start in enumerate(range(first, len(text), WIDTH), start=1):
        lines.append(_line(text[start : start + WIDTH], row + k))
    return lines


def _page(lines: list[PdfLine], header: str = "2026年某省政府工作报告", footer: str = "") -> PdfPage:
    edges = [PdfLine(header, 200.0, 200.0 + len(header) * 9, 40.0, 49.0, 9.0)] if header else []
    if footer:
        edges.append(PdfLine(footer, 280.0, 280.0 + len(footer) * 6, 800.0, 811.0, 11.0))
    return PdfPage(595.0, 842.0, tuple(sorted([*lines, *edges], key=lambda line: line.top)))


@pytest.mark.parametrize(
    "style", ["- {n} -", "— {n} —", "第{n}页", "第 {n} 页 共 20 页", "{n}", "{n}/20", "{n} / 20", "Page {n}"]
)
def test_page_number_lines_are_dropped(style: str) -> None:
    texts = [_text(n, 20 * WIDTH + 5) for n in range(4)]
    pages = [_page(_paragraph(texts[n], 0), footer=style.format(n=n + 1)) for n in range(4)]
    text, offsets = assemble(pages)
    assert text.split("\n") == texts
    assert offsets == tuple(k * (20 * WIDTH + 6) for k in range(4))


def test_body_lines_that_start_with_a_number_are_kept() -> None:
    # A line that is only a figure, and lines that start with one, at the pages' top and bottom edges
    # where page numbers sit; the real page numbers are in the bottom margin.
    pages, expected = [], []
    for n in range(1, 4):
        opening = f"{2020 + n}年全省地区生产总值增长{n}.5%，" + _text(n, 60)
        lines = _paragraph(opening, 0) + _paragraph(f"{n}. 稳住经济大盘。", 4) + _paragraph("3", 5)
        pages.append(_page(lines, header="", footer=f"{n}"))
        expected += [opening, f"{n}. 稳住经济大盘。", "3"]
    text, _ = assemble(pages)
    assert text.split("\n") == expected


def test_running_header_dropped_but_the_same_title_on_page_one_kept() -> None:
    title = "2026年某省政府工作报告"
    heading = PdfLine(title, 200.0, 200.0 + len(title) * 22, 60.0, 82.0, 22.0)
    body = [
        _line(line.text, 1 + k, 2 if k == 0 else 0) for k, line in enumerate(_paragraph(_text(0, 200), 0))
    ]
    pages = [_page([heading, *body], header=title, footer="— 1 —")]
    pages += [_page(_paragraph(_text(n, 300), 0), header=title, footer=f"— {n + 1} —") for n in (1, 2)]
    text, _ = assemble(pages)
    assert text.split("\n") == [title, _text(0, 200), _text(1, 300), _text(2, 300)]


def test_wrapped_lines_join_and_paragraphs_split_by_layout() -> None:
    first = (
        "过去一年，我们坚持稳中求进工作总基调，全力以赴稳增长、促改革、调结构、惠民生、防风险，"
        "经济社会发展取得新成效。"
    )
    second = "二是扩大有效投资，重点项目完成投资超过计划进度，新开工项目三百个。"
    full = _text(1, 2 * WIDTH - 3) + "。"  # its last line is full
    lines = [_line("一、过去一年的工作", 0, indent=2), *_paragraph(first, 1)]
    lines += _paragraph(second, 1 + len(lines))
    lines += [*_paragraph(full, 10), _line("（一）flush-left 标题", 12)]  # a heading without indent
    text, offsets = assemble([_page(lines, header="")])
    assert text.split("\n") == ["一、过去一年的工作", first, second, full, "（一）flush-left 标题"]
    assert offsets == (0,)


def test_a_line_ending_short_because_a_number_did_not_fit_is_no_paragraph_end() -> None:
    # 「12345.6」 (3.5 em) could not stand at the end of the line before, which stops 3 em short and
    # goes on: the break was the line breaker's, not the end of a paragraph.
    head = _paragraph(FILLER[: WIDTH - 2], 0)[0]
    short = _line(FILLER[: WIDTH - 3], 1)
    number = "12345.6亿元，创历史新高。"
    edges, x = [], LEFT
    for char in number:
        x += EM / 2 if char.isascii() else EM
        edges.append(x)
    tail = PdfLine(number, LEFT, edges[-1], 100.0 + 2 * PITCH, 100.0 + 2 * PITCH + EM, EM, tuple(edges))
    full = _line(FILLER[:WIDTH], 3)  # sets the right margin
    text, _ = assemble([_page([head, short, tail, _line(FILLER[: WIDTH - 2], 4, 2), full], header="")])
    assert text.split("\n")[0] == FILLER[: WIDTH - 2] + FILLER[: WIDTH - 3] + number


def test_joiner_spaces_only_latin_words() -> None:
    assert joiner("推动", "高质量") == ""
    assert joiner("artificial", "intelligence") == " "
    assert joiner("AI", "PC") == " "
    assert joiner("GDP,", "CPI") == " "
    assert joiner("1-", "2家") == ""
    assert joiner("增长", "5%") == ""
    assert joiner("达到1", "0.36") == ""  # a number broken anywhere joins whole
    assert joiner("6.", "66万亿元") == ""


def test_clean_chars_maps_pdf_artefacts() -> None:
    assert clean_chars("⼯作⻓效⼾籍") == "工作长效户籍"
    assert clean_chars("ﬁnance\x00\x07") == "finance"
    assert clean_chars("省长\u3000王正谱\u00a0\u200b") == "省长\u3000王正谱 "
    assert clean_chars("①②％（一）") == "①②％（一）"  # what the report prints stays


@pytest.mark.parametrize(
    ("raw", "title"),
    [
        ("2026年河南省政府工作报告", "2026年河南省政府工作报告"),
        ("Microsoft Word - 政府工作报告.docx", "政府工作报告"),
        ("untitled", ""),
        ("C:\\Users\\x\\报告.doc", ""),
        ("123", ""),
        ("", ""),
    ],
)
def test_plausible_title(raw: str, title: str) -> None:
    assert plausible_title(raw) == title


# --- real reports through Chromium (slow) --------------------------------------------------------


@pytest.mark.slow
def test_real_reports_printed_by_chromium(tmp_path: Path) -> None:
    """Three provincial reports in three layouts: their paragraphs exactly, no furniture, page offsets.

    Needs Chromium and Playwright (skipped without them, failed under CI=true); the page offsets are
    checked against poppler's pdftotext when it is installed.
    """
    missing = [] if Path("/usr/bin/chromium").exists() else ["/usr/bin/chromium"]
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright")
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"needed for this test: {missing}")
        pytest.skip(f"needed for this test: {missing}")

    from eval.extract_pdf import (
        LAYOUTS,
        Sample,
        furniture_leaked,
        oracle_page_starts,
        render_chromium,
        reports,
    )

    chosen = [r for r in reports() if r.key.startswith(("湖北", "贵州", "陕西"))]
    found = [
        Sample(report, LAYOUTS[k], "chromium", tmp_path / f"{k}.pdf")
        for k, report in zip((1, 2, 5), chosen, strict=True)  # ragged right; spaced; flush-left headings
    ]
    render_chromium([(s.report, s.layout, s.path) for s in found])
    for sample in found:
        extracted = extract_pdf(sample.path.read_bytes(), sample.path.name)
        lines, truth = extracted.text.split("\n"), set(sample.report.paragraphs)
        found_share = len(truth & set(lines)) / len(truth)  # paragraphs found character for character
        exact_share = sum(line in truth for line in lines) / len(lines)  # lines that are a paragraph
        assert found_share >= 0.98 and exact_share >= 0.98, (sample.report.key, found_share, exact_share)
        assert furniture_leaked(sample, extracted.text, len(extracted.pages)) == 0
        if shutil.which("pdftotext"):
            expected = oracle_page_starts(sample)
            assert len(extracted.pages) == len(expected)
            for offset, start in zip(extracted.pages, expected, strict=True):
                assert re.sub(r"\s", "", extracted.text[offset : offset + 30]).startswith(start)
