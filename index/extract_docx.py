"""DOCX extraction: a Word (.docx) file in, the report text it carries out.

In: the bytes of a .docx file and its name (for messages).
Out: ``Extracted(format="docx")``: the body's paragraphs in document order, one a line (a soft line
break inside a paragraph also starts a line, as on the page); each table row one line, its cells
joined by a tab (a cell's own paragraphs joined by a space); empty paragraphs dropped; headers,
footers, footnotes, comments and deleted (tracked) text left out. White space inside a line is
collapsed to one space and indentation (「　　」) stripped, as for web pages. ``title``: the core
properties' title, a Title/Heading 1 paragraph, or a first line naming a 报告 — only when it is one of
the document's first lines (core properties often carry a stale title from the file it was copied from).

How: the package is read with zipfile and lxml directly, not python-docx, for two measured reasons:
python-docx reads only paragraphs that are direct children of the body and runs that are direct
children of a paragraph, so text inside content controls (w:sdt), smart tags, tracked insertions,
customXml and simple fields is lost; and it loads every part of the package into memory, which a zip
bomb turns into gigabytes. Here the zip's directory is checked first (member count, declared sizes,
compression ratios) and only the few XML parts needed are read, each with a hard size bound.
Refused with ExtractError: not a zip (with what it is, when known), an old .doc or a password-protected
.docx (both OLE files), a zip without a Word body, a zip bomb, malformed XML, no text.
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
import zlib

import lxml.etree

from index.extract import MAX_FILE_BYTES, MIN_TEXT_CHARS, Extracted, ExtractError
from index.extract_html import BINARY_MAGIC, INVISIBLE, WHITESPACE_RUN

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# An encrypted OOXML file is an OLE container holding these streams (names in UTF-16LE).
ENCRYPTED_STREAMS = ("EncryptedPackage".encode("utf-16-le"), "EncryptionInfo".encode("utf-16-le"))

MAX_MEMBERS = 5_000  # a report .docx has tens; each directory entry costs Python memory
MAX_PART_BYTES = 200 * 2**20  # one XML part read; a 300-page report's document.xml is ~10 MB
MAX_TOTAL_BYTES = 1024 * 2**20  # all members as the directory declares them
MAX_RATIO = 100  # deflated XML runs at 5–20:1; 1,000:1 is zeros, i.e. a bomb
RATIO_FLOOR = 2**20  # members smaller than this may have any ratio (tiny repetitive XML)

DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
STRICT_DOC_REL = "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument"
MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
TITLE_STYLES = ("title", "heading 1", "标题", "标题 1")
GENERIC_TITLES = re.compile(
    r"^(Microsoft Word - .*|文档\d*|新建.*文档.*|Document\d*|标题|Title|无标题.*)$", re.I
)
TITLE_WINDOW = 5  # a title must be one of the first lines of the text

OLD_DOC = "这是旧版 Word 文件（.doc），请用 Word 或 WPS 打开后“另存为” .docx 格式再添加"
ENCRYPTED = "这个 Word 文件设了打开密码（已加密），请在 Word 中取消密码后另存为 .docx 再添加"
# What zipfile and zlib raise on a damaged archive (a bad CRC, a negative seek, a truncated stream).
ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    struct.error,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
)
DAMAGED = "Word 文件已损坏（压缩数据有误），请用 Word 打开修复后另存为 .docx 再添加"


def extract_docx(data: bytes, name: str) -> Extracted:
    """The report text of a .docx file, or ExtractError saying what is wrong and what to do."""
    archive = _open_zip(data, name)
    with archive:
        try:
            document_path = _document_path(archive, name)
            document = _parse(_read(archive, document_path, name), name)
            styles = _optional_part(
                archive, posixpath.join(posixpath.dirname(document_path), "styles.xml"), name
            )
            core = _optional_part(archive, "docProps/core.xml", name)
        except ZIP_ERRORS as error:
            raise ExtractError(f"{name}: {DAMAGED}") from error
    lines, styled = _document_lines(document, _title_style_ids(styles))
    if sum(len(line) for line in lines) < MIN_TEXT_CHARS:
        raise ExtractError(
            f"{name}: Word 文件里几乎没有文字（可能是扫描图片或空白文档），请添加有文字的报告，或先做文字识别"
        )
    title = _title(lines, styled, core)
    return Extracted(text="\n".join(lines) + "\n", format="docx", title=title)


def _open_zip(data: bytes, name: str) -> zipfile.ZipFile:
    """The zip, once its directory shows no bomb; ExtractError for anything that is not a .docx."""
    if len(data) > MAX_FILE_BYTES:
        raise ExtractError(f"{name}: 文件超过 {MAX_FILE_BYTES // 2**20} MB，请压缩图片或删去附件后再添加")
    if data.startswith(OLE_MAGIC):
        encrypted = any(stream in data for stream in ENCRYPTED_STREAMS)
        raise ExtractError(f"{name}: {ENCRYPTED if encrypted else OLD_DOC}")
    if not data.startswith(b"PK"):
        head = data[:4096].lstrip()
        what = next((what for magic, what in BINARY_MAGIC if head.startswith(magic)), "")
        if not what and re.match(rb"(?i)<(!doctype|html|\?xml)|\{\\rtf", head):
            what = "网页、XML 或 RTF 文件，请在 Word 中另存为 .docx 格式再添加"
        raise ExtractError(
            f"{name}: 这不是 Word (.docx) 文件"
            + (f"，而是{what}" if what else "，请用 Word 另存为 .docx 格式再添加")
        )
    _check_directory_size(data, name)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except ZIP_ERRORS as error:
        raise ExtractError(f"{name}: {DAMAGED}") from error
    members = archive.infolist()
    declared = sum(info.file_size for info in members)
    ratio = max(
        (info.file_size / max(1, info.compress_size) for info in members if info.file_size > RATIO_FLOOR),
        default=0.0,
    )
    if declared > MAX_TOTAL_BYTES or ratio > MAX_RATIO:
        archive.close()
        raise ExtractError(
            f"{name}: Word 文件解压后异常庞大（声明 {declared / 2**20:,.0f} MB，最大压缩比 {ratio:,.0f}:1），"
            "可能是恶意构造的压缩包，已拒绝；如是正常文档，请用 Word 另存为新的 .docx"
        )
    for info in members:
        if info.flag_bits & 0x1:
            archive.close()
            raise ExtractError(f"{name}: {ENCRYPTED}")
    return archive


def _check_directory_size(data: bytes, name: str) -> None:
    """Refuse a zip whose end record announces more members than any document has, before zipfile
    builds an object for each of them."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or end + 22 > len(data):
        raise ExtractError(f"{name}: {DAMAGED}")
    (entries,) = struct.unpack_from("<H", data, end + 10)
    if entries > MAX_MEMBERS and entries != 0xFFFF:
        raise ExtractError(
            f"{name}: Word 文件里的部件多达 {entries:,} 个，不像正常文档，已拒绝；请用 Word 另存为新的 .docx"
        )
    if entries == 0xFFFF:  # ZIP64: the real count is elsewhere; a report never needs ZIP64
        raise ExtractError(f"{name}: Word 文件的压缩结构异常（ZIP64），请用 Word 另存为新的 .docx")


