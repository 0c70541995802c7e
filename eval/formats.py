"""Reports added as PDF, web page or Word file against the same reports added as text.

``python -m eval.formats [--formats txt,pdf,html,docx] [--out eval/results/formats.md]``

In: the 15 provincial reports of ``data/examples/provincial_2026`` in each format — the text files
themselves; the PDFs that ``python -m eval.extract_pdf`` printed with Chromium (running header, page
numbers, varied page sizes and fonts); the saved government pages that ``python -m eval.extract_html``
wrote (templates taken in turn, so every template is used); Word files written here with python-docx —
and the library question set (``eval/datasets/library_qa.jsonl``, every split).
Out: for each format, a library of the two 罗湖 reports plus the 15 added with ``index.library.add_reports``
(the product's own path), and on it: top-1 passage and first quote holding the answer, unanswerable
questions refused and answerable ones wrongly refused, whether every quote is an exact slice of its
stored report, whether every PDF citation names the page holding its quote, quotes showing page
furniture; then the wall time of ``python -m index add`` for one report (浙江, about 22,000 characters)
into the 16 others, each format with a vector cache that has never seen it. Prints and writes Markdown.

The generated files come from those two scripts' caches (``eval/.cache/extract-pdf``,
``eval/.cache/extract-html``); run them first.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from eval.dataset import LIBRARY, load_items
from eval.metrics import contains_answer
from eval.report import git_commit, machine
from index.build import build_index
from index.library import add_reports
from index.logs import setup_logging
from index.settings import PROJECT_ROOT, load_settings
from index.store import load_index
from qa.answer import Answerer

PROVINCIAL = PROJECT_ROOT / "data" / "examples" / "provincial_2026"
LUOHU = PROJECT_ROOT / "data" / "reports"
CACHE = PROJECT_ROOT / "eval" / ".cache"
PDF_DIR = CACHE / "extract-pdf" / "chromium"
HTML_DIR = CACHE / "extract-html"
SCRATCH = CACHE / "formats"
SEED_CACHE = CACHE / "library-index" / "vector-cache"  # the txt library's vectors (python -m eval)
TIMED_REPORT = "浙江省_2026"
FORMATS = ("txt", "pdf", "html", "docx")
# Furniture that must never be quoted: page numbers, ICP and police record numbers, share and print links.
FURNITURE = re.compile(
    r"ICP备|公网安备|网站标识码|分享到|打印本页|关闭窗口|当前位置|^[-—－\s]*\d+[-—－\s]*$|第\s*\d+\s*页"
)


def html_files() -> dict[str, Path]:
    """One saved page per report, the templates taken in turn."""
    pages = sorted(HTML_DIR.glob("*.html"))
    templates = sorted({p.name.split(".")[1] for p in pages if not p.name.startswith(("000_", "003_"))})
    chosen = {}
    for number, source in enumerate(sorted(PROVINCIAL.glob("*.txt"))):
        template = templates[number % len(templates)]
        chosen[source.stem] = HTML_DIR / f"{source.stem}.{template}.html"
    return chosen


def docx_bytes(text: str) -> bytes:
    """A Word file of the report: its first line as the title, 「一、」 lines as headings, the rest as
    body paragraphs with a first-line indent, as a government office would type it."""
    import docx
    from docx.shared import Pt

    document = docx.Document()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    document.add_heading(lines[0], level=0)
    for line in lines[1:]:
        if re.match(r"^[一二三四五六七八九十]+、", line) and len(line) < 40:
            document.add_heading(line, level=1)
        else:
            paragraph = document.add_paragraph(line)
            paragraph.paragraph_format.first_line_indent = Pt(24)
    section = document.sections[0]
    section.footer.paragraphs[0].text = "— 1 —"  # a footer, which extraction must drop
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def source_files(kind: str) -> dict[str, tuple[str, bytes]]:
    """Report id → (file name, bytes) for the 15 provincial reports in ``kind``."""
    files = {}
    pages = html_files() if kind == "html" else {}
    for source in sorted(PROVINCIAL.glob("*.txt")):
        doc_id = source.stem
        if kind == "txt":
            data = source.read_bytes()
        elif kind == "pdf":
            data = (PDF_DIR / f"{doc_id}.pdf").read_bytes()
        elif kind == "html":
            data = pages[doc_id].read_bytes()
        else:
            data = docx_bytes(source.read_text(encoding="utf-8"))
        files[doc_id] = (f"{doc_id}.{kind}", data)
    return files


def fresh_library(name: str, reports: list[Path]) -> tuple[Path, Path]:
    """A library folder holding ``reports`` (with their .toml files) and an empty index folder beside it,
    sharing the exported model of the evaluation's library index."""
    root = SCRATCH / name
    shutil.rmtree(root, ignore_errors=True)
    corpus, index_dir = root / "library", root / "index"
    corpus.mkdir(parents=True)
    for path in reports:
        shutil.copy2(path, corpus / path.name)
        if path.with_suffix(".toml").exists():
            shutil.copy2(path.with_suffix(".toml"), corpus / path.with_suffix(".toml").name)
    index_dir.mkdir()
    models = CACHE / "library-index" / "models"
    if models.is_dir():
        (index_dir / "models").symlink_to(models.resolve())
    return corpus, index_dir


