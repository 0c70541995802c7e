"""FAISS index types for the dense retriever at library scale: real chunk vectors in, a table out.

    python -m eval.bench_faiss --n 1000000
    python -m eval.bench_faiss --n 100000 --out /tmp/bench_faiss_100k.json
    FAISS_SIMD_LEVEL=AVX2 OPENBLAS_CORETYPE=Haswell python -m eval.bench_faiss ...   # as on an AVX2-only CPU

Input:
- the live build of a built index folder (``--index-dir``, default ``eval/.cache/library-index``;
  ``DIR/CURRENT`` names the ``build-*`` folder, see index/store.py): the vectors of its
  ``dense.faiss`` seed a synthetic library of ``--n`` vectors, and its manifest names the model;
- the questions of ``--questions`` (default ``eval/datasets/library_qa.jsonl``), embedded in a child
  process with the model and backend that built that index, as real query vectors (``--questions
  ''`` leaves them out).

The synthetic library: each vector is a random real chunk vector, mixed with a second random one at
a weight drawn from U(0, mix), plus Gaussian noise shaped by the real vectors' own covariance
(isotropic noise would leave the narrow cone m3e vectors live in) times ``sigma``, renormalised.
``sigma`` and ``mix`` are fitted so that a synthetic library the size of the real one has the real
one's mean leave-one-out top-1 and top-10 cosine; the synthetic queries' noise is fitted so that
their top-1 cosine matches the real questions'. The realism table shows these figures and some that
were not fitted: the mean cosine of random pairs, the queries' top-10, and the local intrinsic
dimension (higher than the real one's means nearly equidistant neighbours: harder for approximate
search, so recall here errs low).

Output: on stdout, the machine (CPU model, AVX2/AVX-512 flags, the SIMD level faiss dispatches to),
versions, settings, the realism table, and per candidate index (Flat; HNSW over float, SQ8 or fp16
codes; IVF over float, SQ8 or fp16 codes) and search setting: build time, serialized bytes, the
whole-process RSS of a fresh process that loads the index, one-question latency p50/p95 at 1 and 2
threads (wall clock, with the CPU time p50 and the load average, since other work on the machine
inflates wall time), recall@10 against flat search (strict, and counting near-ties within
``--tie-eps``); then the recommended index (least memory, then fastest, among settings whose
strict recall@10 reaches ``--target`` on every query set) and what the search ``k`` costs with it.
The same goes as JSON to ``--out`` (default /tmp/bench_faiss.json).

Shortcuts, to keep a run at 1M under half an hour on two cores: the HNSW-over-codes indexes take
the graph of the HNSW,Flat build (``--hnsw-own-graphs`` builds each its own); the IVF kinds share
one k-means and one assignment of the vectors to lists, whose time each IVF build counts in full.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_INDEX_DIR = HERE / ".cache" / "library-index"
DEFAULT_QUESTIONS = HERE / "datasets" / "library_qa.jsonl"
SCRATCH = Path("/tmp")
BLOCK = 65_536  # vectors generated / searched per block
# kind: (structure, scalar quantizer or None for float32 vectors)
KINDS: dict[str, tuple[str, int | None]] = {
    "flat": ("flat", None),
    "hnsw": ("hnsw", None),
    "hnsw-sq8": ("hnsw", faiss.ScalarQuantizer.QT_8bit),
    "hnsw-fp16": ("hnsw", faiss.ScalarQuantizer.QT_fp16),
    "ivf-flat": ("ivf", None),
    "ivf-sq8": ("ivf", faiss.ScalarQuantizer.QT_8bit),
    "ivf-fp16": ("ivf", faiss.ScalarQuantizer.QT_fp16),
}
CODE_NAMES = {None: "Flat", faiss.ScalarQuantizer.QT_8bit: "SQ8", faiss.ScalarQuantizer.QT_fp16: "SQfp16"}
DEFAULT_KINDS = "flat,hnsw,hnsw-sq8,hnsw-fp16,ivf-flat,ivf-sq8,ivf-fp16"
EF_SEARCH = (16, 32, 64, 128, 256, 384, 512, 768, 1024)
NPROBE = (1, 2, 4, 8, 16, 32, 64, 128, 192, 256, 384, 512, 768, 1024, 2048)
K_COST = (10, 50, 200, 1000)
MB = 1 << 20


# ---------------------------------------------------------------- machine and memory


def machine_info() -> dict[str, Any]:
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "?")
    flag_line = next((line for line in lines if line.startswith("flags")), "flags:")
    flags = set(flag_line.split(":", 1)[1].split())
    meminfo = Path("/proc/meminfo").read_text().split()
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "avx2": "avx2" in flags,
        "avx512f": "avx512f" in flags,
        "avx512_vnni": "avx512_vnni" in flags,
        "ram_gib": round(int(meminfo[meminfo.index("MemTotal:") + 1]) / (1 << 20), 1),
        "faiss": faiss.__version__,
        "faiss_simd_level": faiss.SIMDConfig.get_level_name(),
        "faiss_compile_options": faiss.get_compile_options().strip(),
        "numpy": np.__version__,
        "python": platform.python_version(),
        "env": {
            name: os.environ.get(name)
            for name in ("FAISS_SIMD_LEVEL", "OPENBLAS_CORETYPE", "OMP_NUM_THREADS", "OMP_WAIT_POLICY")
        },
    }


def _status(name: str) -> int:
    """A ``VmRSS``/``VmHWM`` figure of this process, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1]) * 1024
    return 0


