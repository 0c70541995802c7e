"""Vector cache (index/vectors.py): a rebuild embeds only chunk texts no earlier build embedded.

Every test counts the texts the embedder was asked for and compares the built vectors with a
build made without the cache, so a cache that returned wrong or stale vectors fails here.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import REPORTS_DIR, FakeEmbedder

import index.vectors
from index.build import build_index, differences
from index.errors import SettingsError
from index.normalize import normalize
from index.settings import PROJECT_ROOT, Settings, load_settings
from index.store import current_build, load_index, read_manifest
from index.vectors import CACHE_FOLDER, VectorCache, embed_with_cache, embedder_identity, text_key
from qa.answer import Answerer

NEW_REPORT = PROJECT_ROOT / "data" / "examples" / "provincial_2026" / "河北省_2026.txt"
QUESTIONS = ("2020年罗湖区一般公共预算收入是多少？", "三公经费下降了多少", "河北2025年地区生产总值增长多少")


class CountingEmbedder(FakeEmbedder):
    """The tests' fake embedder, recording every text it is asked to embed."""

    def __init__(self, identity: str | None = None, quantize: bool = True) -> None:
        self.calls: list[list[str]] = []
        self.quantize = quantize
        if identity is not None:
            self.identity = identity

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return super().embed_passages(texts)

    @property
    def embedded(self) -> list[str]:
        return [text for call in self.calls for text in call]


def index_texts(index_dir: Path) -> list[str]:
    """What the live build embedded for each chunk, in chunk order."""
    return [normalize(chunk.searched) for chunk in load_index(index_dir).chunks]


def index_vectors(index_dir: Path) -> np.ndarray:
    dense = load_index(index_dir).dense
    return dense.reconstruct_n(0, dense.ntotal)


def cache_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == "index.vectors" and r.levelno >= logging.WARNING
    ]


def cache_folder(index_dir: Path, embedder: FakeEmbedder) -> Path:
    return VectorCache(index_dir / CACHE_FOLDER, embedder).folder


def cached_keys(folder: Path) -> set[bytes]:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    raw = np.load(folder / manifest["files"]["keys"]).tobytes()
    return {raw[i : i + 16] for i in range(0, len(raw), 16)}


def assert_same_index(index_dir: Path, reference_dir: Path, answers: bool = True) -> None:
    """Same chunks, bit-identical vectors (and so the same answers) as a build without the cache."""
    assert index_texts(index_dir) == index_texts(reference_dir)
    np.testing.assert_array_equal(index_vectors(index_dir), index_vectors(reference_dir))
    if not answers:
        return
    ours = Answerer(Settings(index_dir=index_dir), stored=load_index(index_dir), embedder=FakeEmbedder())
    theirs = Answerer(
        Settings(index_dir=reference_dir), stored=load_index(reference_dir), embedder=FakeEmbedder()
    )
    for question in QUESTIONS:
        assert [(p.doc_id, p.paragraph, p.score) for p in ours.ask(question).passages] == [
            (p.doc_id, p.paragraph, p.score) for p in theirs.ask(question).passages
        ]


@pytest.fixture()
def settings(tmp_path: Path, corpus_copy: Path) -> Settings:
    return Settings(corpus_dir=corpus_copy, index_dir=tmp_path / "idx", model=FakeEmbedder.name)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled reports built without the cache: what every cached build must equal."""
    index_dir = tmp_path_factory.mktemp("scratch") / "idx"
    build_index(
        Settings(corpus_dir=REPORTS_DIR, index_dir=index_dir, model=FakeEmbedder.name, vector_cache=False),
        FakeEmbedder(),
    )
    assert not (index_dir / CACHE_FOLDER).exists()
    return index_dir


@pytest.fixture(scope="module")
def cached(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled reports built once with the cache; tests copy it rather than build it again."""
    index_dir = tmp_path_factory.mktemp("cached") / "idx"
    build_index(
        Settings(corpus_dir=REPORTS_DIR, index_dir=index_dir, model=FakeEmbedder.name), FakeEmbedder()
    )
    return index_dir


def built_before(settings: Settings, cached: Path) -> None:
    """``settings.index_dir`` as a build of the bundled reports left it: an index and a full cache."""
    shutil.copytree(cached, settings.index_dir)


