"""Speed benchmark: the machine, a reference encoder, per-question latency, index build, cold start.

    .venv/bin/python -m eval.bench                       # about 4 minutes on 2 idle cores
    .venv/bin/python -m eval.bench --quick --json /tmp/bench.json   # a subsample, about 2 minutes
    .venv/bin/python -m eval.bench --load                # also eval.load's 500 questions from 16 clients
    .venv/bin/python -m eval.bench --skip-build          # no build-rate figures (indexes are still built)
    .venv/bin/python -m eval.bench --scale 1000000       # also eval.scale.run(N), when that module exists

A machine other jobs share takes twice as long and gives noisier figures (the load average is printed).

Input: the settings (defaults, ``govqa.toml``, ``GOVQA_*``; corpus and index folders are replaced),
the reports of ``data/reports`` (罗湖) and ``data/`` (the 17-report library), the questions of
``eval/datasets/luohu_qa.jsonl`` and ``library_qa.jsonl`` (questions only), the embedding model.

Output: on stdout, tables of
1. the machine (CPU, cores, SIMD flags, RAM, load average), library versions and settings;
2. the reference encoder — plain ``SentenceTransformer(<m3e-small folder>, device="cpu")`` in float32:
   one-question latency p50/p95, and the batch rate over the library's chunk texts;
3. ``Answerer.ask`` latency end to end (query embedding included) with the settings' backend and with
   torch, on both libraries, and its ratio to the reference one-question p50;
4. the index build of the 17-report library: from scratch without the vector cache, a rebuild with a
   warm cache, and a build after adding one report; chunks/s and the ratio to the reference rate;
5. cold start of ``python app.py`` over the 罗湖 index: seconds from spawn to the first answer through
   the HTTP API, and the app's resident memory then;
6. with ``--load``, eval.load's figures; 7. with ``--scale N``, ``eval.scale.run(N)`` when it exists.
The same figures go as JSON to ``--json PATH``. All measured in one run, so ratios are meaningful;
absolute figures move with whatever else the machine runs (the load average is printed).

Every index is built in a temporary folder under /tmp, so the developer's ``.index`` is untouched;
the ONNX export is made (or copied from an existing index folder's ``models/``) once and hard-linked
into each. Deliberately left out: accuracy (``python -m eval``) and FAISS at scale (``eval.bench_faiss``).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import http.client
import importlib
import importlib.metadata
import importlib.util
import io
import json
import logging
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from eval import load as load_bench
from eval.dataset import LIBRARY, LIBRARY_CORPUS, LUOHU
from eval.load import dataset_questions
from eval.report import git_commit
from eval.report import machine as machine_facts
from index.build import build_index, settings_embedder
from index.chunk import chunk_paragraphs
from index.clean import split_lines
from index.corpus import load_corpus
from index.embed import Embedder, resolve_model
from index.logs import setup_logging
from index.normalize import normalize
from index.onnx_export import export_folder, source_key
from index.settings import PROJECT_ROOT, Settings, load_settings
from index.store import load_index
from index.structure import structure
from qa.answer import Answerer

log = logging.getLogger("eval.bench")

LUOHU_CORPUS = PROJECT_ROOT / "data" / "reports"
PROVINCIAL = PROJECT_ROOT / "data" / "examples" / "provincial_2026"
REFERENCE_MODEL = "m3e-small"
FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni")
VERSIONS = ("torch", "onnxruntime", "faiss-cpu", "sentence-transformers", "bm25s", "numpy", "transformers")
SETTING_NAMES = (
    "model",
    "backend",
    "quantize",
    "embed_threads",
    "batch_size",
    "chunk_size",
    "chunk_overlap",
    "vector_cache",
    "top_k",
)
COLD_START_QUESTION = "2020年罗湖区一般公共预算收入是多少？"
WARMUP = 5
QUICK_TEXTS = 500
QUICK_QUESTIONS = 60
REFERENCE_QUESTIONS = 100


# ---------------------------------------------------------------- helpers


def percentiles_ms(seconds: list[float]) -> dict[str, float | int | None]:
    """p50, p95 and mean in milliseconds (nearest rank, as eval.load), and the count."""
    if not seconds:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "mean_ms": None}
    return {
        "n": len(seconds),
        "p50_ms": round(load_bench.percentile(seconds, 0.50) * 1000, 2),
        "p95_ms": round(load_bench.percentile(seconds, 0.95) * 1000, 2),
        "mean_ms": round(sum(seconds) / len(seconds) * 1000, 2),
    }


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    return round(numerator / denominator, 3) if numerator and denominator else None


def has_setting(name: str) -> bool:
    return name in {f.name for f in dataclasses.fields(Settings)}


def spread(items: list[Any], count: int) -> list[Any]:
    """``count`` items taken evenly across ``items`` (all of them when there are no more)."""
    if count >= len(items):
        return list(items)
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


def library_texts(corpus_dir: Path, settings: Settings) -> list[str]:
    """The texts a build of ``corpus_dir`` embeds, made as ``index.build.build_index`` makes them."""
    paragraphs = []
    for report in load_corpus(corpus_dir):
        found = structure(report, split_lines(report.text))
        if any(p.kind == "body" for p in found):
            paragraphs.extend(found)
    chunks = chunk_paragraphs(paragraphs, settings.chunk_size, settings.chunk_overlap)
    return [normalize(c.searched) for c in chunks]


def link_tree(source: Path, target: Path) -> None:
    """A copy of ``source`` at ``target``, hard-linked where the file system allows (no extra space)."""

    def link_or_copy(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, copy_function=link_or_copy)


def fresh_index_dir(scratch: Path, name: str, models: Path) -> Path:
    """An empty index folder holding only the ONNX export (``<index_dir>/models``, index.onnx_export)."""
    index_dir = scratch / name
    if index_dir.exists():
        shutil.rmtree(index_dir)
    index_dir.mkdir(parents=True)
    link_tree(models, index_dir / "models")
    return index_dir


@contextlib.contextmanager
def environment(**values: str) -> Iterator[None]:
    """``os.environ`` with ``values`` set (eval.load starts the app with a copy of it), then restored."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


