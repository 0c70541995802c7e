"""Metrics as pure functions: rankings and answers in, numbers out.

A ranking is a list of passages, best first; each passage is the set of paragraph ids it covers
(one for a chunk, several for a long LangChain chunk) plus its text. Paragraph-level metrics
(MRR@10, nDCG@10) count a gold paragraph once, at the first passage that covers it, so a system
is not rewarded for returning the same paragraph twice.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

ParagraphId = tuple[str, int]


def contains_answer(text: str, answers: Iterable[str]) -> bool:
    return any(span and span in text for span in answers)


def hit_at_k(passage_texts: Sequence[str], answers: Sequence[str], k: int) -> bool:
    """Whether one of the top ``k`` passages holds an answer span verbatim."""
    return any(contains_answer(text, answers) for text in passage_texts[:k])


def reciprocal_rank(ranking: Sequence[set[ParagraphId]], gold: set[ParagraphId], k: int = 10) -> float:
    """1 / rank of the first passage covering a gold paragraph within the top ``k``, else 0."""
    for rank, covered in enumerate(ranking[:k], start=1):
        if covered & gold:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranking: Sequence[set[ParagraphId]], gold: set[ParagraphId], k: int = 10) -> float:
    """Binary-relevance nDCG: gain 1 for each gold paragraph at the first rank that covers it.

    The ideal ranking puts one gold paragraph at each of the first ``min(len(gold), k)`` ranks. A
    passage covering several gold paragraphs earns each of them at its rank (capped at 1 overall).
    """
    if not gold:
        return 0.0
    seen: set[ParagraphId] = set()
    dcg = 0.0
    for rank, covered in enumerate(ranking[:k], start=1):
        new = (covered & gold) - seen
        seen |= new
        dcg += len(new) / math.log2(rank + 1)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(gold), k) + 1))
    return min(1.0, dcg / ideal)


def quote_accuracy(quotes: Sequence[str], answers: Sequence[str]) -> tuple[bool, bool]:
    """(first quote holds an answer span, any quote does)."""
    first = bool(quotes) and contains_answer(quotes[0], answers)
    return first, any(contains_answer(q, answers) for q in quotes)


def refusal_scores(answerable: Sequence[bool], found: Sequence[bool]) -> dict[str, float]:
    """Precision and recall of refusing (found = False) on unanswerable questions, and the rate of
    answerable questions wrongly refused."""
    refused_unanswerable = sum(1 for a, f in zip(answerable, found, strict=True) if not a and not f)
    refused = sum(1 for f in found if not f)
    unanswerable = sum(1 for a in answerable if not a)
    answerable_count = sum(1 for a in answerable if a)
    wrongly_refused = sum(1 for a, f in zip(answerable, found, strict=True) if a and not f)
    return {
        "refusal_precision": refused_unanswerable / refused if refused else 0.0,
        "refusal_recall": refused_unanswerable / unanswerable if unanswerable else 0.0,
        "false_refusal_rate": wrongly_refused / answerable_count if answerable_count else 0.0,
    }


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) with linear interpolation; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0
