"""Evaluation datasets: question files in, validated ``EvalItem`` objects out.

Format (JSON Lines, one question per line)::

    {"id": "lh-001", "question": "…", "previous": null | "…", "type": "figure",
     "answerable": true, "answers": ["verbatim span", …],
     "gold": [{"report": "luohu-2021", "line": 10}, …], "split": "tune" | "test",
     "region": "深圳市罗湖区" | null}

``region`` (optional): the official full name of the region the question asks about, or null when
it names none; the evaluation counts first quotes taken from another region's report.

Gold is anchored to the report file (its id and 1-based line), not to our paragraph numbering,
so the labels stay valid when segmentation changes; ``gold_paragraphs`` maps them onto the
paragraph ids of a built index. ``validate`` checks every span against its gold lines and the
report file. CMRC 2018 is converted into the same shape: one report file per Wikipedia paragraph.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

from index.corpus import load_corpus
from index.settings import PROJECT_ROOT
from index.store import StoredIndex

DATASETS = Path(__file__).resolve().parent / "datasets"
LUOHU = DATASETS / "luohu_qa.jsonl"
# Questions over the library of the two 罗湖 reports and the fifteen provincial ones (``data/``).
LIBRARY = DATASETS / "library_qa.jsonl"
LIBRARY_CORPUS = PROJECT_ROOT / "data"
CMRC = DATASETS / "cmrc2018" / "cmrc2018_dev.json"
TYPES = (
    "figure",
    "name_place",
    "list",
    "why_how",
    "year_specific",
    "period",
    "no_region",
    "follow_up",
    "unanswerable",
    "cmrc",
)


@dataclass(frozen=True)
class Gold:
    report: str
    line: int


@dataclass(frozen=True)
class EvalItem:
    id: str
    question: str
    previous: str | None
    type: str
    answerable: bool
    answers: tuple[str, ...]
    gold: tuple[Gold, ...]
    split: str
    region: str | None = None  # the region the question asks about (official full name)


class DatasetError(ValueError):
    """A question file that does not follow the format; the message names the item."""


def load_items(path: Path) -> list[EvalItem]:
    items = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                items.append(
                    EvalItem(
                        id=str(row["id"]),
                        question=row["question"],
                        previous=row.get("previous"),
                        type=row.get("type", "other"),
                        answerable=bool(row["answerable"]),
                        answers=tuple(row.get("answers", ())),
                        gold=tuple(Gold(g["report"], int(g["line"])) for g in row.get("gold", ())),
                        split=row.get("split", "test"),
                        region=row.get("region"),
                    )
                )
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
                raise DatasetError(f"{path} line {number}: {error!r}") from None
    return items


def report_lines(corpus_dir: Path) -> dict[str, list[str]]:
    """Report id → its file's lines (1-based access via index - 1)."""
    return {r.doc_id: r.text.split("\n") for r in load_corpus(corpus_dir)}


def validate(items: list[EvalItem], corpus_dir: Path) -> list[str]:
    """Problems found, one line each (empty when the file is sound)."""
    lines = report_lines(corpus_dir)
    texts = {doc_id: "\n".join(file_lines) for doc_id, file_lines in lines.items()}
    problems = []
    ids = [item.id for item in items]
    if len(set(ids)) != len(ids):
        problems.append("duplicate ids")
    for item in items:
        where = f"{item.id}:"
        if not item.question.strip():
            problems.append(f"{where} empty question")
        if item.answerable != bool(item.answers) or item.answerable != bool(item.gold):
            problems.append(f"{where} answerable={item.answerable} but answers/gold do not agree")
        if (item.type == "follow_up") != (item.previous is not None):
            problems.append(f"{where} follow-ups (and only they) need 'previous'")
        for gold in item.gold:
            if gold.report not in lines or not 1 <= gold.line <= len(lines[gold.report]):
                problems.append(f"{where} gold {gold} is not a line of a report")
                continue
            gold_line = lines[gold.report][gold.line - 1]
            if not any(span in gold_line for span in item.answers):
                problems.append(f"{where} gold line {gold.report}:{gold.line} holds none of the answer spans")
        for span in item.answers:
            gold_text = " ".join(
                lines[g.report][g.line - 1]
                for g in item.gold
                if g.report in lines and 1 <= g.line <= len(lines[g.report])
            )
            if span not in gold_text:
                problems.append(f"{where} span {span!r} is not in its gold lines")
            if not any(span in text for text in texts.values()):
                problems.append(f"{where} span {span!r} is not in any report file")
    return problems


def gold_paragraphs(item: EvalItem, stored: StoredIndex) -> set[tuple[str, int]]:
    """(doc_id, paragraph number) of every indexed paragraph on a gold line."""
    found = set()
    for gold in item.gold:
        starts = _line_starts(stored, gold.report)
        if starts is None or gold.line > len(starts):
            continue
        line_start = starts[gold.line - 1]
        line_end = starts[gold.line] if gold.line < len(starts) else float("inf")
        for (doc_id, number), paragraph in stored.paragraphs.items():
            if doc_id == gold.report and line_start <= paragraph.start < line_end:
                found.add((doc_id, number))
    return found


_LINE_STARTS: dict[tuple[int, str], list[int] | None] = {}


def _line_starts(stored: StoredIndex, doc_id: str) -> list[int] | None:
    key = (id(stored), doc_id)
    if key not in _LINE_STARTS:
        report = stored.reports.get(doc_id)
        if report is None:
            _LINE_STARTS[key] = None
        else:
            text = Path(report.path).read_text(encoding="utf-8")
            starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
            _LINE_STARTS[key] = starts
    return _LINE_STARTS[key]


def prepare_cmrc(source: Path, corpus_dir: Path, limit: int | None = None) -> list[EvalItem]:
    """Write CMRC 2018's paragraphs (the first ``limit``) as a report folder and return their questions.

    The questions of every other article (the 1st, 3rd, …) form a "tune" split that ``eval.tune --cmrc``
    may fit settings on; the others are the held-out "test" split. All paragraphs are indexed either
    way, so the two splits search the same corpus.
    """
    data = json.loads(source.read_text(encoding="utf-8"))["data"][:limit]
    corpus_dir.mkdir(parents=True, exist_ok=True)
    items = []
    for number, entry in enumerate(data):
        split = "tune" if number % 2 == 0 else "test"
        for paragraph in entry["paragraphs"]:
            doc_id = paragraph["id"]
            text_path = corpus_dir / f"{doc_id}.txt"
            if not text_path.exists():
                text_path.write_text(paragraph["context"], encoding="utf-8")
                meta = {
                    "id": doc_id,
                    "title": entry.get("title", doc_id),
                    "year": 0,
                    "plans": [],
                    "source": "CMRC 2018 dev (CC BY-SA 4.0)",
                }
                (corpus_dir / f"{doc_id}.toml").write_text(_toml(meta), encoding="utf-8")
            n_lines = paragraph["context"].count("\n") + 1
            gold = tuple(Gold(doc_id, n) for n in range(1, n_lines + 1))
            for qa in paragraph["qas"]:
                spans = tuple(dict.fromkeys(a["text"] for a in qa["answers"] if a["text"].strip()))
                items.append(EvalItem(qa["id"], qa["question"], None, "cmrc", True, spans, gold, split))
    return items


def _toml(values: dict) -> str:
    lines = []
    for key, value in values.items():
        lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    text = "\n".join(lines) + "\n"
    tomllib.loads(text)  # JSON strings and lists are valid TOML; fail here rather than at build
    return text
