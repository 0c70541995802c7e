"""Answering: a question in, an ``Answer`` (quotes, citations, passages) out.

``Answerer`` loads the index and the embedding model once and answers many questions. Citations
are data: each ``Quote`` points at a ``Citation`` whose paragraph text, sliced at ``start:end``,
is the quote; the command line, the web page and the evaluation only format these objects.
When the best evidence does not clear the calibrated threshold the answer says the reports do not
answer the question (``found = False``) and still lists the nearest passages.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from index.build import open_index, settings_embedder
from index.embed import Embedder
from index.errors import IndexMismatchError, QAError, UsageError
from index.regions import by_full_name
from index.settings import Settings
from index.store import CURRENT, StoredIndex, load_index
from qa.analyse import Query, analyse
from qa.compare import (
    Comparison,
    Row,
    missing_note,
    recognise,
    report_hits,
    table_markdown,
    top_hits,
)
from qa.fuse import Hit, fuse
from qa.passage import windows
from qa.quote import CANDIDATE_PASSAGES, Sentence, TermWeights, candidate_sentences, choose_quotes
from qa.rank import Ranking, rank
from qa.refuse import Refusal, Verdict
from qa.retrieve import Scores, retrieve
from qa.rows import content_query, row_evidence
from qa.scope import Library

log = logging.getLogger(__name__)

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
    region: str  # official full name of the report's region (浙江省, 深圳市罗湖区); "" if unknown
    level: str  # 国家, 省, 市 or 区县; "" if unknown
    section: str
    paragraph: int
    text: str  # the whole paragraph, verbatim
    start: int  # text[start:end] == the quote
    end: int
    page: int | None = None  # a PDF report's page (1-based) holding the quote's first character


@dataclass(frozen=True)
class Passage:
    rank: int
    doc_id: str
    region: str
    level: str
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
    # When not found and the reports say why (another year, another district); for a comparison, the
    # regions it names that the library has no report of.
    reason: str = ""
    # A comparison (qa.compare): one row per report compared, in order; empty for a single answer.
    rows: tuple[Row, ...] = ()
    # A ranking comparison (哪个…最高): the winner when the rows' figures can be compared, else why not.
    ranking: Ranking | None = None

    def to_dict(self) -> dict[str, Any]:
        """The answer as JSON-ready data: an open bound of a ranked figure (超过60万人) is null."""
        return _finite(dataclasses.asdict(self))


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_finite(item) for item in value)
    return value


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


def report_label(title: str, region: str) -> str:
    """The report's title, with its region put first when the title does not name it (a title such as
    「政府工作报告」 or 「罗湖区2021年政府工作报告」 names no province or a short form only)."""
    division = by_full_name(region) if region else None
    said = {region, division.name, division.short} if division else {region}
    if not region or any(name and name in title for name in said):
        return title
    return f"{region} · {title}"


def citation_label(citation: Citation) -> str:
    """「浙江省2026年政府工作报告 · 一、2025年和“十四五”时期工作回顾 · 第12段」, with 「第3页」 before the
    paragraph for a report added as PDF."""
    section = citation.section.split(" > ")[-1] if citation.section else ""
    page = f"第{citation.page}页" if citation.page else ""
    parts = [report_label(citation.title, citation.region), section, page, f"第{citation.paragraph}段"]
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
            report = stored.reports[p.doc_id]
            lines.append(f"- {report_label(report.title, report.region)} 第{p.paragraph}段：{p.text}")
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
        # The index's own model, backend and quantisation: questions must be embedded as its passages were.
        manifest = self.stored.manifest
        self.embedder = embedder or settings_embedder(
            settings.replace(quantize=manifest.quantized, backend=manifest.backend), manifest.model
        )
        if self.embedder.dimension != self.stored.dense.d:
            raise IndexMismatchError(
                f"model {self.embedder.name} gives {self.embedder.dimension}-dimensional vectors but "
                f"{self.stored.folder / 'dense.faiss'} holds {self.stored.dense.d} — "
                "run: python -m index build"
            )
        self.weights = TermWeights(self.stored)
        self.library = Library(self.stored.reports.values())
        self.refusal = Refusal(
            self.stored, self.weights, settings.found_threshold, settings.evidence_checks, self.library
        )

    def analyse(self, question: str, doc_ids: frozenset[str] | None = None) -> Query:
        """The question read against this library (its regions, the glossary if enabled), asked
        of the reports ``doc_ids`` (None: all)."""
        library = self.library if self.settings.region_scope else None
        return analyse(question, self.settings.glossary, library, doc_ids)

    def scope(self, query: Query, doc_ids: frozenset[str] | None) -> frozenset[str] | None:
        """The reports a question may be answered from: those of the regions it names and those whose
        region is unknown (within the user's choice ``doc_ids``), or ``doc_ids`` when it names none the
        library covers."""
        if not query.regions:
            return doc_ids
        named = {
            doc_id
            for name in query.regions
            if (region := by_full_name(name)) is not None
            for doc_id in self.library.reports_for(region)
        } | self.library.unplaced
        return frozenset(named if doc_ids is None else named & doc_ids)

    def search(
        self, query: Query, doc_ids: frozenset[str] | None = None, limit: int | None = None
    ) -> list[Hit]:
        """The best ``limit`` fused hits (all if None), best first; only from the reports in
        ``doc_ids`` when given."""
        vector = self.embedder.embed_queries([query.normalized])[0]
        scores = retrieve(self.stored, query, vector, self.settings.expansion_weight)
        return fuse(self.stored, query, scores, self.settings, self.weights.topical(query), limit, doc_ids)

    def evidence(self, query: Query, doc_ids: frozenset[str] | None, top_k: int) -> tuple[list[Hit], Verdict]:
        """The hits for ``top_k`` passages and the verdict on the sentences of the top ones, from the
        reports in the question's scope (``scope``)."""
        scoped = self.scope(query, doc_ids)
        if scoped is not None and not scoped:
            named = "、".join(query.regions)
            return [], Verdict(False, (), f"所选的报告中没有{named}的报告，请在「地区」中加上它。")
        # Passages are cut from the best hits; a paragraph's later chunks add nothing once it is shown
        # whole, so a few hits per passage are plenty.
        hits = self.search(query, scoped, HITS_PER_PASSAGE * top_k)
        candidates = candidate_sentences(self.stored, query, hits, self.weights)
        return hits, self.refusal.judge(query, candidates, scoped)

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
        query = self.analyse(text, allowed)
        comparison = recognise(query.normalized, self.library, self.stored.reports, allowed)
        if comparison is not None:
            return self.compare(text, comparison, top_k, allowed, started)
        hits, verdict = self.evidence(query, allowed, top_k)
        quotes: list[Quote] = []
        citations: list[Citation] = []
        if verdict.found:
            for n, sentence in enumerate(
                choose_quotes(list(verdict.candidates), self.settings.max_quotes), 1
            ):
                citations.append(self.citation(n, sentence))
                quotes.append(Quote(sentence.text, n))
        passages = self.passages(query, hits, top_k)
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

    def citation(self, n: int, sentence: Sentence) -> Citation:
        """Citation ``n`` of a quoted sentence."""
        paragraph = sentence.paragraph
        report = self.stored.reports[paragraph.doc_id]
        return Citation(
            n,
            paragraph.doc_id,
            report.title,
            report.year,
            report.region,
            report.level,
            paragraph.section,
            paragraph.number,
            paragraph.text,
            sentence.start,
            sentence.end,
            report.page_at(paragraph.start + sentence.start),
        )

    def passages(self, query: Query, hits: list[Hit], top_k: int) -> list[Passage]:
        """The ``top_k`` passages shown for ``hits`` (best first)."""
        return [
            Passage(
                rank,
                w.paragraph.doc_id,
                self.stored.reports[w.paragraph.doc_id].region,
                self.stored.reports[w.paragraph.doc_id].level,
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

    def comparison_search(
        self, comparison: Comparison
    ) -> tuple[Query, Scores, dict[str, list[Hit]], np.ndarray]:
        """The row question read, embedded once and searched once: its scores, each compared report's
        best chunks and the fused scores (``qa.compare.report_hits``)."""
        query = self.analyse(comparison.question, frozenset(comparison.doc_ids))
        vector = self.embedder.embed_queries([query.normalized])[0]
        scores = retrieve(self.stored, query, vector, self.settings.expansion_weight)
        hits, fused = report_hits(
            self.stored,
            query,
            scores,
            self.settings,
            self.weights.topical(query),
            comparison.doc_ids,
            CANDIDATE_PASSAGES,
        )
        return query, scores, hits, fused

    def compare(
        self,
        text: str,
        comparison: Comparison,
        top_k: int,
        doc_ids: frozenset[str] | None,
        started: float,
    ) -> Answer:
        """A comparison's answer: one row per report, each from that report's best chunks of one
        retrieval pass (the question embedded once), quoted or refused as a single answer restricted to
        that report is, then held to the row checks of ``qa.compare``; the passages are the best over all
        the reports compared."""
        query, scores, hits, fused = self.comparison_search(comparison)
        labels = {
            doc_id: report.region or report_label(report.title, report.region)
            for doc_id, report in self.stored.reports.items()
            if doc_id in comparison.doc_ids
        }
        rows: list[Row] = []
        quotes: list[Quote] = []
        citations: list[Citation] = []
        quoted: list[tuple[str, str, int, Sentence]] = []
        for evidence in row_evidence(self.stored, comparison, query, hits, self.weights, self.refusal):
            report = self.stored.reports[evidence.doc_id]
            if not evidence.verdict.found:
                rows.append(Row(report.doc_id, report.region, report.year, False, "", None))
                continue
            sentence = choose_quotes(list(evidence.verdict.candidates), 1)[0]
            citations.append(self.citation(len(citations) + 1, sentence))
            quotes.append(Quote(sentence.text, len(citations)))
            rows.append(Row(report.doc_id, report.region, report.year, True, sentence.text, len(citations)))
            quoted.append((report.doc_id, labels[report.doc_id], len(citations), sentence))
        passages = self.passages(query, top_hits(fused, scores, HITS_PER_PASSAGE * top_k), top_k)
        found = bool(quotes)
        ranking = rank(
            self.stored,
            comparison.most,
            comparison.question,
            content_query(query),
            self.weights,
            quoted,
            [labels[row.doc_id] for row in rows if not row.found],
        )
        missing = missing_note(comparison, doc_ids)
        note = " ".join(part for part in (ranking.said if ranking and found else "", missing) if part)
        table = table_markdown(rows, labels, [f"[{c.n}] {citation_label(c)}" for c in citations], note)
        markdown = table if found else f"{NOT_FOUND}{missing}\n\n{table_markdown(rows, labels, [])}"
        elapsed = (time.perf_counter() - started) * 1000
        return Answer(
            text,
            found,
            markdown,
            tuple(quotes),
            tuple(citations),
            tuple(passages),
            round(elapsed, 2),
            missing,
            tuple(rows),
            ranking if found else None,
        )


class LiveAnswerer:
    """The answerer of an index's live build: after a report is added or removed (a new build and
    ``CURRENT`` switched to it), the next question is answered from the new build, without a restart.
    A question already being answered finishes on the answerer it started with: each caller takes
    ``current()`` once and keeps it for the whole question."""

    def __init__(self, answerer: Answerer) -> None:
        self._answerer = answerer
        self._lock = threading.Lock()
        self._failed = ""  # a build that would not load: not tried again on every question

    def current(self, wait: bool = False) -> Answerer:
        """The answerer of the build ``CURRENT`` names, loaded on first use. While another caller is
        loading it the previous one answers, unless ``wait``."""
        answerer = self._answerer
        index_dir = answerer.settings.index_dir
        try:
            name = (index_dir / CURRENT).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return answerer  # the pointer is being replaced, or gone: keep answering as before
        if name in (answerer.stored.folder.name, self._failed):
            return answerer
        if not self._lock.acquire(blocking=wait):
            return answerer
        try:
            if self._answerer is not answerer:  # loaded by the caller this one waited for
                return self._answerer
            stored = load_index(index_dir)
            manifest, old = stored.manifest, answerer.stored.manifest
            same_model = (manifest.model, manifest.quantized, manifest.backend) == (
                old.model,
                old.quantized,
                old.backend,
            )
            self._answerer = Answerer(answerer.settings, stored, answerer.embedder if same_model else None)
            log.info("answering from the new build %s", stored.folder)
        except QAError as error:
            self._failed = name
            log.warning(
                "cannot load the new build %s (%s) — still answering from %s",
                name,
                error,
                answerer.stored.folder,
            )
        finally:
            self._lock.release()
        return self._answerer

    def ask(self, question: str, top_k: int | None = None, doc_ids: Iterable[str] | None = None) -> Answer:
        return self.current().ask(question, top_k, doc_ids)