def _read(archive: zipfile.ZipFile, path: str, name: str) -> bytes:
    """One member's bytes, never more than MAX_PART_BYTES, whatever its header claims."""
    with archive.open(path) as member:
        content = member.read(MAX_PART_BYTES + 1)
    if len(content) > MAX_PART_BYTES:
        raise ExtractError(
            f"{name}: Word 文件的正文部分超过 {MAX_PART_BYTES // 2**20} MB，无法处理，请拆分文档后再添加"
        )
    return content


def _document_path(archive: zipfile.ZipFile, name: str) -> str:
    """Where the main document part is: the package relationship says, word/document.xml by default."""
    names = set(archive.namelist())
    if "_rels/.rels" in names:
        try:
            rels = _parse(_read(archive, "_rels/.rels", name), name)
        except (ExtractError, *ZIP_ERRORS):
            rels = []  # a damaged relationship part: look where Word puts the body
        for rel in rels:
            if rel.get("Type") in (DOC_REL, STRICT_DOC_REL):
                target = rel.get("Target", "").lstrip("/")
                if target in names:
                    return target
    if "word/document.xml" in names:
        return "word/document.xml"
    raise ExtractError(
        f"{name}: 压缩包里没有 Word 正文（word/document.xml），不是 Word 文档"
        "（可能是 Excel/PowerPoint 文件或别的压缩包），请添加 .docx 文件"
    )


def _optional_part(archive: zipfile.ZipFile, path: str, name: str) -> lxml.etree._Element | None:
    """A part that helps (styles, core properties) but whose damage should not refuse the file."""
    if path not in archive.namelist():
        return None
    try:
        return _parse(_read(archive, path, name), name)
    except (ExtractError, *ZIP_ERRORS):
        return None


def _parse(content: bytes, name: str) -> lxml.etree._Element:
    # No entity expansion, no DTD, no network: the XML comes from an unknown file. libxml2's default
    # limits (depth 256, 10 MB text nodes) stay on.
    parser = lxml.etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True, remove_pis=True
    )
    try:
        return lxml.etree.fromstring(content, parser=parser)
    except lxml.etree.XMLSyntaxError as error:
        raise ExtractError(
            f"{name}: Word 文件的内容已损坏（XML 格式错误），请用 Word 打开修复后另存为 .docx 再添加"
        ) from error