class TimedEmbedder:
    """An embedder that counts the passages it embeds and the seconds it spends on them, and keeps
    their vectors by text when given a ``record`` to fill."""

    def __init__(self, inner: Embedder, record: dict[str, np.ndarray] | None = None) -> None:
        self.inner = inner
        self.record = record
        self.seconds = 0.0
        self.texts = 0

    def __getattr__(self, name: str) -> Any:  # name, dimension, quantize, backend, identity
        return getattr(self.inner, name)

    def embed_passages(self, texts: list[str]) -> Any:
        started = time.perf_counter()
        vectors = self.inner.embed_passages(texts)
        self.seconds += time.perf_counter() - started
        self.texts += len(texts)
        if self.record is not None:
            self.record.update(zip(texts, np.asarray(vectors), strict=True))
        return vectors

    def embed_queries(self, texts: list[str]) -> Any:
        return self.inner.embed_queries(texts)


class ReplayEmbedder(TimedEmbedder):
    """Passage vectors read back from ``record`` (vectors an earlier build made); a text missing
    there is embedded and counted."""

    def __init__(self, inner: Embedder, record: dict[str, np.ndarray]) -> None:
        super().__init__(inner)
        self.replayed = record

    def embed_passages(self, texts: list[str]) -> Any:
        missing = [text for text in texts if text not in self.replayed]
        fresh = (
            dict(zip(missing, np.asarray(super().embed_passages(missing)), strict=True)) if missing else {}
        )
        return np.stack([self.replayed.get(text, fresh.get(text)) for text in texts])


def timed_build(
    settings: Settings, label: str, record: dict[str, np.ndarray] | None = None
) -> dict[str, Any]:
    """``build_index`` with ``settings``: seconds, chunks, and how many chunk texts were embedded
    (their vectors kept in ``record`` when given)."""
    started = time.perf_counter()
    embedder = settings_embedder(settings)  # loaded once per index folder (index.embed.load_embedder)
    model_seconds = time.perf_counter() - started
    timed = TimedEmbedder(embedder, record)
    started = time.perf_counter()
    folder = build_index(settings, timed)  # type: ignore[arg-type]  (an Embedder by its attributes)
    seconds = time.perf_counter() - started
    counts = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["counts"]
    return {
        "build": label,
        "reports": counts["reports"],
        "chunks": counts["chunks"],
        "embedded": timed.texts,
        "seconds": round(seconds, 2),
        "embed_seconds": round(timed.seconds, 2),
        "model_load_seconds": round(model_seconds, 2),
        "chunks_per_s": round(counts["chunks"] / seconds, 1) if seconds else None,
        "vector_cache": getattr(settings, "vector_cache", None),
    }


