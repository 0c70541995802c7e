"""A new user's path with the real model (slow): add a PDF and a saved web page from the command line,
ask about each, check the cited page of the PDF, remove both again.

The PDF is the committed Chromium print of an excerpt of 河南's 2026 report (running header, page
numbers); the page a saved government article holding an excerpt of 浙江's (navigation, breadcrumbs,
share links, ICP footer, scripts). Each command runs as a user runs it: a new ``python -m`` process.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pypdfium2
import pytest

from index.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PDF = FIXTURES / "pdf" / "report.pdf"
PAGE = FIXTURES / "html" / "govcn.html"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=600,
        check=False,
    )


def library_state(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()}


def page_text(pdf: Path, page: int) -> str:
    """The text of one page of ``pdf`` (1-based) as PDFium reads it, white space removed."""
    document = pypdfium2.PdfDocument(str(pdf))
    try:
        return re.sub(r"\s", "", document[page - 1].get_textpage().get_text_range())
    finally:
        document.close()


def test_a_pdf_and_a_saved_page_are_added_asked_about_and_removed(tmp_path: Path) -> None:
    library, index_dir = tmp_path / "library", tmp_path / "index"
    shutil.copytree(PROJECT_ROOT / "data" / "reports", library)
    where = ["--corpus", str(library), "--index", str(index_dir)]
    assert run("index", "build", *where, "-q").returncode == 0
    before = library_state(library)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    shutil.copy2(PDF, downloads / "河南省2026年政府工作报告.pdf")
    shutil.copy2(PAGE, downloads / "浙江省人民政府 政府工作报告.html")

    added = run("index", "add", *map(str, sorted(downloads.iterdir())), *where, "-q")
    assert added.returncode == 0, added.stderr
    lines = added.stdout.strip().splitlines()
    assert len(lines) == 2
    pdf_line = next(line for line in lines if "河南省" in line)
    assert re.search(r"  3 页  \[pdf\]$", pdf_line) and "2026" in pdf_line
    assert any("浙江省" in line and line.endswith("[html]") for line in lines)
    assert (library / "河南省2026年政府工作报告.pdf").read_bytes() == PDF.read_bytes()  # the original, kept

    asked = run(
        "qa", "ask", "河南粮食总产量连续多少年稳定在1300亿斤以上？", "--json", "--index", str(index_dir)
    )
    answer = json.loads(asked.stdout)
    assert answer["found"], answer["answer"]
    citation = next(c for c in answer["citations"] if c["doc_id"] == "河南省2026年政府工作报告")
    quote = citation["text"][citation["start"] : citation["end"]]
    assert "1300亿斤" in quote
    # The cited page of the original PDF holds the quote's start: a reader who opens it there finds it.
    assert citation["page"] == 2
    assert re.sub(r"\s", "", quote)[:20] in page_text(
        library / "河南省2026年政府工作报告.pdf", citation["page"]
    )

    asked = run("qa", "ask", "浙江2025年规上工业增加值增长多少？", "--json", "--index", str(index_dir))
    answer = json.loads(asked.stdout)
    first = answer["citations"][0]
    assert answer["found"] and first["region"] == "浙江省" and first["page"] is None
    assert "6.9%" in answer["quotes"][0]["text"]

    ids = [line.split()[1] for line in lines]
    removed = run("index", "remove", *ids, *where, "-q")
    assert removed.returncode == 0, removed.stderr
    assert library_state(library) == before
