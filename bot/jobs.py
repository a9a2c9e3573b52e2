"""The daily digest job: every subscriber gets today's digest once, even across restarts and flood limits."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date, datetime

from telegram import Bot
from telegram.error import Forbidden, TelegramError

from retrieval import StorageError

from . import render
from .delivery import with_retries
from .render import Reply
from .services import CustomContext, Services

log = logging.getLogger(__name__)

DIGEST_JOB = "daily-digest"
CATCH_UP_JOB = "digest-catch-up"
MISSED_DIGEST_JOB = "missed-digest-check"
WARM_JOB = "warm-library"
SAVE_INDEX_JOB = "save-index"
# Uploads often come in a row: the index is saved once they have stopped for this long, not after each one.
SAVE_INDEX_AFTER_S = 30.0


def schedule_index_save(context: CustomContext) -> None:
    """Save the index a while after the library changed (debounced), so the next start and a crash lose nothing
    of it: before, it was saved only at a clean shutdown."""
    queue = context.jobs
    if queue is None:
        return
    for pending in queue.get_jobs_by_name(SAVE_INDEX_JOB):
        pending.schedule_removal()
    queue.run_once(save_index_job, when=SAVE_INDEX_AFTER_S, name=SAVE_INDEX_JOB)


async def save_index_job(context: CustomContext) -> None:
    """Write the index for the next start, off the event loop."""
    await asyncio.to_thread(context.services.library.save_index)


async def send_digest(bot: Bot, chat_id: int, replies: list[Reply]) -> None:
    """Send a digest's messages; Forbidden goes to the caller, flood limits and network failures are retried."""
    for reply in replies:
        await with_retries(
            lambda reply=reply: bot.send_message(chat_id, reply.text, reply_markup=reply.markup),  # type: ignore[misc]
            what=f"digest to {chat_id}",
        )


async def deliver_digests(
    bot: Bot, svc: Services, *, now: datetime | None = None, running: Callable[[], bool] = lambda: True
) -> dict[str, int]:
    """Send today's digest to every subscriber who has not had it; returns counts by outcome."""
    async with svc.digest_lock:
        return await _deliver(bot, svc, (now or datetime.now(svc.settings.tz)).date(), running)


async def _deliver(bot: Bot, svc: Services, day: date, running: Callable[[], bool]) -> dict[str, int]:
    subscriptions = svc.subscriptions
    outcome = {"sent": 0, "skipped": 0, "unsubscribed": 0, "failed": 0}
    for sub in await asyncio.to_thread(subscriptions.subscribers):
        if not running():
            # stopping (SIGTERM): end between two chats instead of holding the shutdown for the whole run (50 s
            # for 30 chats, past the 30 s systemd and compose allow); the chats left are not marked, and the
            # next start's catch-up sends them theirs
            log.info("stopping: the rest of the digest run is left to the next start")
            break
        chat_id = sub.chat_id
        if sub.had_digest(day):
            outcome["skipped"] += 1
            continue
        digest = await asyncio.to_thread(subscriptions.digest_for, chat_id, day)
        try:
            await send_digest(bot, chat_id, render.digest_replies(digest, sub.language))
        except Forbidden:
            log.info("chat %s blocked the bot: unsubscribed", chat_id)
            await _record(f"unsubscribing chat {chat_id}", subscriptions.unsubscribe, chat_id)
            outcome["unsubscribed"] += 1
            continue
        except TelegramError as exc:
            log.warning("digest for chat %s not delivered: %s", chat_id, exc)
            outcome["failed"] += 1
            continue
        await _record(f"digest sent to chat {chat_id}", subscriptions.mark_sent, chat_id, digest)
        outcome["sent"] += 1
    log.info("digest for %s: %s", day.isoformat(), outcome)
    return outcome


async def _record(what: str, write: Callable[..., object], *args: object, **kwargs: object) -> None:
    """A write after a send. A database that cannot be written (read-only, full, locked for long) must not end
    the run at the first subscriber: the others still get their digest. Not recorded, this chat may get today's
    digest again from a later (catch-up) run."""
    try:
        await asyncio.to_thread(write, *args, **kwargs)
    except StorageError as exc:
        log.error("%s: not recorded: %s", what, exc)


async def digest_job(context: CustomContext) -> None:
    """JobQueue callback: the daily run, and the catch-up run after a restart past digest time."""
    await deliver_digests(context.bot, context.services, running=lambda: context.application.running)


# A running bot whose daily run was missed (the event loop stalled past the scheduler's grace, the Bot API down at
# digest time) catches up within this long, the same day; and the daily run itself may start this late.
CATCH_UP_EVERY_S = 900
DIGEST_GRACE_S = 3600


async def catch_up_job(context: CustomContext) -> None:
    """JobQueue callback, every CATCH_UP_EVERY_S: past today's digest time, deliver to whoever has not had today's
    digest (a no-op when the daily run went out: each chat records its digest day)."""
    svc = context.services
    now = datetime.now(svc.settings.tz)
    if now.timetz().replace(tzinfo=None) >= svc.settings.digest_time:
        await deliver_digests(context.bot, svc, now=now, running=lambda: context.application.running)


async def warm_job(context: CustomContext) -> None:
    """JobQueue callback, once at start: get the library ready for the first question, off the event loop."""
    await asyncio.to_thread(context.services.library.warm)
    context.services.after_warm()
