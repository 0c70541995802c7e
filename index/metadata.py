"""Report metadata without a metadata file: a report's text and file name in, ``Metadata`` out.

In: the exact text of a report file and its path.
Out: the region it governs (full official name, 浙江省 / 深圳市罗湖区 / 中华人民共和国) and its level
(国家/省/市/区县), the year it was delivered, the year and five-year period it reviews, the year and
period it plans, a title, and for every field where it came from — so ``python -m index reports`` can
show a user what was read from the text, what from the file name, and what was only derived.

What is read, in order of trust:
- region: the session it was delivered to (「在浙江省第十四届人民代表大会第四次会议上」), the head of
  government (「浙江省省长」「罗湖区区长」「我代表罗湖区人民政府」), a title line
  (「2026年浙江省政府工作报告」), then the file name (浙江省_2026.txt); names are resolved against
  the table of administrative divisions (``index.regions``);
- year delivered: the date of that session (「2026年1月14日在…」, 「二〇二六年一月…」), a title line,
  the file name;
- year reviewed: a heading such as 「一、2025年工作回顾」 or 「刚刚过去的2025年」, else the year before
  delivery; the five-year period (“十四五”, 2021–2025) when the text reviews it (a heading, or
  「“十四五”…收官」) and the period planned (“十五五”) when the text names it;
- title: a title line naming the region and year, else one composed from them.

Nothing is guessed silently: a field that cannot be read gets a warning naming the file and the
field. A ``.toml`` beside the report overrides any field (``index.corpus``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from index.regions import COUNTRY_CODE, Level, Region, divisions, lookup, resolve

HEAD_CHARS = 3000  # the subtitle, the speaker and the title stand in the first lines of a report
_CN_DIGITS = str.maketrans("〇零○一二三四五六七八九", "000123456789")
_CJK = r"[\u4e00-\u9fff]"

# 「在浙江省第十四届人民代表大会」「深圳市罗湖区第七届人民代表大会」「在甘肃省十四届人民代表大会」
_SESSION = re.compile(rf"({_CJK}{{2,24}}?)第?[一二三四五六七八九十]{{1,3}}届人民代表大会")
_NATIONAL_SESSION = re.compile(r"[一二三四五六七八九十]{1,3}届全国人民代表大会")
# 「浙江省人民政府省长」「浙江省省长」「罗湖区区长」「自治区主席」「我代表罗湖区人民政府」
_HEAD = re.compile(rf"({_CJK}{{2,24}}?)(?:人民政府)?(?:省长|市长|区长|县长|旗长|州长|主席)")
_ON_BEHALF = re.compile(rf"我代表({_CJK}{{2,24}}?)人民政府")
_TITLE = re.compile(r"^\s*[“\"]?(.{0,30}?)政府工作报告")
_DATE = re.compile(
    r"((?:19|20)\d\d|[〇零○一二三四五六七八九]{4})年"
    r"(?:\d{1,2}|[一二三四五六七八九十]{1,3})月(?:\d{1,2}|[一二三四五六七八九十]{1,3})日[^。\n]{0,4}在"
)
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
# 「一、2025年工作回顾」「一、2025年和“十四五”时期工作回顾」「刚刚过去的2025年」「回顾2014年」
_REVIEWED = re.compile(
    r"((?:19|20)\d\d)年[^。\n]{0,16}?(?:工作回顾|回顾|主要工作|工作总结)|刚刚过去的((?:19|20)\d\d)年|"
    r"回顾((?:19|20)\d\d)年"
)
_FIVE_YEAR = re.compile(r"[“\"‘]?十([一二三四五六七八九])五[”\"’]?")
MAX_HEADING_CHARS = 40


def five_year_period(ordinal: int) -> tuple[int, int]:
    """The years of the n-th five-year plan: the 14th (“十四五”) is 2021–2025. The third began in 1966,
    after three years of readjustment (1963–1965)."""
    start = 1953 + 5 * (ordinal - 1) if ordinal <= 2 else 1966 + 5 * (ordinal - 3)
    return start, start + 4


def five_year_ordinal(period: tuple[int, int]) -> int | None:
    """Which five-year plan ``period`` is (2021–2025 → 14), or None for any other span of years."""
    start = period[0]
    ordinal = (start - 1953) // 5 + 1 if start < 1966 else (start - 1966) // 5 + 3
    return ordinal if ordinal >= 1 and five_year_period(ordinal) == tuple(period) else None


def period_text(period: tuple[int, int] | None) -> str:
    """「“十四五”2021–2025」 for a five-year plan's period; other spans as bare years."""
    if period is None:
        return ""
    ordinal = five_year_ordinal(period)
    if ordinal is None:
        return f"{period[0]}–{period[1]}"
    tens, ones = divmod(ordinal, 10)
    numerals = "零一二三四五六七八九"
    head = "" if tens == 0 else "十" if tens == 1 else numerals[tens] + "十"
    name = head + (numerals[ones] if ones else "")
    return f"“{name}五”{period[0]}–{period[1]}"


