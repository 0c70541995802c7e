"""Comparison rows: each compared report's candidate sentences in, the sentence its row quotes (or none) out.

In: a ``Comparison`` (``qa.compare``), the row question's ``Query``, each report's best chunks from the
one retrieval pass (``qa.compare.report_hits``), the term weights and the single answer's ``Refusal``.
Out: one ``RowEvidence`` per report, in row order, whose ``verdict`` is found with the sentence to quote
first, or not found.

Each row is first judged as the question asked of that report alone: the same candidate sentences
(``qa.quote``) and the same refusal (``qa.refuse``), with the years the question names narrowed to those
the report covers (罗湖's 2015 report answers for 2014, its 2021 report for 2020) and 「我省」「去年」
read in that report. A table row then has to pass more than a single answer does, since it stands
alone in its cell, without neighbouring quotes to put a loose match in context: it must state the
fact asked, of the indicator asked, for the time asked.

That last decision is made by a logistic model (``RowModel``, ``qa/row_model.json``) over features
of each of the row's first candidates: how much of the row question one clause states, whether it
holds every figure the question states and a figure at all when one is asked, whether it speaks of
the period asked (one year or five, no other year, a plan's goal only when a goal is asked),
whether its figure is counted in the measure word asked (多少户, not 1.84万个), which words stand
before its figure and whether they narrow the indicator asked (规上**装备**工业增加值, **跨境电商**进出口),
and how fully the row states the fact against the fullest row (reports word the same indicator alike).
A candidate without the figures the question states (哪些省份提出增长5%左右) is never chosen. Where the
candidate ranked among the single answer's is no feature: it tied the choice to that order, and a right
sentence ranked second lost to a wrong one ranked first (eval/results/compare-heldout.md). The row
quotes its most probable candidate when that is at least the model's threshold. The model is fitted by
``python -m eval.row_model`` on comparison questions already looked at (never on a frozen test split or a
fresh held-out set); its features are general properties of a quote and a question, not words of any
report.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.normalize import normalize
from index.store import StoredIndex
from index.structure import Paragraph, heading_level
from index.tokens import tagged
from qa.analyse import Query
from qa.compare import Comparison, row_query
from qa.fuse import Hit
from qa.quote import CANDIDATE_PASSAGES, Sentence, TermWeights, candidate_sentences
from qa.refuse import Refusal, Verdict, without_years

_DIGIT = re.compile(r"\d")
# A figure or year token (5%, 2014, 10万), not a name that holds digits (pm2.5, 5g): the names are words
# of the fact asked.
_FIGURE_TOKEN = re.compile(r"^[^a-z]*\d[^a-z]*$")
_YEAR_DIGITS = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
_YEAR_NAMED = re.compile(r"(?<!\d)(?:19|20)\d\d(?=年)")  # 2030年, not 2030万
# A figure of several years: an average, a five-year total, a five-year plan.
SEVERAL_YEARS = re.compile(r"年均|五年|十[一二三四五六七八九]五|累计")
FIVE_YEAR_PARAGRAPH = re.compile(r"^\W*(?:这五年|五年来|过去五年|“?十[一二三四五六七八九]五”?时期)")
ONE_YEAR_PARAGRAPH = re.compile(r"^\W*(?:刚刚过去的|过去的?一年|一年来|(?:19|20)\d\d年(?:是|，|以来))")
CLAUSE_CUT = re.compile(r"[，,；;。！？!?]")
OPENING = 20  # characters of a paragraph read for its opening (这五年，…)
# Words that qualify a stated figure (5%左右): checked with the figure, not as words of the fact.
QUALIFIERS = frozenset({"左右", "以上", "以内", "以下"})
# A measure word the question asks its figure in (多少万亩, 多少户, 几所). Magnitudes (万, 亿) may differ.
MEASURE_WORDS = (
    "平方公里|平方米|立方米|万千瓦|千瓦时|千瓦|公里|千米|公顷|美元|元|户|套|个|所|家|人次|人|亩|米|吨|斤|辆|座|张|"
    "条|项|件|床|间|名|台|艘|场|天|小时|只|头|棵|株|块|处|栋|道"
)
# A figure in a clause: what stands before it, back to the figure before, names what it counts.
# Digits inside a name (PM2.5, 5G基站) are no figure; the text is normalised (lower case).
A_FIGURE = re.compile(r"(?<![a-z\d.])\d+(?:\.\d+)?(?![a-z\d])")
# A goal past the year planned: the five-year plan's targets, 到2030年, 2035年远景目标.
LATER_GOAL = re.compile(r"十[五六七八九]五|(?:19|20)\d\d年(?:前|底|末)?(?:要|将|达到|实现)?|远景")
# A level reached over a period: 从72%提升至76%左右, 由52.23%提高到58.08%.
FROM_TO = re.compile(r"(?:从|由)[^，,；;。]*?\d[^，,；;。]*?(?:到|至)[^，,；;。]*?\d")
# A question asking how much something changed rather than the level it reached.
CHANGE = re.compile(r"增长|增速|增幅|提高|提升|下降|降低|减少|涨|降了|增加了多少")
ASKED_MEASURE = re.compile(rf"(?:多少|几)(?:[万亿千百十]*)({MEASURE_WORDS})")
# The candidates of a row the model reads (best first by the single answer's score). 3, 5 and 8 gave the
# same held-out figures at 372a532 (leave one set out: recall 0.845-0.846, precision 0.901-0.903).
ROW_CANDIDATES = 5
ROW_MODEL = Path(__file__).with_name("row_model.json")
# The model's decision (``row_evidence``); off only to measure what it adds (eval.compare): each row is
# then quoted as a single answer restricted to its report would be.
ROW_CHECKS = True

# The features, in the order the model's weights are stored (see ``candidate_features``).
FEATURES = (
    "clause_coverage",  # best share of the row question's words in one clause (with the one before)
    "stated_coverage",  # the same among clauses stating the figures, for the time asked (0 if none)
    "sentence_coverage",  # share of the row question's words in the whole sentence
    "coverage_vs_fullest",  # stated_coverage over the fullest row's
    "missing_weight",  # the heaviest question word the sentence lacks, as a share of all
    "figures_stated",  # 1 if a clause holds every figure the question states (5%左右)
    "figure_given",  # 1 if the question asks for a figure and the best clause gives none
    "period_right",  # 1 if the best clause speaks of one year / several as asked
    "other_year",  # 1 if the sentence names a year the question does not ask about (2030年)
    "measure_asked",  # 1 if the question asks for its figure in a measure word (多少户)
    "measure_given",  # 1 if the best clause counts a figure in it
    "length",  # the sentence's length, in hundreds of characters (capped at 3)
    "figure_coverage",  # best share of the question's words in the words right before one figure
    "figure_extra",  # weight of the other words before that figure (装备 in 规上装备工业增加值增长8.4%)
    "later_years",  # 1 if the paragraph before the sentence sets a later goal (“十五五”, 到2030年)
    "period_clash",  # 1 if the paragraph plans where the question asks what was done, or the reverse
    "untimed_plan",  # 1 if the question names no time and the paragraph plans (a goal, not a level)
    "indicator_inner",  # characters inside the indicator the question does not ask (规上装备工业增加值)
    "indicator_modifier",  # characters right before it that narrow it (跨境电商进出口, 服务进出口)
)


@dataclass(frozen=True)
class RowEvidence:
    doc_id: str
    query: Query  # the row question as read for this report
    hits: tuple[Hit, ...]  # this report's best chunks, best first
    verdict: Verdict  # found: the sentence to quote first


@dataclass(frozen=True)
class RowCandidates:
    """One report's candidates as the model reads them, before its decision."""

    doc_id: str
    query: Query
    hits: tuple[Hit, ...]
    sentences: tuple[Sentence, ...]  # the single answer's candidates (none when it refuses), capped
    features: np.ndarray  # one row of ``FEATURES`` per sentence


