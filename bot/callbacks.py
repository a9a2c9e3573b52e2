"""The data behind the bot's inline buttons: one dataclass per kind of button, written as `kind:field:field` within
Telegram's 64 bytes and read back strictly.

Anyone can send any callback data from their own client, so reading refuses whatever this module would not have
written (forged, malformed, odd digits): `decode` gives None and the handler says the button has expired. Data
that reads well is still checked where it leads: a kept answer belongs to the chat and user that asked
(bot/services.py), a deletion needs an admin (bot/handlers.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar, Self, get_args

from telegram.constants import InlineKeyboardButtonLimit

from retrieval.copies import MIN_CHARS_RANGE
from retrieval.feedback import Vote
from retrieval.parts import PARTS, Part
from retrieval.store import parse_number

# A kept answer's token (AnswerCache: 16 characters of urlsafe base64); never a path or anything else.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,32}")
# Report ids in the two buttons that act on a whole report: at most nine digits, as they are written.
_REPORT_ID = re.compile(r"[0-9]{1,9}")
REPORTS_FILTER_MAX_CHARS = 16  # a year or a unit, kept in the page buttons of /reports


def _data(kind: str, *fields: object) -> str:
    """`kind:field:field`, checked against Telegram's limit on callback data."""
    data = ":".join((kind, *(str(f) for f in fields)))
    if len(data.encode("utf-8")) > InlineKeyboardButtonLimit.MAX_CALLBACK_DATA:
        raise ValueError(f"callback data over {InlineKeyboardButtonLimit.MAX_CALLBACK_DATA} bytes: {data!r}")
    return data


def _fields(data: str, kind: str, *counts: int) -> list[str] | None:
    """The fields of `data` when it is a button of `kind` with one of `counts` fields."""
    head, colon, rest = data.partition(":")
    if head != kind or not colon:
        return None
    fields = rest.split(":")
    return fields if len(fields) in counts else None


def _paged(data: str, kind: str) -> tuple[int, int, int | None] | None:
    """A report, a paragraph or section of it, and a page or none: all numbers (ASCII decimal, within SQLite's
    range)."""
    fields = _fields(data, kind, 2, 3)
    numbers = [] if fields is None else [parse_number(f) for f in fields]
    if not numbers or None in numbers:
        return None
    report_id, at, *page = [n for n in numbers if n is not None]
    return report_id, at, page[0] if page else None


class ButtonData:
    """What every kind of button has: its letter, and whether a press sends a new message (a press that only
    edits the message it sits on does not count against the rate limit)."""

    KIND: ClassVar[str]
    SENDS: ClassVar[bool] = True  # of its presses (a paragraph's or a section's first page; its others edit)

    @property
    def sends(self) -> bool:
        return self.SENDS

    def encode(self) -> str:
        """The button's callback data."""
        raise NotImplementedError

    @classmethod
    def decode(cls, data: str) -> Self | None:
        """The button `data` stands for, when it is this kind's and well formed; None otherwise."""
        raise NotImplementedError


@dataclass(frozen=True)
class AnswerPage(ButtonData):
    """上一页/下一页 under a kept answer: turns the page in place."""

    KIND: ClassVar[str] = "a"
    SENDS: ClassVar[bool] = False
    token: str
    page: int

    def encode(self) -> str:
        return _data(self.KIND, self.token, self.page)

    @classmethod
    def decode(cls, data: str) -> Self | None:
        fields = _fields(data, cls.KIND, 2)
        if fields is None or not _TOKEN.fullmatch(fields[0]) or (page := parse_number(fields[1])) is None:
            return None
        return cls(fields[0], page)


@dataclass(frozen=True)
class ParagraphButton(ButtonData):
    """全文 under a quote: the paragraph in full as a new message; with a page, a page of a long one turned in
    place."""

    KIND: ClassVar[str] = "p"
    report_id: int
    number: int
    page: int | None = None

    @property
    def sends(self) -> bool:
        return self.page is None

    def encode(self) -> str:
        return _data(self.KIND, self.report_id, self.number, *(() if self.page is None else (self.page,)))

    @classmethod
    def decode(cls, data: str) -> Self | None:
        found = _paged(data, cls.KIND)
        return None if found is None else cls(*found)


@dataclass(frozen=True)
class SectionButton(ButtonData):
    """A heading of an outline: the section read in full as a new message; with a page, turned in place."""

    KIND: ClassVar[str] = "s"
    report_id: int
    index: int
    page: int | None = None

    @property
    def sends(self) -> bool:
        return self.page is None

    def encode(self) -> str:
        return _data(self.KIND, self.report_id, self.index, *(() if self.page is None else (self.page,)))

    @classmethod
    def decode(cls, data: str) -> Self | None:
        found = _paged(data, cls.KIND)
        return None if found is None else cls(*found)


@dataclass(frozen=True)
class PartButton(ButtonData):
    """One report's part (存在问题…) read whole, as a new message."""

    KIND: ClassVar[str] = "w"
    report_id: int
    part: Part

    def encode(self) -> str:
        return _data(self.KIND, self.report_id, self.part)

    @classmethod
    def decode(cls, data: str) -> Self | None:
        fields = _fields(data, cls.KIND, 2)
        if fields is None or (report_id := parse_number(fields[0])) is None:
            return None
        part = next((p for p in PARTS if p == fields[1]), None)
        return None if part is None else cls(report_id, part)


