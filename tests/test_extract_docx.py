"""Word (.docx) files in, report text out: paragraphs and table rows in order, bad files refused.

The fixtures (tests/fixtures/docx, made by tests/fixtures/make_docx.py) are an excerpt of the 浙江省
report written as WordprocessingML by hand; zip bombs and broken zips are built here at test time.
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from fixtures.make_docx import (
    FOOTER_TEXT,
    HEADER_TEXT,
    document_xml,
    docx_bytes,
    paragraph,
    report_docx,
    run,
    zip_bomb_declared,
    zip_bomb_ratio,
    zip_lying_sizes,
)

from index.extract import ExtractError
from index.extract_docx import extract_docx

DOCX = Path(__file__).resolve().parent / "fixtures" / "docx"
EXPECTED = (DOCX / "excerpt.txt").read_text(encoding="utf-8").splitlines()
TITLE = EXPECTED[0]
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def lines_of(text: str) -> list[str]:
    return text.split("\n")[:-1]


def test_paragraphs_and_table_rows_in_order() -> None:
    extracted = extract_docx((DOCX / "report.docx").read_bytes(), "report.docx")
    assert extracted.format == "docx" and extracted.pages == ()
    assert lines_of(extracted.text) == EXPECTED
    assert extracted.title == TITLE
    assert "指标\t2025年\t2026年预期" in EXPECTED  # table rows: cells joined by a tab


def test_no_header_footer_deleted_hidden_or_field_code_text() -> None:
    text = extract_docx((DOCX / "report.docx").read_bytes(), "report.docx").text
    for absent in (HEADER_TEXT, FOOTER_TEXT, "已删除的文字", "隐藏文字", "PAGE", "MERGEFIELD", "　"):
        assert absent not in text
    assert text.endswith("\n") and "\n\n" not in text and not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", text)
    assert all(line == line.strip() and line for line in lines_of(text))


def test_title_only_when_it_is_among_the_first_lines() -> None:
    body = EXPECTED[1:3] + [line for line in EXPECTED[3:] if "\t" not in line]
    stale_title = "关于做好2019年春节期间安全工作的通知"
    without_title = document_xml(stale_title, body).replace(paragraph(run(stale_title), style="a3"), "", 1)
    stale = report_docx(stale_title, body, document=without_title)
    assert extract_docx(stale, "r.docx").title == ""  # a stale core title and no title paragraph
    assert extract_docx(report_docx(TITLE, body), "r.docx").title == TITLE


def test_document_found_through_the_package_relationship() -> None:
    data = (DOCX / "report.docx").read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members["word/main.xml"] = members.pop("word/document.xml")
    members["_rels/.rels"] = members["_rels/.rels"].replace(b"word/document.xml", b"word/main.xml")
    moved = docx_bytes(members)
    assert lines_of(extract_docx(moved, "r.docx").text) == EXPECTED


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda: (DOCX / "old.doc").read_bytes(), "另存为"),
        (lambda: (DOCX / "encrypted.docx").read_bytes(), "密码"),
        (lambda: b"\x89PNG\r\n\x1a\n" + bytes(300), "PNG"),
        (lambda: b"%PDF-1.7\n" + bytes(300), "PDF"),
        (lambda: "这是一段改了扩展名的纯文本。".encode() * 30, "不是 Word"),
        (lambda: b"PK\x03\x04" + bytes(300), "损坏"),
        (
            lambda: docx_bytes({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>"}),
            "document.xml",
        ),
        (lambda: docx_bytes({"word/document.xml": f'<w:document xmlns:w="{W_NS}"><w:body><w:p>'}), "XML"),
        (
            lambda: docx_bytes({"word/document.xml": f'<w:document xmlns:w="{W_NS}"><w:body/></w:document>'}),
            "没有文字",
        ),
        (zip_bomb_ratio, "压缩比"),
        (zip_bomb_declared, "异常庞大"),
        (zip_lying_sizes, "损坏"),
    ],
    ids=[
        "old-doc",
        "encrypted",
        "png",
        "pdf",
        "text",
        "broken-zip",
        "no-document",
        "malformed-xml",
        "empty-body",
        "bomb-ratio",
        "bomb-declared",
        "lying-sizes",
    ],
)
def test_bad_files_are_refused_with_one_line(make: Callable[[], bytes], says: str) -> None:
    data = make()
    start = time.perf_counter()
    with pytest.raises(ExtractError) as error:
        extract_docx(data, "bad.docx")
    assert time.perf_counter() - start < 5  # refused from the directory, not after inflating
    message = str(error.value)
    assert "\n" not in message and message.startswith("bad.docx: ") and says in message, message


def test_bombs_are_small_on_disk() -> None:
    assert len(zip_bomb_declared()) < 10_000
    assert len(zip_bomb_ratio()) < 100_000


def test_entity_expansion_is_not_performed() -> None:
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "哈哈哈哈哈哈哈哈哈哈">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        f'<w:document xmlns:w="{W_NS}"><w:body><w:p><w:r><w:t>&c;</w:t></w:r></w:p></w:body></w:document>'
    )
    with pytest.raises(ExtractError):
        extract_docx(docx_bytes({"word/document.xml": laughs}), "bad.docx")
