"""The composition root of the bot: builds the Application, registers every handler, schedules the digest."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import (
    AIORateLimiter,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from retrieval import Library

from . import callbacks, handlers
from .callbacks import pattern
from .jobs import (
    CATCH_UP_EVERY_S,
    CATCH_UP_JOB,
    DIGEST_GRACE_S,
    DIGEST_JOB,
    MISSED_DIGEST_JOB,
    WARM_JOB,
    catch_up_job,
    digest_job,
    warm_job,
)
from .logs import install_redaction
from .processing import PerChatProcessor
from .services import SERVICES_KEY, BotApplication, CustomContext, Services, services_of
from .settings import BotSettings
from .texts import COMMANDS

log = logging.getLogger(__name__)

Handler = Callable[[Update, CustomContext], Coroutine[Any, Any, None]]


def timed(kind: str, callback: Handler) -> Handler:
    """Log one line per handled update: its kind and how long it took."""

    async def wrapper(update: Update, context: CustomContext) -> None:
        started = time.perf_counter()
        try:
            await callback(update, context)
        finally:
            log.info(
                "update %s %s handled in %.1f ms",
                update.update_id,
                kind,
                (time.perf_counter() - started) * 1000,
            )

    wrapper.__doc__ = callback.__doc__
    return wrapper


async def post_init(application: BotApplication) -> None:
    """Register the command menu (Chinese, and English for English-language users); catch up a missed digest;
    warm the library in the background (polling does not wait for it)."""
    await application.bot.set_my_commands([BotCommand(name, zh) for name, zh, _ in COMMANDS])
    await application.bot.set_my_commands([BotCommand(name, en) for name, _, en in COMMANDS], language_code="en")
    settings = services_of(application).settings
    if application.job_queue is not None:
        application.job_queue.run_once(warm_job, when=0, name=WARM_JOB)
        if datetime.now(settings.tz).timetz().replace(tzinfo=None) >= settings.digest_time:
            # the bot was down at digest time today: subscribers who did not get it yet get it now, once
            application.job_queue.run_once(digest_job, when=1, name=CATCH_UP_JOB)


async def post_shutdown(application: BotApplication) -> None:
    """Save the indexes after uploads changed them, so the next start loads instead of building (large libraries)."""
    await asyncio.to_thread(services_of(application).library.save_index)


def build_application(settings: BotSettings, library: Library) -> BotApplication:
    """The whole bot: settings and library in, a ready Application out (not started)."""
    assert settings.token is not None, "the bot needs TELEGRAM_BOT_TOKEN"
    token = settings.token.get_secret_value()
    install_redaction([token, settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""])
    builder = (
        ApplicationBuilder()
        .token(token)
        .context_types(ContextTypes(context=CustomContext))
        # every message is HTML, and no message shows a link preview (quotes may hold addresses)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                tzinfo=settings.tz,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .concurrent_updates(PerChatProcessor(settings.concurrent_updates))
        # httpcore scans every pooled connection for each request: a smaller pool is faster under load
        .connection_pool_size(settings.connection_pool_size)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    if settings.base_url:
        builder = builder.base_url(settings.base_url)
        builder = builder.base_file_url(settings.base_file_url or settings.base_url.replace("/bot", "/file/bot"))
    if settings.pace_sends:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=3))  # type: ignore[arg-type]
    application = builder.build()
    application.bot_data[SERVICES_KEY] = Services(library=library, settings=settings)

    # Allow-list first: chats not on it get a refusal and nothing else.
    application.add_handler(TypeHandler(Update, handlers.gatekeeper), group=-2)
    # Then the per-user rate limit, for everything that asks the bot for something (a group of its own: only
    # one handler of a group runs).
    application.add_handler(TypeHandler(Update, handlers.rate_gate), group=-1)
    # Commands.
    for name, callback in (
        ("start", handlers.start),
        ("help", handlers.help_command),
        ("reports", handlers.reports_command),
        ("report", handlers.report_command),
        ("search", handlers.search_command),
        ("mentions", handlers.mentions_command),
        ("compare", handlers.compare_command),
        ("trend", handlers.trend_command),
        ("copies", handlers.copies_command),
        ("digest", handlers.digest_command),
        ("subscribe", handlers.subscribe_command),
        ("unsubscribe", handlers.unsubscribe_command),
        ("watch", handlers.watch_command),
        ("unwatch", handlers.unwatch_command),
        ("watches", handlers.watches_command),
        ("stats", handlers.stats_command),
        ("delete", handlers.delete_command),  # admins only; not in the menu everyone sees
        ("edit", handlers.edit_command),  # admins only, as /delete
    ):
        # new messages only: an edited `/watch` must not run again, and channel posts are not commands to us
        application.add_handler(CommandHandler(name, timed(f"/{name}", callback), filters=filters.UpdateType.MESSAGE))
    application.add_handler(
        MessageHandler(filters.COMMAND & filters.UpdateType.MESSAGE, timed("unknown-command", handlers.unknown_command))
    )
    # Questions, files, buttons, inline mode.
    application.add_handler(
        MessageHandler(
            filters.TEXT & ~filters.COMMAND & ~filters.UpdateType.EDITED, timed("question", handlers.question)
        )
    )
    application.add_handler(MessageHandler(filters.Document.ALL, timed("document", handlers.document)))
    application.add_handler(MessageHandler(filters.PHOTO, timed("photo", handlers.photo)))
    # Buttons: one handler per kind of button data (bot/callbacks.py), each reading its data strictly and saying
    # "expired" to what does not read; the delete confirmation, the one admin action behind a button, checks the
    # presser is an admin before anything else. Data of no kind gets "expired" too.
    for kind, name, callback in (
        (callbacks.AnswerPage, "answer-page-button", handlers.answer_page_button),
        (callbacks.ParagraphButton, "paragraph-button", handlers.paragraph_button),
        (callbacks.SectionButton, "section-button", handlers.section_button),
        (callbacks.PartButton, "part-button", handlers.part_button),
        (callbacks.ReportsPage, "reports-page-button", handlers.reports_page_button),
        (callbacks.OutlineButton, "outline-button", handlers.outline_button),
        (callbacks.ExampleButton, "example-button", handlers.example_button),
        (callbacks.ExportButton, "export-button", handlers.export_button),
        (callbacks.FeedbackButton, "feedback-button", handlers.feedback_button),
        (callbacks.CopiesExportButton, "copies-export-button", handlers.copies_export_button),
        (callbacks.DeleteButton, "delete-button", handlers.delete_button),
    ):
        application.add_handler(CallbackQueryHandler(timed(name, callback), pattern=pattern(kind)))
    application.add_handler(CallbackQueryHandler(timed("button", handlers.stale_button)))
    application.add_handler(InlineQueryHandler(timed("inline", handlers.inline_query)))
    application.add_error_handler(handlers.error_handler)
    # The daily digest, named so it can be found and removed.
    if application.job_queue is not None:
        # APScheduler's default grace is 1 s: a stalled loop at digest time skipped the day silently
        application.job_queue.run_daily(
            digest_job, time=settings.digest_at, name=DIGEST_JOB, job_kwargs={"misfire_grace_time": DIGEST_GRACE_S}
        )
        application.job_queue.run_repeating(
            catch_up_job, interval=CATCH_UP_EVERY_S, first=CATCH_UP_EVERY_S, name=MISSED_DIGEST_JOB
        )
    return application


def webhook_options(settings: BotSettings) -> dict[str, Any]:
    """Where to listen and what to tell Telegram; PTB rejects requests without the secret token header."""
    assert settings.webhook_url and settings.webhook_secret is not None
    return {
        "listen": settings.webhook_listen,
        "port": settings.webhook_port,
        "url_path": urlparse(settings.webhook_url).path.strip("/") or "telegram",
        "webhook_url": settings.webhook_url,
        "secret_token": settings.webhook_secret.get_secret_value(),
        "allowed_updates": Update.ALL_TYPES,
    }


def leave_start_up_uncollected() -> None:
    """Collect start-up's garbage once, then leave what it made (the loaded library) out of later collections.

    A full collection walks every object the process holds: at a million passages 100-500 ms with the GIL held,
    every few hundred answers, stalling every question in flight (bench/botload.py measured it). What start-up made
    lives as long as the process."""
    gc.collect()
    gc.freeze()


def run(settings: BotSettings, library: Library) -> None:
    """Run until stopped: webhook when REPORTBOT_WEBHOOK_URL is set, long polling otherwise."""
    application = build_application(settings, library)
    svc = services_of(application)
    svc.stop = application.stop_running
    svc.after_warm = leave_start_up_uncollected
    if settings.webhook_url:
        application.run_webhook(**webhook_options(settings))
    else:
        application.run_polling(allowed_updates=Update.ALL_TYPES)
    if svc.halted is not None:
        raise SystemExit(f"error: {svc.halted}")
