"""Command line for questions (a contract: the evaluation and other tools depend on it).

    python -m qa ask "问题" [--json] [-k/--top-k 5] [--index DIR]
    python -m qa ask --json --batch FILE     # one question per line, '-' = stdin; JSON Lines out
    python -m qa                             # interactive prompt

With --json, stdout carries only JSON; progress and logs go to stderr. A user error prints one
line and exits non-zero (2 for bad usage, such as an empty question).
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from pathlib import Path
from typing import TextIO

from index.build import os_error_line
from index.errors import QAError, UsageError
from index.logs import setup_logging
from index.settings import Settings, load_settings
from qa.answer import Answer, Answerer, citation_label
from qa.compare import NOT_STATED

EXAMPLE = """examples:
  python -m qa ask "2020年罗湖区一般公共预算收入是多少？"
  python -m qa ask "三公经费下降了多少" --json -k 3
  printf '财政收入多少\\n棚改签约率\\n' | python -m qa ask --json --batch -
  python -m qa                      # interactive prompt
"""
MAX_BATCH_LINES = 100_000


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: two for a wide (Chinese) character."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_table(answer: Answer) -> str:
    """A comparison for a terminal: one line per report (region, year, its quote with [n] or 未找到),
    then the citations, the ranking (哪个…最高) and what the library lacks."""
    regions = [row.region or row.doc_id for row in answer.rows]
    width = max(display_width(r) for r in [*regions, "地区"])
    lines = [f"{'地区'}{' ' * (width - display_width('地区'))}  年份  报告原文"]
    for region, row in zip(regions, answer.rows, strict=True):
        said = f"{row.quote} [{row.citation}]" if row.found else NOT_STATED
        lines.append(f"{region}{' ' * (width - display_width(region))}  {row.year or '':<4}  {said}")
    if answer.citations:
        lines += ["", *(f"[{c.n}] {citation_label(c)}" for c in answer.citations)]
    if answer.ranking:
        lines += ["", answer.ranking.said]
    if answer.reason:
        lines += ["", answer.reason]
    return "\n".join(lines)


def format_answer(answer: Answer) -> str:
    """A readable answer for a terminal: the Markdown answer (a comparison as a table), then the
    passages it drew on."""
    lines = [format_table(answer) if answer.rows else answer.answer, ""]
    if answer.found:
        lines.append("检索到的段落：")
        for p in answer.passages:
            lines.append(
                f"  {p.rank}. [{p.doc_id} 第{p.paragraph}段] {p.text[:60]}{'…' if len(p.text) > 60 else ''}"
            )
    lines.append(f"（用时 {answer.elapsed_ms:.0f} 毫秒）")
    return "\n".join(lines)


def read_batch(source: str) -> list[str]:
    """Questions from a file or stdin, one per line; undecodable input is a usage error."""
    try:
        data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read batch file {source}: {error.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        where = "stdin" if source == "-" else source
        raise UsageError(f"{where} is not UTF-8 text (byte {error.start}) — save it as UTF-8") from None
    lines = text.splitlines()
    if len(lines) > MAX_BATCH_LINES:
        raise UsageError(f"batch has {len(lines)} lines; the limit is {MAX_BATCH_LINES}")
    return [line.strip() for line in lines if line.strip()]


def run_batch(answerer: Answerer, questions: list[str], top_k: int | None, out: TextIO) -> int:
    """JSON Lines, one object per question in order; a bad line gets an error object, not a stop."""
    status = 0
    for question in questions:
        try:
            row = answerer.ask(question, top_k).to_dict()
        except UsageError as error:
            row = {"question": question, "error": str(error)}
            status = 2
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        out.flush()
    return status


def interactive(answerer: Answerer, top_k: int | None) -> int:
    print("罗湖区政府工作报告问答。输入问题后回车；空行或 Ctrl-D 退出。")
    while True:
        try:
            question = input("问题> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        except UnicodeDecodeError:
            print("输入不是 UTF-8 文字，请重新输入（终端请使用 UTF-8 编码）。")
            continue
        if not question.strip():
            return 0
        try:
            print(format_answer(answerer.ask(question, top_k)))
        except UsageError as error:
            print(error)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m qa",
        description="Ask the reports a question.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command")
    ask = commands.add_parser(
        "ask",
        help="answer one question, or a batch",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ask.add_argument("question", nargs="?", help="the question (in quotes)")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    ask.add_argument("--batch", metavar="FILE", help="questions one per line ('-' = stdin); JSON Lines out")
    ask.add_argument("-k", "--top-k", type=int, help="passages to return (default 5)")
    ask.add_argument("--index", type=Path, help="index folder (default: .index, built on first use)")
    ask.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors on stderr")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command = args.command or "interactive"
    setup_logging(quiet=getattr(args, "quiet", False) or getattr(args, "json", False))
    try:
        settings: Settings = load_settings()
        if command == "ask":
            if args.batch and args.question:
                raise UsageError("give either a question or --batch FILE, not both")
            if args.top_k is not None and not 1 <= args.top_k <= 100:
                raise UsageError("-k/--top-k must be between 1 and 100")
            if not args.batch and (args.question is None or not args.question.strip()):
                raise UsageError(
                    '问题是空的，请输入一个问题，例如：python -m qa ask "2020年罗湖财政收入多少？"'
                )
            questions = read_batch(args.batch) if args.batch else None
        settings = settings.replace(index_dir=getattr(args, "index", None))
        # An index named on the command line is never rebuilt behind the user's back.
        answerer = Answerer(settings, rebuild=getattr(args, "index", None) is None)
        if command == "interactive":
            return interactive(answerer, None)
        if questions is not None:
            if not args.json:
                raise UsageError("--batch writes JSON Lines; add --json")
            return run_batch(answerer, questions, args.top_k, sys.stdout)
        answer = answerer.ask(args.question, args.top_k)
        print(
            json.dumps(answer.to_dict(), ensure_ascii=False, indent=2) if args.json else format_answer(answer)
        )
        return 0
    except QAError as error:
        print(f"错误：{error}" if isinstance(error, UsageError) else f"error: {error}", file=sys.stderr)
        return error.exit_code
    except OSError as error:  # e.g. no space or permission while building the index on first use
        print(f"error: {os_error_line(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
