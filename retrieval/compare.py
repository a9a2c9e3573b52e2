"""Comparing one standard part (存在问题, 下一步打算, 主要做法) across reports: the part answer under a scope, with
each report's date and unit, and the part's numbered points (一是……二是……) for reading side by side."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .answers import OutOfScopeAnswer, PartAnswer, PartBlock
from .library import Library
from .normalize import normalize
from .parts import Part
from .query import part_question
from .scope import Scope

# what a user types for a part (`/compare 存在问题`, `reportbot compare problems`), besides a part question
PART_NAMES: dict[str, Part] = {
    "progress": "progress",
    "主要做法": "progress",
    "主要做法及成效": "progress",
    "做法": "progress",
    "成效": "progress",
    "做法及成效": "progress",
    "进展": "progress",
    "进展情况": "progress",
    "工作回顾": "progress",
    "problems": "problems",
    "存在问题": "problems",
    "问题": "problems",
    "不足": "problems",
    "问题和不足": "problems",
    "存在的问题": "problems",
    "plans": "plans",
    "下一步": "plans",
    "下一步打算": "plans",
    "打算": "plans",
    "计划": "plans",
    "工作计划": "plans",
    "下一步工作计划": "plans",
    "重点工作": "plans",
}
# 一是…二是…, （一）…（二）…, 1.…2.…: where a part's numbered points start
_POINT = re.compile(
    r"(?:(?<=[。；;：:！!？?\n])|^)\s*(?=(?:[一二三四五六七八九十]{1,3}是|[（(][一二三四五六七八九十]{1,3}[）)]"
    r"|\d{1,2}[.．、](?!\d)))"
)

_FIRST_SENTENCE = re.compile(r"[^。！？!?；;]*[。！？!?；;]?")


def part_named(text: str) -> Part | None:
    """The part a word names (存在问题, problems, 下一步打算) or a part question asks for (各单位存在哪些问题)."""
    word = normalize(text).strip().lower().replace(" ", "")
    if word in PART_NAMES:
        return PART_NAMES[word]
    return part_question(word)


def points(text: str) -> list[str]:
    """A part's text as its numbered points (一是……二是……) when it has two or more, else as one piece."""
    cuts = [m.start() for m in _POINT.finditer(text) if m.start() > 0]
    pieces = [text[a:b].strip() for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    pieces = [p for p in pieces if p]
    return pieces if len(cuts) >= 2 or (cuts and _POINT.match(text)) else [text.strip()]


def point_heads(text: str) -> list[str]:
    """The first sentence of each numbered point of a part (一是自主学习热度不够。), or [] without points."""
    found = points(text)
    if len(found) < 2:
        return []
    return [m.group(0) if (m := _FIRST_SENTENCE.match(p)) else p for p in found if _POINT.match(p)]


def compare(
    library: Library,
    part: Part,
    *,
    years: Iterable[int] = (),
    units: Iterable[str] = (),
    report_ids: Iterable[int] = (),
    question: str | None = None,
) -> PartAnswer | OutOfScopeAnswer:
    """That part of every report in the scope (years, units, report ids: each kind any of, the kinds all), one
    block per report, newest first; an `OutOfScopeAnswer` when the scope names no report."""
    years, units, ids = tuple(dict.fromkeys(years)), tuple(dict.fromkeys(units)), tuple(dict.fromkeys(report_ids))
    scope = Scope(years=years, units=tuple(normalize(u).replace(" ", "") for u in units), ids=ids)
    resolution = library.catalogue().resolve(scope) if scope else None
    return library.scoped_part(part, resolution, question=question)


def compare_question(library: Library, text: str) -> PartAnswer | OutOfScopeAnswer | None:
    """`/compare 存在问题 2024年 广东`: the part named (first word, or the question's part words) under the scope the
    rest names; None when no part is named."""
    scope, rest = library.catalogue().parse(text)
    part = part_named(rest.strip().split(" ")[0]) or part_named(rest)
    if part is None:
        return None
    resolution = library.catalogue().resolve(scope) if scope else None
    return library.scoped_part(part, resolution, question=text.strip())


def block_text(block: PartBlock) -> str:
    """A report's part as text: its paragraphs (headings inside it included), one per line."""
    return "\n".join(p.text for p in block.paragraphs if not (p.kind == "heading" and p.text == block.heading))
