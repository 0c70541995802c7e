"""Query analysis: years, periods, answer kinds and glossary expansion."""

from __future__ import annotations

import pytest

from qa.analyse import analyse, glossary


@pytest.mark.parametrize(
    ("question", "years", "relative", "period"),
    [
        ("2020年罗湖财政收入多少", (2020,), (), "unknown"),
        ("二〇一四年的GDP", (2014,), (), "unknown"),
        ("去年财政收入多少", (), (-1,), "review"),
        ("今年的目标是什么", (), (0,), "plan"),
        ("罗湖有几个街道", (), (), "unknown"),
    ],
)
def test_years_and_periods(question, years, relative, period) -> None:
    query = analyse(question)
    assert (query.years, query.relative, query.period) == (years, relative, period)


@pytest.mark.parametrize(
    ("question", "kind"),
    [("财政收入是多少", "figure"), ("有哪些措施", "list"), ("为什么要改革", "reason"), ("莲塘口岸", "other")],
)
def test_answer_kind(question, kind) -> None:
    assert analyse(question).kind == kind


def test_glossary_expands_everyday_words_to_report_terms() -> None:
    query = analyse("罗湖财政收入多少")
    assert {"预算", "一般", "公共"} <= set(query.expansions)
    assert not set(query.expansions) & set(query.tokens)  # expansions only add what is new
    alternatives = dict(query.alternatives)
    assert any("预算" in term for term in alternatives["财政"])
    # 繁体 and full-width input reach the same entries.
    assert set(analyse("羅湖財政收入多少").expansions) == set(query.expansions)
    assert analyse("罗湖财政收入多少", use_glossary=False).expansions == ()


def test_glossary_terms_all_tokenise() -> None:
    # A term with no tokens would be an empty set, which every sentence's tokens include.
    for key, _key_tokens, terms in glossary():
        assert key and terms and all(terms), key


def test_bm25_expansion_is_weighted_below_the_question(answerer) -> None:
    from qa.retrieve import bm25_scores

    query = analyse("财政收入")
    full = bm25_scores(answerer.stored, query, 1.0)
    light = bm25_scores(answerer.stored, query, 0.3)
    own = bm25_scores(answerer.stored, query, 0.0)
    assert (own <= light + 1e-6).all() and (light <= full + 1e-6).all() and (full > own).any()


def test_a_glossary_term_covers_a_word_only_whole(answerer) -> None:
    # 社零 stands for 社会消费品零售总额: a sentence about 促消费 shares 消费 with it but is not about it.
    weights = answerer.weights
    query = analyse("社零总额有多少")
    whole = weights.coverage(query, weights.tokens("社会消费品零售总额增长5%以上"))
    part = weights.coverage(query, weights.tokens("开展促消费活动"))
    assert whole > part == 0.0
