"""Shared fixtures: a tiny deterministic embedder and indexes built with it.

The fake embedder hashes character bigrams into a small vector, so tests that exercise the whole
pipeline run in seconds without torch. Tests marked ``slow`` use the real model.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from index.build import build_index
from index.settings import PROJECT_ROOT, Settings
from index.store import StoredIndex, load_index
from qa.answer import Answerer

REPORTS_DIR = PROJECT_ROOT / "data" / "reports"


class FakeEmbedder:
    """Bag of hashed character bigrams, L2-normalised: similar strings get similar vectors."""

    name = "fake-bigram-64"
    dimension = 64
    quantize = True  # as the default settings ask, so indexes built with it are not stale
    backend = "onnx"
    identity = "fake-bigram-64|onnx|int8=True"

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dimension, dtype=np.float32)
        for i in range(max(1, len(text) - 1)):
            gram = text[i : i + 2]
            vector[int(hashlib.md5(gram.encode()).hexdigest(), 16) % self.dimension] += 1.0
        norm = np.linalg.norm(vector)
        return vector / norm if norm else vector

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return (
            np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dimension), np.float32)
        )

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embed_passages(texts)


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test reads the developer's own ``govqa.toml`` or ``GOVQA_*`` variables (subprocesses that a
    test starts inherit the cleaned environment)."""
    for key in [k for k in os.environ if k.startswith("GOVQA_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("GOVQA_SETTINGS", str(tmp_path_factory.getbasetemp() / "no-settings.toml"))


@pytest.fixture(scope="session")
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def fake_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings for an index of the bundled reports built with the fake embedder."""
    index_dir = tmp_path_factory.mktemp("index")
    return Settings(corpus_dir=REPORTS_DIR, index_dir=index_dir, model=FakeEmbedder.name)


@pytest.fixture(scope="session")
def fake_index(fake_settings: Settings, fake_embedder: FakeEmbedder) -> StoredIndex:
    build_index(fake_settings, fake_embedder)
    return load_index(fake_settings.index_dir)


@pytest.fixture(scope="session")
def answerer(fake_settings: Settings, fake_index: StoredIndex, fake_embedder: FakeEmbedder) -> Answerer:
    return Answerer(fake_settings, stored=fake_index, embedder=fake_embedder)


@pytest.fixture()
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled reports."""
    target = tmp_path / "reports"
    shutil.copytree(REPORTS_DIR, target)
    return target
