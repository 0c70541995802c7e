"""Retrieval: a ``Query`` (and its vector) in, per-chunk BM25 and dense scores out.

Both retrievers score every chunk — the corpora here are thousands of chunks, where exact
scoring costs well under a millisecond — so fusion sees full rankings, not two truncated lists.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.store import StoredIndex
from qa.analyse import Query


@dataclass(frozen=True)
class Scores:
    bm25: np.ndarray  # one BM25 score per chunk (0 where no query token occurs)
    dense: np.ndarray  # one cosine similarity per chunk


def bm25_scores(stored: StoredIndex, query: Query) -> np.ndarray:
    count = len(stored.chunks)
    known = [t for t in query.tokens if t in stored.bm25.vocab_dict]
    if not known:
        return np.zeros(count, dtype=np.float32)
    return np.asarray(stored.bm25.get_scores(known), dtype=np.float32)


def dense_scores(stored: StoredIndex, query_vector: np.ndarray) -> np.ndarray:
    count = len(stored.chunks)
    similarities, ids = stored.dense.search(query_vector.reshape(1, -1), count)
    scores = np.zeros(count, dtype=np.float32)
    valid = ids[0] >= 0
    scores[ids[0][valid]] = similarities[0][valid]
    return scores


def retrieve(stored: StoredIndex, query: Query, query_vector: np.ndarray | None) -> Scores:
    bm25 = bm25_scores(stored, query)
    dense = dense_scores(stored, query_vector) if query_vector is not None else np.zeros_like(bm25)
    return Scores(bm25, dense)
