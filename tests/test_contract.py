"""The answer contract of ``python -m qa ask --json`` and the command line's manners."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

import qa.answer
from index.errors import UsageError
from index.settings import Settings
from qa.__main__ import main
from qa.answer import NOT_FOUND, Answer, Answerer

QUESTIONS = [
    "2020年罗湖区一般公共预算收入是多少？",
    "2014年三公经费下降了多少",
    "莲塘口岸什么时候开通的",
    "罗湖2021年要新增多少保障性住房",
    "罗湖有多少所学校",
    "火星上有没有罗湖区的分部？",
]
CONTRACT_KEYS = {
    "question",
    "found",
    "answer",
    "quotes",
    "citations",
    "passages",
    "elapsed_ms",
    "reason",
    "rows",
    "ranking",
}
ROW_KEYS = {"doc_id", "region", "year", "found", "quote", "citation"}
RANKING_KEYS = {"most", "winners", "compared", "left_out", "why", "said"}


def check_contract(row: dict, stored) -> None:
    """Every quote is an exact slice of its cited paragraph, and that paragraph of its report file."""
    assert set(row) == CONTRACT_KEYS
    assert row["passages"], "passages are listed even when nothing is found"
    assert [p["rank"] for p in row["passages"]] == list(range(1, len(row["passages"]) + 1))
    citations = {c["n"]: c for c in row["citations"]}
    assert len(citations) == len(row["citations"]) == len(row["quotes"])
    # Up to 3 quotes for a single answer; one per found row for a comparison.
    most = sum(r["found"] for r in row["rows"]) if row["rows"] else 3
    assert 1 <= len(row["quotes"]) <= most if row["found"] else row["quotes"] == []
    seen = set()
    for quote in row["quotes"]:
        citation = citations[quote["citation"]]
        assert citation["text"][citation["start"] : citation["end"]] == quote["text"]
        assert f"[{quote['citation']}]" in row["answer"]
        report = stored.reports[citation["doc_id"]]
        file_text = Path(report.path).read_text(encoding="utf-8")
        paragraph = stored.paragraphs[(citation["doc_id"], citation["paragraph"])]
        assert file_text[paragraph.start : paragraph.end] == citation["text"]
        assert (citation["title"], citation["year"]) == (report.title, report.year)
        # A PDF report's citation names the page holding the quote's first character; others name none.
        offset = paragraph.start + citation["start"]
        if report.pages:
            page = citation["page"]
            assert report.pages[page - 1] <= offset < (report.pages[page:] or [len(file_text) + 1])[0]
        else:
            assert citation["page"] is None
        assert quote["text"] not in seen
        seen.add(quote["text"])
    if not row["found"]:
        assert row["answer"].startswith(NOT_FOUND)
    # A comparison's rows (qa.compare); a single answer has none. A found row quotes its citation.
    for compared in row["rows"]:
        assert set(compared) == ROW_KEYS
        if compared["found"]:
            citation = citations[compared["citation"]]
            assert citation["text"][citation["start"] : citation["end"]] == compared["quote"]
        else:
            assert compared["quote"] == "" and compared["citation"] is None
    # A ranking (哪个…最高, qa.rank) compares found rows only, names its winners among them or says why
    # it names none; anything else has none.
    ranking = row["ranking"]
    if ranking is not None:
        assert set(ranking) == RANKING_KEYS and row["rows"]
        found = {r["doc_id"]: r["citation"] for r in row["rows"] if r["found"]}
        assert all(found[f["doc_id"]] == f["citation"] for f in ranking["compared"])
        assert set(ranking["winners"]) <= {f["doc_id"] for f in ranking["compared"]}
        assert bool(ranking["winners"]) != bool(ranking["why"])


@pytest.mark.parametrize("question", QUESTIONS)
def test_answers_keep_the_contract(answerer: Answerer, question: str) -> None:
    answer = answerer.ask(question)
    row = json.loads(json.dumps(answer.to_dict(), ensure_ascii=False))
    check_contract(row, answerer.stored)
    assert row["rows"] == []


def test_a_comparison_keeps_the_contract(answerer: Answerer) -> None:
    answer = answerer.ask("罗湖区2014年和2020年的一般公共预算收入分别是多少？")
    row = json.loads(json.dumps(answer.to_dict(), ensure_ascii=False))
    check_contract(row, answerer.stored)
    assert [r["doc_id"] for r in row["rows"]] == ["luohu-2015", "luohu-2021"]
    ranked = answerer.ask("罗湖区2014年和2020年哪一年的一般公共预算收入更高？")
    row = json.loads(json.dumps(ranked.to_dict(), ensure_ascii=False))
    check_contract(row, answerer.stored)
    assert row["ranking"] is None or row["ranking"]["most"] == "更高"


def test_no_sentence_is_quoted_twice_across_the_repeated_2021_page(answerer: Answerer) -> None:
    # The 2021 page states 固定资产投资384亿元 in its summary and again in the full section.
    answer = answerer.ask("2020年罗湖固定资产投资多少亿元")
    texts = [q.text for q in answer.quotes]
    assert sum("384亿元" in t for t in texts) <= 1


@pytest.mark.parametrize("question", ["", "   ", "\n\t", "\x00\x01"])
def test_empty_question_is_a_usage_error(answerer: Answerer, question: str) -> None:
    with pytest.raises(UsageError, match="问题是空的"):
        answerer.ask(question)


def test_over_long_question_is_refused(answerer: Answerer) -> None:
    with pytest.raises(UsageError, match="太长"):
        answerer.ask("财政" * 5000)


@pytest.fixture()
def cli_env(monkeypatch: pytest.MonkeyPatch, fake_settings: Settings, fake_index, fake_embedder) -> Path:
    """The CLI pointed at the fake-embedder index, as a user would with --index."""
    monkeypatch.setattr(qa.answer, "settings_embedder", lambda *args, **kwargs: fake_embedder)
    monkeypatch.setenv("GOVQA_MODEL", fake_embedder.name)
    return fake_settings.index_dir


def test_cli_json_is_the_only_thing_on_stdout(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", QUESTIONS[0], "--json", "-k", "3", "--index", str(cli_env)]) == 0
    row = json.loads(capsys.readouterr().out)
    assert len(row["passages"]) == 3 and row["question"] == QUESTIONS[0]


def test_cli_batch_from_stdin_keeps_order(
    cli_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("\n".join(QUESTIONS[:3]).encode())))
    assert main(["ask", "--json", "--batch", "-", "--index", str(cli_env)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["question"] for r in rows] == QUESTIONS[:3]


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["ask", ""], b"", "问题是空的"),
        (["ask", "   "], b"", "问题是空的"),
        (["ask", "--json", "--batch", "-"], b"\xff\xfe\xb2\xc6", "not UTF-8"),
        (["ask", "问", "-k", "0"], b"", "top-k"),
    ],
)
def test_cli_user_errors_print_one_line_and_exit_2(
    cli_env: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    stdin: bytes,
    message: str,
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    assert main([*argv, "--index", str(cli_env)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1 and message in captured.err


def test_cli_missing_index_names_the_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "财政收入", "--index", str(tmp_path / "none")]) == 1
    err = capsys.readouterr().err
    assert "python -m index build" in err and "Traceback" not in err


def test_answer_dataclass_round_trips_to_json(answerer: Answerer) -> None:
    answer: Answer = answerer.ask(QUESTIONS[1])
    row = answer.to_dict()
    assert isinstance(row["quotes"], list | tuple) and isinstance(row["elapsed_ms"], float)
