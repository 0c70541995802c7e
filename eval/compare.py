"""Comparison evaluation: the comparison question set in, row figures, recognition and speed out.

    .venv/bin/python -m eval.compare                  # both splits, speed; writes eval/results/compare.md
    .venv/bin/python -m eval.compare --split tune     # the tune split only (while tuning; no file written)
    .venv/bin/python -m eval.compare --no-speed       # skip the 31-report speed run (nothing written)

Input: ``eval/datasets/compare_qa.jsonl`` — comparison questions with, per report in the scope they ask
about, the verbatim span that answers (anchored to lines of the report file) or none, and plain
questions that use the same words; the plain questions of ``library_qa.jsonl`` and ``luohu_qa.jsonl``
(all must stay single answers); the library ``data/`` (17 reports) indexed with the real model in
``eval/.cache/library-index`` (``eval.run``'s machinery); the settings (defaults, ``govqa.toml``,
``GOVQA_*``).

Output: the machine, then per split:
- **recognised**: comparison questions answered with rows; **left alone**: plain questions answered
  without rows (the 364 questions of the two other sets and the plain ones of this set);
- **scope**: comparisons whose rows are exactly the reports the question asks about;
- **row recall**: rows whose quote holds that report's gold span, over the reports that state it;
- **row precision**: found rows whose quote holds a gold span (or a span marked acceptable: a partial
  answer such as a level where the growth was asked) for that report, over found rows;
- **wrongly filled**: found rows for reports that do not state the fact (nor anything acceptable), over
  the rows of such reports (a row for a report outside the asked scope counts as one of them);
- **integrity**: every row's quote is the exact slice its citation names;
and the speed of one comparison over 31 reports (``speed``). ``eval/results/compare.md`` and
``compare.json`` record the figures with the commit and machine.

Row figures count every comparison question, recognised or not: a comparison answered as a single
answer has no rows and misses all its gold rows.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from eval.dataset import LIBRARY, LIBRARY_CORPUS, LUOHU, DatasetError, load_items, report_lines
from eval.report import git_commit, machine
from eval.run import CACHE, resolve_question
from index.build import open_index
from index.logs import setup_logging
from index.settings import PROJECT_ROOT, Settings, load_settings
from qa import rows as rows_module
from qa.answer import Answer, Answerer

log = logging.getLogger("eval.compare")

DATASET = PROJECT_ROOT / "eval" / "datasets" / "compare_qa.jsonl"
RESULTS = PROJECT_ROOT / "eval" / "results"
PROVINCIAL = LIBRARY_CORPUS / "examples" / "provincial_2026"
# The provinces the library has no report of: the 31-report speed library gives each one a copy of a
# provincial report's text under its own id and region (31 provincial-level reports in all).
OTHER_PROVINCES = (
    "北京市 天津市 山西省 内蒙古自治区 吉林省 上海市 江苏省 安徽省 江西省 山东省 广东省 "
    "广西壮族自治区 四川省 云南省 宁夏回族自治区 新疆维吾尔自治区"
).split()
SPEED_QUESTIONS = (
    "各省2025年地区生产总值增长了多少？",
    "各省2026年城镇新增就业目标是多少？",
    "哪些省份提出2026年地区生产总值增长5%左右？",
    "各省2025年粮食产量是多少？",
)
SPEED_REPEATS = 15


@dataclass(frozen=True)
class GoldRow:
    report: str
    lines: tuple[int, ...]  # the 1-based lines of the report file its spans are on
    answers: tuple[str, ...]  # spans that answer for this report; empty when it does not state it
    acceptable: tuple[str, ...] = ()  # partial answers: right if quoted, not required

    @property
    def states(self) -> bool:
        return bool(self.answers)


@dataclass(frozen=True)
class CompareItem:
    id: str
    question: str
    comparison: bool
    type: str  # group, filter, ranking, regions, years, plain
    split: str
    rows: tuple[GoldRow, ...]  # one per report the question asks about
    missing: tuple[str, ...] = ()  # regions it names that the library has no report of
    # A ranking question's reports with the highest (lowest) figure, [] when the reports' figures cannot
    # be ranked (units or periods differ, a bound); None when the set gives no winner.
    winner: tuple[str, ...] | None = None


def load_compare(path: Path = DATASET) -> list[CompareItem]:
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            items.append(
                CompareItem(
                    str(row["id"]),
                    row["question"],
                    bool(row["comparison"]),
                    row["type"],
                    row["split"],
                    tuple(
                        GoldRow(
                            g["report"],
                            tuple(g.get("lines", ())),
                            tuple(g.get("answers", ())),
                            tuple(g.get("acceptable", ())),
                        )
                        for g in row.get("rows", ())
                    ),
                    tuple(row.get("missing", ())),
                    tuple(row["winner"]) if row.get("winner") is not None else None,
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise DatasetError(f"{path} line {number}: {error!r}") from None
    return items


def validate_compare(items: list[CompareItem], corpus_dir: Path) -> list[str]:
    """Problems, one line each: a gold span not on its line, a line or report that does not exist."""
    lines = report_lines(corpus_dir)
    problems = []
    if len({i.id for i in items}) != len(items):
        problems.append("duplicate ids")
    for item in items:
        if item.comparison != bool(item.rows or item.missing):
            problems.append(f"{item.id}: a comparison needs rows or missing regions; a plain question none")
        for gold in item.rows:
            if gold.report not in lines:
                problems.append(f"{item.id}: no report {gold.report}")
                continue
            spans = gold.answers + gold.acceptable
            if bool(spans) != bool(gold.lines):
                problems.append(f"{item.id}: {gold.report} has spans without a line or a line without spans")
                continue
            if not all(1 <= n <= len(lines[gold.report]) for n in gold.lines):
                problems.append(f"{item.id}: {gold.report} has no line {gold.lines}")
                continue
            texts = [lines[gold.report][n - 1] for n in gold.lines]
            for span in spans:
                if not any(span in text for text in texts):
                    problems.append(f"{item.id}: {span!r} is not on {gold.report}:{gold.lines}")
    return problems


# ---------------------------------------------------------------------------------------------
# Scoring


def winner_figures(comparisons: list[Asked]) -> dict:
    """Ranking questions whose set gives a winner (``CompareItem.winner``): how many the answer names
    a winner for, how many of those are right (every winner named is one of the set's), and how many
    of the questions with a winner get it."""
    judged = [a for a in comparisons if a.item.winner is not None]
    named = [a for a in judged if a.answer.ranking and a.answer.ranking.winners]
    right = [a for a in named if a.item.winner and set(a.answer.ranking.winners) <= set(a.item.winner)]
    with_winner = [a for a in judged if a.item.winner]
    return {
        "ranking_questions_judged": len(judged),
        "winners_named": len(named),
        "winners_right": len(right),
        "winner_recall": round(len(right) / len(with_winner), 4) if with_winner else None,
        "wrong_winners": [
            f"{a.item.id}: named {','.join(a.answer.ranking.winners)}, set {','.join(a.item.winner) or '—'}"
            for a in named
            if a not in right
        ],
    }


@dataclass(frozen=True)
class Asked:
    item: CompareItem
    answer: Answer


def _holds(quote: str, spans: tuple[str, ...]) -> bool:
    return any(span in quote for span in spans)


def integrity(answer: Answer) -> bool:
    """Every row's quote is the exact slice of the paragraph its citation names."""
    citations = {c.n: c for c in answer.citations}
    for row in answer.rows:
        if not row.found:
            if row.quote or row.citation is not None:
                return False
            continue
        citation = citations.get(row.citation) if row.citation is not None else None
        if citation is None or citation.doc_id != row.doc_id:
            return False
        if citation.text[citation.start : citation.end] != row.quote:
            return False
    return True


def score(asked: list[Asked], plain_other: dict[str, list[bool]], by_kind: bool = True) -> dict:
    """Figures of one split: ``asked`` its items of this set, ``plain_other`` the left-alone flags of
    the plain questions of the other sets (set name → one flag per question)."""
    comparisons = [a for a in asked if a.item.comparison]
    plain = [a for a in asked if not a.item.comparison]
    stated = found_rows = found_right = not_stating = filled_wrongly = recalled = 0
    exact_scope = 0
    wrong: list[str] = []
    missed: list[str] = []
    by_type: dict[str, list[Asked]] = defaultdict(list)
    for a in comparisons:
        by_type[a.item.type].append(a)
        gold = {g.report: g for g in a.item.rows}
        rows = {r.doc_id: r for r in a.answer.rows}
        exact_scope += set(rows) == set(gold)
        for report, g in gold.items():
            row = rows.get(report)
            if g.states:
                stated += 1
                if row is not None and row.found and _holds(row.quote, g.answers):
                    recalled += 1
                else:
                    missed.append(f"{a.item.id} {report}: {row.quote[:60] if row and row.found else '—'}")
            elif not g.acceptable:
                not_stating += 1
                if row is not None and row.found:
                    filled_wrongly += 1
                    wrong.append(f"{a.item.id} {report}: {row.quote[:60]}")
        for report, row in rows.items():
            if not row.found:
                continue
            found_rows += 1
            g = gold.get(report)
            if g is not None and _holds(row.quote, g.answers + g.acceptable):
                found_right += 1
            if g is None:  # a report outside the asked scope, filled
                not_stating += 1
                filled_wrongly += 1
                wrong.append(f"{a.item.id} {report} (outside the scope): {row.quote[:60]}")

    def share(n: int, d: int) -> float | None:
        return round(n / d, 4) if d else None

    other = [flag for flags in plain_other.values() for flag in flags]
    left_alone = [not a.answer.rows for a in plain] + other
    figures = {
        "comparison_questions": len(comparisons),
        "plain_questions": len(left_alone),
        "recognised": share(sum(bool(a.answer.rows) for a in comparisons), len(comparisons)),
        "left_alone": share(sum(left_alone), len(left_alone)),
        "left_alone_this_set": share(sum(not a.answer.rows for a in plain), len(plain)),
        **{f"left_alone_{name}": share(sum(flags), len(flags)) for name, flags in plain_other.items()},
        "scope_exact": share(exact_scope, len(comparisons)),
        "row_recall": share(recalled, stated),
        "row_precision": share(found_right, found_rows),
        "wrongly_filled": share(filled_wrongly, not_stating),
        "wrongly_filled_of_all_rows": share(filled_wrongly, sum(len(a.answer.rows) for a in comparisons)),
        "rows_stating": stated,
        "rows_not_stating": not_stating,
        "rows_found": found_rows,
        "integrity": share(sum(integrity(a.answer) for a in comparisons), len(comparisons)),
        "latency_p50_ms": round(statistics.median(a.answer.elapsed_ms for a in comparisons), 1)
        if comparisons
        else None,
        "by_type": {},
        "missed_rows": missed,
        "wrong_rows": wrong,
        "not_recognised": [a.item.id for a in comparisons if not a.answer.rows],
        "tables_for_plain": [a.item.id for a in plain if a.answer.rows],
    }
    figures |= winner_figures(comparisons)
    for kind, group in sorted(by_type.items()) if by_kind else ():
        sub = score(group, {}, by_kind=False)
        figures["by_type"][kind] = {
            k: sub[k]
            for k in ("comparison_questions", "recognised", "row_recall", "row_precision", "wrongly_filled")
        }
    return figures


def ask_all(answerer: Answerer, items: list[CompareItem], row_checks: bool = True) -> list[Asked]:
    """Every item asked; ``row_checks`` False: rows judged as single answers only (the ablation)."""
    saved = rows_module.ROW_CHECKS
    rows_module.ROW_CHECKS = row_checks
    try:
        return [Asked(item, answerer.ask(item.question)) for item in items]
    finally:
        rows_module.ROW_CHECKS = saved


def plain_flags(answerer: Answerer, split: str) -> dict[str, list[bool]]:
    """Whether each question of the library and 罗湖 sets (in ``split``) keeps a single answer."""
    flags = {}
    for path in (LIBRARY, LUOHU):
        items = [i for i in load_items(path) if split in ("all", i.split)]
        flags[path.stem] = [not answerer.ask(resolve_question(i)).rows for i in items]
    return flags


# ---------------------------------------------------------------------------------------------
# Speed


def speed_library(folder: Path = CACHE / "compare31-corpus") -> Path:
    """A library of 33 reports: the 17 of ``data/`` and, for each province without a report, a copy of
    one of the fifteen provincial texts under that province's id, region and title (a .toml) — 31
    provincial-level reports, as in a complete year of provincial reports."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in [*sorted((LIBRARY_CORPUS / "reports").iterdir()), *sorted(PROVINCIAL.glob("*.txt"))]:
        if source.suffix in (".txt", ".toml") and not (folder / source.name).exists():
            shutil.copy2(source, folder / source.name)
    texts = sorted(PROVINCIAL.glob("*.txt"))
    for number, region in enumerate(OTHER_PROVINCES):
        stem = f"{region}_2026"
        if (folder / f"{stem}.txt").exists():
            continue
        text = texts[number % len(texts)]
        shutil.copy2(text, folder / f"{stem}.txt")
        (folder / f"{stem}.toml").write_text(
            f'id = "{stem}"\nregion = "{region}"\ntitle = "2026年{region}政府工作报告"\n'
            f'source = "copy of {text.name}, for the speed benchmark only"\n',
            encoding="utf-8",
        )
    return folder


def timed(answerer: Answerer, question: str, repeats: int) -> tuple[list[float], int]:
    """Milliseconds of each of ``repeats`` asks (after one warm-up), and the rows of the answer."""
    answer = answerer.ask(question)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        answerer.ask(question)
        times.append((time.perf_counter() - started) * 1000)
    return times, len(answer.rows)


def speed(settings: Settings, library_answerer: Answerer, repeats: int = SPEED_REPEATS) -> dict:
    """p50/p95 of comparisons over the 31 provincial reports of ``speed_library`` (the question embedded
    included), the same over the 17-report library, and what 31 single answers restricted to one
    report each cost instead (the per-report search a comparison avoids)."""
    corpus = speed_library()
    index_dir = CACHE / "compare31-index"
    cache = CACHE / "library-index" / "vector-cache"
    if not (index_dir / "vector-cache").exists() and cache.exists():
        # The copies' chunks are the provincial texts' own: their vectors are in the library's cache.
        shutil.copytree(cache, index_dir / "vector-cache")
    big = settings.replace(corpus_dir=corpus, index_dir=index_dir)
    answerer = Answerer(big, stored=open_index(big), embedder=library_answerer.embedder)
    figures: dict = {"reports": len(answerer.stored.reports), "chunks": len(answerer.stored.chunks)}
    runs = {}
    for question in SPEED_QUESTIONS:
        big_times, big_rows = timed(answerer, question, repeats)
        small_times, small_rows = timed(library_answerer, question, repeats)
        runs[question] = {
            "rows_31": big_rows,
            "p50_ms_31": round(statistics.median(big_times), 1),
            "p95_ms_31": round(sorted(big_times)[int(0.95 * (len(big_times) - 1))], 1),
            "rows_17": small_rows,
            "p50_ms_17": round(statistics.median(small_times), 1),
        }
    figures["questions"] = runs
    first = SPEED_QUESTIONS[0]
    doc_ids = [r.doc_id for r in answerer.ask(first).rows]
    single = []
    for _ in range(3):
        started = time.perf_counter()
        for doc_id in doc_ids:
            answerer.ask(first.replace("各省", ""), doc_ids=[doc_id])
        single.append((time.perf_counter() - started) * 1000)
    figures["separate_single_answers_ms"] = round(statistics.median(single), 1)
    figures["p50_ms_31"] = round(statistics.median(r["p50_ms_31"] for r in runs.values()), 1)
    return figures


# ---------------------------------------------------------------------------------------------
# Report


def markdown(figures: dict, meta: dict) -> str:
    lines = [
        "# Comparison questions (issue 17)",
        "",
        f"`python -m eval.compare` at commit {meta['commit']}, {meta['machine']}. "
        f"Question set: `eval/datasets/compare_qa.jsonl`; library `data/` (17 reports), real model.",
        "",
        "| figure | target | tune | test |",
        "| --- | --- | --- | --- |",
    ]
    targets = {
        "recognised": "≥ 0.95",
        "left_alone": "≥ 0.98",
        "scope_exact": "",
        "row_recall": "≥ 0.85",
        "row_precision": "≥ 0.90",
        "wrongly_filled": "≤ 0.05",
        "wrongly_filled_of_all_rows": "",
        "integrity": "1.0",
        "latency_p50_ms": "",
    }
    splits = figures["splits"]
    for key, target in targets.items():
        values = [str(splits.get(s, {}).get(key, "—")) for s in ("tune", "test")]
        lines.append(f"| {key} | {target} | {' | '.join(values)} |")
    lines += [
        "",
        "row recall: rows whose quote holds that report's gold span, over the reports that state the fact. "
        "row precision: found rows whose quote holds a gold (or acceptable partial) span of that report. "
        "wrongly filled: found rows of reports that do not state the fact, over those reports' rows "
        "(`_of_all_rows`: over every row shown). scope exact: the rows are exactly the reports asked about. "
        "left alone: the plain questions of this set, library_qa and luohu_qa answered without rows.",
        "",
        "Without the row model (each row quotes what a single answer restricted to its report would; "
        "`qa.rows.ROW_CHECKS = False`), same run:",
        "",
        "| figure | tune | test |",
        "| --- | --- | --- |",
    ]
    for key in ("row_recall", "row_precision", "wrongly_filled", "wrongly_filled_of_all_rows"):
        values = [
            str(splits.get(s, {}).get("without_row_checks", {}).get(key, "—")) for s in ("tune", "test")
        ]
        lines.append(f"| {key} | {' | '.join(values)} |")
    lines += ["", "Counts (tune / test):", ""]
    for key in ("comparison_questions", "plain_questions", "rows_stating", "rows_not_stating", "rows_found"):
        lines.append(f"- {key}: {' / '.join(str(splits.get(s, {}).get(key, '—')) for s in ('tune', 'test'))}")
    if "speed" in figures:
        sp = figures["speed"]
        lines += [
            "",
            f"## Speed ({sp['reports']} reports, {sp['chunks']} chunks; 31 provincial-level, 16 copies)",
            "",
            "| question | rows | p50 ms (31) | p95 ms (31) | rows (17-report library) | p50 ms (17) |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for question, run in sp["questions"].items():
            lines.append(
                f"| {question} | {run['rows_31']} | {run['p50_ms_31']} | {run['p95_ms_31']} | "
                f"{run['rows_17']} | {run['p50_ms_17']} |"
            )
        lines += [
            "",
            f"One comparison over 31 reports: p50 **{sp['p50_ms_31']} ms** (target ≤ 300 ms). The same "
            f"31 rows as 31 single answers, one report each: {sp['separate_single_answers_ms']} ms.",
        ]
    for split in ("tune", "test"):
        if split not in splits:
            continue
        s = splits[split]
        lines += [
            "",
            f"## {split}: by type",
            "",
            "| type | questions | recognised | recall | precision | wrongly filled |",
        ]
        lines.append("| --- | --- | --- | --- | --- | --- |")
        for kind, f in s["by_type"].items():
            lines.append(
                f"| {kind} | {f['comparison_questions']} | {f['recognised']} | {f['row_recall']} | "
                f"{f['row_precision']} | {f['wrongly_filled']} |"
            )
        for key, title in (
            ("missed_rows", "Rows missed"),
            ("wrong_rows", "Rows filled for a report that does not state it"),
            ("not_recognised", "Comparisons answered as a single answer"),
            ("tables_for_plain", "Plain questions turned into a table"),
        ):
            if s[key]:
                lines += ["", f"{title}:", ""] + [f"- {x}" for x in s[key]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.compare", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--split", default="all", help="tune, test, all (both), or a held-out file's split (heldout2…)"
    )
    parser.add_argument(
        "--dataset",
        type=Path,
        default=DATASET,
        help="question file (default: compare_qa.jsonl; compare_heldout.jsonl holds the split 'heldout')",
    )
    parser.add_argument(
        "--no-speed", action="store_true", help="skip the 31-report speed run (no results file is written)"
    )
    args = parser.parse_args(argv)
    setup_logging(quiet=True)
    settings = load_settings().replace(corpus_dir=LIBRARY_CORPUS, index_dir=CACHE / "library-index")
    items = load_compare(args.dataset)
    problems = validate_compare(items, LIBRARY_CORPUS)
    if problems:
        raise SystemExit(f"{args.dataset} has {len(problems)} problems, first: {problems[0]}")
    answerer = Answerer(settings, stored=open_index(settings))
    facts = machine()
    meta = {
        "commit": git_commit(),
        "machine": f"{facts['cpu']}, {facts['cores']} cores, Python {facts['python']}, "
        f"load average {os.getloadavg()[0]:.1f} at the start (other jobs ran beside it)",
        "model": answerer.stored.manifest.model,
    }
    print(f"machine  {meta['machine']}; model {meta['model']}; commit {meta['commit']}")
    splits = ("tune", "test") if args.split == "all" else (args.split,)
    figures: dict = {"meta": meta, "splits": {}}
    for split in splits:
        chosen = [i for i in items if i.split == split]
        figures["splits"][split] = score(ask_all(answerer, chosen), plain_flags(answerer, split))
        f = figures["splits"][split]
        single = score(ask_all(answerer, chosen, row_checks=False), {}, by_kind=False)
        f["without_row_checks"] = {
            k: single[k]
            for k in ("row_recall", "row_precision", "wrongly_filled", "wrongly_filled_of_all_rows")
        }
        print(
            f"{split:5}  recognised {f['recognised']}  left alone {f['left_alone']} "
            f"({f['plain_questions']} plain)  scope {f['scope_exact']}  row recall {f['row_recall']}  "
            f"precision {f['row_precision']}  wrongly filled {f['wrongly_filled']}  "
            f"integrity {f['integrity']}  p50 {f['latency_p50_ms']} ms"
        )
        if f["ranking_questions_judged"]:
            print(
                f"       ranking: winners named {f['winners_named']} of {f['ranking_questions_judged']}, "
                f"right {f['winners_right']}; winner recall {f['winner_recall']}"
            )
    if not args.no_speed:
        figures["speed"] = speed(settings, answerer)
        print(
            f"speed  one comparison over 31 reports: p50 {figures['speed']['p50_ms_31']} ms "
            f"(31 single answers instead: {figures['speed']['separate_single_answers_ms']} ms)"
        )
    # Only a complete run replaces the recorded figures: one without speed would drop that section.
    if args.split == "all" and args.dataset == DATASET and not args.no_speed:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "compare.md").write_text(markdown(figures, meta), encoding="utf-8")
        (RESULTS / "compare.json").write_text(
            json.dumps(figures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        print(f"wrote {RESULTS / 'compare.md'}")
    else:
        for split in splits:
            print(json.dumps(figures["splits"][split], ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
