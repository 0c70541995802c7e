"""Comparison questions (qa.compare): recognition of both kinds, the reports compared, row order, the
JSON rows, one retrieval pass, and single answers left as they were.

Fast: recognition reads the library's files (no model); the end-to-end checks build a small library
(the two 罗湖 reports and four provincial ones) with the fake embedder.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import qa.answer
from eval.dataset import LIBRARY, LUOHU, load_items
from index.build import build_index
from index.corpus import Report, load_corpus
from index.normalize import normalize
from index.settings import PROJECT_ROOT, Settings
from index.store import load_index
from qa.__main__ import main
from qa.answer import Answerer
from qa.compare import (
    Comparison,
    recognise,
    report_hits,
    year_list,
)
from qa.fuse import fuse
from qa.quote import CANDIDATE_PASSAGES, Sentence, sentence_spans
from qa.rank import row_figure
from qa.retrieve import retrieve
from qa.rows import (
    FEATURES,
    RowModel,
    candidate_features,
    clauses,
    content_query,
    counted_as_asked,
    figure_words,
    five_year_run,
    five_yearly,
    indicator_qualifiers,
    row_candidates,
    row_evidence,
    row_model,
)
from qa.scope import Library

DATA = PROJECT_ROOT / "data"
PROVINCIAL = DATA / "examples" / "provincial_2026"
REPORTS = DATA / "reports"
ROW_KEYS = {"doc_id", "region", "year", "found", "quote", "citation"}
SMALL = ("浙江省_2026", "湖北省_2026", "湖南省_2026", "河南省_2026")


@pytest.fixture(scope="module")
def reports() -> dict[str, Report]:
    return {r.doc_id: r for r in load_corpus(DATA)}


@pytest.fixture(scope="module")
def library(reports: dict[str, Report]) -> Library:
    return Library(reports.values())


def comparison(
    question: str, library: Library, reports: dict[str, Report], doc_ids=None
) -> Comparison | None:
    return recognise(normalize(question), library, reports, doc_ids)


# ---------------------------------------------------------------------------------------------
# Recognition


@pytest.mark.parametrize(
    ("question", "cue"),
    [
        ("各省2025年地区生产总值增长了多少？", "group"),
        ("罗湖区2014年和2020年的一般公共预算收入分别是多少？", "years"),
        ("浙江、江苏、广东2026年经济增长目标分别是多少？", "regions"),
        ("哪些省份提出2026年地区生产总值增长5%左右？", "group"),
        ("哪个省2025年增长最快？", "group"),
        ("浙江和湖北2025年地区生产总值增长多少？", "regions"),
        ("湘、鄂2026年城镇新增就业目标分别是多少？", "regions"),
        ("罗湖历年的固定资产投资是多少？", "series"),
        ("罗湖这几年新增了多少学位？", "series"),
        ("罗湖哪一年一般公共预算收入最高？", "series"),
        ("对比一下罗湖的财政收入", "word"),
        ("各地2026年固定资产投资增长目标是多少？", "group"),
        ("每个省2025年城镇新增就业多少人？", "group"),
        ("2026年全国各省外贸进出口的增长目标各是多少？", "group"),  # 全国各省: the provinces; 外贸
        ("湘鄂赣三省去年进出口分别增长了多少？", "regions"),  # short names run before 三省
        ("江苏和浙江今年计划新增电力装机多少千瓦？", "regions"),  # listed; the library lacks 江苏
        ("长三角各省市去年新增了多少家高新技术企业？", "regions"),  # a group name; only 浙江 in the library
        ("罗湖2014年新增了多少个中小学学位？2020年呢？", "years"),  # asked again of another year
        ("去年规上工业增加值增长最快的是哪个省", "group"),  # the 最X before 哪个省
        ("一般公共预算收入最高的是哪一年？", "series"),
        ("2025年高技术制造业增加值增速最高的省份是哪个？", "group"),  # the group word before 哪个
        ("去年进出口增速超过15%的省份有哪些？", "group"),  # the group word before 哪些
    ],
)
def test_comparisons_are_recognised(
    question: str, cue: str, library: Library, reports: dict[str, Report]
) -> None:
    found = comparison(question, library, reports)
    assert found is not None and cue in found.cues


@pytest.mark.parametrize(
    "question",
    [
        "2020年罗湖区一般公共预算收入是多少？",
        "城镇和农村居民人均可支配收入分别增长多少？",  # 分别 over items, no region: one answer
        "黔2025年城镇和农村居民收入分别涨了多少？",  # one region
        "罗湖和香港在口岸经济带上怎么合作？",  # a relation, not a comparison
        "河南和湖北之间有哪些合作？",
        "浙江各市今年的发展重点是什么？",  # 各市 inside one province: no city reports
        "全国各地来海南的游客有多少？",
        "罗湖哪个街道的人口最多？",  # ranks streets inside a report
        "人口最多的是哪个街道？",
        "粮食总产量连续16年位居全国首位的省份是哪个？",  # no 最: the one report that says it
        "哪个省的粮食总产量连续16年位居全国首位？",  # 哪个省 without 最: the one report that says it
        "2021年罗湖比较重视哪些民生工作？",  # 比较 as an adverb
        "广东深圳罗湖区2020年一般公共预算收入是多少？",  # one place, named three ways
        "罗湖2020年和2021年的重点工作分别是什么？",  # both years in one report
        "2021至2025年罗湖的目标是什么？",  # a range is one period
        "各省外出务工人员返乡创业有什么支持？",  # 省外: outside the province, not 各省
        "湘鄂赣苏区的红色旅游怎么发展？",  # short names with no count of provinces after them
        "罗湖区值得一去的地方有哪些？",  # 地方 after 的 names no group
    ],
)
def test_plain_questions_are_left_alone(question: str, library: Library, reports: dict[str, Report]) -> None:
    assert comparison(question, library, reports) is None


def test_every_question_of_the_other_sets_stays_a_single_answer(
    library: Library, reports: dict[str, Report]
) -> None:
    questions = [i.question for path in (LIBRARY, LUOHU) for i in load_items(path)]
    assert len(questions) > 300
    assert [q for q in questions if comparison(q, library, reports)] == []


def test_years_joined_as_a_list_not_a_range() -> None:
    assert year_list("2014年和2020年")
    assert year_list("2014、2020年")
    assert not year_list("2021至2025年")
    assert not year_list("2015年的报告里说2014年")


# ---------------------------------------------------------------------------------------------
# The reports compared, and their order


def provincial(reports: dict[str, Report]) -> set[str]:
    return {d for d, r in reports.items() if r.level == "省"}


def test_a_group_is_every_report_of_its_level(library: Library, reports: dict[str, Report]) -> None:
    found = comparison("各省2025年地区生产总值增长了多少？", library, reports)
    assert found is not None
    assert set(found.doc_ids) == provincial(reports) and len(found.doc_ids) == 15
    anywhere = comparison("各地2026年固定资产投资增长目标是多少？", library, reports)
    # 各地 is every level; the year 2026 leaves the reports that plan it (the 罗湖 ones plan 2015, 2021).
    assert anywhere is not None and set(anywhere.doc_ids) == provincial(reports)


def test_the_user_s_choice_of_reports_bounds_the_group(library: Library, reports: dict[str, Report]) -> None:
    chosen = frozenset({"浙江省_2026", "湖北省_2026", "luohu-2021"})
    found = comparison("各省2025年地区生产总值增长了多少？", library, reports, chosen)
    assert found is not None and found.doc_ids == ("浙江省_2026", "湖北省_2026")
    assert (
        comparison("各省2025年地区生产总值增长了多少？", library, reports, frozenset({"浙江省_2026"})) is None
    )


def test_named_regions_and_the_ones_the_library_lacks(library: Library, reports: dict[str, Report]) -> None:
    found = comparison("湖南、浙江、湖北2026年经济增长目标分别是多少？", library, reports)
    assert found is not None and found.doc_ids == ("浙江省_2026", "湖北省_2026", "湖南省_2026")
    missing = comparison("浙江、江苏、广东2026年经济增长目标分别是多少？", library, reports)
    # 广东 has 罗湖's reports, but none for 2026.
    assert missing is not None and missing.doc_ids == ("浙江省_2026",)
    assert missing.missing == ("江苏省", "广东省")
    assert "浙江" not in missing.question and "分别" not in missing.question


def test_two_regions_listed_name_the_one_the_library_lacks(
    library: Library, reports: dict[str, Report]
) -> None:
    found = comparison("江苏和浙江今年计划新增电力装机多少千瓦？", library, reports)
    assert found is not None and found.doc_ids == ("浙江省_2026",) and found.missing == ("江苏省",)


def test_years_of_one_region_are_its_reports(library: Library, reports: dict[str, Report]) -> None:
    found = comparison("罗湖区2014年和2020年的一般公共预算收入分别是多少？", library, reports)
    assert found is not None and found.doc_ids == ("luohu-2015", "luohu-2021")
    assert found.years == (2014, 2020)
    series = comparison("罗湖历年的固定资产投资是多少？", library, reports)
    assert series is not None and series.doc_ids == ("luohu-2015", "luohu-2021")


def test_rows_are_ordered_by_region_then_year(library: Library, reports: dict[str, Report]) -> None:
    found = comparison("各地的一般公共预算收入分别是多少？", library, reports)
    assert found is not None
    codes = [(library.region_of[d].code, reports[d].year) for d in found.doc_ids]
    assert codes == sorted(codes)
    # 广东 (44) after 湖南 (43), before 重庆 (50); 罗湖's 2015 report before its 2021 one.
    assert found.doc_ids.index("luohu-2015") + 1 == found.doc_ids.index("luohu-2021")
    assert found.doc_ids.index("湖南省_2026") < found.doc_ids.index("luohu-2015")
    assert found.doc_ids.index("luohu-2021") < found.doc_ids.index("重庆市_2026")


def test_a_stated_figure_must_be_quoted_as_stated(library: Library, reports: dict[str, Report]) -> None:
    found = comparison("哪些省份提出2026年地区生产总值增长5%左右？", library, reports)
    assert found is not None and len(found.figures) == 1
    figure = found.figures[0]
    assert figure.held_by("地区生产总值增长5%左右")
    assert not figure.held_by("经济增长5.5%左右")
    assert not figure.held_by("全省生产总值增长5%—5.5%")
    assert not figure.held_by("增长15%左右")


@pytest.mark.parametrize(
    ("question", "held", "not_held"),
    [
        (
            "哪些省份今年规上工业增加值增长目标不低于6%？",
            ["增长6.5%左右", "增长6%"],
            ["增长5.5%左右", "增长60万人"],
        ),
        ("去年城镇调查失业率控制在5%以内的有哪些省份？", ["城镇调查失业率4.6%", "5%以内"], ["5.2%"]),
        (
            "哪些省份去年城镇新增就业超过60万人？",
            ["城镇新增就业65万人"],
            ["城镇新增就业54.58万人", "增长65%", "城镇新增就业60万人"],
        ),
        # 低于 leaves the figure itself out: about 5% and at least 5% are not below 5%.
        ("今年GDP目标低于5%的有哪些省份", ["增长4.5%左右"], ["增长5%左右", "增长5%以上", "增长5%"]),
        # A criterion on the direction of a change: a fall is below zero, whatever fell beside it.
        (
            "哪些省份去年外贸进出口是负增长？",
            ["进出口下降5.4%"],
            ["进出口总值增长14.1%", "在对美贸易下降超3成的情况下增长12%"],
        ),
        ("哪些省份去年进出口实现了正增长？", ["进出口总值增长14.1%"], ["进出口下降5.4%"]),
        # A criterion on a goal's form: a range, not one figure.
        (
            "哪些省份2026年GDP增长目标设的是区间？",
            ["全省生产总值增长5%—5.5%", "地区生产总值增长4.5-5%"],
            ["地区生产总值增长5%左右", "增长5%以上"],
        ),
        # Or on the word that qualifies it: a floor (以上), not about (左右).
        (
            "哪些省份2026年GDP增长目标用的是“X%以上”这种表述？",
            ["地区生产总值增长5%以上"],
            ["增长5%左右", "增长5.5%"],
        ),
        ("哪些省的增长目标带“左右”？", ["地区生产总值增长5%左右"], ["增长5%以上", "增长5.5%"]),
    ],
)
def test_a_bounded_figure_is_held_by_any_figure_within_the_bound(
    question: str, held: list[str], not_held: list[str], library: Library, reports: dict[str, Report]
) -> None:
    found = comparison(question, library, reports)
    assert found is not None and len(found.figures) == 1 and found.figures[0].bound
    assert all(found.figures[0].held_by(said) for said in held)
    assert not any(found.figures[0].held_by(said) for said in not_held)


def test_a_group_of_provinces_named_is_its_provinces_in_the_library(
    library: Library, reports: dict[str, Report]
) -> None:
    found = comparison("东北三省今年GDP增长目标分别是多少？", library, reports)
    assert found is not None and set(found.doc_ids) == {"辽宁省_2026", "黑龙江省_2026"}
    assert found.missing == ("吉林省",) and "东北三省" not in found.question
    west = comparison("西部省份2025年地区生产总值增长了多少？", library, reports)
    assert west is not None
    assert {reports[d].region for d in west.doc_ids} == {
        "重庆市",
        "贵州省",
        "西藏自治区",
        "陕西省",
        "甘肃省",
        "青海省",
    }
    assert comparison("东北的冬天有多冷？", library, reports) is None


def test_clauses_carry_the_subject_before_them() -> None:
    assert clauses("全省生产总值跨越三个大台阶，年均增长5.9%。") == [
        "全省生产总值跨越三个大台阶",
        "全省生产总值跨越三个大台阶，年均增长5.9%",
    ]


# ---------------------------------------------------------------------------------------------
# End to end over a small library (fake embedder)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory, fake_embedder) -> Answerer:
    corpus = tmp_path_factory.mktemp("library")
    shutil.copytree(REPORTS, corpus / "luohu", ignore=shutil.ignore_patterns("README*"))
    for doc_id in SMALL:
        shutil.copy(PROVINCIAL / f"{doc_id}.txt", corpus / f"{doc_id}.txt")
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("idx"), model=fake_embedder.name)
    build_index(settings, fake_embedder)
    return Answerer(settings, stored=load_index(settings.index_dir), embedder=fake_embedder)


def check_rows(row: dict, stored) -> None:
    """The JSON rows: their keys, every quote an exact slice of its citation's paragraph (and that
    paragraph of its report file), 未找到 rows empty."""
    citations = {c["n"]: c for c in row["citations"]}
    assert [q["citation"] for q in row["quotes"]] == [r["citation"] for r in row["rows"] if r["found"]]
    for r in row["rows"]:
        assert set(r) == ROW_KEYS
        report = stored.reports[r["doc_id"]]
        assert (r["region"], r["year"]) == (report.region, report.year)
        if not r["found"]:
            assert r["quote"] == "" and r["citation"] is None
            continue
        citation = citations[r["citation"]]
        assert citation["doc_id"] == r["doc_id"]
        assert citation["text"][citation["start"] : citation["end"]] == r["quote"]
        paragraph = stored.paragraphs[(citation["doc_id"], citation["paragraph"])]
        assert (
            Path(report.path).read_text(encoding="utf-8")[paragraph.start : paragraph.end] == citation["text"]
        )


@pytest.mark.parametrize(
    "question",
    [
        "各省2025年地区生产总值增长了多少？",
        "浙江、湖北、湖南2026年经济增长目标分别是多少？",
        "罗湖区2014年和2020年的一般公共预算收入分别是多少？",
        "哪些省份提出2026年地区生产总值增长5%左右？",
        "浙江、江苏2026年经济增长目标分别是多少？",
    ],
)
def test_json_rows_quote_their_citations(small: Answerer, question: str) -> None:
    answer = small.ask(question)
    row = json.loads(json.dumps(answer.to_dict(), ensure_ascii=False))
    assert row["rows"], "a comparison is answered with rows"
    check_rows(row, small.stored)
    assert [r["doc_id"] for r in row["rows"]] == list(
        recognise(normalize(question), small.library, small.stored.reports).doc_ids  # type: ignore[union-attr]
    )
    assert row["passages"] and row["answer"].count("\n| ") >= len(row["rows"])
    if not row["found"]:
        assert row["answer"].startswith(qa.answer.NOT_FOUND)


def test_a_group_has_a_row_for_every_provincial_report(small: Answerer) -> None:
    answer = small.ask("各省2025年地区生产总值增长了多少？")
    assert [r.doc_id for r in answer.rows] == ["浙江省_2026", "河南省_2026", "湖北省_2026", "湖南省_2026"]
    assert all(r.region for r in answer.rows)


def test_a_missing_region_is_named(small: Answerer) -> None:
    answer = small.ask("浙江、江苏2026年经济增长目标分别是多少？")
    assert [r.doc_id for r in answer.rows] == ["浙江省_2026"]
    assert "江苏省" in answer.reason and "江苏省" in answer.answer


def test_one_embedding_and_one_retrieval_per_comparison(
    small: Answerer, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedded: list[int] = []
    searched: list[int] = []
    embed = small.embedder.embed_queries
    monkeypatch.setattr(
        small.embedder, "embed_queries", lambda texts: embedded.append(len(texts)) or embed(texts)
    )

    def counting(*args, **kwargs):
        searched.append(1)
        return retrieve(*args, **kwargs)

    monkeypatch.setattr(qa.answer, "retrieve", counting)
    answer = small.ask("各省2025年地区生产总值增长了多少？")
    assert len(answer.rows) == 4 and embedded == [1] and searched == [1]


def test_each_report_s_chunks_rank_as_in_a_search_of_that_report_alone(small: Answerer) -> None:
    query = small.analyse("2025年地区生产总值增长了多少？")
    vector = small.embedder.embed_queries([query.normalized])[0]
    scores = retrieve(small.stored, query, vector, small.settings.expansion_weight)
    topical = small.weights.topical(query)
    hits, _ = report_hits(small.stored, query, scores, small.settings, topical, SMALL, CANDIDATE_PASSAGES)
    for doc_id in SMALL:
        alone = fuse(
            small.stored, query, scores, small.settings, topical, CANDIDATE_PASSAGES, frozenset({doc_id})
        )
        assert [h.chunk for h in hits[doc_id]] == [h.chunk for h in alone]
        assert [h.score for h in hits[doc_id]] == pytest.approx([h.score for h in alone])


def test_a_year_s_row_does_not_quote_a_five_year_figure(small: Answerer) -> None:
    answer = small.ask("各省2025年地区生产总值增长了多少？")
    citations = {c.n: c for c in answer.citations}
    for row in answer.rows:
        if row.found:
            citation = citations[row.citation]  # type: ignore[index]
            paragraph = small.stored.paragraphs[(citation.doc_id, citation.paragraph)]
            assert not any(five_yearly(paragraph, c) for c in clauses(row.quote) if "增长" in c)


@pytest.mark.parametrize(
    "question",
    [
        "2020年罗湖区一般公共预算收入是多少？",
        "浙江2025年地区生产总值增长多少？",
        "城镇和农村居民人均可支配收入分别增长多少？",
        "哪个省的粮食总产量连续16年位居全国首位？",
    ],
)
def test_single_answers_are_unchanged(
    small: Answerer, question: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = small.ask(question).to_dict()
    assert answer["rows"] == ()
    # The same answer with comparisons switched off: recognition only routes, it changes nothing else.
    monkeypatch.setattr(qa.answer, "recognise", lambda *args, **kwargs: None)
    before = small.ask(question).to_dict()
    for row in (answer, before):
        row.pop("elapsed_ms")
    assert answer == before


def test_the_cli_prints_a_table(
    small: Answerer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], fake_embedder
) -> None:
    monkeypatch.setattr(qa.answer, "settings_embedder", lambda *args, **kwargs: fake_embedder)
    monkeypatch.setenv("GOVQA_MODEL", fake_embedder.name)
    index = str(small.settings.index_dir)
    assert main(["ask", "浙江、江苏2026年经济增长目标分别是多少？", "--index", index]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["地区", "年份", "报告原文"]
    assert lines[1].startswith("浙江省") and "2026" in lines[1]
    assert "江苏省" in out
    assert main(["ask", "浙江、江苏2026年经济增长目标分别是多少？", "--json", "--index", index]) == 0
    row = json.loads(capsys.readouterr().out)
    assert [r["doc_id"] for r in row["rows"]] == ["浙江省_2026"]


# ---------------------------------------------------------------------------------------------
# The row decision (qa.rows)


def _paragraph(stored, doc_id: str, opening: str):
    return next(p for p in stored.paragraphs.values() if p.doc_id == doc_id and p.text.startswith(opening))


def test_the_paragraphs_after_a_five_year_opening_speak_of_the_five_years(small: Answerer) -> None:
    # 湖北's review opens 「“十四五”时期是…的五年」, lists the five years' gains, then turns to the year.
    five = _paragraph(small.stored, "湖北省_2026", "——人民生活品质持续改善")
    year = _paragraph(small.stored, "湖北省_2026", "经济运行稳中有进")
    assert five_year_run(small.stored, five) and not five_year_run(small.stored, year)
    assert five_yearly(five, "城镇新增就业每年超过90万人", True)
    assert not five_yearly(year, "城镇新增就业90万人", five_year_run(small.stored, year))


def test_the_words_before_a_figure_tell_which_indicator_it_counts(small: Answerer) -> None:
    content = content_query(small.analyse("2025年规上工业增加值增长多少？"))
    total = sum(small.weights.weight(t) for t in set(content.tokens))
    same = figure_words(content, small.weights, "规上工业增加值增长8.4%", total)
    narrower = figure_words(content, small.weights, "规上装备工业增加值增长8.4%", total)
    other = figure_words(content, small.weights, "工业增加值占地区生产总值比重提高到25.5%", total)
    assert same[1] == 0.0 < narrower[1]
    assert same[0] > other[0]


def test_a_figure_counted_in_the_measure_word_asked() -> None:
    assert counted_as_asked("惠及310多万户", "户")
    assert not counted_as_asked("改造老旧小区1.84万个", "户")
    assert not counted_as_asked("接待游客1.2亿人次", "人")


def test_the_row_model_reads_its_own_features_only() -> None:
    model = row_model()
    assert model.features == FEATURES and 0 < model.threshold < 1
    assert RowModel.from_dict(model.to_dict()).to_dict() == model.to_dict()
    with pytest.raises(ValueError, match=r"eval\.row_model"):
        RowModel.from_dict(model.to_dict() | {"features": list(FEATURES[:-1])})


def test_a_row_quotes_its_most_probable_candidate_from_the_threshold_on(small: Answerer) -> None:
    """The model decides: every row refused when nothing reaches its threshold, the most probable
    candidate quoted first otherwise — whatever the single answer's own order."""
    comparison_found = recognise(
        normalize("各省2025年地区生产总值增长了多少？"), small.library, small.stored.reports
    )
    assert comparison_found is not None
    query, _, hits, _ = small.comparison_search(comparison_found)
    args = (small.stored, comparison_found, query, hits, small.weights, small.refusal)
    shipped = row_model()
    never = RowModel(shipped.features, shipped.mean, shipped.scale, shipped.weights, shipped.bias, 1.01)
    assert not any(e.verdict.found for e in row_evidence(*args, model=never))

    # A model that likes each candidate more than the one before quotes the last one shown.
    class Later(RowModel):
        def probability(self, x: np.ndarray) -> np.ndarray:
            return np.arange(len(x), dtype=float) / len(x)

    later = Later(shipped.features, shipped.mean, shipped.scale, shipped.weights, shipped.bias, 0.0)
    for row, evidence in zip(row_candidates(*args), row_evidence(*args, model=later), strict=True):
        if row.sentences:
            assert evidence.verdict.candidates[0] == row.sentences[-1]