def quality(kind: str) -> dict[str, Any]:
    """The question set asked of the library with the provincial reports added as ``kind``."""
    corpus, index_dir = fresh_library(f"quality-{kind}", sorted(LUOHU.glob("*.txt")))
    if SEED_CACHE.is_dir():  # vectors of texts the evaluation embedded already: only changed text is new
        shutil.copytree(SEED_CACHE, index_dir / "vector-cache")
    settings = load_settings().replace(corpus_dir=corpus, index_dir=index_dir)
    build_index(settings)
    started = time.perf_counter()
    files = source_files(kind)
    add_reports([(name, data, {}) for name, data in files.values()], settings)
    add_seconds = time.perf_counter() - started
    stored = load_index(index_dir)
    answerer = Answerer(settings, stored)
    items = [item for item in load_items(LIBRARY) if not item.previous]
    figures: dict[str, Any] = {"format": kind, "reports": len(stored.reports), "add_15_seconds": add_seconds}
    top1 = quote1 = answerable = refused = unanswerable = wrongly = quotes = exact = pages_ok = 0
    pdf_citations = furniture = 0
    texts = {
        doc_id: Path(report.path).read_text(encoding="utf-8") for doc_id, report in stored.reports.items()
    }
    for item in items:
        answer = answerer.ask(item.question)
        for citation in answer.citations:
            quotes += 1
            paragraph = stored.paragraphs[(citation.doc_id, citation.paragraph)]
            quote = citation.text[citation.start : citation.end]
            text = texts[citation.doc_id]
            exact += text[paragraph.start : paragraph.end] == citation.text and quote in citation.text
            furniture += bool(FURNITURE.search(quote))
            report = stored.reports[citation.doc_id]
            if report.pages:
                pdf_citations += 1
                offset = paragraph.start + citation.start
                page = citation.page or 0
                end = report.pages[page] if page < len(report.pages) else len(text) + 1
                pages_ok += page >= 1 and report.pages[page - 1] <= offset < end
        if item.answerable:
            answerable += 1
            top1 += bool(answer.passages) and contains_answer(answer.passages[0].text, item.answers)
            quote1 += bool(answer.quotes) and contains_answer(answer.quotes[0].text, item.answers)
            wrongly += not answer.found
        else:
            unanswerable += 1
            refused += not answer.found
    figures |= {
        "questions": len(items),
        "top1": top1 / answerable,
        "quote1": quote1 / answerable,
        "refused": refused / unanswerable,
        "wrongly_refused": wrongly / answerable,
        "quotes": quotes,
        "exact_slices": exact / quotes if quotes else 1.0,
        "pdf_citations": pdf_citations,
        "pdf_pages_right": pages_ok / pdf_citations if pdf_citations else None,
        "furniture_quoted": furniture,
    }
    return figures


