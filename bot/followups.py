"""Follow-up questions in a chat (the bot's and the terminal's): how a follow-up was read, and what to show for it.
Telegram-free, so the terminal chat answers follow-ups exactly as the bot does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import assert_never

from retrieval import Answer, Library
from retrieval.followup import (
    Asked,
    FollowUp,
    NewScope,
    NewTerm,
    NextPage,
    NoSuchReport,
    NthReport,
    OnlyPart,
    Reading,
    Reask,
    read_follow_up,
)

from . import render
from .render import Reply
from .texts import t


@dataclass(frozen=True)
class Turn:
    """An answer to show for a follow-up: which page, and the line saying how the follow-up was read (HTML)."""

    question: str
    answer: Answer
    page: int
    note: str


def reading_note(reading: Reading, lang: str) -> str:
    """按“2019年”重新回答： and the like, escaped."""
    if isinstance(reading, NewScope):
        return t("followup_scope", lang, words=render.esc(reading.words))
    if isinstance(reading, NewTerm):
        return t("followup_term", lang, term=render.esc(reading.term))
    if isinstance(reading, NthReport):
        return t("followup_nth", lang, n=reading.n, id=reading.report_id, title=render.label(reading.title, 30))
    if isinstance(reading, OnlyPart):
        return t("followup_part", lang, part=render.part_name(reading.part, lang))
    assert_never(reading)


def read(library: Library, asked: Asked | None, text: str) -> FollowUp | None:
    """How `text` follows up `asked`, or None when it is a question of its own."""
    return read_follow_up(text, asked, library.catalogue())


def follow_up(library: Library, found: FollowUp, lang: str) -> Turn | Reply:
    """What a follow-up shows: a page of an answer, or a message. Slow (it may answer a question): run off the
    event loop."""
    if isinstance(found, NoSuchReport):
        return Reply(t("followup_no_report", lang, n=found.n, count=found.count))
    if isinstance(found, NextPage):
        answer, page = found.asked.answer, found.page
        if page >= render.page_count(answer, lang):
            return Reply(t("followup_no_more", lang))
        answer = library.with_quotes(answer, *render.page_range(answer, lang, page))
        return Turn(found.asked.question, answer, page, t("followup_page", lang, page=page + 1))
    if isinstance(found, Reask):
        answer = library.ask(
            found.question, limit=render.SEARCH_LIMIT, quoted=render.MENTIONS_PER_PAGE, report_ids=found.report_ids
        )
        return Turn(found.question, answer, 0, reading_note(found.reading, lang))
    assert_never(found)


def turn_reply(turn: Turn, lang: str, token: str | None) -> Reply:
    """The page of a follow-up's answer under the line saying how it was read."""
    refusal = render.refusal_reply(turn.answer, lang)
    reply = refusal or render.answer_reply(turn.answer, lang, page=turn.page, token=token)
    return Reply(f"<i>{turn.note}</i>\n{reply.text}", reply.keyboard)
