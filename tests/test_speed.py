"""Speed settings: the embedding backends (ONNX Runtime, torch), what makes an index stale, the
start-up checks, and the bound on questions answered at once."""

from __future__ import annotations

import dataclasses
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

import index.build
import index.embed
from index.build import differences
from index.corpus import corpus_fingerprint, corpus_stat
from index.errors import ModelLoadError, SettingsError
from index.settings import Settings
from index.store import current_build, read_manifest


def test_backend_setting_is_checked() -> None:
    with pytest.raises(SettingsError, match="backend"):
        Settings(backend="gpu")


def test_a_quantized_index_is_stale_for_another_backend(fake_settings: Settings, fake_index) -> None:
    manifest = read_manifest(current_build(fake_settings.index_dir))
    assert manifest.backend == "onnx" and manifest.quantized
    assert differences(manifest, fake_settings) == []
    assert any("backend" in d for d in differences(manifest, fake_settings.replace(backend="torch")))


def test_float32_vectors_are_the_same_on_either_backend(fake_settings: Settings, fake_index) -> None:
    manifest = dataclasses.replace(
        read_manifest(current_build(fake_settings.index_dir)), quantized=False, backend="torch"
    )
    assert differences(manifest, fake_settings.replace(quantize=False, backend="onnx")) == []


def test_an_unchanged_corpus_is_not_read_again_at_start(
    fake_settings: Settings, fake_index, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = read_manifest(current_build(fake_settings.index_dir))
    assert manifest.corpus_stat

    def unread(_corpus: Path) -> str:
        raise AssertionError("the reports were read although their sizes and times are unchanged")

    monkeypatch.setattr(index.build, "corpus_fingerprint", unread)
    assert differences(manifest, fake_settings) == []


def test_a_changed_report_is_still_noticed(fake_settings: Settings, fake_index, tmp_path: Path) -> None:
    corpus = tmp_path / "reports"
    shutil.copytree(fake_settings.corpus_dir, corpus)
    settings = fake_settings.replace(corpus_dir=corpus)
    manifest = read_manifest(current_build(fake_settings.index_dir))
    # The copy has new times, so its contents are compared: the same bytes, not stale.
    manifest = dataclasses.replace(
        manifest, corpus_dir=str(corpus.resolve()), corpus_stat=corpus_stat(corpus)
    )
    assert manifest.corpus_fingerprint == corpus_fingerprint(corpus)
    assert differences(manifest, settings) == []
    report = next(corpus.glob("*.txt"))
    report.write_text(report.read_text(encoding="utf-8") + "\n新增一段。\n", encoding="utf-8")
    assert any("changed" in d for d in differences(manifest, settings))


def test_the_onnx_backend_falls_back_to_torch_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    class Unexportable:
        def __init__(self, *args, **kwargs) -> None:
            raise ModelLoadError("pooling mode 'max' is not supported by the onnx backend")

    class Torch:
        backend = "torch"

        def __init__(self, *args, **kwargs) -> None:
            self.args = args

    monkeypatch.setattr(index.embed, "OnnxEmbedder", Unexportable)
    monkeypatch.setattr(index.embed, "SentenceTransformerEmbedder", Torch)
    index.embed.load_embedder.cache_clear()
    try:
        with caplog.at_level(logging.WARNING):
            embedder = index.embed.load_embedder("m3e-small", None, 32, True, "onnx", tmp_path)
    finally:
        index.embed.load_embedder.cache_clear()
    assert embedder.backend == "torch"
    assert "onnx backend unavailable" in caplog.text and "pooling" in caplog.text


def test_a_missing_model_is_an_error_on_either_backend(tmp_path: Path) -> None:
    for backend in ("onnx", "torch"):
        with pytest.raises(ModelLoadError, match="no model folder"):
            index.embed.load_embedder(str(tmp_path / "no-such-model"), backend=backend, cache_dir=tmp_path)


@pytest.mark.slow
def test_the_onnx_export_matches_torch_and_is_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real model: exported once, verified, equal to sentence-transformers' vectors, then
    loaded from the cache without exporting (or importing torch's exporter) again."""
    from index.embed import OnnxEmbedder, SentenceTransformerEmbedder

    texts = ["罗湖2020年财政收入是多少？", "一般公共预算收入完成112.6亿元，增长3.2%。", "“十四五”时期"]
    onnx = OnnxEmbedder("m3e-small", "", 32, False, tmp_path)
    torch = SentenceTransformerEmbedder("m3e-small", "", 32, False)
    cosine = (onnx.embed_passages(texts) * torch.embed_passages(texts)).sum(axis=1)
    assert cosine.min() >= 0.999
    assert np.allclose(np.linalg.norm(onnx.embed_queries(texts), axis=1), 1.0, atol=1e-5)

    def no_export(*args, **kwargs):
        raise AssertionError("exported again although the cache holds the model")

    monkeypatch.setattr("index.onnx_export.export", no_export)
    again = OnnxEmbedder("m3e-small", "", 32, False, tmp_path)
    assert np.allclose(again.embed_passages(texts), onnx.embed_passages(texts), atol=1e-6)

    # A damaged cache says which folder to delete.
    (folder,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    (folder / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelLoadError, match="delete that folder"):
        OnnxEmbedder("m3e-small", "", 32, False, tmp_path)


def test_the_page_and_the_api_share_one_bound_on_questions_at_once(answerer) -> None:
    import app

    demo = app.build_demo(answerer)
    answering = [f for f in demo.fns.values() if f.concurrency_id == "answer"]
    # The chat page's answer step and the /ask endpoint, nothing else, under one limit.
    assert {f.api_name for f in answering} >= {"ask"} and len(answering) == 3  # send, Enter, /ask
    assert {f.concurrency_limit for f in answering} == {answerer.settings.concurrency}


def test_a_large_library_gets_an_approximate_index_a_small_one_stays_exact() -> None:
    import faiss

    from index.store import EXACT_LIMIT, dense_index

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(EXACT_LIMIT + 1, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    assert isinstance(dense_index(vectors[:EXACT_LIMIT]), faiss.IndexFlatIP)
    large = dense_index(vectors)
    assert isinstance(large, faiss.IndexIVF) and large.ntotal == len(vectors)
    found = large.search(vectors[:20], 1)[1][:, 0]
    assert (found == np.arange(20)).mean() >= 0.95  # each vector finds itself


def test_above_the_exact_limit_only_the_best_chunks_get_a_dense_score(
    answerer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qa.retrieve

    vector = answerer.embedder.embed_queries(["罗湖2020年财政收入"])[0]
    exact = qa.retrieve.dense_scores(answerer.stored, vector)
    monkeypatch.setattr(qa.retrieve, "EXACT_LIMIT", 10)
    monkeypatch.setattr(qa.retrieve, "DENSE_K", 5)
    approximate = qa.retrieve.dense_scores(answerer.stored, vector)
    best = np.argsort(-exact)[:5]
    assert np.allclose(approximate[best], exact[best])
    # The rest score as the fifth best, which min-max scaling in fusion turns into nothing.
    rest = np.setdiff1d(np.arange(len(exact)), best)
    assert np.allclose(approximate[rest], exact[best].min())
