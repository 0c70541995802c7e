"""Comparison questions: a question in, the reports it compares (``Comparison``) and one ``Row`` each out.

In: the user's question (normalised), its ``Query`` (``qa.analyse``), the library's reports and regions
(``qa.scope.Library``) and the user's choice of reports.
Out: ``recognise`` gives None for a question that keeps today's single answer, or a ``Comparison``: the
reports compared, in row order (region by division code, then year), the named regions the library
has no report for, and the row question — the question as it would be asked of one report, its
comparison words (各省, 分别, 对比, 哪个…最, the compared regions' names) taken out; ``report_hits``
gives each report its best chunks from one retrieval pass.

A question compares reports when it names several regions (「浙江、湖北」) or years joined as a list
(「2014年和2020年」), asks over a group (各省, 各区, 哪些省份, 历年, 这几年, 哪个省…最), or asks
分别/对比/比较 — and its scope then holds at least two reports (or names a region the library lacks,
which the table says). Names are read from the divisions table (``qa.scope``), groups by their
administrative level (各省 → every provincial report), never from a list of evaluation questions.
Words that also occur in plain questions are read with care: 分别 and 对比 over coordinated items
(「城镇和农村居民收入分别增长多少」) compare items of one report, not reports; two regions linked by a
relation word (「和香港的合作」) are one question about both; 哪个省 without 最/更 asks for the one
report that says it (「哪个省的粮食总产量连续16年位居全国首位」).

Each row is then judged by ``qa.rows``: as the question asked of that report alone, then held to what
a table cell must state.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import operator
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.corpus import Report
from index.normalize import normalize
from index.regions import Region, by_full_name, contains, lookup
from index.settings import Settings
from index.store import StoredIndex
from qa.analyse import Query
from qa.fuse import Hit, chunk_columns, fused_scores, year_multipliers
from qa.retrieve import Scores
from qa.scope import REGION_COUNT, Library, Mention

NOT_STATED = "未找到"

# Groups of reports, by the administrative level a word names. 各省市/各省区市 are the provincial level
# (municipalities included); 各地/各地区 any level. The look-aheads leave out words that only start like
# a group: 各市场主体, 各区域, 各省级部门, 各地方政府.
# 省外 (outside the province) is no group; 各省外贸 (外贸, 外资, 外商) is.
_OUTSIDE = "外(?![贸资商经汇])"
_LEVEL_WORDS: tuple[tuple[str, frozenset[str]], ...] = (
    (rf"省区市|省市区|省市|省份|省区|省(?!级|委|长|直|内|{_OUTSIDE})|自治区", frozenset({"省"})),
    (rf"地市|市州|城市|市(?!场|民|容|级|委|长|直|区|内|{_OUTSIDE})", frozenset({"市"})),
    (rf"区县|县区|县市区|县(?!级|委|长|域)|区(?!域|块|间|级|委|长|内|{_OUTSIDE})", frozenset({"区县"})),
    (r"地区|地方|地(?!方政府)", frozenset()),  # any level
)
_LEVEL = "|".join(f"(?:{words})" for words, _ in _LEVEL_WORDS)
_NAMED_LEVEL = "|".join(f"(?:{words})" for words, levels in _LEVEL_WORDS if levels)
# 各省, 每个省, 所有省份, 哪些省份, 哪几个省 (全国各地/全省各地 are not a group of reports: see below); and
# the level first, after 的: 「…100万人以上的省份有哪些」. Not 地方 there: 「好玩的地方有哪些」 asks no group.
GROUP = re.compile(
    rf"(?:各|每个|每一个|所有|全部|哪些|哪几个|哪几)(?:个)?(?P<level>{_LEVEL})"
    rf"|(?<=的)(?P<level_first>{_NAMED_LEVEL})(?:都|还)?(?:有|包括|是)(?:哪些|哪几个|哪几)"
)
# 哪个省 asks for one report unless it asks which is highest (``ranked``): 「哪个省2025年增长最快」,
# 「增长最快的是哪个省」, 「增速最高的省份是哪个」.
RANKED_GROUP = re.compile(
    rf"(?:哪个|哪一个|哪家|哪)(?P<level>{_LEVEL})|(?P<level_first>{_LEVEL})是哪(?:一个|个|家)?"
)
# 哪一年…最高: every year's report of the region.
RANKED_SERIES = re.compile(r"哪一?年")
# Words that place the group inside one region: 全国各地, 全省各市 (the report's own subdivisions). The
# nation's own subdivisions are the provinces: 全国各省 is the group of provincial reports.
WITHIN = re.compile(r"(?:全国|全省|全市|全区|全县|国内|世界|省内|市内|区内)$")
NATION = re.compile(r"(?:全国|国内)$")
# Every report of the named region(s), one per year.
SERIES = re.compile(
    r"历年|这几年|近几年|这些年|近年来|逐年|各年|每一年|历次|每份报告|各份报告|各报告|几份报告"
)
# Comparison words, which compare the reports in scope on their own (对比一下罗湖的财政收入). 比较 as an
# adverb (比较好, 比较重视) is no comparison.
COMPARE = re.compile(
    r"对比|(?<!相)比较(?![好大小多少高低快慢重强弱]|突出|明显)|相比|相较|对照|异同|差距|差别|区别|\bvs\b"
)
# Words that distribute over what the question names (浙江、江苏…分别是多少): over the regions, years
# or group it names, never alone — 「龙江城乡居民收入分别增长多少」 distributes over 城乡.
DISTRIBUTE = re.compile(r"分别|各自")
# 哪个…最高, 谁更快, 最多的是哪: the 哪/谁 and the 最X are comparison words (taken out of the row
# question), what lies between them is what is compared.
_MOST = r"[最更](?:高|快|多|大|长|低|少|慢|小|短|好|强|优|领先)"
MOST = re.compile(_MOST)
RANKING = re.compile(
    rf"(?P<which>哪一个|哪个|哪家|哪|谁).{{0,16}}?(?P<most>{_MOST})|(?P<most_first>{_MOST})的?是?(?P<which_last>哪|谁)"
)
# Two regions named with one of these are one question about both (罗湖和香港的合作), not a comparison.
RELATION = re.compile(
    r"合作|协作|共建|联合|对口|帮扶|协同|携手|之间|两地|互通|互认|互联|对接|交流|往来|联手|结对|支援|援建|一体化|"
    r"接壤|相邻|毗邻|连接|通往|到达|开通|直达|签约|签订|协议"
)
# Items coordinated in the question: 分别/对比 then distribute over them, inside one report.
COORDINATION = re.compile(r"[和与及、跟]|以及|还有")
# What may stand between two names listed: conjunctions, or nothing (湘鄂赣).
LIST_GAP = re.compile(rf"(?:{COORDINATION.pattern}|\s)*")
# A list of years: 2014年和2020年, 2014、2020年 (a range, 2021至2025年, is one period).
_YEAR_AT = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)|([〇零一二三四五六七八九]{4})(?=年)")
_CN_DIGITS = str.maketrans("〇零一二三四五六七八九", "00123456789")
# 「…？2020年呢？」: the same question asked again of another year.
YEAR_AGAIN = re.compile(r"^年?(?:的|又|那)?呢\s*[?？]?\s*$")
YEAR_LIST = re.compile(r"^年?(?:的)?(?:和|与|及|以及|跟|同|、|,|对比|相比|比|还有|或|vs)$")
# A figure the question states (5%左右, 1600亿斤, 45万人), not a year: a row must quote it.
FIGURE = re.compile(
    r"(?<![\d.])(\d+(?:\.\d+)?)\s*(%|亿元|万元|亿斤|万吨|万人|万亩|万户|万|亿|元|个|人|家|所|吨|公里|千米|斤)"
    r"(左右|以上|以内|以下)?"
)
# A question asking whether a report gives a figure at all: 定了具体的百分比目标, 给出了具体数值, 量化指标.
ASKS_FIGURE = re.compile(
    r"具体(?:的)?(?:数字|数值|数据|百分比|比例|比重|指标|目标值|增幅|增速|降幅)|百分比目标|量化(?:的)?(?:目标|指标)|"
    r"(?:定|设|设定|提出|给出|明确)了?(?:具体)?(?:的)?(?:数字|数值|百分比)"
)
# Words before a figure that bound it, the figure itself in or out: 不低于6% (>=), 超过10万人 (>),
# 不超过5% (<=), 低于5% (<).
AT_LEAST = re.compile(r"(?:不低于|不少于|至少|达到)(?:了)?$")
MORE_THAN = re.compile(r"(?:超过|高于|大于|多于|过)(?:了)?$")
AT_MOST = re.compile(r"(?:不高于|不超过|控制在)(?:了)?$")
LESS_THAN = re.compile(r"(?:不到|低于|少于|小于)(?:了)?$")
_HOLDS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}
# A criterion on a change's direction, not its size: 哪些省份进出口是负增长 (below 0), 正增长 (above 0).
SIGNED = re.compile(r"(负|正)增长")
# Words right before a figure that make it a fall: 进出口下降5.4% is −5.4% where a growth is asked.
DECLINE = re.compile(r"下降|降低|减少|下滑|回落|收窄|缩小|降幅")
DECLINE_REACH = 6  # characters before a figure read for them (qa.rank reads a figure's direction too)
# What joins the two ends of a range (5%—5.5%, 4.5-5%, 5%至5.5%).
RANGE_JOIN = r"[—\-~～至到]"
# A criterion on a figure's form: a goal set as a range rather than one figure.
RANGE_ASKED = re.compile(r"区间")
RANGE = re.compile(rf"\d+(?:\.\d+)?\s*%?\s*{RANGE_JOIN}\s*\d")
# Or on the word that qualifies it: 「用的是“X%以上”这种表述」, 「目标带“左右”的」 (以上 a floor, 左右 about).
FORM_WORDS = ("以上", "左右", "以内")
_FORM = "|".join(FORM_WORDS)
FORM_ASKED = re.compile(
    rf"(?:[xＸ某n]\s*[%％]?|[“\"'「『])(?P<word>{_FORM})|(?P<said>{_FORM})[”\"'」』]?(?:这种|这样)?的?(?:表述|提法|说法|写法)"
)
# What may stand around a stated figure in the quote without changing it: not another digit (5.5%
# does not state 5%) nor a range (「5%—5.5%」 does not state 5%).
_FIGURE_START = r"(?<![\d.])"
_FIGURE_END = rf"(?![\d.]|\s*{RANGE_JOIN}\s*\d)"


def decline_before(said: str, start: int) -> re.Match[str] | None:
    """The word of a fall right before the figure at ``start`` of ``said`` (下降 of 下降5.4%), if any."""
    return DECLINE.search(said[max(0, start - DECLINE_REACH) : start])


@dataclass(frozen=True)
class Row:
    """One report's answer to a comparison, as ``qa ask --json`` gives it under ``rows``."""

    doc_id: str
    region: str  # official full name of the report's region; "" if unknown
    year: int  # the year the report was delivered
    found: bool
    quote: str  # verbatim, the cited paragraph's text[start:end]; "" when not found
    citation: int | None  # the n of its entry in the answer's citations; None when not found


