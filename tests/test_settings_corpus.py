"""Settings (defaults, file, environment) and corpus loading (metadata, guessing, bad files)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from index.corpus import corpus_fingerprint, load_corpus, load_report
from index.errors import SettingsError
from index.settings import Settings, load_settings


def test_defaults_file_then_environment(tmp_path: Path) -> None:
    assert load_settings(environ={}) == Settings()
    config = tmp_path / "govqa.toml"
    config.write_text('top_k = 7\nmodel = "BAAI/bge-small-zh-v1.5"\n', encoding="utf-8")
    settings = load_settings(config, environ={"GOVQA_TOP_K": "3", "GOVQA_GLOSSARY": "false"})
    assert settings.top_k == 3 and settings.model == "BAAI/bge-small-zh-v1.5" and settings.glossary is False


@pytest.mark.parametrize(
    ("content", "environ", "message"),
    [
        ("topk = 3\n", {}, "unknown setting 'topk'"),
        ('top_k = "many"\n', {}, "'top_k' must be int"),
        ("", {"GOVQA_TOPK": "3"}, "unknown environment variable GOVQA_TOPK"),
        ("", {"GOVQA_DENSE_WEIGHT": "heavy"}, "'dense_weight' must be float"),
        ("top_k = [\n", {}, "not valid TOML"),
        ("", {"GOVQA_MAX_SESSIONS": "0"}, "'max_sessions' must be at least 1"),
    ],
)
def test_bad_settings_fail_loudly_with_the_key(
    tmp_path: Path, content: str, environ: dict, message: str
) -> None:
    config = tmp_path / "govqa.toml"
    config.write_text(content, encoding="utf-8")
    with pytest.raises(SettingsError, match=message):
        load_settings(config, environ=environ)


def test_bundled_metadata() -> None:
    reports = {r.doc_id: r for r in load_corpus(Path(__file__).resolve().parent.parent / "data" / "reports")}
    assert reports["luohu-2021"].title == "罗湖区2021年政府工作报告"
    assert (reports["luohu-2021"].reviews, reports["luohu-2021"].plans) == (2020, (2021,))
    assert (reports["luohu-2015"].year, reports["luohu-2015"].reviews) == (2015, 2014)


def test_report_without_metadata_reads_its_year(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "r.txt"
    path.write_text(
        "某区2019年政府工作报告\n\n2018年,我们完成了很多工作。2019年我们将继续努力。\n", encoding="utf-8"
    )
    with caplog.at_level(logging.WARNING):
        report = load_report(path)
    assert report is not None and (report.year, report.reviews, report.plans) == (2019, 2018, (2019,))
    assert dict(report.origins)["year"] == "text: title line"
    # 某区 names no division: the region is warned about, by file and field, not guessed.
    assert report.doc_id == "r" and report.region == "" and "r.txt: region not found" in caplog.text


def test_report_without_a_stated_year_guesses_it_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "r.txt"
    text = "各位代表：\n2018年,我们完成了很多工作。2019年我们将继续努力。2019年要做好。\n"
    path.write_text(text, encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        report = load_report(path)
    assert report is not None and report.year == 2019 and "guessed 2019" in caplog.text


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02binary", "binary"),
        ("罗湖区政府工作报告".encode("gbk"), "not UTF-8"),
        ("\ufeff罗湖".encode(), "BOM"),
    ],
)
def test_unusable_files_are_skipped_with_a_named_reason(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, data: bytes, reason: str
) -> None:
    (tmp_path / "bad.txt").write_bytes(data)
    (tmp_path / "good.txt").write_text("2015年政府工作报告\n\n正文。\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        reports = load_corpus(tmp_path)
    assert [r.doc_id for r in reports] == ["good"]
    assert "bad.txt" in caplog.text and reason in caplog.text


def test_fingerprint_changes_with_any_byte(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("一。", encoding="utf-8")
    before = corpus_fingerprint(tmp_path)
    (tmp_path / "a.toml").write_text('title = "甲"\n', encoding="utf-8")
    assert corpus_fingerprint(tmp_path) != before
