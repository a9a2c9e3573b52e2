"""The answers the library gives: the kinds of answer to a question, quotes, mentioned reports, a report's
outline and what ingest did with a file. Plain data; rendering them is the edge's job (bot/render.py, the CLI)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias, assert_never, overload

import numpy as np
import numpy.typing as npt

from .parts import Part
from .query import Grouping
from .scope import InScope, OutOfScope, place_in_name, unit_place
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


def mention_groups(reports: Sequence[ReportMentions], kind: Grouping) -> list[MentionGroup]:
    """Mentioned reports grouped by unit (most mentions first) or by year (newest first)."""
    grouped: dict[str | int | None, list[ReportMentions]] = defaultdict(list)
    for m in reports:
        grouped[report_unit(m.report) if kind == "unit" else m.report.year].append(m)
    groups = [MentionGroup(kind, key, tuple(entries)) for key, entries in grouped.items()]
    if kind == "year":
        return sorted(groups, key=lambda g: (g.key is None, -(g.key if isinstance(g.key, int) else 0)))
    return sorted(groups, key=lambda g: (g.key is None, -g.mentions, str(g.key)))


# --- the kinds of answer -----------------------------------------------------------------------------------------
#
# One class per kind; `Answer` is their union, and every renderer (bot/render.py, the JSON of the CLI, the .docx
# export) matches on it with `assert_never`. `scope` is the scope the question named (None: the whole library).
# Trend and copied text (retrieval/trend.py, copies.py) are results of their own commands, not answers to a
# question: they are not kept, paged, exported as answers or followed up, so they are not in the union.

QuestionKind = Literal["search", "mention", "part"]


@dataclass(frozen=True)
class RankedAnswer:
    """The best passages for a question by BM25 (none: nothing relevant)."""

    query: str
    passages: tuple[Quote, ...]
    scope: InScope | None = None


@dataclass(frozen=True)
class MentionAnswer:
    """Every report that contains `term`, with counts (`reports`: a MentionedReports) and the quotes made when
    answering; `group` (哪些省份/哪几年) shows them grouped by unit or year."""

    query: str
    term: str
    reports: Sequence[ReportMentions]
    quotes: tuple[Quote, ...] = ()
    scope: InScope | None = None
    group: Grouping | None = None

    def groups(self) -> list[MentionGroup]:
        """The mentioned reports in the answer's groups (none when it is not grouped)."""
        return [] if self.group is None else mention_groups(self.reports, self.group)


@dataclass(frozen=True)
class NoMentionAnswer:
    """No report contains `term`: the passages nearest to it instead (they do not contain it), if any."""

    query: str
    term: str
    nearest: tuple[Quote, ...] = ()
    scope: InScope | None = None
    group: Grouping | None = None


@dataclass(frozen=True)
class OutOfScopeAnswer:
    """The question named a scope that means no report: not answered; `scope` says why. `asked` (and `term`,
    `group`) is the kind of question it was."""

    query: str
    scope: OutOfScope
    asked: QuestionKind
    term: str | None = None
    group: Grouping | None = None


@dataclass(frozen=True)
class Refusal:
    """A question that was not answered: empty, or longer than the library reads. `asked`: the kind of question
    (a /mentions term is a mention question)."""

    query: str
    reason: Literal["empty", "too_long"]
    asked: Literal["search", "mention"] = "search"
    term: str | None = None


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


@dataclass(frozen=True)
class PartAnswer:
    """The answer to a question about a standard part of the reports (存在哪些问题): that part of each report that
    has it, one block per report, newest report first."""

    query: str
    part: Part
    blocks: tuple[PartBlock, ...]
    scope: InScope | None = None


# Every kind of answer a question can get; renderers cover each (assert_never).
Answer: TypeAlias = RankedAnswer | MentionAnswer | NoMentionAnswer | PartAnswer | OutOfScopeAnswer | Refusal
# What `Library.mentions` answers (trend reads it).
MentionsAnswer: TypeAlias = MentionAnswer | NoMentionAnswer | Refusal


def answer_scope(answer: Answer) -> InScope | OutOfScope | None:
    """The scope the question named (None: the whole library, or a refused question)."""
    match answer:
        case RankedAnswer() | MentionAnswer() | NoMentionAnswer() | PartAnswer() | OutOfScopeAnswer():
            return answer.scope
        case Refusal():
            return None
        case _:
            assert_never(answer)


def quoted(answer: Answer) -> tuple[Quote, ...]:
    """The passages an answer quotes: the best ones, the nearest ones, or (a mention answer) those quoted for its
    first reports when it was made; a part answer shows paragraphs, not quotes."""
    match answer:
        case RankedAnswer():
            return answer.passages
        case MentionAnswer():
            return answer.quotes
        case NoMentionAnswer():
            return answer.nearest
        case PartAnswer() | OutOfScopeAnswer() | Refusal():
            return ()
        case _:
            assert_never(answer)


def question_kind(answer: Answer) -> QuestionKind:
    """The kind of question an answer was given to: a search, a mention question or a part question (stored with
    feedback, and the `intent` of `reportbot ask --json`)."""
    match answer:
        case RankedAnswer():
            return "search"
        case MentionAnswer() | NoMentionAnswer():
            return "mention"
        case PartAnswer():
            return "part"
        case OutOfScopeAnswer() | Refusal():
            return answer.asked
        case _:
            assert_never(answer)


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
