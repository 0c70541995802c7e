"""Normalisation of the searched copy of text (never of the text shown or quoted).

In: any string (a paragraph, chunk, sentence or question).
Out: a string for matching: full-width forms folded to half-width (NFKC), 繁体 converted to 简体
(OpenCC t2s), a ``?`` between two Chinese characters read as the middle dot it replaced, Latin
letters lower-cased. Lengths may change, so offsets are always taken from the original text.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import opencc

_LOST_MIDDLE_DOT = re.compile(r"(?<=[\u4e00-\u9fff”\"])\?(?=[\u4e00-\u9fff“\"])")


@functools.cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def normalize(text: str) -> str:
    """The searchable copy of ``text``."""
    text = unicodedata.normalize("NFKC", text)
    text = _LOST_MIDDLE_DOT.sub("·", text)
    return _t2s().convert(text).lower()