def build_indexes(
    settings: Settings, scratch: Path, models: Path, record: dict[str, np.ndarray]
) -> dict[str, Any]:
    """The indexes the other figures need, in ``scratch/index-luohu`` and ``scratch/index-library``.
    The library's doubles as build (a): from scratch and (where the setting exists) without the
    vector cache; its vectors are kept in ``record``."""
    luohu_dir = fresh_index_dir(scratch, "index-luohu", models)
    luohu = timed_build(settings.replace(corpus_dir=LUOHU_CORPUS, index_dir=luohu_dir), "罗湖")
    library_dir = fresh_index_dir(scratch, "index-library", models)
    full_settings = settings.replace(corpus_dir=LIBRARY_CORPUS, index_dir=library_dir)
    if has_setting("vector_cache"):
        full_settings = full_settings.replace(vector_cache=False)
    library = timed_build(full_settings, "17-report library from scratch", record)
    return {"luohu": luohu, "library": library}


# ---------------------------------------------------------------- 1. machine and settings


def machine_and_settings(settings: Settings) -> dict[str, Any]:
    facts = dict(machine_facts())
    flags: set[str] = set()
    memory_gib = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
        total = next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal"))
        memory_gib = round(int(total.split()[1]) / 2**20, 1)
    except (OSError, StopIteration):
        pass
    versions = {"python": platform.python_version()}
    for name in VERSIONS:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "cpu": facts["cpu"],
        "cores": facts["cores"],
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else facts["cores"],
        "flags": {flag: flag in flags for flag in FLAGS},
        "ram_gib": memory_gib,
        "system": facts["system"],
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "commit": git_commit(),
        "versions": versions,
        "settings": {name: getattr(settings, name, "n/a") for name in SETTING_NAMES},
    }


# ---------------------------------------------------------------- model cache


def prepare_models(scratch: Path, settings: Settings) -> tuple[Path, dict[str, Any]]:
    """A ``models/`` folder holding the settings' ONNX export, to hard-link into every index folder.

    An export already in the developer's index folders is copied (read only); otherwise the model is
    exported once here, and the seconds that took are reported.
    """
    models = scratch / "models"
    models.mkdir(parents=True, exist_ok=True)
    if settings.backend != "onnx":
        return models, {"source": "not needed (backend torch)"}
    target, local = resolve_model(settings.model)
    folder = export_folder(models, settings.model, source_key(target, local))
    wanted = "model.int8.onnx" if settings.quantize else "model.onnx"
    cached = sorted((PROJECT_ROOT / "eval" / ".cache").glob("*/models"))
    candidates = [PROJECT_ROOT / ".index" / "models", *cached]
    for candidate in candidates:
        found = candidate / folder.name
        if (found / "meta.json").is_file() and (found / wanted).is_file():
            shutil.copytree(found, folder)
            return models, {"source": f"copied from {found}", "export_seconds": None}
    started = time.perf_counter()
    settings_embedder(settings.replace(index_dir=scratch / "export"))  # exports into scratch/export/models
    seconds = time.perf_counter() - started
    exported = export_folder(scratch / "export" / "models", settings.model, source_key(target, local))
    shutil.copytree(exported, folder)
    return models, {"source": "exported by this run", "export_seconds": round(seconds, 1)}


# ---------------------------------------------------------------- 2. reference encoder


def reference_encoder(questions: list[str], texts: list[str], batch_size: int, note: str) -> dict[str, Any]:
    """Plain sentence-transformers in float32: one-question latency and batch rate over ``texts``."""
    import torch
    from sentence_transformers import SentenceTransformer

    folder, _ = resolve_model(REFERENCE_MODEL)
    started = time.perf_counter()
    model = SentenceTransformer(folder, device="cpu")
    load_seconds = time.perf_counter() - started

    def one_question_latencies() -> list[float]:
        for question in questions[:10]:  # warm-up
            model.encode(question, convert_to_numpy=True, show_progress_bar=False)
        latencies = []
        for question in questions:
            started = time.perf_counter()
            model.encode(question, convert_to_numpy=True, show_progress_bar=False)
            latencies.append(time.perf_counter() - started)
        return latencies

    threads = torch.get_num_threads()
    latencies = one_question_latencies()
    # Also on one thread: on a CPU other jobs share, torch's threads wait for each other at every
    # layer and the default's latency says more about the other jobs than about the model.
    torch.set_num_threads(1)
    try:
        latencies_one_thread = one_question_latencies()
    finally:
        torch.set_num_threads(threads)
    started = time.perf_counter()
    model.encode(texts, batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False)
    batch_seconds = time.perf_counter() - started
    return {
        "model": f"{REFERENCE_MODEL} ({folder})",
        "dtype": "float32",
        "torch_threads": threads,
        "load_seconds": round(load_seconds, 2),
        "one_question": percentiles_ms(latencies),
        "one_question_1_thread": percentiles_ms(latencies_one_thread),
        "batch": {
            "texts": len(texts),
            "note": note,
            "batch_size": batch_size,
            "seconds": round(batch_seconds, 2),
            "chunks_per_s": round(len(texts) / batch_seconds, 1),
        },
    }


