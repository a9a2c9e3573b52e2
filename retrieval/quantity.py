"""Quantity questions (举办了几期读书班, 全县生产总值达到多少, 增长目标是多少): which questions ask for a number, and
where a passage states one (a number with its unit: 6期, 52处, 5%, 3000亿元, 增长5%左右, 百分之五, 三成) beside the
question's terms. Ranking stays BM25's; this only decides which of its candidates come first (see Library.search).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .normalize import normalize, normalize_with_offsets, original_span
from .structure import split_sentences

# How close (in characters) a number must stand to a term of the question to be its answer: "先后组织6期读书班",
# "全县生产总值达到364.2亿元", "整改到位率达到95%".
BESIDE_CHARS = 12

_CN_NUMERAL = "零〇一二两三四五六七八九十百千万亿"
_UNIT_WORDS = "|".join(
    [
        "%|％|‰|个百分点|百分点|万亿元|亿千瓦时|千瓦时|亿元|万元|千元|美元|元|万亿|亿|万|千",
        "万人次|人次|万人|人|名|位|户|家|个|期|次|项|场|件|条|处|批|所|座|套|台|辆|艘|架|张|篇|份|部|本|册|门|类",
        "公里|千米|米|平方公里|平方米|万亩|亩|公顷|吨|万吨|亿吨|斤|公斤|千克|立方米|千瓦|兆瓦|吉瓦|GW|MW|kW",
        "天|小时|分钟|个月|周|倍|岁",
    ]
).split("|")
# longest first: 个百分点 before 个; a magnitude (万, 亿) may stand before any of them (1600亿斤, 3万吨)
_UNITS = "|".join(re.escape(unit) for unit in sorted(_UNIT_WORDS, key=len, reverse=True))
# A number (Arabic, with decimals and thousands, or a range 4.5%—5%) and its unit; or a Chinese-numeral share.
_NUMBER_WITH_UNIT = re.compile(
    r"(?<![\d.])\d+(?:[.,]\d+)*(?:\s*[%％‰])?(?:\s*[-—–~～至到]\s*\d+(?:[.,]\d+)*)?\s*"
    r"(?:(?:万亿|亿|万|千)(?:" + _UNITS + r")?|(?:" + _UNITS + r"))"
    r"(?:以上|以内|左右|多)?"
    r"|百分之[" + _CN_NUMERAL + r"点]+|[一二三四五六七八九十两]+成(?![功立为本果绩员熟就])"
    r"|[" + _CN_NUMERAL + r"]{2,}(?:" + _UNITS + r")"
)
# What makes a question ask for a number; the unit it asks in follows 几 / 多少 (几期 -> 期, 多少个 -> 个).
_ASKS_NUMBER = re.compile(
    r"多少|几|比例|比重|占比|百分之|比率|增速|增幅|增长|目标|达到|规模|总量|总额|数量|多大|多高|多长|多远|多久"
)
_ASKED_UNIT = re.compile(r"(?:几|多少)(" + _UNITS + r")")
# Question words that are not terms to find beside a number.
_NOT_TERMS = re.compile(r"^(?:几\w?|多少\w?|是多少|达到多少|多大|多高)$")


@dataclass(frozen=True)
class QuantityQuestion:
    """A question that asks for a number, and the unit it asks in when it names one (几期 -> 期)."""

    unit: str | None


def quantity_question(text: str) -> QuantityQuestion | None:
    """The quantity a question asks for, or None when it asks for none (read normalised: 舉辦了幾期 asks too)."""
    text = normalize(text)
    if not _ASKS_NUMBER.search(text):
        return None
    unit = _ASKED_UNIT.search(text)
    return QuantityQuestion(unit.group(1) if unit else None)


def quantity_terms(terms: Iterable[str]) -> list[str]:
    """The terms a number must stand beside: the question's terms without its words for "how many" (几期)."""
    return [t for t in dict.fromkeys(terms) if len(t) > 1 and not _NOT_TERMS.match(t) and not t.startswith("几")]


def numbers_beside(text: str, terms: Sequence[str]) -> list[tuple[int, int, str]]:
    """Numbers with their unit (span in `text` and the number's text) in a sentence of `text` that also holds one
    of `terms` (normalised), within BESIDE_CHARS of it."""
    norm, origin = normalize_with_offsets(text)
    found: list[tuple[int, int, str]] = []
    for start, end in split_sentences(norm):
        sentence = norm[start:end]
        places = [(at, at + len(term)) for term in terms for at in _occurrences(sentence, term)]
        if not places:
            continue
        for match in _NUMBER_WITH_UNIT.finditer(sentence):
            a, b = match.span()
            if any(a - BESIDE_CHARS <= term_end and term_start <= b + BESIDE_CHARS for term_start, term_end in places):
                span = original_span(origin, start + a, start + b)
                found.append((span[0], span[1], match.group(0)))
    return found


def _occurrences(text: str, needle: str) -> Iterable[int]:
    at = text.find(needle)
    while at != -1:
        yield at
        at = text.find(needle, at + len(needle))


def answer_tier(text: str, terms: Sequence[str], question: QuantityQuestion) -> int:
    """How well a passage answers a quantity question: 2 for a number in the asked unit beside a term, 1 for any
    number with a unit beside a term, 0 for none."""
    numbers = numbers_beside(text, terms)
    if not numbers:
        return 0
    if question.unit is not None and any(question.unit in number for _, _, number in numbers):
        return 2
    return 1
