"""Ranking a comparison's rows (qa.rank): a winner only when the figures compare without doubt."""

from __future__ import annotations

import dataclasses
import math

from qa.rank import Ranking, RowFigure, describe, rank, winners

ONE_YEAR = ("review", False)


def figure(
    doc_id: str, value: float, unit: str = "%", period=ONE_YEAR, high: float | None = None
) -> RowFigure:
    return RowFigure(
        doc_id, doc_id, 1, f"{value}{unit}", value, value if high is None else high, unit, period, 1.0
    )


def test_the_highest_and_the_lowest_figure_win() -> None:
    rows = [figure("a", 5.5), figure("b", 7.0), figure("c", 4.1)]
    assert [f.doc_id for f in winners(rows, largest=True)[0]] == ["b"]
    assert [f.doc_id for f in winners(rows, largest=False)[0]] == ["c"]


def test_figures_stated_alike_tie() -> None:
    top, why = winners([figure("a", 5.6), figure("b", 5.6), figure("c", 5.0)], largest=True)
    assert [f.doc_id for f in top] == ["a", "b"] and why == ""


def test_no_winner_across_units_periods_or_kinds_of_period() -> None:
    assert "单位" in winners([figure("a", 5.0), figure("b", 60199.0, "元")], True)[1]
    assert "时期" in winners([figure("a", 5.0), figure("b", 5.9, period=("review", True))], True)[1]
    assert "目标" in winners([figure("a", 5.0), figure("b", 5.5, period=("plan", False))], True)[1]
    assert "少于两个" in winners([figure("a", 5.0)], True)[1]


def test_a_bound_or_range_that_could_change_the_order_names_no_winner() -> None:
    # 超过60万人 may be more than 62万人; 5.5% is more than anything 4.5-5% can be.
    assert winners([figure("a", 62.0, "万人"), figure("b", 60.0, "万人", high=math.inf)], True)[1]
    top, why = winners([figure("a", 5.5), figure("b", 4.5, high=5.0)], True)
    assert [f.doc_id for f in top] == ["a"] and why == ""
    assert winners([figure("a", 5.0), figure("b", 4.5, high=5.0)], True)[1]
    # For 最低 the other way round: 「控制在5%以内」 may be less than 4.8%.
    assert winners([figure("a", 4.8), figure("b", -math.inf, high=5.0)], False)[1]


def test_describe_cites_every_figure_compared_and_names_the_rows_left_out() -> None:
    ranking = rank(None, "最快", "", None, None, [], ["湖北省"])  # type: ignore[arg-type]
    assert ranking is not None and ranking.winners == () and "湖北省" in ranking.said
    assert rank(None, "", "", None, None, [], []) is None  # type: ignore[arg-type]
    assert "不是数字能比出来的" in rank(None, "最好", "", None, None, [], []).said  # type: ignore[arg-type,union-attr]
    chosen = [figure("a", 5.5), figure("b", 7.0)]
    said = describe(Ranking("最快", ("b",), tuple(chosen), ("c",), "", ""), "<{}>".format)
    assert "a 5.5% <1>" in said and "这2行中最快的是b（7.0% <1>）" in said and "未计入：c" in said


def test_regions_of_different_years_name_no_winner_but_one_region_s_years_do() -> None:
    a2025 = dataclasses.replace(figure("a", 5.0), year=2025)
    b2020 = dataclasses.replace(figure("b", 6.0), year=2020)
    assert "年份" in winners([a2025, b2020], largest=True)[1]
    a2020 = dataclasses.replace(figure("a", 6.0), year=2020)
    assert [f.year for f in winners([a2025, a2020], largest=True)[0]] == [2020]
