"""What handlers share, built once by the composition root and kept in `bot_data`: no module-level state."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field

from telegram.ext import Application, ContextTypes

from retrieval import AnyAnswer, Library

from .settings import BotSettings

SERVICES_KEY = "services"


class AnswerCache:
    """Answers kept for paging buttons, under short tokens that fit in callback data. Lost on restart."""

    def __init__(self, capacity: int = 2000) -> None:
        self._items: OrderedDict[str, AnyAnswer] = OrderedDict()
        self._capacity = capacity
        self._counter = itertools.count(1)
        self._epoch = format(int(time.time()) % 36**4, "x")  # tokens from before a restart never collide

    def put(self, answer: AnyAnswer) -> str:
        """Store an answer; returns its token."""
        token = f"{self._epoch}{next(self._counter):x}"
        self._items[token] = answer
        if len(self._items) > self._capacity:
            self._items.popitem(last=False)
        return token

    def replace(self, token: str, answer: AnyAnswer) -> None:
        """Keep a fuller version of a stored answer (quotes added for a page), if it is still kept."""
        if token in self._items:
            self._items[token] = answer

    def clear(self) -> None:
        """Forget every kept answer (a report was deleted: their pages could quote it); their buttons then say
        to ask again."""
        self._items.clear()

    def get(self, token: str) -> AnyAnswer | None:
        """The answer for a token, if still kept."""
        answer = self._items.get(token)
        if answer is not None:
            self._items.move_to_end(token)
        return answer


class RateLimiter:
    """At most `limit` questions per user in any 60-second window."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._seen: dict[int, deque[float]] = {}

    def allow(self, user_id: int | None, now: float | None = None) -> bool:
        """Record a question; False when the user is over the limit."""
        if user_id is None:
            return True
        now = time.monotonic() if now is None else now
        seen = self._seen.setdefault(user_id, deque())
        while seen and now - seen[0] >= self.window:
            seen.popleft()
        if len(seen) >= self.limit:
            return False
        seen.append(now)
        return True


@dataclass
class Services:
    """The library, the settings and the bot's own small caches."""

    library: Library
    settings: BotSettings
    answers: AnswerCache = field(default_factory=AnswerCache)
    limiter: RateLimiter = field(init=False)
    # one digest run at a time: the daily job and a catch-up run must not both send to a chat
    digest_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(self.settings.rate_limit)


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    """The Services object the composition root put into bot_data."""
    return services_of(context.application)


def services_of(application: Application) -> Services:  # type: ignore[type-arg]
    """The Services object of an application (for jobs and tests that hold the application)."""
    found = application.bot_data[SERVICES_KEY]
    assert isinstance(found, Services)
    return found