@dataclass(frozen=True, eq=False)
class RowModel:
    """A logistic model of whether a candidate states the fact for its report."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    threshold: float  # a row quotes its most probable candidate from this probability on

    def probability(self, x: np.ndarray) -> np.ndarray:
        z = ((x - self.mean) / self.scale) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-z))

    def best(self, x: np.ndarray) -> tuple[float, int]:
        """The most probable candidate's probability and index among ``x``'s rows ((0.0, -1) for none).
        A candidate without the figures the question states (哪些省份提出增长5%左右) is never chosen: the
        question asks which reports state them."""
        if not len(x):
            return 0.0, -1
        probability = np.where(x[:, self.features.index("figures_stated")] > 0, self.probability(x), 0.0)
        best = int(np.argmax(probability))
        return float(probability[best]), best

    def to_dict(self) -> dict:
        return {
            "features": list(self.features),
            "mean": self.mean.round(6).tolist(),
            "scale": self.scale.round(6).tolist(),
            "weights": self.weights.round(6).tolist(),
            "bias": round(float(self.bias), 6),
            "threshold": self.threshold,
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> RowModel:
        if tuple(data["features"]) != FEATURES:
            raise ValueError("the row model was fitted on other features: run python -m eval.row_model")
        return cls(
            FEATURES,
            np.array(data["mean"], dtype=float),
            np.array(data["scale"], dtype=float),
            np.array(data["weights"], dtype=float),
            float(data["bias"]),
            float(data["threshold"]),
        )


@functools.cache
def row_model(path: Path = ROW_MODEL) -> RowModel:
    return RowModel.from_dict(json.loads(path.read_text(encoding="utf-8")))


def five_yearly(paragraph: Paragraph, text: str, in_run: bool = False) -> bool:
    """Whether ``text`` (a clause of the paragraph) states a figure of several years rather than of one:
    by its own words (年均, 五年, “十四五”, 累计, 从2020年…到2025年), its paragraph opening on the five
    years (这五年，…), or (``in_run``, see ``five_year_run``) an earlier paragraph of its section doing so.
    Section headings are no guide: 「“十四五”时期和2025年工作回顾」 holds the year's review too."""
    said = normalize(text)
    if SEVERAL_YEARS.search(said) or len(set(_YEAR_DIGITS.findall(said))) >= 2:
        return True
    return in_run or bool(FIVE_YEAR_PARAGRAPH.match(normalize(paragraph.text[:OPENING])))


