"""A library of many regions: divisions table, metadata read from the text, region scope, follow-ups.

Fast: the provincial reports are read as files (no model); the end-to-end checks build a small
library (two 罗湖 reports, two provincial ones) with the fake embedder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from index.__main__ import main as index_main
from index.build import build_index, open_index
from index.corpus import load_corpus, load_report
from index.errors import IndexMismatchError
from index.metadata import five_year_period, infer
from index.regions import ancestors, by_full_name, contains, lookup, resolve
from index.settings import PROJECT_ROOT, Settings
from index.store import load_index
from qa.analyse import analyse
from qa.answer import Answerer, citation_label
from qa.chat import rewrite_follow_up
from qa.scope import Library

PROVINCIAL = PROJECT_ROOT / "data" / "examples" / "provincial_2026"
REPORTS = PROJECT_ROOT / "data" / "reports"


# ---------------------------------------------------------------------------------------------
# The divisions table


@pytest.mark.parametrize(
    ("name", "full_name", "level"),
    [
        ("浙", "浙江省", "省"),
        ("湘", "湖南省", "省"),
        ("渝", "重庆市", "省"),
        ("京", "北京市", "省"),
        ("罗湖", "深圳市罗湖区", "区县"),
        ("罗湖区", "深圳市罗湖区", "区县"),
        ("广西", "广西壮族自治区", "省"),
        ("新疆", "新疆维吾尔自治区", "省"),
        ("深圳", "深圳市", "市"),
    ],
)
def test_short_and_full_names_resolve(name: str, full_name: str, level: str) -> None:
    region = resolve(name)
    assert region is not None and (region.full_name, region.level) == (full_name, level)


def test_containment_follows_the_codes() -> None:
    luohu, shenzhen, guangdong = by_full_name("深圳市罗湖区"), by_full_name("深圳市"), by_full_name("广东省")
    assert luohu and shenzhen and guangdong
    assert [a.name for a in ancestors(luohu)] == ["深圳市", "广东省"]
    assert contains(guangdong, luohu) and contains(shenzhen, luohu) and not contains(luohu, guangdong)
    assert resolve("朝阳区") is None and len(lookup("朝阳区")) == 2  # Beijing's and Changchun's
    assert resolve("朝阳区", "北京市朝阳区的报告").full_name == "北京市朝阳区"  # type: ignore[union-attr]


def test_five_year_plans_have_their_years() -> None:
    assert five_year_period(14) == (2021, 2025)
    assert five_year_period(15) == (2026, 2030)
    assert five_year_period(12) == (2011, 2015)
    assert five_year_period(1) == (1953, 1957)


# ---------------------------------------------------------------------------------------------
# Metadata read from the text


@pytest.mark.parametrize("path", sorted(PROVINCIAL.glob("*.txt")), ids=lambda p: p.stem)
def test_provincial_report_metadata_is_read_from_its_text(path: Path) -> None:
    # The file names (浙江省_2026.txt) say what the text must give; the text alone is read first.
    region_name, year = path.stem.split("_")
    found = infer(path.read_text(encoding="utf-8"), Path("report.txt"))
    assert (found.region, found.year, found.reviews) == (region_name, int(year), 2025)
    assert found.level == "省" and found.plans == (2026,)
    assert (found.review_period, found.plan_period) == ((2021, 2025), (2026, 2030))
    assert dict(found.origins)["region"].startswith("text") and not found.warnings
    assert region_name[:2] in found.title and "2026" in found.title


def test_state_council_report_is_the_country() -> None:
    text = "政府工作报告\n——2026年3月5日在第十四届全国人民代表大会第四次会议上\n国务院总理 某某\n各位代表：\n"
    found = infer(text, Path("gov.txt"))
    assert (found.region, found.level, found.year) == ("中华人民共和国", "国家", 2026)


def test_a_field_that_cannot_be_read_is_warned_about_by_file_and_field(tmp_path: Path, caplog) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("各位代表：\n我们做了很多工作。\n", encoding="utf-8")
    report = load_report(path)
    assert report is not None and report.region == "" and report.year == 0
    assert "notes.txt: region not found" in caplog.text and "set region in notes.toml" in caplog.text
    assert "year delivered not found" in caplog.text


def test_toml_overrides_inferred_fields_and_says_so(tmp_path: Path) -> None:
    source = PROVINCIAL / "浙江省_2026.txt"
    shutil.copy(source, tmp_path / "zj.txt")
    (tmp_path / "zj.toml").write_text('region = "湖南省"\ntitle = "我的标题"\n', encoding="utf-8")
    report = load_report(tmp_path / "zj.txt")
    assert report is not None and (report.region, report.level, report.title) == ("湖南省", "省", "我的标题")
    origins = dict(report.origins)
    assert origins["region"] == origins["title"] == ".toml" and origins["year"].startswith("text")


def test_reports_command_lists_fields_and_their_origins(capsys: pytest.CaptureFixture[str]) -> None:
    assert index_main(["reports", "--corpus", str(PROVINCIAL)]) == 0
    out = capsys.readouterr().out
    assert "浙江省（省）" in out and "← text: the session it was delivered to" in out
    assert "15 reports" in out


def test_library_folder_is_read_with_its_subfolders() -> None:
    reports = load_corpus(PROJECT_ROOT / "data")
    assert len(reports) == 17 and {"luohu-2021", "浙江省_2026"} <= {r.doc_id for r in reports}


# ---------------------------------------------------------------------------------------------
# Region mentions in questions


@pytest.fixture(scope="module")
def library() -> Library:
    return Library(load_corpus(PROJECT_ROOT / "data"))


@pytest.mark.parametrize(
    ("question", "regions", "foreign"),
    [
        ("浙江2025年地区生产总值增长多少？", ("浙江省",), ()),
        ("湘今年城镇新增就业目标是多少", ("湖南省",), ()),
        ("罗湖2020年财政收入是多少？", ("深圳市罗湖区",), ()),
        ("广东的报告说了什么", ("广东省",), ()),
        ("北京去年PM2.5年均浓度", (), ("北京市",)),
        ("今年有什么新的举措", (), ()),  # 新 is a word, not 新疆
        ("阿里巴巴在哪里投资", (), ()),  # 阿里 is the start of a company's name, not 阿里地区
    ],
)
def test_question_regions_are_read_against_the_library(
    library: Library, question: str, regions: tuple[str, ...], foreign: tuple[str, ...]
) -> None:
    query = analyse(question, library=library)
    assert (query.regions, query.foreign) == (regions, foreign)


def test_a_covered_region_name_is_no_search_word(library: Library) -> None:
    query = analyse("罗湖2020年财政收入是多少？", library=library)
    assert "罗湖" not in query.tokens and "财政收入" in query.tokens
    assert "罗湖" not in query.places


def test_region_follow_up_swaps_the_region() -> None:
    assert (
        rewrite_follow_up("那湖北呢？", "浙江2025年地区生产总值增长多少？")
        == "湖北2025年地区生产总值增长多少？"
    )
    assert rewrite_follow_up("湖南的呢", "今年经济增长目标是多少") == "湖南今年经济增长目标是多少"
    assert rewrite_follow_up("那2014年呢？", "2020年罗湖财政收入多少") == "2014年罗湖财政收入多少"


# ---------------------------------------------------------------------------------------------
# End to end over a small library (fake embedder)


@pytest.fixture(scope="module")
def small_library(tmp_path_factory: pytest.TempPathFactory, fake_embedder) -> Answerer:
    corpus = tmp_path_factory.mktemp("library")
    shutil.copytree(REPORTS, corpus / "luohu", ignore=shutil.ignore_patterns("README*"))
    for name in ("浙江省_2026.txt", "湖北省_2026.txt"):
        shutil.copy(PROVINCIAL / name, corpus / name)
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("idx"), model=fake_embedder.name)
    build_index(settings, fake_embedder)
    return Answerer(settings, stored=load_index(settings.index_dir), embedder=fake_embedder)


def test_answer_comes_from_the_named_region_and_says_so(small_library: Answerer) -> None:
    answer = small_library.ask("浙江2025年地区生产总值增长多少？")
    assert answer.found and answer.citations
    assert {c.region for c in answer.citations} == {"浙江省"}
    assert all(p.region == "浙江省" for p in answer.passages)
    assert citation_label(answer.citations[0]).startswith("2026年浙江省政府工作报告 · ")
    luohu = small_library.ask("罗湖2020年一般公共预算收入是多少？")
    assert luohu.found and luohu.citations[0].region == "深圳市罗湖区"


def test_a_region_without_a_report_is_refused_with_what_the_library_covers(small_library: Answerer) -> None:
    answer = small_library.ask("江苏2025年地区生产总值增长多少？")
    assert not answer.found
    assert "报告库中没有江苏省的政府工作报告" in answer.reason and "浙江省（2026年）" in answer.reason


def test_a_filter_without_the_named_region_says_so(small_library: Answerer) -> None:
    answer = small_library.ask("浙江2025年地区生产总值增长多少？", doc_ids=["湖北省_2026"])
    assert not answer.found and "浙江省" in answer.reason


# ---------------------------------------------------------------------------------------------
# The default index follows the settings


def test_switching_corpus_rebuilds_the_default_index(tmp_path: Path, fake_embedder) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    shutil.copytree(REPORTS, first)
    second.mkdir()
    shutil.copy(PROVINCIAL / "湖北省_2026.txt", second / "hb.txt")
    settings = Settings(corpus_dir=first, index_dir=tmp_path / "idx", model=fake_embedder.name)
    assert set(open_index(settings, embedder=fake_embedder).reports) == {"luohu-2015", "luohu-2021"}
    switched = settings.replace(corpus_dir=second)
    # An index named on the command line (rebuild=False) serves the folder it was built from.
    assert set(open_index(switched, rebuild=False, embedder=fake_embedder).reports) == {
        "luohu-2015",
        "luohu-2021",
    }
    assert set(open_index(switched, embedder=fake_embedder).reports) == {"hb"}


def test_index_from_other_pipeline_code_is_stale(tmp_path: Path, fake_embedder, monkeypatch) -> None:
    settings = Settings(corpus_dir=REPORTS, index_dir=tmp_path / "idx", model=fake_embedder.name)
    open_index(settings, embedder=fake_embedder)
    monkeypatch.setattr("index.build.pipeline_version", lambda: "changed-code")
    with pytest.raises(IndexMismatchError, match="pipeline"):
        open_index(settings, rebuild=False, embedder=fake_embedder)
