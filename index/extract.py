"""Extraction: a report file as a user found it in, the text the library stores out.

In: a file's name and bytes — a plain-text or Markdown report, a saved web page (.html/.htm), a PDF
with a text layer, or a Word file (.docx).
Out: ``Extracted``: the report's text as the library will store it (UTF-8, ``\\n`` line ends, one
paragraph or heading a line, no page furniture), its format, and for a PDF the offset in that text
where each page starts. Every quote the product shows is an exact slice of this text, so it is what
gets written to the library folder; the original file is kept beside it for a reader to check.

The format comes from the name's suffix and must match the bytes (a renamed binary is refused).
Anything that cannot give report text raises ``ExtractError`` with one line saying what is wrong and
what to do; nothing is written before extraction succeeds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from index.errors import QAError

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 50 * 1024 * 1024  # a 300-page PDF report is about 5 MB; a page with images inlined more
MIN_TEXT_CHARS = 200  # shorter than any report: a page of navigation only, or a cover sheet
FORMATS = {".txt": "txt", ".md": "md", ".html": "html", ".htm": "html", ".pdf": "pdf", ".docx": "docx"}


class ExtractError(QAError):
    """A file that cannot give report text: empty, damaged, encrypted, scanned, of another format."""

    exit_code = 2


@dataclass(frozen=True)
class Extracted:
    text: str  # what the library stores; no BOM, no NUL, "\n" line ends
    format: str  # txt, md, html, pdf or docx
    pages: tuple[int, ...] = ()  # PDF only: offset in ``text`` where each page starts; pages[0] == 0
    title: str = ""  # a title the file itself gives (a page's <title> or <h1>, PDF metadata), if any


def file_format(name: str) -> str:
    """The format named by ``name``'s suffix, or ExtractError naming the formats accepted."""
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix not in FORMATS:
        accepted = "、".join(sorted(set(FORMATS)))
        raise ExtractError(f"{name}: 不支持这种文件（{suffix or '无扩展名'}），请使用 {accepted} 文件")
    return FORMATS[suffix]


def too_large(name: str, size: int) -> ExtractError:
    limit = MAX_FILE_BYTES // 2**20
    return ExtractError(f"{name}: 文件有 {size / 2**20:.0f} MB，超过 {limit} MB 的上限，请确认是报告文件")


def _decoded_text(name: str, data: bytes) -> str:
    """A plain-text report's text: UTF-8 as it is (the stored file is then the original, byte for
    byte), or GB18030 (a superset of GBK and GB2312, what Chinese Windows saves) converted to UTF-8."""
    if b"\x00" in data[:4096]:
        raise ExtractError(f"{name}: 这不是文本文件（含二进制内容），请确认文件类型，或另存为 UTF-8 文本")
    for encoding in ("utf-8", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        # A BOM would shift every quote's offset by one character; it is not part of the report.
        return text.removeprefix("\ufeff")
    raise ExtractError(f"{name}: 无法识别文本编码（既不是 UTF-8 也不是 GBK），请另存为 UTF-8 文本")


def _checked(name: str, extracted: Extracted) -> Extracted:
    """The same extraction, or ExtractError if it holds too little text to be a report."""
    text = extracted.text
    if "\x00" in text:
        raise ExtractError(f"{name}: 提取的文字含有空字符，文件可能已损坏，请重新下载")
    if len("".join(text.split())) < MIN_TEXT_CHARS:
        raise ExtractError(
            f"{name}: 文件中几乎没有文字（少于 {MIN_TEXT_CHARS} 字），不像一份工作报告，请确认文件内容"
        )
    return extracted


def extract(name: str, data: bytes) -> Extracted:
    """The report text of the file ``name`` holding ``data``; ExtractError (one line) if there is none."""
    kind = file_format(name)
    if len(data) > MAX_FILE_BYTES:
        raise too_large(name, len(data))
    if not data.strip():
        raise ExtractError(f"{name}: 文件是空的，请重新保存或下载报告")
    if kind in ("txt", "md"):
        return _checked(name, Extracted(_decoded_text(name, data), kind))
    try:
        return _checked(name, _parsed(kind, name, data))
    except (ExtractError, ImportError):
        raise
    except Exception as error:
        # A parsing library's own failure on a file it cannot read is still the file's fault: one
        # line for the user (the library's message stays in the log for a maintainer).
        log.info("extracting %s failed", name, exc_info=True)
        cause = type(error).__name__
        raise ExtractError(
            f"{name}: 无法读取这个 {kind.upper()} 文件（{cause}），文件可能已损坏，请重新下载或另存一份"
        ) from None


def _parsed(kind: str, name: str, data: bytes) -> Extracted:
    # Imported on use: each pulls in a parsing library that plain-text libraries never need.
    if kind == "pdf":
        from index.extract_pdf import extract_pdf

        return extract_pdf(data, name)
    if kind == "html":
        from index.extract_html import extract_html

        return extract_html(data, name)
    from index.extract_docx import extract_docx

    return extract_docx(data, name)
