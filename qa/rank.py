"""Ranking a comparison's rows: the quoted rows of a 「哪个…最高」 question in, the report(s) whose figure
is highest (or lowest) — or why none is named — out.

In: the 最X word the question asks (``Comparison.most``), the row question and its content words with
the term weights, and each found row's quoted sentence (``qa.quote.Sentence``) with its citation number.
Out: a ``Ranking``: the winner(s), the figure read from each compared row, the rows left out, and one
sentence for the person reading the table, naming the rows compared and citing each figure.

A winner is named only when the comparison is unambiguous (issue 17): every compared figure is of the
indicator asked, in the same unit (after 万/亿), for the same kind of period (one year or five; what was
done or what is planned), and no bound or range could change the order (「超过60万人」 may be more than
62万人; a goal's 「5%以上」 is its stated figure, as a goal of 「4.5-5%」 is its range). Otherwise the
sentence says why no winner is named, and the rows stand as they are. Rows without a quote, or whose
quote gives no figure of the indicator, are not compared and are named: a report that does not state
the figure may well be the highest.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from index.normalize import normalize
from index.store import StoredIndex
from qa.analyse import Query
from qa.compare import RANGE_JOIN, decline_before
from qa.quote import Sentence, TermWeights
from qa.rows import A_FIGURE as FIGURE_DIGITS
from qa.rows import MEASURE_WORDS, clauses, five_year_run, five_yearly, indicator_qualifiers

# The 最X words a number can decide, and which way: 最好/最强/最优 it cannot.
LARGEST = frozenset("高快多大长领")
SMALLEST = frozenset("低少慢小短")
# Longer first, as the figure pattern tries them in this order (千万 before 千).
_MAGNITUDES = {
    "万亿": 1e12,
    "千亿": 1e11,
    "百亿": 1e10,
    "亿": 1e8,
    "千万": 1e7,
    "百万": 1e6,
    "万": 1e4,
    "千": 1e3,
}
# The measure words a question may ask its figure in (qa.rows), and rates, ages, containers.
_UNITS = rf"个百分点|%|‰|倍|微克/立方米|岁|标箱|列|架次|{MEASURE_WORDS}"
# A figure: value (or a range, 4.5-5%, 5%—5.5%), 多/余, magnitude, unit, and a bound after it.
A_FIGURE = re.compile(
    rf"(?P<value>\d+(?:\.\d+)?)(?:%?\s*{RANGE_JOIN}\s*(?P<high>\d+(?:\.\d+)?))?(?P<more>多|余)?"
    rf"(?P<magnitude>{'|'.join(_MAGNITUDES)})?(?P<unit>{_UNITS})?(?P<after>左右|以上|以下|以内)?"
)
# Words right before a figure that make it a bound: at least (超过5%) or at most (近7倍).
AT_LEAST_BEFORE = re.compile(r"(?:超过|突破|超|逾|过|高于|不低于|不少于|至少)$")
AT_MOST_BEFORE = re.compile(r"(?:近|接近|不到|不足|低于|不超过|不高于|控制在)$")
# A change downwards asked (降得最多, 下降最快); before a figure it is qa.compare.decline_before (下降3.3%).
ASKED_DECLINE = re.compile(r"下降|降|减少|减|下滑|回落|收窄|缩小")
# A question asking how much something changed (增长最快, 降得最多) …
CHANGE = re.compile(r"增长|增速|增幅|提高|提升|增加|下降|降低|减少|涨幅|降幅|涨|降|快|慢")
# … unless it asks the level reached: 「提高到多少」, 「增加值最高」.
LEVEL_ASKED = re.compile(r"(?:提高|提升|增加|降低|下降|增长)(?:到|至)|增加值(?!增)")
# A figure that is a change: the change word right before it (增长5%, 增长了5%, 下降3.3%, 增速5.5%),
# not a level reached (提高至64.7%, 增至18.8万个).
_CHANGE_WORDS = r"增长|增速|增幅|提高|提升|增加|下降|降低|减少|上涨|涨幅|降幅|回升|回落|下滑|缩小|扩大|收窄"
CHANGE_BEFORE = re.compile(rf"(?:{_CHANGE_WORDS})(?:了|约|近|超过|超)?$")
CHANGE_AFTER_LIST = re.compile(rf"(?:{_CHANGE_WORDS})(?!到|至)")
# The share of the row question's content the words before a figure must hold to be its figure, at least
# and against the row whose figure's words hold most (reports name one indicator alike). The row model
# has already judged that the quote states the fact; this only tells its figure from the others.
FIGURE_COVERAGE = 0.25
FIGURE_COVERAGE_VS_FULLEST = 0.6


@dataclass(frozen=True)
class RowFigure:
    """The figure of the indicator asked, as one row's quote gives it."""

    doc_id: str
    label: str  # the row's region (or title), as the table shows it
    citation: int  # the n of the row's quote
    text: str  # the figure as read (5.5%, 62661亿元, 下降3.3%), from the searched copy of the quote
    low: float  # the values it may stand for, in the base unit, signed (下降3.3% is −3.3 when a rise is
    high: float  # asked): equal for a figure as stated, apart for a range or a bound
    unit: str  # the base unit (%, 元, 人; "" for a bare number)
    period: tuple[str, bool]  # the paragraph's period (review, plan, unknown) and whether five-yearly
    coverage: float  # the share of the row question's content words the figure's naming words hold
    narrowed: bool = False  # its words narrow the indicator asked (跨境电商进出口 for 进出口)
    year: int | None = None  # the year it is of: its report's year reviewed, or planned (None: unknown)


