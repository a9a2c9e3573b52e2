"""The answers the library gives: the kinds of answer to a question, quotes, mentioned reports, a report's
outline and what ingest did with a file. Plain data; rendering them is the edge's job (bot/render.py, the CLI)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeAlias, overload

import numpy as np
import numpy.typing as npt

from .parts import Part
from .query import Grouping
from .scope import InScope, Resolution, place_in_name, unit_place
from .store import PartRun, Report, StoredParagraph, StoredSection


@dataclass(frozen=True)
class Quote:
    """A passage as quoted to a user: the text, where it comes from, and the spans to mark."""

    passage_id: int
    report_id: int
    title: str
    source: str
    section: str
    paragraph: int
    text: str
    highlights: tuple[tuple[int, int], ...]
    score: float
    distinction: str | None = None  # what tells its report apart from others of the same title (Report.distinction)

    def to_json(self) -> dict[str, Any]:
        """The JSON shape of `reportbot ask --json`."""
        return {
            "report_id": self.report_id,
            "title": self.title,
            "source": self.source,
            "section": self.section,
            "paragraph": self.paragraph,
            "text": self.text,
            "score": round(self.score, 6),
            "highlights": [list(span) for span in self.highlights],  # [start, end) in text: terms, numbers
        }


@dataclass(frozen=True)
class ReportMentions:
    """One report that contains a mention term: how often, and the passage quoted for it (None until quoted)."""

    report: Report
    mentions: int
    quote: Quote | None


class MentionedReports(Sequence[ReportMentions]):
    """The reports that contain a term, most mentions first, then by id.

    A common term is in thousands of reports and a reader sees five at a time: entries are made when read, and
    quotes only for the reports asked for (`Library.mentions(quoted=...)`, then `Library.with_quotes`)."""

    def __init__(
        self,
        reports: Mapping[int, Report],
        report_ids: npt.NDArray[np.int64],
        counts: npt.NDArray[np.int64],
        first_passages: npt.NDArray[np.int64],
        quotes: Mapping[int, Quote],
    ) -> None:
        self._reports = reports  # the library's map when answering: it is replaced, never changed, on writes
        self._report_ids = report_ids
        self._counts = counts
        self.first_passages = first_passages  # the passage quoted for each report: its first mention
        self._quotes = quotes

    def __len__(self) -> int:
        return int(self._report_ids.size)

    @overload
    def __getitem__(self, index: int) -> ReportMentions: ...

    @overload
    def __getitem__(self, index: slice) -> list[ReportMentions]: ...

    def __getitem__(self, index: int | slice) -> ReportMentions | list[ReportMentions]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        i = range(len(self))[index]
        passage_id = int(self.first_passages[i])
        return ReportMentions(
            self._reports[int(self._report_ids[i])], int(self._counts[i]), self._quotes.get(passage_id)
        )

    def unquoted(self, start: int, stop: int) -> list[int]:
        """First passages of the reports in [start, stop) that have no quote yet."""
        return [p for p in self.first_passages[start:stop].tolist() if p not in self._quotes]

    def with_quotes(self, quotes: Mapping[int, Quote]) -> MentionedReports:
        """The same reports with more quotes (by passage id)."""
        return MentionedReports(
            self._reports, self._report_ids, self._counts, self.first_passages, {**self._quotes, **quotes}
        )


@dataclass(frozen=True)
class MentionGroup:
    """The reports of one unit or one year that contain a mention term (a grouped mention answer)."""

    kind: Grouping
    key: str | int | None  # the unit, or the year; None for reports without one
    reports: tuple[ReportMentions, ...]

    @property
    def mentions(self) -> int:
        return sum(m.mentions for m in self.reports)


@dataclass(frozen=True)
class Answer:
    """The answer to one question. `nearest` marks passages shown because nothing matched exactly. `scope` is the
    scope the question named (None: the whole library); an `OutOfScope` one was not answered, and says why."""

    query: str
    intent: str
    term: str | None
    reports: Sequence[ReportMentions] = ()  # mention answers: a MentionedReports
    passages: tuple[Quote, ...] = ()  # mention answers: the quotes made when answering
    nearest: bool = False
    refusal: str | None = None  # "empty" | "too_long" when the question was not answered
    scope: Resolution | None = None
    group: Grouping | None = None  # mention answers to 哪些省份/哪几年: shown grouped by unit or year

    def groups(self) -> list[MentionGroup]:
        """The mentioned reports grouped by unit (most mentions first) or by year (newest first)."""
        if self.group is None:
            return []
        grouped: dict[str | int | None, list[ReportMentions]] = defaultdict(list)
        for m in self.reports:
            grouped[report_unit(m.report) if self.group == "unit" else m.report.year].append(m)
        groups = [MentionGroup(self.group, key, tuple(entries)) for key, entries in grouped.items()]
        if self.group == "year":
            return sorted(groups, key=lambda g: (g.key is None, -(g.key if isinstance(g.key, int) else 0)))
        return sorted(groups, key=lambda g: (g.key is None, -g.mentions, str(g.key)))

    def to_json(self) -> dict[str, Any]:
        """The JSON object printed by `reportbot ask --json`."""
        payload: dict[str, Any] = {
            "query": self.query,
            "intent": self.intent,
            "term": self.term,
            "reports": [
                {
                    "id": m.report.id,
                    "title": m.report.title,
                    "source": m.report.source,
                    "mentions": m.mentions,
                }
                for m in self.reports
            ],
            "passages": [q.to_json() for q in self.passages],
            "nearest": self.nearest,
            "refusal": self.refusal,
            "scope": None if self.scope is None else scope_json(self.scope),
        }
        if self.group is not None:
            payload["group"] = self.group
            payload["groups"] = [
                {"key": g.key, "mentions": g.mentions, "reports": [m.report.id for m in g.reports]}
                for g in self.groups()
            ]
        return payload


def scope_json(resolution: Resolution) -> dict[str, Any]:
    """A scope as `reportbot ask --json` shows it: as named, the report ids it means or why there are none."""
    if isinstance(resolution, InScope):
        return {
            **resolution.scope.to_json(),
            "report_ids": sorted(resolution.report_ids),
            "everything": resolution.everything,
        }
    return {**resolution.scope.to_json(), "report_ids": [], "problem": type(resolution.problem).__name__}


def report_unit(report: Report) -> str | None:
    """The body a report is of, as a reader of an archive names it: its unit (a government by its place:
    广东省人民政府 -> 广东省), else the place its title or file name names."""
    if report.unit:
        return unit_place(report.unit)
    return place_in_name(report.title) or place_in_name(report.source)


@dataclass(frozen=True)
class PartBlock:
    """One report's part: the report, the heading the part stands under ("" when it has none) and its paragraphs
    in order (headings inside it included)."""

    report: Report
    heading: str
    paragraphs: tuple[StoredParagraph, ...]

    def to_json(self) -> dict[str, Any]:
        """The JSON shape of one report's part in `reportbot ask --json`."""
        return {
            "report_id": self.report.id,
            "title": self.report.title,
            "source": self.report.source,
            "heading": self.heading,
            "paragraphs": [
                {"number": p.number, "kind": p.kind, "section": p.section, "text": p.text} for p in self.paragraphs
            ],
        }