def five_year_periods(text: str) -> list[tuple[int, int]]:
    """The periods of the five-year plans ``text`` names (“十四五” → (2021, 2025)), in order."""
    ordinals = "一二三四五六七八九"
    return [five_year_period(10 + ordinals.index(m.group(1)) + 1) for m in _FIVE_YEAR.finditer(text)]


@dataclass(frozen=True)
class Metadata:
    title: str
    region: str  # official full name; "" when unknown
    level: Level | None
    year: int  # delivered; 0 when unknown
    reviews: int | None  # the year whose work it reviews
    review_period: tuple[int, int] | None  # a five-year period it reviews as well (2021, 2025)
    plans: tuple[int, ...]
    plan_period: tuple[int, int] | None  # the five-year period it sets out (2026, 2030)
    origins: tuple[tuple[str, str], ...]  # field → where its value came from
    warnings: tuple[tuple[str, str], ...]  # (field, one line naming the file and the fix) for each
    # field that could not be read


def _named_region(candidate: str, context: str) -> Region | None:
    """The division a captured phrase ends with: 「日在浙江省」 → 浙江省, 「开幕,深圳市罗湖区」 → 罗湖区."""
    for start in range(len(candidate) - 1):
        tail = candidate[start:]
        if tail.startswith(("自治区", "省", "市", "区", "县")):
            continue  # 「自治区主席」 names no division by itself
        region = resolve(tail, context)
        # Only a name said in full (浙江省, 罗湖区) or the region's own short name at the end of
        # the phrase; 「全省」 or a stray word never resolves.
        if region is not None and tail in (region.full_name, region.name, region.short):
            return region
    return None


def _region_from_text(head: str) -> tuple[Region | None, str]:
    if _NATIONAL_SESSION.search(head) or re.search(r"国务院总理", head):
        return divisions()[COUNTRY_CODE], "text: 全国人民代表大会 / 国务院总理"
    for pattern, where in (
        (_SESSION, "text: the session it was delivered to"),
        (_HEAD, "text: the head of government"),
        (_ON_BEHALF, "text: 「我代表…人民政府」"),
    ):
        for match in pattern.finditer(head):
            region = _named_region(match.group(1), head)
            if region is not None:
                return region, where
    for line in head.split("\n")[:40]:
        title = _TITLE.match(line)
        if title and len(line.strip()) <= MAX_HEADING_CHARS:
            region = _first_region(title.group(1), head)
            if region is not None:
                return region, "text: title line"
    return None, ""


def _first_region(text: str, context: str = "") -> Region | None:
    """The longest division name in ``text`` (a title or a file name)."""
    best: Region | None = None
    best_length = 0
    for start in range(len(text)):
        for end in range(len(text), start + 1, -1):
            if end - start <= best_length:
                break
            name = text[start:end]
            if lookup(name):
                region = resolve(name, context)
                if region is not None:
                    best, best_length = region, end - start
                break
    return best


def _to_year(text: str) -> int:
    return int(text.translate(_CN_DIGITS))