def reset_peak() -> None:
    """Reset VmHWM to the current RSS (Linux ≥ 4.0), so a later peak belongs to what ran since."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


LOAD_PROBE = """
import json, sys
from pathlib import Path
def rss():
    for line in Path('/proc/self/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) * 1024
import faiss
before = rss()
index = faiss.read_index(sys.argv[1])
print(json.dumps({'before': before, 'after': rss()}))
"""


def load_rss(path: Path) -> tuple[int, int]:
    """Whole-process RSS of a fresh Python after importing faiss, and after reading the index file."""
    done = subprocess.run(
        [sys.executable, "-c", LOAD_PROBE, str(path)], capture_output=True, text=True, check=True
    )
    figures = json.loads(done.stdout)
    return figures["before"], figures["after"]


def wait_for_quiet(limit_s: float) -> None:
    """Wait (up to limit_s) until the 1-minute load average is below 0.5: other work skews latency."""
    deadline = time.monotonic() + limit_s
    while os.getloadavg()[0] > 0.5 and time.monotonic() < deadline:
        print(f"waiting for a quiet machine: load {os.getloadavg()[0]:.2f}", flush=True)
        time.sleep(30)


# ---------------------------------------------------------------- real vectors and questions


def live_build(index_dir: Path) -> Path:
    current = index_dir / "CURRENT"
    if not current.exists():
        sys.exit(f"no built index at {index_dir} (no CURRENT file) — build one, or give --index-dir")
    return index_dir / current.read_text().strip()


def real_vectors(build: Path) -> np.ndarray:
    index = faiss.read_index(str(build / "dense.faiss"))
    return np.ascontiguousarray(index.reconstruct_n(0, index.ntotal), dtype=np.float32)


EMBED_PROBE = """
import json, sys
from pathlib import Path
import numpy as np
from index.embed import load_embedder
texts_file, model, quantize, backend, cache_dir, out = sys.argv[1:]
texts = json.loads(open(texts_file, encoding="utf-8").read())
options = {"quantize": quantize == "1"}
if backend:  # the backend that embedded the chunks (onnx keeps its export in the index folder)
    options |= {"backend": backend, "cache_dir": Path(cache_dir)}
try:
    embedder = load_embedder(model, **options)
except TypeError:  # a project version without backends
    embedder = load_embedder(model, quantize=options["quantize"])
np.save(out, np.asarray(embedder.embed_queries(texts), dtype=np.float32))
"""


def question_vectors(path: Path | None, manifest: dict[str, Any], index_dir: Path) -> np.ndarray | None:
    """The questions' vectors by the index's model and backend, embedded in a child process."""
    if path is None:
        return None
    texts = [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line]
    texts_file = SCRATCH / f"bench_faiss_{os.getpid()}_questions.json"
    vectors_file = SCRATCH / f"bench_faiss_{os.getpid()}_questions.npy"
    texts_file.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    command = [
        sys.executable,
        "-c",
        EMBED_PROBE,
        str(texts_file),
        manifest["model"],
        "1" if manifest.get("quantized") else "0",
        manifest.get("backend", ""),
        str(index_dir / "models"),
        str(vectors_file),
    ]
    try:
        subprocess.run(command, cwd=HERE.parent, check=True, capture_output=True, text=True)
        return np.ascontiguousarray(np.load(vectors_file), dtype=np.float32)
    except (subprocess.CalledProcessError, OSError) as error:
        detail = getattr(error, "stderr", "") or str(error)
        print(
            f"warning: could not embed {path} ({detail.strip()[-300:]}); synthetic queries only",
            file=sys.stderr,
        )
        return None
    finally:
        texts_file.unlink(missing_ok=True)
        vectors_file.unlink(missing_ok=True)


# ---------------------------------------------------------------- synthetic library


def normalise(x: np.ndarray) -> np.ndarray:
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


@dataclass
class Generator:
    """Random real vector, mixed with another at U(0, mix), plus covariance-shaped noise; renormalised."""

    seeds: np.ndarray
    basis: np.ndarray = field(init=False, repr=False)  # z @ basis.T ~ N(0, covariance of the seeds)

    def __post_init__(self) -> None:
        values, vectors = np.linalg.eigh(np.cov(self.seeds.T.astype(np.float64)))
        self.basis = (vectors * np.sqrt(np.clip(values, 0, None))).astype(np.float32)

    def sample(self, n: int, sigma: float, mix: float, rng: np.random.Generator) -> np.ndarray:
        d = self.seeds.shape[1]
        out = np.empty((n, d), dtype=np.float32)
        for start in range(0, n, BLOCK):
            m = min(BLOCK, n - start)
            first = self.seeds[rng.integers(len(self.seeds), size=m)]
            second = self.seeds[rng.integers(len(self.seeds), size=m)]
            weight = rng.uniform(0.0, mix, size=(m, 1)).astype(np.float32)
            noise = rng.standard_normal((m, d), dtype=np.float32) @ self.basis.T
            out[start : start + m] = normalise((1 - weight) * first + weight * second + sigma * noise)
        return out


LID_K = 20  # neighbours behind the local intrinsic dimension estimate


def top_sims(queries: np.ndarray, base: np.ndarray, leave_one_out: bool, k: int = LID_K) -> np.ndarray:
    """Each query's k best cosines in a small base, best first (exact)."""
    sims = queries @ base.T
    if leave_one_out:
        np.fill_diagonal(sims, -np.inf)
    return -np.sort(-sims, axis=1)[:, :k]


def local_dimension(top: np.ndarray) -> float:
    """Median Levina-Bickel MLE of local intrinsic dimension from each row's k best cosines.

    Not fitted: a library whose neighbourhoods have more dimensions than the real one's is harder
    for approximate search (its neighbours are nearly equidistant).
    """
    distances = np.sqrt(np.clip(2 - 2 * top.astype(np.float64), 1e-12, None))
    with np.errstate(divide="ignore"):
        logs = np.log(distances[:, :-1] / distances[:, -1:]).mean(axis=1)
        return float(np.median(-1 / logs))


def stats(top: np.ndarray) -> dict[str, float]:
    return {"top1": float(top[:, 0].mean()), "top10": float(top[:, 9].mean()), "lid": local_dimension(top)}


def pair_cosine(x: np.ndarray, rng: np.random.Generator, pairs: int = 200_000) -> float:
    i, j = rng.integers(len(x), size=(2, pairs))
    keep = i != j
    return float(np.einsum("ij,ij->i", x[i[keep]], x[j[keep]]).mean())


def _bisect(target: float, measure: Any, low: float = 0.0, high: float = 3.0) -> float:
    """The noise scale at which the (decreasing) measure meets target."""
    for _ in range(18):
        middle = (low + high) / 2
        if measure(middle) > target:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def calibrate(
    generator: Generator, real: np.ndarray, questions: np.ndarray | None, seed: int, mix: float | None
) -> dict[str, Any]:
    """Fit (sigma, mix) to the real leave-one-out top-1/top-10 and the query noise to the questions' top-1."""
    n = len(real)
    real_chunks = stats(top_sims(real, real, leave_one_out=True))

    def chunk_stats(sigma: float, mix: float) -> dict[str, float]:
        sample = generator.sample(n, sigma, mix, np.random.default_rng(seed))  # same draws: smooth in sigma
        return stats(top_sims(sample, sample, leave_one_out=True))

    fits = []
    for candidate in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0) if mix is None else (mix,):
        sigma = _bisect(real_chunks["top1"], lambda s, m=candidate: chunk_stats(s, m)["top1"])
        fitted = chunk_stats(sigma, candidate)
        error = abs(fitted["top10"] - real_chunks["top10"]) + abs(fitted["top1"] - real_chunks["top1"])
        fits.append((error, sigma, candidate))
    _, sigma, mix = min(fits)

    query_sigma, real_queries = sigma, None
    query_count = 200 if questions is None else len(questions)
    if questions is not None:
        real_queries = stats(top_sims(questions, real, leave_one_out=False))
        base = generator.sample(n, sigma, mix, np.random.default_rng(seed))

        def query_top1(s: float) -> float:
            queries = generator.sample(query_count, s, mix, np.random.default_rng(seed + 1))
            return float(top_sims(queries, base, leave_one_out=False)[:, 0].mean())

        query_sigma = _bisect(real_queries["top1"], query_top1)

    rng = np.random.default_rng(seed + 2)
    synthetic = generator.sample(n, sigma, mix, rng)
    synthetic_queries = generator.sample(query_count, query_sigma, mix, rng)
    return {
        "sigma": sigma,
        "mix": mix,
        "query_sigma": query_sigma,
        "fits": [{"mix": m, "sigma": s, "error": e} for e, s, m in fits],
        "rows": [
            realism_row(f"real library ({n} chunks)", real_chunks, pair_cosine(real, rng), real_queries),
            realism_row(
                f"synthetic, same size ({n})",
                stats(top_sims(synthetic, synthetic, leave_one_out=True)),
                pair_cosine(synthetic, rng),
                stats(top_sims(synthetic_queries, synthetic, leave_one_out=False)),
            ),
        ],
    }


