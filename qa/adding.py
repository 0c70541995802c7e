"""The 「添加报告」 panel's logic, without the page: testable with no browser and no gradio.

In: what the page's events pass — the token typed in 「口令」, the paths where gradio keeps the uploaded
files (each path's base name is the file's original name), the preview table as the user edited it,
a report id to remove — and the ``Settings`` of the live index (library folder, token, limits).
Out: preview rows (file, 标题, 地区, 年份, 回顾, 规划, 段落数, 页数, 说明) and what was shown in them;
the reports added (``index.library.add_reports``) or removed (``index.library.remove_reports``); one
Chinese line per added or removed report. Every refusal is a ``QAError`` whose ``str()`` is the one
line the page shows.

Every entry point checks the token first (``check_token``): the page's events are private, but a
crafted queue call still reaches them. Nothing here writes a file: the uploaded bytes reach the
library folder only through ``add_reports``, under the name it chooses.
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.corpus import Report
from index.embed import Embedder
from index.errors import QAError, UsageError
from index.extract import FORMATS, MAX_FILE_BYTES, file_format, too_large
from index.library import (
    Addition,
    LibraryError,
    LibraryFolder,
    add_reports,
    check_name,
    prepare_all,
    remove_reports,
)
from index.library import user_fields as checked_fields
from index.metadata import period_text
from index.settings import Settings
from index.vectors import Progress

# A wrong token waits this long before it is refused: the page's upload events run one at a time, so
# guessing is held to about one try a second.
WRONG_TOKEN_DELAY = 1.0
MAX_TITLE_CHARS = 100
PREVIEW_HEADERS = ("文件", "标题", "地区", "年份", "回顾", "规划", "段落数", "页数", "说明")
EDITABLE_COLUMNS = (1, 2, 3)  # 标题, 地区, 年份: what a user may correct before adding
ACCEPTED_SUFFIXES = tuple(sorted(FORMATS))


class TokenError(UsageError):
    """A missing or wrong 口令 for adding or removing reports."""


@dataclass(frozen=True)
class Upload:
    path: str  # where gradio keeps it
    name: str  # the file's original name, as gradio keeps it in the path's base name
    data: bytes


@dataclass(frozen=True)
class Shown:
    """One file as 「读取」 showed it: where gradio keeps it, and the editable values of its row."""

    path: str
    name: str
    title: str
    region: str
    year: str
    derived_title: bool = False  # composed from region and year (none read from the file)


@dataclass(frozen=True)
class Preview:
    rows: list[list[str]]  # one per file, in PREVIEW_HEADERS order
    shown: list[Shown]  # what the rows showed, to tell a correction from an unchanged value


def check_token(given: str | None, settings: Settings) -> None:
    """Nothing when the panel is on and ``given`` is its token; else TokenError (one line), after
    WRONG_TOKEN_DELAY for a wrong or missing token."""
    if not settings.upload:
        raise UsageError("本页未开启添加报告。")
    expected = settings.upload_token
    if not expected:  # app.main always sets one; without it nothing may be added
        raise TokenError("添加报告的口令未设置，请管理员设置 upload_token 后重启。")
    given = given if isinstance(given, str) else ""
    # Compared in constant time, and always delayed when wrong, so neither timing nor speed helps guessing.
    if not hmac.compare_digest(given.strip().encode("utf-8"), expected.encode("utf-8")):
        time.sleep(WRONG_TOKEN_DELAY)
        raise TokenError("口令不对，请输入管理员给出的添加报告口令。" if given else "请先输入口令。")


def upload_name(path: str | Path) -> str:
    """The original file name gradio keeps as the base name of an uploaded file's path."""
    return Path(path).name