def test_a_bound_is_held_by_the_figure_of_the_indicator_asked(
    library: Library, reports: dict[str, Report]
) -> None:
    found = comparison("去年城镇调查失业率低于5%的有哪些省份？", library, reports)
    assert found is not None
    said = "CPI微降0.1%，城镇调查失业率5.2%"
    bound = found.figures[0]
    assert bound.held_by(said)  # some figure of the unit is below 5%: CPI's
    assert not bound.held_by(said, said.index("5.2"))  # the rate asked is not


def test_a_goal_is_no_answer_to_a_question_about_what_was_done_or_what_is(small: Answerer) -> None:
    """A sentence of a plan paragraph is flagged for a question asking about the past (去年) and for one
    naming no time at all (人均预期寿命最高: the level reached, not a goal); not for one asking a goal."""
    from qa.quote import Sentence

    plan = next(p for p in small.stored.paragraphs.values() if p.period == "plan" and p.kind == "body")
    sentence = Sentence(plan, 0, len(plan.text), 0, 1.0, 1.0)
    features = {}
    for question in ("各省去年新增就业多少？", "哪个省的人均预期寿命最高？", "各省今年的就业目标是多少？"):
        found = recognise(normalize(question), small.library, small.stored.reports)
        assert found is not None
        query = small.analyse(found.question)
        values = candidate_features(found, query, content_query(query), small.weights, sentence, {2025, 2026})
        features[question] = (values[FEATURES.index("period_clash")], values[FEATURES.index("untimed_plan")])
    assert features == {
        "各省去年新增就业多少？": (1.0, 0.0),
        "哪个省的人均预期寿命最高？": (0.0, 1.0),
        "各省今年的就业目标是多少？": (0.0, 0.0),
    }


