"""Updates as users make them: one builder per kind (message, edit, button press, inline query, document, photo).

Each builder registers what Telegram would (the message, the query, the file), gives the update the next id and
queues it for getUpdates; with ``queue=False`` it only returns the update, e.g. to POST it to a webhook.
"""

from __future__ import annotations

import copy
import mimetypes
from typing import Any

from fakebotapi.records import JSONDict, now
from fakebotapi.state import BotState
from fakebotapi.text import detect_user_entities


class UpdateBuilders(BotState):
    """The builders of :class:`fakebotapi.FakeBotApi`."""

    def _built(self, update: JSONDict, queue: bool) -> JSONDict:
        return self.push_update(update) if queue else update

    def _sent(self, msg: JSONDict, queue: bool, kind: str = "message") -> JSONDict:
        """Register a user's message (so replies and edits find it) and build, or queue, its update."""
        self._store_message(msg)
        return self._built({"update_id": next(self._update_ids), kind: msg}, queue)

    def _user_message(
        self,
        chat_id: int,
        user_id: int,
        chat_type: str,
        language_code: str | None,
        *,
        chat_title: str | None = None,
        first_name: str | None = None,
        username: str | None = None,
        **content: Any,
    ) -> JSONDict:
        """A new message from a user: the chat's next message id, who sent it, where, when, and its `content`."""
        user = self._user(user_id, first_name=first_name, username=username, language_code=language_code)
        chat = self._chat_for_push(chat_id, chat_type, user, chat_title)
        return {"message_id": self._next_message_id(chat_id), "from": user, "chat": chat, "date": now(), **content}

    def push_message(
        self,
        text: str,
        chat_id: int,
        user_id: int,
        *,
        chat_type: str = "private",
        chat_title: str | None = None,
        language_code: str | None = "zh-hans",
        first_name: str | None = None,
        username: str | None = None,
        reply_to_message: JSONDict | int | None = None,
        entities: list[JSONDict] | None = None,
        queue: bool = True,
    ) -> JSONDict:
        """A ``message`` update with text, as a user would send it.

        Registers the message (so replies/edits referring to it work) and assigns the next
        message_id of the chat and the next update_id. Unless ``entities`` is given, bot_command
        and mention entities are detected with Telegram's rules (see ``detect_user_entities``).
        ``reply_to_message`` is a message dict or the id of a known message in this chat.
        """
        msg = self._user_message(
            chat_id,
            user_id,
            chat_type,
            language_code,
            chat_title=chat_title,
            first_name=first_name,
            username=username,
            text=text,
        )
        found = detect_user_entities(text) if entities is None else copy.deepcopy(entities)
        if found:
            msg["entities"] = found
        if reply_to_message is not None:
            msg["reply_to_message"] = self._reply_target(chat_id, reply_to_message)
        return self._sent(msg, queue)

    def push_edited_message(
        self,
        message_id: int,
        text: str,
        chat_id: int,
        user_id: int,
        *,
        chat_type: str = "private",
        language_code: str | None = "zh-hans",
        first_name: str | None = None,
        username: str | None = None,
        queue: bool = True,
    ) -> JSONDict:
        """An ``edited_message`` update for a message the user sent earlier."""
        user = self._user(user_id, first_name=first_name, username=username, language_code=language_code)
        original = self._messages.get((chat_id, message_id))
        chat = dict(original["chat"]) if original else self._chat_for_push(chat_id, chat_type, user, None)
        msg: JSONDict = {
            "message_id": message_id,
            "from": user,
            "chat": chat,
            "date": original["date"] if original else now(),
            "edit_date": now(),
            "text": text,
        }
        if found := detect_user_entities(text):
            msg["entities"] = found
        return self._sent(msg, queue, "edited_message")

    def push_callback_query(
        self,
        data: str,
        chat_id: int,
        user_id: int,
        message_id: int | None = None,
        *,
        message_text: str = "…",
        chat_type: str = "private",
        language_code: str | None = "zh-hans",
        first_name: str | None = None,
        username: str | None = None,
        queue: bool = True,
    ) -> JSONDict:
        """A ``callback_query`` update: the user pressed a button carrying ``data``.

        ``message_id`` defaults to the newest message the bot sent to the chat. If it names a
        message this server does not know, a bot message with ``message_text`` is registered so
        editing/answering it later behaves as in production.
        """
        user = self._user(user_id, first_name=first_name, username=username, language_code=language_code)
        if message_id is None:
            bot_msgs = [
                mid
                for (cid, mid), m in self._messages.items()
                if cid == chat_id and m.get("from", {}).get("id") == self.bot_id
            ]
            if not bot_msgs:
                raise ValueError(f"the bot has not sent a message to chat {chat_id}; pass message_id")
            message_id = max(bot_msgs)
        msg = self._messages.get((chat_id, message_id))
        if msg is None:
            chat = self._chats.get(chat_id) or self._chat_for_push(chat_id, chat_type, user, None)
            msg = {
                "message_id": message_id,
                "from": dict(self.bot_user),
                "chat": dict(chat),
                "date": now(),
                "text": message_text,
            }
            self._store_message(msg)
        query_id = str(next(self._query_ids))
        self._callback_queries[query_id] = False
        query: JSONDict = {
            "id": query_id,
            "from": user,
            "message": copy.deepcopy(msg),
            "chat_instance": str((chat_id * 2654435761 + 97) % 10**19),
            "data": data,
        }
        return self._built({"update_id": next(self._update_ids), "callback_query": query}, queue)

    def push_inline_query(
        self,
        query: str,
        user_id: int,
        offset: str = "",
        *,
        chat_type: str | None = "private",
        language_code: str | None = "zh-hans",
        first_name: str | None = None,
        username: str | None = None,
        queue: bool = True,
    ) -> JSONDict:
        """An ``inline_query`` update (the user typed ``@bot query``)."""
        user = self._user(user_id, first_name=first_name, username=username, language_code=language_code)
        query_id = str(next(self._query_ids))
        self._inline_queries[query_id] = False
        inline: JSONDict = {"id": query_id, "from": user, "query": query, "offset": offset}
        if chat_type is not None:
            inline["chat_type"] = chat_type
        return self._built({"update_id": next(self._update_ids), "inline_query": inline}, queue)

    def push_document(
        self,
        file_bytes: bytes | None,
        file_name: str,
        chat_id: int,
        user_id: int,
        mime_type: str | None = None,
        caption: str | None = None,
        *,
        file_size: int | None = None,
        chat_type: str = "private",
        language_code: str | None = "zh-hans",
        first_name: str | None = None,
        username: str | None = None,
        queue: bool = True,
    ) -> JSONDict:
        """A ``message`` update carrying a document; the file is registered for getFile.

        ``file_size`` overrides the size reported to the bot (e.g. 30 MB with ``file_bytes=None``
        to test the "file is too big" path without allocating memory).
        """
        if mime_type is None:
            mime_type = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        stored = self.register_file(file_bytes, file_name=file_name, mime_type=mime_type, file_size=file_size)
        msg = self._user_message(
            chat_id,
            user_id,
            chat_type,
            language_code,
            first_name=first_name,
            username=username,
            document=stored.document_json(),
        )
        if caption is not None:
            msg["caption"] = caption
            if found := detect_user_entities(caption):
                msg["caption_entities"] = found
        return self._sent(msg, queue)

    def push_photo(
        self,
        jpeg: bytes,
        width: int,
        height: int,
        chat_id: int,
        user_id: int,
        caption: str | None = None,
        *,
        chat_type: str = "private",
        language_code: str | None = "zh-hans",
        queue: bool = True,
    ) -> JSONDict:
        """A ``message`` update carrying a photo as Telegram sends one: the sizes it made, smallest first (a
        thumbnail, whose bytes are the same here, and the photo itself), each registered for getFile."""
        sizes = []
        for scale in (8, 1):
            stored = self.register_file(jpeg, mime_type="image/jpeg", kind="photos")
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": stored.file_size,
                    "width": max(1, width // scale),
                    "height": max(1, height // scale),
                }
            )
        msg = self._user_message(chat_id, user_id, chat_type, language_code, photo=sizes)
        if caption is not None:
            msg["caption"] = caption
        return self._sent(msg, queue)
