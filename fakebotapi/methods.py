"""The Bot API methods the fake implements, checked the way Telegram checks them (HTML, lengths, buttons, ids)."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import mimetypes
import re
from typing import Any, Final
from urllib.parse import urlsplit

from fakebotapi.records import (
    MAX_CALLBACK_DATA_BYTES,
    MAX_CAPTION_LENGTH,
    MAX_DOWNLOAD_SIZE,
    MAX_MESSAGE_LENGTH,
    BotApiError,
    Described,
    JSONDict,
    UploadedFile,
    bad_request,
    bool_param,
    client_gone,
    int_param,
    normalise_chat_id,
    now,
)
from fakebotapi.state import ALL_UPDATE_TYPES, DEFAULT_UPDATE_TYPES, BotState
from fakebotapi.text import EntityParseError, parse_html, utf16_len

_NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_QUERY_TOO_OLD: Final = "Bad Request: query is too old and response timeout expired or query ID is invalid"

_CHAT_ACTIONS: Final = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

# Inline keyboard buttons must carry exactly one of these; a button with only "text" is rejected.
_BUTTON_ACTIONS: Final = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


class Methods(BotState):
    """The method handlers of :class:`fakebotapi.FakeBotApi`: each takes the decoded parameters and returns the
    ``result`` or raises :class:`BotApiError`."""

    # ----------------------------------------------------------------------------- validation

    def _format_text(
        self, text: Any, parse_mode: Any, entities: Any, *, caption: bool = False
    ) -> tuple[str, list[JSONDict]]:
        """Apply parse_mode/entities and Telegram's length rules; return (plain text, entities)."""
        if text is None:
            text = ""
        if not isinstance(text, str):
            text = str(text)
        mode = parse_mode.lower() if isinstance(parse_mode, str) else ""
        if mode == "html":
            try:
                plain, parsed = parse_html(text, strict_ampersand=self.strict_ampersand)
            except EntityParseError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None
        elif mode in ("", "markdown", "markdownv2"):
            # Markdown is accepted but not parsed by this fake.
            plain, parsed = text, []
            if mode == "" and entities is not None:
                parsed = self._check_entities(entities, plain)
        else:
            raise bad_request(f"unsupported parse_mode {parse_mode!r}")
        length = utf16_len(plain)
        if caption:
            if length > MAX_CAPTION_LENGTH:
                raise bad_request("message caption is too long")
        else:
            if not plain.strip():
                raise bad_request("message text is empty")
            if length > MAX_MESSAGE_LENGTH:
                raise bad_request("message is too long")
        return plain, parsed

    @staticmethod
    def _check_entities(entities: Any, plain: str) -> list[JSONDict]:
        if not isinstance(entities, list):
            raise bad_request("can't parse entities JSON object")
        total = utf16_len(plain)
        checked: list[JSONDict] = []
        for ent in entities:
            if (
                not isinstance(ent, dict)
                or not isinstance(ent.get("type"), str)
                or not isinstance(ent.get("offset"), int)
                or not isinstance(ent.get("length"), int)
            ):
                raise bad_request("can't parse MessageEntity")
            if ent["offset"] < 0 or ent["length"] <= 0 or ent["offset"] + ent["length"] > total:
                continue  # Telegram silently drops entities outside the text
            checked.append(dict(ent))
        checked.sort(key=lambda e: (e["offset"], -e["length"]))
        return checked

    @staticmethod
    def _check_reply_markup(markup: Any) -> JSONDict | None:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return markup  # ReplyKeyboardMarkup / ReplyKeyboardRemove / ForceReply: accepted as is
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse inline keyboard button: InlineKeyboardButtons must be an Array")
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise bad_request("can't parse inline keyboard button: Text must be a String")
                actions = [key for key in _BUTTON_ACTIONS if key in button]
                if not actions:
                    raise bad_request("text buttons are unallowed in the inline keyboard")
                if "callback_data" in button:
                    data = button["callback_data"]
                    if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
                        raise bad_request("BUTTON_DATA_INVALID")
                if "url" in button:
                    url = button["url"]
                    parts = urlsplit(url) if isinstance(url, str) else None
                    valid = parts is not None and (
                        (parts.scheme in ("http", "https") and bool(parts.netloc)) or parts.scheme in ("tg", "ton")
                    )
                    if not valid:
                        raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
        return markup

    # ----------------------------------------------------------------------------- methods

    def _m_get_me(self, params: JSONDict) -> JSONDict:
        return dict(self.bot_user)

    def _m_close(self, params: JSONDict) -> bool:
        return True

    def _m_log_out(self, params: JSONDict) -> bool:
        return True

    def _confirm_updates(self, offset: int) -> None:
        if offset > 0:
            self._updates = [u for u in self._updates if int(u["update_id"]) >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

    def _deliverable(self, limit: int) -> list[JSONDict]:
        # Telegram never creates updates of disallowed types, so they are dropped, not skipped.
        kept = []
        for update in self._updates:
            kind = next((k for k in update if k != "update_id"), None)
            if kind in self._allowed_updates:
                kept.append(update)
        self._updates = kept
        return copy.deepcopy(kept[:limit])

    async def _m_get_updates(self, params: JSONDict) -> list[JSONDict]:
        if self._webhook:
            raise BotApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int_param(params, "offset", 0)
        limit = min(max(int_param(params, "limit", 100), 1), 100)
        try:
            timeout = float(params.get("timeout") or 0)
        except (TypeError, ValueError):
            raise bad_request('wrong parameter "timeout" in request') from None
        allowed = params.get("allowed_updates")
        if allowed is not None:
            if not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed):
                raise bad_request("can't parse allowed updates")
            self._allowed_updates = frozenset(allowed) & ALL_UPDATE_TYPES or DEFAULT_UPDATE_TYPES
        self._confirm_updates(offset)

        # A newer getUpdates terminates a pending one, like Telegram does (only one poller).
        self._poll_generation += 1
        generation = self._poll_generation
        self._signal_updates()

        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout, 0.0)
        while True:
            if generation != self._poll_generation:
                if client_gone():
                    # An abandoned poll (PTB cancels its long poll on stop): nobody to tell.
                    return []
                raise BotApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )
            batch = self._deliverable(limit)
            if batch or self._closing.is_set():
                return batch
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            changed = self._updates_changed
            self._parked_polls += 1
            parked, self._parked_changed = self._parked_changed, asyncio.Event()
            parked.set()
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), remaining)
            finally:
                self._parked_polls -= 1

    def _m_set_webhook(self, params: JSONDict) -> Described:
        url = params.get("url") or ""
        if not isinstance(url, str):
            raise bad_request("bad webhook: wrong url")
        if bool_param(params, "drop_pending_updates"):
            self._updates.clear()
        if not url:
            self._webhook = None
            return Described(True, "Webhook was deleted")
        parts = urlsplit(url)
        # Telegram demands HTTPS on ports 443/80/88/8443; the fake accepts plain HTTP so a test
        # can point it at PTB's local webhook server.
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) & ALL_UPDATE_TYPES or DEFAULT_UPDATE_TYPES
        self._webhook = {
            "url": url,
            "secret_token": params.get("secret_token"),
            "max_connections": int_param(params, "max_connections", 40),
            "ip_address": params.get("ip_address"),
        }
        self._signal_updates()  # terminates a pending getUpdates through the conflict check
        return Described(True, "Webhook was set")

    def _m_delete_webhook(self, params: JSONDict) -> Described:
        if bool_param(params, "drop_pending_updates"):
            self._updates.clear()
        was_set = self._webhook is not None
        self._webhook = None
        return Described(True, "Webhook was deleted" if was_set else "Webhook is already deleted")

    def _m_get_webhook_info(self, params: JSONDict) -> JSONDict:
        info: JSONDict = {
            "url": self._webhook["url"] if self._webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook:
            info["max_connections"] = self._webhook["max_connections"]
            if self._webhook.get("ip_address"):
                info["ip_address"] = self._webhook["ip_address"]
            if self._allowed_updates != DEFAULT_UPDATE_TYPES:
                info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        if scope is None:
            scope = {"type": "default"}
        if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
            raise bad_request("can't parse BotCommandScope")
        lang = language_code if isinstance(language_code, str) else ""
        return json.dumps(scope, sort_keys=True), lang

    def _m_set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("too many commands")
        checked: list[JSONDict] = []
        for cmd in commands:
            if not isinstance(cmd, dict):
                raise bad_request("can't parse BotCommand")
            name, description = cmd.get("command"), cmd.get("description")
            if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            checked.append({"command": name, "description": description})
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        if checked:
            self._commands[key] = checked
        else:
            self._commands.pop(key, None)
        return True

    def _m_get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        return copy.deepcopy(self._commands.get(key, []))

    def _m_delete_my_commands(self, params: JSONDict) -> bool:
        self._commands.pop(self._commands_key(params.get("scope"), params.get("language_code")), None)
        return True

    def _reply_to(self, chat_id: int, params: JSONDict) -> JSONDict | None:
        reply = params.get("reply_parameters")
        target: Any = None
        allow_missing = bool_param(params, "allow_sending_without_reply")
        if isinstance(reply, dict):
            target = reply.get("message_id")
            allow_missing = allow_missing or bool(reply.get("allow_sending_without_reply"))
            if reply.get("chat_id") is not None:
                other = normalise_chat_id(reply.get("chat_id"))
                if isinstance(other, int):
                    chat_id = other
        elif params.get("reply_to_message_id") is not None:
            target = params.get("reply_to_message_id")
        if target is None:
            return None
        stored = self._messages.get((chat_id, int_param({"message_id": target}, "message_id")))
        if stored is None:
            if allow_missing:
                return None
            raise bad_request("message to be replied not found")
        reply_msg = copy.deepcopy(stored)
        reply_msg.pop("reply_to_message", None)
        return reply_msg

    def _bot_message(self, chat_id: int, **content: Any) -> JSONDict:
        msg: JSONDict = {
            "message_id": self._next_message_id(chat_id),
            "from": dict(self.bot_user),
            "chat": self._chat_for_send(chat_id),
            "date": now(),
        }
        msg.update({k: v for k, v in content.items() if v is not None and v != []})
        return msg

    @staticmethod
    def _echo_markup(markup: JSONDict | None) -> JSONDict | None:
        # Telegram only echoes inline keyboards inside the returned Message.
        return copy.deepcopy(markup) if markup is not None and "inline_keyboard" in markup else None

    def _m_send_message(self, params: JSONDict) -> JSONDict:
        chat_id = self._resolve_chat_id(params)
        text, entities = self._format_text(params.get("text"), params.get("parse_mode"), params.get("entities"))
        markup = self._check_reply_markup(params.get("reply_markup"))
        reply = self._reply_to(chat_id, params)
        msg = self._bot_message(
            chat_id,
            reply_to_message=reply,
            text=text,
            entities=entities,
            reply_markup=self._echo_markup(markup),
        )
        self._store_message(msg)
        return msg

    def _editable_message(self, params: JSONDict) -> tuple[JSONDict, tuple[int, int] | None]:
        inline_id = params.get("inline_message_id")
        if inline_id:
            stored = self._inline_messages.setdefault(str(inline_id), {})
            return stored, None
        chat_id = self._resolve_chat_id(params)
        if params.get("message_id") is None:
            raise bad_request("message identifier is not specified")
        message_id = int_param(params, "message_id")
        stored_msg = self._messages.get((chat_id, message_id))
        if stored_msg is None:
            raise bad_request("message to edit not found")
        if stored_msg.get("from", {}).get("id") != self.bot_id:
            raise bad_request("message can't be edited")
        return stored_msg, (chat_id, message_id)

    @staticmethod
    def _edited(stored: JSONDict, key: tuple[int, int] | None, markup: JSONDict | None) -> JSONDict | bool:
        """Give an edited message its new keyboard (none removes it, as on Telegram) and answer as Telegram does:
        True for an inline message, else the message with its edit date."""
        stored.pop("reply_markup", None)
        if markup is not None:
            stored["reply_markup"] = markup
        if key is None:
            return True
        stored["edit_date"] = now()
        return copy.deepcopy(stored)

    def _m_edit_message_text(self, params: JSONDict) -> JSONDict | bool:
        stored, key = self._editable_message(params)
        text, entities = self._format_text(params.get("text"), params.get("parse_mode"), params.get("entities"))
        markup = self._echo_markup(self._check_reply_markup(params.get("reply_markup")))
        if key is not None and "text" not in stored:
            raise bad_request("there is no text in the message to edit")
        if (
            stored.get("text") == text
            and stored.get("entities", []) == entities
            and stored.get("reply_markup") == markup
        ):
            raise bad_request(_NOT_MODIFIED)
        stored["text"] = text
        stored.pop("entities", None)
        if entities:
            stored["entities"] = entities
        return self._edited(stored, key, markup)

    def _m_edit_message_reply_markup(self, params: JSONDict) -> JSONDict | bool:
        stored, key = self._editable_message(params)
        markup = self._echo_markup(self._check_reply_markup(params.get("reply_markup")))
        if stored.get("reply_markup") == markup:
            raise bad_request(_NOT_MODIFIED)
        return self._edited(stored, key, markup)

    def _m_delete_message(self, params: JSONDict) -> bool:
        chat_id = self._resolve_chat_id(params)
        if params.get("message_id") is None:
            raise bad_request("message identifier is not specified")
        if self._messages.pop((chat_id, int_param(params, "message_id")), None) is None:
            raise bad_request("message to delete not found")
        return True

    @staticmethod
    def _unanswered(queries: dict[str, bool], params: JSONDict, name: str) -> str:
        """The id of the query `params` answer, which must be one asked and not answered yet."""
        query_id = params.get(name)
        if not query_id:
            raise bad_request(f'parameter "{name}" is required')
        if queries.get(str(query_id)) is not False:
            raise bad_request(_QUERY_TOO_OLD)
        return str(query_id)

    def _m_answer_callback_query(self, params: JSONDict) -> bool:
        query_id = self._unanswered(self._callback_queries, params, "callback_query_id")
        text = params.get("text")
        if isinstance(text, str) and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        self._callback_queries[query_id] = True
        return True

    def _m_answer_inline_query(self, params: JSONDict) -> bool:
        query_id = self._unanswered(self._inline_queries, params, "inline_query_id")
        results = params.get("results")
        if not isinstance(results, list):
            raise bad_request("can't parse inline query results JSON object")
        if len(results) > 50:
            raise bad_request("RESULTS_TOO_MUCH")
        next_offset = params.get("next_offset")
        if isinstance(next_offset, str) and len(next_offset.encode("utf-8")) > 64:
            raise bad_request("NEXT_OFFSET_INVALID")
        seen: set[str] = set()
        for result in results:
            if not isinstance(result, dict) or not isinstance(result.get("type"), str):
                raise bad_request("can't parse InlineQueryResult")
            result_id = result.get("id")
            if not isinstance(result_id, str) or not 1 <= len(result_id.encode("utf-8")) <= 64:
                raise bad_request("RESULT_ID_INVALID")
            if result_id in seen:
                raise bad_request("RESULT_ID_DUPLICATE")
            seen.add(result_id)
            content = result.get("input_message_content")
            if isinstance(content, dict) and "message_text" in content:
                self._format_text(content.get("message_text"), content.get("parse_mode"), content.get("entities"))
            self._check_reply_markup(result.get("reply_markup"))
        self._inline_queries[query_id] = True
        return True

    def _m_send_chat_action(self, params: JSONDict) -> bool:
        self._resolve_chat_id(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def _m_send_document(self, params: JSONDict) -> JSONDict:
        chat_id = self._resolve_chat_id(params)
        document = params.get("document")
        if isinstance(document, UploadedFile):
            if not document.data:
                raise bad_request("file must be non-empty")
            file_name = document.filename
            mime = document.content_type
            if not mime or mime == "application/octet-stream":
                mime = (mimetypes.guess_type(file_name)[0] if file_name else None) or mime
            stored = self.register_file(document.data, file_name=file_name, mime_type=mime)
        elif isinstance(document, str) and document in self._files:
            stored = self._files[document]
        elif isinstance(document, str) and urlsplit(document).scheme in ("http", "https"):
            name = urlsplit(document).path.rsplit("/", 1)[-1] or "file"
            stored = self.register_file(None, file_name=name, file_size=0)
        elif document is None or document == "":
            raise bad_request('parameter "document" is required')
        else:
            raise bad_request("wrong file identifier/HTTP URL specified")
        caption, caption_entities = self._caption(params)
        markup = self._check_reply_markup(params.get("reply_markup"))
        reply = self._reply_to(chat_id, params)
        msg = self._bot_message(
            chat_id,
            reply_to_message=reply,
            document=stored.document_json(),
            caption=caption or None,
            caption_entities=caption_entities,
            reply_markup=self._echo_markup(markup),
        )
        self._store_message(msg)
        return msg

    def _caption(self, params: JSONDict) -> tuple[str | None, list[JSONDict]]:
        """A media message's caption and its entities, checked as Telegram checks captions."""
        if params.get("caption") is None:
            return None, []
        return self._format_text(
            params["caption"], params.get("parse_mode"), params.get("caption_entities"), caption=True
        )

    def _m_send_photo(self, params: JSONDict) -> JSONDict:
        # an uploaded photo must be an image Telegram can read (PNG, JPEG, GIF or WebP by its first bytes)
        chat_id = self._resolve_chat_id(params)
        photo = params.get("photo")
        if not isinstance(photo, UploadedFile):
            raise bad_request('parameter "photo" is required' if not photo else "wrong file identifier specified")
        if not photo.data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF8", b"RIFF")):
            raise bad_request("IMAGE_PROCESS_FAILED")
        stored = self.register_file(photo.data, file_name=photo.filename, mime_type="image/png")
        caption, caption_entities = self._caption(params)
        markup = self._check_reply_markup(params.get("reply_markup"))
        reply = self._reply_to(chat_id, params)
        size = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "file_size": stored.file_size}
        msg = self._bot_message(
            chat_id,
            reply_to_message=reply,
            photo=[{**size, "width": 1, "height": 1}],
            caption=caption or None,
            caption_entities=caption_entities,
            reply_markup=self._echo_markup(markup),
        )
        self._store_message(msg)
        return msg

    def _m_get_file(self, params: JSONDict) -> JSONDict:
        file_id = params.get("file_id")
        if not file_id:
            raise bad_request('parameter "file_id" is required')
        stored = self._files.get(str(file_id))
        if stored is None:
            raise bad_request("invalid file_id")
        if stored.file_size > MAX_DOWNLOAD_SIZE:
            raise bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }
