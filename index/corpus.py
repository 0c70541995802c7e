"""Corpus loading: a folder of report files in, ``Report`` objects out.

In: a folder of ``.txt``/``.md`` files (its subfolders too: a library may keep each region's
reports apart), each optionally with a ``.toml`` metadata file of the same stem (id, title,
region, year, reviews, plans, source).
Out: ``Report`` objects holding the exact file text (decoded UTF-8, never altered) and metadata,
plus a fingerprint of the whole corpus for the index manifest.

Metadata is read from the report's text and file name (``index.metadata``); a ``.toml`` overrides
any field, and each field records where it came from. A field that can be read from neither gets a
warning naming the file and the field. A file that cannot be used (empty, binary, not UTF-8) is
skipped with a warning naming it; only a corpus with no usable report at all is an error.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import logging
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.errors import CorpusError
from index.metadata import infer
from index.regions import by_full_name

log = logging.getLogger(__name__)

REPORT_SUFFIXES = (".txt", ".md")
MAX_REPORT_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Report:
    doc_id: str
    title: str
    year: int  # the year the report was delivered
    reviews: int | None  # the year whose work it reviews
    plans: tuple[int, ...]  # the year(s) it plans
    path: Path
    text: str  # the file's exact text
    source: str = ""
    region: str = ""  # official full name of the place it governs (深圳市罗湖区, 浙江省); "" if unknown
    level: str = ""  # 国家, 省, 市 or 区县; "" if unknown
    review_period: tuple[int, int] | None = None  # a five-year period it reviews too (2021, 2025)
    plan_period: tuple[int, int] | None = None  # the five-year period it sets out (2026, 2030)
    origins: tuple[tuple[str, str], ...] = ()  # field → where its value came from (text, file name, .toml)
    format: str = "txt"  # what it was added as: txt, md, html, pdf or docx (index.extract)
    pages: tuple[int, ...] = ()  # a PDF's: the offset in ``text`` where each page starts
    original: str = ""  # the file it was extracted from, kept beside it; "" when the text is the original
    sha256: str = ""  # SHA-256 of the file as it was added ("" for a report placed in the folder by hand)

    def covers(self, year: int) -> bool:
        """Whether the report reviews or plans ``year`` (in a year or a five-year period)."""
        periods = [p for p in (self.review_period, self.plan_period) if p]
        return year == self.reviews or year in self.plans or any(a <= year <= b for a, b in periods)

    def page_at(self, offset: int) -> int | None:
        """The 1-based page of a PDF report that holds the character at ``offset`` of its text."""
        return bisect.bisect_right(self.pages, offset) if self.pages else None


def _decode(path: Path, data: bytes) -> str | None:
    """UTF-8 text, or None with a warning that says what is wrong and what to do."""
    if not data.strip():
        log.warning("skipped %s: the file is empty", path)
        return None
    if b"\x00" in data[:4096]:
        log.warning("skipped %s: it looks binary, not text — save the report as UTF-8 text", path)
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        log.warning("skipped %s: not UTF-8 (GBK?) — convert it, e.g. iconv -f GBK -t UTF-8", path)
        return None
    if text.startswith("\ufeff"):
        # A BOM would shift every offset by one; such a file is re-saved, not silently altered.
        log.warning("skipped %s: starts with a UTF-8 BOM — save it without BOM", path)
        return None
    return text


def _read_metadata(meta_path: Path) -> dict:
    try:
        return tomllib.loads(meta_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise CorpusError(
            f"metadata file {meta_path} is not valid TOML: {error} — fix it or remove it"
        ) from None


def load_report(path: Path) -> Report | None:
    """One report, or None (with a warning) when the file is unusable."""
    try:
        size = path.stat().st_size
        if size > MAX_REPORT_BYTES:
            log.warning("skipped %s: %d bytes is over the %d-byte limit", path, size, MAX_REPORT_BYTES)
            return None
        data = path.read_bytes()
    except OSError as error:
        log.warning("skipped %s: cannot read it (%s)", path, error.strerror)
        return None
    text = _decode(path, data)
    if text is None:
        return None

    meta_path = path.with_suffix(".toml")
    meta = _read_metadata(meta_path) if meta_path.exists() else {}
    return _with_metadata(path, text, meta)


def _period(value: Any) -> tuple[int, int] | None:
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return (value[0], value[1])
    return None


def _with_metadata(path: Path, text: str, meta: dict[str, Any]) -> Report:
    """The report with its metadata read from its text and name, each field overridden by ``meta``."""
    inferred = infer(text, path)
    origins = dict(inferred.origins)
    for key in meta:
        origins[key] = ".toml"
    region = str(meta.get("region", inferred.region))
    level = inferred.level or ""
    if "region" in meta:
        division = by_full_name(region)
        level = str(meta.get("level", division.level if division else ""))
        origins["level"] = ".toml"
        if division is None and "level" not in meta:
            log.warning("%s: region %r in its .toml is not a known division — check the name", path, region)
    year = meta.get("year", inferred.year)
    if not isinstance(year, int):
        log.warning("%s: year in %s.toml is not a whole number; using %d", path, path.stem, inferred.year)
        year = inferred.year
    reviews = meta.get("reviews", inferred.reviews)
    review_period = _period(meta.get("review_period")) or inferred.review_period
    if isinstance(reviews, list):  # reviews = [2021, 2025]: a five-year period
        review_period = _period(reviews)
        reviews = review_period[1] if review_period else None
    if "year" in meta and "reviews" not in meta and origins.get("reviews", "").startswith("derived"):
        reviews = year - 1 if year else None
    plans = meta.get("plans", inferred.plans if "year" not in meta else ([year] if year else []))
    if isinstance(plans, int):
        plans = [plans]
    for field, warning in inferred.warnings:
        if field not in meta:
            log.warning("%s", warning)
    return Report(
        doc_id=str(meta.get("id", path.stem)),
        title=str(meta.get("title", inferred.title)),
        year=year,
        reviews=reviews if isinstance(reviews, int) else None,
        plans=tuple(int(p) for p in plans),
        path=path.resolve(),
        text=text,
        source=str(meta.get("source", "")),
        region=region,
        level=level,
        review_period=review_period,
        plan_period=_period(meta.get("plan_period")) or inferred.plan_period,
        origins=tuple(sorted(origins.items())),
        format=str(meta.get("format", "md" if path.suffix.lower() == ".md" else "txt")),
        pages=_pages(path, meta.get("pages"), len(text)),
        original=str(meta.get("original", "")),
        sha256=str(meta.get("sha256", "")),
    )


def _pages(path: Path, value: Any, length: int) -> tuple[int, ...]:
    """Page start offsets from a .toml: ascending whole numbers from 0 within the text, else none
    (with a warning: a citation without a page is better than one naming the wrong page)."""
    if value is None:
        return ()
    if (
        isinstance(value, list)
        and value
        and value[0] == 0
        and all(isinstance(v, int) and 0 <= v <= length for v in value)
        and all(a <= b for a, b in itertools.pairwise(value))
    ):
        return tuple(value)
    log.warning("%s: pages in its .toml are not ascending offsets into its text — no page is cited", path)
    return ()


def report_files(corpus_dir: Path) -> list[Path]:
    if not corpus_dir.is_dir():
        raise CorpusError(f"no corpus folder at {corpus_dir} — pass --corpus DIR with the report files")
    return sorted(
        p
        for p in corpus_dir.rglob("*")
        if p.suffix.lower() in REPORT_SUFFIXES
        and p.is_file()
        and p.name.lower() != "readme.md"
        and not any(part.startswith(".") for part in p.relative_to(corpus_dir).parts)
    )


def load_corpus(corpus_dir: Path) -> list[Report]:
    """All usable reports in ``corpus_dir``, sorted by file name; ids must be unique."""
    reports = [r for r in (load_report(p) for p in report_files(corpus_dir)) if r is not None]
    if not reports:
        raise CorpusError(f"no usable report (.txt/.md, UTF-8) in {corpus_dir} — add report files there")
    seen: dict[str, Path] = {}
    for report in reports:
        if report.doc_id in seen:
            raise CorpusError(
                f"report id '{report.doc_id}' is used by both {seen[report.doc_id]} and "
                f"{report.path} — give each report a unique id in its .toml file"
            )
        seen[report.doc_id] = report.path
    return reports


def corpus_stat(corpus_dir: Path) -> str:
    """SHA-256 over every report and metadata file's path, size and modification time: what a start
    checks before reading the files themselves (``corpus_fingerprint``)."""
    digest = hashlib.sha256()
    for path in report_files(corpus_dir):
        for part in (path, path.with_suffix(".toml")):
            if part.exists():
                stat = part.stat()
                name = part.relative_to(corpus_dir).as_posix()
                digest.update(f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def corpus_fingerprint(corpus_dir: Path) -> str:
    """SHA-256 over every report and metadata file's path (within the folder) and bytes: changes when
    anything does."""
    digest = hashlib.sha256()
    for path in report_files(corpus_dir):
        for part in (path, path.with_suffix(".toml")):
            if part.exists():
                name = part.relative_to(corpus_dir).as_posix()
                digest.update(name.encode() + b"\0" + part.read_bytes() + b"\0")
    return digest.hexdigest()
