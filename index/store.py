"""Index store: built tables and vectors in, a self-describing index folder out, and back.

Folder layout (``DIR`` is the index folder)::

    DIR/CURRENT              name of the live build, replaced atomically
    DIR/.lock                held while a build writes
    DIR/build-<stamp>/manifest.json     format version, model, dimension, corpus fingerprint,
                                        chunk settings, library versions, SHA-256 of every file
    DIR/build-<stamp>/reports.jsonl     report metadata (JSON Lines, ensure_ascii=False)
    DIR/build-<stamp>/paragraphs.jsonl  every paragraph with its exact text and offsets
    DIR/build-<stamp>/chunks.jsonl      every chunk with its offsets into its paragraph
    DIR/build-<stamp>/dense.faiss       FAISS inner-product index over normalised vectors
    DIR/build-<stamp>/bm25/             bm25s index over jieba tokens

A build writes a new ``build-*`` folder and only then points ``CURRENT`` at it, so a build that
dies midway leaves the previous index untouched and loadable. Loading verifies checksums and
counts, and names the file and the fix on any fault.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import importlib.metadata
import json
import math
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bm25s
import faiss
import numpy as np

from index.chunk import Chunk
from index.corpus import Report
from index.errors import IndexCorruptError, IndexMismatchError, IndexNotFoundError
from index.structure import Paragraph

# Bump when the stored tables change shape: a default index of another format is rebuilt, a named
# one refused. What the cleaning, structure and chunking code puts in them is versioned apart, by a
# hash of that code (``pipeline_version``), so nobody has to remember to bump a number.
# 2: reports carry their region; the manifest records quantisation.
# 3: reports carry level, five-year periods and where each field came from; the manifest records
#    the pipeline version.
# 4: reports carry the format they were added as, a PDF's page offsets, the original file and its hash.
FORMAT_VERSION = 4
# The code that decides what an index holds, besides the model: a change to any of these files
# makes a default index stale.
PIPELINE_FILES = (
    "corpus.py",
    "metadata.py",
    "regions.py",
    "regions_short.toml",
    "clean.py",
    "structure.py",
    "chunk.py",
    "normalize.py",
    "tokens.py",
    "store.py",
)
# Up to this many chunks the dense index is exact (FAISS flat): every answer is as exact scoring
# gives it. Above it, an approximate index chosen by measured recall (``dense_index``).
EXACT_LIMIT = 10_000
MIN_SCANNED = 20_000  # vectors an approximate search scans at least (see ivf_probes)
CURRENT = "CURRENT"
DATA_FILES = ("reports.jsonl", "paragraphs.jsonl", "chunks.jsonl", "dense.faiss")
LIBRARIES = (
    "sentence-transformers",
    "onnxruntime",
    "faiss-cpu",
    "bm25s",
    "jieba",
    "langchain-text-splitters",
    "torch",
)
REBUILD_HINT = "run: python -m index build"


@dataclass(frozen=True)
class Manifest:
    format_version: int
    model: str
    quantized: bool  # the model's linear layers ran in int8 (Settings.quantize)
    dimension: int
    corpus_dir: str
    corpus_fingerprint: str
    chunk_size: int
    chunk_overlap: int
    pipeline: str  # pipeline_version() of the code that built it
    counts: dict[str, int]
    libraries: dict[str, str]
    built_at: str
    build_seconds: float
    checksums: dict[str, str]
    backend: str = "torch"  # what ran the model (index.embed.BACKENDS); torch before there was a choice
    corpus_stat: str = ""  # index.corpus.corpus_stat at build time; "" before it was recorded


@dataclass(eq=False)  # compared and hashed by identity: it is the one loaded index
class StoredIndex:
    """Everything a question needs, loaded once."""

    folder: Path
    manifest: Manifest
    reports: dict[str, Report]
    paragraphs: dict[tuple[str, int], Paragraph]
    chunks: list[Chunk]
    dense: faiss.Index
    bm25: bm25s.BM25


def library_versions() -> dict[str, str]:
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def pipeline_version() -> str:
    """A short hash of the index-building code (``PIPELINE_FILES``): changes when that code does."""
    digest = hashlib.sha256()
    for name in PIPELINE_FILES:
        digest.update(name.encode() + b"\0" + (Path(__file__).parent / name).read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                raise IndexCorruptError(f"{path} line {number} is not valid JSON — {REBUILD_HINT}") from None
    return rows


def _report_row(report: Report) -> dict[str, Any]:
    row = dataclasses.asdict(report)
    row.pop("text")
    row["path"] = str(report.path)
    row["plans"] = list(report.plans)
    return row


@contextlib.contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Only one build writes into an index folder at a time."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def save_index(
    index_dir: Path,
    manifest_fields: dict[str, Any],
    reports: list[Report],
    paragraphs: list[Paragraph],
    chunks: list[Chunk],
    vectors: np.ndarray,
    bm25_tokens: list[list[str]],
) -> Path:
    """Write a new build and switch ``CURRENT`` to it; returns the build folder."""
    # Unique even for two builds in the same second from one process (a rebuild right after a build).
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    staging = index_dir / f"build-{stamp}.partial"
    staging.mkdir(parents=True)
    try:
        _write_jsonl(staging / "reports.jsonl", [_report_row(r) for r in reports])
        _write_jsonl(staging / "paragraphs.jsonl", [dataclasses.asdict(p) for p in paragraphs])
        _write_jsonl(staging / "chunks.jsonl", [dataclasses.asdict(c) for c in chunks])
        dense = dense_index(vectors)
        # Written by Python, not faiss.write_index, so a full disk raises OSError (ENOSPC), not RuntimeError.
        (staging / "dense.faiss").write_bytes(faiss.serialize_index(dense).tobytes())
        retriever = bm25s.BM25()
        retriever.index(bm25_tokens, show_progress=False)
        retriever.save(str(staging / "bm25"))
        checksums = {
            str(path.relative_to(staging)): sha256_file(path)
            for path in sorted(staging.rglob("*"))
            if path.is_file()
        }
        manifest = Manifest(
            format_version=FORMAT_VERSION,
            checksums=checksums,
            libraries=library_versions(),
            **manifest_fields,
        )
        (staging / "manifest.json").write_text(
            json.dumps(dataclasses.asdict(manifest), ensure_ascii=False, indent=2), encoding="utf-8"
        )
        for path in staging.rglob("*"):
            if path.is_file():
                with path.open("rb") as handle:
                    os.fsync(handle.fileno())
        final = index_dir / f"build-{stamp}"
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    pointer = index_dir / f"{CURRENT}.{os.getpid()}.tmp"
    with pointer.open("w") as handle:
        handle.write(final.name + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(pointer, index_dir / CURRENT)  # the atomic switch
    _remove_old_builds(index_dir, keep=final.name)
    return final


def dense_index(vectors: np.ndarray) -> faiss.Index:
    """Inner-product index over unit vectors: exact up to ``EXACT_LIMIT`` chunks; above it IVF with
    float16 storage, which on a million synthetic vectors fitted to the real ones kept recall@10 at
    0.994 of exact search in 6.2 ms a question and 1 GB (eval/bench_faiss.py; HNSW32 stopped at 0.91,
    SQ8 storage at 0.985)."""
    dimension = vectors.shape[1]
    if len(vectors) <= EXACT_LIMIT:
        index = faiss.IndexFlatIP(dimension)
        index.add(vectors)
        return index
    lists = ivf_lists(len(vectors))
    index = faiss.index_factory(dimension, f"IVF{lists},SQfp16", faiss.METRIC_INNER_PRODUCT)
    # k-means on a sample: 50 vectors a list is what FAISS asks for, and enough for stable centroids.
    sample = np.random.default_rng(0).choice(len(vectors), min(len(vectors), 50 * lists), replace=False)
    index.cp.niter = 10
    index.train(vectors[np.sort(sample)])
    index.add(vectors)
    index.nprobe = ivf_probes(lists, len(vectors))
    return index


def ivf_lists(count: int) -> int:
    return max(1, round(4 * count**0.5))


def ivf_probes(lists: int, count: int) -> int:
    """An eighth of the lists (recall@10 0.994 at a million vectors; a sixteenth gave 0.985), and at
    least enough to scan 20,000 vectors, which costs about a millisecond: a library just above the
    exact limit has few vectors a list, and an eighth of them gave 0.983 at 12,600."""
    return min(lists, max(1, lists // 8, math.ceil(lists * MIN_SCANNED / max(count, 1))))


def _remove_old_builds(index_dir: Path, keep: str) -> None:
    """Earlier builds and what killed builds left (``build-*.partial``, ``CURRENT.*.tmp``); under the lock."""
    for old in index_dir.glob("build-*"):
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)
    for pointer in index_dir.glob(f"{CURRENT}.*.tmp"):
        with contextlib.suppress(OSError):
            pointer.unlink()


def current_build(index_dir: Path) -> Path:
    pointer = index_dir / CURRENT
    if not pointer.exists():
        raise IndexNotFoundError(f"no index at {index_dir} — {REBUILD_HINT} --index {index_dir}")
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise IndexCorruptError(
            f"cannot read {pointer} ({error}) — {REBUILD_HINT} --index {index_dir}"
        ) from None
    folder = index_dir / name
    if not name.startswith("build-") or "/" in name or not folder.is_dir():
        raise IndexCorruptError(
            f"{pointer} points at a missing build '{name}' — {REBUILD_HINT} --index {index_dir}"
        )
    return folder


def read_manifest(folder: Path) -> Manifest:
    path = folder / "manifest.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexCorruptError(f"{path} is missing — {REBUILD_HINT}") from None
    except (json.JSONDecodeError, UnicodeDecodeError, OSError):
        raise IndexCorruptError(f"{path} is unreadable or not JSON — {REBUILD_HINT}") from None
    if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
        found = data.get("format_version") if isinstance(data, dict) else None
        raise IndexMismatchError(
            f"{path} has index format {found}, this version reads {FORMAT_VERSION} — {REBUILD_HINT}"
        )
    try:
        manifest = Manifest(**data)
    except TypeError:
        raise IndexCorruptError(f"{path} lacks required fields — {REBUILD_HINT}") from None
    if not (
        isinstance(manifest.checksums, dict)
        and isinstance(manifest.counts, dict)
        and isinstance(manifest.dimension, int)
        and isinstance(manifest.model, str)
    ):
        raise IndexCorruptError(f"{path} has fields of the wrong type — {REBUILD_HINT}")
    return manifest


def load_index(index_dir: Path) -> StoredIndex:
    """Load and verify the live build of ``index_dir``."""
    folder = current_build(index_dir)
    manifest = read_manifest(folder)
    for name, expected in manifest.checksums.items():
        path = folder / name
        if not path.is_file():
            raise IndexCorruptError(f"{path} is missing — {REBUILD_HINT} --index {index_dir}")
        if sha256_file(path) != expected:
            raise IndexCorruptError(
                f"{path} is damaged (checksum differs from the manifest) — {REBUILD_HINT} --index {index_dir}"
            )
    try:
        reports = {row["doc_id"]: _report_from_row(row) for row in _read_jsonl(folder / "reports.jsonl")}
        paragraphs = {
            (row["doc_id"], row["number"]): Paragraph(**row)
            for row in _read_jsonl(folder / "paragraphs.jsonl")
        }
        chunks = [Chunk(**row) for row in _read_jsonl(folder / "chunks.jsonl")]
    except (KeyError, TypeError):
        raise IndexCorruptError(f"a table in {folder} has rows of the wrong shape — {REBUILD_HINT}") from None
    try:
        dense = faiss.read_index(str(folder / "dense.faiss"))
        if isinstance(dense, faiss.IndexIVF):
            # A search-time setting: this code's, not the file's.
            dense.nprobe = ivf_probes(dense.nlist, dense.ntotal)
    except RuntimeError:
        raise IndexCorruptError(
            f"{folder / 'dense.faiss'} is not a readable FAISS index — {REBUILD_HINT}"
        ) from None
    try:
        bm25 = bm25s.BM25.load(str(folder / "bm25"))
    except Exception:
        raise IndexCorruptError(f"{folder / 'bm25'} is not a readable BM25 index — {REBUILD_HINT}") from None
    if dense.d != manifest.dimension:
        raise IndexMismatchError(
            f"{folder / 'dense.faiss'} has dimension {dense.d}, the manifest says "
            f"{manifest.dimension} — {REBUILD_HINT}"
        )
    if dense.ntotal != len(chunks):
        raise IndexCorruptError(
            f"{folder / 'dense.faiss'} holds {dense.ntotal} vectors for {len(chunks)} chunks — {REBUILD_HINT}"
        )
    return StoredIndex(folder, manifest, reports, paragraphs, chunks, dense, bm25)


def _report_from_row(row: dict[str, Any]) -> Report:
    """Report metadata without its text (loaded lazily from the file only where needed)."""
    return Report(
        doc_id=row["doc_id"],
        title=row["title"],
        year=row["year"],
        reviews=row["reviews"],
        plans=tuple(row["plans"]),
        path=Path(row["path"]),
        text="",
        source=row.get("source", ""),
        region=row.get("region", ""),
        level=row.get("level", ""),
        review_period=tuple(row["review_period"]) if row.get("review_period") else None,
        plan_period=tuple(row["plan_period"]) if row.get("plan_period") else None,
        origins=tuple((field, origin) for field, origin in row.get("origins", [])),
        format=row.get("format", "txt"),
        pages=tuple(row.get("pages", ())),
        original=row.get("original", ""),
        sha256=row.get("sha256", ""),
    )