@dataclass(frozen=True)
class StatedFigure:
    """A figure the question states: held by a clause that states it as written (「5%左右」, not 5.5%左右
    nor 5%—5.5%), or, when the question bounds it (不低于6%, 5%以内, 超过10万人), by any figure of the same
    unit within the bound (6.5%, 4.6%, 12万人)."""

    pattern: str  # a regular expression of the figure as written
    value: float
    unit: str
    # ">=", ">", "<=", "<", "" (as written only), "range" (any range: 5%—5.5%) or "以上", "左右", "以内" (any
    # figure qualified so: 5%以上)
    bound: str
    signed: bool = False  # a fall counts below zero (负增长: bound "<", value 0)

    def held_by(self, said: str, at: int | None = None) -> bool:
        """Whether ``said`` (normalised, spaces removed) holds the figure; a bound is checked against the
        figure starting at ``at`` only, when given (the one of the indicator asked). A figure of about
        the bound (5%左右) is within an inclusive bound only (不超过5%, not 低于5%)."""
        if not self.bound:
            return bool(re.search(self.pattern, said))
        if self.bound == "range":
            return bool(RANGE.search(said) if at is None else RANGE.match(said, at))
        found = FIGURE.finditer(said) if at is None else filter(None, [FIGURE.match(said, at)])
        if self.bound in FORM_WORDS:
            return any(match.group(3) == self.bound for match in found)
        if self.bound in (">=", "<=") and re.search(self.pattern, said):
            return True
        for match in found:
            if match.group(2) != self.unit or (match.group(3) == "左右" and self.bound == "<="):
                continue
            value = float(match.group(1))
            if self.signed and decline_before(said, match.start()):
                value = -value
            if _HOLDS[self.bound](value, self.value):
                return True
        return False


