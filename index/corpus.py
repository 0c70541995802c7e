"""Corpus loading: a folder of report files in, ``Report`` objects out.

In: a folder of ``.txt``/``.md`` files, each optionally with a ``.toml`` metadata file of the same
stem (id, title, year, reviews, plans, source).
Out: ``Report`` objects holding the exact file text (decoded UTF-8, never altered) and metadata,
plus a fingerprint of the whole corpus for the index manifest.

A report without metadata still loads, with its year guessed from its text and a warning. A file
that cannot be used (empty, binary, not UTF-8) is skipped with a warning naming it; only a corpus
with no usable report at all is an error.
"""

from __future__ import annotations

import hashlib
import logging
import re
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from index.errors import CorpusError

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
    region: str = ""  # the place it governs (深圳市罗湖区): a question naming it is not about elsewhere


def _guess_year(text: str) -> int | None:
    """The report's own year: '2021年政府工作报告' if stated, else the latest frequent year."""
    stated = re.search(r"((?:19|20)\d\d)年(?:[^。\n]{0,12})?政府工作报告", text)
    if stated:
        return int(stated.group(1))
    years = Counter(int(y) for y in re.findall(r"((?:19|20)\d\d)年", text))
    frequent = [year for year, count in years.items() if count >= 2]
    return max(frequent) if frequent else None


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
    year = meta.get("year")
    if not isinstance(year, int):
        year = _guess_year(text)
        if year is None:
            log.warning("%s: no metadata and no year found in the text; indexed without a year", path)
            year = 0
        else:
            log.warning("%s: no metadata file %s; guessed year %d from the text", path, meta_path.name, year)
    reviews = meta.get("reviews", year - 1 if year else None)
    plans = meta.get("plans", [year] if year else [])
    if isinstance(plans, int):
        plans = [plans]
    return Report(
        doc_id=str(meta.get("id", path.stem)),
        title=str(meta.get("title", path.stem)),
        year=year,
        reviews=reviews if isinstance(reviews, int) else None,
        plans=tuple(int(p) for p in plans),
        path=path.resolve(),
        text=text,
        source=str(meta.get("source", "")),
        region=str(meta.get("region", "")),
    )


def report_files(corpus_dir: Path) -> list[Path]:
    if not corpus_dir.is_dir():
        raise CorpusError(f"no corpus folder at {corpus_dir} — pass --corpus DIR with the report files")
    return sorted(
        p
        for p in corpus_dir.iterdir()
        if p.suffix.lower() in REPORT_SUFFIXES and p.is_file() and p.name.lower() != "readme.md"
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


def corpus_fingerprint(corpus_dir: Path) -> str:
    """SHA-256 over every report and metadata file's name and bytes: changes when anything does."""
    digest = hashlib.sha256()
    for path in report_files(corpus_dir):
        for part in (path, path.with_suffix(".toml")):
            if part.exists():
                digest.update(part.name.encode() + b"\0" + part.read_bytes() + b"\0")
    return digest.hexdigest()
