"""Scale benchmark: a synthetic library of N chunks in, question latency, memory and recall out.

    .venv/bin/python -m eval.scale --n 1000000        # or: python -m eval.bench --scale 1000000

No machine here can embed a million chunks in a benchmark's time (about 40 chunks/s), so the
library is made from the real 17-report one (``eval/.cache/library-index``, built by ``python -m
eval`` or on first use): its reports, paragraphs and chunks copied until there are N chunks, each
copy a distinct report (``<id>~k``) with its own strings, and each chunk's vector its source's plus
Gaussian noise (renormalised; cosine about 0.9 to the source, so copies are near but not equal and
the vectors keep the real ones' cluster structure). BM25 is built from the copies' real tokens.

The library is written with the project's own ``index.store.save_index`` (so the dense index is the
one a real library of that size gets) and then measured in a fresh process, as a user would load it:
load time, resident memory (``VmRSS`` and its peak ``VmHWM``), question latency p50/p95 over the
evaluation questions (query embedding included), and recall@10 of the dense index against exact
search for question vectors. Prints the figures and returns them as a dict.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from index.settings import PROJECT_ROOT

SOURCE = PROJECT_ROOT / "eval" / ".cache" / "library-index"
QUESTIONS = (
    PROJECT_ROOT / "eval" / "datasets" / "library_qa.jsonl",
    PROJECT_ROOT / "eval" / "datasets" / "luohu_qa.jsonl",
)
NOISE = 0.0214  # per dimension: 512·σ² ≈ 0.234, so a copy's cosine to its source is about 0.9


def _distinct(text: str) -> str:
    """A new string object with the same characters: a real library does not share its texts."""
    return (text + "\0")[:-1]


def synthetic_vectors(source: np.ndarray, copies: int, seed: int = 0) -> Iterator[np.ndarray]:
    """Each copy's vectors: the source's plus Gaussian noise, renormalised; the same for the same seed,
    so the measuring process can search them exactly without a second copy on disk."""
    rng = np.random.default_rng(seed)
    for _ in range(copies):
        noisy = source + rng.normal(0.0, NOISE, source.shape).astype(np.float32)
        noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
        yield noisy


def _source_vectors() -> np.ndarray:
    from index.store import load_index

    dense = load_index(SOURCE).dense
    return dense.reconstruct_n(0, dense.ntotal)


def make_library(n: int, out: Path, seed: int = 0) -> dict[str, Any]:
    """Write a synthetic library of ``n`` chunks into the index folder ``out``; returns build figures."""
    from index.build import open_index
    from index.normalize import normalize
    from index.settings import load_settings
    from index.store import save_index
    from index.tokens import tokenize

    settings = load_settings().replace(corpus_dir=PROJECT_ROOT / "data", index_dir=SOURCE)
    source = open_index(settings)
    vectors = source.dense.reconstruct_n(0, source.dense.ntotal)
    texts = [normalize(c.searched) for c in source.chunks]
    tokens = [tokenize(t) for t in texts]
    copies = math.ceil(n / len(source.chunks))
    started = time.perf_counter()
    reports, paragraphs, chunks, bm25_tokens = [], [], [], []
    all_vectors = np.empty((copies * len(source.chunks), vectors.shape[1]), dtype=np.float32)
    row = 0
    for k in range(copies):
        suffix = f"~{k}"
        reports.extend(dataclasses.replace(r, doc_id=r.doc_id + suffix) for r in source.reports.values())
        paragraphs.extend(
            dataclasses.replace(p, doc_id=p.doc_id + suffix, text=_distinct(p.text))
            for p in source.paragraphs.values()
        )
        chunks.extend(
            dataclasses.replace(c, doc_id=c.doc_id + suffix, text=_distinct(c.text)) for c in source.chunks
        )
        bm25_tokens.extend(tokens)
    for noisy in synthetic_vectors(vectors, copies, seed):
        all_vectors[row : row + len(noisy)] = noisy
        row += len(noisy)
    made = time.perf_counter() - started
    manifest = dataclasses.asdict(source.manifest)
    for key in ("format_version", "checksums", "libraries"):
        manifest.pop(key)
    manifest["counts"] = {"reports": len(reports), "paragraphs": len(paragraphs), "chunks": len(chunks)}
    began = time.perf_counter()
    save_index(out, manifest, reports, paragraphs, chunks, all_vectors, bm25_tokens)
    if (SOURCE / "models").is_dir():  # the source's ONNX export: measure loading, not exporting
        shutil.copytree(SOURCE / "models", out / "models", dirs_exist_ok=True)
    return {
        "chunks": len(chunks),
        "reports": len(reports),
        "copies_of_source": copies,
        "source_chunks": len(source.chunks),
        "make_seconds": round(made, 1),
        "save_seconds": round(time.perf_counter() - began, 1),
        "index_bytes": sum(p.stat().st_size for p in out.rglob("*") if p.is_file()),
    }


def _rss() -> dict[str, float]:
    status = Path("/proc/self/status").read_text()
    return {
        key: round(int(line.split()[1]) / 1024, 1)
        for line in status.splitlines()
        for key in ("VmRSS", "VmHWM")
        if line.startswith(key + ":")
    }


def measure(index_dir: Path, questions: int = 300) -> dict[str, Any]:
    """Load the library at ``index_dir`` and ask the evaluation questions (run in a fresh process)."""
    from index.settings import load_settings
    from index.store import load_index
    from qa.answer import Answerer

    started = time.perf_counter()
    stored = load_index(index_dir)
    settings = load_settings().replace(index_dir=index_dir)
    answerer = Answerer(settings, stored=stored)
    loaded = time.perf_counter() - started
    after_load = _rss()
    asked = [json.loads(line)["question"] for path in QUESTIONS for line in path.open(encoding="utf-8")]
    asked = asked[:questions]
    for question in asked[:10]:
        answerer.ask(question)
    times = []
    for question in asked:
        began = time.perf_counter()
        answerer.ask(question)
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    # recall@10 of the dense index against exact inner products over the vectors it was built from
    query_vectors = answerer.embedder.embed_queries(asked[:100])
    found = stored.dense.search(query_vectors, 10)[1]
    total = stored.dense.ntotal
    exact = np.zeros((len(query_vectors), 10), dtype=np.int64)
    best = np.full((len(query_vectors), 10), -np.inf, dtype=np.float32)
    source = _source_vectors()
    start = 0
    for part in synthetic_vectors(source, math.ceil(total / len(source))):
        part = part[: total - start]
        similarities = query_vectors @ part.T
        merged = np.concatenate([best, similarities], axis=1)
        ids = np.concatenate(
            [exact, np.arange(start, start + len(part))[None].repeat(len(query_vectors), 0)], 1
        )
        keep = np.argsort(-merged, axis=1)[:, :10]
        best = np.take_along_axis(merged, keep, 1)
        exact = np.take_along_axis(ids, keep, 1)
        start += len(part)
    recall = float(np.mean([len(set(f) & set(e)) / 10 for f, e in zip(found, exact, strict=True)]))
    return {
        "dense_index": type(stored.dense).__name__,
        "load_seconds": round(loaded, 1),
        "rss_mb_after_load": after_load["VmRSS"],
        "questions": len(times),
        "question_p50_ms": round(statistics.median(times), 2),
        "question_p95_ms": round(times[int(0.95 * (len(times) - 1))], 2),
        "rss_mb_after_questions": _rss()["VmRSS"],
        "peak_rss_mb": _rss()["VmHWM"],
        "dense_recall_at_10": round(recall, 4),
    }


def run(n: int, keep: Path | None = None) -> dict[str, Any]:
    """Make the library (or reuse ``keep`` when it already holds one of ``n`` chunks), then measure it
    in a fresh process so the memory figure is a user's, not the builder's."""
    folder = keep or Path(tempfile.mkdtemp(prefix=f"govqa-scale-{n}-"))
    figures: dict[str, Any] = {"n": n}
    try:
        if not (folder / "CURRENT").exists():
            figures["build"] = make_library(n, folder)
        done = subprocess.run(
            [sys.executable, "-m", "eval.scale", "--measure", str(folder)],
            capture_output=True,
            text=True,
            cwd=PROJECT_ROOT,
            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"measuring {folder} failed: {done.stderr.strip().splitlines()[-1:]}")
        figures["measure"] = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="synthetic library benchmark")
    parser.add_argument("--n", type=int, default=1_000_000, help="chunks in the synthetic library")
    parser.add_argument(
        "--keep", type=Path, help="index folder to write (and reuse) instead of a temporary one"
    )
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the fresh process's part
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return 0
    figures = run(args.n, args.keep)
    print(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
