"""Query analysis: a question in, a ``Query`` out.

In: the user's question (any string).
Out: its normalised copy and BM25 tokens (made exactly as for the indexed text), the report terms
its everyday words stand for (from ``glossary.toml``: 财政收入 → 一般公共预算收入), the years it
names (2014, 二〇二〇年), the places it names (福田区), the kind of answer it
names (多少钱 → money, 是谁 → person), relative years (去年/今年/明年) and the
period they imply (review of a past year vs plan for the coming one), the years of a five-year plan
it names (“十四五” → 2021–2025), the regions it names read against the library (``qa.scope``), and
the kind of answer it wants (a figure, a list, a reason), which later stages use to choose among
sentences.

A region the library has reports for is structure, not a word: its name leaves the search tokens
(retrieval steers to its reports instead), so 「罗湖2020年财政收入」 does not rank a sentence for
merely saying 罗湖.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from index.metadata import five_year_periods
from index.normalize import normalize
from index.regions import Region, contains, lookup
from index.structure import Period
from index.tokens import place_names, tokenize
from qa.scope import Library

AnswerKind = Literal["figure", "list", "reason", "other"]
GLOSSARY = Path(__file__).resolve().parent / "glossary.toml"

YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")  # a year written in digits
_CN_DIGITS = str.maketrans("〇零一二三四五六七八九", "00123456789")
_CN_YEAR = re.compile(r"([〇零一二三四五六七八九]{4})年")
RELATIVE_YEARS: dict[str, tuple[int, Period]] = {
    "前年": (-2, "review"),
    "去年": (-1, "review"),
    "上一年": (-1, "review"),
    "过去一年": (-1, "review"),
    "今年": (0, "plan"),
    "本年": (0, "plan"),
    "明年": (1, "plan"),
}
# Words that only place a question in time (去年, 现在, “十四五”期间): the year and period checks read
# them, so a sentence is not asked to repeat them to count as covering the question.
TIME_WORDS = (
    *RELATIVE_YEARS,
    *"现在 目前 当前 如今 眼下 期间 时期 年间".split(),
    *(f"十{ordinal}五" for ordinal in "一二三四五六七八九"),
)
FIGURE_CUES = re.compile(
    r"多少|几[个家所项条座万亿套人次]|百分之|比例|比重|增长了|增速|增幅|下降了|金额|数量|规模|总量|多大|多高|多长"
)
LIST_CUES = re.compile(r"哪些|哪几|有什么|有啥|都有|包括|几方面|几个方面|列举")
REASON_CUES = re.compile(r"为什么|为何|原因|怎么|怎样|如何|措施|办法|举措|做法|靠什么")
# Questions that name the kind of their answer: a price per unit, an amount of money, a length, a
# time, a person. The first that matches wins, so a price (多少钱一平) is not taken for a sum.
UNIT_CUES: dict[str, re.Pattern[str]] = {
    # 每平方公里 is a density (地均GDP), not a price.
    "price": re.compile(r"均价|单价|每平米|每平方米|每平(?!方)|一平(?!方公里)|每亩|多少钱一"),
    "money": re.compile(r"多少钱|花了?多少|要花|多少(?:亿|万|千)?元|多少资金|多少经费"),
    # 多少亿 / 几万: an amount counted in 亿 or 万 (money is caught above when it says 元).
    "amount": re.compile(r"(?:多少|几)(?:个)?[亿万]"),
    "length": re.compile(r"多长|多远|多宽|几公里|多少公里|多少米"),
    "time": re.compile(r"什么时候|何时|哪一?年[建开完通启投]|几月|多久"),
    "person": re.compile(r"是谁|谁是|哪一?位|何人|谁(?:担任|负责|主持|领导)"),
}


@dataclass(frozen=True)
class Query:
    text: str  # as typed
    normalized: str
    tokens: tuple[str, ...]
    years: tuple[int, ...]  # years named outright
    relative: tuple[int, ...]  # offsets of 去年 (-1), 今年 (0), 明年 (+1) …
    period: Period  # the period the question asks about, "unknown" if it does not say
    kind: AnswerKind
    expansions: tuple[str, ...] = ()  # tokens of the report terms the question's words stand for
    # question token → report terms (each as its tokens) that also count as covering it
    alternatives: tuple[tuple[str, frozenset[frozenset[str]]], ...] = ()
    places: tuple[str, ...] = ()  # place names it mentions (罗湖, 福田区, 香港)
    # what its answer must be: "price", "money", "amount", "length", "time", "person", or "" if it
    # does not say
    unit: str = ""
    periods: tuple[tuple[int, int], ...] = ()  # five-year plans it names (“十四五” → (2021, 2025))
    regions: tuple[str, ...] = ()  # full names of the regions it names that the library covers
    foreign: tuple[str, ...] = ()  # full names of the divisions it names that the library does not


GlossaryEntry = tuple[str, tuple[str, ...], tuple[tuple[str, ...], ...], Region | None]


@functools.cache
def glossary() -> tuple[GlossaryEntry, ...]:
    """(normalised key, its own tokens, the tokens of each of its report terms, the region whose
    reports alone use those terms or None), longest key first."""
    table = tomllib.loads(GLOSSARY.read_text(encoding="utf-8"))
    sections: list[tuple[Region | None, dict[str, list[str]]]] = [(None, table["terms"])]
    for name, terms in table.get("regional", {}).items():
        found = lookup(name)
        if len(found) != 1:
            raise ValueError(f'{GLOSSARY}: [regional."{name}"] names {len(found)} divisions, not one')
        sections.append((found[0], terms))
    entries = []
    for region, terms in sections:
        for key, expansions in terms.items():
            key_tokens = tuple(tokenize(normalize(key)))
            term_tokens = tuple(tuple(tokenize(normalize(term))) for term in expansions)
            entries.append((normalize(key), key_tokens, term_tokens, region))
    return tuple(sorted(entries, key=lambda entry: -len(entry[0])))


def keys_apart(normalized: str) -> str:
    """``normalized`` with each glossary key that the word segmenter cuts across set apart by spaces:
    「社零增长」 is otherwise cut 社 / 零增长 (zero growth), and 社零 no longer matches its terms. A key
    inside a word (失业 in 失业率) stays: that word is what the question says."""
    words = tokenize(normalized)
    for key in sorted({key for key, *_ in glossary()}, key=len, reverse=True):
        if key in normalized and not any(key in word for word in words):
            normalized = normalized.replace(key, f" {key} ")
    return normalized


def expand(
    normalized: str, scope: Iterable[Region] | None = None
) -> tuple[tuple[str, ...], tuple[tuple[str, frozenset[frozenset[str]]], ...]]:
    """Expansion tokens and per-token alternatives for the glossary keys found in ``normalized``.

    An alternative is a whole report term (its tokens): 社零 is covered by 社会消费品零售总额, not
    by 消费 alone, nor GDP by 地区. ``scope``: the regions of the reports the question may be
    answered from; a regional entry applies only when one of them lies within its region (None:
    region unknown, every entry applies).
    """
    regions = None if scope is None else tuple(scope)
    extra: dict[str, None] = {}
    alternatives: dict[str, set[frozenset[str]]] = {}
    remaining = normalized
    matched: set[str] = set()  # a key can have a general entry and regional ones
    for key, key_tokens, terms, region in glossary():
        if region is not None and regions is not None and not any(contains(region, r) for r in regions):
            continue
        if key not in matched:
            if key not in remaining:
                continue
            remaining = remaining.replace(key, " ")  # a longer key claims its words first
            matched.add(key)
        for term in terms:
            extra.update(dict.fromkeys(term))
        for token in key_tokens:
            alternatives.setdefault(token, set()).update(map(frozenset, terms))
    return tuple(extra), tuple((token, frozenset(alts)) for token, alts in alternatives.items())


def answer_kind(normalized: str) -> AnswerKind:
    if LIST_CUES.search(normalized):
        return "list"
    if REASON_CUES.search(normalized):
        return "reason"
    if FIGURE_CUES.search(normalized):
        return "figure"
    return "other"


def analyse(
    question: str,
    use_glossary: bool = True,
    library: Library | None = None,
    doc_ids: frozenset[str] | None = None,
) -> Query:
    """``library``: the loaded reports' regions; without it no region is read from the question.
    ``doc_ids``: the reports the user chose (None: all), which decide the regional glossary."""
    normalized = normalize(question)
    years = [int(y) for y in YEAR.findall(normalized)]
    years += [int(y.translate(_CN_DIGITS)) for y in _CN_YEAR.findall(normalized)]
    relative = [offset for word, (offset, _) in RELATIVE_YEARS.items() if word in normalized]
    periods = {period for word, (_, period) in RELATIVE_YEARS.items() if word in normalized}
    if re.search(r"目标|计划|打算|将要|准备|要做|部署|任务", normalized):
        periods.add("plan")
    if re.search(r"完成了|实现了|取得|成绩|成效|做了|做成|回顾", normalized):
        periods.add("review")
    period: Period = periods.pop() if len(periods) == 1 else "unknown"
    tokens = tuple(tokenize(keys_apart(normalized) if use_glossary else normalized))
    places = tuple(dict.fromkeys(place_names(normalized)))
    regions: tuple[str, ...] = ()
    foreign: tuple[str, ...] = ()
    scope: list[Region] | None = None
    if library is not None:
        mentions = library.mentions(normalized)
        covered = [m for m in mentions if library.covers(m.region)]
        regions = tuple(m.region.full_name for m in covered)
        foreign = tuple(m.region.full_name for m in mentions if m not in covered)
        scope = library.regions_in_scope([m.region for m in covered], doc_ids)
        dropped = library.question_tokens(covered)
        tokens = tuple(t for t in tokens if t not in dropped)
        # A covered region is searched as scope, not checked as a place in the paragraph; an
        # uncovered one must be (its name as written).
        places = tuple(
            dict.fromkeys(
                [p for p in places if not any(p in m.text or m.text in p for m in covered)]
                + [m.text for m in mentions if m not in covered]
            )
        )
    expansions, alternatives = expand(normalized, scope) if use_glossary else ((), ())
    return Query(
        question,
        normalized,
        tokens,
        tuple(dict.fromkeys(years)),
        tuple(relative),
        period,
        answer_kind(normalized),
        tuple(t for t in expansions if t not in tokens),
        alternatives,
        places,
        next((unit for unit, cue in UNIT_CUES.items() if cue.search(normalized)), ""),
        tuple(dict.fromkeys(five_year_periods(normalized))),
        regions,
        foreign,
    )