@dataclass(frozen=True)
class Comparison:
    cues: tuple[str, ...]  # what made it one: "regions", "years", "group", "series", "word"
    doc_ids: tuple[str, ...]  # the reports compared, in row order
    missing: tuple[str, ...]  # named regions (full names) with no report among them
    question: str  # the row question: the question as asked of one report (normalised)
    years: tuple[int, ...]  # the years the question names
    figures: tuple[StatedFigure, ...]  # figures it states, which a row's quote must hold
    most: str = ""  # a ranking question's 最X (最高, 最快, 更低); "" for others
    # 哪些省份给…定了具体数字: a row must give the indicator a figure, not only name it (完成国家下达目标).
    asks_figure: bool = False


# ---------------------------------------------------------------------------------------------
# Recognition


def _named_years(normalized: str) -> list[tuple[int, int, int]]:
    """(year, start, end) of each year written in digits or in Chinese numerals (二〇二〇年)."""
    found = []
    for match in _YEAR_AT.finditer(normalized):
        digits = match.group(1) or match.group(2).translate(_CN_DIGITS)
        found.append((int(digits), match.start(), match.end()))
    return found


def year_list(normalized: str) -> bool:
    """Whether the question names two or more years as a list (2014年和2020年), not a range, or asks
    again of another year at its end (「罗湖2014年新增了多少学位?2020年呢?」)."""
    years = _named_years(normalized)
    if len(years) >= 2 and years[-1][0] != years[0][0] and YEAR_AGAIN.match(normalized[years[-1][2] :]):
        return True
    return any(
        a[0] != b[0] and YEAR_LIST.match(normalized[a[2] : b[1]].strip())
        for a, b in itertools.pairwise(years)
    )