def add_time(kind: str) -> dict[str, Any]:
    """Wall time of ``python -m index add`` (a new process: start-up, extraction, embedding the new
    chunks, the rebuild) for one report into the 16 others, its chunks never embedded before."""
    others = [
        p for p in [*sorted(LUOHU.glob("*.txt")), *sorted(PROVINCIAL.glob("*.txt"))] if p.stem != TIMED_REPORT
    ]
    corpus, index_dir = fresh_library(f"add-{kind}", others)
    settings = load_settings().replace(corpus_dir=corpus, index_dir=index_dir)
    base = SCRATCH / "add-base-index"
    if not (base / "CURRENT").exists():  # the 16-report index, built once for every format
        shutil.rmtree(base, ignore_errors=True)
        base.mkdir(parents=True)
        if (index_dir / "models").exists():
            (base / "models").symlink_to((index_dir / "models").resolve())
        build_index(settings.replace(index_dir=base))
    shutil.rmtree(index_dir)
    shutil.copytree(base, index_dir, symlinks=True)
    # The copied manifest names the base's corpus folder; this library holds the same files.
    name, data = source_files(kind)[TIMED_REPORT]
    upload = SCRATCH / f"upload-{kind}" / name
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.write_bytes(data)
    command = [
        sys.executable,
        "-m",
        "index",
        "add",
        str(upload),
        "--corpus",
        str(corpus),
        "--index",
        str(index_dir),
    ]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    embedded = re.search(r"embedded (\d+) chunk texts.*reused (\d+)", done.stderr)
    return {
        "format": kind,
        "seconds": seconds,
        "exit": done.returncode,
        "line": done.stdout.strip(),
        "chars": len((corpus / f"{TIMED_REPORT}.txt").read_text(encoding="utf-8"))
        if done.returncode == 0
        else 0,
        "embedded": int(embedded.group(1)) if embedded else None,
        "reused": int(embedded.group(2)) if embedded else None,
        "error": done.stderr.strip().splitlines()[-1] if done.returncode else "",
    }


def render(quality_rows: list[dict[str, Any]], timing: list[dict[str, Any]]) -> str:
    info = machine()
    lines = [
        "# Reports added as PDF, web page and Word file against the same reports as text",
        "",
        f"`python -m eval.formats` at commit {git_commit()}; machine: {info.get('cpu', '?')}, "
        f"{info.get('cores', '?')} cores, load average {os.getloadavg()[0]:.1f} at the end; default settings "
        "(m3e-small int8, ONNX).",
        "",
        "Library: the two 罗湖 reports, plus the 15 provincial 2026 reports added with "
        "`index.library.add_reports` in one format. Questions: the library set (every split), asked "
        "without a follow-up. The vector cache starts with the text library's vectors, so adding 15 "
        "embeds only text that extraction changed: the column times extraction and the rebuild.",
        "",
        "| format | top-1 holds answer | first quote holds answer | unanswerable refused "
        "| answerable wrongly refused | quotes exact slices | PDF citations with the right page "
        "| quotes showing furniture | adding 15 (s) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in quality_rows:
        pages = (
            "–"
            if row["pdf_pages_right"] is None
            else f"{row['pdf_pages_right']:.3f} of {row['pdf_citations']}"
        )
        lines.append(
            f"| {row['format']} | {row['top1']:.3f} | {row['quote1']:.3f} | {row['refused']:.3f} "
            f"| {row['wrongly_refused']:.3f} | {row['exact_slices']:.3f} of {row['quotes']} | {pages} "
            f"| {row['furniture_quoted']} | {row['add_15_seconds']:.1f} |"
        )
    lines += [
        "",
        f"## Adding one report ({TIMED_REPORT}) to the 16 others: `python -m index add FILE`, wall time",
        "",
        "A new process each time (start-up, extraction, embedding the report's chunks, the rebuild), "
        "the vector cache holding the other 16 reports only.",
        "",
        "| format | wall (s) | characters stored | chunks embedded | reused from the cache | printed |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in timing:
        printed = row["line"] or row["error"]
        lines.append(
            f"| {row['format']} | {row['seconds']:.1f} | {row['chars']} | {row['embedded']} "
            f"| {row['reused']} | `{printed}` |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.formats", description=__doc__.split("\n\n")[0])
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "eval" / "results" / "formats.md")
    parser.add_argument("--no-timing", action="store_true", help="skip the add-time runs")
    args = parser.parse_args(argv)
    setup_logging(quiet=True)
    kinds = [k for k in args.formats.split(",") if k]
    if not PDF_DIR.is_dir() or not HTML_DIR.is_dir():
        print("error: run python -m eval.extract_pdf and python -m eval.extract_html first", file=sys.stderr)
        return 2
    quality_rows = []
    for kind in kinds:
        quality_rows.append(quality(kind))
        print(json.dumps(quality_rows[-1], ensure_ascii=False), flush=True)
    timing = []
    if not args.no_timing:
        for kind in kinds:
            timing.append(add_time(kind))
            print(json.dumps(timing[-1], ensure_ascii=False), flush=True)
    report = render(quality_rows, timing)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