def read_uploads(paths: Sequence[str | Path] | None, settings: Settings) -> list[Upload]:
    """The uploaded files' names and bytes, or one line on what breaks the limits: at most
    ``max_upload_files`` files, each a supported type and at most MAX_FILE_BYTES."""
    paths = [p for p in (paths or []) if p]
    if not paths:
        raise UsageError("请先选择要添加的报告文件。")
    if len(paths) > settings.max_upload_files:
        raise UsageError(f"一次最多添加 {settings.max_upload_files} 个文件，这次选择了 {len(paths)} 个。")
    uploads = []
    for path in paths:
        name = check_name(upload_name(path))
        file_format(name)  # the type is checked before the size or the bytes
        try:
            size = Path(path).stat().st_size
            if size > MAX_FILE_BYTES:  # the server refuses these first; checked again here
                raise too_large(name, size)
            data = Path(path).read_bytes()
        except OSError:
            raise UsageError(f"{name}: 上传的文件已失效，请重新选择文件。") from None
        uploads.append(Upload(str(path), name, data))
    return uploads


UNKNOWN = "未知，请填写"
# index.metadata's origins of a field's value, by prefix, in words (the first that matches).
_ORIGINS = (
    ("text", "读自正文"),
    ("file name", "读自文件名，请核对"),
    ("guessed", "推测，请核对"),
    ("derived: region and year", "由地区和年份拼成"),
    ("derived: nothing known", UNKNOWN),
    ("derived", "推算，请核对"),
)


def _origin(report: Report, field: str) -> str:
    """Where a field's value came from, in words; UNKNOWN when nothing gave it."""
    origin = dict(report.origins).get(field, "")
    for prefix, words in _ORIGINS:
        if origin.startswith(prefix):
            return words
    return UNKNOWN


def _note(report: Report) -> str:
    """What of 标题, 地区, 年份 was not read from the report's text, and how it was found (or not)."""
    known = {"title": report.title, "region": report.region, "year": report.year}
    parts = []
    for field, label in (("title", "标题"), ("region", "地区"), ("year", "年份")):
        origin = _origin(report, field) if known[field] else UNKNOWN
        if origin != "读自正文":
            parts.append(f"{label}{origin}")
    return "；".join(parts) or "标题、地区、年份均读自正文"


def _years(single: Sequence[int], period: tuple[int, int] | None) -> str:
    parts = ["、".join(str(year) for year in single), period_text(period)]
    return "；".join(p for p in parts if p)


def preview_row(addition: Addition) -> list[str]:
    """The preview table's row for one file (PREVIEW_HEADERS order)."""
    report = addition.report
    reviews = [report.reviews] if report.reviews is not None else []
    return [
        addition.name,
        report.title,
        report.region,
        str(report.year) if report.year else "",
        _years(reviews, report.review_period),
        _years(report.plans, report.plan_period),
        str(addition.paragraphs),  # as the index and the 「报告库」 table count them: headings too
        str(len(report.pages)) if report.pages else "",
        _note(report),
    ]


def preview(token: str | None, paths: Sequence[str | Path] | None, settings: Settings) -> Preview:
    """Each uploaded file extracted and checked against the library, nothing written: its row and
    what the row showed. One line (naming the file) when any file cannot be added."""
    check_token(token, settings)
    uploads = read_uploads(paths, settings)
    files = [(upload.name, upload.data, {}) for upload in uploads]
    additions = prepare_all(files, LibraryFolder.read(settings.corpus_dir))
    rows = [preview_row(addition) for addition in additions]
    shown = [
        Shown(upload.path, *row[:4], dict(addition.report.origins).get("title", "").startswith("derived"))
        for upload, addition, row in zip(uploads, additions, rows, strict=True)
    ]
    return Preview(rows, shown)