# ---------------------------------------------------------------------------------------------
# Ranking (qa.rank): the figure each row's quote gives for the indicator asked


def _figure_of(small: Answerer, doc_id: str, said: str, question: str):
    """``row_figure`` of the sentence of ``doc_id`` holding ``said``, read for ``question``'s row."""
    paragraph = next(p for (d, _), p in small.stored.paragraphs.items() if d == doc_id and said in p.text)
    start, end = next((s, e) for s, e in sentence_spans(paragraph.text) if said in paragraph.text[s:e])
    comparison = recognise(normalize(question), small.library, small.stored.reports)
    assert comparison is not None and comparison.most
    query = small.analyse(comparison.question, frozenset(comparison.doc_ids))
    sentence = Sentence(paragraph, start, end, 0, 0.0, 0.0)
    return row_figure(
        small.stored, content_query(query), small.weights, comparison.question, (doc_id, doc_id, 1, sentence)
    )


@pytest.mark.parametrize(
    ("doc_id", "said", "question", "text", "value"),
    [
        # The subject carried over words that name nothing asked (稳居全国前十强).
        ("湖南省_2026", "增长4.8%", "哪个省2025年地区生产总值增长最快？", "4.8%", 4.8),
        # 分别: the item asked, not the first.
        ("浙江省_2026", "分别增长4.3%、5.5%", "哪个省农村居民人均可支配收入增长最快？", "5.5%", 5.5),
        # A level reached, not where it started.
        ("浙江省_2026", "人均预期寿命从80.2岁提升至82.5岁", "哪个省的人均预期寿命最高？", "82.5岁", 82.5),
        # A fall asked as a fall is its own size.
        ("河南省_2026", "生产安全事故起数下降18%", "哪个省的生产安全事故起数降得最多？", "18%", 18.0),
        # 5G is a name, not a figure; 18.8万个 is.
        ("湖北省_2026", "5G基站增至18.8万个", "哪个省的5G基站最多？", "18.8万个", 188000.0),
    ],
)
def test_a_row_gives_the_figure_of_the_indicator_asked(
    small: Answerer, doc_id: str, said: str, question: str, text: str, value: float
) -> None:
    found = _figure_of(small, doc_id, said, question)
    assert found is not None and (found.text, found.low) == (text, value)


