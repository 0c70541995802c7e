"""Chinese tokens for BM25: normalised text in, a list of search tokens out.

jieba's search mode (``cut_for_search``) emits both a long word and its parts (罗湖区 → 罗湖,
湖区, 罗湖区), so a question that says 罗湖 still matches a report that says 罗湖区. Punctuation,
white space and function words are dropped; the same function serves the index and the question,
so both sides are tokenised alike.
"""

from __future__ import annotations

import functools
import logging
import re

import jieba

# Function words and question words: frequent in questions, uninformative for matching.
STOPWORDS = frozenset(
    """的 了 是 在 和 与 及 或 也 都 就 对 为 把 被 从 向 到 等 其 之 而
    并 上 中 下 个 年度 吗 呢 吧 啊 呀 么 嘛 哦 什么 多少 哪些 哪个 哪里
    哪 怎么 怎样 如何 为什么 为何 几 几个 有没有 是否 请问 请 一下 告诉 我
    我们 你 你们 他们 这 那 这个 那个 这些 那些 有 没有 哪儿 啥 咋 一共
    总共 情况 方面 相关 关于 具体 主要 一些 可以 能 会 要 说 提到 报告
    工作报告 政府工作报告""".split()
)
_WORDLIKE = re.compile(r"[\w\u4e00-\u9fff]")


@functools.cache
def _jieba() -> jieba.Tokenizer:
    # Quiet: jieba logs its dictionary loading at INFO on every start.
    jieba.setLogLevel(logging.WARNING)
    # jieba's own default tokenizer, not a new one: jieba.posseg tags with it (``_tagger``), so the
    # dictionary and its word tags load once (each load costs about a second at start).
    jieba.dt.initialize()
    return jieba.dt


def tokenize(normalized_text: str) -> list[str]:
    """Search tokens of already-normalised text (see ``index.normalize``)."""
    return [
        token
        for token in _jieba().cut_for_search(normalized_text)
        if token.strip() and _WORDLIKE.search(token) and token not in STOPWORDS
    ]


@functools.cache
def _tagger() -> jieba.posseg.POSTokenizer:
    # Imported on first use: its tables take ~0.4 s to load, which an index build never needs.
    _jieba()
    import jieba.posseg

    return jieba.posseg.dt  # built on jieba.dt when the module loads


def tagged(normalized_text: str) -> list[tuple[str, str]]:
    """jieba's words of already-normalised text with their part-of-speech tags (n, v, vn, …)."""
    return [(pair.word, pair.flag) for pair in _tagger().cut(normalized_text)]


# The most common Chinese surnames (over 85% of the population) and compound ones: jieba tags
# common words as persons too (智慧, 惠民, 荣获 are nr), so a two- or three-character nr word counts
# as a name only when it starts with a surname.
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武"
    "戴莫孔向汤赖欧乔"
)
COMPOUND_SURNAMES = ("欧阳", "诸葛", "上官", "司马", "东方", "慕容", "令狐", "皇甫", "尉迟", "公孙", "司徒")
_PERSON_TAGS = ("nr", "nrfg", "nrt")  # person, well-known person, transliterated name


# Memoised: it runs on every candidate sentence of a 是谁 question, and jieba's tagger takes about a
# millisecond a sentence; indexed sentences are a fixed set, so the cache stays bounded in practice.
@functools.lru_cache(maxsize=65536)
def person_names(normalized_text: str) -> tuple[str, ...]:
    """Personal names jieba finds: 刘智勇, 孙喜琢, 诸葛亮, 迈克尔·乔丹 (each part), 习近平.

    A word tagged as a person counts when it starts with a surname, is a foreign name (a part of a
    name written with ·, or tagged as transliterated), or is a given name right after a surname (刘 +
    智勇). jieba's ``nrt`` tag also falls on a few abbreviations (四纵, 二中); only those of three or more
    characters count, as foreign names are.
    """
    names = []
    pairs = list(_tagger().cut(normalized_text))
    for i, pair in enumerate(pairs):
        word, flag = pair.word, pair.flag
        if flag not in _PERSON_TAGS or len(word) < 2:
            continue
        previous = pairs[i - 1].word if i else ""
        following = pairs[i + 1].word if i + 1 < len(pairs) else ""
        if (
            (len(word) <= 3 and word[0] in SURNAMES)
            or word.startswith(COMPOUND_SURNAMES)
            or flag == "nrfg"
            or (flag == "nrt" and len(word) >= 3)
            or "·" in (previous, following)
        ):
            names.append(word)
        elif len(word) <= 2 and previous in SURNAMES:
            names.append(previous + word)
    return tuple(names)


def place_names(normalized_text: str) -> list[str]:
    """Words of at least two characters that jieba tags as place names (ns): 福田区, 香港, 莲塘."""
    return [pair.word for pair in _tagger().cut(normalized_text) if pair.flag == "ns" and len(pair.word) > 1]
