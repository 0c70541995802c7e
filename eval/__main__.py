"""``python -m eval``: run the evaluation offline and write the report.

    python -m eval                       # our question set and CMRC 2018 dev, all systems
    python -m eval --quick               # our set and a small CMRC subset (a fast check)
    python -m eval --dataset FILE        # any question file in the same format, on the bundled reports
    python -m eval --no-cmrc             # our set only

Figures go to the terminal and to eval/results/ (results.json, report.md, PNG charts).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from eval.dataset import LUOHU, DatasetError
from eval.report import ablation_table, table, write
from eval.run import cmrc_run, library_runs, luohu_run
from eval.systems import Project
from index.errors import QAError
from index.logs import setup_logging
from index.settings import PROJECT_ROOT, load_settings

log = logging.getLogger("eval")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m eval", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="CMRC on a small subset only")
    parser.add_argument("--dataset", type=Path, default=LUOHU, help="question file (JSON Lines)")
    parser.add_argument("--no-cmrc", action="store_true", help="skip CMRC 2018")
    parser.add_argument(
        "--no-library", action="store_true", help="skip the 17-report library (its set; the 罗湖 set on it)"
    )
    parser.add_argument(
        "--no-ablation", action="store_true", help="skip the ablation of the project's components"
    )
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "eval" / "results", help="results folder")
    args = parser.parse_args(argv)
    setup_logging()
    started = time.perf_counter()
    try:
        settings = load_settings()
        runs = [luohu_run(settings, args.dataset, not args.no_ablation)]
        if not args.no_library:
            runs.extend(library_runs(settings, not args.no_ablation))
        if not args.no_cmrc:
            runs.append(cmrc_run(settings, args.quick, not args.no_ablation))
    except (QAError, DatasetError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2 if isinstance(error, DatasetError | ValueError) else 1
    for run in runs:
        for split in run.figures:
            print(f"\n{run.name} — {split} split\n{table(run, split)}")
        for split in run.ablation:
            print(f"\n{run.name} — ablation, {split} split\n{ablation_table(run, split)}")
    report = write(runs, settings, args.out, time.perf_counter() - started)
    print(f"\nreport: {report}")
    # Quotes are sacred: one quote that is not an exact slice of its paragraph and report fails the run.
    broken = [
        f"{run.name}/{split}: {figures['citation_integrity']:.2%}"
        for run in runs
        for split, systems in run.figures.items()
        if (figures := systems[Project.name])["citation_integrity"] < 1.0
    ]
    if broken:
        print("error: citation integrity below 100% — " + "; ".join(broken), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