def test_second_build_with_unchanged_settings_embeds_nothing(
    settings: Settings, scratch: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="index")
    first = CountingEmbedder()
    build_index(settings, first)
    distinct = set(index_texts(settings.index_dir))
    assert sorted(first.embedded) == sorted(distinct) and len(first.calls) == 1
    before = current_build(settings.index_dir)

    caplog.clear()
    second = CountingEmbedder()
    build_index(settings, second)
    assert second.calls == []
    assert f"embedded 0 chunk texts with {FakeEmbedder.name}, reused {len(distinct)}" in caplog.text
    # The old build went; the cache, beside it in the index folder, stayed.
    assert not before.exists() and len(list(settings.index_dir.glob("build-*"))) == 1
    assert (settings.index_dir / CACHE_FOLDER).is_dir()
    assert_same_index(settings.index_dir, scratch)


def test_query_time_setting_change_embeds_nothing(settings: Settings, scratch: Path, cached: Path) -> None:
    built_before(settings, cached)
    changed = settings.replace(
        corpus_dir=REPORTS_DIR, top_k=7, fusion="rrf", dense_weight=0.5, year_boost=1.0, passage_chars=0
    )
    assert differences(read_manifest(current_build(settings.index_dir)), changed) == []
    embedder = CountingEmbedder()
    build_index(changed, embedder)
    assert embedder.calls == []
    assert_same_index(settings.index_dir, scratch)


def test_switching_a_chunk_setting_back_embeds_nothing(
    settings: Settings, scratch: Path, cached: Path
) -> None:
    built_before(settings, cached)
    default_texts = set(index_texts(settings.index_dir))
    smaller = CountingEmbedder()
    build_index(settings.replace(chunk_size=120, chunk_overlap=30), smaller)
    smaller_texts = set(index_texts(settings.index_dir))
    # Only the chunk texts the default chunking did not already produce are embedded.
    assert sorted(smaller.embedded) == sorted(smaller_texts - default_texts) and smaller.embedded
    back = CountingEmbedder()
    build_index(settings, back)
    assert back.calls == []
    assert_same_index(settings.index_dir, scratch, answers=False)


def test_adding_a_report_embeds_only_its_chunks(settings: Settings, tmp_path: Path, cached: Path) -> None:
    built_before(settings, cached)
    old_texts = set(index_texts(settings.index_dir))
    old_docs = {c.doc_id for c in load_index(settings.index_dir).chunks}
    shutil.copy(NEW_REPORT, settings.corpus_dir / NEW_REPORT.name)
    embedder = CountingEmbedder()
    build_index(settings, embedder)

    stored = load_index(settings.index_dir)
    [new_doc] = {c.doc_id for c in stored.chunks} - old_docs
    new_report_texts = {normalize(c.searched) for c in stored.chunks if c.doc_id == new_doc}
    assert len(embedder.calls) == 1
    assert sorted(embedder.embedded) == sorted(new_report_texts - old_texts)
    assert len(embedder.embedded) > 50  # the whole new report, each distinct text once

    reference = tmp_path / "scratch"
    build_index(settings.replace(index_dir=reference, vector_cache=False), FakeEmbedder())
    assert_same_index(settings.index_dir, reference)


def test_different_identity_embeds_again(settings: Settings, scratch: Path, cached: Path) -> None:
    built_before(settings, cached)
    distinct = sorted(set(index_texts(settings.index_dir)))
    # An identity of its own (e.g. another backend), and an embedder that names none: its model
    # name and quantisation are its identity.
    others = (CountingEmbedder(identity="fake-bigram-64|other-backend"), CountingEmbedder("", quantize=False))
    for other in others:
        build_index(settings.replace(quantize=other.quantize), other)
        assert sorted(other.embedded) == distinct
    folders = sorted(p.name for p in (settings.index_dir / CACHE_FOLDER).iterdir())
    assert len(folders) == 3
    identities = {
        json.loads((settings.index_dir / CACHE_FOLDER / name / "manifest.json").read_text())["identity"]
        for name in folders
    }
    assert identities == {
        embedder_identity(FakeEmbedder()),
        "fake-bigram-64|other-backend",
        "fake-bigram-64|quantized=False",
    }
    again = CountingEmbedder()  # the first identity's cache is still there
    build_index(settings, again)
    assert again.calls == []
    assert_same_index(settings.index_dir, scratch, answers=False)


