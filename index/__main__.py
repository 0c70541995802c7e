"""Command line: ``python -m index build [--corpus DIR] [--index DIR] [--model M]``,
``python -m index add FILE... [--corpus DIR] [--index DIR] [--region R] [--year Y]``,
``python -m index remove REPORT_ID... [--corpus DIR] [--index DIR]`` and
``python -m index reports [--corpus DIR] [--json]``.

``add`` extracts each file (.txt/.md, .html/.htm, .pdf, .docx) into the library folder with its
metadata and rebuilds the index, embedding only the new reports' chunks; ``remove`` takes reports out
and rebuilds without embedding anything (``index.library``). Each prints one line per report: id,
title, region, years, paragraphs, pages. A progress bar on stderr follows the embedding.

``reports`` lists every report of a library folder with the metadata read for it and where each
field came from (the text, the file name, a .toml, or derived), so a user can check it before
building; fields that could not be read are warned about on stderr.

Prints one line per user error and exits non-zero (2 for bad usage); logs go to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from index.build import build_index, os_error_line
from index.corpus import Report, load_corpus
from index.errors import QAError
from index.library import add_reports, read_file, remove_reports, report_line, side_fields, user_fields
from index.logs import setup_logging
from index.metadata import period_text
from index.settings import load_settings
from index.store import load_index

EXAMPLE = """example:
  python -m index build                          # the bundled reports into .index/
  python -m index build --corpus my_reports/ --index my_index/
  python -m index build --model BAAI/bge-small-zh-v1.5
  python -m index reports --corpus data/examples/provincial_2026/   # what was read for each report
  python -m index add 罗湖区2026年政府工作报告.pdf --region 深圳市罗湖区 --year 2026
  python -m index remove 罗湖区2026年政府工作报告
"""
FIELDS = (
    ("region", "地区"),
    ("year", "年份"),
    ("reviews", "回顾"),
    ("plans", "规划"),
    ("title", "标题"),
    ("format", "格式"),
)


def _joined(separator: str, *parts: str) -> str:
    return separator.join(part for part in parts if part)


def report_fields(report: Report) -> dict[str, str]:
    """The fields ``reports`` shows, as text, each with ``<field>_from``: where it came from."""
    origins = dict(report.origins)
    unknown = "（未知）"
    return {
        "region": report.region + (f"（{report.level}）" if report.level else "")
        if report.region
        else unknown,
        "region_from": origins.get("region", ""),
        "year": str(report.year or unknown),
        "year_from": origins.get("year", ""),
        "reviews": _joined("；", str(report.reviews or ""), period_text(report.review_period)) or unknown,
        "reviews_from": _joined("; ", origins.get("reviews", ""), origins.get("review_period", "")),
        "plans": _joined("；", "、".join(map(str, report.plans)), period_text(report.plan_period)) or unknown,
        "plans_from": _joined("; ", origins.get("plans", ""), origins.get("plan_period", "")),
        "title": report.title,
        "title_from": origins.get("title", ""),
        "format": _joined("，", report.format, f"{len(report.pages)} 页" if report.pages else ""),
        "format_from": f"original: {report.original}" if report.original else "",
    }


def list_reports(corpus_dir: Path, as_json: bool) -> None:
    reports = load_corpus(corpus_dir)
    if as_json:
        for report in reports:
            row = {"doc_id": report.doc_id, "path": str(report.path)} | report_fields(report)
            print(json.dumps(row, ensure_ascii=False))
        return
    for report in reports:
        shown = report_fields(report)
        print(f"{report.doc_id}  ({report.path})")
        for name, label in FIELDS:
            origin = shown[f"{name}_from"]
            print(f"  {label} {name:<8} {shown[name]}" + (f"    ← {origin}" if origin else ""))
    print(f"{len(reports)} reports in {corpus_dir}")


class ProgressBar:
    """A progress bar on stderr for the chunks a build embeds (``index.vectors.Progress``); shown only
    when there is something to embed."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.quiet:
            return
        if self.bar is None:
            from tqdm import tqdm

            # disable=None: drawn only when stderr is a terminal, not into a log file.
            self.bar = tqdm(
                total=total, desc="embedding", unit="chunk", file=sys.stderr, leave=False, disable=None
            )
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _settings(args: argparse.Namespace) -> Any:
    return load_settings().replace(
        corpus_dir=args.corpus, index_dir=args.index, model=getattr(args, "model", None)
    )


def _paragraph_counts(index_dir: Path) -> dict[str, int]:
    stored = load_index(index_dir)
    counts: dict[str, int] = {}
    for doc_id, _ in stored.paragraphs:
        counts[doc_id] = counts.get(doc_id, 0) + 1
    return counts


def run_add(args: argparse.Namespace, progress: ProgressBar) -> int:
    settings = _settings(args)
    fields = user_fields(region=args.region, year=args.year)
    files = []
    for path in args.files:
        data = read_file(path)
        files.append((path.name, data, side_fields(path) | fields))
    added = add_reports(files, settings, progress)
    progress.close()
    counts = _paragraph_counts(settings.index_dir)
    for report in added:
        print("added   " + report_line(report, counts.get(report.doc_id)))
    return 0


def run_remove(args: argparse.Namespace, progress: ProgressBar) -> int:
    settings = _settings(args)
    removed = remove_reports(args.ids, settings, progress)
    progress.close()
    for report in removed:
        print("removed " + report_line(report))
    return 0


def run_build(args: argparse.Namespace, progress: ProgressBar) -> int:
    settings = _settings(args)
    folder = build_index(settings, progress=progress)
    progress.close()
    stored = load_index(settings.index_dir)
    counts = stored.manifest.counts
    print(
        f"built {folder} — {counts['reports']} reports, {counts['paragraphs']} paragraphs, "
        f"{counts['chunks']} chunks in {stored.manifest.build_seconds:.1f} s"
    )
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m index",
        description="Build the search index, add and remove reports.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name, help=help, epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        sub.add_argument("--corpus", type=Path, help="library folder (default: data/reports)")
        if name != "reports":
            sub.add_argument("--index", type=Path, help="index folder to write (default: .index)")
            sub.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
        return sub

    build = command("build", "index a folder of reports")
    build.add_argument("--model", help="embedding model: m3e-small, a local folder or a Hugging Face id")
    add = command("add", "add report files (.txt .md .html .htm .pdf .docx) to the library and index")
    add.add_argument("files", nargs="+", type=Path, metavar="FILE")
    add.add_argument("--region", help="the report's region (e.g. 深圳市罗湖区) if it is not read right")
    add.add_argument("--year", type=int, help="the year the report was delivered, if it is not read right")
    remove = command("remove", "take reports out of the library and index")
    remove.add_argument("ids", nargs="+", metavar="REPORT_ID", help="ids as `python -m index reports` lists")
    reports = command("reports", "list each report's metadata and where it came from")
    reports.add_argument("--json", action="store_true", help="one JSON object per report")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quiet = getattr(args, "quiet", False)
    setup_logging(quiet)
    progress = ProgressBar(quiet)
    try:
        if args.command == "reports":
            list_reports(load_settings().replace(corpus_dir=args.corpus).corpus_dir, args.json)
            return 0
        run = {"build": run_build, "add": run_add, "remove": run_remove}[args.command]
        return run(args, progress)
    except QAError as error:
        progress.close()
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except OSError as error:  # a read or write the build did not name itself
        progress.close()
        print(f"error: {os_error_line(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        progress.close()
        print("interrupted; the library and the previous index (if any) are unchanged", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
