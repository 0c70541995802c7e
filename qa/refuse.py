"""Refusal: the analysed question and the candidate sentences of its top passages in, a ``Verdict`` out.

A question is answered only from evidence that is about what it asks. Each check below either
narrows the sentences that may be quoted or refuses with a reason a user can read:

- **words**: the question must share vocabulary with the reports, and the sentence quoted first (with
  its section heading) must cover enough of its weighted terms, its years aside (``found_threshold``);
  a bare year or an injection string never does.
- **years**: a question that names a year is answered only from sentences about that year, by their
  paragraph's period in its report (a review paragraph speaks of the year reviewed, a plan paragraph
  of the years planned) or by the year written in the sentence. When the best such sentence covers
  the question much less well than a sentence about another year, the reports state the fact for
  other years only (2014's 进出口总额 does not answer a question about 2020's), and the answer says so.
- **units**: a question that names its answer's unit (多少钱, 多少亿, 多长, 什么时候, 每平米多少钱, 是谁) is
  answered only from sentences that hold an amount of money, a figure in 亿/万, a length, a time, a price
  per unit, or a person's name other than those the question itself names (黄贝中学的校长是谁 is not
  answered by a sentence naming 黄贝中学).
- **places**: a place the question names (福田区, 香港), other than the region of the reports it is
  answered from, must appear in the quoted paragraph. The region a question names is not checked
  here: it chose the reports searched (``qa.scope``), whose 「我省」「全区」 mean it. A division the
  library has no report for (江苏省 in a library of other provinces) that no paragraph names gets a
  reason listing what the library covers.
- **years** also read five-year periods: a paragraph of a report's review that speaks of the period
  (“十四五”, 五年来) is about its years, as is a sentence that names one.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from index.corpus import Report
from index.metadata import five_year_periods
from index.normalize import normalize
from index.store import StoredIndex
from index.tokens import person_names, tokenize
from qa.analyse import TIME_WORDS, YEAR, Query
from qa.quote import Sentence, TermWeights
from qa.scope import Library

_PLACE = re.compile(
    r"(?:省|市|区|县|镇|乡|村|州|岛|港|湾|口岸|街道)$|^(?:北京|上海|天津|重庆|香港|澳门|台湾|广州)"
)
# Common nouns with a place suffix that jieba tags as places: 「哪个城市」 names no place.
_GENERIC_PLACES = frozenset(
    "城市 都市 城区 市区 地区 社区 小区 景区 园区 郊区 山区 辖区 片区 全市 全区 本市 本区 该市 该区 "
    "各区 各市 港湾 海湾 海岛 岛屿 乡村 农村 村镇 乡镇 城镇 县城 省份 州县".split()
)
# What a sentence must hold to answer a question that names its answer's unit (see qa.analyse).
UNITS: dict[str, re.Pattern[str]] = {
    # 3.5万元/平方米, 每平方米2万元, 每人每月500元
    "price": re.compile(r"\d\s*(?:亿|万|千)?元\s*(?:/|每)|每[\u4e00-\u9fff]{1,4}\d[\d.]*\s*(?:万|千)?元"),
    "money": re.compile(r"\d\s*(?:亿|万|千)?(?:美元|港元|元)"),
    "amount": re.compile(r"\d\s*[亿万]|[一二两三四五六七八九十百千][亿万]"),
    "length": re.compile(r"\d\s*(?:公里|千米|米|km)", re.IGNORECASE),
    "time": re.compile(
        r"\d{3,4}年|[〇零一二两三四五六七八九十]{2,4}年|[\d一二三四五六七八九十正腊]{1,2}月|[初廿]\w日|年底|年内|"
        r"年初|年末|上半年|下半年|今年|明年|世纪|年代|时期|期间|之前|之后|以前|以后|当时|[春夏秋冬]季"
    ),
}
# A sentence about the question's year must cover at least this share of what the best sentence
# about any year covers; below it, the question's facts are stated for other years only.
YEAR_COVERAGE_RATIO = 0.5
# A sentence holding the unit a question asks for (an amount, a date, a name) must cover the
# question nearly as well as the best sentence: it must be about the same thing. On the tune split,
# answerable questions scored 1.0 here and unanswerable ones 0.0 and 0.5.
UNIT_COVERAGE_RATIO = 0.75


UNIT_MISSING = {
    "money": "报告中没有找到这项的金额。",
    "amount": "报告中没有找到这项的数额。",
    "length": "报告中没有找到这项的长度。",
    "time": "报告中没有找到这项的时间。",
    "price": "报告中没有找到这项的单价。",
    "person": "报告中没有提到这个人的姓名。",
}


@dataclass(frozen=True)
class Verdict:
    found: bool
    candidates: tuple[Sentence, ...]  # the sentences that may be quoted, best first
    reason: str = ""  # why not found, in Chinese for the user; empty when found


def holds_unit(query: Query, text: str) -> bool:
    """Whether ``text`` holds what the question's unit asks for (see ``UNITS``)."""
    if query.unit == "person":
        return any(name not in query.normalized for name in person_names(normalize(text)))
    return bool(UNITS[query.unit].search(text))