# ---------------------------------------------------------------- 3. per-question latency


def question_latency(answerer: Answerer, questions: list[str]) -> dict[str, Any]:
    """``Answerer.ask`` end to end, each question once after a few warm-up questions."""
    for question in questions[:WARMUP]:
        answerer.ask(question)
    latencies = []
    for question in questions:
        started = time.perf_counter()
        answerer.ask(question)
        latencies.append(time.perf_counter() - started)
    return percentiles_ms(latencies)


def per_question(
    settings: Settings,
    libraries: dict[str, tuple[Path, list[str]]],
    reference_p50_ms: float | None,
    reference_1_thread_p50_ms: float | None,
) -> list[dict[str, Any]]:
    """Question latency on each library (name → index folder, questions), with the settings' backend
    and then with torch (the same index; the torch model embeds only the questions)."""
    rows = []
    for name, (index_dir, questions) in libraries.items():
        library_settings = settings.replace(index_dir=index_dir)
        stored = load_index(index_dir)
        backends = [settings.backend] + (["torch"] if settings.backend != "torch" else [])
        for backend in backends:
            started = time.perf_counter()
            embedder = settings_embedder(library_settings.replace(backend=backend))
            answerer = Answerer(library_settings.replace(backend=backend), stored=stored, embedder=embedder)
            load_seconds = time.perf_counter() - started
            figures = question_latency(answerer, questions)
            rows.append(
                {
                    "library": name,
                    "backend": embedder.backend,
                    "quantize": embedder.quantize,
                    "chunks": len(stored.chunks),
                    "load_seconds": round(load_seconds, 2),
                    **figures,
                    "p50_over_reference_p50": ratio(figures["p50_ms"], reference_p50_ms),
                    "p50_over_reference_1_thread_p50": ratio(figures["p50_ms"], reference_1_thread_p50_ms),
                }
            )
            log.info("%s, %s: p50 %s ms", name, embedder.backend, figures["p50_ms"])
    return rows


# ---------------------------------------------------------------- 4. index build rate


def seed_cache(settings: Settings, record: dict[str, np.ndarray], label: str) -> dict[str, Any]:
    """The vector cache of ``settings.index_dir`` as a build of ``settings.corpus_dir`` there would
    leave it, filled with vectors already made (``record``) instead of embedding them again."""
    from index.vectors import CACHE_FOLDER, embed_with_cache

    texts = library_texts(settings.corpus_dir, settings)
    replay = ReplayEmbedder(settings_embedder(settings), record)
    started = time.perf_counter()
    cache_log = logging.getLogger("index.vectors")
    level = cache_log.level
    cache_log.setLevel(logging.WARNING)  # its note would count the replayed vectors as embedded
    try:
        embed_with_cache(replay, texts, settings.index_dir / CACHE_FOLDER)  # type: ignore[arg-type]
    finally:
        cache_log.setLevel(level)
    return {
        "build": label,
        "reports": len(load_corpus(settings.corpus_dir)),
        "chunks": len(texts),
        "embedded": replay.texts,  # 0 unless a text was missing from ``record``
        "seconds": round(time.perf_counter() - started, 2),
    }


