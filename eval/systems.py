"""The systems compared: the project's pipeline and four baselines a user might build instead.

In: an index (chunks, BM25, FAISS) and a question. Out: a ``Prediction``: ranked passages (text
and the paragraph ids each covers), quotes, whether it claims an answer, and citation integrity.

Baselines 1–3 rank the project's own chunks, so hit@k compares like with like. Baseline 4, the
common LangChain recipe, splits each report file with ``RecursiveCharacterTextSplitter()`` at its
defaults (4,000-character chunks) and ranks those with the same embeddings in FAISS. A baseline's
quote is the one sentence of its top passage sharing the most jieba tokens with the question.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import bm25s
import faiss
import numpy as np
from langchain_text_splitters import RecursiveCharacterTextSplitter

from eval.dataset import EvalItem, gold_paragraphs
from index.normalize import normalize
from index.store import StoredIndex
from index.tokens import tokenize
from qa.analyse import Query
from qa.answer import Answerer
from qa.fuse import Hit
from qa.quote import sentence_spans

ParagraphId = tuple[str, int]


@dataclass(frozen=True)
class Prediction:
    passages: tuple[tuple[str, frozenset[ParagraphId]], ...]
    quotes: tuple[str, ...]
    found: bool
    integrity: bool  # every quote an exact slice of its cited paragraph, and that of its file
    latency_ms: float
    quote_regions: tuple[str, ...] = ()  # the region of each quote's report, in order


def overlap_quote(question: str, passage: str) -> str:
    """The sentence of ``passage`` sharing the most distinct tokens with the question."""
    wanted = set(tokenize(normalize(question)))
    best, best_score = "", -1
    for start, end in sentence_spans(passage):
        sentence = passage[start:end]
        score = len(wanted & set(tokenize(normalize(sentence))))
        if score > best_score:
            best, best_score = sentence, score
    return best


class ChunkRanker:
    """Baselines 1–3: one retriever over the project's chunks, the top chunk's best sentence as quote."""

    def __init__(self, name: str, stored: StoredIndex, scorer) -> None:
        self.name, self.stored, self._scorer = name, stored, scorer

    def predict(self, question: str, vector: np.ndarray, k: int) -> Prediction:
        scores = self._scorer(question, vector)
        order = np.argsort(-scores, kind="stable")[:k]
        chunks = [self.stored.chunks[i] for i in order]
        passages = tuple((c.text, frozenset({(c.doc_id, c.paragraph)})) for c in chunks)
        quote = overlap_quote(question, chunks[0].text) if chunks else ""
        return Prediction(passages, (quote,) if quote else (), True, True, 0.0)


def bm25_default_tokenizer(stored: StoredIndex) -> ChunkRanker:
    """What a newcomer gets: bm25s's default tokenizer, which keeps unspaced Chinese as whole clauses."""
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([c.text for c in stored.chunks], show_progress=False), show_progress=False)
    vocab = retriever.vocab_dict

    def scores(question: str, _vector: np.ndarray) -> np.ndarray:
        tokens = [
            t for t in bm25s.tokenize([question], show_progress=False, return_ids=False)[0] if t in vocab
        ]
        return retriever.get_scores(tokens) if tokens else np.zeros(len(stored.chunks))

    return ChunkRanker("BM25 (bm25s default tokenizer)", stored, scores)


def bm25_jieba(stored: StoredIndex) -> ChunkRanker:
    def scores(question: str, _vector: np.ndarray) -> np.ndarray:
        tokens = [t for t in tokenize(normalize(question)) if t in stored.bm25.vocab_dict]
        return stored.bm25.get_scores(tokens) if tokens else np.zeros(len(stored.chunks))

    return ChunkRanker("BM25 (jieba tokens)", stored, scores)


def dense_only(stored: StoredIndex) -> ChunkRanker:
    def scores(_question: str, vector: np.ndarray) -> np.ndarray:
        sims, ids = stored.dense.search(vector.reshape(1, -1), len(stored.chunks))
        result = np.full(len(stored.chunks), -1.0, dtype=np.float32)
        result[ids[0]] = sims[0]
        return result

    return ChunkRanker("dense only (FAISS)", stored, scores)


