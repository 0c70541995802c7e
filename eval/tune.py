"""Grid search on the TUNE split only: settings variants in, their figures out.

    python -m eval.tune dense_weight=0,0.1,0.2 year_boost=1.0,1.6
    python -m eval.tune --cmrc passage_chars=240,300     # CMRC 2018 dev's tune half instead

The frozen test splits (ours, and the held-out half of CMRC dev) are never read here, so choices
made with this script cannot be fitted to the questions the report is judged on. The index and
model are loaded once; settings that change the index (chunk size, model) need a rebuild and a
separate run.
"""

from __future__ import annotations

import itertools
import sys

from eval.dataset import CMRC, LUOHU, EvalItem, gold_paragraphs, load_items, prepare_cmrc
from eval.run import CACHE, TOP_K, resolve_question, score, withheld_found, withheld_refusal
from eval.systems import Project
from index.build import open_index
from index.logs import setup_logging
from index.settings import Settings, load_settings, parse_setting
from qa.answer import Answerer

# The report's own figures (eval.run.score), for the project's pipeline only.
FIGURES = (
    "hit@1",
    "hit@5",
    "mrr@10",
    "quote@1",
    "mean_passage_chars",
    "refusal_recall",
    "false_refusal_rate",
)


def evaluate(answerer: Answerer, items: list[EvalItem]) -> dict[str, float]:
    system = Project(answerer)
    questions = [resolve_question(item) for item in items]
    predictions = [system.predict(question, None, TOP_K) for question in questions]
    gold = [gold_paragraphs(item, answerer.stored) for item in items]
    chosen = list(range(len(items)))
    figures = score(items, predictions, gold, chosen)
    withheld = withheld_refusal(withheld_found(items, questions, answerer.settings, answerer), chosen)
    return {name: figures[name] for name in FIGURES} | {"withheld_refusal": withheld}


def tune_split(base: Settings, cmrc: bool = False) -> tuple[list[EvalItem], Settings]:
    """The tune questions of our set (or of CMRC dev) and the settings of their evaluation index."""
    if cmrc:
        corpus = CACHE / "cmrc-corpus"
        items = prepare_cmrc(CMRC, corpus)
        settings = base.replace(corpus_dir=corpus, index_dir=CACHE / "cmrc-index")
    else:
        items = load_items(LUOHU)
        settings = base.replace(index_dir=CACHE / f"{LUOHU.stem}-index")
    return [item for item in items if item.split == "tune"], settings


def main(argv: list[str]) -> int:
    setup_logging(quiet=True)
    base = load_settings()
    grid = {}
    cmrc = "--cmrc" in argv
    for arg in (a for a in argv if a != "--cmrc"):
        key, _, values = arg.partition("=")
        grid[key] = [parse_setting(key, v) for v in values.split(",")]
    items, settings = tune_split(base, cmrc)
    stored = open_index(settings)
    first = Answerer(settings, stored=stored)
    print(f"{len(items)} tune questions{' (CMRC 2018 dev)' if cmrc else ''}")
    for values in itertools.product(*grid.values()) if grid else [()]:
        variant: Settings = settings.replace(**dict(zip(grid, values, strict=True)))
        # The loaded model serves every variant, unless the variant puts another prefix on queries.
        same_model = variant.query_prefix == settings.query_prefix
        answerer = Answerer(variant, stored=stored, embedder=first.embedder if same_model else None)
        print(dict(zip(grid, values, strict=True)), evaluate(answerer, items), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
