"""Adding and removing reports: files as users found them in, the library folder and its index updated.

In: report files (.txt/.md, .html/.htm, .pdf, .docx, see ``index.extract``) with any metadata the user
sets (command-line flags, a .toml beside the file, the page's form); or the ids of reports to remove.
Out: per added report, in the library folder (``Settings.corpus_dir``)::

    <stem>.txt    the extracted text: what every quote is an exact slice of (a .txt or .md added in
                  UTF-8 is stored byte for byte as it came)
    <stem>.toml   the fields the user set, and where the text came from: the file's name, its format,
                  its SHA-256, the file kept beside, a PDF's page offsets
    <stem>.pdf    the original file (.html, .docx: the same), for a reader to check a quote against

and a new index build (``index.build.build_index``: with the vector cache, only the new report's
chunks are embedded; removing a report embeds nothing).

Every file is extracted and checked before anything is written: a file that gives no report text,
a duplicate of a report in the library, a bad name or an unknown region is refused with one line and
changes nothing. The files are then moved into place and the index rebuilt; if the build fails they
are taken out again, so the library folder and the index stay as they were. One addition or removal
runs at a time per library folder (a lock on the folder).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import tomllib
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from index.build import build_index
from index.clean import split_lines
from index.corpus import Report, _with_metadata, load_corpus
from index.embed import Embedder
from index.errors import CorpusError, QAError, UsageError
from index.extract import MAX_FILE_BYTES, Extracted, ExtractError, extract, file_format, too_large
from index.metadata import period_text
from index.regions import by_full_name, lookup
from index.settings import Settings
from index.structure import structure
from index.vectors import Progress

log = logging.getLogger(__name__)

MAX_STEM_CHARS = 80
# Fields a user may set for a report; the rest of its metadata is read from its text.
USER_FIELDS = ("id", "title", "region", "year", "reviews", "plans")


class LibraryError(QAError):
    """An addition or removal that cannot be done as asked: a duplicate, an unknown id or region."""

    exit_code = 2


@dataclass(frozen=True)
class Addition:
    """One file ready to be added; nothing is written yet."""

    name: str  # the file's name as given
    stem: str  # the name the library stores it under (also its id unless the user set one)
    data: bytes
    extracted: Extracted
    report: Report  # its metadata as the library will read it
    paragraphs: int  # paragraphs found in it, headings too, as the index counts them
    user_fields: dict[str, Any] = field(default_factory=dict)  # what the user set

    def files(self) -> dict[str, bytes]:
        """The files this addition writes into the library folder, by name."""
        text_name = self.stem + (".md" if self.extracted.format == "md" else ".txt")
        text = self.extracted.text.encode("utf-8")
        written = {text_name: text}
        if self.extracted.format in ("pdf", "html", "docx"):
            written[self.original_name] = self.data
        written[self.stem + ".toml"] = metadata_toml(self).encode("utf-8")
        return written

    @property
    def original_name(self) -> str:
        return self.stem + "." + self.name.rsplit(".", 1)[-1].lower()


def metadata_toml(addition: Addition) -> str:
    """The .toml written beside an added report: the user's fields, then where the text came from."""
    lines = [
        f"# Added from {addition.name}. The report's text is in {addition.stem}"
        f"{'.md' if addition.extracted.format == 'md' else '.txt'}: every quote is a slice of it.",
        "# Fields not set here are read from that text; set any of id, title, region, year, reviews, plans.",
    ]
    for key in USER_FIELDS:
        if key in addition.user_fields:
            lines.append(f"{key} = {_toml_value(addition.user_fields[key])}")
    extracted = addition.extracted
    lines += [
        f"source_file = {_toml_value(addition.name)}",
        f"format = {_toml_value(extracted.format)}",
        f"sha256 = {_toml_value(hashlib.sha256(addition.data).hexdigest())}",
    ]
    if extracted.format in ("pdf", "html", "docx"):
        lines.append(f"original = {_toml_value(addition.original_name)}")
    if extracted.pages:
        lines.append("# Offset in the text where each page of the PDF starts (page 1 at 0).")
        lines.append(f"pages = {list(extracted.pages)}")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    # A basic TOML string: JSON's escaping of quotes, backslashes and control characters is TOML's.
    return json.dumps(str(value), ensure_ascii=False)


