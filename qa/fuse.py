"""Fusion: BM25 and dense scores in, one ranked list of ``Hit`` objects out.

Weighted fusion, by rank (``rrf``: each retriever contributes ``weight / (rrf_k + rank)``) or by
score (``score``: BM25 over its maximum plus weighted min-max-scaled cosine). BM25 is
weighted above dense because on these reports exact terms (figures, names, programme titles)
decide most questions; dense adds chunks that say the same thing in other words. A chunk that
shares no term with the question gets nothing from BM25 rather than a rank.

A chunk that holds none of the question's words but its years and the corpus's subject (罗湖区) is
demoted (``off_topic_factor``): 「2021年罗湖将重点推进六方面工作:」 matches 「2021年罗湖的养老有什么安排」 on
two frequent words and, being short, outscores the paragraphs about 养老.

Then year steering: a question that names a year (or 去年/今年) multiplies the scores of chunks
from the report covering that year, and a little more where the chunk's period (review/plan)
matches too.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from index.settings import Settings
from index.store import StoredIndex
from qa.analyse import Query
from qa.retrieve import Scores


@dataclass(frozen=True)
class Hit:
    chunk: int  # index into StoredIndex.chunks
    score: float  # fused score
    bm25: float
    dense: float


def ranks(scores: np.ndarray) -> np.ndarray:
    """1-based rank of every element, best first (ties broken by position, deterministically)."""
    order = np.argsort(-scores, kind="stable")
    result = np.empty(len(scores), dtype=np.int64)
    result[order] = np.arange(1, len(scores) + 1)
    return result


def target_periods(stored: StoredIndex, query: Query) -> dict[str, set[str]]:
    """Report id → the periods ("review"/"plan") the question's years point to in that report."""
    wanted: dict[str, set[str]] = {}
    for report in stored.reports.values():
        years = set(query.years)
        # 去年/今年 are relative to each report's own year.
        years.update(report.year + offset for offset in query.relative)
        for year in years:
            if year == report.reviews:
                wanted.setdefault(report.doc_id, set()).add("review")
            if year in report.plans:
                wanted.setdefault(report.doc_id, set()).add("plan")
        # “十四五”: the report that reviews that five-year period, or sets it out.
        for period in query.periods:
            if period == report.review_period:
                wanted.setdefault(report.doc_id, set()).add("review")
            if period == report.plan_period:
                wanted.setdefault(report.doc_id, set()).add("plan")
    if query.relative and not query.years:
        # 去年 alone fits every report; it only tells the period, not the report.
        return {}
    return wanted


@dataclass(frozen=True)
class Columns:
    """Each chunk's report and paragraph period as small integers (computed once per index): the
    per-question masks are then array lookups, not comparisons of a million strings."""

    codes: dict[str, int]  # report id → code
    doc: np.ndarray  # chunk → report code (int32)
    period: np.ndarray  # chunk → index into PERIODS (int8)

    def in_reports(self, wanted: Iterable[str]) -> np.ndarray:
        """Which chunks belong to the reports ``wanted``."""
        chosen = np.zeros(len(self.codes), dtype=bool)
        chosen[[self.codes[d] for d in wanted if d in self.codes]] = True
        return chosen[self.doc]

    def of_periods(self, wanted: Iterable[str]) -> np.ndarray:
        chosen = np.zeros(len(PERIODS), dtype=bool)
        chosen[[PERIODS.index(p) for p in wanted if p in PERIODS]] = True
        return chosen[self.period]


PERIODS = ("review", "plan", "unknown", "")
# Per loaded index, weakly held so a replaced index is freed with its table.
_COLUMNS: weakref.WeakKeyDictionary[StoredIndex, Columns] = weakref.WeakKeyDictionary()


