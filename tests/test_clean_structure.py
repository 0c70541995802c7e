"""Golden tests for cleaning (furniture out, report text kept) and structure (sections, numbers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.clean import furniture_reason, split_lines
from index.corpus import load_report
from index.structure import heading_level, run_in_headings, structure

REPORTS = Path(__file__).resolve().parent.parent / "data" / "reports"
R2021 = REPORTS / "000_d5fabbdb30472f7d.txt"
R2015 = REPORTS / "003_a489a4b91e5190ef.txt"


@pytest.mark.parametrize(
    "line",
    [
        "会议直播视频",
        "2021罗湖区两会短视频",
        "MORE+",
        "MORE+ MORE+",
        "[详细]",
        "报告全文>",
        "学习啦>实用范文>报告总结>工作报告>",
        "下一页更多关于罗湖区政府工作报告",
        "1877035",
        "• 聚焦构建新发展格局,",
        "琢妤分享",
        "罗湖区政府工作报告(2)",
        "罗湖区政府工作报告篇2",
        "罗湖代表说丨李伟力:鼓励高水平医生参与社区医疗服务",
    ],
)
def test_furniture_lines_are_recognised(line: str) -> None:
    assert furniture_reason(line) is not None


@pytest.mark.parametrize(
    "line",
    [
        "各位代表:",
        "一、2014年工作回顾",
        "(一)着力稳中求进,经济发展迈上新台阶",
        "2015年主要指标测算说明",
        "经济运行稳中有升。全区一般公共预算收入137亿元,固定资产投资384亿元。",
        "预计2015年固定资产投资可完成100亿元左右,增长3%左右。",
        "2020年",
        "罗湖区",
        "？！。",
    ],
)
def test_report_text_is_not_furniture(line: str) -> None:
    assert furniture_reason(line) is None


def test_lines_are_exact_slices_and_blank_lines_skipped() -> None:
    text = "  标题行  \n\n正文第一段。\n   \n第二段,有逗号。"
    lines = split_lines(text)
    assert [line.text for line in lines] == ["标题行", "正文第一段。", "第二段,有逗号。"]
    for line in lines:
        assert text[line.start : line.end] == line.text


def test_news_item_body_dropped_only_up_to_its_detail_link() -> None:
    text = "报道丨某人:标题\n\n访谈正文。\n\n[详细]\n\n报告正文。"
    kept = [line.text for line in split_lines(text) if line.furniture is None]
    assert kept == ["报告正文。"]
    # Without a detail link nearby, only the headline goes: report text is never lost.
    text = "报道丨某人:标题\n\n一段。\n\n二段。\n\n三段。\n\n四段。\n\n五段。"
    kept = [line.text for line in split_lines(text) if line.furniture is None]
    assert kept == ["一段。", "二段。", "三段。", "四段。", "五段。"]


def test_bundled_reports_keep_every_real_paragraph() -> None:
    for path, expected_furniture in ((R2021, 33), (R2015, 6)):
        text = path.read_text(encoding="utf-8")
        lines = split_lines(text)
        furniture = [line for line in lines if line.furniture]
        assert len(furniture) == expected_furniture
        kept = " ".join(line.text for line in lines if not line.furniture)
        for gone in ("MORE+", "[详细]", "学习啦", "下一页", "1877035", "直播视频", "李伟力"):
            assert gone not in kept
    kept_2015 = [line.text for line in split_lines(R2015.read_text(encoding="utf-8")) if not line.furniture]
    assert kept_2015[0] == "各位代表:"
    assert kept_2015[-1].startswith("(二)政府投资方面")


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("一、2014年工作回顾", 1),
        ("(三)着力民生实事,公共服务保障水平大幅提升", 2),
        ("（一）聚焦构建新发展格局", 2),
        ("1.深化行政决策改革", 3),
        ("2015年主要指标测算说明", 0),
        ("各位代表:", None),
        ("经济运行稳中有升。全区一般公共预算收入137亿元。", None),
        ("增长10%", None),
    ],
)
def test_heading_levels(text: str, level: int | None) -> None:
    assert heading_level(text) == level


def test_run_in_headings() -> None:
    assert run_in_headings("助力升级优势产业。制定总部企业培育计划。") == [(0, "助力升级优势产业")]
    text = "我们持续开展优化美化行动,提升管理水平。一是市容市貌显著改观。全面开展行动。二是生态环境更趋优良。"
    assert [h for _, h in run_in_headings(text)] == ["一是市容市貌显著改观", "二是生态环境更趋优良"]
    # A short factual sentence in the middle of a paragraph is not a heading.
    assert run_in_headings("深港口岸经济带纳入重点工作。莲塘口岸顺利开通。") == [
        (0, "深港口岸经济带纳入重点工作")
    ]
    assert run_in_headings("2020年是极具挑战、极不平凡的一年。惟其艰难,方显勇毅。") == []


def test_structure_of_the_2015_report() -> None:
    report = load_report(R2015)
    paragraphs = structure(report, split_lines(report.text))
    assert [p.number for p in paragraphs] == list(range(1, len(paragraphs) + 1))
    gdp = next(p for p in paragraphs if p.text.startswith("总量新突破、质量再提升。预计"))
    assert gdp.section == "一、2014年工作回顾 > (一)着力稳中求进,经济发展迈上新台阶 > 总量新突破、质量再提升"
    assert gdp.period == "review" and gdp.kind == "body"
    plan = next(p for p in paragraphs if p.text.startswith("2015年经济社会发展主要预期目标"))
    assert plan.section == "二、2015年发展目标和主要任务" and plan.period == "plan"
    appendix = next(p for p in paragraphs if p.text.startswith("预计2015年固定资产投资可完成"))
    assert appendix.section == "2015年主要指标测算说明 > 四、固定资产投资"
    for p in paragraphs:
        assert report.text[p.start : p.end] == p.text
        assert p.paragraph_id == f"luohu-2015#{p.number}"


def test_structure_of_the_2021_report_resets_sections_after_page_furniture() -> None:
    report = load_report(R2021)
    paragraphs = structure(report, split_lines(report.text))
    full_text = next(p for p in paragraphs if p.text.startswith("我们坚持以大规划引领大发展"))
    # The full-text part follows 报告全文> MORE+: it must not inherit the summary's last heading.
    assert full_text.section == "(二)大力拓展空间,增强发展后劲"
    summary = next(p for p in paragraphs if p.text.startswith("经济运行稳中有升"))
    assert summary.section == "一、全面纾困惠企,全力稳定增长 > 经济运行稳中有升"


def test_periods_of_the_2021_summary_follow_its_sections() -> None:
    report = load_report(R2021)
    paragraphs = structure(report, split_lines(report.text))

    def period(start: str) -> str:
        return next(p.period for p in paragraphs if p.text.startswith(start))

    # A results item with one plan-like verb (完善) sits among the year's results: a review.
    assert period("生态环境更趋优良") == "review"
    assert period("社会保障持续改善") == "review"
    # The plan part that follows keeps its own words' period.
    assert period("今年经济社会发展的主要预期目标") == "plan"
    assert period("持之以恒夯实社会保障") == "plan"


def test_a_heading_naming_the_reviewed_or_planned_year_decides_its_section(tmp_path: Path) -> None:
    # Verbs that lean toward plans (推动, 加快) must not turn the review of 2025 into a plan.
    text = (
        "2026年浙江省政府工作报告\n"
        "一、2025年主要工作和“十四五”发展成就\n"
        "推动消费提质扩容，加快培育新型消费，全省社会消费品零售总额增长4%。\n"
        "三、2026年重点工作\n"
        "推动消费提质扩容，加快培育新型消费。\n"
    )
    path = tmp_path / "浙江省_2026.txt"
    path.write_text(text, encoding="utf-8")
    report = load_report(path)
    assert report is not None and (report.reviews, report.plans) == (2025, (2026,))
    body = [p for p in structure(report, split_lines(report.text)) if p.kind == "body"]
    assert [p.period for p in body] == ["review", "plan"]