@dataclass(frozen=True)
class ReportsPage(ButtonData):
    """A page of /reports (of the year or unit it was asked with), turned in place."""

    KIND: ClassVar[str] = "r"
    SENDS: ClassVar[bool] = False
    page: int
    filter: str = ""

    def encode(self) -> str:
        return _data(self.KIND, self.page, *((self.filter,) if self.filter else ()))

    @classmethod
    def decode(cls, data: str) -> Self | None:
        fields = _fields(data, cls.KIND, 1, 2)
        if fields is None or (page := parse_number(fields[0])) is None:
            return None
        return cls(page, fields[1][:REPORTS_FILTER_MAX_CHARS] if len(fields) == 2 else "")


@dataclass(frozen=True)
class OutlineButton(ButtonData):
    """A report in the /reports list: its outline as a new message."""

    KIND: ClassVar[str] = "o"
    report_id: int

    def encode(self) -> str:
        return _data(self.KIND, self.report_id)

    @classmethod
    def decode(cls, data: str) -> Self | None:
        fields = _fields(data, cls.KIND, 1)
        report_id = None if fields is None else parse_number(fields[0])
        return None if report_id is None else cls(report_id)


@dataclass(frozen=True)
class ExampleButton(ButtonData):
    """An example question under /start, asked as if typed (the handler checks the example exists)."""

    KIND: ClassVar[str] = "x"
    index: int

    def encode(self) -> str:
        return _data(self.KIND, self.index)

    @classmethod
    def decode(cls, data: str) -> Self | None:
        fields = _fields(data, cls.KIND, 1)
        index = None if fields is None else parse_number(fields[0])
        return None if index is None else cls(index)


@dataclass(frozen=True)
class ExportButton(ButtonData):
    """导出 under a kept answer: the answer as files."""

    KIND: ClassVar[str] = "e"
    token: str

    def encode(self) -> str:
        return _data(self.KIND, self.token)

    @classmethod
    def decode(cls, data: str) -> Self | None:
        fields = _fields(data, cls.KIND, 1)
        return None if fields is None or not _TOKEN.fullmatch(fields[0]) else cls(fields[0])


@dataclass(frozen=True)
class FeedbackButton(ButtonData):
    """👍 / 👎 under a kept answer (a 👎 sends a question back)."""

    KIND: ClassVar[str] = "f"
    token: str
    vote: Vote

    def encode(self) -> str:
        return _data(self.KIND, self.token, self.vote)

    @classmethod
    def decode(cls, data: str) -> Self | None:
        fields = _fields(data, cls.KIND, 2)
        if fields is None or not _TOKEN.fullmatch(fields[0]):
            return None
        vote = next((v for v in get_args(Vote) if v == fields[1]), None)
        return None if vote is None else cls(fields[0], vote)


@dataclass(frozen=True)
class CopiesExportButton(ButtonData):
    """导出 under a /copies answer: worked out again from the report and the run length, sent as a file."""

    KIND: ClassVar[str] = "k"
    report_id: int
    min_chars: int

    def encode(self) -> str:
        return _data(self.KIND, self.report_id, self.min_chars)

    @classmethod
    def decode(cls, data: str) -> Self | None:
        fields = _fields(data, cls.KIND, 2)
        if fields is None or not _REPORT_ID.fullmatch(fields[0]) or not re.fullmatch(r"[0-9]{1,3}", fields[1]):
            return None
        min_chars = int(fields[1])
        if not MIN_CHARS_RANGE[0] <= min_chars <= MIN_CHARS_RANGE[1]:
            return None
        return cls(int(fields[0]), min_chars)


@dataclass(frozen=True)
class DeleteButton(ButtonData):
    """是 / 否 under an admin's /delete question (whoever presses is checked to be an admin first)."""

    KIND: ClassVar[str] = "d"
    SENDS: ClassVar[bool] = False
    report_id: int
    confirmed: bool

    def encode(self) -> str:
        return _data(self.KIND, self.report_id, "y" if self.confirmed else "n")

    @classmethod
    def decode(cls, data: str) -> Self | None:
        fields = _fields(data, cls.KIND, 2)
        if fields is None or not _REPORT_ID.fullmatch(fields[0]) or fields[1] not in ("y", "n"):
            return None
        return cls(int(fields[0]), fields[1] == "y")


AnyButton = (
    AnswerPage
    | ParagraphButton
    | SectionButton
    | PartButton
    | ReportsPage
    | OutlineButton
    | ExampleButton
    | ExportButton
    | FeedbackButton
    | CopiesExportButton
    | DeleteButton
)
KINDS: tuple[type[AnyButton], ...] = get_args(AnyButton)
_BY_KIND: dict[str, type[AnyButton]] = {kind.KIND: kind for kind in KINDS}


def pattern(kind: type[AnyButton]) -> re.Pattern[str]:
    """What a button's data starts with: its CallbackQueryHandler's pattern (the handler decodes the rest, and
    refuses what does not decode)."""
    return re.compile(f"^{re.escape(kind.KIND)}:")


def decode(data: str | None) -> AnyButton | None:
    """Any button's data, read strictly; None for data this bot would not have written."""
    kind = _BY_KIND.get((data or "").partition(":")[0])
    return None if kind is None else kind.decode(data or "")


# Kinds some press of which sends a new message (the others only edit the message they sit on).
_SENDING_KINDS = frozenset(kind.KIND for kind in KINDS if kind.SENDS)


def sends(data: str | None) -> bool:
    """Whether a press asks the bot for a new message, and so counts against the user's rate limit. Data that
    does not decode counts as a press of its kind would in the form that sends (at most one field after the
    kind's, any number for 👍/👎): the refusal is an answer all the same."""
    button = decode(data)
    if button is not None:
        return button.sends
    kind, _, rest = (data or "").partition(":")
    return kind in _SENDING_KINDS and (rest.count(":") <= 1 or kind == FeedbackButton.KIND)
