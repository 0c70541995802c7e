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
- **places**: a place the question names (福田区, 香港), other than the reports' own region, must
  appear in the quoted paragraph.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from index.normalize import normalize
from index.store import StoredIndex
from index.tokens import person_names
from qa.analyse import YEAR, Query
from qa.quote import Sentence, TermWeights

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


def without_years(query: Query) -> Query:
    """The question as sentences are compared with it: its years aside, which only sentences writing
    them hold."""
    return dataclasses.replace(query, tokens=tuple(t for t in query.tokens if not YEAR.fullmatch(t)))


def _years_text(years: set[int] | list[int]) -> str:
    return "、".join(str(y) for y in sorted(years))


class Refusal:
    """Checks fixed for one loaded index."""

    def __init__(
        self, stored: StoredIndex, weights: TermWeights, threshold: float, checks: bool = True
    ) -> None:
        self.stored = stored
        self.weights = weights
        self.threshold = threshold
        self.checks = checks  # the place, unit and year checks below (off for the ablation)
        reports = stored.reports.values()
        self.covered_years = {r.reviews for r in reports if r.reviews} | {y for r in reports for y in r.plans}
        self.regions = {normalize(r.region) for r in reports if r.region}

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
        # A year no report reviews or plans (1997, 2016) is spoken of only where it is written; the
        # paragraph around the sentence is context enough (an encyclopaedia entry names its year once).
        elsewhere = {int(y) for y in YEAR.findall(paragraph.text)} - self.covered_years
        return years | written | elsewhere

    def foreign_places(self, query: Query) -> list[str]:
        """Places the question names that are not (part of) the reports' own region."""
        return [
            p
            for p in query.places
            # jieba also tags common words as places (新建 is a county, 东西 "thing"): only names that
            # read as administrative places count.
            if _PLACE.search(p)
            and p not in _GENERIC_PLACES
            and not any(p in region or region in p for region in self.regions)
        ]

    def judge(self, query: Query, candidates: list[Sentence]) -> Verdict:
        """``candidates``: the sentences that may be quoted, best first (``qa.quote.candidate_sentences``)."""
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
                return Verdict(False, (), f"报告中没有关于{'、'.join(places)}的内容。")

        if query.unit:
            in_unit = [s for s in candidates if holds_unit(query, s.text)]
            # The amount, date or name must be stated of the thing asked about: 碧道16.4公里 does not
            # give the length of 排洪河碧道, nor another school's 校长 the name of this one's.
            if not in_unit or max(map(covers, in_unit)) < UNIT_COVERAGE_RATIO * max(map(covers, candidates)):
                return Verdict(False, (), UNIT_MISSING[query.unit])
            candidates = in_unit

        if query.years:
            # 「2015年的报告里说，去年……」: a year with 去年/今年 may name the report, not the fact.
            wanted = set(query.years) | {y + offset for y in query.years for offset in query.relative}
            about = [s for s in candidates if self.sentence_years(s) & wanted]
            other_years = f"报告中没有找到{_years_text(wanted)}年的这项内容。"
            if not about:
                if not wanted & self.covered_years:
                    return Verdict(
                        False,
                        (),
                        f"报告涉及的年份是{_years_text(self.covered_years)}年，没有{_years_text(wanted)}年的内容。",
                    )
                return Verdict(False, (), other_years)
            if max(map(covers, about)) < YEAR_COVERAGE_RATIO * max(map(covers, candidates)):
                return Verdict(False, (), other_years)
            candidates = about
        return found(candidates)