@functools.cache
def _time_tokens() -> frozenset[str]:
    # Their single characters (本, 五) and 一年 (一年能建多少) are kept: they say more than time.
    tokens = {t for word in TIME_WORDS for t in tokenize(normalize(word))}
    return frozenset(t for t in tokens if len(t) > 1 and t != "一年")


def without_years(query: Query) -> Query:
    """The question as sentences are compared with it: its years and time words (去年, 现在,
    “十四五”期间) aside, which the year checks read and a sentence about that time need not repeat."""
    time_tokens = _time_tokens()
    return dataclasses.replace(
        query, tokens=tuple(t for t in query.tokens if not YEAR.fullmatch(t) and t not in time_tokens)
    )


_FIVE_YEARS = re.compile(r"十[一二三四五六七八九]五|五年")


def covered_years(reports: Iterable[Report]) -> set[int]:
    """The years some report reviews or plans (a year inside a five-year period is not covered by the
    period: a plan for 2021–2025 does not state what 2023 achieved)."""
    years: set[int] = set()
    for report in reports:
        years.update(report.plans)
        if report.reviews:
            years.add(report.reviews)
    return years


def _years_text(years: set[int] | list[int]) -> str:
    return "、".join(str(y) for y in sorted(years))


class Refusal:
    """Checks fixed for one loaded index."""

    def __init__(
        self,
        stored: StoredIndex,
        weights: TermWeights,
        threshold: float,
        checks: bool = True,
        library: Library | None = None,
    ) -> None:
        self.stored = stored
        self.weights = weights
        self.threshold = threshold
        self.checks = checks  # the place, unit and year checks below (off for the ablation)
        self.library = library or Library(stored.reports.values())
        self.covered_years = covered_years(stored.reports.values())
        self.regions = {normalize(r.region) for r in stored.reports.values() if r.region}

    def sentence_years(self, sentence: Sentence) -> set[int]:
        """The years a sentence speaks of: its paragraph's period in its report, and years it writes."""
        paragraph = sentence.paragraph
        report = self.stored.reports[paragraph.doc_id]
        reviewed = {report.reviews} if report.reviews else set()
        years = {
            "review": reviewed,
            "plan": set(report.plans),
        }.get(paragraph.period, reviewed | set(report.plans))
        written = {int(y) for y in YEAR.findall(sentence.text)}
        elsewhere = {int(y) for y in YEAR.findall(paragraph.text)} - self.covered_years
        return years | written | elsewhere

    def _relative_years(self, query: Query, sentence: Sentence) -> set[int]:
        """The years 去年/今年/明年 name in the report of ``sentence``."""
        year = self.stored.reports[sentence.paragraph.doc_id].year
        return {year + offset for offset in query.relative} if year else set()

    def sentence_periods(self, sentence: Sentence) -> set[tuple[int, int]]:
        """The five-year periods a sentence speaks of: those it names, and its report's reviewed or
        planned period where its paragraph (or section) speaks of five years (“十四五”, 五年来)."""
        paragraph = sentence.paragraph
        report = self.stored.reports[paragraph.doc_id]
        periods = set(five_year_periods(normalize(sentence.text)))
        if _FIVE_YEARS.search(paragraph.text) or _FIVE_YEARS.search(paragraph.section):
            if report.review_period and paragraph.period != "plan":
                periods.add(report.review_period)
            if report.plan_period and paragraph.period != "review":
                periods.add(report.plan_period)
        return periods

    def foreign_places(self, query: Query) -> list[str]:
        """Places the question names that are not (part of) the reports' own region."""
        return [
            p
            for p in query.places
            # jieba also tags common words as places (新建 is a county, 东西 "thing"): only names that
            # read as administrative places count.
            # A division the library has no report for (江苏, 北京) is a place however it is written.
            if (_PLACE.search(p) or any(p in name for name in query.foreign))
            and p not in _GENERIC_PLACES
            and not any(p in region or region in p for region in self.regions)
        ]

    def judge(
        self, query: Query, candidates: list[Sentence], doc_ids: frozenset[str] | None = None
    ) -> Verdict:
        """``candidates``: the sentences that may be quoted, best first (``qa.quote.candidate_sentences``);
        ``doc_ids``: the reports searched (all when None), whose years a refusal names."""
        content = without_years(query)

        def covers(sentence: Sentence) -> float:
            return self.weights.coverage(content, self.weights.tokens(sentence.text))

        def in_context(sentence: Sentence) -> float:
            """Coverage by the sentence and its section heading (「（三）教育」 tells what it is about)."""
            heading = self.weights.tokens(sentence.paragraph.section)
            return self.weights.coverage(content, self.weights.tokens(sentence.text) | heading)

        def found(quotable: list[Sentence]) -> Verdict:
            """Found, unless the sentence that would be quoted first covers too little of the question."""
            if in_context(quotable[0]) < self.threshold:
                return Verdict(False, ())
            return Verdict(True, tuple(quotable))

        # No sentence says enough about the question: refused before any year or unit is examined,
        # so the reason does not suggest the reports speak of it for other years.
        if not candidates or max(map(in_context, candidates)) < self.threshold:
            return Verdict(False, ())
        # A question must name something the reports talk about: a bare year, 「年」 or an
        # injection string matches nothing meaningful, whatever passage ranks first.
        vocabulary = self.stored.bm25.vocab_dict
        if not any(t in vocabulary and not t.isdigit() and t != "年" for t in query.tokens):
            return Verdict(False, ())
        if not self.checks:
            return found(candidates)

        places = self.foreign_places(query)
        if places:
            candidates = [
                s
                for s in candidates
                if all(p in normalize(s.paragraph.text + s.paragraph.section) for p in places)
            ]
            if not candidates:
                if query.foreign:
                    return Verdict(
                        False,
                        (),
                        f"报告库中没有{'、'.join(query.foreign)}的政府工作报告。"
                        f"报告库收录：{self.library.summary()}。",
                    )
                return Verdict(False, (), f"报告中没有关于{'、'.join(places)}的内容。")

        if query.unit:
            in_unit = [s for s in candidates if holds_unit(query, s.text)]
            # The amount, date or name must be stated of the thing asked about: 碧道16.4公里 does not
            # give the length of 排洪河碧道, nor another school's 校长 the name of this one's.
            if not in_unit or max(map(covers, in_unit)) < UNIT_COVERAGE_RATIO * max(map(covers, candidates)):
                return Verdict(False, (), UNIT_MISSING[query.unit])
            candidates = in_unit

        if query.relative and not query.years and not query.periods:
            # 去年/今年 are read in each report's own time: a 2026 report's 去年 is 2025, a 2015
            # report's is 2014. Only sentences about that year of their report may answer.
            about = [s for s in candidates if self.sentence_years(s) & self._relative_years(query, s)]
            if not about:
                return Verdict(False, (), "报告中没有找到这一年的这项内容。")
            if max(map(covers, about)) < YEAR_COVERAGE_RATIO * max(map(covers, candidates)):
                return Verdict(False, (), "报告中没有找到这一年的这项内容。")
            candidates = about
        if query.years or query.periods:
            # 「2015年的报告里说，去年……」: a year with 去年/今年 may name the report, not the fact.
            wanted = set(query.years) | {y + offset for y in query.years for offset in query.relative}
            periods = set(query.periods)
            about = [
                s
                for s in candidates
                if self.sentence_years(s) & wanted or (periods and self.sentence_periods(s) & periods)
            ]
            named = [f"{a}–{b}" for a, b in sorted(periods)] + [str(y) for y in sorted(wanted)]
            other_years = f"报告中没有找到{'、'.join(named)}年的这项内容。"
            if not about and not wanted:
                return Verdict(False, (), other_years)
            if not about:
                searched = (
                    covered_years(self.stored.reports[d] for d in doc_ids if d in self.stored.reports)
                    if doc_ids is not None
                    else self.covered_years
                )
                if not wanted & searched:
                    return Verdict(
                        False,
                        (),
                        f"报告涉及的年份是{_years_text(searched)}年，没有{_years_text(wanted)}年的内容。",
                    )
                return Verdict(False, (), other_years)
            if max(map(covers, about)) < YEAR_COVERAGE_RATIO * max(map(covers, candidates)):
                return Verdict(False, (), other_years)
            candidates = about
        return found(candidates)