def realism_row(
    name: str, chunks: dict[str, float] | None, pairs: float | None, queries: dict[str, float] | None
) -> dict[str, Any]:
    chunks, queries = chunks or {}, queries or {}
    return {
        "set": name,
        "chunk_top1": chunks.get("top1"),
        "chunk_top10": chunks.get("top10"),
        "chunk_lid": chunks.get("lid"),
        "random_pair_cos": pairs,
        "query_top1": queries.get("top1"),
        "query_top10": queries.get("top10"),
        "query_lid": queries.get("lid"),
    }


# ---------------------------------------------------------------- building


@dataclass
class Coarse:
    """An IVF coarse quantizer trained once and each vector's list, shared by the IVF kinds."""

    centroids: np.ndarray
    assign: np.ndarray
    kmeans_s: float
    assign_s: float


def train_coarse(xb: np.ndarray, train: np.ndarray, nlist: int, niter: int, seed: int) -> Coarse:
    """k-means as ``IndexIVF.train`` runs it for inner product (spherical: unit-norm centroids)."""
    start = time.perf_counter()
    params = faiss.ClusteringParameters()
    params.spherical = True  # what IndexIVF sets for METRIC_INNER_PRODUCT
    params.niter = niter
    params.seed = seed
    params.max_points_per_centroid = 1 << 30  # the training sample is chosen by the caller
    clustering = faiss.Clustering(xb.shape[1], nlist, params)
    quantizer = faiss.IndexFlatIP(xb.shape[1])
    clustering.train(train, quantizer)
    kmeans_s = time.perf_counter() - start
    start = time.perf_counter()
    assign = np.empty(len(xb), dtype=np.int64)
    for first in range(0, len(xb), BLOCK * 4):
        assign[first : first + BLOCK * 4] = quantizer.search(xb[first : first + BLOCK * 4], 1)[1][:, 0]
    centroids = faiss.rev_swig_ptr(clustering.centroids.data(), nlist * xb.shape[1]).copy()
    return Coarse(centroids.reshape(nlist, -1), assign, kmeans_s, time.perf_counter() - start)