@dataclass(frozen=True)
class Ranking:
    most: str  # the 最X asked (最高, 最快, 最低)
    winners: tuple[str, ...]  # report ids with the highest (lowest) figure; empty when none is named
    compared: tuple[RowFigure, ...]  # the rows whose figures were compared (or would have been)
    left_out: tuple[str, ...]  # labels of the rows not compared (not found, or no figure in the quote)
    why: str  # why no winner is named ("" when one is)
    said: str  # the sentence shown under the table (``describe``)


def describe(
    ranking: Ranking, marker: Callable[[int], str] = "[{}]".format, escape: Callable[[str], str] = str
) -> str:
    """The sentence under the table: the rows compared, each figure with its quote's marker, and the
    winner; or why no winner is named. ``marker``/``escape``: how a page writes a citation and text."""
    left = (
        escape(f"未计入：{'、'.join(ranking.left_out)}（未找到这一项，或引文中没有它的数字）。")
        if ranking.left_out
        else ""
    )
    if not ranking.winners:
        return escape(f"未排出{ranking.most}者：{ranking.why}，请对照表中各行的原文。") + left
    figures = "、".join(f"{escape(f'{f.label} {f.text}')} {marker(f.citation)}" for f in ranking.compared)
    top = [f for f in ranking.compared if f.doc_id in ranking.winners]
    names = "、".join(f"{escape(f'{f.label}（{f.text}')} {marker(f.citation)}{escape('）')}" for f in top)
    tie = "并列" if len(top) > 1 else ""
    opening = escape(f"按表中{len(ranking.compared)}行引文里的数字比较（")
    # 「这N行中」: the winner is of the rows compared; a report left out may well be first.
    among = f"），这{len(ranking.compared)}行中{tie}{ranking.most}的是"
    return f"{opening}{figures}{escape(among)}{names}{escape('。')}{left}"


def _is_figure(said: str, match: re.Match[str]) -> bool:
    """A figure, not a year (2025年), an ordinal (第1) nor digits of a name (PM2.5, 5G)."""
    start, end = match.start(), match.end("value")
    plain = FIGURE_DIGITS.match(said, start)  # qa.rows reads digits in a name (pm2.5, 5g) as no figure
    if plain is None or plain.end() != end:
        return False
    if said[end : end + 1] == "年" and not match["magnitude"]:
        return False
    return not (start and said[start - 1] == "第")


def listed_item(said: str, content: Query, weights: TermWeights) -> int | None:
    """In 「城镇、农村居民人均可支配收入分别增长3.4%、5.2%」: the index of the item the question asks
    about, when the items listed before 分别 match the figures after it one to one and exactly one item
    holds a word of the question the others lack (None otherwise). Short items before a long last one
    (城镇、农村居民…) share its noun: only its first word is its own."""
    head, _, tail = said.partition("分别")
    head = re.split(r"\d[^,;]*?[,;]", head)[-1]
    items = [item for item in re.split(r"[、和与及]", head) if item]
    figures = [m for m in A_FIGURE.finditer(tail) if _is_figure(tail, m)]
    if len(items) < 2 or len(items) != len(figures):
        return None
    tokens = [set(weights.tokens(item)) for item in items]
    if all(len(item) <= 2 for item in items[:-1]):
        first = re.match(r"\w{1,2}", items[-1])
        tokens[-1] = set(weights.tokens(first.group(0))) if first else set()
    asked = []
    for k, own in enumerate(tokens):
        others = set().union(*(t for j, t in enumerate(tokens) if j != k))
        asked.append(sum(weights.weight(t) for t in weights.covered(content, own - others)))
    best = max(asked)
    return asked.index(best) if best > 0 and asked.count(best) == 1 else None


