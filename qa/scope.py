"""Region scope: a question and the library's reports in, the regions it names and the reports to search out.

In: the reports of one loaded index (their ``region``, an official full name) and a normalised
question.
Out: the regions the question names (``Mention``), split into those the library has reports for or
within (浙江 → 浙江省's report; 广东 → 深圳市罗湖区's, which lies in it; 深圳 → 广东省's, which
contains it) and those it has none for (江苏省 in a library without it); the ids of the reports in
scope; a summary of what the library covers for a refusal to name.

Names are read from the table of administrative divisions (``index.regions``), never from
evaluation questions. Any official name of three or more characters (江苏省, 福田区) counts where
it stands; a name without its suffix (浙江, 罗湖, 深圳) or a one-character short name (浙, 湘, 渝)
counts only as a whole word of the question, since 阿里 is also the start of 阿里巴巴 — and a
county's bare name (朝阳, 鼓楼) only when the library has that county or a report within it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from index.corpus import Report
from index.normalize import normalize
from index.regions import (
    Region,
    ancestors,
    by_full_name,
    contains,
    divisions,
    is_common_word,
    names,
    provincial_short_names,
)
from index.tokens import _jieba, tokenize

MAX_REGIONS_LISTED = 8


@functools.cache
def _short_run() -> tuple[re.Pattern[str], dict[str, str]]:
    """Provinces written as a run of their one-character short names before a count of them: 湘鄂赣三省,
    川渝两地, 京津冀地区 (a run alone, 湘鄂赣, stays unread: 黑, 青, 宁 are everyday characters too)."""
    by_char = {char: full for full, chars in provincial_short_names().items() for char in chars}
    chars = "".join(sorted(by_char))
    # 区 alone does not count: 湘鄂赣苏区 is the old soviet area.
    pattern = re.compile(rf"[{chars}]{{2,}}(?=[两二三四五六七八九十]个?[省地市]|省|地区)")
    return pattern, by_char


# A count of regions after their names: 三省, 两地, 四省区, 五个省份.
REGION_COUNT = re.compile(r"等?[两二三四五六七八九十]个?(?:省区市|省市区|省市|省区|省份|省|地区|地|市|区)")


@dataclass(frozen=True)
class Mention:
    text: str  # as written in the (normalised) question
    region: Region


@functools.cache
def _general_names() -> tuple[dict[str, tuple[Region, ...]], dict[str, tuple[Region, ...]]]:
    """(names matched anywhere, names matched as whole words) for every division in the table."""
    anywhere: dict[str, list[Region]] = {}
    words: dict[str, list[Region]] = {}
    for region in divisions().values():
        for name in {region.full_name, region.name}:
            if len(name) >= 3:
                anywhere.setdefault(name, []).append(region)
        if region.level in ("省", "市") and len(region.short) >= 2:
            words.setdefault(region.short, []).append(region)
        if region.level == "省":
            for one in provincial_short_names().get(region.name, []):
                if not is_common_word(one):
                    words.setdefault(one, []).append(region)
    return (
        {k: tuple(v) for k, v in anywhere.items()},
        {k: tuple(v) for k, v in words.items()},
    )


class Library:
    """The regions of one index's reports, and the questions' region mentions read against them."""

    def __init__(self, reports: Iterable[Report]) -> None:
        self.reports = list(reports)
        self.region_of: dict[str, Region] = {}  # doc_id → its region, where the table knows it
        for report in self.reports:
            region = by_full_name(report.region) if report.region else None
            if region is not None:
                self.region_of[report.doc_id] = region
        # Reports whose region is not known may be about any place: a question naming a region is
        # still answered from them too, and its region names stay search words for them.
        self.unplaced = frozenset(r.doc_id for r in self.reports if r.doc_id not in self.region_of)
        anywhere, words = _general_names()
        self._anywhere = dict(anywhere)
        self._words = dict(words)
        # The library's own regions and the divisions they lie in are read by every name they have,
        # 罗湖 and 深圳 included.
        own = {r for region in self.region_of.values() for r in (region, *ancestors(region))}
        for region in own:
            for name in names(region):
                table = self._anywhere if len(name) >= 3 and name != region.short else self._words
                if len(name) == 1 and is_common_word(name):
                    continue
                table[name] = tuple(dict.fromkeys((region, *table.get(name, ()))))
        self._own = own
        self._pattern = re.compile("|".join(map(re.escape, sorted(self._anywhere, key=len, reverse=True))))

    # -----------------------------------------------------------------------------------------
    def _choose(self, candidates: tuple[Region, ...], context: str) -> Region:
        """Among namesakes (朝阳区 of 北京 and of 长春), the library's own, then one whose province or
        prefecture the question names, then the highest level."""
        for region in candidates:
            if region in self._own:
                return region
        for region in candidates:
            if any(a.name in context or a.short in context for a in ancestors(region)):
                return region
        return candidates[0]

    def mentions(self, normalized: str) -> list[Mention]:
        """Regions the question names, in order, each once."""
        found: list[tuple[int, int, Mention]] = []
        for match in self._pattern.finditer(normalized):
            region = self._choose(self._anywhere[match.group()], normalized)
            found.append((match.start(), match.end(), Mention(match.group(), region)))
        position = 0
        for word in _jieba().lcut(normalized):
            start, end = position, position + len(word)
            position = end
            if word in self._words and not any(s <= start and end <= e for s, e, _ in found):
                region = self._choose(self._words[word], normalized)
                found.append((start, end, Mention(word, region)))
        # A name the segmenter joins to a count after it (广东三省 as 广 / 东三省) is still a name.
        for count in REGION_COUNT.finditer(normalized):
            for start in range(max(0, count.start() - 4), count.start() - 1):
                word = normalized[start : count.start()]
                if word in self._words and not any(s < count.start() and start < e for s, e, _ in found):
                    found.append(
                        (start, count.start(), Mention(word, self._choose(self._words[word], normalized)))
                    )
                    break
        pattern, by_char = _short_run()
        for match in pattern.finditer(normalized):
            for offset, char in enumerate(match.group()):
                start = match.start() + offset
                region = by_full_name(by_char[char])
                if region is not None and not any(s <= start < e for s, e, _ in found):
                    found.append((start, start + 1, Mention(char, region)))
        found.sort(key=lambda item: item[0])
        unique: dict[str, Mention] = {}
        for _, _, mention in found:
            unique.setdefault(mention.region.code, mention)
        return list(unique.values())

    def reports_for(self, region: Region) -> list[str]:
        """Ids of the reports of ``region``, of regions within it, or — when there are none — of the
        regions that contain it (深圳 in a library holding 广东省's report)."""
        within = [doc_id for doc_id, own in self.region_of.items() if contains(region, own)]
        if within:
            return within
        return [doc_id for doc_id, own in self.region_of.items() if contains(own, region)]

    def regions_in_scope(self, named: list[Region], doc_ids: frozenset[str] | None) -> list[Region]:
        """The regions of the reports a question may be answered from: those of the regions it
        names, else all the library's, within the user's choice ``doc_ids`` either way."""
        ids = [i for region in named for i in self.reports_for(region)] if named else list(self.region_of)
        return [self.region_of[i] for i in ids if doc_ids is None or i in doc_ids]

    def covers(self, region: Region) -> bool:
        return bool(self.reports_for(region))

    def question_tokens(self, mentions: list[Mention]) -> set[str]:
        """Search tokens of the names of covered regions named (and the divisions they lie in): inside
        the reports in scope they are no evidence, every sentence of 罗湖's report is about 罗湖."""
        dropped: set[str] = set()
        if self.unplaced:  # a report of unknown region is searched by the name as a word
            return dropped
        for mention in mentions:
            if not self.covers(mention.region):
                continue
            for region in (mention.region, *ancestors(mention.region)):
                for name in (*names(region), mention.text):
                    dropped.update(tokenize(normalize(name)))
        return dropped

    def summary(self) -> str:
        """「深圳市罗湖区（2015、2021年）、浙江省（2026年）」: what a refusal lists as covered."""
        years: dict[str, set[int]] = {}
        for report in self.reports:
            years.setdefault(report.region or "未知地区", set()).add(report.year)
        parts = [
            f"{region}（{'、'.join(str(y) for y in sorted(y for y in found if y))}年）"
            for region, found in sorted(years.items())
        ]
        if len(parts) > MAX_REGIONS_LISTED:
            return "、".join(parts[:MAX_REGIONS_LISTED]) + f"等{len(parts)}个地区"
        return "、".join(parts)
