"""Query analysis: years, periods, answer kinds and glossary expansion."""

from __future__ import annotations

import pytest

from index.normalize import normalize
from index.tokens import tokenize
from qa.analyse import analyse, expand, glossary


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
    for key, _key_tokens, terms, _region in glossary():
        assert key and terms and all(terms), key


def test_a_regional_glossary_entry_applies_only_to_its_regions_reports() -> None:
    # 社康 is Shenzhen's word for a community health centre: expanded for a Shenzhen district's
    # report, not for a province's, where it would only pull unrelated text.
    from index.regions import lookup

    luohu, zhejiang = lookup("罗湖区")[0], lookup("浙江省")[0]
    assert "社康" in expand("看病难", [luohu])[0]
    assert "社康" not in expand("看病难", [zhejiang])[0]
    assert "医疗" in expand("看病难", [zhejiang])[0]  # the general entry of the same key still applies
    assert "社康" in expand("看病难", [zhejiang, luohu])[0]
    assert "深港" not in expand("香港口岸", [zhejiang])[0]


def test_the_regional_glossary_follows_the_questions_scope(tmp_path) -> None:
    from index.corpus import Report
    from qa.scope import Library

    def report(doc_id: str, region: str) -> Report:
        return Report(
            doc_id, f"{region}政府工作报告", 2026, 2025, (2026,), tmp_path / doc_id, "", region=region
        )

    library = Library([report("a", "深圳市罗湖区"), report("b", "浙江省")])
    assert "社康" in analyse("看病难吗", library=library).expansions  # either report may answer
    assert "社康" not in analyse("浙江看病难吗", library=library).expansions
    assert "社康" not in analyse("看病难吗", library=library, doc_ids=frozenset({"b"})).expansions
    assert "社康" in analyse("罗湖看病难吗", library=library).expansions


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


def test_reports_of_unknown_region_stay_in_a_named_regions_scope(tmp_path) -> None:
    # A library where some texts have no known region (Wikipedia pages, a report whose region
    # could not be read): naming 罗湖 must not hide them, nor drop 罗湖 as a search word for them.
    from types import SimpleNamespace

    from index.corpus import Report
    from qa.answer import Answerer
    from qa.scope import Library

    def report(doc_id: str, region: str) -> Report:
        return Report(doc_id, "报告", 2021, 2020, (2021,), tmp_path / doc_id, "", region=region)

    library = Library([report("luohu", "深圳市罗湖区"), report("zhejiang", "浙江省"), report("page", "")])
    assert library.unplaced == {"page"}
    query = analyse("罗湖2020年财政收入是多少？", library=library)
    assert query.regions == ("深圳市罗湖区",)
    assert "罗湖" in query.tokens
    assert Answerer.scope(SimpleNamespace(library=library), query, None) == {"luohu", "page"}
    placed = Library([report("luohu", "深圳市罗湖区"), report("zhejiang", "浙江省")])
    assert "罗湖" not in analyse("罗湖2020年财政收入是多少？", library=placed).tokens


def test_a_glossary_key_the_segmenter_cuts_across_is_kept_whole() -> None:
    # 「社零增长」 alone is cut 社 / 零增长 (zero growth); the question is read as 社零 / 增长.
    assert "零增长" in tokenize(normalize("去年浙江社零增长了多少？"))
    whole = analyse("去年浙江社零增长了多少？")
    assert "社零" in whole.tokens and "零增长" not in whole.tokens
    # A key inside a longer word (失业 in 失业率) is left to the word.
    assert analyse("城镇调查失业率要控制在多少？").tokens == tuple(
        tokenize(normalize("城镇调查失业率要控制在多少？"))
    )
