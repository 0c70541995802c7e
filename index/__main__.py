"""Command line: ``python -m index build [--corpus DIR] [--index DIR] [--model M]`` and
``python -m index reports [--corpus DIR] [--json]``.

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

from index.build import build_index, os_error_line
from index.corpus import Report, load_corpus
from index.errors import QAError
from index.logs import setup_logging
from index.metadata import period_text
from index.settings import load_settings
from index.store import load_index

EXAMPLE = """example:
  python -m index build                          # the bundled reports into .index/
  python -m index build --corpus my_reports/ --index my_index/
  python -m index build --model BAAI/bge-small-zh-v1.5
  python -m index reports --corpus data/examples/provincial_2026/   # what was read for each report
"""
FIELDS = (
    ("region", "地区"),
    ("year", "年份"),
    ("reviews", "回顾"),
    ("plans", "规划"),
    ("title", "标题"),
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m index",
        description="Build the search index.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser(
        "build",
        help="index a folder of reports",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    build.add_argument("--corpus", type=Path, help="folder of .txt/.md reports (default: data/reports)")
    build.add_argument("--index", type=Path, help="index folder to write (default: .index)")
    build.add_argument("--model", help="embedding model: m3e-small, a local folder or a Hugging Face id")
    build.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    reports = commands.add_parser(
        "reports",
        help="list each report's metadata and where it came from",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    reports.add_argument("--corpus", type=Path, help="library folder (default: data/reports)")
    reports.add_argument("--json", action="store_true", help="one JSON object per report")
    args = parser.parse_args(argv)
    setup_logging(getattr(args, "quiet", False))
    if args.command == "reports":
        try:
            list_reports(load_settings().replace(corpus_dir=args.corpus).corpus_dir, args.json)
        except QAError as error:
            print(f"error: {error}", file=sys.stderr)
            return error.exit_code
        return 0
    try:
        settings = load_settings().replace(corpus_dir=args.corpus, index_dir=args.index, model=args.model)
        folder = build_index(settings)
        stored = load_index(settings.index_dir)
    except QAError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except OSError as error:  # a read or write the build did not name itself
        print(f"error: {os_error_line(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; the previous index (if any) is unchanged", file=sys.stderr)
        return 130
    counts = stored.manifest.counts
    print(
        f"built {folder} — {counts['reports']} reports, {counts['paragraphs']} paragraphs, "
        f"{counts['chunks']} chunks in {stored.manifest.build_seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