def _levels(word: str) -> frozenset[str]:
    for words, levels in _LEVEL_WORDS:
        if re.fullmatch(words, word):
            return levels
    return frozenset()


@functools.cache
def region_groups() -> dict[str, tuple[Region, ...]]:
    """Names of groups of provinces (东北三省 → 辽宁省, 吉林省, 黑龙江省), from qa/region_groups.toml."""
    table = tomllib.loads((Path(__file__).with_name("region_groups.toml")).read_text(encoding="utf-8"))
    return {
        normalize(name): tuple(region for full in members if (region := by_full_name(full)) is not None)
        for name, members in table["groups"].items()
    }


def group_mentions(normalized: str, taken: Iterable[tuple[int, int]] = ()) -> list[Mention]:
    """The provinces of each group the question names (东北三省, 西部省份, 华东各省), each as a mention
    written as the group's name. A stem with 省份/各省 (西部省份) stands for the stem's 地区. ``taken``: where
    regions are named; a group name across one is none (广东三省 does not hold 东三省)."""
    groups = region_groups()
    names = sorted(groups, key=len, reverse=True)
    stems = "|".join(sorted({n[:-2] for n in names if n.endswith("地区")}, key=len, reverse=True))
    pattern = re.compile("|".join(map(re.escape, names)) + rf"|(?P<stem>{stems})(?:各省份|各省|省份|诸省)")
    found: list[Mention] = []
    taken = list(taken)
    for match in pattern.finditer(normalized):
        if any(start < match.end() and match.start() < end for start, end in taken):
            continue
        # 广东三省: the character before and the name's first make a province (广东), not 东三省.
        if match.start() and any(
            r.level == "省" for r in lookup(normalized[match.start() - 1 : match.start() + 1])
        ):
            continue
        name = match.group("stem") + "地区" if match.group("stem") else match.group()
        found.extend(Mention(match.group(), region) for region in groups[name])
    return found