def build_rates(
    settings: Settings,
    scratch: Path,
    models: Path,
    library_index: dict[str, Any],
    record: dict[str, np.ndarray],
    reference_rate: float | None,
) -> dict[str, Any]:
    """(a) is ``library_index``, the from-scratch build made for the latency figures, whose vectors
    are in ``record``. Then, in one index folder with the vector cache on: (d0) the cache as a build
    of the library without one provincial report leaves it (seeded from ``record``: an earlier
    build's vectors, not embedded again), (d) a build with that report added back, (c) the same
    library rebuilt with the cache warm."""
    figures: dict[str, Any] = {"full": {**library_index, "over_reference_rate": None}}
    figures["full"]["over_reference_rate"] = ratio(library_index["chunks_per_s"], reference_rate)
    if not has_setting("vector_cache"):
        figures["cache_rebuild"] = figures["add_one_report"] = "n/a (no vector_cache setting)"
        return figures
    corpus = scratch / "corpus-17"
    held = scratch / "held-out"
    shutil.copytree(LIBRARY_CORPUS, corpus)
    removed = sorted((corpus / PROVINCIAL.relative_to(LIBRARY_CORPUS)).glob("*.txt"))[0]
    held.mkdir()
    for part in (removed, removed.with_suffix(".toml")):
        if part.exists():
            part.rename(held / part.name)
    index_dir = fresh_index_dir(scratch, "index-add-one", models)
    cached = settings.replace(corpus_dir=corpus, index_dir=index_dir, vector_cache=True)
    without = seed_cache(cached, record, f"library without {removed.name}")
    for part in held.iterdir():
        part.rename(removed.parent / part.name)
    added = timed_build(cached, f"{removed.name} added back, warm vector cache")
    rebuilt = timed_build(cached, "the same library rebuilt, warm vector cache")
    for row in (added, rebuilt):
        row["over_reference_rate"] = ratio(row["chunks_per_s"], reference_rate)
    figures["cache_seeded_without_one"] = without
    report_chunks = added["chunks"] - without["chunks"]
    figures["add_one_report"] = {**added, "report": removed.name, "report_chunks": report_chunks}
    figures["cache_rebuild"] = rebuilt
    return figures


# ---------------------------------------------------------------- 5. cold start


def cold_start(index_dir: Path, corpus_dir: Path, scratch: Path, timeout: float = 300) -> dict[str, Any]:
    """Spawn ``python app.py`` over ``index_dir``; seconds until /ask answers, and the app's RSS then."""
    port = load_bench.free_port()
    url = f"http://127.0.0.1:{port}/"
    log_path = scratch / f"app-{port}.log"
    with environment(GOVQA_INDEX_DIR=str(index_dir), GOVQA_CORPUS_DIR=str(corpus_dir)):
        started = time.perf_counter()
        process = load_bench.start_app(port, log_path)
    client = load_bench.AskClient(url, timeout=60)
    seconds = rss = None
    last_error = ""
    try:
        # Polled every 0.1 s (eval.load.wait_until_answering polls every second, too coarse here).
        while time.perf_counter() - started < timeout:
            if process.poll() is not None:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the app exited with status {process.returncode}:\n{tail}")
            try:
                client.ask(COLD_START_QUESTION)
                seconds = time.perf_counter() - started
                break
            except (OSError, RuntimeError, ValueError, http.client.HTTPException) as error:
                last_error = str(error)
                client.close()
                time.sleep(0.1)
        rss = load_bench.rss_mb(process.pid)
    finally:
        client.close()
        load_bench.stop_app(process)
    if seconds is None:
        raise RuntimeError(f"the app did not answer within {timeout:.0f} s (last error: {last_error})")
    # The app rebuilds an index that no longer matches the code or settings (e.g. index code edited
    # since the build): that rebuild is then part of the start, and its note says why.
    rebuilds = [
        line.strip()[:300]
        for line in log_path.read_text(errors="replace").splitlines()
        if "rebuilding" in line or "building it" in line
    ]
    return {
        "seconds_to_first_answer": round(seconds, 2),
        "rss_mib_after_first_answer": round(rss, 1) if rss is not None else None,
        "index_dir": str(index_dir),
        "rebuilt_at_start": bool(rebuilds),
        "rebuild_note": rebuilds[0] if rebuilds else "",
        "exit_status": process.returncode,
        "log": str(log_path),
    }


# ---------------------------------------------------------------- 6. load, 7. scale


def load_run(index_dir: Path, corpus_dir: Path, scratch: Path) -> dict[str, Any]:
    """eval.load's benchmark (500 questions, 16 clients) against an app it starts over ``index_dir``."""
    out = scratch / "load.json"
    printed = io.StringIO()
    app_environment = environment(GOVQA_INDEX_DIR=str(index_dir), GOVQA_CORPUS_DIR=str(corpus_dir))
    with app_environment, contextlib.redirect_stdout(printed):
        status = load_bench.main(["--questions", "500", "--clients", "16", "--json", str(out)])
    figures = json.loads(out.read_text(encoding="utf-8"))
    figures["exit_status"] = status
    return figures