class LangChainRecipe:
    """Baseline 4: default RecursiveCharacterTextSplitter over each report file, same embeddings."""

    name = "LangChain recipe (default splitter)"

    def __init__(self, stored: StoredIndex, embedder) -> None:
        splitter = RecursiveCharacterTextSplitter(add_start_index=True)
        self.chunks: list[tuple[str, frozenset[ParagraphId]]] = []
        for report in stored.reports.values():
            text = Path(report.path).read_text(encoding="utf-8")
            paragraphs = [p for (doc_id, _), p in stored.paragraphs.items() if doc_id == report.doc_id]
            for document in splitter.create_documents([text]):
                start = document.metadata["start_index"]
                end = start + len(document.page_content)
                covered = frozenset(
                    (p.doc_id, p.number) for p in paragraphs if p.start < end and p.end > start
                )
                self.chunks.append((document.page_content, covered))
        vectors = embedder.embed_passages([text for text, _ in self.chunks])
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        self.index.add(vectors)

    def predict(self, question: str, vector: np.ndarray, k: int) -> Prediction:
        _, ids = self.index.search(vector.reshape(1, -1), min(k, len(self.chunks)))
        passages = tuple(self.chunks[i] for i in ids[0] if i >= 0)
        quote = overlap_quote(question, passages[0][0]) if passages else ""
        return Prediction(passages, (quote,) if quote else (), True, True, 0.0)


class Project:
    """The project's pipeline, through the same ``Answerer`` the CLI uses."""

    name = "this project (hybrid + quotes)"

    def __init__(self, answerer: Answerer) -> None:
        self.answerer = answerer
        self._files: dict[str, str] = {}

    def _file(self, doc_id: str) -> str:
        if doc_id not in self._files:
            self._files[doc_id] = Path(self.answerer.stored.reports[doc_id].path).read_text(encoding="utf-8")
        return self._files[doc_id]

    def predict(self, question: str, _vector: np.ndarray, k: int) -> Prediction:
        answer = self.answerer.ask(question, top_k=k)
        passages = tuple((p.text, frozenset({(p.doc_id, p.paragraph)})) for p in answer.passages)
        citations = {c.n: c for c in answer.citations}
        integrity = True
        for quote in answer.quotes:
            citation = citations[quote.citation]
            paragraph = self.answerer.stored.paragraphs[(citation.doc_id, citation.paragraph)]
            integrity &= citation.text[citation.start : citation.end] == quote.text
            integrity &= self._file(citation.doc_id)[paragraph.start : paragraph.end] == citation.text
        return Prediction(
            passages,
            tuple(q.text for q in answer.quotes),
            answer.found,
            integrity,
            answer.elapsed_ms,
            tuple(citations[q.citation].region for q in answer.quotes),
        )


def answer_paragraphs(item: EvalItem, stored: StoredIndex) -> frozenset[ParagraphId]:
    """The item's gold paragraphs and every other paragraph holding one of its answer spans."""
    holding = {key for key, p in stored.paragraphs.items() if any(a and a in p.text for a in item.answers)}
    return frozenset(holding | gold_paragraphs(item, stored))


class Withholding(Answerer):
    """An ``Answerer`` that never retrieves the paragraphs in ``withheld``.

    With every paragraph holding an answer withheld, an answerable question becomes one the search
    space mentions but does not answer, the hardest kind to refuse; this turns each answerable
    question into such a near miss (``eval.run.withheld_refusal``). Term weights still count the
    withheld paragraphs, which changes them by a paragraph or two's worth.
    """

    withheld: frozenset[ParagraphId] = frozenset()

    def search(
        self, query: Query, doc_ids: frozenset[str] | None = None, limit: int | None = None
    ) -> list[Hit]:
        chunks = self.stored.chunks
        # Ask for enough extra hits that dropping the withheld paragraphs' chunks still leaves ``limit``.
        extra = sum(1 for c in chunks if (c.doc_id, c.paragraph) in self.withheld) if limit else 0
        hits = super().search(query, doc_ids, None if limit is None else limit + extra)
        kept = [h for h in hits if (chunks[h.chunk].doc_id, chunks[h.chunk].paragraph) not in self.withheld]
        return kept[:limit] if limit is not None else kept