def _group_level(match: re.Match[str]) -> str:
    """The level word of a group (各**省**, 哪个**省份**, **省份**是哪个)."""
    return match.group("level") or match.groupdict().get("level_first") or ""


def _independent(mentions: list[Mention]) -> list[Mention]:
    """The mentions that name a place of their own: 广东深圳罗湖区 is one place (罗湖区), not three."""
    return [
        m
        for m in mentions
        if not any(o is not m and o.region != m.region and contains(m.region, o.region) for o in mentions)
    ]


def ranked(pattern: re.Pattern[str], normalized: str) -> list[re.Match[str]]:
    """Matches of 哪个省 (哪一年) in a question that asks which is highest: 最/更 after it (哪个省…最快),
    or a 最X before it (最快的是哪个省)."""
    return [
        match
        for match in pattern.finditer(normalized)
        if re.search("[最更]", normalized[match.end() :]) or MOST.search(normalized[: match.start()])
    ]


def ranking_word(normalized: str) -> str:
    """The 最X (or 更X) of a ranking question (哪个省…最高 → 最高), "" when it asks none."""
    match = RANKING.search(normalized)
    if match:
        return match.group("most") or match.group("most_first")
    # 哪个省…的比重最高: the 最X further than RANKING reaches from 哪个; 增速最高的省份是哪个: the 最X before.
    which = ranked(RANKED_GROUP, normalized) or ranked(RANKED_SERIES, normalized)
    if not which:
        return ""
    after = MOST.search(normalized, which[0].end())
    before = [m.group(0) for m in MOST.finditer(normalized, 0, which[0].start())]
    return after.group(0) if after else (before[-1] if before else "")


def _ranking_spans(normalized: str) -> list[tuple[int, int]]:
    """Where 哪个/谁 and 最X/更X of a ranking question are written."""
    spans = []
    for match in RANKING.finditer(normalized):
        for name in ("which", "most", "most_first", "which_last"):
            if match.group(name):
                spans.append(match.span(name))
    return spans


def _mention_spans(normalized: str, mentions: list[Mention]) -> list[tuple[int, int]]:
    """Where the regions named are written, every time, with the count after a list of them (河南、
    海南、甘肃**三省**, 川渝**两地**): it names no fact of a report."""
    if not mentions:
        return []
    names = sorted({m.text for m in mentions}, key=len, reverse=True)
    spans = []
    for match in re.finditer("|".join(map(re.escape, names)), normalized):
        count = REGION_COUNT.match(normalized, match.end())
        spans.append((match.start(), count.end() if count else match.end()))
    return spans


def _represents(report: Report, region: Region) -> bool:
    """Whether ``report`` is of ``region`` itself."""
    own = by_full_name(report.region) if report.region else None
    return own is not None and own.code == region.code