def _title_style_ids(styles: lxml.etree._Element | None) -> set[str]:
    """Style ids whose (English, canonical) names are Title or Heading 1; ids are localised, names not."""
    if styles is None:
        return set()
    ns = _namespace(styles)
    ids = set()
    for style in styles.iter(f"{{{ns}}}style"):
        style_name = style.find(f"{{{ns}}}name")
        if style_name is not None and (style_name.get(f"{{{ns}}}val") or "").lower() in TITLE_STYLES:
            ids.add(style.get(f"{{{ns}}}styleId") or "")
    return ids


def _namespace(element: lxml.etree._Element) -> str:
    return lxml.etree.QName(element).namespace or ""


def _clean(text: str) -> str:
    return WHITESPACE_RUN.sub(" ", INVISIBLE.sub("", text)).strip()


def _document_lines(document: lxml.etree._Element, title_styles: set[str]) -> tuple[list[str], set[str]]:
    """The body's lines in document order, and the lines set in a title style."""
    ns = _namespace(document)
    w = f"{{{ns}}}"
    body = document.find(f"{w}body")
    if body is None:
        return [], set()
    lines: list[str] = []
    styled: set[str] = set()

    def paragraph(p: lxml.etree._Element) -> list[str]:
        """A paragraph's lines (a w:br or w:cr starts a new one), and its text boxes' paragraphs after."""
        parts: list[str] = []
        boxes: list[lxml.etree._Element] = []
        stack = [p]
        while stack:
            element = stack.pop()
            tag = element.tag
            if not isinstance(tag, str):
                continue
            if tag == f"{w}t":
                parts.append(element.text or "")
            elif tag == f"{w}tab":
                parts.append("\t")
            elif tag in (f"{w}br", f"{w}cr"):
                parts.append("\n")
            elif tag == f"{w}noBreakHyphen":
                parts.append("-")
            elif tag == f"{w}txbxContent":
                boxes.append(element)
            elif tag in (
                f"{w}del",
                f"{w}moveFrom",
                f"{w}instrText",
                f"{w}delText",
                MC_FALLBACK,
                f"{w}rPr",
                f"{w}pPr",
            ) or (tag == f"{w}r" and _hidden_run(element, w)):
                continue  # deleted, moved-away, field codes, a second copy for old readers, hidden text
            else:
                stack.extend(reversed(element))
        out = [line for line in (_clean(part) for part in "".join(parts).split("\n")) if line]
        for box in boxes:
            out += blocks(box)
        return out

    def table_rows(table: lxml.etree._Element) -> list[str]:
        rows = []
        for row in table.iter(f"{w}tr"):
            if _nearest(row, f"{w}tbl") is not table:
                continue  # a nested table's rows read as part of their cell
            cells = []
            for cell in row:
                if cell.tag == f"{w}tc" or cell.tag == f"{w}sdt":
                    cells.append(" ".join(blocks(cell)))
            if any(cells):
                rows.append("\t".join(cells).strip())
        return rows

    def blocks(container: lxml.etree._Element) -> list[str]:
        out: list[str] = []
        stack = list(reversed(container))
        while stack:
            element = stack.pop()
            if element.tag == f"{w}p":
                got = paragraph(element)
                style = element.find(f"{w}pPr/{w}pStyle")
                if got and style is not None and style.get(f"{w}val") in title_styles:
                    styled.add(got[0])
                out += got
            elif element.tag == f"{w}tbl":
                out += table_rows(element)
            elif element.tag in (f"{w}del", f"{w}moveFrom", MC_FALLBACK, f"{w}sectPr"):
                continue
            else:  # w:sdt, w:sdtContent, w:customXml, w:ins, w:smartTag …: look inside
                stack.extend(reversed(element))
        return out

    lines = blocks(body)
    return lines, styled


def _nearest(element: lxml.etree._Element, tag: str) -> lxml.etree._Element | None:
    parent = element.getparent()
    while parent is not None and parent.tag != tag:
        parent = parent.getparent()
    return parent


def _hidden_run(run: lxml.etree._Element, w: str) -> bool:
    vanish = run.find(f"{w}rPr/{w}vanish")
    return vanish is not None and vanish.get(f"{w}val", "true") not in ("0", "false", "off")


def _title(lines: list[str], styled: set[str], core: lxml.etree._Element | None) -> str:
    first = lines[:TITLE_WINDOW]

    def sensible(text: str) -> bool:
        return (
            4 <= len(text) <= 80
            and "。" not in text
            and not GENERIC_TITLES.match(text)
            and not re.match(r"^[一二三四五六七八九十]+、|^[(（][一二三四五六七八九十]+[)）]", text)
        )

    if core is not None:
        element = core.find("{http://purl.org/dc/elements/1.1/}title")
        core_title = _clean(element.text or "") if element is not None else ""
        if core_title and sensible(core_title) and any(core_title in line for line in first):
            return core_title
    for line in first:
        if line in styled and sensible(line):
            return line
    return next((line for line in first if "报告" in line and sensible(line)), "")
