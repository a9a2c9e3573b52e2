"""From cleaned lines to a report's structure: title, sections, paragraphs and the passages cut from them."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from .parts import Part, PartLine, label_parts
from .segment import Segmenter

_LEVEL1 = re.compile(r"^[一二三四五六七八九十百]+[、.．]")
_LEVEL2 = re.compile(r"^[（(][一二三四五六七八九十]+[）)]")
_NUMBERED = re.compile(r"^(?:第[一二三四五六七八九十]+[部章节]分?|[0-9]+[、.．](?![0-9]))")
# Sentence ends: the passage cutter splits after these, keeping closing quotes and brackets with the sentence.
_SENTENCE_END = re.compile(r"[。！？；!?;]+[”’」』）)\"']*")
_TITLE_WORDS = ("汇报", "总结", "报告", "情况", "讲话", "方案", "计划", "要点", "材料")
_CLAUSE_END = re.compile(r"[，。：；,:;！？!?]")

HEADING_MAX_CHARS = 60
TITLE_MAX_CHARS = 40
DERIVED_TITLE_MAX_CHARS = 32
DECLARED_TITLE_MAX_CHARS = 80  # a .docx Title or markdown heading can be a whole paragraph
PASSAGE_MIN_CHARS = 60
PASSAGE_MAX_CHARS = 220
PASSAGE_MAX_SENTENCES = 3


@dataclass(frozen=True)
class Section:
    """A heading: its level (1 = 一、, 2 = （一）), its text, and the paragraph it stands at."""

    index: int
    level: int
    heading: str
    paragraph: int


@dataclass(frozen=True)
class Paragraph:
    """One line of a report, numbered from 1; `section_index` is the index of the innermost section it belongs to,
    `part` the standard part of the report it is in (retrieval.parts)."""

    number: int
    kind: str  # "title" | "heading" | "body"
    text: str
    section_index: int | None  # not its heading: that is the section's, and a stored paragraph's `section`
    part: Part | None = None


@dataclass(frozen=True)
class PassageSpan:
    """A window of a few sentences inside one paragraph: [start, end) in the paragraph's text."""

    paragraph: int
    start: int
    end: int


@dataclass(frozen=True)
class ReportStructure:
    """Everything ingest derives from a report's lines."""

    title: str
    sections: tuple[Section, ...]
    paragraphs: tuple[Paragraph, ...]


def _is_heading(line: str) -> int | None:
    """Heading level of a standalone heading line, or None."""
    if len(line) > HEADING_MAX_CHARS or line.rstrip("。").count("。"):
        return None
    if _LEVEL1.match(line):
        return 1
    if _LEVEL2.match(line) or _NUMBERED.match(line):
        return 2
    return None


def _inline_heading(line: str) -> str | None:
    """`（一）精心组织，…走深走实。正文…`: the first sentence of such a paragraph is a level-2 heading."""
    if not _LEVEL2.match(line):
        return None
    end = line.find("。")
    if 0 < end <= HEADING_MAX_CHARS:
        return line[:end]
    return None


def _looks_like_title(line: str, has_more: bool) -> bool:
    if not has_more or len(line) > TITLE_MAX_CHARS or _is_heading(line) is not None:
        return False
    if line.endswith(("。", "：", ":", "；")):
        return False
    return any(word in line for word in _TITLE_WORDS) or "，" not in line


def derive_title(first_paragraph: str, segmenter: Segmenter) -> str:
    """A readable title from the opening sentence, cut at a clause or word boundary, never mid-word."""
    clause = _CLAUSE_END.split(first_paragraph, maxsplit=1)[0].strip()
    for suffix in ("开展以来", "启动以来", "以来"):
        if clause.endswith(suffix) and len(clause) > len(suffix):
            stem = clause[: -len(suffix)]
            clause = stem + ("开展情况" if suffix != "以来" else "情况")
            break
    return shorten_at_word(clause, DERIVED_TITLE_MAX_CHARS, segmenter)