def _covers_strictly(report: Report, year: int) -> bool:
    """Whether the report reviews or plans ``year`` itself (a five-year plan does not state what one
    of its years achieved; see qa.refuse.covered_years)."""
    return year == report.reviews or year in report.plans


def _region_order(report: Report) -> tuple[int, str, int, str]:
    region = by_full_name(report.region) if report.region else None
    # Division codes order regions as the statistical yearbooks do (北京 11 … 新疆 65); unknown last.
    return (0 if region else 1, region.code if region else report.region, report.year, report.doc_id)


def ordered(reports: Iterable[Report]) -> list[Report]:
    """Rows in order: region (by division code), then year."""
    return sorted(reports, key=_region_order)


def _strip(normalized: str, spans: Iterable[tuple[int, int]], blank: str = " ") -> str:
    """The text with ``spans`` blanked (a space, so the words on either side do not run together)."""
    chars = list(normalized)
    for start, end in spans:
        for i in range(start, end):
            chars[i] = blank
    return re.sub(f"{re.escape(blank)}+", blank, "".join(chars)).strip()


def names_listed(normalized: str, spans: list[tuple[int, int]]) -> bool:
    """Whether two of the names at ``spans`` stand side by side as a list (江苏和浙江, 湘鄂赣)."""
    return any(
        a[1] <= b[0] and LIST_GAP.fullmatch(normalized[a[1] : b[0]])
        for a, b in itertools.pairwise(sorted(spans))
    )


def items_joined(normalized: str, names: list[tuple[int, int]]) -> bool:
    """Whether the question joins items other than the regions and years it names (城镇和农村, not
    浙江、江苏 nor 2014年和2020年): 分别 and 对比 then distribute over those items."""
    rest = _strip(normalized, names, "\0")
    rest = re.sub(rf"(?<=\0)(?:{COORDINATION.pattern})+|(?:{COORDINATION.pattern})+(?=\0)", "", rest)
    return bool(COORDINATION.search(rest))


def _bound(before: str, after: str) -> str:
    """The bound a question puts on a figure: 不低于6% and 6%以上 are ">=", 超过6% ">", 5%以内 and
    不超过5% "<=", 低于5% "<"."""
    if AT_LEAST.search(before) or after == "以上":
        return ">="
    if MORE_THAN.search(before):
        return ">"
    if AT_MOST.search(before) or after in ("以内", "以下"):
        return "<="
    if LESS_THAN.search(before):
        return "<"
    return ""


