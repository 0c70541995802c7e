"""Adding and removing reports (index/library.py, ``python -m index add/remove``) with the fake embedder.

Each test works on a copy of the bundled reports and its own index: an addition writes the text, its
.toml (and the original for converted formats) and rebuilds the index embedding only the new chunks;
every refused file leaves the library folder and the index byte for byte as they were.
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import numpy as np
import pytest
from conftest import FakeEmbedder

import index.library
from index.__main__ import main
from index.build import build_index
from index.errors import QAError
from index.library import LibraryError, add_reports, remove_reports, user_region
from index.settings import PROJECT_ROOT, Settings
from index.store import CURRENT, load_index
from qa.answer import Answerer, LiveAnswerer

PROVINCIAL = PROJECT_ROOT / "data" / "examples" / "provincial_2026"
ZHEJIANG = (PROVINCIAL / "浙江省_2026.txt").read_bytes()


class CountingEmbedder(FakeEmbedder):
    """The fake embedder, counting the passages it embeds."""

    def __init__(self) -> None:
        self.embedded = 0

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.embedded += len(texts)
        return super().embed_passages(texts)


@pytest.fixture()
def library(corpus_copy: Path, tmp_path: Path) -> tuple[Settings, CountingEmbedder]:
    """A copy of the two bundled reports, indexed."""
    settings = Settings(corpus_dir=corpus_copy, index_dir=tmp_path / "index", model=FakeEmbedder.name)
    embedder = CountingEmbedder()
    build_index(settings, embedder)
    embedder.embedded = 0
    return settings, embedder


def snapshot(settings: Settings) -> dict[str, str]:
    """Every file of the library folder and the index's live build, by path, as a hash of its bytes."""
    files = {}
    for root in (settings.corpus_dir, settings.index_dir):
        for path in sorted(root.rglob("*")):
            if path.is_file():
                files[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


def test_adding_a_text_report_stores_it_unchanged_and_embeds_only_its_chunks(library) -> None:
    settings, embedder = library
    before = load_index(settings.index_dir)
    [report] = add_reports([("浙江省_2026.txt", ZHEJIANG, {})], settings, embedder=embedder)
    stored = load_index(settings.index_dir)
    assert (report.doc_id, report.region, report.year, report.format) == (
        "浙江省_2026",
        "浙江省",
        2026,
        "txt",
    )
    assert (settings.corpus_dir / "浙江省_2026.txt").read_bytes() == ZHEJIANG  # byte for byte
    meta = tomllib.loads((settings.corpus_dir / "浙江省_2026.toml").read_text(encoding="utf-8"))
    assert meta == {
        "source_file": "浙江省_2026.txt",
        "format": "txt",
        "sha256": hashlib.sha256(ZHEJIANG).hexdigest(),
    }
    new_chunks = len(stored.chunks) - len(before.chunks)
    assert 0 < embedder.embedded <= new_chunks  # the other reports' vectors come from the cache
    assert set(stored.reports) == set(before.reports) | {"浙江省_2026"}


def test_removing_a_report_embeds_nothing_and_restores_the_library(library) -> None:
    settings, embedder = library
    before = snapshot(settings)
    chunks = len(load_index(settings.index_dir).chunks)
    add_reports([("浙江省_2026.txt", ZHEJIANG, {})], settings, embedder=embedder)
    embedder.embedded = 0
    [removed] = remove_reports(["浙江省_2026"], settings, embedder=embedder)
    assert removed.doc_id == "浙江省_2026"
    assert embedder.embedded == 0
    assert len(load_index(settings.index_dir).chunks) == chunks
    library_files = {p: h for p, h in snapshot(settings).items() if p.startswith(str(settings.corpus_dir))}
    assert library_files == {p: h for p, h in before.items() if p.startswith(str(settings.corpus_dir))}


def test_the_users_fields_override_what_is_read_and_go_into_the_toml(library) -> None:
    settings, embedder = library
    fields = index.library.user_fields(region="罗湖区", year=2026)
    [report] = add_reports([("report.txt", ZHEJIANG, fields)], settings, embedder=embedder)
    assert (report.region, report.year, report.plans) == ("深圳市罗湖区", 2026, (2026,))
    meta = tomllib.loads((settings.corpus_dir / "report.toml").read_text(encoding="utf-8"))
    assert (meta["region"], meta["year"]) == ("深圳市罗湖区", 2026)


def test_a_gbk_text_is_stored_as_utf8_without_its_bom(library) -> None:
    settings, embedder = library
    text = ZHEJIANG.decode("utf-8")
    add_reports([("gbk.txt", text.encode("gb18030"), {})], settings, embedder=embedder)
    assert (settings.corpus_dir / "gbk.txt").read_text(encoding="utf-8") == text
    with pytest.raises(LibraryError, match="已在库中"):  # the same report, whatever its encoding
        add_reports([("bom.txt", "\ufeff".encode() + ZHEJIANG, {})], settings, embedder=embedder)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("浙江省_2026.exe", ZHEJIANG, "不支持这种文件"),
        ("empty.txt", b"", "空的"),
        ("blank.txt", b" \n\n ", "空的"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(300), "不是文本文件"),
        ("latin.txt", bytes(range(128, 256)) * 4, "编码"),
        ("short.txt", "2026年浙江省政府工作报告\n各位代表：\n".encode(), "几乎没有文字"),
        ("menu.txt", ("首页 > 政务公开 > 政府工作报告\n" * 40).encode(), "没有找到报告正文"),
        ("../escape.txt", ZHEJIANG, "路径"),
        ("a\\b.txt", ZHEJIANG, "路径"),
        ("bell\x07.txt", ZHEJIANG, "控制字符"),
        ("line\nbreak.txt", ZHEJIANG, "控制字符"),
        (
            "003_a489a4b91e5190ef-copy.txt",
            (Path(__file__).parents[1] / "data/reports/003_a489a4b91e5190ef.txt").read_bytes(),
            "已在库中",
        ),
    ],
)
def test_a_bad_file_is_refused_with_one_line_and_changes_nothing(library, name, data, message) -> None:
    settings, embedder = library
    before = snapshot(settings)
    with pytest.raises(QAError, match=message) as refused:
        add_reports([("浙江省_2026.txt", ZHEJIANG, {}), (name, data, {})], settings, embedder=embedder)
    assert "\n" not in str(refused.value)
    assert snapshot(settings) == before  # the good file of the same call was not added either
    assert embedder.embedded == 0