def chunk_columns(stored: StoredIndex) -> Columns:
    if stored not in _COLUMNS:
        doc_ids = tuple(stored.reports)
        codes = {doc_id: code for code, doc_id in enumerate(doc_ids)}
        doc = np.fromiter((codes[c.doc_id] for c in stored.chunks), dtype=np.int32, count=len(stored.chunks))
        period = np.fromiter(
            (
                PERIODS.index(p) if (p := stored.paragraphs[(c.doc_id, c.paragraph)].period) in PERIODS else 3
                for c in stored.chunks
            ),
            dtype=np.int8,
            count=len(stored.chunks),
        )
        _COLUMNS[stored] = Columns(codes, doc, period)
    return _COLUMNS[stored]


def year_multipliers(stored: StoredIndex, query: Query, boost: float, period_boost: float) -> np.ndarray:
    multipliers = np.ones(len(stored.chunks), dtype=np.float32)
    wanted = target_periods(stored, query)
    if not wanted and query.period == "unknown":
        return multipliers
    columns = chunk_columns(stored)
    # Per report, then looked up per chunk: a year every copy of a thousand reports covers costs
    # two array lookups, not a pass over all chunks for each report.
    targeted = np.zeros(len(columns.codes), dtype=bool)
    in_period = np.zeros((len(columns.codes), len(PERIODS)), dtype=bool)
    for doc_id, doc_periods in wanted.items():
        code = columns.codes[doc_id]
        targeted[code] = True
        in_period[code, [PERIODS.index(p) for p in doc_periods if p in PERIODS]] = True
    chunk_targeted = targeted[columns.doc]
    multipliers[chunk_targeted] = boost
    multipliers[in_period[columns.doc, columns.period]] = boost * period_boost
    if query.period != "unknown":
        multipliers[~chunk_targeted & columns.of_periods([query.period])] = period_boost
    return multipliers


def fused_scores(scores: Scores, settings: Settings) -> np.ndarray:
    """One score per chunk from the two retrievers, by ``settings.fusion``."""
    fused = np.zeros(len(scores.bm25), dtype=np.float64)
    has_term = scores.bm25 > 0
    if settings.fusion == "rrf":
        fused[has_term] += settings.bm25_weight / (settings.rrf_k + ranks(scores.bm25)[has_term])
        if scores.dense.any():
            fused += settings.dense_weight / (settings.rrf_k + ranks(scores.dense))
        return fused
    # "score": BM25 scaled to its best chunk, cosine scaled over the chunks' range; unlike ranks,
    # scores keep the margin by which BM25's first chunk beats its second.
    if has_term.any():
        fused += settings.bm25_weight * scores.bm25 / scores.bm25.max()
    if scores.dense.any():
        low, high = float(scores.dense.min()), float(scores.dense.max())
        if high > low:
            fused += settings.dense_weight * (scores.dense - low) / (high - low)
    return fused


def fuse(
    stored: StoredIndex,
    query: Query,
    scores: Scores,
    settings: Settings,
    topical: np.ndarray | None = None,
    limit: int | None = None,
    doc_ids: frozenset[str] | None = None,
) -> list[Hit]:
    """The chunks with a positive fused score (the best ``limit`` of them if given, only from the
    reports in ``doc_ids`` if given), best first."""
    fused = fused_scores(scores, settings)
    if doc_ids is not None:
        fused[~chunk_columns(stored).in_reports(doc_ids)] = 0.0
    if topical is not None:
        fused[~topical] *= settings.off_topic_factor
    fused *= year_multipliers(stored, query, settings.year_boost, settings.period_boost)
    candidates = np.flatnonzero(fused > 0)
    if limit is not None and len(candidates) > limit:
        # Dense gives nearly every chunk a positive score: making thousands of Hit objects took
        # longer than the search itself (9 ms a question on CMRC's 3,853 chunks).
        candidates = candidates[np.argpartition(-fused[candidates], limit - 1)[:limit]]
    # Best first; equal scores in chunk order, as a stable sort of all chunks would give.
    candidates = candidates[np.lexsort((candidates, -fused[candidates]))]
    return [Hit(int(i), float(fused[i]), float(scores.bm25[i]), float(scores.dense[i])) for i in candidates]
