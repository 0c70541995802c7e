"""Passages: ranked chunk hits in, ranked paragraph windows out.

In: fused ``Hit`` objects (chunks, best first) and the analysed question.
Out: ``Window`` objects, best first: each an exact slice ``paragraph.text[start:end]``
of whole sentences, at most ``max_chars`` long (a shorter paragraph is shown whole, a longer
single sentence alone).

Chunks are the unit of search: small, so BM25 and the embedding see one topic at a time. They make
poor passages to show, though: a 160-character chunk cuts its paragraph mid-list, two overlapping
chunks of one paragraph repeat each other, and the sentence that answers often sits in the
neighbouring chunk (「……风险代偿资金池」 in one, 「促进企业新增融资7.6亿元」 in the next). So a
paragraph is shown, at the rank of its best chunk, as the window of sentences around the sentence that
covers the question best; its later chunks add only sentences not shown yet, and its unshown rest
competes with the remaining chunks at a share of its score (``continuation_factor``).
"""

from __future__ import annotations

from dataclasses import dataclass

from index.store import StoredIndex
from index.structure import Paragraph
from qa.analyse import Query
from qa.fuse import Hit
from qa.quote import TermWeights, answer_bonus, sentence_spans


@dataclass(frozen=True)
class Window:
    paragraph: Paragraph
    start: int  # offsets into paragraph.text
    end: int
    score: float  # the fused score of the chunk it was shown for

    @property
    def text(self) -> str:
        return self.paragraph.text[self.start : self.end]


def best_window(
    paragraph: Paragraph,
    query: Query,
    weights: TermWeights,
    max_chars: int,
    shown: set[int] | None = None,
    within: tuple[int, int] | None = None,
) -> tuple[int, int, set[int]] | None:
    """(start, end, sentence indices) of the sentences around the one covering the question best.

    The window starts from the best sentence not yet ``shown`` (and overlapping ``within``, a chunk's
    offsets, when given) and grows one unshown sentence at a time towards the neighbour that covers
    more of the question (the earlier one on a tie, usually the lead-in), while it fits in
    ``max_chars``. None when no sentence is left to show.
    """
    text = paragraph.text
    spans = sentence_spans(text) or [(0, len(text))]
    shown = shown or set()
    if not shown and len(text) <= max_chars:
        return 0, len(text), set(range(len(spans)))

    def score(index: int) -> float:
        sentence = text[spans[index][0] : spans[index][1]]
        return weights.coverage(query, weights.tokens(sentence)) + answer_bonus(query, sentence)

    seeds = [
        i
        for i, (start, end) in enumerate(spans)
        if i not in shown and (within is None or (start < within[1] and end > within[0]))
    ]
    if not seeds:
        return None
    scores = {i: score(i) for i in range(len(spans)) if i not in shown}
    low = high = max(seeds, key=scores.__getitem__)
    while True:
        options = []
        if low - 1 in scores:
            options.append((scores[low - 1], 1, low - 1, high))
        if high + 1 in scores:
            options.append((scores[high + 1], 0, low, high + 1))
        fitting = [o for o in options if spans[o[3]][1] - spans[o[2]][0] <= max_chars]
        if not fitting:
            break
        _, _, low, high = max(fitting)
    return spans[low][0], spans[high][1], set(range(low, high + 1))


def windows(
    stored: StoredIndex,
    query: Query,
    hits: list[Hit],
    weights: TermWeights,
    max_chars: int,
    limit: int,
    continuation: float = 0.0,
) -> list[Window]:
    """Up to ``limit`` windows, best first.

    A paragraph's first chunk gives its best window; a later chunk of the same paragraph gives a window
    only of sentences not shown yet (so a long paragraph whose answer lies past the first window is not
    lost, and nothing is shown twice). The rest of a shown paragraph also competes as a passage of its
    own at ``continuation`` times the score it was shown with: the sentence that answers often shares
    no word with the question (「生活习性是什么样的」 → 「栖息于……」), so no chunk of it ranks, while the
    paragraph it belongs to far outranks every other. With ``max_chars`` 0 the chunks themselves are
    the passages (for the ablation).
    """
    found: list[Window] = []
    shown: dict[tuple[str, int], set[int]] = {}
    rests: list[tuple[float, tuple[str, int]]] = []  # (score, paragraph key) of shown paragraphs' rests

    def show(key: tuple[str, int], score: float, within: tuple[int, int] | None) -> None:
        paragraph = stored.paragraphs[key]
        window = best_window(paragraph, query, weights, max_chars, shown.get(key), within)
        if window is None:
            return
        start, end, sentences = window
        shown.setdefault(key, set()).update(sentences)
        found.append(Window(paragraph, start, end, score))
        if continuation > 0:
            rests.append((score * continuation, key))

    def show_rests(above: float) -> None:
        while rests and len(found) < limit:
            best = max(rests)
            if best[0] < above:
                return
            rests.remove(best)
            show(best[1], best[0], None)

    for hit in hits:
        show_rests(hit.score)
        if len(found) == limit:
            break
        chunk = stored.chunks[hit.chunk]
        key = (chunk.doc_id, chunk.paragraph)
        if not max_chars:
            found.append(Window(stored.paragraphs[key], chunk.start, chunk.end, hit.score))
            continue
        show(key, hit.score, (chunk.start, chunk.end) if key in shown else None)
    show_rests(0.0)
    return found
