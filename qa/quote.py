"""Quoting: ranked hits in, the best 1–3 sentences (exact slices of their paragraphs) out.

Sentences are cut at 。！？ (and at ；/; when a sentence runs long, since report sentences are
often long lists of clauses). Each candidate sentence from the top passages is scored by how much
of the question's weighted vocabulary it covers, plus a share of its passage's rank and a bonus
when the question asks for a figure or a list and the sentence holds one. The same sentence is never
quoted twice: the 2021 report states many facts twice (a summary and the full section), so
near-identical sentences are merged and the first (best-ranked) one is kept.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from index.normalize import normalize
from index.store import StoredIndex
from index.structure import Paragraph
from index.tokens import tokenize
from qa.analyse import Query
from qa.fuse import Hit

# Full-width ends only: the reports write Chinese punctuation, and an ASCII "?" in them is a
# middle dot lost in conversion (「垃圾不落地?罗湖更美丽」), not the end of a sentence.
SENTENCE = re.compile(r"[^。！？]*(?:[。！？]+[”\"’）)]*|$)")
CLAUSE = re.compile(r"[^；;]*(?:[；;]|$)")
LONG_SENTENCE = 90
# A sentence this short is a run-in heading or a lead-in (「复工复产强力推进。」): it is quoted
# together with the sentence after it, never alone.
SHORT_SENTENCE = 12
FIGURE = re.compile(r"\d")
# A list: three or more items joined by 、, clauses marked 一是/二是, or items cut by semicolons.
ENUMERATION = re.compile(r"、[^、]*、|[一二三四五六七八九]是|[；;]")
CANDIDATE_PASSAGES = 5


@dataclass(frozen=True)
class Sentence:
    paragraph: Paragraph
    start: int  # offsets into paragraph.text
    end: int
    hit_rank: int  # rank of the passage it came from (0 = best)
    score: float
    coverage: float  # share of the question's weighted terms in the sentence itself

    @property
    def text(self) -> str:
        return self.paragraph.text[self.start : self.end]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of ``text``, white space trimmed.

    Long sentences are cut at ；, and a short one is joined to the sentence after it.
    """
    spans: list[tuple[int, int]] = []
    for match in SENTENCE.finditer(text):
        start, end = match.span()
        if end <= start:
            continue
        pieces = [(start, end)]
        if end - start > LONG_SENTENCE:
            pieces = [
                (start + m.start(), start + m.end())
                for m in CLAUSE.finditer(text[start:end])
                if m.end() > m.start()
            ]
        for piece_start, piece_end in pieces:
            raw = text[piece_start:piece_end]
            lead = len(raw) - len(raw.lstrip())
            trail = len(raw) - len(raw.rstrip())
            if piece_end - trail > piece_start + lead:
                spans.append((piece_start + lead, piece_end - trail))
    merged: list[tuple[int, int]] = []
    pending: int | None = None
    for start, end in spans:
        start = start if pending is None else pending
        if end - start < SHORT_SENTENCE and (start, end) != spans[-1]:
            pending = start
            continue
        pending = None
        merged.append((start, end))
    return merged


class TermWeights:
    """Inverse document frequency of each token over the indexed chunks."""

    def __init__(self, stored: StoredIndex) -> None:
        # bm25s keeps a CSC matrix with one column per token: the column length is the number
        # of chunks holding the token. Its placeholder empty token has no column.
        indptr = stored.bm25.scores["indptr"]
        total = len(stored.chunks)
        self._idf = {
            token: math.log(1 + (total - df + 0.5) / (df + 0.5))
            for token, token_id in stored.bm25.vocab_dict.items()
            if token_id + 1 < len(indptr) and (df := int(indptr[token_id + 1] - indptr[token_id])) > 0
        }
        self._unseen = math.log(1 + (total + 0.5) / 0.5)
        # Words shared by every report's title (罗湖区, 政府工作报告) name the corpus, not a passage:
        # they carry no weight in coverage, or any sentence naming the district would look relevant.
        # Years stay: they tell the reports apart.
        titles = [set(tokenize(normalize(report.title))) for report in stored.reports.values()]
        self._subject = {t for t in set.intersection(*titles) if not t.isdigit()} if titles else set()

        self._tokens: dict[str, frozenset[str]] = {}
        self._vocabulary = stored.bm25.vocab_dict
        self._holders = (indptr, stored.bm25.scores["indices"], total)

    def tokens(self, text: str) -> frozenset[str]:
        """Search tokens of an indexed text (sentence, section, chunk), memoised: the corpus is fixed,
        so the cache is bounded by its size."""
        found = self._tokens.get(text)
        if found is None:
            found = self._tokens[text] = frozenset(tokenize(normalize(text)))
        return found

    def weight(self, token: str) -> float:
        if token in self._subject:
            return 0.0
        return self._idf.get(token, self._unseen)

    def topical(self, query: Query) -> np.ndarray | None:
        """Which chunks hold a word of the question other than its years and the corpus's subject
        (or a glossary term standing for one); None when the reports know no such word of it."""
        indptr, indices, total = self._holders
        words = [t for t in (*query.tokens, *query.expansions) if not t.isdigit() and t not in self._subject]
        ids = [self._vocabulary[t] for t in words if t in self._vocabulary]
        if not ids:
            return None
        mask = np.zeros(total, dtype=bool)
        for token_id in ids:
            if token_id + 1 < len(indptr):
                mask[indices[indptr[token_id] : indptr[token_id + 1]]] = True
        return mask

    def covered(self, query: Query, text_tokens: frozenset[str] | set[str]) -> set[str]:
        """The question's tokens that occur in the text, themselves or as one of their glossary terms."""
        alternatives = dict(query.alternatives)
        return {
            t
            for t in set(query.tokens)
            if t in text_tokens or any(term <= text_tokens for term in alternatives.get(t, ()))
        }

    def coverage(self, query: Query, text_tokens: frozenset[str] | set[str]) -> float:
        """Share of the question's IDF mass whose tokens (or their glossary terms) occur in the text."""
        total = sum(self.weight(t) for t in set(query.tokens))
        if total == 0:
            return 0.0
        return sum(self.weight(t) for t in self.covered(query, text_tokens)) / total


