"""A fake Telegram Bot API server, for the end-to-end tests and the bot benchmark.

Why this exists: tests that mock ``telegram.Bot`` methods never exercise what actually breaks
bots in production — PTB's request encoding, its mapping of HTTP errors to ``BadRequest`` /
``RetryAfter`` / ``Forbidden`` / ``NetworkError``, the polling loop, and Telegram's HTML and
length rules. This module runs a small aiohttp server on 127.0.0.1 (random port, never the
internet) that speaks enough of the Bot API for a *real* ``telegram.ext.Application`` to talk to
it through its real HTTP stack (httpx). It

* validates requests the way Telegram does (HTML entity parsing, UTF-16 text length,
  callback_data byte length, "message is not modified", unknown file ids, ...) and answers with
  Bot-API-shaped error bodies, so PTB raises the same exceptions it would raise in production;
* records every call (including rejected ones) and lets tests await calls without sleeping;
* lets tests push updates as users (messages, commands, callback queries, inline queries,
  documents, photos) that the bot receives through ``getUpdates`` long polling, or build the same
  update JSON for webhook tests (``queue=False``);
* injects faults: HTTP 429/5xx/403/400 answers, dropped connections and delays.

The parts: ``text`` (Telegram's HTML and length rules), ``records`` (errors, files, calls, faults), ``state``
(what the fake Telegram knows), ``methods`` (the Bot API methods), ``updates`` (the update builders) and
``server`` (HTTP, the call log, fault injection).

Typical use (the tests wrap :func:`running_fake_bot_api` in a fixture)::

    async with running_fake_bot_api() as api:
        app = (
            ApplicationBuilder()
            .token(api.token)
            .base_url(api.base_url)
            .base_file_url(api.base_file_url)
            .build()
        )
        ...  # initialize/start the application and its updater (start_polling)
        api.push_message("/start", chat_id=42, user_id=42)
        call = await api.wait_for("sendMessage", lambda c: c.chat_id == 42)

Deliberate differences from the real Bot API are documented where they occur; the important ones:
a bare ``&`` in HTML text is rejected (Telegram tolerates it, but its docs require escaping and
a bot that relies on the tolerance is one typo away from a broken message), Markdown parse modes
are accepted but not parsed, and only the methods listed in :class:`FakeBotApi` exist (others get
the real "method not found" 404 unless a test adds them with :meth:`FakeBotApi.register_method`).
"""

from fakebotapi.records import (
    BOT_FIRST_NAME,
    BOT_USERNAME,
    DEFAULT_TOKEN,
    MAX_CALLBACK_DATA_BYTES,
    MAX_CAPTION_LENGTH,
    MAX_DOWNLOAD_SIZE,
    MAX_MESSAGE_LENGTH,
    BotApiError,
    Call,
    StoredFile,
    UploadedFile,
)
from fakebotapi.server import FakeBotApi, running_fake_bot_api
from fakebotapi.text import EntityParseError, parse_html, utf16_len

__all__ = [
    "BOT_FIRST_NAME",
    "BOT_USERNAME",
    "DEFAULT_TOKEN",
    "MAX_CALLBACK_DATA_BYTES",
    "MAX_CAPTION_LENGTH",
    "MAX_DOWNLOAD_SIZE",
    "MAX_MESSAGE_LENGTH",
    "BotApiError",
    "Call",
    "EntityParseError",
    "FakeBotApi",
    "StoredFile",
    "UploadedFile",
    "parse_html",
    "running_fake_bot_api",
    "utf16_len",
]