@dataclass(frozen=True)
class PartAnswer:
    """The answer to a question about a standard part of the reports (存在哪些问题): that part of each report that
    has it, one block per report, newest report first."""

    query: str
    part: Part
    blocks: tuple[PartBlock, ...]
    scope: Resolution | None = None  # the scope the question named (None: the whole library)
    intent: ClassVar[str] = "part"

    def to_json(self) -> dict[str, Any]:
        """The JSON object printed by `reportbot ask --json`."""
        return {
            "query": self.query,
            "intent": self.intent,
            "part": self.part,
            "reports": [block.to_json() for block in self.blocks],
            "scope": None if self.scope is None else scope_json(self.scope),
        }


# Every kind of answer a question can get; renderers cover each (assert_never).
AnyAnswer: TypeAlias = Answer | PartAnswer


IngestStatus = Literal["added", "replaced", "unchanged", "duplicate"]


@dataclass(frozen=True)
class IngestResult:
    """What happened to one file: added, replaced, unchanged, or a duplicate of `report` (another file with the
    same bytes or the same text)."""

    source: str
    status: IngestStatus
    report: Report


@dataclass(frozen=True)
class Outline:
    """A report, its headings and where its parts run."""

    report: Report
    sections: tuple[StoredSection, ...]
    parts: tuple[PartRun, ...] = ()
