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
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


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
    import jieba.posseg

    return jieba.posseg.POSTokenizer(_jieba())


def place_names(normalized_text: str) -> list[str]:
    """Words of at least two characters that jieba tags as place names (ns): 福田区, 香港, 莲塘."""
    return [pair.word for pair in _tagger().cut(normalized_text) if pair.flag == "ns" and len(pair.word) > 1]