def five_year_run(stored: StoredIndex, paragraph: Paragraph) -> bool:
    """Whether the paragraph is among those its part of the report gives to the five years: a review
    that opens 「“十四五”时期是…的五年」 lists the five years' gains in the paragraphs after
    (——人民生活品质持续改善…) until one opens on the year (刚刚过去的2025年, 一年来). A part ends at its
    top heading (一、, 二、 or a title line), which the walk back does not cross."""
    for number in range(paragraph.number, 0, -1):
        earlier = stored.paragraphs.get((paragraph.doc_id, number))
        if earlier is None:
            return False
        opening = normalize(earlier.text[:OPENING])
        if FIVE_YEAR_PARAGRAPH.match(opening):
            return True
        if ONE_YEAR_PARAGRAPH.match(opening):
            return False
        if earlier.kind == "heading" and heading_level(earlier.text) in (0, 1):
            return False
    return False


def clauses(text: str) -> list[str]:
    """The clauses of a sentence (cut at ，；。), each with the clause before it: a list such as
    「全省生产总值连续跨越…三个大台阶，年均增长5.9%」 states its subject once, then its figures."""
    parts = [p for p in CLAUSE_CUT.split(text) if p.strip()]
    return [
        f"{before}，{part}" if before else part for before, part in zip(["", *parts], parts, strict=False)
    ]


def content_query(query: Query) -> Query:
    """The row question's words that name the fact: its years, time words and stated figures aside."""
    content = without_years(query)
    return dataclasses.replace(
        content, tokens=tuple(t for t in content.tokens if not _FIGURE_TOKEN.match(t) and t not in QUALIFIERS)
    )


def counted_as_asked(said: str, measure: str) -> bool:
    """Whether ``said`` counts a figure in ``measure`` (多少户 → 310多万户, not 1.84万个)."""
    # 人 counted is not 人次 (visits) counted.
    word = re.escape(measure) + ("(?!次)" if measure == "人" else "")
    return bool(re.search(rf"\d(?:多|余)?[万亿千百十]*{word}", said))


def _allowed_years(query: Query, reviews: int | None, plans: tuple[int, ...]) -> set[int]:
    if query.years:
        return set(query.years)
    if query.periods:
        return {y for start, end in query.periods for y in range(start, end + 1)}
    return {y for y in (reviews, *plans) if y}


