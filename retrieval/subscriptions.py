"""Subscribers to the daily digest and the terms each chat watches: who gets what, and what today's digest for a
chat holds (the same for the daily run and for /digest)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from .digest import Digest, build_digest
from .library import Library

WatchResult = Literal["added", "already", "full"]


@dataclass(frozen=True)
class Subscriber:
    """A chat that gets the daily digest, and where its last digest left off."""

    chat_id: int
    language: str
    subscribed_at: str
    last_digest_day: str | None  # ISO day of the last digest delivered
    last_report_seq: int  # the digest's cursors: reports and passages up to these were covered
    last_passage_id: int

    def had_digest(self, day: date) -> bool:
        """Whether `day`'s digest already reached the chat (the daily run sends each day's once)."""
        return self.last_digest_day == day.isoformat()


def _subscriber(row: dict[str, Any]) -> Subscriber:
    return Subscriber(
        chat_id=int(row["chat_id"]),
        language=str(row["language"]),
        subscribed_at=str(row["subscribed_at"]),
        last_digest_day=row["last_digest_day"],
        last_report_seq=int(row["last_report_seq"]),
        last_passage_id=int(row["last_passage_id"]),
    )


class Subscriptions:
    """Subscribers and watches, kept in the library's database; digests built from the library."""

    def __init__(self, library: Library) -> None:
        self._library = library
        self._store = library.store

    def subscribe(
        self, chat_id: int, language: str, *, last_report_seq: int | None = None, last_passage_id: int | None = None
    ) -> bool:
        """Subscribe a chat; its digests start from what the library holds now (unless told otherwise). False if
        it already was a subscriber."""
        return self._store.subscribe(
            chat_id, language, last_report_seq=last_report_seq, last_passage_id=last_passage_id
        )

    def unsubscribe(self, chat_id: int) -> bool:
        """No more digests for the chat; False if it was not a subscriber."""
        return self._store.unsubscribe(chat_id)

    def subscriber(self, chat_id: int) -> Subscriber | None:
        """The chat as a subscriber, or None."""
        row = self._store.subscriber(chat_id)
        return None if row is None else _subscriber(row)

    def subscribers(self) -> list[Subscriber]:
        """Every subscriber, by chat id."""
        return [_subscriber(row) for row in self._store.subscribers()]

    def watch(self, chat_id: int, term: str, language: str, *, limit: int) -> WatchResult:
        """Watch a term (at most `limit` per chat: each costs a search per new report and a share of the chat's
        digest); watching subscribes the chat."""
        watched = self._store.watches(chat_id)
        if term not in watched and len(watched) >= limit:
            return "full"
        added = self._store.add_watch(chat_id, term)
        self._store.subscribe(chat_id, language)
        return "added" if added else "already"

    def unwatch(self, chat_id: int, term: str) -> bool:
        """Stop watching a term; False if it was not watched."""
        return self._store.remove_watch(chat_id, term)

    def watches(self, chat_id: int) -> list[str]:
        """A chat's watched terms, oldest first."""
        return self._store.watches(chat_id)

    def digest_for(self, chat_id: int, day: date) -> Digest:
        """The chat's digest as of `day`: what came since its last digest and its watches' new mentions. A chat
        that is not subscribed has nothing new (the passage of the day), not the whole archive."""
        found = self.subscriber(chat_id)
        if found is None:
            report_seq, passage_id = self._store.max_report_seq(), self._store.max_passage_id()
        else:
            report_seq, passage_id = found.last_report_seq, found.last_passage_id
        return build_digest(
            self._library,
            day=day,
            last_report_seq=report_seq,
            last_passage_id=passage_id,
            watches=self.watches(chat_id),
        )

    def mark_sent(self, chat_id: int, digest: Digest) -> None:
        """Record that the digest reached the chat: its day is done and the next starts where it ended."""
        self._store.mark_digest_sent(chat_id, digest.day, report_seq=digest.report_seq, passage_id=digest.passage_id)