def test_a_rise_asked_reads_a_fall_as_negative_and_a_some_as_a_span(small: Answerer) -> None:
    fall = _figure_of(small, "河南省_2026", "生产安全事故起数下降18%", "哪个省的生产安全事故起数增长最快？")
    assert fall is not None and fall.low == -18.0 and fall.text == "下降18%"
    some = _figure_of(small, "湖北省_2026", "惠及310多万户", "哪个省惠及的户数最多？")
    assert some is not None and (some.low, some.high) == (3_100_000.0, 3_200_000.0)


def test_a_ranking_question_names_its_winner_among_the_rows(small: Answerer) -> None:
    answer = small.ask("哪个省2025年地区生产总值增长最快？")
    ranking = answer.ranking
    assert ranking is not None and ranking.most == "最快"
    found = {row.doc_id: row for row in answer.rows if row.found}
    for compared in ranking.compared:
        assert found[compared.doc_id].citation == compared.citation
    if ranking.winners:
        top = max(f.low for f in ranking.compared)
        assert {f.doc_id for f in ranking.compared if f.low == top} == set(ranking.winners)
    assert ranking.said in answer.answer
    assert small.ask("各省2025年地区生产总值增长了多少？").ranking is None


@pytest.mark.parametrize(
    ("said", "inner", "modifier"),
    [
        ("全省规上工业增加值增长7.9%", False, False),
        ("规上装备工业增加值增长8.4%", True, False),  # a part of the industry asked
        ("规上工业单位增加值能耗下降2.4%", True, False),  # another indicator built on it
    ],
)
def test_words_that_narrow_the_indicator_asked_are_told(
    small: Answerer, said: str, inner: bool, modifier: bool
) -> None:
    content = content_query(small.analyse("规上工业增加值增长了多少"))
    total = sum(small.weights.weight(t) for t in set(content.tokens))
    clause = normalize(said).replace(" ", "")
    found = indicator_qualifiers(
        content, small.weights, clause, figure_words(content, small.weights, clause, total)[2]
    )
    assert (found[0] > 0, found[1] > 0) == (inner, modifier)