def _year_from_text(head: str) -> tuple[int | None, str]:
    date = _DATE.search(head)
    if date:
        return _to_year(date.group(1)), "text: the date it was delivered"
    for line in head.split("\n")[:40]:
        if _TITLE.match(line) and len(line.strip()) <= MAX_HEADING_CHARS:
            year = _YEAR.search(line)
            if year:
                return int(year.group(1)), "text: title line"
    return None, ""


def _latest_frequent_year(text: str) -> int | None:
    counts: dict[int, int] = {}
    for match in _YEAR.finditer(text):
        counts[int(match.group(1))] = counts.get(int(match.group(1)), 0) + 1
    frequent = [year for year, count in counts.items() if count >= 2]
    return max(frequent) if frequent else None


def _reviewed(text: str, year: int) -> tuple[int | None, str]:
    for match in _REVIEWED.finditer(text):
        reviewed = int(next(g for g in match.groups() if g))
        if year == 0 or year - 2 <= reviewed < year:
            return reviewed, "text: review heading"
    return (year - 1, "derived: the year before delivery") if year else (None, "")


def infer(text: str, path: Path) -> Metadata:
    """Metadata read from ``text`` and ``path``'s name (see the module docstring)."""
    head = text[:HEAD_CHARS]
    origins: dict[str, str] = {}
    warnings: list[tuple[str, str]] = []

    region, origin = _region_from_text(head)
    if region is None:
        region = _first_region(path.stem)
        origin = "file name" if region is not None else ""
    if region is not None:
        origins["region"] = origins["level"] = origin
    else:
        warnings.append(
            (
                "region",
                f"{path}: region not found in the text or the file name — set region in {path.stem}.toml",
            )
        )

    year, origin = _year_from_text(head)
    if year is None:
        stem_year = _YEAR.search(path.stem)
        year, origin = (int(stem_year.group(1)), "file name") if stem_year else (None, "")
    if year is None:
        year = _latest_frequent_year(text)
        if year is not None:
            origins["year"] = "guessed: the latest year the text names twice or more"
            warnings.append(
                (
                    "year",
                    f"{path}: year delivered not stated; guessed {year} from the years the text names — "
                    f"check it, or set year in {path.stem}.toml",
                )
            )
        else:
            warnings.append(
                (
                    "year",
                    f"{path}: year delivered not found in the text or the file name — "
                    f"set year in {path.stem}.toml",
                )
            )
    else:
        origins["year"] = origin

    reviews, origin = _reviewed(text, year or 0)
    if reviews is not None:
        origins["reviews"] = origin
    else:
        warnings.append(("reviews", f"{path}: year reviewed not found — set reviews in {path.stem}.toml"))

    review_period = plan_period = None
    named_periods = set(five_year_periods(text))
    if reviews is not None:
        closing = [p for p in named_periods if p[1] == reviews]
        if closing:
            review_period = closing[0]
            origins["review_period"] = "text: names the five-year period ending the year reviewed"
    plans: tuple[int, ...] = ()
    if year:
        plans = (year,)
        origins["plans"] = "derived: the year delivered"
        opening = [p for p in named_periods if p[0] == year]
        if opening:
            plan_period = opening[0]
            origins["plan_period"] = "text: names the five-year period starting the year delivered"

    title, origin = _title(head, region, year)
    origins["title"] = origin
    return Metadata(
        title=title,
        region=region.full_name if region else "",
        level=region.level if region else None,
        year=year or 0,
        reviews=reviews,
        review_period=review_period,
        plans=plans,
        plan_period=plan_period,
        origins=tuple(origins.items()),
        warnings=tuple(warnings),
    )


def _title(head: str, region: Region | None, year: int | None) -> tuple[str, str]:
    """A title line that names the region and the year, else one composed from them."""
    for line in head.split("\n")[:40]:
        line = line.strip()
        if not _TITLE.match(line) or len(line) > MAX_HEADING_CHARS:
            continue
        if region and year and str(year) in line and (region.name in line or region.short in line):
            return line, "text: title line"
    name = region.full_name if region else ""
    if name or year:
        return f"{name}{year or ''}{'年' if year else ''}政府工作报告", "derived: region and year"
    return "政府工作报告", "derived: nothing known"