def scale_run(n: int) -> dict[str, Any]:
    """The 1M-chunk measurement lives in another module: ``eval.scale.run(n)`` when it exists."""
    # HOOK for the 1M-chunk part: eval/scale.py's run(n) -> dict (its own module, its own figures).
    if importlib.util.find_spec("eval.scale") is None:
        return {"n": n, "status": "not yet measured (no eval.scale; see also python -m eval.bench_faiss)"}
    module = importlib.import_module("eval.scale")
    run = getattr(module, "run", None)
    if not callable(run):
        return {"n": n, "status": "not yet measured (eval.scale has no run(n))"}
    return {"n": n, **run(n)}


# ---------------------------------------------------------------- output


# The 1-minute load average at the end of each measurement: on a shared machine it says which
# figures other jobs slowed (torch's multi-threaded ones most: its threads wait for each other).
LOAD_BY_SECTION: dict[str, float] = {}


def guarded(name: str, measure: Callable[[], Any]) -> Any:
    """The measurement's figures, or its error (the rest of the benchmark still runs)."""
    started = time.perf_counter()
    try:
        figures = measure()
    except (Exception, SystemExit) as error:  # eval.load exits with a message when the app fails
        traceback.print_exc(file=sys.stderr)
        return {"error": f"{type(error).__name__}: {str(error).strip()[:500]}"}
    finally:
        LOAD_BY_SECTION[name] = round(os.getloadavg()[0], 2)
    log.info("%s took %.1f s", name, time.perf_counter() - started)
    return figures


def cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


HEADERS = {
    "p50_over_reference_p50": "p50 / reference p50",
    "p50_over_reference_1_thread_p50": "p50 / reference 1-thread p50",
    "over_reference_rate": "rate / reference rate",
}


