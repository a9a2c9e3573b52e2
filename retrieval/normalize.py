"""Text normalisation shared by indexing, querying and exact mention matching.

Matching happens on normalised text; quoting happens on the original. `normalize_with_offsets` keeps, for every
normalised character, the index of the original character it came from, so a match can be highlighted in place.
"""

from __future__ import annotations

import re
from functools import lru_cache

import opencc

# The reports are anonymised: a capital "A" stands for the leader's name (A新时代…, A总书记, 《A著作选读》).
# A search for the full phrase must find those passages, so the placeholder expands when matching.
PLACEHOLDER_EXPANSIONS = {"A": "习近平"}
_PLACEHOLDER = re.compile(r"(?<![A-Za-z0-9])A(?=[\u4e00-\u9fff《])")

_QUOTES = {
    **dict.fromkeys("“”„‟«»「」『』〝〞＂″", '"'),
    **dict.fromkeys("‘’‚‛‹›′｀＇", "'"),
}
_SPACES = dict.fromkeys(
    "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000\t\r\n\v\f",
    " ",
)
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\u202a\u202b\u202c\u202d\u202e")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@lru_cache(maxsize=65536)
def _simplify_char(ch: str) -> str:
    converted: str = _t2s().convert(ch)
    return converted if len(converted) == 1 else ch


def _fold_char(ch: str) -> str:
    """Map one character to its normalised form: quotes, spaces, full-width ASCII, case."""
    if ch in _QUOTES:
        return _QUOTES[ch]
    if ch in _SPACES:
        return " "
    code = ord(ch)
    if 0xFF01 <= code <= 0xFF5E:  # full-width ASCII block
        ch = chr(code - 0xFEE0)
    return ch.lower() if ch.isascii() else ch


def _simplify(text: str) -> str:
    """Traditional to simplified Chinese, keeping the length so offsets stay valid."""
    if text.isascii():
        return text
    converted: str = _t2s().convert(text)
    if len(converted) == len(text):
        return converted
    return "".join(_simplify_char(ch) for ch in text)


def normalize_with_offsets(text: str) -> tuple[str, list[int]]:
    """Normalise `text`; also return, for each output character, the index of its source character.

    The returned list has one extra final entry, `len(text)`, so a half-open span maps with a single lookup.
    """
    simplified = _simplify(text)
    out: list[str] = []
    origin: list[int] = []
    expand_at = {m.start() for m in _PLACEHOLDER.finditer(simplified)}
    for i, ch in enumerate(simplified):
        if ch in _ZERO_WIDTH or (ch.isspace() and out and out[-1] == " ") or (ch.isspace() and not out):
            continue
        if i in expand_at:
            replacement = PLACEHOLDER_EXPANSIONS[ch]
            out.extend(replacement)
            origin.extend([i] * len(replacement))
            continue
        folded = _fold_char(ch)
        if folded == " " and out and out[-1] == " ":
            continue
        out.append(folded)
        origin.append(i)
    while out and out[-1] == " ":
        out.pop()
        origin.pop()
    origin.append(len(text))
    return "".join(out), origin


def normalize(text: str) -> str:
    """The normalised form used for tokenising and exact matching."""
    return normalize_with_offsets(text)[0]


def original_span(origin: list[int], start: int, end: int) -> tuple[int, int]:
    """Map a half-open span of normalised text back to the original text."""
    if end <= start:
        return origin[start], origin[start]
    return origin[start], origin[end - 1] + 1