def test_a_trade_figure_of_one_kind_of_trade_is_told_from_all_trade(small: Answerer) -> None:
    content = content_query(small.analyse("进出口增长了多少"))
    total = sum(small.weights.weight(t) for t in set(content.tokens))
    for said, narrowed in (
        ("全省进出口总额增长5.2%", False),
        ("外贸新业态积极发展，跨境电商进出口增长61.6%", True),  # 跨境电商 before it
        ("服务进出口总额增长22.1%", True),
    ):
        clause = normalize(said).replace(" ", "")
        found = indicator_qualifiers(
            content, small.weights, clause, figure_words(content, small.weights, clause, total)[2]
        )
        assert (max(found) > 0) == narrowed, said


def test_a_candidate_without_the_stated_figure_is_never_chosen() -> None:
    model = row_model()
    at = FEATURES.index("figures_stated")
    x = np.zeros((2, len(FEATURES)))
    x[1, at] = 1.0
    x[0] = x[1] + 5.0  # better on every other feature
    x[0, at] = 0.0
    assert model.best(x)[1] == 1


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("今年哪些省份给居民收入增长定了具体的百分比目标？", True),
        ("哪些省今年给碳排放强度下降定了具体数字？", True),
        ("哪些省份2026年地区生产总值增长5%左右？", False),
        ("各省今年单位GDP二氧化碳排放下降多少？", False),
    ],
)
def test_a_question_asking_for_a_specific_figure_is_told(
    question: str, asks: bool, library: Library, reports: dict[str, Report]
) -> None:
    found = comparison(question, library, reports)
    assert found is not None and found.asks_figure == asks