def _clause_figures(
    said: str, content: Query, weights: TermWeights
) -> list[tuple[re.Match[str], str, bool, bool, bool]]:
    """Each figure of a normalised clause with the words that name it, whether it is a change, and
    whether it belongs to a 分别 list (those of the items the question does not ask about left out),
    and whether its own words name the indicator (not carried from before, nor an item of a list).
    A figure's words run back to the figure before; when those name nothing the question asks but a
    change (「地区生产总值达到5.53万亿元、稳居全国前十强、增长4.8%」), back to the clause's start."""
    matches = [m for m in A_FIGURE.finditer(said) if _is_figure(said, m)]
    at = said.find("分别")
    listed = [m for m in matches if m.start() > at] if at >= 0 and len(matches) > 1 else []
    item = listed_item(said, content, weights) if listed else None
    found = []
    before = 0
    for k, match in enumerate(matches):
        if match in listed:
            if item is not None and listed.index(match) == item:
                change = bool(CHANGE_AFTER_LIST.match(said, at + 2))
                found.append((match, said[: match.start()], change, True, False))
            continue
        words = said[before : match.start()]
        named = {t for t in weights.covered(content, weights.tokens(words)) if not CHANGE.fullmatch(t)}
        own = not k or bool(named)
        if not own:
            words = said[: match.start()]
        before = match.end()
        # 从80.2岁提升至82.5岁: the level reached is the second figure; the first is where it started.
        if re.search(r"[从由][^,;]{0,12}$", said[: match.start()]) and re.match(
            r"[^,;]{0,12}?[至到]\s*\d", said[match.end() :]
        ):
            continue
        found.append((match, words, bool(CHANGE_BEFORE.search(said[: match.start()])), False, own))
    return found


def row_figure(
    stored: StoredIndex,
    content: Query,
    weights: TermWeights,
    question: str,
    row: tuple[str, str, int, Sentence],
) -> RowFigure | None:
    """The figure of the indicator asked in one row's quote (``row``: report id, label, citation n,
    sentence), or None when it gives none: of the figures of the kind asked — a change (增长5%, 下降3.3%)
    when the question asks one (增长最快, 降得最多), a level (森林覆盖率65.85%, 提高至64.7%) otherwise —
    the first whose naming words hold most of the row question's."""
    doc_id, label, citation, sentence = row
    asks_change = bool(CHANGE.search(question)) and not LEVEL_ASKED.search(question)
    best: tuple[float, str, str, re.Match[str], bool, bool] | None = None
    for clause in clauses(sentence.text):
        said = normalize(clause).replace(" ", "")
        for match, words, is_change, listed, own in _clause_figures(said, content, weights):
            if is_change != asks_change:
                continue
            coverage = weights.coverage(content, weights.tokens(words))
            if coverage >= FIGURE_COVERAGE and (best is None or coverage > best[0]):
                best = (coverage, clause, said, match, listed, own)
    if best is None:
        return None
    coverage, clause, said, match, listed, own = best
    before = said[: match.start()]
    plan = sentence.paragraph.period == "plan"
    scale = _MAGNITUDES.get(match["magnitude"] or "", 1.0)
    low = float(match["value"]) * scale
    high = float(match["high"]) * scale if match["high"] else low
    # 310多万户 is 310 to 320万户: 多/余 runs up to the next step of its last digit.
    if match["more"]:
        whole, _, decimals = match["value"].partition(".")
        step = 10.0 ** -len(decimals) if decimals else 10.0 ** (len(whole) - len(whole.rstrip("0")))
        high = low + step * scale
    # A goal's bound is the goal as set (「5%以上」 is a goal of 5%); a result's bound leaves it open.
    if not plan and (match["after"] == "以上" or AT_LEAST_BEFORE.search(before)):
        high = math.inf
    elif not plan and (match["after"] in ("以下", "以内") or AT_MOST_BEFORE.search(before)):
        low = -math.inf
    text = match.group(0)
    # 下降3.3% answers 「增长最快」 as −3.3%; 「下降最多」 reads 下降 as the figure's own direction. In a 分别
    # list the change word follows 分别.
    words = said[: said.find("分别") + 6] if listed else before
    declined = decline_before(words, len(words))
    if CHANGE.search(question) and bool(declined) != bool(ASKED_DECLINE.search(question)):
        low, high = -high, -low
        text = f"{declined.group(0)}{text}" if declined else f"增长{text}"
    in_run = five_year_run(stored, sentence.paragraph)
    period = (sentence.paragraph.period, five_yearly(sentence.paragraph, clause, in_run))
    # 跨境电商进出口, 外贸出口 for 进出口; 规上装备工业 for 规上工业: a part, not the indicator asked.
    narrowed = own and max(indicator_qualifiers(content, weights, said, match.start())) > 0
    unit = match["unit"] or ""
    report = stored.reports[doc_id]
    year = (
        report.reviews
        if period[0] == "review"
        else (report.plans[0] if period[0] == "plan" and report.plans else None)
    )
    return RowFigure(doc_id, label, citation, text, low, high, unit, period, coverage, narrowed, year)


