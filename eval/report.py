"""Reporting: dataset runs in, a terminal table, results JSON, a Markdown report and PNG charts out.

Each results file records the configuration, the git commit, library versions and the machine
beside the figures, so any number in the README can be traced to the run that produced it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import subprocess
import time
from pathlib import Path

from eval.run import DatasetRun
from index.settings import PROJECT_ROOT, Settings
from index.store import library_versions

COLUMNS = (
    "hit@1",
    "hit@5",
    "mrr@10",
    "ndcg@10",
    "quote@1",
    "quote_any",
    "mean_passage_chars",
    "latency_p50_ms",
    "latency_p95_ms",
)
PROJECT_COLUMNS = (
    "citation_integrity",
    "refusal_precision",
    "refusal_recall",
    "false_refusal_rate",
    "withheld_refusal",
    "wrong_region@1",
)


def git_commit() -> str:
    """Short commit, ``+changes`` when tracked files other than results differ; read-only (no optional
    index refresh, so it never takes git's lock while someone else commits)."""
    try:
        commit = subprocess.run(
            ["git", "--no-optional-locks", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=PROJECT_ROOT,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            [
                *("git", "--no-optional-locks", "status", "--porcelain", "--untracked-files=no"),
                *("--", ".", ":!eval/results"),
            ],
            capture_output=True,
            text=True,
            cwd=PROJECT_ROOT,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit}{'+changes' if dirty else ''}" if commit else "unknown"


def machine() -> dict[str, str | int]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count() or 0,
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def table(run: DatasetRun, split: str) -> str:
    """A Markdown table: one row per system."""
    header = "| system | " + " | ".join(COLUMNS) + " |"
    lines = [header, "|" + " --- |" * (len(COLUMNS) + 1)]
    for system, figures in run.figures[split].items():
        lines.append(f"| {system} | " + " | ".join(f"{figures[c]:g}" for c in COLUMNS) + " |")
    return "\n".join(lines)


ABLATION_COLUMNS = ("hit@1", "hit@5", "mrr@10", "quote@1", "refusal_recall", "false_refusal_rate")


def ablation_table(run: DatasetRun, split: str) -> str:
    """The project with each component switched off, one at a time."""
    lines = [
        "| variant | " + " | ".join(ABLATION_COLUMNS) + " |",
        "|" + " --- |" * (len(ABLATION_COLUMNS) + 1),
    ]
    for label, figures in run.ablation.get(split, {}).items():
        lines.append(f"| {label} | " + " | ".join(f"{figures[c]:g}" for c in ABLATION_COLUMNS) + " |")
    return "\n".join(lines)


def project_table(runs: list[DatasetRun]) -> str:
    lines = [
        "| dataset | split | questions | " + " | ".join(PROJECT_COLUMNS) + " |",
        "|" + " --- |" * (len(PROJECT_COLUMNS) + 3),
    ]
    for run in runs:
        for split, systems in run.figures.items():
            figures = list(systems.values())[-1]
            lines.append(
                f"| {run.name} | {split} | {figures['questions']} | "
                + " | ".join(f"{figures[c]:g}" for c in PROJECT_COLUMNS)
                + " |"
            )
    return "\n".join(lines)


def type_table(run: DatasetRun, split: str) -> str:
    project = list(run.figures[split].values())[-1]["by_type"]
    lines = ["| type | n | hit@1 | quote@1 | refused |", "| --- | --- | --- | --- | --- |"]
    for kind, row in project.items():
        cells = ["–" if row[c] is None else f"{row[c]:g}" for c in ("hit@1", "quote@1", "refused")]
        lines.append(f"| {kind} | {row['n']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def refusal_chart(run: DatasetRun, operating: float, path: Path) -> None:
    """Refusal recall against wrong refusals, one line per split, the chosen threshold marked."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5))
    for split, points in run.refusal_curve.items():
        xs = [p["false_refusal_rate"] for p in points]
        ys = [p["refusal_recall"] for p in points]
        line = ax.plot(xs, ys, marker="o", label=f"{split} split")[0]
        withheld = [p["withheld_refusal"] for p in points]
        colour = line.get_color()
        ax.plot(xs, withheld, marker=".", linestyle="--", color=colour, label=f"{split}: answer withheld")
        for p in points:
            if p["threshold"] == operating:
                ax.scatter(
                    [p["false_refusal_rate"]],
                    [p["refusal_recall"]],
                    s=160,
                    facecolors="none",
                    edgecolors=line.get_color(),
                    linewidths=2,
                )
    ax.axvline(0.05, color="grey", linestyle=":", label="5% wrong refusals")
    ax.set_xlabel("answerable questions wrongly refused")
    ax.set_ylabel("unanswerable (or answer withheld) questions refused")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(f"{run.name}: refusal threshold swept (circle = setting {operating:g})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def curve_table(run: DatasetRun) -> str:
    splits = list(run.refusal_curve)
    lines = [
        "| threshold | "
        + " | ".join(f"{s}: refused / wrongly refused / answer withheld, refused" for s in splits)
        + " |",
        "|" + " --- |" * (len(splits) + 1),
    ]
    for n, threshold in enumerate(p["threshold"] for p in run.refusal_curve[splits[0]]):
        points = [run.refusal_curve[s][n] for s in splits]
        cells = [
            f"{p['refusal_recall']:g} / {p['false_refusal_rate']:g} / {p['withheld_refusal']:g}"
            for p in points
        ]
        lines.append(f"| {threshold:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def charts(runs: list[DatasetRun], out: Path, settings_threshold: float) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for run in runs:
        split = "test" if "test" in run.figures else next(iter(run.figures))
        systems = list(run.figures[split])
        metrics = ("hit@1", "hit@5", "mrr@10", "quote@1")
        fig, ax = plt.subplots(figsize=(12, 4))
        width = 0.8 / len(systems)
        for s, system in enumerate(systems):
            values = [run.figures[split][system][m] for m in metrics]
            ax.bar([m + s * width for m in range(len(metrics))], values, width, label=system)
        ax.set_xticks([m + 0.4 - width / 2 for m in range(len(metrics))], metrics)
        ax.set_ylim(0, 1)
        ax.set_title(f"{run.name} ({split} split): systems side by side")
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        path = out / f"{run.name}-systems.png"
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)

        if run.refusal_curve:
            path = out / f"{run.name}-refusal-curve.png"
            refusal_chart(run, settings_threshold, path)
            written.append(path)

        by_type = list(run.figures[split].values())[-1]["by_type"]
        kinds = [k for k, row in by_type.items() if row["hit@1"] is not None]
        if len(kinds) > 1:
            fig, ax = plt.subplots(figsize=(9, 4))
            for offset, metric in ((-0.2, "hit@1"), (0.2, "quote@1")):
                ax.bar(
                    [i + offset for i in range(len(kinds))],
                    [by_type[k][metric] for k in kinds],
                    0.4,
                    label=metric,
                )
            ax.set_xticks(range(len(kinds)), kinds)
            ax.set_ylim(0, 1)
            ax.set_title(f"{run.name} ({split} split): this project by question type")
            ax.legend()
            path = out / f"{run.name}-by-type.png"
            fig.tight_layout()
            fig.savefig(path, dpi=110)
            plt.close(fig)
            written.append(path)
    return written


def write(runs: list[DatasetRun], settings: Settings, out: Path, seconds: float) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "commit": git_commit(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "machine": machine(),
        "libraries": library_versions(),
        "seconds": round(seconds, 1),
        "settings": {k: str(v) for k, v in dataclasses.asdict(settings).items()},
    }
    results = {
        "meta": meta,
        "datasets": {
            run.name: {
                "questions": len(run.items),
                "chunks": run.chunks,
                "index_build_seconds": run.build_seconds,
                "figures": run.figures,
                "ablation": run.ablation,
                "refusal_curve": run.refusal_curve,
            }
            for run in runs
        },
    }
    (out / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    pictures = charts(runs, out, settings.found_threshold)
    parts = [
        f"# Evaluation report\n\nCommit {meta['commit']}, {meta['date']}, {meta['machine']['cpu']} "
        f"({meta['machine']['cores']} cores), {seconds:.0f} s in all. Model {settings.model}, chunks "
        f"{settings.chunk_size}/{settings.chunk_overlap}, fusion BM25 {settings.bm25_weight} / dense "
        f"{settings.dense_weight}.\n",
        "Passage metrics count an answer span found verbatim in the top passages; MRR@10 and nDCG@10 "
        "are against the gold paragraphs. A baseline's quote is the sentence of its top passage that "
        "shares most jieba tokens with the question.\n",
    ]
    for run in runs:
        parts.append(
            f"## {run.name}\n\n{len(run.items)} questions, {run.chunks} chunks, index built in "
            f"{run.build_seconds:.1f} s.\n"
        )
        for split in run.figures:
            parts.append(f"### {split} split\n\n{table(run, split)}\n")
        split = "test" if "test" in run.figures else next(iter(run.figures))
        parts.append(f"### This project by question type ({split} split)\n\n{type_table(run, split)}\n")
        for ablation_split in run.ablation:
            n = run.ablation[ablation_split]["full pipeline"]["questions"]
            heading = f"### Ablation ({ablation_split} split, {n} questions)"
            parts.append(f"{heading}\n\n{ablation_table(run, ablation_split)}\n")
    for run in runs:
        if run.refusal_curve:
            parts.append(
                f"## Refusal curve ({run.name})\n\nThe refusal threshold (`found_threshold`, now "
                f"{settings.found_threshold:g}) swept with every other setting fixed; the year, place "
                f"and unit checks stay on. *Answer withheld, refused*: every answerable question asked again "
                "with each paragraph holding its answer removed from the search, which makes it a near "
                f"miss that should be refused.\n\n{curve_table(run)}\n"
            )
    parts.append(
        "## This project: citations and refusals\n\n`withheld_refusal`: share of answerable questions "
        "refused when asked with every paragraph holding their answer withheld from the search (see "
        f"`eval.systems.Withholding`).\n\n{project_table(runs)}\n"
    )
    parts.extend(f"![{p.stem}]({p.name})\n" for p in pictures)
    report = out / "report.md"
    report.write_text("\n".join(parts), encoding="utf-8")
    return report
