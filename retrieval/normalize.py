"""Text normalisation shared by indexing, querying and exact mention matching.

Matching happens on normalised text; quoting happens on the original. `normalize_with_offsets` keeps, for every
normalised character, the index of the original character it came from, so a match can be highlighted in place.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
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
# every character for which str.isspace() is true (checked by a test)
_WHITESPACE = (
    "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + ("\u2028\u2029\u202f\u205f\u3000")
)
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\u202a\u202b\u202c\u202d\u202e")


def _fold_table() -> dict[int, str | None]:
    """One translation table for every 1:1 fold: quotes, all whitespace to a space, full-width ASCII, ASCII case."""
    table: dict[int, str | None] = {ord(ch): None for ch in _ZERO_WIDTH}
    table.update({ord(ch): " " for ch in _WHITESPACE})
    table.update({ord(ch): folded for ch, folded in _QUOTES.items()})
    for code in range(0xFF01, 0xFF5F):  # full-width ASCII block
        table.setdefault(code, chr(code - 0xFEE0).lower())
    table.update({code: chr(code).lower() for code in range(ord("A"), ord("Z") + 1)})
    return table


_FOLD = _fold_table()
# The same folds as a substitution of just the characters folded: str.translate looks every character of a Chinese
# text up in the table (an int object each), while a passage has a few dozen to fold at most.
_FOLDED = {chr(code): folded or "" for code, folded in _FOLD.items()}
_FOLD_CHARS = re.compile("[" + "".join(re.escape(ch) for ch in _FOLDED) + "]")
_SPACE_RUN = re.compile(" {2,}")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@lru_cache(maxsize=65536)
def _simplify_char(ch: str) -> str:
    converted: str = _t2s().convert(ch)
    return converted if len(converted) == 1 else ch


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
    expand_at = {m.start() for m in _PLACEHOLDER.finditer(simplified)}
    if not expand_at:
        # Fast path: without expansions, only deletions and collapsed spaces move characters, and both shorten
        # the text; if the fast normalisation kept the length, every character stayed where it was.
        folded = _SPACE_RUN.sub(" ", simplified.translate(_FOLD)).strip(" ")
        if len(folded) == len(text):
            return folded, list(range(len(text) + 1))
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(simplified):
        if i in expand_at:
            replacement = PLACEHOLDER_EXPANSIONS[ch]
            out.extend(replacement)
            origin.extend([i] * len(replacement))
            continue
        folded = ch.translate(_FOLD)
        if not folded or (folded == " " and (not out or out[-1] == " ")):
            continue
        out.append(folded)
        origin.append(i)
    while out and out[-1] == " ":
        out.pop()
        origin.pop()
    origin.append(len(text))
    return "".join(out), origin


def normalize(text: str) -> str:
    """The normalised form used for tokenising and exact matching (`normalize_with_offsets` without offsets,
    done with C-level string operations: ingest normalises every passage)."""
    simplified = _simplify(text)
    if "A" in simplified:  # substring tests first: most passages need neither substitution
        simplified = _PLACEHOLDER.sub(lambda m: PLACEHOLDER_EXPANSIONS[m.group()], simplified)
    folded = _FOLD_CHARS.sub(lambda m: _FOLDED[m.group()], simplified)  # = simplified.translate(_FOLD)
    return (_SPACE_RUN.sub(" ", folded) if "  " in folded else folded).strip(" ")


def original_span(origin: list[int], start: int, end: int) -> tuple[int, int]:
    """Map a half-open span of normalised text back to the original text."""
    if end <= start:
        return origin[start], origin[start]
    return origin[start], origin[end - 1] + 1


def valid_text(text: str) -> str:
    """`text` with lone surrogates replaced by U+FFFD. They arrive from undecodable bytes in argv or stdin
    (Python's surrogateescape), JSON escapes and PDF ToUnicode maps, and OpenCC, jieba, SQLite and Telegram all
    refuse to encode them as UTF-8: replaced, the rest of the text still gets an answer."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def text_fingerprint(normalized: Iterable[str]) -> str:
    """The fingerprint of a report's text from its normalised pieces in order (its passages' `norm`): sha256 of
    the characters without spaces. The same text as .txt, .docx or .pdf, or under another file name, has the same
    one, however its lines were wrapped or spaced; a file's own fingerprint (`sha256`) is of its bytes."""
    hasher = hashlib.sha256()
    for piece in normalized:
        hasher.update(piece.replace(" ", "").encode("utf-8", "surrogatepass"))
    return hasher.hexdigest()
