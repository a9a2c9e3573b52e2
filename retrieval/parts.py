"""The standard parts of a report: what was done ("progress"), what is lacking ("problems"), what comes next
("plans"). Each paragraph gets at most one part, found from the headings and from how paragraphs open.

Rules (the README's "The standard parts of a report" states them for users):
- A heading names a part by its words (`_HEADING_VOCABULARY`): 主要做法及成效 / 进展情况 / 工作回顾 → progress,
  存在问题 / 不足 / 差距 → problems, 下一步打算 / 工作计划 / 工作安排 / 今年重点工作 → plans. The part runs to the next
  heading of the same or a higher level.
- A body paragraph names a part by how it opens (its first sentence): "下一步，我们将……" → plans,
  "但也还存在以下问题：", "我们也清醒认识到……", "差距和不足" → problems. The part runs to the next heading at the
  level of the outermost heading above the paragraph (any heading when there is none) or to the next part.
- A short line without punctuation before the first top-level numbered heading is a heading above every
  numbered one (web copies of government work reports have "2026年重点工作" as a bare line).
- The report's closing words ("各位代表！……让我们更加紧密地团结在……") and everything after them (annexes,
  glossaries, page furniture) belong to no part.
- A heading naming a five-year period's goals or tasks (“十五五”时期主要目标任务) and no single year belongs to no
  part: "plans" are the year's work, "progress" the work reviewed.
- 主要工作 / 2026年重点工作 are "plans" after a "progress" part has ended, else "progress" (inside a review, or in a
  year-end summary that opens with 一、2023年主要工作).
- A report without a "progress" part but with problems or plans has its top-level sections before them as its
  "progress" (a 工作汇报 whose sections are the things done).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

Part = Literal["progress", "problems", "plans"]
PARTS: tuple[Part, ...] = get_args(Part)
# the parts as reports name them
PART_LABELS: dict[Part, str] = {"progress": "主要做法及成效", "problems": "存在问题", "plans": "下一步打算"}

_UNNUMBERED_HEADING_MAX_CHARS = 40
_PUNCTUATION = re.compile(r"[。，；：！？,;:!?]")
_SALUTATION = re.compile(r"^各位代表[！!，,：:、]?")
_FIRST_SENTENCE = re.compile(r"[^。！？；：!?;:]*")
_TWO_SENTENCES = re.compile(r"[^。！？!?]*[。！？!?]?[^。！？!?]*")

_PROBLEMS_HEADING = re.compile(
    r"存在(?:的)?(?:主要)?(?:问题|不足|困难|差距|短板)|(?:问题|困难|差距|短板)(?:和|与|及)(?:不足|差距|问题|挑战|弱项|困难)"
    r"|(?:不足|差距)(?:和|与|及)(?:问题|差距|不足)|不足之处|^(?:问题|不足|差距)$"
)
_PLANS_HEADING = re.compile(
    r"下一步|下步|下阶段|下一阶段|今后|明年|工作计划|工作打算|打算|工作安排|工作思路|工作举措|努力方向|主要任务"
    r"|(?:今年|明年)[^，。、]{0,6}(?:工作|任务)(?!报告|汇报)|(?:总体要求|政策取向|预期目标)"
)
_PROGRESS_HEADING = re.compile(
    r"主要做法|做法(?:及|和|与)成效|经验做法|主要成效|工作成效|取得的成效|进展情况|开展情况|推进情况|落实情况|完成情况"
    r"|工作进展|回顾|工作总结|发展成就|主要成就|主要成绩|工作成绩|取得的成绩"
)
# Past or future depending on where they stand in the report (see `_heading_part`).
# (not the title repeated as a bare line: 陕西省2026年政府工作报告)
_AMBIGUOUS_HEADING = re.compile(r"(?:主要|重点)工作|(?:\d{4}年|年度)[^，。、]{0,6}(?:工作|任务)(?!报告|汇报)")
# A heading about acting on problems (整改存在的问题) names work done or planned, not the problems part.
_ACTING_ON = re.compile(r"解决|整改|破解|针对|聚焦|查找|检视|化解|补齐|弥补")
_FIVE_YEARS = re.compile(r"十[一二三四五六七八九]五|五年")
_FIVE_YEAR_OUTLINE = re.compile(r"目标|任务|举措|考虑|要求|战略")
_SINGLE_YEAR = re.compile(r"今年|明年|\d{4}年")

# 清醒认识到 is said of problems only; it may come in the second sentence, after a word on the targets missed.
_CLEAR_SIGHTED = re.compile(r"清醒地?(?:认识到|看到|意识到)")
_PROBLEMS_OPENING = re.compile(
    r"问题也不容忽视|不足之处|存在以下(?:问题|不足)"
    r"|(?:还|仍|也|仍然|依然|但)(?:存在|有|面临)[^。；：]{0,16}(?:问题|不足|差距|短板|困难)"
    r"|(?:差距|问题)和不足|不足和(?:问题|差距)"
)
_PLANS_OPENING = re.compile(r"^(?:下一步|下步|下阶段|下一阶段|接下来|今后(?!五年|一个时期)|在今后|明年|在下一步)")
# The first paragraph under a top-level heading that names no part: "今年是“十五五”开局之年" opens the year's work.
_PLANS_YEAR_OPENING = re.compile(r"^(?:今年|明年|\d{4}年)是[^。]*(?:开局|起步|开篇|第一年)")
_CLOSING = re.compile(r"让我们[^。！]{0,30}(?:团结|携手|同心|一起)|我们要更加紧密地?团结在")
_SALUTATION_ONLY = re.compile(r"^各位代表[！!：:，,]?$")


@dataclass(frozen=True)
class PartLine:
    """What part detection needs of a paragraph: its kind ("title" | "heading" | "body"), its text, and its
    heading level when it opens a section (an inline heading such as `（一）做法。正文…` is a body paragraph with a
    level)."""

    kind: str
    text: str
    level: int | None


@dataclass
class _Open:
    part: Part
    ends_at: int  # the part ends at the next heading whose level is at most this


def _is_bare_heading(line: PartLine) -> bool:
    """A short line with no punctuation in the body: a heading the numbering did not mark."""
    text = line.text.strip()
    return (
        line.kind == "body"
        and 2 <= len(text) <= _UNNUMBERED_HEADING_MAX_CHARS
        and not _PUNCTUATION.search(text)
        and not text.startswith(("—", "-", "（", "("))
    )


def _heading_part(text: str, after_review: bool) -> Part | None:
    """The part a heading names, by the earliest match; None when it names none."""
    five_years = bool(_FIVE_YEARS.search(text)) and not _SINGLE_YEAR.search(text)
    if five_years and _FIVE_YEAR_OUTLINE.search(text):
        return None  # the outline of a five-year plan, a document of its own
    found: list[tuple[int, Part]] = []
    if (match := _PROBLEMS_HEADING.search(text)) and not _ACTING_ON.search(text):
        found.append((match.start(), "problems"))
    if (match := _PLANS_HEADING.search(text)) and not five_years:
        found.append((match.start(), "plans"))
    if match := _PROGRESS_HEADING.search(text):
        found.append((match.start(), "progress"))
    if not found and not five_years and _AMBIGUOUS_HEADING.search(text):
        return "plans" if after_review else "progress"
    return min(found)[1] if found else None


def _opening(text: str) -> str:
    """The first sentence of a paragraph, after a salutation (各位代表！)."""
    body = _SALUTATION.sub("", text.strip(), count=1)
    match = _FIRST_SENTENCE.match(body)
    return match.group(0) if match else body


def _opening_part(text: str) -> Part | None:
    first = _opening(text)
    if _PLANS_OPENING.match(first):
        return "plans"
    if _PROBLEMS_OPENING.search(first) or _CLEAR_SIGHTED.search(first):
        return "problems"
    two = _TWO_SENTENCES.match(_SALUTATION.sub("", text.strip(), count=1))
    if two and _CLEAR_SIGHTED.search(two.group(0)):
        return "problems"
    return None


def _closing_start(lines: Sequence[PartLine]) -> int:
    """Index of the report's closing words (the last paragraph calling on the audience to unite), or len(lines)."""
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i]
        if line.kind == "body" and line.level is None and _CLOSING.search(line.text):
            if i > 0 and _SALUTATION_ONLY.match(lines[i - 1].text.strip()):
                return i - 1
            return i
    return len(lines)


