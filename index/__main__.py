"""Command line: ``python -m index build [--corpus DIR] [--index DIR] [--model M]``.

Prints one line per user error and exits non-zero (2 for bad usage); logs go to stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from index.build import build_index, os_error_line
from index.errors import QAError
from index.logs import setup_logging
from index.settings import load_settings
from index.store import load_index

EXAMPLE = """example:
  python -m index build                          # the bundled reports into .index/
  python -m index build --corpus my_reports/ --index my_index/
  python -m index build --model BAAI/bge-small-zh-v1.5
"""


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
    args = parser.parse_args(argv)
    setup_logging(args.quiet)
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
