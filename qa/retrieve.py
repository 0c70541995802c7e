"""Retrieval: a ``Query`` (and its vector) in, per-chunk BM25 and dense scores out.

BM25 scores every chunk holding a question word. Dense scores every chunk exactly in a library of up
to ``index.store.EXACT_LIMIT`` chunks (tens of reports: exact scoring costs well under a millisecond
and fusion sees the full ranking); above it the index is approximate (``index.store.dense_index``)
and returns its best ``DENSE_K`` chunks, the rest scoring as the ``DENSE_K``-th, which fusion's
min-max scaling turns into nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.store import EXACT_LIMIT, StoredIndex
from qa.analyse import Query

DENSE_K = 1000  # chunks the approximate index returns above EXACT_LIMIT


@dataclass(frozen=True)
class Scores:
    bm25: np.ndarray  # one BM25 score per chunk (0 where no query token occurs)
    dense: np.ndarray  # one cosine similarity per chunk


def bm25_scores(stored: StoredIndex, query: Query, expansion_weight: float = 1.0) -> np.ndarray:
    """BM25 of the question's own tokens, plus its glossary expansions at ``expansion_weight``.

    Expansions are scored apart so a report term standing in for the user's word never outweighs
    the words the user actually typed.
    """
    scores = np.zeros(len(stored.chunks), dtype=np.float32)
    for tokens, weight in ((query.tokens, 1.0), (query.expansions, expansion_weight)):
        known = [t for t in tokens if t in stored.bm25.vocab_dict]
        if known and weight > 0:
            scores += weight * np.asarray(stored.bm25.get_scores(known), dtype=np.float32)
    return scores


def dense_scores(stored: StoredIndex, query_vector: np.ndarray) -> np.ndarray:
    count = len(stored.chunks)
    k = count if count <= EXACT_LIMIT else min(DENSE_K, count)
    similarities, ids = stored.dense.search(query_vector.reshape(1, -1), k)
    valid = ids[0] >= 0
    floor = float(similarities[0][valid].min()) if count > EXACT_LIMIT and valid.any() else 0.0
    scores = np.full(count, floor, dtype=np.float32)
    scores[ids[0][valid]] = similarities[0][valid]
    return scores


def retrieve(
    stored: StoredIndex, query: Query, query_vector: np.ndarray | None, expansion_weight: float = 1.0
) -> Scores:
    bm25 = bm25_scores(stored, query, expansion_weight)
    dense = dense_scores(stored, query_vector) if query_vector is not None else np.zeros_like(bm25)
    return Scores(bm25, dense)