def label_parts(lines: Sequence[PartLine]) -> tuple[Part | None, ...]:
    """The part of each line, in order."""
    closing = _closing_start(lines)
    labels: list[Part | None] = [None] * len(lines)
    stack: list[_Open] = []
    numbered = [line.level for line in lines if line.level is not None]
    top_level = min(numbered, default=1)
    # Bare lines are the top headings only where the numbered ones have not begun: after them, a bare line is a
    # subheading or a fragment of web text ("2.5" of PM2.5 on a line of its own).
    first_top = next((i for i, line in enumerate(lines) if line.level == top_level), len(lines))
    outermost: int | None = None  # level of the outermost numbered heading so far: it encloses what follows
    seen_progress = False
    unnamed_top: int | None = None  # index of a top-level heading just above that names no part
    for i, line in enumerate(lines[:closing]):
        level = line.level
        if level is None and i < first_top and _is_bare_heading(line):
            level = 0
        if level is not None:
            stack = [o for o in stack if level > o.ends_at]
            if level > 0:
                outermost = level if outermost is None else min(outermost, level)
            # 主要工作 is the year ahead after a review, but the work reviewed inside one
            after_review = seen_progress and not any(o.part == "progress" for o in stack)
            part = _heading_part(line.text if line.kind != "body" or level == 0 else _opening(line.text), after_review)
            if part is not None:
                stack.append(_Open(part, level))
            unnamed_top = i if part is None and (level == 0 or (line.kind != "body" and level <= top_level)) else None
        elif line.kind == "body":
            part = _opening_part(line.text)
            if part is None and unnamed_top is not None and _PLANS_YEAR_OPENING.match(_opening(line.text)):
                heading_level = lines[unnamed_top].level
                stack.append(_Open("plans", 0 if heading_level is None else heading_level))
                labels[unnamed_top] = "plans"  # the heading above opens the year's work
            elif part is not None:
                stack.append(_Open(part, outermost if outermost is not None else 99))
            unnamed_top = None
        if stack:
            labels[i] = stack[-1].part
            seen_progress = seen_progress or stack[-1].part == "progress"
    return _implicit_progress(lines, labels, closing)


def _implicit_progress(lines: Sequence[PartLine], labels: list[Part | None], closing: int) -> tuple[Part | None, ...]:
    """A report with problems or plans but no progress: its sections before them are the work done."""
    if "progress" in labels:
        return tuple(labels)
    first_other = next((i for i, part in enumerate(labels) if part is not None), None)
    if first_other is None:
        return tuple(labels)
    first_heading = next((i for i, line in enumerate(lines[:first_other]) if line.level is not None), None)
    if first_heading is None:
        return tuple(labels)
    for i in range(first_heading, min(first_other, closing)):
        labels[i] = "progress"
    return tuple(labels)