def check_name(name: str) -> str:
    """The file name itself, or LibraryError when it holds a path or control characters."""
    if not name or name in (".", "..") or "/" in name or "\\" in name:
        raise LibraryError(f"文件名 {name!r} 含有路径，请只给出文件名")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise LibraryError(f"文件名 {name!r} 含有控制字符，请重命名文件后再添加")
    if len(name.encode("utf-8")) > 255:
        raise LibraryError("文件名太长，请重命名文件（255 字节以内）后再添加")
    return name


def stored_stem(name: str, taken: set[str]) -> str:
    """A name of the product's choosing for the stored files: the file's own name reduced to letters,
    digits (any script) and - _ ( ), so it still says what the report is, and unique in ``taken``."""
    stem = name.rsplit(".", 1)[0]
    stem = re.sub(r"[^\w\-()（）]+", "_", stem).strip("_.-")[:MAX_STEM_CHARS] or "report"
    candidate, n = stem, 2
    while candidate.lower() in taken:
        candidate, n = f"{stem}-{n}", n + 1
    return candidate


def user_region(value: str) -> str:
    """The official full name of the region a user typed (罗湖区 → 深圳市罗湖区), or LibraryError."""
    value = value.strip()
    if (region := by_full_name(value)) is not None:
        return region.full_name
    found = lookup(value)
    if len(found) == 1:
        return found[0].full_name
    if found:
        names = "、".join(region.full_name for region in found[:5])
        raise LibraryError(f"地区「{value}」有多个：{names}，请写全称")
    raise LibraryError(f"不认识地区「{value}」，请写行政区划的名称，例如 浙江省、深圳市罗湖区")


def user_fields(region: str | None = None, year: int | None = None, **more: Any) -> dict[str, Any]:
    """The metadata a user set, checked: region resolved to its full name, year a plausible year."""
    fields = {key: value for key, value in more.items() if value not in (None, "")}
    if region:
        fields["region"] = user_region(region)
    if year is not None:
        if not 1949 <= int(year) <= 2100:
            raise LibraryError(f"年份 {year} 不对，请写报告作出的年份，例如 2026")
        fields["year"] = int(year)
    return fields


def _text_key(text: str) -> str:
    """Equal for two texts that differ only in white space: the same report saved twice."""
    return hashlib.sha256("".join(text.split()).encode("utf-8")).hexdigest()


@dataclass
class LibraryFolder:
    """The reports of a library folder as they are now, for checking additions against."""

    corpus_dir: Path
    reports: list[Report]

    @classmethod
    def read(cls, corpus_dir: Path) -> LibraryFolder:
        try:
            reports = load_corpus(corpus_dir) if corpus_dir.is_dir() else []
        except CorpusError:
            reports = []  # a folder without usable reports yet: the first addition starts it
        return cls(corpus_dir, reports)

    def taken_stems(self) -> set[str]:
        folder = self.corpus_dir
        names = {p.name.split(".", 1)[0].lower() for p in folder.iterdir()} if folder.is_dir() else set()
        return names | {r.doc_id.lower() for r in self.reports}

    def duplicate_of(self, data: bytes, text: str) -> Report | None:
        digest, key = hashlib.sha256(data).hexdigest(), _text_key(text)
        for report in self.reports:
            same_file = report.sha256 == digest or hashlib.sha256(report.text.encode()).hexdigest() == digest
            if same_file or _text_key(report.text) == key:
                return report
        return None