def markdown(columns: list[str], rows: list[dict[str, Any]]) -> str:
    headers = [HEADERS.get(c, c) for c in columns]
    lines = ["| " + " | ".join(headers) + " |", "|" + " --- |" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def failed(section: Any) -> str | None:
    return section["error"] if isinstance(section, dict) and "error" in section else None


def render(figures: dict[str, Any]) -> str:
    out = []
    machine = figures["machine"]
    flags = ", ".join(f"{k} {'yes' if v else 'no'}" for k, v in machine["flags"].items())
    out += [
        "## 1. Machine and settings",
        "",
        f"cpu       {machine['cpu']}, {machine['cores']} logical cores ({machine['usable_cores']} usable), "
        f"{machine['ram_gib']} GiB RAM",
        f"flags     {flags}",
        f"system    {machine['system']}; commit {machine['commit']}",
        f"load avg  {machine['load_average_at_start']} at start, {figures.get('load_average_at_end')} at end "
        "(1, 5, 15 min; above the core count means other jobs shared the CPU)",
        "          1-min load after each part: "
        + ", ".join(f"{k} {v}" for k, v in figures.get("load_by_section", {}).items()),
        "versions  " + ", ".join(f"{k} {v}" for k, v in machine["versions"].items()),
        "settings  " + ", ".join(f"{k}={v}" for k, v in machine["settings"].items()),
        f"mode      {figures['mode']}; ONNX export: {figures['models'].get('source')}"
        + (f" ({figures['models']['export_seconds']} s)" if figures["models"].get("export_seconds") else ""),
        "",
    ]
    reference = figures["reference"]
    out += ["## 2. Reference encoder: SentenceTransformer(m3e-small, device='cpu'), float32", ""]
    if failed(reference):
        out += [f"failed: {failed(reference)}", ""]
    else:
        one, one_1, batch = reference["one_question"], reference["one_question_1_thread"], reference["batch"]
        out += [
            markdown(
                ["measure", "value"],
                [
                    {"measure": "model load", "value": f"{reference['load_seconds']} s"},
                    {"measure": "torch threads", "value": reference["torch_threads"]},
                    {
                        "measure": f"one question, {one['n']} questions: p50 / p95",
                        "value": f"{one['p50_ms']} / {one['p95_ms']} ms",
                    },
                    {
                        "measure": f"one question on 1 torch thread, {one_1['n']} questions: p50 / p95",
                        "value": f"{one_1['p50_ms']} / {one_1['p95_ms']} ms",
                    },
                    {
                        "measure": f"batch of {batch['texts']} chunk texts, batch size {batch['batch_size']}",
                        "value": f"{batch['chunks_per_s']} chunks/s ({batch['seconds']} s)",
                    },
                ],
            ),
            f"texts: {batch['note']}",
            "",
        ]
    out += ["## 3. Per question, end to end (Answerer.ask, query embedding included)", ""]
    rows = figures["questions"]
    if failed(rows):
        out += [f"failed: {failed(rows)}", ""]
    else:
        out += [
            markdown(
                [
                    "library",
                    "backend",
                    "quantize",
                    "chunks",
                    "n",
                    "p50_ms",
                    "p95_ms",
                    "mean_ms",
                    "p50_over_reference_p50",
                    "p50_over_reference_1_thread_p50",
                ],
                rows,
            ),
            "torch rows: the same index (built by the settings' backend); torch embeds the questions only",
        ]
        busiest = max([*figures.get("load_by_section", {}).values(), *machine["load_average_at_start"][:1]])
        if busiest > machine["usable_cores"]:
            out.append(
                f"shared machine (1-min load up to {busiest} on {machine['usable_cores']} cores): torch's "
                "multi-threaded figures suffer most; the 1-thread reference is the steadier yardstick"
            )
        indexes = figures.get("indexes", {})
        for key, index in indexes.items() if not failed(indexes) else ():
            out.append(
                f"index {key}: {index['reports']} reports, {index['chunks']} chunks, "
                f"built in {index['seconds']} s"
            )
        out.append("")
    out += ["## 4. Index build, 17-report library", ""]
    build = figures["build"]
    if failed(build) or isinstance(build, str):
        out += [f"{failed(build) or build}", ""]
    else:
        rows = []
        for key, label in (
            ("full", "(a) from scratch, no vector cache"),
            ("cache_rebuild", "(c) rebuilt, vector cache warm"),
            ("cache_seeded_without_one", "(d0) cache seeded: (a)'s vectors minus one report"),
            ("add_one_report", "(d) one report added back"),
        ):
            row = build.get(key)
            if isinstance(row, dict):
                rows.append({**row, "build": label})
            elif row is not None:
                rows.append({"build": f"{label}: {row}"})
        out += [
            markdown(
                [
                    "build",
                    "reports",
                    "chunks",
                    "embedded",
                    "seconds",
                    "embed_seconds",
                    "chunks_per_s",
                    "over_reference_rate",
                ],
                rows,
            ),
        ]
        added = build.get("add_one_report")
        if isinstance(added, dict):
            out.append(f"(d) added {added['report']} ({added['report_chunks']} chunks); d0, d, c: one index")
        out += [
            "chunks_per_s: chunks / seconds; rate / reference rate: that / section 2's batch rate",
            "",
        ]
    out += ["## 5. Cold start: python app.py over the 罗湖 index, spawn → first answer via /ask", ""]
    cold = figures["cold_start"]
    if failed(cold):
        out += [f"failed: {failed(cold)}", ""]
    else:
        out += [
            f"{cold['seconds_to_first_answer']} s to the first answer; "
            f"RSS {cold['rss_mib_after_first_answer']} MiB after it; "
            f"rebuilt at start: {cold['rebuilt_at_start']}; exit status after SIGTERM {cold['exit_status']}",
        ]
        if cold["rebuild_note"]:
            out.append(f"the app rebuilt the index first: {cold['rebuild_note']}")
        out.append("")
    load = figures.get("load")
    out += ["## 6. Load (eval.load: 500 questions, 16 clients)", ""]
    if load is None:
        out += ["not run (pass --load)", ""]
    elif failed(load):
        out += [f"failed: {failed(load)}", ""]
    else:
        latency, rss = load["latency_ms"], load["rss_mb"]
        out += [
            f"{load['answered']} answered, {load['errors']} errors, {load['throughput_qps']} questions/s; "
            f"p50 {latency['p50']} ms, p95 {latency['p95']} ms, p99 {latency['p99']} ms; "
            f"RSS {rss['before']} → {rss['after']} MiB; app answering after {load['startup_seconds']} s",
            "",
        ]
    scale = figures.get("scale")
    out += ["## 7. Scale", ""]
    if scale is None:
        out += ["not run (pass --scale N)", ""]
    else:
        out += [json.dumps(scale, ensure_ascii=False), ""]
    out.append(f"whole run {figures['seconds']} s")
    return "\n".join(out)


# ---------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Speed benchmark: reference encoder, question latency, index build, cold start.",
        epilog="example: python -m eval.bench --quick --json /tmp/bench.json",
    )
    parser.add_argument(
        "-q",
        "--quick",
        action="store_true",
        help=f"subsample: {QUICK_TEXTS} chunk texts for the reference batch, "
        f"{QUICK_QUESTIONS} questions a set for the latency",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--load", action="store_true", help="also run eval.load (500 questions, 16 clients)")
    parser.add_argument("--scale", type=int, metavar="N", help="also run eval.scale.run(N) when it exists")
    parser.add_argument(
        "--skip-build",
        action="store_true",
        help="no build-rate figures (section 4); the indexes the other sections need are still built",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary index folders (path logged)")
    args = parser.parse_args(argv)
    if args.scale is not None and args.scale < 1:
        parser.error("--scale must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging()
    run_started = time.perf_counter()
    settings = load_settings()
    scratch = Path(tempfile.mkdtemp(prefix="govqa-bench-", dir="/tmp"))
    log.info("temporary index folders in %s", scratch)
    figures: dict[str, Any] = {"mode": "quick (subsampled)" if args.quick else "full"}
    try:
        figures["machine"] = machine_and_settings(settings)
        models, figures["models"] = prepare_models(scratch, settings)

        luohu_questions = dataset_questions(LUOHU)
        library_questions = dataset_questions(LIBRARY)
        texts = library_texts(LIBRARY_CORPUS, settings)
        reference_questions = spread(luohu_questions + library_questions, REFERENCE_QUESTIONS)
        if args.quick:
            batch_texts = spread(texts, QUICK_TEXTS)
            note = f"{QUICK_TEXTS} of the library's {len(texts)}, evenly spread (--quick)"
            luohu_questions = spread(luohu_questions, QUICK_QUESTIONS)
            library_questions = spread(library_questions, QUICK_QUESTIONS)
        else:
            batch_texts, note = texts, f"all {len(texts)} chunk texts of the 17-report library"
        figures["reference"] = guarded(
            "reference encoder",
            lambda: reference_encoder(reference_questions, batch_texts, settings.batch_size, note),
        )
        reference = figures["reference"] if not failed(figures["reference"]) else None
        reference_p50 = reference["one_question"]["p50_ms"] if reference else None
        reference_1_thread_p50 = reference["one_question_1_thread"]["p50_ms"] if reference else None
        reference_rate = reference["batch"]["chunks_per_s"] if reference else None

        record: dict[str, np.ndarray] = {}  # (a)'s vectors by text, to seed (d0) without embedding again
        indexes = guarded("indexes", lambda: build_indexes(settings, scratch, models, record))
        figures["indexes"] = indexes
        luohu_dir, library_dir = scratch / "index-luohu", scratch / "index-library"
        if failed(indexes):
            for name in ["questions", "build", "cold_start"] + (["load"] if args.load else []):
                figures[name] = {"error": f"no index to measure ({failed(indexes)})"}
        else:
            figures["questions"] = guarded(
                "per-question latency",
                lambda: per_question(
                    settings,
                    {
                        "罗湖 (data/reports)": (luohu_dir, luohu_questions),
                        "17 reports (data/)": (library_dir, library_questions),
                    },
                    reference_p50,
                    reference_1_thread_p50,
                ),
            )
            if args.skip_build:
                figures["build"] = "skipped (--skip-build)"
            else:
                figures["build"] = guarded(
                    "index build",
                    lambda: build_rates(
                        settings, scratch, models, indexes["library"], record, reference_rate
                    ),
                )
            figures["cold_start"] = guarded(
                "cold start", lambda: cold_start(luohu_dir, LUOHU_CORPUS, scratch)
            )
            if args.load:
                figures["load"] = guarded("load", lambda: load_run(luohu_dir, LUOHU_CORPUS, scratch))
        if args.scale is not None:
            figures["scale"] = guarded("scale", lambda: scale_run(args.scale))
    finally:
        if args.keep:
            log.info("kept %s", scratch)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    figures["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    figures["load_by_section"] = dict(LOAD_BY_SECTION)
    figures["seconds"] = round(time.perf_counter() - run_started, 1)
    print(render(figures))
    if args.json:
        text = json.dumps(figures, ensure_ascii=False, indent=2, default=str)
        args.json.write_text(text + "\n", encoding="utf-8")
    sections = ("reference", "indexes", "questions", "build", "cold_start", "load", "scale")
    return 1 if any(failed(figures.get(name)) for name in sections) else 0


if __name__ == "__main__":
    sys.exit(main())
