"""Every metric checked against values computed by hand."""

from __future__ import annotations

import math

import pytest

from eval.metrics import hit_at_k, ndcg_at_k, percentile, quote_accuracy, reciprocal_rank, refusal_scores

A, B, C, D = ("r", 1), ("r", 2), ("r", 3), ("r", 4)


def test_hit_at_k() -> None:
    passages = ["财政收入增长", "一般公共预算收入137亿元", "其他"]
    assert not hit_at_k(passages, ["137亿元"], 1)
    assert hit_at_k(passages, ["137亿元"], 2)
    assert not hit_at_k(passages, ["999"], 5)
    assert not hit_at_k(passages, [""], 5)  # an empty span never counts
    assert not hit_at_k([], ["x"], 5)


def test_reciprocal_rank() -> None:
    ranking = [{A}, {B}, {C}]
    assert reciprocal_rank(ranking, {C}) == pytest.approx(1 / 3)
    assert reciprocal_rank(ranking, {A, C}) == 1.0
    assert reciprocal_rank(ranking, {D}) == 0.0
    assert reciprocal_rank(ranking, {C}, k=2) == 0.0
    assert reciprocal_rank([{A, B}], {B}) == 1.0  # a long passage covering the gold


def test_ndcg_by_hand() -> None:
    # Gold {B, D}; ranking A, B, C, D → DCG = 1/log2(3) + 1/log2(5); IDCG = 1 + 1/log2(3).
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k([{A}, {B}, {C}, {D}], {B, D}) == pytest.approx(expected)
    assert ndcg_at_k([{B}, {D}], {B, D}) == pytest.approx(1.0)
    # The same paragraph twice earns once.
    assert ndcg_at_k([{A}, {B}, {B}], {B}) == pytest.approx(1 / math.log2(3))
    # One passage covering both gold paragraphs at rank 1: 2 / (1 + 1/log2 3), capped at 1.
    assert ndcg_at_k([{B, D}], {B, D}) == 1.0
    assert ndcg_at_k([{A}], set()) == 0.0


def test_quote_accuracy() -> None:
    assert quote_accuracy(["收入137亿元。", "其他"], ["137亿元"]) == (True, True)
    assert quote_accuracy(["其他", "收入137亿元。"], ["137亿元"]) == (False, True)
    assert quote_accuracy([], ["137亿元"]) == (False, False)


def test_refusal_scores_by_hand() -> None:
    # 3 unanswerable (2 refused), 4 answerable (1 wrongly refused): precision 2/3, recall 2/3, FRR 1/4.
    answerable = [False, False, False, True, True, True, True]
    found = [False, False, True, False, True, True, True]
    scores = refusal_scores(answerable, found)
    assert scores["refusal_precision"] == pytest.approx(2 / 3)
    assert scores["refusal_recall"] == pytest.approx(2 / 3)
    assert scores["false_refusal_rate"] == pytest.approx(1 / 4)
    assert refusal_scores([True], [True]) == {
        "refusal_precision": 0.0,
        "refusal_recall": 0.0,
        "false_refusal_rate": 0.0,
    }


def test_percentile() -> None:
    assert percentile([10, 20, 30, 40], 50) == pytest.approx(25)
    assert percentile([10, 20, 30, 40], 95) == pytest.approx(38.5)
    assert percentile([7], 95) == 7 and percentile([], 50) == 0.0


def test_cmrc_questions_split_by_article_into_tune_and_held_out(tmp_path) -> None:
    from eval.dataset import CMRC, prepare_cmrc

    items = prepare_cmrc(CMRC, tmp_path / "corpus", limit=4)
    by_article = {}
    for item in items:
        by_article.setdefault(item.gold[0].report, set()).add(item.split)
    # Every article's questions stay together; articles alternate between the splits.
    assert all(len(splits) == 1 for splits in by_article.values())
    assert [next(iter(s)) for s in by_article.values()] == ["tune", "test", "tune", "test"]
    assert len(list((tmp_path / "corpus").glob("*.txt"))) == 4  # both splits search every paragraph


def test_withheld_answers_are_never_retrieved(answerer, fake_settings, fake_embedder) -> None:
    """The near-miss measure: with every paragraph holding the answer withheld, none is shown."""
    from eval.dataset import EvalItem
    from eval.systems import Withholding, answer_paragraphs

    question = "2020年罗湖区一般公共预算收入是多少？"
    shown = answerer.ask(question).passages[0]
    span = shown.text[:12]
    item = EvalItem("x", question, None, "figure", True, (span,), (), "tune")
    withheld = answer_paragraphs(item, answerer.stored)
    assert (shown.doc_id, shown.paragraph) in withheld
    assert all(span in answerer.stored.paragraphs[key].text for key in withheld)

    withholding = Withholding(fake_settings, stored=answerer.stored, embedder=fake_embedder)
    withholding.withheld = withheld
    for top_k in (1, 5):
        answer = withholding.ask(question, top_k=top_k)
        assert len(answer.passages) == top_k
        assert not {(p.doc_id, p.paragraph) for p in answer.passages} & withheld
        assert not any(span in p.text for p in answer.passages)


def test_near_miss_signals_match_what_the_refusal_checks(answerer) -> None:
    """eval.near_miss reads the sentence the pipeline would quote first: it has signals exactly when the
    pipeline answers, and its 'context' signal is the coverage found_threshold is held to."""
    from eval.near_miss import refused_at, signals

    assert refused_at([0.2, 0.5, 0.9], [0.1, 0.3, 0.6, 0.95], [0, 1, 2, 5]) == [1, 2, 3, 4]
    questions = [
        "2020年罗湖区一般公共预算收入是多少？",
        "2014年三公经费下降了多少？",
        "2030年罗湖区一般公共预算收入是多少？",
        "量子纠缠的贝尔不等式",
    ]
    outcomes = []
    for question in questions:
        found = signals(answerer, question)
        outcomes.append(found is not None)
        assert outcomes[-1] == answerer.ask(question).found, question
        if found is not None:
            assert found["context"] >= answerer.settings.found_threshold
            assert found["paragraph"] >= found["context"] >= found["sentence"]
    assert True in outcomes and False in outcomes
