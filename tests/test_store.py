"""Index store: round trip, manifest checks, damaged files, and builds that die midway."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.build import build_index, differences, open_index
from index.errors import CorpusError, IndexCorruptError, IndexMismatchError, IndexNotFoundError
from index.settings import Settings
from index.store import FORMAT_VERSION, current_build, load_index, read_manifest
from qa.answer import Answerer


def _ids(answer) -> list[tuple[str, int]]:
    return [(p.doc_id, p.paragraph) for p in answer.passages]


@pytest.fixture()
def built(tmp_path: Path, corpus_copy: Path, fake_embedder) -> Settings:
    settings = Settings(corpus_dir=corpus_copy, index_dir=tmp_path / "idx", model=fake_embedder.name)
    build_index(settings, fake_embedder)
    return settings


def test_round_trip_gives_the_same_results(built: Settings, fake_embedder, answerer) -> None:
    reloaded = Answerer(built, stored=load_index(built.index_dir), embedder=fake_embedder)
    for question in ("2020年罗湖区一般公共预算收入是多少？", "三公经费", "莲塘口岸"):
        assert _ids(reloaded.ask(question)) == _ids(answerer.ask(question))
    stored = load_index(built.index_dir)
    assert stored.dense.ntotal == len(stored.chunks) == stored.manifest.counts["chunks"]


def test_manifest_describes_the_build(built: Settings) -> None:
    manifest = read_manifest(current_build(built.index_dir))
    assert manifest.model == "fake-bigram-64" and manifest.dimension == 64
    assert manifest.counts == {"reports": 2, "paragraphs": 163, "chunks": manifest.counts["chunks"]}
    assert len(manifest.corpus_fingerprint) == 64
    assert {"faiss-cpu", "bm25s", "jieba"} <= set(manifest.libraries)
    text = (current_build(built.index_dir) / "paragraphs.jsonl").read_text(encoding="utf-8")
    assert "一般公共预算收入" in text  # ensure_ascii=False: Chinese is stored readable


def test_missing_index_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="python -m index build"):
        load_index(tmp_path / "nowhere")


def test_model_or_chunking_mismatch_names_both_values(built: Settings) -> None:
    other = built.replace(model="BAAI/bge-small-zh-v1.5", chunk_size=999)
    found = differences(read_manifest(current_build(built.index_dir)), other)
    assert any("fake-bigram-64" in d and "BAAI/bge-small-zh-v1.5" in d for d in found)
    assert any("chunk_size" in d and "999" in d for d in found)
    with pytest.raises(IndexMismatchError, match="out of date"):
        open_index(other, rebuild=False)


def test_changed_corpus_is_detected_and_rebuilt(built: Settings, corpus_copy: Path, fake_embedder) -> None:
    report = corpus_copy / "003_a489a4b91e5190ef.txt"
    report.write_text(report.read_text(encoding="utf-8") + "\n新增一段测试文字。\n", encoding="utf-8")
    assert any(
        d.startswith("corpus") for d in differences(read_manifest(current_build(built.index_dir)), built)
    )
    with pytest.raises(IndexMismatchError, match="corpus"):
        open_index(built, rebuild=False)
    stored = open_index(built, rebuild=True, embedder=fake_embedder)
    assert stored.manifest.counts["paragraphs"] == 164


@pytest.mark.parametrize("victim", ["dense.faiss", "chunks.jsonl", "paragraphs.jsonl", "manifest.json"])
def test_damaged_file_is_named(built: Settings, victim: str) -> None:
    path = current_build(built.index_dir) / victim
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises((IndexCorruptError, IndexMismatchError)) as error:
        load_index(built.index_dir)
    assert victim in str(error.value) and "python -m index build" in str(error.value)


def test_other_format_version_is_a_mismatch_and_rebuilt_by_default(built: Settings, fake_embedder) -> None:
    path = current_build(built.index_dir) / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["format_version"] = 99
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(IndexMismatchError, match="99"):
        load_index(built.index_dir)
    with pytest.raises(IndexMismatchError, match="99"):
        open_index(built, rebuild=False)  # a named index is never rebuilt silently
    # The default index is rebuilt, so an upgrade of the code never leaves a stale index in use.
    stored = open_index(built, rebuild=True, embedder=fake_embedder)
    assert stored.manifest.format_version == FORMAT_VERSION
    assert {r.region for r in stored.reports.values()} == {"深圳市罗湖区"}


def test_failed_build_leaves_the_previous_index_usable(built: Settings, fake_embedder) -> None:
    before = current_build(built.index_dir)

    class Exploding:
        name, dimension = fake_embedder.name, fake_embedder.dimension
        identity = "exploding"  # nothing in the vector cache for it: the build reaches embed_passages

        def embed_passages(self, texts):
            raise RuntimeError("killed midway")

    with pytest.raises(RuntimeError):
        build_index(built, Exploding())  # type: ignore[arg-type]
    assert current_build(built.index_dir) == before
    assert load_index(built.index_dir).chunks
    assert not list(built.index_dir.glob("*.partial"))


def test_rebuild_replaces_the_build_and_removes_the_old_one(built: Settings, fake_embedder) -> None:
    before = current_build(built.index_dir)
    build_index(built, fake_embedder)
    after = current_build(built.index_dir)
    assert after != before and not before.exists()


def test_corpus_without_usable_reports(tmp_path: Path, fake_embedder) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "gbk.txt").write_bytes("罗湖区政府工作报告".encode("gbk"))
    settings = Settings(corpus_dir=tmp_path, index_dir=tmp_path / "idx", model=fake_embedder.name)
    with pytest.raises(CorpusError, match="no usable report"):
        build_index(settings, fake_embedder)


def test_first_start_loads_the_model_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, corpus_copy: Path, fake_embedder
) -> None:
    """No index yet: building it and answering from it share one model (it takes seconds to load)."""
    import index.embed

    loads = []

    def counting(name: str, *args: object) -> object:
        loads.append(name)
        return fake_embedder

    monkeypatch.setattr(index.embed, "SentenceTransformerEmbedder", counting)
    index.embed.load_embedder.cache_clear()
    try:
        settings = Settings(corpus_dir=corpus_copy, index_dir=tmp_path / "idx", model=fake_embedder.name)
        answerer = Answerer(settings)
        assert answerer.ask("莲塘口岸").passages
    finally:
        index.embed.load_embedder.cache_clear()
    assert loads == [fake_embedder.name]
