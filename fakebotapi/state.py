"""What the fake Telegram knows about one bot: its chats, users, messages, queries, files, commands and the update
queue, shared by the Bot API methods and the update builders."""

from __future__ import annotations

import asyncio
import copy
import itertools
import secrets
from collections.abc import Mapping
from typing import Any, Final

from fakebotapi.records import (
    BOT_FIRST_NAME,
    BOT_USERNAME,
    DEFAULT_TOKEN,
    JSONDict,
    StoredFile,
    bad_request,
    normalise_chat_id,
)

# Update types Telegram delivers when allowed_updates is empty / was never set.
ALL_UPDATE_TYPES: Final = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
DEFAULT_UPDATE_TYPES: Final = ALL_UPDATE_TYPES - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}


class BotState:
    """The state behind the methods and the builders; all of it per instance, so each test gets a clean Telegram."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = BOT_USERNAME,
        bot_first_name: str = BOT_FIRST_NAME,
        first_update_id: int = 100_000_001,
        strict_ampersand: bool = True,
        host: str = "127.0.0.1",
    ) -> None:
        bot_id_text = token.split(":", 1)[0]
        if not bot_id_text.isdigit():
            raise ValueError("token must look like '<bot id>:<secret>'")
        self.token = token
        self.host = host
        self.strict_ampersand = strict_ampersand
        self.bot_user: JSONDict = {
            "id": int(bot_id_text),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self._closing = asyncio.Event()

        # Update queue for getUpdates.
        self._updates: list[JSONDict] = []
        self._update_ids = itertools.count(first_update_id)
        self._updates_changed = asyncio.Event()
        self._allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._poll_generation = 0
        self._parked_polls = 0
        self._parked_changed = asyncio.Event()

        # Webhook settings.
        self._webhook: JSONDict | None = None

        # Chats, users, messages, queries, files, commands.
        self._chats: dict[int, JSONDict] = {}
        self._users: dict[int, JSONDict] = {}
        self._messages: dict[tuple[int, int], JSONDict] = {}
        self._last_message_id: dict[int, int] = {}
        self._inline_messages: dict[str, JSONDict] = {}
        self._callback_queries: dict[str, bool] = {}  # id -> answered
        self._inline_queries: dict[str, bool] = {}
        self._query_ids = itertools.count(int.from_bytes(secrets.token_bytes(4), "big") << 20)
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_counter = itertools.count(1)
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._init_server()

    def _init_server(self) -> None:
        """What the server adds to this state (its socket, call log, faults, methods): see ``FakeBotApi``."""

    @property
    def bot_id(self) -> int:
        """The bot's user id (the numeric part of the token)."""
        return int(self.bot_user["id"])

    @property
    def bot_username(self) -> str:
        """The bot's username without '@'."""
        return str(self.bot_user["username"])

    # ----------------------------------------------------------------------------- users & chats

    def _user(
        self, user_id: int, *, first_name: str | None, username: str | None, language_code: str | None
    ) -> JSONDict:
        user = dict(self._users.get(user_id) or {"id": user_id, "is_bot": False})
        user["first_name"] = first_name or user.get("first_name") or f"User{user_id}"
        if username is not None:
            user["username"] = username
        elif "username" not in user:
            user["username"] = f"user{user_id}"
        if language_code is not None:
            user["language_code"] = language_code
        self._users[user_id] = user
        return dict(user)

    def _chat_for_push(self, chat_id: int, chat_type: str, user: JSONDict, chat_title: str | None) -> JSONDict:
        if chat_type == "private":
            chat: JSONDict = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
            if user.get("username"):
                chat["username"] = user["username"]
        elif chat_type in ("group", "supergroup", "channel"):
            chat = {"id": chat_id, "type": chat_type, "title": chat_title or f"Test {chat_type} {chat_id}"}
        else:
            raise ValueError(f"unknown chat_type {chat_type!r}")
        self._chats[chat_id] = chat
        return dict(chat)

    def _chat_for_send(self, chat_id: int) -> JSONDict:
        # Bots may message chats the test never pushed from (e.g. digests to subscribers).
        chat = self._chats.get(chat_id)
        if chat is None:
            if chat_id > 0:
                chat = {"id": chat_id, "type": "private", "first_name": f"User{chat_id}"}
            elif str(chat_id).startswith("-100"):
                chat = {"id": chat_id, "type": "supergroup", "title": f"Test supergroup {chat_id}"}
            else:
                chat = {"id": chat_id, "type": "group", "title": f"Test group {chat_id}"}
            self._chats[chat_id] = chat
        return dict(chat)

    def _resolve_chat_id(self, params: Mapping[str, Any]) -> int:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        chat_id = normalise_chat_id(raw)
        if isinstance(chat_id, int):
            return chat_id
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            for known in self._chats.values():
                if known.get("username") and f"@{known['username']}".lower() == chat_id.lower():
                    return int(known["id"])
        raise bad_request("chat not found")

    def _next_message_id(self, chat_id: int) -> int:
        mid = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = mid
        return mid

    def _store_message(self, msg: JSONDict) -> None:
        chat_id = int(msg["chat"]["id"])
        mid = int(msg["message_id"])
        self._messages[(chat_id, mid)] = copy.deepcopy(msg)
        self._last_message_id[chat_id] = max(self._last_message_id.get(chat_id, 0), mid)

    # ----------------------------------------------------------------------------- files

    def register_file(
        self,
        data: bytes | None,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        file_size: int | None = None,
        kind: str = "documents",
    ) -> StoredFile:
        """Make a file known to getFile and the download route; returns its ids and path.

        ``file_size`` defaults to ``len(data)``; give it without ``data`` to simulate a file that
        is too big to download (over 20 MB getFile answers "file is too big").
        """
        if data is None and file_size is None:
            raise ValueError("give data or file_size")
        n = next(self._file_counter)
        suffix = ""
        if file_name and "." in file_name:
            suffix = "." + file_name.rsplit(".", 1)[1].lower()
        stored = StoredFile(
            file_id=f"BQACAgUAAxkBAAI{n:05d}{secrets.token_urlsafe(24)}",
            file_unique_id=f"AgAD{n:04d}{secrets.token_hex(4)}",
            file_path=f"{kind}/file_{n}{suffix}",
            file_size=len(data) if file_size is None and data is not None else int(file_size or 0),
            file_name=file_name,
            mime_type=mime_type,
            data=data,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def file(self, file_id: str) -> StoredFile | None:
        """Look up a known file (pushed or uploaded by the bot) by file_id."""
        return self._files.get(file_id)

    # ----------------------------------------------------------------------------- updates

    def push_update(self, update: JSONDict) -> JSONDict:
        """Queue a raw update dict for getUpdates; assigns ``update_id`` if missing.

        Returns the queued update. Use the ``make_*`` helpers for well-formed payloads.
        """
        queued = copy.deepcopy(update)
        if "update_id" not in queued:
            queued = {"update_id": next(self._update_ids), **queued}
        self._updates.append(queued)
        self._signal_updates()
        return copy.deepcopy(queued)

    def _signal_updates(self) -> None:
        # Wake every waiter of the current event, then give later waiters a fresh one.
        event, self._updates_changed = self._updates_changed, asyncio.Event()
        event.set()

    def _reply_target(self, chat_id: int, target: JSONDict | int) -> JSONDict:
        if isinstance(target, dict):
            return copy.deepcopy(target)
        stored = self._messages.get((chat_id, target))
        if stored is None:
            raise ValueError(f"unknown message {target} in chat {chat_id}")
        reply = copy.deepcopy(stored)
        reply.pop("reply_to_message", None)
        return reply