def candidate_features(
    comparison: Comparison,
    query: Query,
    content: Query,
    weights: TermWeights,
    sentence: Sentence,
    allowed_years: set[int],
    in_run: bool = False,
    at_run_end: bool = False,
) -> list[float]:
    """The features of one candidate that depend on it alone (``FEATURES``; coverage against the fullest
    row is set by ``row_candidates``).
    ``in_run``: the sentence's paragraph is in a five-year review (``five_year_run``); ``at_run_end``:
    the year asked is the one its report reviews, where such a review ends."""
    one_year = bool(query.years or query.relative) and not query.periods
    # 「从72%提升至76%左右」 in the five years' review ends on the reviewed year's level: it answers a
    # question asking that year's level, not one asking how much it grew.
    level_at_end = one_year and at_run_end and not CHANGE.search(comparison.question)

    def period_fits(clause: str, said: str) -> bool:
        if not (one_year or query.periods):
            return True
        several = five_yearly(sentence.paragraph, clause, in_run)
        if several and level_at_end and FROM_TO.search(said):
            return True
        return several == bool(query.periods)

    measure = ASKED_MEASURE.search(comparison.question)
    total = sum(weights.weight(t) for t in set(content.tokens)) or 1.0
    best_clause, best, stated = "", -1.0, 0.0
    figures_stated = not comparison.figures
    for clause in clauses(sentence.text):
        said = normalize(clause).replace(" ", "")
        coverage = weights.coverage(content, weights.tokens(clause))
        if coverage > best:
            best, best_clause = coverage, said
        # A bound (低于5%) is held by the clause's figure of the indicator asked, not by any other
        # figure of the same unit beside it (CPI微降0.1%，城镇调查失业率5.2%).
        at = figure_words(content, weights, said, total)[2] if comparison.figures else None
        holds_figures = all(figure.held_by(said, at) for figure in comparison.figures)
        figures_stated = figures_stated or holds_figures
        if not holds_figures or (query.kind == "figure" and not _DIGIT.search(said)):
            continue
        if not period_fits(clause, said):
            continue
        stated = max(stated, coverage)
    tokens = weights.tokens(sentence.text)
    covered = weights.covered(content, tokens)
    missing = max((weights.weight(t) for t in set(content.tokens) - covered), default=0.0)
    period_right = period_fits(best_clause, best_clause)
    years = {int(y) for y in _YEAR_NAMED.findall(normalize(sentence.text))}
    figure_coverage, figure_extra, at = figure_words(content, weights, best_clause, total)
    # 「哪些省份给…定了具体数字」: a candidate whose clause on the indicator gives it no figure is no answer.
    figures_stated = figures_stated and not (comparison.asks_figure and at is None)
    inner, modifier = indicator_qualifiers(content, weights, best_clause, at)
    before = normalize(sentence.paragraph.text[: sentence.start])
    later = any(
        not m.group().startswith(tuple(str(y) for y in allowed_years)) for m in LATER_GOAL.finditer(before)
    )
    return [
        max(best, 0.0),
        stated,
        weights.coverage(content, tokens),
        0.0,  # coverage_vs_fullest
        missing / total,
        float(figures_stated),
        float(query.kind == "figure" and not _DIGIT.search(best_clause)),
        float(period_right),
        float(bool(years - allowed_years)),
        float(measure is not None),
        float(measure is not None and counted_as_asked(best_clause, measure.group(1))),
        min(len(sentence.text) / 100, 3.0),
        figure_coverage,
        figure_extra,
        float(later),
        float({query.period, sentence.paragraph.period} == {"plan", "review"}),
        float(
            sentence.paragraph.period == "plan"
            and query.period == "unknown"
            and not (query.years or query.relative or query.periods)
        ),
        inner,
        modifier,
    ]


def figure_words(
    content: Query, weights: TermWeights, clause: str, total: float
) -> tuple[float, float, int | None]:
    """For the figure of ``clause`` whose preceding words (back to the figure before) hold most of the
    question's words: that share, the weight of the other words there (as a share of the question's) —
    规上装备工业增加值增长8.4% answers 规上工业增加值 with 装备 too many — and where the figure starts
    (None when no figure follows any of the question's words)."""
    asked = set(content.tokens) | set(content.expansions)
    for _, terms in content.alternatives:
        for term in terms:
            asked |= term
    best, extra, at, start = 0.0, 0.0, None, 0
    for match in A_FIGURE.finditer(clause):
        words = weights.tokens(clause[start : match.start()])
        start = match.end()
        coverage = weights.coverage(content, words)
        if coverage > best:
            other = sum(weights.weight(t) for t in words - asked if not _FIGURE_TOKEN.match(t))
            best, extra, at = coverage, min(other / total, 3.0), match.start()
    return best, extra, at