def test_two_copies_of_one_report_in_one_call_are_refused(library) -> None:
    settings, embedder = library
    with pytest.raises(LibraryError, match="同一份报告"):
        add_reports(
            [("a.txt", ZHEJIANG, {}), ("b.txt", ZHEJIANG.replace(b"\n", b"\n\n"), {})],
            settings,
            embedder=embedder,
        )


def test_a_failed_build_takes_the_added_files_out_again(library, monkeypatch) -> None:
    settings, embedder = library
    before = snapshot(settings)

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(index.library, "build_index", full_disk)
    with pytest.raises(OSError):
        add_reports([("浙江省_2026.txt", ZHEJIANG, {})], settings, embedder=embedder)
    with pytest.raises(OSError):
        remove_reports(["luohu-2015"], settings, embedder=embedder)
    assert snapshot(settings) == before
    assert not [p for p in settings.corpus_dir.iterdir() if p.name.startswith((".adding", ".removing"))]


def test_unknown_ids_and_emptying_the_library_are_refused(library) -> None:
    settings, embedder = library
    before = snapshot(settings)
    with pytest.raises(LibraryError, match="没有编号为 nope"):
        remove_reports(["luohu-2015", "nope"], settings, embedder=embedder)
    with pytest.raises(LibraryError, match="至少要留一份"):
        remove_reports(["luohu-2015", "luohu-2021"], settings, embedder=embedder)
    assert snapshot(settings) == before


def test_regions_typed_by_a_user_resolve_to_their_full_names() -> None:
    assert user_region("浙江省") == "浙江省"
    assert user_region("罗湖区") == "深圳市罗湖区"
    with pytest.raises(LibraryError, match="有多个"):
        user_region("朝阳区")
    with pytest.raises(LibraryError, match="不认识"):
        user_region("霍格沃茨")
    with pytest.raises(LibraryError, match="年份"):
        index.library.user_fields(year=202)