def shorten_at_word(text: str, limit: int, segmenter: Segmenter) -> str:
    """`text` if it fits, else its longest run of whole words within `limit` characters, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = ""
    for word in segmenter.words(text):
        if len(cut) + len(word) > limit:
            break
        cut += word
    return (cut or text[:limit]) + "…"


def build_structure(
    lines: Sequence[str],
    segmenter: Segmenter,
    *,
    declared_title: str | None = None,
    heading_levels: Mapping[int, int] | None = None,
    title_lines: Collection[int] | None = None,
) -> ReportStructure:
    """Number the lines as paragraphs, find the title and the section headings.

    `title_lines`, when given, are the lines that make up the title (found by `metadata.read_metadata`, which then
    also gives the title as `declared_title`); otherwise the first line is the title when it looks like one."""
    levels = dict(heading_levels or {})
    sections: list[Section] = []
    paragraphs: list[Paragraph] = []
    open_sections: dict[int, int] = {}  # level -> index of the section currently open at that level
    title: str | None = declared_title
    for i, line in enumerate(lines):
        number = i + 1
        if title_lines is not None:
            is_title = i in title_lines
        else:
            is_title = i == 0 and (
                (declared_title is not None and line == declared_title)
                or (declared_title is None and not levels and _looks_like_title(line, len(lines) > 1))
            )
        if is_title:
            title = title or line
            paragraphs.append(Paragraph(number, "title", line, None))
            continue
        level = levels.get(i) if levels else None
        if level is None and not levels:
            level = _is_heading(line)
        kind = "body"
        if level is not None:
            heading = line
            kind = "heading"
        else:
            inline = _inline_heading(line)
            level, heading = (2, inline) if inline else (None, "")
        if level is not None:
            index = len(sections)
            sections.append(Section(index, level, heading, number))
            open_sections = {lv: ix for lv, ix in open_sections.items() if lv < level}
            open_sections[level] = index
        innermost = open_sections[max(open_sections)] if open_sections else None
        paragraphs.append(Paragraph(number, kind, line, innermost))
    if title is None:
        first_body = next((p.text for p in paragraphs if p.kind == "body"), lines[0] if lines else "")
        title = derive_title(first_body, segmenter)
    return ReportStructure(
        shorten_at_word(title, DECLARED_TITLE_MAX_CHARS, segmenter), tuple(sections), with_parts(paragraphs, sections)
    )


def with_parts(paragraphs: Sequence[Paragraph], sections: Sequence[Section]) -> tuple[Paragraph, ...]:
    """The paragraphs with their part of the report."""
    opens = {s.paragraph: s.level for s in sections}
    parts = label_parts([PartLine(p.kind, p.text, opens.get(p.number)) for p in paragraphs])
    return tuple(replace(p, part=part) for p, part in zip(paragraphs, parts, strict=True))


def section_path(structure: ReportStructure, paragraph: Paragraph) -> tuple[Section, ...]:
    """The headings above a paragraph, outermost first."""
    if paragraph.section_index is None:
        return ()
    path: list[Section] = []
    current = structure.sections[paragraph.section_index]
    path.append(current)
    for section in reversed(structure.sections[: current.index]):
        if path[0].level <= 1:
            break
        if section.level < path[0].level:
            path.insert(0, section)
    return tuple(path)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans covering `text` completely and in order."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        spans.append((start, match.end()))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def _bounded_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans, with any sentence longer than a passage split at commas (or hard) to fit one."""
    spans: list[tuple[int, int]] = []
    for start, end in split_sentences(text):
        while end - start > PASSAGE_MAX_CHARS:
            window = text[start : start + PASSAGE_MAX_CHARS]
            comma = max(window.rfind("，"), window.rfind(","), window.rfind("、"))
            cut = start + (comma + 1 if comma >= PASSAGE_MIN_CHARS else PASSAGE_MAX_CHARS)
            spans.append((start, cut))
            start = cut
        spans.append((start, end))
    return spans


def cut_passages(paragraph: int, text: str) -> list[PassageSpan]:
    """Cut a paragraph into consecutive windows of a few sentences that together cover it exactly."""
    passages: list[PassageSpan] = []
    window_start: int | None = None
    window_end = 0
    sentences = 0
    for start, end in _bounded_sentences(text):
        if window_start is not None and (
            end - window_start > PASSAGE_MAX_CHARS
            or sentences >= PASSAGE_MAX_SENTENCES
            or window_end - window_start >= PASSAGE_MIN_CHARS * 2
        ):
            passages.append(PassageSpan(paragraph, window_start, window_end))
            window_start, sentences = None, 0
        if window_start is None:
            window_start = start
        window_end = end
        sentences += 1
    if window_start is not None:
        passages.append(PassageSpan(paragraph, window_start, window_end))
    return passages