def winners(figures: Sequence[RowFigure], largest: bool) -> tuple[list[RowFigure], str]:
    """The figures ranked first and "", or none and why the figures cannot be ranked."""
    if len(figures) < 2:
        return [], "给出这一项数字的报告少于两个"
    if len({f.unit for f in figures}) > 1:
        units = "、".join(dict.fromkeys(f.unit or "无单位" for f in figures))
        return [], f"各行数字的单位不同（{units}）"
    if len({f.period[1] for f in figures}) > 1:
        return [], "各行数字的时期不同（有的是一年，有的是五年）"
    if len({f.period[0] for f in figures} - {"unknown"}) > 1:
        return [], "各行数字有的是完成情况，有的是目标"
    # Regions compared in different years (罗湖 2020, 浙江 2025) are no ranking; one region's years are.
    if len({f.label for f in figures}) > 1 and len({f.year for f in figures} - {None}) > 1:
        return [], "各行数字的年份不同"
    if any(f.narrowed for f in figures):
        return [], "有的行的数字只是这一项的一部分（如「跨境电商进出口」之于「进出口」）"
    # Each figure as the values it may stand for, turned round for 最低 so that more is always first:
    # the first is unambiguous when its least is more than every other's most; figures stated alike tie.
    spans = {id(f): (f.low, f.high) if largest else (-f.high, -f.low) for f in figures}
    first = max(figures, key=lambda f: spans[id(f)][0])
    least, most = spans[id(first)]
    top = [f for f in figures if spans[id(f)] == (least, most)]
    rest = [f for f in figures if spans[id(f)] != (least, most)]
    if rest and (least != most or any(spans[id(f)][1] >= least for f in rest)):
        return [], "有的数字是一个界限或范围（如「超过」「近」「4.5-5%」），排不出先后"
    return top, ""


def rank(
    stored: StoredIndex,
    most: str,
    question: str,
    content: Query,
    weights: TermWeights,
    found: Sequence[tuple[str, str, int, Sentence]],
    not_found: Sequence[str],
) -> Ranking | None:
    """The ranking of a 「哪个…最X」 comparison's rows (None when ``most`` is empty: not a ranking).

    ``found``: each quoted row's (report id, label, citation n, quoted sentence), in row order;
    ``not_found``: the labels of the rows without a quote."""
    if not most:
        return None
    if most[-1] not in LARGEST | SMALLEST:
        top: list[RowFigure] = []
        figures: list[RowFigure] = []
        without = []
        why = f"「{most}」不是数字能比出来的"
    else:
        read = {row[0]: row_figure(stored, content, weights, question, row) for row in found}
        fullest = max((f.coverage for f in read.values() if f), default=0.0)
        figures, without = [], list(not_found)
        for doc_id, label, _, _ in found:
            figure = read[doc_id]
            if figure is None or figure.coverage < FIGURE_COVERAGE_VS_FULLEST * fullest:
                without.append(label)
            else:
                figures.append(figure)
        top, why = winners(figures, most[-1] in LARGEST)
    ranking = Ranking(most, tuple(f.doc_id for f in top), tuple(figures), tuple(without), why, "")
    return dataclasses.replace(ranking, said=describe(ranking))