def test_a_pdf_reports_citations_name_the_page_holding_the_quote(library) -> None:
    """Page offsets as the PDF extractor records them in the .toml; the text placed by hand."""
    settings, embedder = library
    text = ZHEJIANG.decode("utf-8")
    pages = [0, len(text) // 3, 2 * len(text) // 3]
    (settings.corpus_dir / "zj.txt").write_text(text, encoding="utf-8")
    (settings.corpus_dir / "zj.toml").write_text(f'format = "pdf"\npages = {pages}\n', encoding="utf-8")
    build_index(settings, embedder)
    stored = load_index(settings.index_dir)
    answer = Answerer(settings, stored, embedder).ask("浙江2026年地区生产总值增长目标是多少？")
    cited = [c for c in answer.citations if c.doc_id == "zj"]
    assert cited, answer.answer
    for citation in cited:
        paragraph = stored.paragraphs[(citation.doc_id, citation.paragraph)]
        offset = paragraph.start + citation.start
        assert citation.page == 1 + sum(start <= offset for start in pages[1:])
        assert f"第{citation.page}页" in answer.answer
    assert all(c.page is None for c in answer.citations if c.doc_id != "zj")


def test_a_running_answerer_picks_up_a_new_build_and_finishes_questions_on_the_old(library) -> None:
    settings, embedder = library
    live = LiveAnswerer(Answerer(settings, load_index(settings.index_dir), embedder))
    old = live.current()
    add_reports([("浙江省_2026.txt", ZHEJIANG, {})], settings, embedder=embedder)
    new = live.current(wait=True)
    assert new is not old and "浙江省_2026" in new.stored.reports
    assert new.embedder is old.embedder  # the same model: not loaded again
    assert (settings.index_dir / CURRENT).read_text().strip() == new.stored.folder.name
    # The old build's folder is gone, but a question that started on it has all it needs in memory.
    assert old.ask("2020年罗湖区一般公共预算收入是多少？").found
    assert live.current() is new


def test_the_command_line_adds_and_removes_with_one_line_each(library, tmp_path, capsys, monkeypatch) -> None:
    settings, embedder = library
    monkeypatch.setattr(index.library, "build_index", lambda s, e, p: build_index(s, embedder, p))
    source = tmp_path / "浙江省2026年政府工作报告.txt"
    source.write_bytes(ZHEJIANG)
    source.with_suffix(".toml").write_text('title = "浙江省政府工作报告（2026）"\n', encoding="utf-8")
    where = ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir), "-q"]
    assert main(["add", str(source), "--year", "2026", *where]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("added   浙江省2026年政府工作报告  浙江省政府工作报告（2026）  浙江省  2026")
    assert "段" in out and len(out.splitlines()) == 1
    assert main(["add", str(source), *where]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: ") and "已在库中" in error and "\n" not in error
    assert main(["add", str(tmp_path / "missing.pdf"), *where]) == 2
    assert "找不到这个文件" in capsys.readouterr().err
    assert main(["remove", "浙江省2026年政府工作报告", *where]) == 0
    assert capsys.readouterr().out.startswith("removed 浙江省2026年政府工作报告")


FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _bad_files() -> list[tuple[str, bytes, str]]:
    from fixtures.make_docx import zip_bomb_declared, zip_bomb_ratio

    def fixture(path: str) -> bytes:
        return (FIXTURES / path).read_bytes()

    return [
        ("scanned.pdf", fixture("pdf/scanned.pdf"), "扫描"),
        ("encrypted.pdf", fixture("pdf/encrypted.pdf"), "密码"),
        ("truncated.pdf", fixture("pdf/truncated.pdf"), "不完整|损坏"),
        ("renamed.pdf", fixture("pdf/not-a-pdf.pdf"), "不是 PDF|不是PDF"),
        ("empty.html", fixture("html/empty.html"), "空的"),
        ("shell.html", fixture("html/script-shell.html"), "没有"),
        ("menu.html", fixture("html/nav-only.html"), "没有"),
        ("renamed.docx", fixture("pdf/report.pdf"), "不是|无法"),
        ("old.docx", fixture("docx/old.doc"), ".doc|密码"),
        ("bomb.docx", zip_bomb_declared(), "过大|超过|压缩"),
        ("ratio.docx", zip_bomb_ratio(), "过大|超过|压缩"),
        ("big.pdf", b"", "上限"),  # made in the test: 50 MB held only while it runs
    ]


@pytest.mark.parametrize(
    ("name", "data", "message"), _bad_files(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_each_kind_of_bad_report_file_is_refused_and_changes_nothing(library, name, data, message) -> None:
    settings, embedder = library
    before = snapshot(settings)
    if name == "big.pdf":
        data = b"%PDF-1.7\n" + bytes(index.library.MAX_FILE_BYTES)
    with pytest.raises(QAError, match=message) as refused:
        add_reports([(name, data, {})], settings, embedder=embedder)
    assert "\n" not in str(refused.value) and name in str(refused.value)
    assert snapshot(settings) == before
