"""Webhook mode: updates POSTed by 'Telegram' with the secret token header are answered; others rejected."""

from __future__ import annotations

import socket

import aiohttp

from bot.app import build_application, webhook_options
from fakebotapi import running_fake_bot_api
from retrieval import Library
from tests.botharness import USER, bot_settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_checks_the_secret_token(library: Library) -> None:
    port = _free_port()
    async with running_fake_bot_api() as api:
        settings = bot_settings(
            api,
            library.store.path,  # type: ignore[arg-type]
            REPORTBOT_WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
            REPORTBOT_WEBHOOK_LISTEN="127.0.0.1",
            REPORTBOT_WEBHOOK_PORT=str(port),
            REPORTBOT_WEBHOOK_SECRET="s3cret-Token_42",
        )
        options = webhook_options(settings)
        assert options["url_path"] == "hook"
        application = build_application(settings, library)
        await application.initialize()
        await application.start()
        assert application.updater is not None
        await application.updater.start_webhook(**options)
        try:
            webhook = await api.wait_for("setWebhook")
            assert webhook.params["secret_token"] == "s3cret-Token_42"
            update = api.push_message("哪些报告提到四下基层", USER, USER, queue=False)
            async with aiohttp.ClientSession() as session:
                for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                    async with session.post(f"http://127.0.0.1:{port}/hook", json=update, headers=headers) as r:
                        assert r.status == 403
            assert api.calls("sendMessage") == []
            assert await api.deliver_to_webhook(update) == 200
            reply = await api.wait_for("sendMessage", lambda c: c.chat_id == USER)
            assert "四下基层" in reply.text
        finally:
            await application.updater.stop()
            await application.stop()
            await application.shutdown()
