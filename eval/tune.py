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

from eval.dataset import CMRC, LUOHU, gold_paragraphs, load_items, prepare_cmrc
from eval.metrics import hit_at_k, mean, quote_accuracy, reciprocal_rank, refusal_scores
from eval.run import CACHE, resolve_question
from index.build import open_index
from index.logs import setup_logging
from index.settings import Settings, load_settings, parse_setting
from qa.answer import Answerer


def evaluate(answerer: Answerer, items) -> dict[str, float]:
    answers = [answerer.ask(resolve_question(item), top_k=10) for item in items]
    answerable = [(item, answer) for item, answer in zip(items, answers, strict=True) if item.answerable]
    figures = {
        "hit@1": mean(hit_at_k([p.text for p in a.passages], i.answers, 1) for i, a in answerable),
        "hit@5": mean(hit_at_k([p.text for p in a.passages], i.answers, 5) for i, a in answerable),
        "mrr@10": mean(
            reciprocal_rank(
                [{(p.doc_id, p.paragraph)} for p in a.passages], gold_paragraphs(i, answerer.stored)
            )
            for i, a in answerable
        ),
        "quote@1": mean(quote_accuracy([q.text for q in a.quotes], i.answers)[0] for i, a in answerable),
        "passage_chars": mean(len(p.text) for a in answers for p in a.passages[:5]),
    }
    figures.update(refusal_scores([i.answerable for i in items], [a.found for a in answers]))
    return {k: round(v, 3) for k, v in figures.items()}


def main(argv: list[str]) -> int:
    setup_logging(quiet=True)
    base = load_settings()
    grid = {}
    cmrc = "--cmrc" in argv
    for arg in (a for a in argv if a != "--cmrc"):
        key, _, values = arg.partition("=")
        grid[key] = [parse_setting(key, v) for v in values.split(",")]
    if cmrc:
        corpus = CACHE / "cmrc-corpus"
        items = prepare_cmrc(CMRC, corpus)
        settings = base.replace(corpus_dir=corpus, index_dir=CACHE / "cmrc-index")
    else:
        items = load_items(LUOHU)
        settings = base.replace(index_dir=CACHE / f"{LUOHU.stem}-index")
    items = [item for item in items if item.split == "tune"]
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