def recognise(
    normalized: str,
    library: Library,
    reports: Mapping[str, Report],
    doc_ids: frozenset[str] | None = None,
) -> Comparison | None:
    """The comparison ``normalized`` asks for, or None when it keeps a single answer.

    ``reports``: the library's reports by id; ``doc_ids``: the user's choice (None: all).
    """
    regions_named = library.mentions(normalized)
    grouped = group_mentions(normalized, _mention_spans(normalized, regions_named))
    mentions = regions_named + grouped
    named = _independent(mentions)
    covered = [m for m in named if library.covers(m.region)]
    ranked_groups = ranked(RANKED_GROUP, normalized)
    ranked_series = ranked(RANKED_SERIES, normalized)
    groups = [
        (match, _levels(_group_level(match)))
        for match in [*GROUP.finditer(normalized), *ranked_groups]
        if not WITHIN.search(before := normalized[: match.start()])
        or (NATION.search(before) and _levels(_group_level(match)) == frozenset({"省"}))
    ]
    series = [match.span() for match in [*SERIES.finditer(normalized), *ranked_series]]
    words = [match.span() for pattern in (COMPARE, DISTRIBUTE) for match in pattern.finditer(normalized)]
    # 哪个…最 ranks what the question names: regions named (浙江和湖北哪个增速更高), a group (哪个省…
    # 最快, above) or years (哪一年…最高); alone (罗湖哪个街道人口最多) it ranks things inside a report.
    ranking = _ranking_spans(normalized)
    if not ranking and (ranked_groups or ranked_series):  # 增速最高的省份是哪个: its 最高 too
        ranking = [match.span() for match in MOST.finditer(normalized)]
    # 分别/对比 over items joined in the question (城镇和农村…分别) compare the items, not reports.
    places = _mention_spans(normalized, mentions)
    years_at = [(start, end) for _, start, end in _named_years(normalized)]
    joined = items_joined(normalized, places + years_at + words)
    compare_word = not joined and bool(COMPARE.search(normalized))

    cues: list[str] = []
    asks_each = (bool(words) and not joined) or bool(ranking)
    # Two regions listed (江苏和浙江…) compare them even when the library has a report of only one: the
    # table then says which it lacks.
    listed = (
        len(covered) >= 2
        or (bool(covered) and names_listed(normalized, places))
        or len({m.region for m in grouped}) >= 2  # 长三角各省市
    )
    if len(named) >= 2 and (asks_each or (listed and not RELATION.search(normalized))):
        cues.append("regions")
    if year_list(normalized):
        cues.append("years")
    if groups:
        cues.append("group")
    if series:
        cues.append("series")
    if compare_word:
        cues.append("word")
    if not cues:
        return None

    chosen = [r for r in reports.values() if doc_ids is None or r.doc_id in doc_ids]
    if named:
        # The regions named, by their own reports: a row stands for the region it names, so 罗湖区's
        # report is no row of 广东 (广东 is then missing), as it would be in a single answer's scope.
        chosen = [r for r in chosen if any(_represents(r, m.region) for m in covered)]
    levels = [group_levels for _, group_levels in groups]
    if levels and all(levels):  # 各省 → the provincial reports; 各地 keeps every level
        chosen = [r for r in chosen if r.level in frozenset().union(*levels)]
    years = tuple(dict.fromkeys(y for y, _, _ in _named_years(normalized)))
    if years:
        # Named years no report covers: every report stays, and each row says it has no such year.
        chosen = [r for r in chosen if any(_covers_strictly(r, y) for y in years)] or chosen
    missing = tuple(m.region.full_name for m in named if not any(_represents(r, m.region) for r in chosen))
    if len(chosen) < 2 and not ("regions" in cues and missing and chosen):
        return None

    question = _strip(normalized, places + words + ranking + series + [match.span() for match, _ in groups])
    figures = tuple(
        StatedFigure(
            _FIGURE_START + re.escape(normalize(f.group(0)).replace(" ", "")) + _FIGURE_END,
            float(f.group(1)),
            f.group(2),
            _bound(question[: f.start()], f.group(3) or ""),
        )
        for f in FIGURE.finditer(question)
        if not (len(f.group(1)) == 4 and question[f.end(1) : f.end(1) + 1] == "年")
    )
    if sign := SIGNED.search(question):
        figures += (StatedFigure("", 0.0, "%", "<" if sign.group(1) == "负" else ">", signed=True),)
    if RANGE_ASKED.search(question):
        figures += (StatedFigure("", math.nan, "%", "range"),)
    if form := FORM_ASKED.search(question):
        figures += (StatedFigure("", math.nan, "%", form.group("word") or form.group("said")),)
    return Comparison(
        tuple(cues),
        tuple(r.doc_id for r in ordered(chosen)),
        missing,
        question,
        years,
        figures,
        ranking_word(normalized),
        bool(ASKS_FIGURE.search(normalized)),
    )


# ---------------------------------------------------------------------------------------------
# Rows