def answer_bonus(query: Query, text: str) -> float:
    """A lift for a sentence holding the kind of answer the question asks for: a figure for 多少, a
    list for 哪些 (chosen on the tune splits: 0.2 lifted quote@1 on ours from 0.764 to 0.809)."""
    if query.kind == "figure" and FIGURE.search(text):
        return 0.15
    if query.kind == "list" and ENUMERATION.search(text):
        return 0.2
    return 0.0


def _bigrams(text: str) -> set[str]:
    compact = re.sub(r"[\W_]+", "", normalize(text))
    return {compact[i : i + 2] for i in range(len(compact) - 1)} or {compact}


def is_duplicate(a: str, b: str, threshold: float = 0.6) -> bool:
    """True when two sentences state the same thing (character-bigram overlap of the shorter)."""
    grams_a, grams_b = _bigrams(a), _bigrams(b)
    overlap = len(grams_a & grams_b) / max(1, min(len(grams_a), len(grams_b)))
    return overlap >= threshold


def candidate_sentences(
    stored: StoredIndex, query: Query, hits: list[Hit], weights: TermWeights
) -> list[Sentence]:
    """Scored sentences overlapping the top passages, best first, no sentence twice."""
    seen: set[tuple[str, int, int]] = set()
    scored: list[Sentence] = []
    for rank, hit in enumerate(hits[:CANDIDATE_PASSAGES]):
        chunk = stored.chunks[hit.chunk]
        paragraph = stored.paragraphs[(chunk.doc_id, chunk.paragraph)]
        context_tokens = weights.tokens(paragraph.section)
        for start, end in sentence_spans(paragraph.text):
            if end <= chunk.start or start >= chunk.end:
                continue
            key = (paragraph.doc_id, paragraph.number, start)
            if key in seen:
                continue
            seen.add(key)
            text = paragraph.text[start:end]
            tokens = weights.tokens(text)
            own = weights.coverage(query, tokens)
            with_context = weights.coverage(query, tokens | context_tokens)
            score = own + 0.3 * with_context + 0.25 / (1 + rank) + answer_bonus(query, text)
            if len(text) < 6:  # a bare run-in heading is a title, not an answer
                score -= 0.5
            scored.append(Sentence(paragraph, start, end, rank, score, own))
    scored.sort(key=lambda s: -s.score)
    return scored


def choose_quotes(
    candidates: list[Sentence], max_quotes: int, keep_ratio: float = 0.75, coverage_ratio: float = 0.6
) -> list[Sentence]:
    """The best sentence, plus up to ``max_quotes - 1`` more that score close to it, cover the question
    nearly as well on their own (a passage's rank or its section title cannot carry a sentence that
    says nothing about the question), and say something new."""
    chosen: list[Sentence] = []
    for sentence in candidates:
        if len(chosen) == max_quotes:
            break
        if chosen and sentence.score < keep_ratio * chosen[0].score:
            break
        if chosen and sentence.coverage < coverage_ratio * chosen[0].coverage:
            continue
        if any(is_duplicate(sentence.text, other.text) for other in chosen):
            continue
        chosen.append(sentence)
    return chosen
