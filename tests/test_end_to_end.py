"""End to end with the real offline model over the bundled reports (slow: loads torch)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from index.build import build_index
from index.settings import PROJECT_ROOT, Settings
from index.store import load_index
from qa.answer import Answerer
from tests.test_contract import check_contract

pytestmark = pytest.mark.slow

# Developer-written checks (not from the evaluation set): question → a span the first quote holds.
CASES = [
    ("2020年罗湖一般公共预算收入是多少", "137亿元"),
    ("2014年三公经费下降了多少", "60.8%"),
    ("2021年罗湖要新建多少人才住房和保障性住房", "3000套"),
    ("2014年罗湖区生产总值是多少", "1600亿元"),
]


@pytest.fixture(scope="module")
def real_answerer(tmp_path_factory: pytest.TempPathFactory) -> Answerer:
    settings = Settings(
        corpus_dir=PROJECT_ROOT / "data" / "reports", index_dir=tmp_path_factory.mktemp("real")
    )
    build_index(settings)
    return Answerer(settings, stored=load_index(settings.index_dir))


@pytest.mark.parametrize(("question", "span"), CASES)
def test_real_model_quotes_the_answer(real_answerer: Answerer, question: str, span: str) -> None:
    answer = real_answerer.ask(question)
    check_contract(answer.to_dict(), real_answerer.stored)
    assert answer.found
    assert span in answer.quotes[0].text, answer.answer


def test_cli_subprocess_json_and_exit_codes(real_answerer: Answerer) -> None:
    index_dir = str(real_answerer.settings.index_dir)
    done = subprocess.run(
        [sys.executable, "-m", "qa", "ask", CASES[0][0], "--json", "--index", index_dir],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    check_contract(json.loads(done.stdout), real_answerer.stored)
    empty = subprocess.run(
        [sys.executable, "-m", "qa", "ask", " "],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=300,
    )
    assert empty.returncode == 2 and len(empty.stderr.strip().splitlines()) == 1


def test_missing_model_package_message(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from index.embed import load_embedder
    from index.errors import ModelLoadError

    with pytest.raises(ModelLoadError, match="no model folder"):
        load_embedder(str(tmp_path / "no-such-model"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="cannot load embedding model"):
        load_embedder(str(tmp_path / "empty"))