def row_query(query: Query, report: Report, years: tuple[int, ...]) -> Query:
    """The row question as read for one report: of the years the question names, only those the
    report reviews or plans (罗湖's 2015 report is asked about 2014, not 2020), their tokens too."""
    if not years:
        return query
    own = tuple(y for y in years if _covers_strictly(report, y))
    if not own or len(own) == len(years):
        return query
    others = {str(y) for y in years if y not in own}
    return dataclasses.replace(query, years=own, tokens=tuple(t for t in query.tokens if t not in others))


def report_hits(
    stored: StoredIndex,
    query: Query,
    scores: Scores,
    settings: Settings,
    topical: np.ndarray | None,
    doc_ids: Iterable[str],
    per_report: int,
) -> tuple[dict[str, list[Hit]], np.ndarray]:
    """Each report's best ``per_report`` chunks, best first, from one fused score per chunk, and the
    fused scores. The scores are those ``qa.fuse.fuse`` gives (scaled over the whole library, so a
    report's ranking is the one a single answer restricted to it sees); here they are made once and
    split by report, instead of one search per report."""
    wanted = list(doc_ids)
    fused = fused_scores(scores, settings)
    columns = chunk_columns(stored)
    fused[~columns.in_reports(wanted)] = 0.0
    if topical is not None:
        fused[~topical] *= settings.off_topic_factor
    fused *= year_multipliers(stored, query, settings.year_boost, settings.period_boost)
    candidates = np.flatnonzero(fused > 0)
    docs = columns.doc[candidates]
    # By report, then best first, equal scores in chunk order (as fuse orders them).
    order = np.lexsort((candidates, -fused[candidates], docs))
    candidates, docs = candidates[order], docs[order]
    firsts = np.flatnonzero(np.r_[True, docs[1:] != docs[:-1]]) if len(docs) else np.array([], dtype=int)
    names = {code: doc_id for doc_id, code in columns.codes.items()}
    by_report: dict[str, list[Hit]] = {doc_id: [] for doc_id in wanted}
    for first in firsts:
        doc_id = names[int(docs[first])]
        chosen = candidates[first : first + per_report]
        chosen = chosen[columns.doc[chosen] == docs[first]]
        by_report[doc_id] = [
            Hit(int(i), float(fused[i]), float(scores.bm25[i]), float(scores.dense[i])) for i in chosen
        ]
    return by_report, fused


def top_hits(fused: np.ndarray, scores: Scores, limit: int) -> list[Hit]:
    """The best ``limit`` chunks over all the compared reports (for the passages shown), as fuse."""
    candidates = np.flatnonzero(fused > 0)
    if len(candidates) > limit:
        candidates = candidates[np.argpartition(-fused[candidates], limit - 1)[:limit]]
    candidates = candidates[np.lexsort((candidates, -fused[candidates]))]
    return [Hit(int(i), float(fused[i]), float(scores.bm25[i]), float(scores.dense[i])) for i in candidates]


def table_cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def missing_note(comparison: Comparison, doc_ids: frozenset[str] | None) -> str:
    """「报告库中没有江苏省的报告。」 for the named regions no compared report is of."""
    if not comparison.missing:
        return ""
    where = "所选的报告" if doc_ids is not None else "报告库"
    years = "、".join(str(y) for y in comparison.years)
    return f"{where}中没有{'、'.join(comparison.missing)}{f'{years}年' if years else ''}的报告。"


def table_markdown(rows: list[Row], labels: Mapping[str, str], references: list[str], note: str = "") -> str:
    """The table a person reads: one row per report (its region or title, year, quote [n] or 未找到),
    then the numbered references, then ``note``."""
    lines = ["| 地区 | 年份 | 报告原文 |", "| --- | --- | --- |"]
    for row in rows:
        said = f"{table_cell(row.quote)} [{row.citation}]" if row.found else NOT_STATED
        lines.append(f"| {table_cell(labels[row.doc_id])} | {row.year or ''} | {said} |")
    parts = ["\n".join(lines)]
    if references:
        parts.append("\n".join(references))
    if note:
        parts.append(note)
    return "\n\n".join(parts)