# Words that name no indicator between it and its figure (增长, 分别, 总额, 达到): the rest inside it
# narrows the indicator to a part of it.
_INDICATOR_FILLER = re.compile(
    r"增长|增速|增幅|提高|提升|增加|下降|降低|减少|上涨|回升|回落|下滑|降至|增至|提高到|达到|突破|超过|分别|同比|总额|总量|总值|"
    r"规模|水平|实现|完成|保持|稳定在|控制在|为|达|至|到|约|近|了|的|和|与|及|、|年均|全年|"
    # 从72%提升至, 同口径增长, 粮食总产量, 各类保障性住房: how a figure is put, not what it counts.
    r"从|由|在|同口径|可比|总|各类|各项|各级|各领域"
)
# A list whose figures follow 分别 (接待游客、旅游总花费分别增长10.7%和9.5%): the items after the one asked
# are other indicators beside it, not words inside it.
_LISTED_AFTER = re.compile(r"[、和与及].*分别")
# Words before an indicator that do not narrow it: a scope (全省, 地方, 地区生产总值's 地区) or a verb of
# a goal (力争, 确保). A noun there does (跨境电商进出口, 服务进出口, 货物进出口).
_SCOPE = frozenset(
    "全省 全市 全区 全县 全国 全体 本省 我省 本市 我市 本区 我区 地方 其中 ".split()
    + "全年 当年 今年 去年 地区 全社会".split()
)
# jieba tags some of these verbs as nouns of action (vn: 建设, 改造), as it does 服务 of 服务进出口.
_GOAL_VERBS = frozenset(
    "力争 确保 实现 完成 推动 推进 保持 加快 促进 争取 努力 ".split()
    + "建设 新建 改造 建成 开工 培育 实施 开展 引进 新增 打造 创建 发展 治理 整治 提升 筹集".split()
)
# Nouns, nouns of action and place names (海洋生产总值, 大连 of a province's report).
_NOUN_FLAGS = frozenset({"n", "nz", "vn", "nt", "ng", "ns", "j", "eng"})
QUALIFIER_CAP = 6  # characters


def _question_words(content: Query, weights: TermWeights) -> set[str]:
    """The words of the question (and of its glossary terms) that name something, whole: a part of a
    longer word that its other parts do not fill (出口 of 进出口) is no word of the question on its own,
    while the parts of a compound they fill (就业, 人数 of 就业人数) are."""
    words = {t for t in content.tokens if not _DIGIT.search(t) and weights.weight(t) > 0}
    words |= {t for t in content.expansions if len(t) >= 2 and not _DIGIT.search(t)}
    for _, terms in content.alternatives:
        words |= {t for term in terms for t in term if len(t) >= 2}

    def filled(longer: str) -> bool:
        covered = [False] * len(longer)
        for part in words:
            if part != longer:
                for match in re.finditer(re.escape(part), longer):
                    covered[match.start() : match.end()] = [True] * len(part)
        return all(covered)

    return {w for w in words if not any(w != o and w in o and not filled(o) for o in words)}


def _noun_modifier(before: str) -> int:
    """Characters of the nouns right before an indicator (跨境电商 of 跨境电商进出口), scopes and goal
    verbs aside."""
    run = 0
    for word, flag in reversed(tagged(before)):
        if word in _SCOPE and not run:
            continue
        if flag not in _NOUN_FLAGS or word in _GOAL_VERBS or word in _SCOPE:
            break
        run += len(word)
    return run


