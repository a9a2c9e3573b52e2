"""What handlers share, built once by the composition root and kept in `bot_data`, reached as `context.services`
through the bot's CustomContext: no module-level state."""

from __future__ import annotations

import asyncio
import enum
import logging
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from retrieval import Answer, Library
from retrieval.feedback import Feedback
from retrieval.followup import Conversations
from retrieval.subscriptions import Subscriptions

from .settings import BotSettings

SERVICES_KEY = "services"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Owner:
    """Who asked: a paging button works for that user in that chat only."""

    chat_id: int | None
    user_id: int | None


class AnswerCache:
    """Answers kept for paging buttons, under random tokens that fit in callback data, each bound to the chat and
    user that asked. Lost on restart.

    Tokens are unguessable (not a counter): anyone can send any callback data from their own message, so a
    token that could be guessed would hand them someone else's question and quotes."""

    TOKEN_BYTES = 12  # 16 characters of urlsafe base64: 96 random bits, well inside the 64 bytes of callback data

    def __init__(self, capacity: int = 2000) -> None:
        self._items: OrderedDict[str, tuple[Owner, Answer]] = OrderedDict()
        self._capacity = capacity

    def put(self, answer: Answer, owner: Owner) -> str:
        """Store an answer for its owner; returns its token."""
        token = secrets.token_urlsafe(self.TOKEN_BYTES)
        self._items[token] = (owner, answer)
        if len(self._items) > self._capacity:
            self._items.popitem(last=False)
        return token

    def replace(self, token: str, answer: Answer) -> None:
        """Keep a fuller version of a stored answer (quotes added for a page), if it is still kept."""
        if token in self._items:
            self._items[token] = (self._items[token][0], answer)

    def clear(self) -> None:
        """Forget every kept answer (a report was deleted: their pages could quote it); their buttons then say
        to ask again."""
        self._items.clear()

    def get(self, token: str, owner: Owner) -> Answer | Foreign | None:
        """The answer for a token if still kept; FOREIGN when it was asked by someone else (or elsewhere)."""
        found = self._items.get(token)
        if found is None:
            return None
        if found[0] != owner:
            return FOREIGN
        self._items.move_to_end(token)
        return found[1]


class Foreign(enum.Enum):
    """A paging token that exists but belongs to another user or chat."""

    FOREIGN = "foreign"


FOREIGN = Foreign.FOREIGN


class CommentPrompts:
    """The bot's "what did you expect?" messages after a 👎, by (chat, message id): a reply to one is stored with
    that feedback, when it comes from the reader who voted. Lost on restart (the vote itself is stored)."""

    def __init__(self, capacity: int = 1000) -> None:
        self._items: OrderedDict[tuple[int, int], tuple[int, int | None]] = OrderedDict()
        self._capacity = capacity

    def add(self, chat_id: int, message_id: int, feedback_id: int, user_id: int | None) -> None:
        self._items[(chat_id, message_id)] = (feedback_id, user_id)
        if len(self._items) > self._capacity:
            self._items.popitem(last=False)

    def take(self, chat_id: int, message_id: int, user_id: int | None) -> int | None:
        """The feedback a reply to this prompt by this user belongs to (once), or None."""
        found = self._items.get((chat_id, message_id))
        if found is None or found[1] != user_id:
            return None
        del self._items[(chat_id, message_id)]
        return found[0]


class Verdict(enum.Enum):
    """What the rate limiter says about one more thing a user asks for."""

    ALLOW = "allow"
    REFUSE = "refuse"  # over the limit: say so, once in the window
    QUIET = "quiet"  # over the limit and already told: nothing more (each refusal is itself a message)


class RateLimiter:
    """At most `limit` things asked (questions, commands, buttons that send, inline queries) per user in any
    60-second window; over it, one refusal per window and then silence."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._seen: dict[int, deque[float]] = {}
        self._refused: dict[int, float] = {}

    def check(self, user_id: int | None, now: float | None = None) -> Verdict:
        """Record a request; ALLOW it, or REFUSE (first time in the window) or stay QUIET."""
        if user_id is None:
            return Verdict.ALLOW
        now = time.monotonic() if now is None else now
        seen = self._seen.setdefault(user_id, deque())
        while seen and now - seen[0] >= self.window:
            seen.popleft()
        if len(seen) < self.limit:
            seen.append(now)
            self._refused.pop(user_id, None)
            return Verdict.ALLOW
        refused = self._refused.get(user_id)
        if refused is not None and now - refused < self.window:
            return Verdict.QUIET
        self._refused[user_id] = now
        return Verdict.REFUSE

    def allow(self, user_id: int | None, now: float | None = None) -> bool:
        """Record a request; False when the user is over the limit."""
        return self.check(user_id, now) is Verdict.ALLOW


@dataclass
class Services:
    """The library, the settings, what the bot keeps in the library's database beside the reports (subscriptions,
    feedback) and the bot's own small caches."""

    library: Library
    settings: BotSettings
    subscriptions: Subscriptions = field(init=False)
    feedback: Feedback = field(init=False)
    answers: AnswerCache = field(default_factory=AnswerCache)
    conversations: Conversations = field(default_factory=Conversations)  # what each chat asked last
    comment_prompts: CommentPrompts = field(default_factory=CommentPrompts)
    limiter: RateLimiter = field(init=False)
    # one digest run at a time: the daily job and a catch-up run must not both send to a chat
    digest_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Why the bot must stop (its database file was replaced), and how: `bot.app.run` stops the polling or webhook
    # loop; an application run some other way (tests) only records the reason.
    halted: str | None = None
    stop: Callable[[], None] = lambda: None
    # What to do once the library is warm: `bot.app.run` takes start-up's objects out of the garbage collector's
    # walks (in a test process, where bots come and go, they stay collectable)
    after_warm: Callable[[], None] = lambda: None

    def __post_init__(self) -> None:
        self.subscriptions = Subscriptions(self.library)
        self.feedback = Feedback(self.library.store)
        self.limiter = RateLimiter(self.settings.rate_limit)

    def halt(self, reason: str) -> None:
        """Stop taking updates, once: writes from now on would vanish."""
        if self.halted is None:
            self.halted = reason
            log.critical("stopping: %s", reason)
            self.stop()


class CustomContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The context every handler and job of this bot gets (`ContextTypes(context=CustomContext)`): the services the
    composition root made, typed."""

    @property
    def services(self) -> Services:
        """The library, the settings and the bot's caches."""
        return services_of(self.application)

    @property
    def jobs(self) -> JobQueue[Any] | None:
        """The job queue, for scheduling this bot's jobs: PTB types `job_queue` with a context type that no job
        of ours has (the builder does not carry ours over to it)."""
        return self.job_queue


# The job queue's type stays open: PTB's builder does not carry the context type over to it.
BotApplication = Application[ExtBot[None], CustomContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], Any]


def services_of(application: Application[Any, Any, Any, Any, Any, Any]) -> Services:
    """The Services object of an application (for tests that hold the application)."""
    found = application.bot_data[SERVICES_KEY]
    assert isinstance(found, Services)
    return found
