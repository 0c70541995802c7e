"""Refusal checks (qa.refuse) on the real reports, with the fake embedder: each rule refuses what the
reports cannot answer and keeps what they can."""

from __future__ import annotations

import pytest

from qa.analyse import analyse
from qa.answer import NOT_FOUND, Answerer
from qa.quote import Sentence, candidate_sentences
from qa.refuse import UNITS, holds_unit, without_years


def test_a_year_no_report_covers_is_refused_with_the_years_that_are_covered(answerer: Answerer) -> None:
    answer = answerer.ask("2023年罗湖新增了多少中小学学位？")
    assert not answer.found
    assert "2014、2015、2020、2021" in answer.reason and "2023" in answer.reason
    assert answer.answer.startswith(NOT_FOUND)


def test_a_fact_stated_only_for_another_year_is_refused(answerer: Answerer) -> None:
    # 实际利用外资 is reported for 2014 only (in the 2015 report).
    assert answerer.ask("2014年罗湖实际利用外资多少？").found
    answer = answerer.ask("2020年罗湖实际利用外资多少？")
    assert not answer.found and "2020" in answer.reason


def test_the_quote_comes_from_the_year_asked_about(answerer: Answerer) -> None:
    for year, report in ((2014, "luohu-2015"), (2020, "luohu-2021")):
        answer = answerer.ask(f"{year}年罗湖新增了多少中小学学位？")
        assert answer.found
        assert answer.citations[0].doc_id == report


def test_the_report_year_with_qunian_means_the_year_before(answerer: Answerer) -> None:
    answer = answerer.ask("2015年的政府工作报告里说，去年罗湖新增了多少中小学学位？")
    assert answer.found and answer.citations[0].doc_id == "luohu-2015"


def test_another_district_is_refused_but_the_reports_own_region_is_not(answerer: Answerer) -> None:
    answer = answerer.ask("福田区2020年新增了多少学位？")
    assert not answer.found and "福田区" in answer.reason
    assert answerer.ask("深圳市罗湖区2020年新增了多少学位？").found


def test_a_place_the_quoted_paragraph_names_is_kept(answerer: Answerer) -> None:
    answer = answerer.ask("罗湖想从香港引进哪些专业机构？")
    assert answer.found and "香港" in answer.citations[0].text


@pytest.mark.parametrize(
    ("question", "unit", "reason"),
    [("东门大厦复建要花多少钱？", "money", "金额"), ("东门大厦什么时候建成？", "time", "时间")],
)
def test_a_question_naming_its_unit_is_refused_without_a_sentence_in_that_unit(
    answerer: Answerer, question: str, unit: str, reason: str
) -> None:
    # The reports say 东门大厦启动复建, with no amount and no date.
    assert analyse(question).unit == unit
    answer = answerer.ask(question)
    assert not answer.found and reason in answer.reason


def test_quotes_for_a_length_question_hold_a_length(answerer: Answerer) -> None:
    answer = answerer.ask("罗湖的绿道有多长？")
    assert answer.found and all(UNITS["length"].search(q.text) for q in answer.quotes)


def test_money_questions_are_answered_from_amounts(answerer: Answerer) -> None:
    answer = answerer.ask("2014年罗湖在民生上花了多少钱？")
    assert answer.found and "亿元" in answer.quotes[0].text


def test_common_words_jieba_tags_as_places_are_not_places(answerer: Answerer) -> None:
    # jieba tags 新建 (a county in Jiangxi) and 东西 as place names; neither may filter the evidence.
    assert answerer.refusal.foreign_places(analyse("2021年罗湖要新建多少东西")) == []
    # 城市 and 社区 are common nouns with a place suffix, not places.
    assert answerer.refusal.foreign_places(analyse("罗湖属于哪个城市，有多少个社区？")) == []
    assert answerer.refusal.foreign_places(analyse("福田区和香港的学位")) == ["福田区", "香港"]


