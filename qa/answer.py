"""Answering: a question in, an ``Answer`` (quotes, citations, passages) out.

``Answerer`` loads the index and the embedding model once and answers many questions. Citations
are data: each ``Quote`` points at a ``Citation`` whose paragraph text, sliced at ``start:end``,
is the quote; the command line, the web page and the evaluation only format these objects.
When the best evidence does not clear the calibrated threshold the answer says the reports do not
answer the question (``found = False``) and still lists the nearest passages.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from index.build import open_index
from index.embed import Embedder, load_embedder
from index.errors import IndexMismatchError, UsageError
from index.settings import Settings
from index.store import StoredIndex
from qa.analyse import Query, analyse
from qa.fuse import Hit, fuse
from qa.passage import windows
from qa.quote import TermWeights, candidate_sentences, choose_quotes
from qa.refuse import Refusal, Verdict
from qa.retrieve import retrieve

NOT_FOUND = "报告中没有找到这个问题的答案。"
HITS_PER_PASSAGE = 40


@dataclass(frozen=True)
class Quote:
    text: str
    citation: int  # the n of its Citation


@dataclass(frozen=True)
class Citation:
    n: int
    doc_id: str
    title: str
    year: int
    section: str
    paragraph: int
    text: str  # the whole paragraph, verbatim
    start: int  # text[start:end] == the quote
    end: int


@dataclass(frozen=True)
class Passage:
    rank: int
    doc_id: str
    paragraph: int
    text: str  # whole sentences of the paragraph, verbatim
    score: float
    start: int  # the paragraph's text[start:end] == text
    end: int


@dataclass(frozen=True)
class Answer:
    question: str
    found: bool
    answer: str  # Markdown for a person, with [n] markers
    quotes: tuple[Quote, ...]
    citations: tuple[Citation, ...]
    passages: tuple[Passage, ...]
    elapsed_ms: float
    reason: str = ""  # when not found and the reports say why (another year, another district)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def clean_question(question: str, max_chars: int) -> str:
    """The question with control characters removed, or a UsageError saying what is wrong."""
    if not isinstance(question, str):
        raise UsageError("问题必须是文字。")
    cleaned = "".join(ch if ch.isprintable() or ch in " \t" else " " for ch in question).strip()
    if not cleaned:
        raise UsageError("问题是空的，请输入一个问题，例如：2020年罗湖区一般公共预算收入是多少？")
    if len(cleaned) > max_chars:
        raise UsageError(f"问题太长（{len(cleaned)} 字），请缩短到 {max_chars} 字以内。")
    return cleaned


def citation_label(citation: Citation) -> str:
    section = citation.section.split(" > ")[-1] if citation.section else ""
    parts = [citation.title, section, f"第{citation.paragraph}段"]
    return " · ".join(p for p in parts if p)


def to_markdown(
    found: bool,
    quotes: list[Quote],
    citations: list[Citation],
    passages: list[Passage],
    stored: StoredIndex,
    reason: str = "",
) -> str:
    if found:
        body = "\n\n".join(f"> {q.text} [{q.citation}]" for q in quotes)
        refs = "\n".join(f"[{c.n}] {citation_label(c)}" for c in citations)
        return f"{body}\n\n{refs}"
    lines = [NOT_FOUND + reason]
    if passages:
        lines.append("可能相关的段落：")
        for p in passages[:3]:
            title = stored.reports[p.doc_id].title
            lines.append(f"- {title} 第{p.paragraph}段：{p.text}")
    return "\n\n".join(lines)


class Answerer:
    """Loads once, answers many questions."""

    def __init__(
        self,
        settings: Settings,
        stored: StoredIndex | None = None,
        embedder: Embedder | None = None,
        rebuild: bool = True,
    ) -> None:
        self.settings = settings
        self.stored = stored or open_index(settings, rebuild=rebuild, embedder=embedder)
        self.embedder = embedder or load_embedder(
            self.stored.manifest.model,
            settings.query_prefix,
            settings.batch_size,
            self.stored.manifest.quantized,
        )
        if self.embedder.dimension != self.stored.dense.d:
            raise IndexMismatchError(
                f"model {self.embedder.name} gives {self.embedder.dimension}-dimensional vectors but "
                f"{self.stored.folder / 'dense.faiss'} holds {self.stored.dense.d} — "
                "run: python -m index build"
            )
        self.weights = TermWeights(self.stored)
        self.refusal = Refusal(self.stored, self.weights, settings.found_threshold, settings.evidence_checks)

    def search(
        self, query: Query, doc_ids: frozenset[str] | None = None, limit: int | None = None
    ) -> list[Hit]:
        """The best ``limit`` fused hits (all if None), best first; only from the reports in
        ``doc_ids`` when given."""
        vector = self.embedder.embed_queries([query.normalized])[0]
        scores = retrieve(self.stored, query, vector, self.settings.expansion_weight)
        return fuse(self.stored, query, scores, self.settings, self.weights.topical(query), limit, doc_ids)

    def evidence(self, query: Query, doc_ids: frozenset[str] | None, top_k: int) -> tuple[list[Hit], Verdict]:
        """The hits for ``top_k`` passages and the verdict on the sentences of the top ones."""
        # Passages are cut from the best hits; a paragraph's later chunks add nothing once it is shown
        # whole, so a few hits per passage are plenty.
        hits = self.search(query, doc_ids, HITS_PER_PASSAGE * top_k)
        return hits, self.refusal.judge(query, candidate_sentences(self.stored, query, hits, self.weights))

    def ask(self, question: str, top_k: int | None = None, doc_ids: Iterable[str] | None = None) -> Answer:
        """Answer ``question`` from all reports, or only from those in ``doc_ids``."""
        started = time.perf_counter()
        text = clean_question(question, self.settings.max_question_chars)
        top_k = top_k or self.settings.top_k
        if top_k < 1:
            raise UsageError("top-k 必须是正整数。")
        allowed = None if doc_ids is None else frozenset(doc_ids)
        if allowed is not None and not allowed & set(self.stored.reports):
            raise UsageError("请至少选择一份已收录的报告再提问。")
        query = analyse(text, self.settings.glossary)
        hits, verdict = self.evidence(query, allowed, top_k)
        quotes: list[Quote] = []
        citations: list[Citation] = []
        if verdict.found:
            for n, sentence in enumerate(
                choose_quotes(list(verdict.candidates), self.settings.max_quotes), 1
            ):
                paragraph = sentence.paragraph
                report = self.stored.reports[paragraph.doc_id]
                citations.append(
                    Citation(
                        n,
                        paragraph.doc_id,
                        report.title,
                        report.year,
                        paragraph.section,
                        paragraph.number,
                        paragraph.text,
                        sentence.start,
                        sentence.end,
                    )
                )
                quotes.append(Quote(sentence.text, n))
        passages = [
            Passage(
                rank,
                w.paragraph.doc_id,
                w.paragraph.number,
                w.text,
                round(w.score, 6),
                w.start,
                w.end,
            )
            for rank, w in enumerate(
                windows(
                    self.stored,
                    query,
                    hits,
                    self.weights,
                    self.settings.passage_chars,
                    top_k,
                    self.settings.continuation_factor,
                ),
                start=1,
            )
        ]
        markdown = to_markdown(verdict.found, quotes, citations, passages, self.stored, verdict.reason)
        elapsed = (time.perf_counter() - started) * 1000
        return Answer(
            text,
            verdict.found,
            markdown,
            tuple(quotes),
            tuple(citations),
            tuple(passages),
            round(elapsed, 2),
            verdict.reason,
        )