def test_duplicate_texts_are_embedded_once(tmp_path: Path) -> None:
    texts = ["一般公共预算收入增长", "三公经费下降", "一般公共预算收入增长", "", "一般公共预算收入增长", ""]
    embedder = CountingEmbedder()
    vectors = embed_with_cache(embedder, texts, tmp_path / CACHE_FOLDER)
    assert embedder.calls == [["一般公共预算收入增长", "三公经费下降", ""]]
    np.testing.assert_array_equal(vectors, FakeEmbedder().embed_passages(texts))
    assert vectors.dtype == np.float32 and vectors.shape == (6, FakeEmbedder.dimension)

    later = CountingEmbedder()
    again = embed_with_cache(later, ["三公经费下降", "棚改签约率", "棚改签约率"], tmp_path / CACHE_FOLDER)
    assert later.calls == [["棚改签约率"]]
    np.testing.assert_array_equal(
        again, FakeEmbedder().embed_passages(["三公经费下降", "棚改签约率", "棚改签约率"])
    )
    assert embed_with_cache(CountingEmbedder(), [], tmp_path / CACHE_FOLDER).shape == (
        0,
        FakeEmbedder.dimension,
    )


def _truncate_vectors(folder: Path, manifest: dict) -> None:
    path = folder / manifest["files"]["vectors"]
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip_a_vector_byte(folder: Path, manifest: dict) -> None:
    path = folder / manifest["files"]["vectors"]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _edit_manifest(**changes: object):
    def edit(folder: Path, manifest: dict) -> None:
        (folder / "manifest.json").write_text(json.dumps(manifest | changes), encoding="utf-8")

    return edit


def _garbage_manifest(folder: Path, manifest: dict) -> None:
    (folder / "manifest.json").write_bytes(b'{"identity": "fake-bigram-64|quantized=True", \x00')


def _missing_keys(folder: Path, manifest: dict) -> None:
    (folder / manifest["files"]["keys"]).unlink()