@pytest.mark.parametrize(
    ("question", "unit"),
    [
        ("罗湖二手房均价多少钱一平？", "price"),
        ("拆迁补偿每平米给多少钱？", "price"),
        ("罗湖每平方公里产出多少GDP？", ""),  # a density, not a price
        ("罗湖区委书记是谁？", "person"),
        ("罗湖引进了哪位专家？", "person"),
        ("罗湖的基层治理模式叫什么名字？", ""),
        ("罗湖GDP总量有多少亿？", "amount"),
        ("常住人口有几万？", "amount"),
        ("民生支出花了多少亿元？", "money"),
    ],
)
def test_the_answer_kind_a_question_names(question: str, unit: str) -> None:
    assert analyse(question).unit == unit


def test_a_price_question_needs_a_price_not_a_sum(answerer: Answerer) -> None:
    # The reports give sums for 棚改 (亿元) but never a price per square metre.
    answer = answerer.ask("罗湖棚改拆迁补偿每平方米多少钱？")
    assert not answer.found and "单价" in answer.reason


def test_a_who_question_needs_a_name_stated_of_what_it_asks_about(answerer: Answerer) -> None:
    # 黄贝中学 is named, its head is not; another school's head (杜小宜) does not answer.
    answer = answerer.ask("黄贝中学的校长是谁？")
    assert not answer.found and "姓名" in answer.reason
    answer = answerer.ask("罗湖引进的国务院特殊津贴专家是哪位？")
    assert answer.found and "孙喜琢" in answer.quotes[0].text


def test_a_unit_sentence_about_something_else_does_not_answer(answerer: Answerer) -> None:
    # The reports give the length of 碧道 built in 2020, not of the 布吉河 one.
    assert analyse("布吉河碧道有多长？").unit == "length"
    assert not answerer.ask("布吉河碧道有多长？").found


def test_an_amount_question_is_answered_from_a_figure_in_that_magnitude(answerer: Answerer) -> None:
    query = analyse("2020年罗湖GDP总量有多少亿？")
    assert not holds_unit(query, "万元GDP建设用地、水耗、电耗分别下降1.5%、10.6%和6.4%。")
    assert holds_unit(query, "金融业增加值超850亿元,增长10%")
    answer = answerer.ask("2020年罗湖金融业增加值有多少亿？")
    assert answer.found and "亿" in answer.quotes[0].text


def test_the_sentence_quoted_first_must_cover_enough_of_the_question(answerer: Answerer) -> None:
    """A passage that shares words with the question is not enough: the sentence that would be
    quoted must say something about what is asked (found_threshold)."""
    query = analyse("罗湖新增了多少中小学学位？")
    hits = answerer.search(query, None, 200)
    candidates = candidate_sentences(answerer.stored, query, hits, answerer.weights)
    verdict = answerer.refusal.judge(query, candidates)
    assert verdict.found and "学位" in verdict.candidates[0].text
    # The same evidence, led by a sentence that says nothing about 学位 (as when the paragraph that
    # answers is missing and a ranked neighbour's sentence comes first).
    unrelated = next(
        p
        for p in answerer.stored.paragraphs.values()
        if answerer.weights.coverage(query, answerer.weights.tokens(p.text)) == 0
    )
    first = Sentence(unrelated, 0, len(unrelated.text), 0, 10.0, 0.0)
    assert not answerer.refusal.judge(query, [first, *candidates]).found


def test_time_words_are_read_by_the_year_checks_not_asked_of_the_sentence() -> None:
    # 「去年」「现在」「“十四五”期间」 place the question in time; the year and period checks read them,
    # so a sentence about that year need not repeat them to cover the question.
    content = without_years(analyse("去年城镇新增就业多少人？现在呢？“十四五”期间呢？"))
    assert not {"去年", "现在", "期间", "十四五"} & set(content.tokens)
    assert {"城镇", "就业"} <= set(content.tokens)
    assert "本地" in without_years(analyse("本地企业有多少")).tokens  # 本 of 本年 is not a time word