def prepare(
    name: str,
    data: bytes,
    library: LibraryFolder,
    fields: dict[str, Any] | None = None,
    taken: set[str] | None = None,
) -> Addition:
    """Extract and check one file (its name ``name``, its bytes ``data``) for adding to ``library``."""
    check_name(name)
    file_format(name)  # an unsupported type is refused before its bytes are looked at
    extracted = extract(name, data)
    duplicate = library.duplicate_of(data, extracted.text)
    if duplicate is not None:
        raise LibraryError(f"{name}: 这份报告已在库中（{duplicate.doc_id}，{duplicate.title}），未重复添加")
    fields = dict(fields or {})
    taken = library.taken_stems() if taken is None else taken
    stem = stored_stem(name, taken)
    if "id" in fields and str(fields["id"]).lower() in {r.doc_id.lower() for r in library.reports}:
        raise LibraryError(f"编号 {fields['id']} 已被库中另一份报告使用，请换一个")
    suffix = ".md" if extracted.format == "md" else ".txt"
    # Read as the library will read it: from the text, the stored name, and the user's fields.
    path = library.corpus_dir / (stem + suffix)
    meta = fields | {"format": extracted.format, "sha256": hashlib.sha256(data).hexdigest()}
    if extracted.pages:
        meta["pages"] = list(extracted.pages)
    report = _with_metadata(path, extracted.text, meta)
    found = structure(report, split_lines(extracted.text))
    if not any(p.kind == "body" for p in found):
        raise ExtractError(f"{name}: 没有找到报告正文段落（只有标题或网页栏目），请确认文件是一份工作报告")
    return Addition(name, stem, data, extracted, report, len(found), fields)


def prepare_all(files: list[tuple[str, bytes, dict[str, Any]]], library: LibraryFolder) -> list[Addition]:
    """Each (name, bytes, user fields) prepared for adding together to ``library``: names unique among
    them too, and the same report twice refused."""
    taken = library.taken_stems()
    additions: list[Addition] = []
    for name, data, fields in files:
        addition = prepare(name, data, library, fields, taken)
        for earlier in additions:
            if _text_key(earlier.extracted.text) == _text_key(addition.extracted.text):
                raise LibraryError(f"{name} 与 {earlier.name} 是同一份报告，只添加一份即可")
        taken.add(addition.stem.lower())
        if "id" in addition.user_fields:
            taken.add(str(addition.user_fields["id"]).lower())
        additions.append(addition)
    return additions


def read_file(path: Path) -> bytes:
    """The bytes of a file to add, or one line saying why it cannot be read."""
    try:
        if not path.is_file():
            raise LibraryError(f"{path}: 找不到这个文件" if not path.exists() else f"{path}: 不是一个文件")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise too_large(path.name, size)
        return path.read_bytes()
    except OSError as error:
        raise LibraryError(f"{path}: 无法读取（{error.strerror}）") from None