@dataclass
class Built:
    kind: str
    name: str
    index: Any  # faiss.Index, dropped once measured
    train_s: float
    add_s: float
    shared_s: float = 0.0  # k-means and assignment shared by IVF kinds, or the HNSW graph (in build_s)
    graph_from: str | None = None  # the HNSW build whose graph this index took
    path: Path | None = None
    file_bytes: int = 0
    build_peak_growth: int = 0  # VmHWM during the build minus RSS before it
    build_rss_growth: int = 0
    load_before: int = 0
    load_after: int = 0

    @property
    def build_s(self) -> float:
        return self.train_s + self.shared_s + self.add_s

    @property
    def load_growth(self) -> int:
        return self.load_after - self.load_before


def add_in_blocks(index: Any, xb: np.ndarray, label: str) -> float:
    start = time.perf_counter()
    step = max(BLOCK, len(xb) // 10)
    for first in range(0, len(xb), step):
        index.add(xb[first : first + step])
        if len(xb) > step:
            done = min(first + step, len(xb))
            print(f"    {label}: added {done:,} in {time.perf_counter() - start:.0f} s", flush=True)
    return time.perf_counter() - start


def build_index(
    kind: str,
    xb: np.ndarray,
    train: np.ndarray,
    args: argparse.Namespace,
    coarse: Coarse | None,
    graph: Built | None = None,
) -> Built:
    """One index of the given kind over xb, timed; HNSW over codes takes graph's graph when given."""
    structure, code = KINDS[kind]
    d = xb.shape[1]
    train_s = 0.0
    shared_s = 0.0
    if structure == "flat":
        index = faiss.IndexFlatIP(d)
        name = "Flat"
    elif structure == "hnsw":
        name = f"HNSW{args.hnsw_m},{CODE_NAMES[code]}"
        if code is None:
            index = faiss.IndexHNSWFlat(d, args.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        else:
            index = faiss.IndexHNSWSQ(d, code, args.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            if graph is not None:
                return hnsw_on_graph(index, name, kind, xb, train, graph)
        index.hnsw.efConstruction = args.ef_construction
    else:
        assert coarse is not None
        nlist = len(coarse.centroids)
        quantizer = faiss.IndexFlatIP(d)
        quantizer.add(coarse.centroids)
        if code is None:
            index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
        else:
            index = faiss.IndexIVFScalarQuantizer(quantizer, d, nlist, code, faiss.METRIC_INNER_PRODUCT)
        name = f"IVF{nlist},{CODE_NAMES[code]}"
        shared_s = coarse.kmeans_s + coarse.assign_s
    if not index.is_trained or structure == "ivf":
        start = time.perf_counter()
        index.train(train)  # SQ ranges (IVF: of residuals); a full IVF quantizer is not retrained
        train_s = time.perf_counter() - start
    if structure == "ivf":
        assert coarse is not None
        start = time.perf_counter()
        for first in range(0, len(xb), BLOCK * 4):
            x = xb[first : first + BLOCK * 4]
            lists = np.ascontiguousarray(coarse.assign[first : first + len(x)])
            ids = np.arange(first, first + len(x), dtype=np.int64)
            index.add_core(len(x), faiss.swig_ptr(x), faiss.swig_ptr(ids), faiss.swig_ptr(lists))
        add_s = time.perf_counter() - start
    else:
        add_s = add_in_blocks(index, xb, name)
    return Built(kind, name, index, train_s, add_s, shared_s)


def hnsw_on_graph(index: Any, name: str, kind: str, xb: np.ndarray, train: np.ndarray, graph: Built) -> Built:
    """An HNSW index over SQ codes that takes the graph of the HNSW,Flat build instead of building its own.

    Saves a second graph build (the slow part) per code; search then runs on the codes. Its build
    time is the graph's plus training and encoding, as if built alone with float distances.
    """
    start = time.perf_counter()
    index.train(train)
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    index.storage.add(xb)
    add_s = time.perf_counter() - start
    assert graph.path is not None
    source = faiss.read_index(str(graph.path))
    index.hnsw = source.hnsw  # a copy
    index.ntotal = source.ntotal
    del source
    return Built(kind, name, index, train_s, add_s, graph.build_s, graph_from=graph.name)


def set_param(index: Any, param: str, value: int) -> None:
    if param == "efSearch":
        index.hnsw.efSearch = value
    elif param == "nprobe":
        index.nprobe = value


# ---------------------------------------------------------------- measuring


def recall(found: np.ndarray, truth: np.ndarray, k: int) -> float:
    """Mean share of each query's exact top-k that the index returned in its top-k."""
    return float(np.mean([len(np.intersect1d(f[:k], t[:k])) for f, t in zip(found, truth, strict=True)]) / k)


def tie_recall(
    found: np.ndarray, queries: np.ndarray, xb: np.ndarray, kth_sim: np.ndarray, eps: float
) -> float:
    """Share of returned ids whose exact cosine is within eps of the exact k-th best (near-ties count)."""
    k = found.shape[1]
    hits = 0
    for ids, q, limit in zip(found, queries, kth_sim, strict=True):
        ids = np.unique(ids[ids >= 0])
        hits += int((xb[ids] @ q >= limit - eps).sum())
    return hits / (k * len(found))


def latency(index: Any, queries: np.ndarray, k: int, threads: int) -> dict[str, float]:
    """Milliseconds of one-question searches: wall clock p50/p95/mean, and this process's CPU time p50.

    On a machine other work shares, wall time includes waiting for a core; CPU time does not (it
    sums both threads of a 2-thread search, so it is not a latency there).
    """
    faiss.omp_set_num_threads(threads)
    for row in range(min(10, len(queries))):
        index.search(queries[row : row + 1], k)
    wall, cpu = [], []
    for row in range(len(queries)):
        start, start_cpu = time.perf_counter(), time.process_time()
        index.search(queries[row : row + 1], k)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return {
        "p50_ms": float(np.percentile(wall, 50)),
        "p95_ms": float(np.percentile(wall, 95)),
        "mean_ms": float(np.mean(wall)),
        "cpu_p50_ms": float(np.percentile(cpu, 50)),
        "load1": os.getloadavg()[0],
    }


@dataclass
class Row:
    index: str
    param: str
    value: int | None
    recall10: dict[str, float]
    recall10_ties: dict[str, float]
    recall10_min: float
    t1: dict[str, float]
    t2: dict[str, float]


class Bench:
    def __init__(self, args: argparse.Namespace, xb: np.ndarray, queries: dict[str, np.ndarray]) -> None:
        self.args = args
        self.xb = xb
        self.queries = queries  # "synthetic" and maybe "questions"
        self.truth: dict[str, np.ndarray] = {}
        self.truth_sims: dict[str, np.ndarray] = {}
        rng = np.random.default_rng(args.seed + 7)
        share = max(1, args.latency_queries // len(queries))
        self.latency_queries = np.ascontiguousarray(
            np.vstack([q[rng.permutation(len(q))[:share]] for q in queries.values()])
        )
        self.rows: list[Row] = []
        self.builds: list[Built] = []

    def ground_truth(self, flat: Any, k: int) -> None:
        faiss.omp_set_num_threads(self.args.threads)
        for name, q in self.queries.items():
            self.truth_sims[name], self.truth[name] = flat.search(q, k)

    def recalls(self, index: Any, k: int) -> tuple[dict[str, float], dict[str, float]]:
        faiss.omp_set_num_threads(self.args.threads)
        strict, ties = {}, {}
        for name, q in self.queries.items():
            found = index.search(q, k)[1]
            strict[name] = recall(found, self.truth[name], k)
            ties[name] = tie_recall(found, q, self.xb, self.truth_sims[name][:, k - 1], self.args.tie_eps)
        return strict, ties

    def measure_build(self, kind: str, train: np.ndarray, coarse: Coarse | None) -> Built:
        faiss.omp_set_num_threads(self.args.threads)
        graph = None
        if KINDS[kind][0] == "hnsw" and not self.args.hnsw_own_graphs:
            graph = next((b for b in self.builds if b.kind == "hnsw"), None)
        before = _status("VmRSS")
        reset_peak()
        built = build_index(kind, self.xb, train, self.args, coarse, graph)
        built.build_peak_growth = _status("VmHWM") - before
        built.build_rss_growth = _status("VmRSS") - before
        built.path = SCRATCH / f"bench_faiss_{os.getpid()}_{kind}.index"
        faiss.write_index(built.index, str(built.path))
        built.file_bytes = built.path.stat().st_size
        built.load_before, built.load_after = load_rss(built.path)
        self.builds.append(built)
        shared = f" from {built.graph_from}" if built.graph_from else ""
        print(
            f"  built {built.name}: {built.build_s:.1f} s (train {built.train_s:.1f}, shared{shared} "
            f"{built.shared_s:.1f}, add {built.add_s:.1f}), file {built.file_bytes / MB:.0f} MB, "
            f"fresh process {built.load_before / MB:.0f} -> {built.load_after / MB:.0f} MB RSS",
            flush=True,
        )
        return built

    def sweep(self, built: Built, param: str, values: Sequence[int | None]) -> None:
        for value in values:
            if value is not None:
                set_param(built.index, param, value)
            strict, ties = self.recalls(built.index, 10)
            row = Row(
                index=built.name,
                param=param,
                value=value,
                recall10=strict,
                recall10_ties=ties,
                recall10_min=min(strict.values()),
                t1=latency(built.index, self.latency_queries, 10, 1),
                t2=latency(built.index, self.latency_queries, 10, 2),
            )
            self.rows.append(row)
            print(
                f"    {param}={value}: recall@10 "
                + " / ".join(f"{name} {r:.4f}" for name, r in strict.items())
                + f"; p50 {row.t1['p50_ms']:.2f} ms (1 thread) {row.t2['p50_ms']:.2f} ms (2 threads)",
                flush=True,
            )
            if row.recall10_min >= self.args.stop_recall:
                break  # higher settings only cost time


# ---------------------------------------------------------------- the run


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    wait_for_quiet(args.wait_idle)
    load_start = os.getloadavg()
    machine = machine_info()
    faiss.omp_set_num_threads(args.threads)
    build = live_build(args.index_dir)
    manifest = json.loads((build / "manifest.json").read_text())
    real = real_vectors(build)
    questions = question_vectors(args.questions, manifest, args.index_dir)
    print(
        f"machine: {machine['cpu']}, {machine['cores']} cores, avx2={machine['avx2']} "
        f"avx512f={machine['avx512f']}, {machine['ram_gib']} GiB; faiss {machine['faiss']} dispatching "
        f"{machine['faiss_simd_level']}; numpy {machine['numpy']}",
        flush=True,
    )
    shape = None if questions is None else questions.shape
    print(f"real vectors {real.shape} from {build}; question vectors {shape}", flush=True)

    generator = Generator(real)
    realism = calibrate(generator, real, questions, args.seed, args.mix)
    sigma, mix, query_sigma = realism["sigma"], realism["mix"], realism["query_sigma"]
    print(f"fitted sigma={sigma:.4f} mix={mix:.1f} query_sigma={query_sigma:.4f}", flush=True)

    rng = np.random.default_rng(args.seed + 3)
    start = time.perf_counter()
    xb = generator.sample(args.n, sigma, mix, rng)
    synthetic_queries = generator.sample(args.queries, query_sigma, mix, rng)
    generate_s = time.perf_counter() - start
    print(f"generated {args.n:,} vectors in {generate_s:.1f} s", flush=True)
    queries = {"synthetic": synthetic_queries}
    if questions is not None:
        queries["questions"] = questions
    bench = Bench(args, xb, queries)

    nlist = args.nlist or round(4 * math.sqrt(args.n))
    train_size = min(args.n, args.train_size or 50 * nlist)
    train = xb[np.sort(np.random.default_rng(args.seed + 5).choice(args.n, size=train_size, replace=False))]
    settings: dict[str, Any] = {
        "n": args.n,
        "d": xb.shape[1],
        "queries": {name: len(q) for name, q in queries.items()},
        "latency_queries": len(bench.latency_queries),
        "threads_build_and_batch": args.threads,
        "hnsw_m": args.hnsw_m,
        "ef_construction": args.ef_construction,
        "nlist": nlist,
        "train_size": train_size,
        "kmeans_iter": args.kmeans_iter,
        "sigma": sigma,
        "mix": mix,
        "query_sigma": query_sigma,
        "tie_eps": args.tie_eps,
        "target": args.target,
        "seed": args.seed,
        "index_build": str(build),
        "model": manifest.get("model"),
        "model_quantized": manifest.get("quantized"),
        "model_backend": manifest.get("backend", "torch"),
    }

    # Exact search: the reference row and the ground truth.
    flat = bench.measure_build("flat", train, None)
    bench.ground_truth(flat.index, max(K_COST))
    realism["rows"] += realism_at_n(flat.index, xb, queries, args.seed)
    print_realism(realism)
    bench.sweep(flat, "-", [None])
    flat.index = None

    coarse = None
    for kind in args.indexes:
        if kind == "flat":
            continue
        structure = KINDS[kind][0]
        if structure == "ivf" and coarse is None:
            print(
                f"  k-means: {nlist} lists from {train_size:,} vectors, {args.kmeans_iter} iterations",
                flush=True,
            )
            coarse = train_coarse(xb, train, nlist, args.kmeans_iter, args.seed)
            sizes = np.bincount(coarse.assign, minlength=nlist)
            settings["kmeans_s"], settings["assign_s"] = coarse.kmeans_s, coarse.assign_s
            settings["list_sizes"] = {
                "mean": float(sizes.mean()),
                "p99": float(np.percentile(sizes, 99)),
                "max": int(sizes.max()),
                "empty": int((sizes == 0).sum()),
            }
            print(
                f"  k-means {coarse.kmeans_s:.1f} s, assignment {coarse.assign_s:.1f} s, "
                f"lists {settings['list_sizes']}",
                flush=True,
            )
        built = bench.measure_build(kind, train, coarse)
        if structure == "hnsw":
            bench.sweep(built, "efSearch", EF_SEARCH)
        else:
            bench.sweep(built, "nprobe", [p for p in NPROBE if p <= nlist])
        built.index = None

    choice = recommend(bench, args.target)
    k_cost = measure_k(bench, choice) if choice is not None else []
    for built in bench.builds:
        if built.path is not None:
            built.path.unlink(missing_ok=True)

    result = {
        "machine": machine,
        "settings": settings,
        "generate_s": generate_s,
        "realism": realism,
        "builds": [
            {
                "index": b.name,
                "kind": b.kind,
                "build_s": b.build_s,
                "train_s": b.train_s,
                "shared_s": b.shared_s,
                "graph_from": b.graph_from,
                "add_s": b.add_s,
                "file_bytes": b.file_bytes,
                "build_peak_rss_growth": b.build_peak_growth,
                "build_rss_growth": b.build_rss_growth,
                "fresh_process_rss_before_load": b.load_before,
                "fresh_process_rss_after_load": b.load_after,
            }
            for b in bench.builds
        ],
        "rows": [asdict(r) for r in bench.rows],
        "recommendation": choice,
        "k_cost": k_cost,
        "total_s": time.perf_counter() - started,
        "loadavg_start": load_start,
        "loadavg_end": os.getloadavg(),
    }
    print_tables(result)
    return result


def realism_at_n(
    flat: Any, xb: np.ndarray, queries: dict[str, np.ndarray], seed: int
) -> list[dict[str, Any]]:
    """The realism figures of the synthetic library at full size (exact search)."""
    sample = np.random.default_rng(seed + 4).choice(len(xb), size=min(500, len(xb)), replace=False)
    sims, ids = flat.search(xb[sample], LID_K + 1)
    loo = np.array(
        [
            np.delete(s, np.flatnonzero(i == own)[:1] if (i == own).any() else [LID_K])
            for s, i, own in zip(sims, ids, sample, strict=True)
        ]
    )
    rows = [
        realism_row(
            f"synthetic at N ({len(xb):,})",
            stats(loo),
            pair_cosine(xb, np.random.default_rng(seed + 6)),
            stats(flat.search(queries["synthetic"], LID_K)[0]),
        )
    ]
    if "questions" in queries:
        rows.append(
            realism_row(
                f"real questions vs synthetic at N ({len(xb):,})",
                None,
                None,
                stats(flat.search(queries["questions"], LID_K)[0]),
            )
        )
    return rows


def recommend(bench: Bench, target: float) -> dict[str, Any] | None:
    """Least fresh-process memory (to 64 MB) of settings reaching target on all query sets, then fastest."""
    memory = {b.name: b.load_growth for b in bench.builds}
    ok = [r for r in bench.rows if r.recall10_min >= target and r.index != "Flat"]
    if not ok:
        return None
    best = min(ok, key=lambda r: (round(memory[r.index] / (64 * MB)), min(r.t1["p50_ms"], r.t2["p50_ms"])))
    threads = 2 if best.t2["p50_ms"] < 0.9 * best.t1["p50_ms"] else 1  # a second thread must earn its keep
    return {"threads": threads, **asdict(best)}


def measure_k(bench: Bench, choice: dict[str, Any]) -> list[dict[str, Any]]:
    """Search the chosen index (read back from its file) for each k in K_COST: latency and recall@k.

    At the chosen setting and the next two of its sweep: a deeper top-k needs a wider search to
    keep its recall, and the pipeline fuses the dense top-k with BM25.
    """
    built = next(b for b in bench.builds if b.name == choice["index"])
    assert built.path is not None
    index = faiss.read_index(str(built.path))
    sweep = EF_SEARCH if choice["param"] == "efSearch" else NPROBE
    values = [choice["value"]]
    if choice["value"] in sweep:
        limit = len(sweep) if choice["param"] == "efSearch" else sum(p <= index.nlist for p in sweep)
        values = list(sweep[sweep.index(choice["value"]) : limit][:3])
    out = []
    for value in values:
        set_param(index, choice["param"], value)
        for k in K_COST:
            faiss.omp_set_num_threads(bench.args.threads)
            recalls = {
                name: recall(index.search(q, k)[1], bench.truth[name], k) for name, q in bench.queries.items()
            }
            row: dict[str, Any] = {
                "param": choice["param"],
                "value": value,
                "k": k,
                "recall_at_k": recalls,
                "t1": latency(index, bench.latency_queries, k, 1),
                "t2": latency(index, bench.latency_queries, k, 2),
            }
            if isinstance(index, faiss.IndexIVF):
                index.parallel_mode = 1  # one question's lists split over the threads
                row["t2_parallel_mode_1"] = latency(index, bench.latency_queries, k, 2)
                index.parallel_mode = 0
            out.append(row)
            print(
                f"    {choice['param']}={value} k={k}: recall@k "
                + " / ".join(f"{name} {r:.4f}" for name, r in recalls.items())
                + f"; p50 {row['t1']['p50_ms']:.2f} ms (1 thread) {row['t2']['p50_ms']:.2f} ms (2 threads)",
                flush=True,
            )
    return out


# ---------------------------------------------------------------- printing


def _f(value: float | None, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def print_realism(realism: dict[str, Any]) -> None:
    print(
        "\nrealism: mean cosine of the nearest / 10th-nearest vector, median local intrinsic dimension "
        f"(MLE, {LID_K} neighbours); chunks leave-one-out, queries against the library"
    )
    print(
        f"{'set':46} {'chunk top1':>10} {'top10':>6} {'LID':>5} {'rand pair':>9} "
        f"{'query top1':>10} {'top10':>6} {'LID':>5}"
    )
    for r in realism["rows"]:
        print(
            f"{r['set']:46} {_f(r['chunk_top1']):>10} {_f(r['chunk_top10']):>6} "
            f"{_f(r['chunk_lid'], '.1f'):>5} {_f(r['random_pair_cos']):>9} {_f(r['query_top1']):>10} "
            f"{_f(r['query_top10']):>6} {_f(r['query_lid'], '.1f'):>5}"
        )
    print(flush=True)


def print_tables(result: dict[str, Any]) -> None:
    m, s = result["machine"], result["settings"]
    print("\n" + "=" * 110)
    print(
        f"machine: {m['cpu']}, {m['cores']} cores, avx2={m['avx2']}, avx512f={m['avx512f']}, "
        f"{m['ram_gib']} GiB; faiss {m['faiss']} dispatching {m['faiss_simd_level']}; numpy {m['numpy']}; "
        f"env {m['env']}"
    )
    print(
        f"N={s['n']:,} d={s['d']}; queries {s['queries']} (latency on {s['latency_queries']}, k=10, one "
        f"question per search); build threads {s['threads_build_and_batch']}; HNSW M={s['hnsw_m']} "
        f"efConstruction={s['ef_construction']}; IVF nlist={s['nlist']}, k-means on {s['train_size']:,} "
        f"vectors x {s['kmeans_iter']} iterations"
    )
    print(
        f"\n{'index':18} {'build s':>8} {'file MB':>8} {'load RSS +MB':>12} {'process MB':>10} "
        f"{'build peak +MB':>14}"
    )
    for b in result["builds"]:
        grow = b["fresh_process_rss_after_load"] - b["fresh_process_rss_before_load"]
        print(
            f"{b['index']:18} {b['build_s']:8.1f} {b['file_bytes'] / MB:8.0f} {grow / MB:12.0f} "
            f"{b['fresh_process_rss_after_load'] / MB:10.0f} {b['build_peak_rss_growth'] / MB:14.0f}"
        )
    names = list(s["queries"])
    head = " ".join(f"{'R@10 ' + n[:5]:>11}" for n in names)
    ties = " ".join(f"{'ties ' + n[:5]:>11}" for n in names)
    print(
        f"\n{'index':18} {'setting':>13} {head} {ties} {'1thr p50':>8} {'p95':>6} {'2thr p50':>8} {'p95':>6}"
    )
    for r in result["rows"]:
        setting = "-" if r["value"] is None else f"{r['param']}={r['value']}"
        print(
            f"{r['index']:18} {setting:>13} "
            + " ".join(f"{r['recall10'][n]:11.4f}" for n in names)
            + " "
            + " ".join(f"{r['recall10_ties'][n]:11.4f}" for n in names)
            + f" {r['t1']['p50_ms']:8.2f} {r['t1']['p95_ms']:6.2f} {r['t1']['cpu_p50_ms']:6.2f}"
            + f" {r['t2']['p50_ms']:8.2f} {r['t2']['p95_ms']:6.2f} {r['t2']['load1']:5.1f}"
        )
    print(
        f"(ms, wall clock; cpu: CPU time p50 of the 1-thread search, immune to waiting for a core; load: "
        f"1-minute load average; ties: a returned chunk counts when its exact cosine is within "
        f"{s['tie_eps']} of the exact 10th)"
    )
    choice = result["recommendation"]
    if choice is None:
        print(f"\nno setting reached recall@10 >= {s['target']} on every query set")
    else:
        b = next(b for b in result["builds"] if b["index"] == choice["index"])
        grow = b["fresh_process_rss_after_load"] - b["fresh_process_rss_before_load"]
        print(
            f"\nrecommended: {choice['index']} {choice['param']}={choice['value']} at {choice['threads']} "
            f"thread(s): recall@10 {choice['recall10_min']:.4f} (worst query set), "
            f"build {b['build_s']:.0f} s, file {b['file_bytes'] / MB:.0f} MB, loaded +{grow / MB:.0f} MB RSS"
        )
        print(
            f"\n{'setting':>13} {'k':>5} {'recall@k':>24} {'1thr p50':>8} {'p95':>6} {'2thr p50':>8} "
            f"{'p95':>6} {'2thr pmode1 p50':>15}"
        )
        for r in result["k_cost"]:
            recalls = "/".join(f"{v:.4f}" for v in r["recall_at_k"].values())
            pmode = r.get("t2_parallel_mode_1", {}).get("p50_ms")
            setting = f"{r['param']}={r['value']}"
            print(
                f"{setting:>13} {r['k']:5} {recalls:>24} {r['t1']['p50_ms']:8.2f} {r['t1']['p95_ms']:6.2f} "
                f"{r['t2']['p50_ms']:8.2f} {r['t2']['p95_ms']:6.2f} {_f(pmode, '.2f'):>15}"
            )
        print(
            "(recall@k: synthetic / real questions; pmode1: IVF parallel_mode=1, one question's lists split)"
        )
    print(
        f"\ntotal {result['total_s']:.0f} s; load average at start {result['loadavg_start']}, "
        f"at end {result['loadavg_end']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="synthetic library size")
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench_faiss.json"))
    parser.add_argument("--index-dir", type=Path, default=DEFAULT_INDEX_DIR)
    parser.add_argument(
        "--questions", type=lambda s: Path(s) if s else None, default=DEFAULT_QUESTIONS, help="'' for none"
    )
    parser.add_argument("--queries", type=int, default=300, help="synthetic queries")
    parser.add_argument("--latency-queries", type=int, default=200, help="one-question searches timed")
    parser.add_argument("--indexes", default=DEFAULT_KINDS, help=f"comma list of {', '.join(KINDS)}")
    parser.add_argument("--threads", type=int, default=2, help="threads for builds and batch recall")
    parser.add_argument("--hnsw-m", type=int, default=32)
    parser.add_argument("--ef-construction", type=int, default=40)
    parser.add_argument(
        "--hnsw-own-graphs",
        action="store_true",
        help="build each HNSW-over-codes index's own graph (default: reuse the HNSW,Flat graph)",
    )
    parser.add_argument("--nlist", type=int, default=0, help="0: 4*sqrt(N)")
    parser.add_argument("--train-size", type=int, default=0, help="k-means sample; 0: 50*nlist")
    parser.add_argument("--kmeans-iter", type=int, default=10)
    parser.add_argument("--mix", type=float, default=None, help="fix the mixing weight instead of fitting it")
    parser.add_argument("--target", type=float, default=0.99, help="recall@10 the recommendation must reach")
    parser.add_argument("--stop-recall", type=float, default=0.999, help="a sweep stops at this recall@10")
    parser.add_argument("--tie-eps", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--wait-idle", type=float, default=0, help="seconds to wait for a quiet machine")
    args = parser.parse_args(argv)
    args.indexes = [name.strip() for name in args.indexes.split(",") if name.strip()]
    unknown = set(args.indexes) - set(KINDS)
    if unknown:
        parser.error(f"unknown index {sorted(unknown)}; choose from {', '.join(KINDS)}")
    result = run(args)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