def _cell(row: Sequence[Any], column: int) -> str:
    value = row[column] if column < len(row) else ""
    if value is None or (isinstance(value, float) and value != value):  # an emptied cell: None or NaN
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def corrected_fields(row: Sequence[Any], shown: Shown) -> dict[str, Any]:
    """The fields the user changed in a preview row, checked (region resolved to its full name); an
    emptied cell keeps the value read from the file. A title composed from region and year is composed
    again from the corrected ones, unless the user wrote one."""
    title, region, year = (_cell(row, column) for column in EDITABLE_COLUMNS)
    changed: dict[str, Any] = {}
    if title and title != shown.title:
        if len(title) > MAX_TITLE_CHARS:
            too_long = f"标题太长（{len(title)} 字），请缩短到 {MAX_TITLE_CHARS} 字以内。"
            raise LibraryError(f"{shown.name}: {too_long}")
        changed["title"] = title
    if region and region != shown.region:
        changed["region"] = region
    if year and year != shown.year:
        match = re.fullmatch(r"(\d{4})\s*年?", year)
        if not match:
            raise LibraryError(f"{shown.name}: 年份「{year}」不是四位数的年份，请写例如 2026。")
        changed["year"] = int(match.group(1))
    try:
        fields = checked_fields(**changed)
    except QAError as error:
        raise LibraryError(f"{shown.name}: {error}") from None
    if shown.derived_title and "title" not in fields and ({"region", "year"} & set(fields)):
        region, year = fields.get("region", shown.region), fields.get("year", shown.year)
        fields["title"] = f"{region}{year}{'年' if year else ''}政府工作报告"
    return fields


def confirm(
    token: str | None,
    shown: Sequence[Shown],
    rows: Sequence[Sequence[Any]] | None,
    settings: Settings,
    progress: Progress | None = None,
    embedder: Embedder | None = None,
) -> list[Report]:
    """Add the previewed files with the user's corrections (``rows``, as edited) to the library and
    rebuild the index with ``embedder`` (the page's loaded model; ``progress`` told of the chunks
    embedded); the reports added. All or nothing."""
    check_token(token, settings)
    if not shown:
        raise UsageError("请先选择文件并点击「读取」，核对后再确认添加。")
    # A row the user added to the table and left empty is no file.
    rows = [list(row) for row in rows or [] if any(_cell(row, column) for column in range(len(row)))]
    if [_cell(row, 0) for row in rows] != [item.name for item in shown]:
        raise UsageError("预览表与读取的文件不一致，请重新点击「读取」。")
    fields = [corrected_fields(row, item) for row, item in zip(rows, shown, strict=True)]
    uploads = read_uploads([item.path for item in shown], settings)
    files = [(upload.name, upload.data, extra) for upload, extra in zip(uploads, fields, strict=True)]
    return add_reports(files, settings, progress, embedder)


def remove(
    token: str | None,
    doc_id: str | None,
    settings: Settings,
    progress: Progress | None = None,
    embedder: Embedder | None = None,
) -> Report:
    """Take the report ``doc_id`` out of the library and rebuild the index; the report removed."""
    check_token(token, settings)
    if not doc_id:
        raise UsageError("请先选择要删除的报告。")
    return remove_reports([str(doc_id)], settings, progress, embedder)[0]


def report_choice(report: Report) -> tuple[str, str]:
    """(label, id) of a report in the 「删除报告」 list: 「浙江省2026年政府工作报告 · 浙江省 · 2026年」."""
    parts = [report.title, report.region or "地区未知", f"{report.year}年" if report.year else "年份未知"]
    return (" · ".join(dict.fromkeys(parts)) + f"（{report.doc_id}）", report.doc_id)


def added_line(report: Report, paragraphs: int | None = None) -> str:
    """The line shown for a report added: 「已添加：浙江省2026年政府工作报告（浙江省，2026年，45段）」."""
    details = [report.region or "地区未知", f"{report.year}年" if report.year else "年份未知"]
    if paragraphs is not None:
        details.append(f"{paragraphs}段")
    if report.pages:
        details.append(f"{len(report.pages)}页")
    return f"已添加：{report.title}（{'，'.join(details)}）"


def removed_line(report: Report) -> str:
    return f"已删除：{report.title}（{report.region or '地区未知'}，{report.year}年）"
