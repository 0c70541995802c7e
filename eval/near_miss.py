"""Refusal signals on near misses, TUNE split only: which evidence about the sentence quoted first
tells an answer from a sentence that merely shares the question's words.

    python -m eval.near_miss           # our tune split
    python -m eval.near_miss --cmrc    # CMRC 2018 dev's tune half

In: the tune questions; each answerable one is asked as it is, and again with every paragraph holding
its answer withheld (``eval.systems.Withholding``), which makes it a near miss.
Out: for each signal, how many answered near misses (and answered unanswerable questions) a floor on
it would refuse at the cost of refusing 0, 1, 2, … more answerable questions. A signal worth adding
to ``qa.refuse`` refuses clearly more than the coverage the refusal threshold already uses (``context``).
"""

from __future__ import annotations

import sys

from eval.run import TOP_K, resolve_question
from eval.systems import Withholding, answer_paragraphs
from eval.tune import tune_split
from index.build import open_index
from index.logs import setup_logging
from index.settings import load_settings
from qa.answer import Answerer
from qa.refuse import without_years

Signals = dict[str, float]


def signals(answerer: Answerer, question: str) -> Signals | None:
    """The signals of the sentence ``answerer`` would quote first; None when it refuses anyway."""
    query = answerer.analyse(question)
    _, verdict = answerer.evidence(query, None, TOP_K)
    if not verdict.found:
        return None
    first = verdict.candidates[0]
    weights = answerer.weights
    content = without_years(query)
    heading = weights.tokens(first.paragraph.section)
    sentence = weights.tokens(first.text)
    total = sum(weights.weight(t) for t in set(content.tokens)) or 1.0
    missing = [weights.weight(t) for t in set(content.tokens) - weights.covered(content, sentence | heading)]
    return {
        "context": weights.coverage(content, sentence | heading),  # what found_threshold checks
        "sentence": weights.coverage(content, sentence),
        "paragraph": weights.coverage(content, weights.tokens(first.paragraph.text) | heading),
        "score": first.score,
        # Negated so that, like the others, a higher value means more evidence.
        "-heaviest missing": -max(missing, default=0.0) / total,
        "-missing words": -float(sum(1 for w in missing if w > 0)),
    }


def refused_at(answered: list[float], others: list[float], losses: list[int]) -> list[int]:
    """For each number of extra answerable questions lost, how many of ``others`` a floor refuses."""
    ranked = sorted(answered)
    return [sum(v < ranked[k] for v in others) if k < len(ranked) else len(others) for k in losses]


def main(argv: list[str]) -> int:
    setup_logging(quiet=True)
    items, settings = tune_split(load_settings(), "--cmrc" in argv)
    stored = open_index(settings)
    answerer = Answerer(settings, stored=stored)
    withholding = Withholding(settings, stored=stored, embedder=answerer.embedder)
    groups: dict[str, list[Signals]] = {"answerable": [], "near miss": [], "unanswerable": []}
    for item in items:
        question = resolve_question(item)
        asked: list[tuple[str, Answerer]] = [("answerable" if item.answerable else "unanswerable", answerer)]
        if item.answerable:
            withholding.withheld = answer_paragraphs(item, stored)
            asked.append(("near miss", withholding))
        for group, system in asked:
            found = signals(system, question)
            if found is not None:
                groups[group].append(found)
    answerable = sum(item.answerable for item in items)
    losses = sorted({0, 1, 2, 3, 5, round(0.01 * answerable), round(0.02 * answerable)})
    print(
        f"{len(items)} tune questions; answered: {len(groups['answerable'])} of {answerable} answerable, "
        f"{len(groups['near miss'])} near misses, {len(groups['unanswerable'])} unanswerable"
    )
    print("refused near misses / unanswerable, by answerable questions lost: " + ", ".join(map(str, losses)))
    for name in groups["answerable"][0] if groups["answerable"] else []:
        answered = [s[name] for s in groups["answerable"]]
        near = refused_at(answered, [s[name] for s in groups["near miss"]], losses)
        unanswerable = refused_at(answered, [s[name] for s in groups["unanswerable"]], losses)
        print(f"{name:>18}  " + "  ".join(f"{n}/{u}" for n, u in zip(near, unanswerable, strict=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