def test_a_row_naming_the_indicator_without_a_figure_answers_no_question_asking_for_one(
    small: Answerer,
) -> None:
    # 「居民收入增长与经济增长同步」 names the indicator and sets no figure for it.
    asked = recognise(
        normalize("今年哪些省份给居民收入增长定了具体的百分比目标？"), small.library, small.stored.reports
    )
    assert asked is not None and asked.asks_figure
    query = small.analyse(asked.question, frozenset(asked.doc_ids))
    paragraph = next(
        p for (d, _), p in small.stored.paragraphs.items() if "居民收入增长和经济增长同步" in p.text
    )
    start = paragraph.text.index("居民收入增长和经济增长同步")
    sentence = Sentence(paragraph, start, start + len("居民收入增长和经济增长同步；"), 0, 0.0, 0.0)
    features = candidate_features(asked, query, content_query(query), small.weights, sentence, {2026})
    assert features[FEATURES.index("figures_stated")] == 0.0
    plain = dataclasses.replace(asked, asks_figure=False)
    assert (
        candidate_features(plain, query, content_query(query), small.weights, sentence, {2026})[
            FEATURES.index("figures_stated")
        ]
        == 1.0
    )


def test_a_count_after_regions_listed_is_no_word_of_the_row(
    library: Library, reports: dict[str, Report]
) -> None:
    found = comparison("河南、湖北、湖南三省去年规上工业增加值增速，谁最快？", library, reports)
    assert found is not None and "三省" not in found.question and found.most == "最快"


def test_a_province_before_a_count_is_no_group_name(library: Library, reports: dict[str, Report]) -> None:
    # 广东三省 holds 东三省 (辽宁, 吉林, 黑龙江) across 广东; 东三省 alone is the group.
    found = comparison("浙江、湖北、广东三省去年的经济增速分别是多少？", library, reports)
    # 广东 is read as a name: by the reports of regions within it (罗湖区), or as missing.
    assert found is not None and ("广东省" in found.missing or "luohu-2021" in found.doc_ids)
    assert not any("黑龙江" in doc_id for doc_id in found.doc_ids)
    group = comparison("东三省去年粮食产量分别是多少？", library, reports)
    assert group is not None and "吉林省" in group.missing


def test_a_ranking_with_its_group_word_before_which_is_read_whole(
    library: Library, reports: dict[str, Report]
) -> None:
    found = comparison("2025年高技术制造业增加值增速最高的省份是哪个？", library, reports)
    assert found is not None and found.most == "最高"
    assert "最高" not in found.question and "省份" not in found.question