DAMAGE = {
    "truncated vectors": (_truncate_vectors, "damaged"),
    "a flipped byte": (_flip_a_vector_byte, "damaged"),
    "manifest not JSON": (_garbage_manifest, "not a cache manifest"),
    "wrong dimension": (_edit_manifest(dimension=32), "32-dimensional"),
    "more entries than stored": (_edit_manifest(entries=99_999), "the manifest says"),
    "another identity": (_edit_manifest(identity="m3e-small|quantized=True"), "m3e-small"),
    "keys file missing": (_missing_keys, "No such file"),
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_damaged_cache_is_one_warning_and_a_correct_full_build(
    settings: Settings, scratch: Path, cached: Path, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    built_before(settings, cached)
    folder = cache_folder(settings.index_dir, FakeEmbedder())
    damage_it, reason = DAMAGE[damage]
    damage_it(folder, json.loads((folder / "manifest.json").read_text(encoding="utf-8")))

    embedder = CountingEmbedder()
    build_index(settings, embedder)
    [warning] = cache_warnings(caplog)
    assert "unusable" in warning and reason in warning and str(folder) in warning
    assert sorted(embedder.embedded) == sorted(set(index_texts(settings.index_dir)))
    assert_same_index(settings.index_dir, scratch, answers=False)

    # The damaged cache was replaced: the next build reads everything back, without a warning.
    caplog.clear()
    again = CountingEmbedder()
    embed_with_cache(again, index_texts(settings.index_dir), settings.index_dir / CACHE_FOLDER)
    assert again.calls == [] and cache_warnings(caplog) == []
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [".lock", "manifest.json", *manifest["files"].values()]
    )


def test_cache_folder_that_cannot_be_written_still_builds(
    settings: Settings, scratch: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings.index_dir.mkdir(parents=True)
    (settings.index_dir / CACHE_FOLDER).write_text("a file where the cache folder belongs")
    for _ in range(2):
        caplog.clear()
        embedder = CountingEmbedder()
        build_index(settings, embedder)
        [warning] = cache_warnings(caplog)
        assert "cannot write the vector cache" in warning and "built all the same" in warning
        assert sorted(embedder.embedded) == sorted(set(index_texts(settings.index_dir)))
        assert_same_index(settings.index_dir, scratch, answers=False)


def test_write_failing_midway_leaves_the_previous_cache_whole(
    settings: Settings, cached: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    built_before(settings, cached)
    old_texts = set(index_texts(settings.index_dir))
    folder = cache_folder(settings.index_dir, FakeEmbedder())
    manifest_before = (folder / "manifest.json").read_bytes()
    save_array = index.vectors._save_array

    def disk_full_at_the_vectors(where: Path, file_name: str, array: np.ndarray) -> str:
        if not file_name.startswith("vectors-"):
            return save_array(where, file_name, array)
        (where / f"{file_name}.{os.getpid()}.tmp").write_bytes(b"\x93NUMPY half a file")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(where / file_name))

    monkeypatch.setattr(index.vectors, "_save_array", disk_full_at_the_vectors)
    shutil.copy(NEW_REPORT, settings.corpus_dir / NEW_REPORT.name)
    build_index(settings, CountingEmbedder())  # succeeds: the index does not need the cache
    [warning] = cache_warnings(caplog)
    assert "cannot write the vector cache" in warning and os.strerror(errno.ENOSPC) in warning
    assert (folder / "manifest.json").read_bytes() == manifest_before
    assert load_index(settings.index_dir).manifest.counts["reports"] == 3

    monkeypatch.undo()
    caplog.clear()
    embedder = CountingEmbedder()
    build_index(settings, embedder)
    # The previous cache was whole: only the new report's texts are embedded again.
    assert sorted(embedder.embedded) == sorted(set(index_texts(settings.index_dir)) - old_texts)
    assert cache_warnings(caplog) == [] and not list(folder.glob("*.tmp"))


def test_cap_drops_the_least_recently_used_entries(tmp_path: Path) -> None:
    cache_dir = tmp_path / CACHE_FOLDER

    def embed(*texts: str) -> list[str]:
        embedder = CountingEmbedder()
        vectors = embed_with_cache(embedder, list(texts), cache_dir, min_capacity=4)
        np.testing.assert_array_equal(vectors, FakeEmbedder().embed_passages(list(texts)))
        return embedder.embedded

    folder = cache_folder(tmp_path, FakeEmbedder())
    assert embed("甲一", "甲二") == ["甲一", "甲二"]
    assert embed("乙一", "乙二") == ["乙一", "乙二"]
    assert embed("甲一", "甲二") == []  # 甲 is now more recent than 乙
    assert embed("丙一", "丙二") == ["丙一", "丙二"]  # six entries, four allowed: 乙 goes
    assert cached_keys(folder) == {text_key(t) for t in ("甲一", "甲二", "丙一", "丙二")}
    assert embed("甲一", "乙一") == ["乙一"]
    # A build larger than the floor keeps all of itself plus as many older entries (2 × 3 = 6).
    assert embed("丁一", "丁二", "丁三") == ["丁一", "丁二", "丁三"]
    assert len(cached_keys(folder)) == 6
    assert {text_key(t) for t in ("丁一", "丁二", "丁三", "甲一", "乙一")} <= cached_keys(folder)


def test_two_builds_writing_at_once_keep_both_additions(tmp_path: Path) -> None:
    cache_dir = tmp_path / CACHE_FOLDER
    first, second = VectorCache(cache_dir, CountingEmbedder()), VectorCache(cache_dir, CountingEmbedder())
    first.embed(["罗湖区", "莲塘口岸"])
    second.embed(["棚改签约率"])  # read the cache before ``first`` wrote it
    first.save()
    second.save()  # adds to what ``first`` wrote instead of replacing it
    embedder = CountingEmbedder()
    embed_with_cache(embedder, ["莲塘口岸", "棚改签约率", "罗湖区"], cache_dir)
    assert embedder.calls == []


def test_setting_turns_the_cache_off(settings: Settings, tmp_path: Path) -> None:
    missing = str(tmp_path / "no-settings.toml")
    assert load_settings(environ={"GOVQA_SETTINGS": missing}).vector_cache is True
    assert (
        load_settings(environ={"GOVQA_SETTINGS": missing, "GOVQA_VECTOR_CACHE": "false"}).vector_cache
        is False
    )
    with pytest.raises(SettingsError, match="vector_cache"):
        load_settings(environ={"GOVQA_SETTINGS": missing, "GOVQA_VECTOR_CACHE": "sometimes"})
    off = settings.replace(vector_cache=False)
    for _ in range(2):
        embedder = CountingEmbedder()
        build_index(off, embedder)
        assert len(embedder.embedded) == len(index_texts(off.index_dir))  # every chunk, every time
    assert not (off.index_dir / CACHE_FOLDER).exists()