def side_fields(path: Path) -> dict[str, Any]:
    """Fields set in a .toml beside the file to add (报告.pdf → 报告.toml), if there is one."""
    meta_path = path.with_suffix(".toml")
    if path.suffix.lower() == ".toml" or not meta_path.is_file():
        return {}
    try:
        meta = tomllib.loads(meta_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as error:
        raise LibraryError(f"{meta_path}: 不是有效的 TOML（{error}），请修正或删除它") from None
    return {key: meta[key] for key in USER_FIELDS if key in meta}


@contextlib.contextmanager
def library_lock(corpus_dir: Path) -> Iterator[None]:
    """One addition or removal at a time in a library folder: a lock on the folder itself, so no
    lock file is left in it."""
    corpus_dir.mkdir(parents=True, exist_ok=True)
    handle = os.open(corpus_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # closing releases the lock


def _write_staged(corpus_dir: Path, additions: list[Addition]) -> list[Path]:
    """Write every addition's files into a hidden folder (never indexed), then move them into place;
    returns the paths placed. A failure takes out whatever was placed."""
    staging = corpus_dir / f".adding-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    placed: list[Path] = []
    try:
        for addition in additions:
            for file_name, content in addition.files().items():
                with (staging / file_name).open("xb") as handle:
                    handle.write(content)
                    handle.flush()
                    os.fsync(handle.fileno())
        for addition in additions:
            for file_name in addition.files():
                target = corpus_dir / file_name
                if target.exists():  # appeared since ``prepare`` chose the name
                    raise LibraryError(f"{target} 已存在，请重试")
                (staging / file_name).rename(target)
                placed.append(target)
    except BaseException:
        _take_out(placed)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return placed


def _take_out(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()


def add_reports(
    files: list[tuple[str, bytes, dict[str, Any]]],
    settings: Settings,
    progress: Progress | None = None,
    embedder: Embedder | None = None,
) -> list[Report]:
    """Add each (name, bytes, user fields) to the library folder and rebuild the index (with
    ``embedder``, else the settings' model); the added reports as the new index holds them. All or
    nothing: any refused file refuses the whole call."""
    corpus_dir = settings.corpus_dir
    if not files:
        raise UsageError("没有要添加的文件")
    with library_lock(corpus_dir):
        additions = prepare_all(files, LibraryFolder.read(corpus_dir))
        placed = _write_staged(corpus_dir, additions)
        try:
            build_index(settings, embedder, progress)
        except BaseException:
            _take_out(placed)  # the index is unchanged (a build switches over only when complete)
            raise
    from index.store import load_index

    stored = load_index(settings.index_dir)
    ids = [str(a.user_fields.get("id", a.stem)) for a in additions]
    missing = [doc_id for doc_id in ids if doc_id not in stored.reports]
    if missing:  # cannot happen when ``prepare`` found paragraphs; said rather than hidden
        log.warning("not in the new index: %s", ", ".join(missing))
    return [stored.reports[doc_id] for doc_id in ids if doc_id in stored.reports]


def remove_reports(
    doc_ids: list[str],
    settings: Settings,
    progress: Progress | None = None,
    embedder: Embedder | None = None,
) -> list[Report]:
    """Take the reports ``doc_ids`` (their text, .toml and original file) out of the library folder and
    rebuild the index without them; the reports removed. Nothing is removed if any id is unknown or
    the library would be left empty."""
    corpus_dir = settings.corpus_dir
    if not doc_ids:
        raise UsageError("没有要删除的报告编号")
    with library_lock(corpus_dir):
        library = LibraryFolder.read(corpus_dir)
        by_id = {r.doc_id: r for r in library.reports}
        unknown = [doc_id for doc_id in doc_ids if doc_id not in by_id]
        if unknown:
            known = "、".join(sorted(by_id)[:10])
            raise LibraryError(
                f"库中没有编号为 {'、'.join(unknown)} 的报告（库中有：{known}）；"
                "python -m index reports 列出所有编号"
            )
        removed = [by_id[doc_id] for doc_id in dict.fromkeys(doc_ids)]
        if len(removed) == len(library.reports):
            raise LibraryError("不能删除库中全部报告：库里至少要留一份报告")
        paths = []
        for report in removed:
            paths.append(report.path)
            meta = report.path.with_suffix(".toml")
            if meta.exists():
                paths.append(meta)
            if report.original and (report.path.parent / report.original).is_file():
                paths.append(report.path.parent / report.original)
        staging = corpus_dir / f".removing-{uuid.uuid4().hex[:8]}"
        staging.mkdir()
        moved: list[tuple[Path, Path]] = []
        try:
            for number, path in enumerate(paths):
                target = staging / f"{number}-{path.name}"
                path.rename(target)
                moved.append((target, path))
            build_index(settings, embedder, progress)
        except BaseException:
            for target, path in reversed(moved):
                with contextlib.suppress(OSError):
                    target.rename(path)
            shutil.rmtree(staging, ignore_errors=True)
            raise
        shutil.rmtree(staging, ignore_errors=True)
    return removed


def report_line(report: Report, paragraphs: int | None = None) -> str:
    """One line for a report added or removed: id, title, region, years, paragraphs, pages, format —
    「浙江省_2026  2026年浙江省政府工作报告  浙江省  2026（回顾2025，规划2026）  106 段  19 页  [pdf]」."""
    spans = []
    if report.reviews:
        period = f"、{period_text(report.review_period)}" if report.review_period else ""
        spans.append(f"回顾{report.reviews}{period}")
    if report.plans:
        spans.append("规划" + "、".join(map(str, report.plans)))
    years = str(report.year or "年份未知") + (f"（{'，'.join(spans)}）" if spans else "")
    parts = [report.doc_id, report.title, report.region or "地区未知", years]
    if paragraphs is not None:
        parts.append(f"{paragraphs} 段")
    if report.pages:
        parts.append(f"{len(report.pages)} 页")
    return "  ".join([*parts, f"[{report.format}]"])
