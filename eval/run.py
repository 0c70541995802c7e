"""Evaluation run: datasets and systems in, per-system figures out.

For each dataset the project's index is opened (built on first use, in ``eval/.cache``), every
system answers every question, and ``score`` turns the predictions into the figures of the
report: hit@1/hit@5 (an answer span in the top passages), MRR@10 and nDCG@10 against the gold
paragraphs, quote accuracy, citation integrity, refusal precision/recall and false refusals,
mean passage length, latency, and a per-type breakdown.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from eval.dataset import (
    CMRC,
    LIBRARY,
    LIBRARY_CORPUS,
    LUOHU,
    EvalItem,
    gold_paragraphs,
    load_items,
    prepare_cmrc,
    validate,
)
from eval.metrics import (
    hit_at_k,
    mean,
    ndcg_at_k,
    percentile,
    quote_accuracy,
    reciprocal_rank,
    refusal_scores,
)
from eval.systems import (
    LangChainRecipe,
    Prediction,
    Project,
    Withholding,
    answer_paragraphs,
    bm25_default_tokenizer,
    bm25_jieba,
    dense_only,
)
from index.build import open_index
from index.regions import by_full_name, contains
from index.settings import PROJECT_ROOT, Settings
from qa.answer import Answerer
from qa.chat import rewrite_follow_up

log = logging.getLogger(__name__)
CACHE = PROJECT_ROOT / "eval" / ".cache"
TOP_K = 10
ABLATION_SAMPLE = 600
# Refusal thresholds swept for the curve in the report (the setting is found_threshold).
CURVE_THRESHOLDS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5)
QUICK_CMRC_PARAGRAPHS = 60


# Each component of the project's pipeline switched off, one at a time (settings changes that
# need no rebuild).
ABLATIONS: dict[str, dict[str, object]] = {
    "without region scope": {"region_scope": False},
    "without dense retrieval": {"dense_weight": 0.0},
    "without glossary expansion": {"glossary": False},
    "without year steering": {"year_boost": 1.0},
    "without off-topic demotion": {"off_topic_factor": 1.0},
    "rank fusion (RRF) instead of score fusion": {"fusion": "rrf"},
    "without refusal threshold": {"found_threshold": 0.0},
    "without year/place/unit checks": {"evidence_checks": False},
    "chunks as passages instead of paragraph windows": {"passage_chars": 0},
    "without paragraph continuation": {"continuation_factor": 0.0},
}


@dataclass
class DatasetRun:
    name: str
    items: list[EvalItem]
    predictions: dict[str, list[Prediction]]  # system name → one per item
    gold: list[set[tuple[str, int]]]
    build_seconds: float
    chunks: int
    figures: dict[str, dict[str, dict]] = field(default_factory=dict)  # split → system → figures
    ablation: dict[str, dict[str, dict]] = field(default_factory=dict)  # split → variant → figures
    # split → one point per refusal threshold: {"threshold", "refusal_recall", "false_refusal_rate",
    # "withheld_refusal"}
    refusal_curve: dict[str, list[dict]] = field(default_factory=dict)


def resolve_question(item: EvalItem) -> str:
    """The question a system sees: a follow-up is rewritten from the turn before it, as the chat
    page does (``qa.chat.rewrite_follow_up``)."""
    return rewrite_follow_up(item.question, item.previous) if item.previous else item.question


def run_dataset(name: str, items: list[EvalItem], settings: Settings, ablation: bool = True) -> DatasetRun:
    started = time.perf_counter()
    stored = open_index(settings)
    log.info("%s: index ready (%d chunks) in %.1f s", name, len(stored.chunks), time.perf_counter() - started)
    answerer = Answerer(settings, stored=stored)
    systems = [
        bm25_default_tokenizer(stored),
        bm25_jieba(stored),
        dense_only(stored),
        LangChainRecipe(stored, answerer.embedder),
        Project(answerer),
    ]
    questions = [resolve_question(item) for item in items]
    vectors = answerer.embedder.embed_queries(questions)
    predictions: dict[str, list[Prediction]] = {}
    for system in systems:
        began = time.perf_counter()
        predictions[system.name] = [
            system.predict(q, v, TOP_K) for q, v in zip(questions, vectors, strict=True)
        ]
        log.info(
            "%s: %s answered %d questions in %.1f s",
            name,
            system.name,
            len(items),
            time.perf_counter() - began,
        )
    # The ablation asks every question of a small set, and an evenly spaced sample of a large one
    # (CMRC's 3,219 questions × 5 variants would double the run time).
    sample = list(range(0, len(items), max(1, len(items) // ABLATION_SAMPLE)))
    variants: dict[str, dict[int, Prediction]] = {
        "full pipeline": {i: predictions[systems[-1].name][i] for i in sample}
    }
    if ablation:
        for label, changes in ABLATIONS.items():
            variant = Project(
                Answerer(settings.replace(**changes), stored=stored, embedder=answerer.embedder)
            )
            variants[label] = {i: variant.predict(questions[i], vectors[i], TOP_K) for i in sample}
        log.info("%s: ablation of %d components on %d questions done", name, len(ABLATIONS), len(sample))
    gold = [gold_paragraphs(item, stored) for item in items]
    run = DatasetRun(name, items, predictions, gold, stored.manifest.build_seconds, len(stored.chunks))
    if ablation and any(not item.answerable for item in items):
        run.refusal_curve = refusal_curve(items, questions, vectors, settings, answerer)
    began = time.perf_counter()
    still_found = withheld_found(items, questions, settings, answerer)
    log.info(
        "%s: %d questions asked with their answers withheld in %.1f s",
        name,
        len(still_found),
        time.perf_counter() - began,
    )
    splits = sorted({item.split for item in items})
    for split in [*splits, "all"] if len(splits) > 1 else splits:
        chosen = [i for i, item in enumerate(items) if split in ("all", item.split)]
        run.figures[split] = {
            system: score(items, predictions[system], gold, chosen) for system in predictions
        }
        run.figures[split][Project.name]["withheld_refusal"] = withheld_refusal(still_found, chosen)
        if ablation:
            in_sample = [i for i in chosen if i in variants["full pipeline"]]
            run.ablation[split] = {
                label: score(items, [runs.get(i) for i in range(len(items))], gold, in_sample)  # type: ignore[misc]
                for label, runs in variants.items()
            }
    return run


def withheld_found(
    items: list[EvalItem], questions: list[str], settings: Settings, answerer: Answerer
) -> dict[int, bool]:
    """Answerable item → whether the project still claims an answer when every paragraph holding
    the answer is withheld from the search (``eval.systems.Withholding``); it should not."""
    withholding = Withholding(settings, stored=answerer.stored, embedder=answerer.embedder)
    found = {}
    for i, item in enumerate(items):
        if item.answerable:
            withholding.withheld = answer_paragraphs(item, answerer.stored)
            found[i] = withholding.ask(questions[i], top_k=TOP_K).found
    return found


def withheld_refusal(found: dict[int, bool], chosen: list[int]) -> float:
    """Share of the chosen answerable items refused once their answers are withheld."""
    return round(mean(float(not found[i]) for i in chosen if i in found), 4)


def refusal_curve(
    items: list[EvalItem], questions: list[str], vectors, settings: Settings, answerer: Answerer
) -> dict[str, list[dict]]:
    """Refusal recall, wrong refusals and withheld-answer refusal per split at each threshold of
    ``CURVE_THRESHOLDS``."""
    found: dict[float, list[bool]] = {}
    withheld: dict[float, dict[int, bool]] = {}
    for threshold in CURVE_THRESHOLDS:
        changed = settings.replace(found_threshold=threshold)
        variant = Project(Answerer(changed, stored=answerer.stored, embedder=answerer.embedder))
        found[threshold] = [
            variant.predict(q, v, TOP_K).found for q, v in zip(questions, vectors, strict=True)
        ]
        withheld[threshold] = withheld_found(items, questions, changed, answerer)
    curve: dict[str, list[dict]] = {}
    for split in sorted({item.split for item in items}):
        chosen = [i for i, item in enumerate(items) if item.split == split]
        curve[split] = [
            {"threshold": threshold}
            | {
                k: round(v, 4)
                for k, v in refusal_scores(
                    [items[i].answerable for i in chosen], [found[threshold][i] for i in chosen]
                ).items()
                if k in ("refusal_recall", "false_refusal_rate")
            }
            | {"withheld_refusal": withheld_refusal(withheld[threshold], chosen)}
            for threshold in CURVE_THRESHOLDS
        ]
    return curve


def score(items: list[EvalItem], predictions: list[Prediction], gold: list[set], chosen: list[int]) -> dict:
    answerable = [i for i in chosen if items[i].answerable]
    figures: dict = {"questions": len(chosen), "answerable": len(answerable)}

    def rate(values: list[bool]) -> float:
        return round(mean(float(v) for v in values), 4)

    texts = {i: [text for text, _ in predictions[i].passages] for i in answerable}
    figures["hit@1"] = rate([hit_at_k(texts[i], items[i].answers, 1) for i in answerable])
    figures["hit@5"] = rate([hit_at_k(texts[i], items[i].answers, 5) for i in answerable])
    rankings = {i: [set(covered) for _, covered in predictions[i].passages] for i in answerable}
    figures["mrr@10"] = round(mean(reciprocal_rank(rankings[i], gold[i]) for i in answerable), 4)
    figures["ndcg@10"] = round(mean(ndcg_at_k(rankings[i], gold[i]) for i in answerable), 4)
    quotes = [quote_accuracy(predictions[i].quotes, items[i].answers) for i in answerable]
    figures["quote@1"] = rate([first for first, _ in quotes])
    figures["quote_any"] = rate([any_ for _, any_ in quotes])
    figures["citation_integrity"] = rate([predictions[i].integrity for i in chosen])
    figures.update(
        {
            k: round(v, 4)
            for k, v in refusal_scores(
                [items[i].answerable for i in chosen], [predictions[i].found for i in chosen]
            ).items()
        }
    )
    lengths = [len(text) for i in chosen for text, _ in predictions[i].passages[:5]]
    figures["mean_passage_chars"] = round(mean(lengths), 1)
    # A first quote from a report of another region than the one the question names (a report of a
    # region within it counts as its own: 广东 is answered by 深圳市罗湖区's report).
    named = [
        i for i in answerable if items[i].region and predictions[i].found and predictions[i].quote_regions
    ]
    figures["wrong_region@1"] = rate(
        [not _within(predictions[i].quote_regions[0], items[i].region or "") for i in named]
    )
    latencies = [predictions[i].latency_ms for i in chosen]
    figures["latency_p50_ms"] = round(percentile(latencies, 50), 2)
    figures["latency_p95_ms"] = round(percentile(latencies, 95), 2)
    by_type: dict[str, list[int]] = defaultdict(list)
    for i in chosen:
        by_type[items[i].type].append(i)
    figures["by_type"] = {
        kind: {
            "n": len(ids),
            "hit@1": rate(
                [
                    hit_at_k([t for t, _ in predictions[i].passages], items[i].answers, 1)
                    for i in ids
                    if items[i].answerable
                ]
            )
            if items[ids[0]].answerable
            else None,
            "quote@1": rate(
                [
                    quote_accuracy(predictions[i].quotes, items[i].answers)[0]
                    for i in ids
                    if items[i].answerable
                ]
            )
            if items[ids[0]].answerable
            else None,
            "refused": rate([not predictions[i].found for i in ids]),
        }
        for kind, ids in sorted(by_type.items())
    }
    return figures


def _within(report_region: str, asked: str) -> bool:
    """Whether a report of ``report_region`` is one of the region ``asked`` about (or lies in it)."""
    outer, inner = by_full_name(asked), by_full_name(report_region)
    if outer is None or inner is None:
        return report_region == asked
    return contains(outer, inner)


def luohu_run(settings: Settings, dataset: Path = LUOHU, ablation: bool = True) -> DatasetRun:
    items = load_items(dataset)
    problems = validate(items, settings.corpus_dir)
    if problems:
        raise ValueError(f"{dataset} has {len(problems)} problems, first: {problems[0]}")
    return run_dataset(
        dataset.stem, items, settings.replace(index_dir=CACHE / f"{dataset.stem}-index"), ablation
    )


def library_runs(settings: Settings, ablation: bool = True) -> list[DatasetRun]:
    """The library question set, and the 罗湖 set asked again, over one index of every report under
    ``data/`` (the two 罗湖 reports and the fifteen provincial ones)."""
    library = settings.replace(corpus_dir=LIBRARY_CORPUS, index_dir=CACHE / "library-index")
    runs = []
    for dataset, name in ((LIBRARY, LIBRARY.stem), (LUOHU, f"{LUOHU.stem}-in-library")):
        items = load_items(dataset)
        problems = validate(items, LIBRARY_CORPUS)
        if problems:
            raise ValueError(f"{dataset} has {len(problems)} problems, first: {problems[0]}")
        runs.append(run_dataset(name, items, library, ablation))
    return runs


def cmrc_run(settings: Settings, quick: bool, ablation: bool = True) -> DatasetRun:
    suffix = "-quick" if quick else ""
    corpus = CACHE / f"cmrc-corpus{suffix}"
    items = prepare_cmrc(CMRC, corpus, limit=QUICK_CMRC_PARAGRAPHS if quick else None)
    return run_dataset(
        "cmrc2018-dev" + suffix,
        items,
        settings.replace(corpus_dir=corpus, index_dir=CACHE / f"cmrc-index{suffix}"),
        ablation,
    )
