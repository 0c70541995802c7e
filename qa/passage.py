"""Passages: ranked chunk hits in, ranked paragraph windows out.

In: fused ``Hit`` objects (chunks, best first) and the analysed question.
Out: ``Window`` objects, one per paragraph, best first: an exact slice ``paragraph.text[start:end]``
of whole sentences, at most ``max_chars`` long (a shorter paragraph is shown whole, a longer
single sentence alone).

Chunks are the unit of search: small, so BM25 and the embedding see one topic at a time. They make
poor passages to show, though: a 160-character chunk cuts its paragraph mid-list, two overlapping
chunks of one paragraph take two of the five places, and the sentence that answers often sits in the
neighbouring chunk (「……风险代偿资金池」 in one, 「促进企业新增融资7.6亿元」 in the next). So each
paragraph is ranked by its best chunk and shown as the window of sentences around the sentence that
covers the question best.
"""

from __future__ import annotations

from dataclasses import dataclass

from index.store import StoredIndex
from index.structure import Paragraph
from qa.analyse import Query
from qa.fuse import Hit
from qa.quote import FIGURE, TermWeights, sentence_spans


@dataclass(frozen=True)
class Window:
    paragraph: Paragraph
    start: int  # offsets into paragraph.text
    end: int
    score: float  # the fused score of the paragraph's best chunk

    @property
    def text(self) -> str:
        return self.paragraph.text[self.start : self.end]


def best_window(paragraph: Paragraph, query: Query, weights: TermWeights, max_chars: int) -> tuple[int, int]:
    """(start, end) of the sentences around the one covering the question best, within ``max_chars``.

    The window grows one sentence at a time towards the neighbour that covers more of the question
    (the earlier one on a tie, which is usually the lead-in), while it still fits.
    """
    text = paragraph.text
    spans = sentence_spans(text)
    if len(text) <= max_chars or not spans:
        return 0, len(text)

    def score(span: tuple[int, int]) -> float:
        sentence = text[span[0] : span[1]]
        bonus = 0.15 if query.kind == "figure" and FIGURE.search(sentence) else 0.0
        return weights.coverage(query, weights.tokens(sentence)) + bonus

    scores = [score(span) for span in spans]
    low = high = max(range(len(spans)), key=scores.__getitem__)
    while True:
        options = []
        if low > 0:
            options.append((scores[low - 1], 1, low - 1, high))
        if high < len(spans) - 1:
            options.append((scores[high + 1], 0, low, high + 1))
        fitting = [o for o in options if spans[o[3]][1] - spans[o[2]][0] <= max_chars]
        if not fitting:
            break
        _, _, low, high = max(fitting)
    return spans[low][0], spans[high][1]


def windows(
    stored: StoredIndex, query: Query, hits: list[Hit], weights: TermWeights, max_chars: int, limit: int
) -> list[Window]:
    """Up to ``limit`` paragraphs in the order of their best chunk, each as its best window.

    With ``max_chars`` 0 the chunks themselves are the passages (for the ablation).
    """
    found: list[Window] = []
    seen: set[tuple[str, int]] = set()
    for hit in hits:
        if len(found) == limit:
            break
        chunk = stored.chunks[hit.chunk]
        key = (chunk.doc_id, chunk.paragraph)
        paragraph = stored.paragraphs[key]
        if not max_chars:
            found.append(Window(paragraph, chunk.start, chunk.end, hit.score))
            continue
        if key in seen:
            continue
        seen.add(key)
        start, end = best_window(paragraph, query, weights, max_chars)
        found.append(Window(paragraph, start, end, hit.score))
    return found
