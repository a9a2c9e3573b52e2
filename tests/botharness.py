"""Running the real bot (bot.app.build_application) against the fake Bot API server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from telegram.ext import Application

from bot.app import build_application
from bot.settings import BotSettings
from fakebotapi import Call, FakeBotApi
from retrieval import Library

USER = 1001
ADMIN = 4242
OTHER = 2002
GROUP = -100500


def bot_settings(api: FakeBotApi, db: Path, **overrides: Any) -> BotSettings:
    """Settings as an operator would give them, pointed at the fake server."""
    values: dict[str, Any] = {
        **api.bot_env(),
        "REPORTBOT_DB": str(db),
        "REPORTBOT_ADMINS": str(ADMIN),
        "REPORTBOT_DIGEST_TIME": "23:59",
    }
    values.update(overrides)
    return BotSettings(_env_file=None, **values)


@asynccontextmanager
async def running_bot(
    api: FakeBotApi, library: Library, settings: BotSettings | None = None
) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """Build the bot with its real composition root, run post_init, poll; always shut down."""
    settings = settings or bot_settings(api, Path(library.store.path))
    application = build_application(settings, library)
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()
    finally:
        await application.shutdown()


async def ask(api: FakeBotApi, text: str, *, chat_id: int = USER, user_id: int = USER, **kwargs: Any) -> Call:
    """Send a message as a user and wait for the bot's first reply in that chat."""
    mark = api.mark()
    api.push_message(text, chat_id, user_id, **kwargs)
    return await api.wait_for("sendMessage", lambda c: c.chat_id == chat_id, since=mark)


def buttons(call: Call) -> list[tuple[str, str]]:
    """(label, callback_data) of every inline button of a sent or edited message."""
    markup = call.params.get("reply_markup") or {}
    return [(b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row]