def indicator_qualifiers(
    content: Query, weights: TermWeights, clause: str, at: int | None
) -> tuple[float, float]:
    """How much the words naming the figure at ``at`` narrow the indicator asked, as shares of
    ``QUALIFIER_CAP`` characters: characters inside it the question does not ask (规上**装备**工业增加值,
    外贸**出口** for 进出口), and nouns right before it (**跨境电商**进出口, **服务**进出口总额; a scope such
    as 全省 or 地方, or a verb such as 力争, does not). Both 0 when no word of the question names the
    figure."""
    if at is None:
        return 0.0, 0.0
    window = clause[:at]
    # The figure before, read as figure_words reads it: the window starts after it.
    window = window[max((m.end() for m in A_FIGURE.finditer(window)), default=0) :]
    marked = [False] * len(window)
    for word in _question_words(content, weights):
        for match in re.finditer(re.escape(word), window):
            marked[match.start() : match.end()] = [True] * len(word)
    if not any(marked):
        return 0.0, 0.0
    # The indicator is in the figure's own part of the clause: 「外贸新业态积极发展，跨境电商进出口增长」.
    last = len(marked) - 1 - marked[::-1].index(True)
    cut = max((m.end() for m in re.finditer(r"[^\w%]", window[:last])), default=0)
    first = next(i for i in range(cut, len(window)) if marked[i])
    inner_text = "".join(" " if marked[i] else window[i] for i in range(first, len(window)))
    head, tail = inner_text[: last - first + 1], inner_text[last - first + 1 :]
    inner_text = head + _LISTED_AFTER.sub("", tail, count=1)
    inner = len(re.sub(r"\W", "", _INDICATOR_FILLER.sub("", inner_text)))
    modifier = _noun_modifier(re.split(r"[\W\d和与及、]", window[cut:first])[-1])
    return min(inner, QUALIFIER_CAP) / QUALIFIER_CAP, min(modifier, QUALIFIER_CAP) / QUALIFIER_CAP


def row_candidates(
    stored: StoredIndex,
    comparison: Comparison,
    query: Query,
    hits: Mapping[str, list[Hit]],
    weights: TermWeights,
    refusal: Refusal,
) -> list[RowCandidates]:
    """Each compared report's candidates (as a single answer restricted to it would quote them, none
    when it would refuse) and their features, in row order."""
    index = {name: i for i, name in enumerate(FEATURES)}
    # The same for every report: a row question differs only in its years, which content leaves out.
    content = content_query(query)
    rows: list[RowCandidates] = []
    for doc_id in comparison.doc_ids:
        report = stored.reports[doc_id]
        asked = row_query(query, report, comparison.years)
        own = tuple(hits.get(doc_id, [])[:CANDIDATE_PASSAGES])
        verdict = refusal.judge(
            asked, candidate_sentences(stored, asked, list(own), weights), frozenset({doc_id})
        )
        sentences = verdict.candidates[:ROW_CANDIDATES] if verdict.found else ()
        allowed = _allowed_years(asked, report.reviews, tuple(report.plans))
        features = np.array(
            [
                candidate_features(
                    comparison,
                    asked,
                    content,
                    weights,
                    s,
                    allowed,
                    five_year_run(stored, s.paragraph),
                    report.reviews in allowed,
                )
                for s in sentences
            ],
            dtype=float,
        ).reshape(len(sentences), len(FEATURES))
        rows.append(RowCandidates(doc_id, asked, own, tuple(sentences), features))
    fullest = max(
        (float(r.features[:, index["stated_coverage"]].max()) for r in rows if len(r.sentences)), default=0.0
    )
    for r in rows:
        if len(r.sentences):
            r.features[:, index["coverage_vs_fullest"]] = (
                r.features[:, index["stated_coverage"]] / fullest if fullest > 0 else 0.0
            )
    return rows


def row_evidence(
    stored: StoredIndex,
    comparison: Comparison,
    query: Query,
    hits: Mapping[str, list[Hit]],
    weights: TermWeights,
    refusal: Refusal,
    checks: bool | None = None,
    model: RowModel | None = None,
) -> list[RowEvidence]:
    """Each compared report's verdict, in row order: found with its most probable candidate first when
    the model (``row_model()`` unless given) accepts it. ``checks`` False (``ROW_CHECKS`` when None): the
    single answer's verdict as it is."""
    checks = ROW_CHECKS if checks is None else checks
    model = model or row_model()
    found = []
    for row in row_candidates(stored, comparison, query, hits, weights, refusal):
        probability, best = model.best(row.features)
        if row.sentences and not checks:
            verdict = Verdict(True, row.sentences)
        elif row.sentences and probability >= model.threshold:
            order = [best, *(i for i in range(len(row.sentences)) if i != best)]
            verdict = Verdict(True, tuple(row.sentences[i] for i in order))
        else:
            verdict = Verdict(False, (), "报告中没有找到这一项。")
        found.append(RowEvidence(row.doc_id, row.query, row.hits, verdict))
    return found
