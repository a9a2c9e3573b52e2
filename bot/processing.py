"""How updates share the bot: one chat's updates one at a time, so a chat whose sends wait (Telegram paces a group
to 20 messages a minute, or its requests are slow) holds one of the concurrent slots, never all of them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# Updates waiting for their chat's turn hold nothing but a coroutine; PTB's own semaphore (which wraps
# do_process_update) only bounds how many may wait.
WAITING_UPDATES = 10_000


class PerChatProcessor(BaseUpdateProcessor):
    """At most `slots` updates handled at once in all, and at most one per chat (inline queries: per user)."""

    def __init__(self, slots: int) -> None:
        super().__init__(max_concurrent_updates=WAITING_UPDATES)
        self._slots = asyncio.Semaphore(slots)
        self._chats: dict[int, tuple[asyncio.Lock, int]] = {}  # chat -> (its turn, updates holding or awaiting it)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for the chat's turn (holding no slot), then for a slot; handle the update."""
        key = _chat_of(update)
        if key is None:
            async with self._slots:
                await coroutine
            return
        lock, users = self._chats.get(key, (asyncio.Lock(), 0))
        self._chats[key] = (lock, users + 1)
        try:
            async with lock, self._slots:
                await coroutine
        finally:
            lock, users = self._chats[key]
            if users == 1:
                del self._chats[key]  # no state kept for chats that are quiet
            else:
                self._chats[key] = (lock, users - 1)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


def _chat_of(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user is not None else None
