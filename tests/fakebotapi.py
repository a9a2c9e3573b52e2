"""A fake Telegram Bot API server for end-to-end tests.

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
  documents) that the bot receives through ``getUpdates`` long polling, or build the same update
  JSON for webhook tests;
* injects faults: HTTP 429/5xx/403/400 answers, dropped connections and delays.

Typical use (``tests`` wraps :func:`running_fake_bot_api` in a fixture)::

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

from __future__ import annotations

import asyncio
import contextlib
import copy
import inspect
import itertools
import json
import logging
import mimetypes
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Final, Literal, TypeAlias
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

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

JSONDict: TypeAlias = dict[str, Any]
CallPredicate: TypeAlias = Callable[["Call"], bool]
MethodHandler: TypeAlias = Callable[[JSONDict], Awaitable[Any] | Any]

_LOGGER = logging.getLogger(__name__)

#: A syntactically valid token (``<bot id>:<secret>``); the bot id is the part before the colon.
DEFAULT_TOKEN: Final = "123456789:AAFakeReportbotTestToken_0123456789abc"
BOT_USERNAME: Final = "reportbot_test_bot"
BOT_FIRST_NAME: Final = "ReportBot Test"

#: Telegram limits, counted like Telegram counts them (UTF-16 code units / UTF-8 bytes).
MAX_MESSAGE_LENGTH: Final = 4096
MAX_CAPTION_LENGTH: Final = 1024
MAX_CALLBACK_DATA_BYTES: Final = 64
#: Bots may only download files up to 20 MB through getFile.
MAX_DOWNLOAD_SIZE: Final = 20 * 1024 * 1024

_NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_QUERY_TOO_OLD: Final = "Bad Request: query is too old and response timeout expired or query ID is invalid"

# Update types Telegram delivers when allowed_updates is empty / was never set.
_ALL_UPDATE_TYPES: Final = frozenset(
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
_DEFAULT_UPDATE_TYPES: Final = _ALL_UPDATE_TYPES - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}

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

# PTB sends every parameter form-encoded: ``str`` values verbatim and everything else
# JSON-encoded (see telegram/request/_requestparameter.py ``json_value``). A form value therefore
# does not say whether "123" was the int 123 or the string "123"; parameters that are strings in
# the Bot API are kept verbatim, all others are JSON-decoded when they parse as JSON.
_STRING_PARAMS: Final = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_query_id",
        "inline_message_id",
        "url",
        "secret_token",
        "ip_address",
        "next_offset",
        "language_code",
        "file_id",
        "action",
        "query",
        "data",
        "title",
        "description",
        "short_description",
        "name",
        "emoji",
        "business_connection_id",
        "message_effect_id",
        "switch_pm_text",
        "switch_pm_parameter",
        "document",
        "photo",
        "audio",
        "video",
        "voice",
        "animation",
        "sticker",
        "thumbnail",
        "first_name",
        "last_name",
        "phone_number",
        "vcard",
        "question",
        "explanation",
        "address",
        "payload",
        "currency",
        "provider_token",
        "start_parameter",
        "game_short_name",
        "invite_link",
        "custom_emoji_id",
    }
)

# The request being handled, so method handlers can tell whether the client is still connected.
_CURRENT_REQUEST: ContextVar[web.Request | None] = ContextVar("fakebotapi_current_request", default=None)

_WORD_CHAR_RE: Final = re.compile(r"\w")
_BOT_COMMAND_RE: Final = re.compile(r"/([A-Za-z0-9_]{1,64})(@[A-Za-z0-9_]{3,32})?")
_MENTION_RE: Final = re.compile(r"@([A-Za-z0-9_]{2,32})")


# --------------------------------------------------------------------------------------------
# Errors and records
# --------------------------------------------------------------------------------------------


class BotApiError(Exception):
    """An error answer of the Bot API: raised by method handlers, turned into an HTTP response.

    The HTTP status equals ``error_code`` exactly like on api.telegram.org, because PTB picks the
    exception class from the HTTP status and the message from ``description``.
    """

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JSONDict:
        """The JSON body Telegram sends for this error."""
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = dict(self.parameters)
        return body


class EntityParseError(ValueError):
    """Raised by :func:`parse_html` with Telegram's wording of what is wrong with the markup."""


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file part of a multipart request (e.g. ``document`` of sendDocument)."""

    filename: str | None
    content_type: str | None
    data: bytes


@dataclass(slots=True)
class StoredFile:
    """A file the server knows: pushed by a test as a user's document, or uploaded by the bot.

    ``data`` is ``None`` for files whose content a test did not provide (e.g. to simulate an
    oversized upload by only giving ``file_size``); downloading such a file answers 404.
    """

    file_id: str
    file_unique_id: str
    file_path: str
    file_size: int
    file_name: str | None = None
    mime_type: str | None = None
    data: bytes | None = None

    def document_json(self) -> JSONDict:
        """The ``Document`` object as it appears inside a message."""
        doc: JSONDict = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
        }
        if self.file_name is not None:
            doc["file_name"] = self.file_name
        if self.mime_type is not None:
            doc["mime_type"] = self.mime_type
        return doc


@dataclass(frozen=True, slots=True)
class Call:
    """One request the bot made (or tried to make) to the server.

    ``response_status`` is the HTTP status that was sent, or 0 when the connection was dropped
    by :meth:`FakeBotApi.drop_next`; ``client_gone`` says the client had already disconnected
    (e.g. PTB timed out during :meth:`FakeBotApi.delay_next`), so nobody saw the answer although
    the call took effect. ``params`` are decoded into Python values (``chat_id`` is an
    int, ``reply_markup``/``entities``/``results`` are dicts/lists, uploaded files are
    :class:`UploadedFile`). ``seq`` increases over the server's lifetime (``clear`` keeps
    counting) so tests can ask for calls made after a point, see :meth:`FakeBotApi.mark`.
    """

    method: str
    params: JSONDict
    response_status: int
    response: JSONDict | None = None
    seq: int = 0
    http_method: str = "POST"
    client_gone: bool = False
    at: float = 0.0  # time.perf_counter() when the server recorded the call (for latency measurements)

    @property
    def ok(self) -> bool:
        """Whether Telegram would have answered ``"ok": true``."""
        return self.response_status == 200 and bool(self.response and self.response.get("ok"))

    @property
    def result(self) -> Any:
        """The ``result`` field of a successful answer (e.g. the sent Message dict), else None."""
        return self.response.get("result") if self.response else None

    @property
    def description(self) -> str | None:
        """The error description of a failed answer, else None."""
        return self.response.get("description") if self.response else None

    @property
    def chat_id(self) -> int | str | None:
        """The ``chat_id`` parameter, normalised to int when numeric."""
        return _normalise_chat_id(self.params.get("chat_id"))

    @property
    def text(self) -> str | None:
        """The ``text`` parameter as the bot sent it (still HTML when parse_mode was HTML)."""
        value = self.params.get("text")
        return value if isinstance(value, str) else None


@dataclass(slots=True)
class _Fault:
    kind: Literal["fail", "drop", "delay"]
    method: str  # lower-case method name or "*"
    remaining: int
    chat_id: int | str | None = None
    status: int = 500
    description: str = ""
    retry_after: int | None = None
    seconds: float = 0.0

    def matches(self, method: str, params: Mapping[str, Any]) -> bool:
        if self.method not in ("*", method.lower()):
            return False
        return self.chat_id is None or _normalise_chat_id(params.get("chat_id")) == self.chat_id

    def error(self) -> BotApiError:
        parameters = {"retry_after": self.retry_after} if self.retry_after is not None else None
        return BotApiError(self.status, self.description, parameters)


@dataclass(frozen=True, slots=True)
class _Described:
    """A method result plus the ``description`` Telegram adds (e.g. "Webhook was set")."""

    result: Any
    description: str


@dataclass(slots=True)
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int
    out_index: int


# --------------------------------------------------------------------------------------------
# Telegram text rules
# --------------------------------------------------------------------------------------------


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: how Telegram measures text limits and entity offsets."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _byte_offset(text: str, index: int) -> int:
    # Telegram reports HTML errors at UTF-8 byte offsets of the original text.
    return len(text[:index].encode("utf-8", "surrogatepass"))


def _is_space(ch: str) -> bool:
    # Mirrors tdlib's is_space, where the terminating NUL counts as space; "" is end of text.
    return ch == "" or ch in " \t\r\n\v\0"


def _decode_html_entity(text: str, pos: int) -> tuple[int, int] | None:
    """Decode the entity at ``text[pos] == '&'`` like Telegram: (code point, end) or None.

    Only &lt; &gt; &amp; &quot; and numeric references are entities; the ';' is optional.
    """
    n = len(text)
    end = pos + 1
    value = 0
    if end < n and text[end] == "#":
        end += 1
        if end < n and text[end] == "x":
            end += 1
            while end < n and text[end] in "0123456789abcdefABCDEF":
                value = value * 16 + int(text[end], 16)
                end += 1
        else:
            while end < n and text[end] in "0123456789":
                value = value * 10 + int(text[end])
                end += 1
        if value == 0 or value >= 0x10FFFF or end - pos >= 10:
            return None
    else:
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        named = {"lt": 0x3C, "gt": 0x3E, "amp": 0x26, "quot": 0x22}.get(text[pos + 1 : end])
        if named is None:
            return None
        value = named
    if end < n and text[end] == ";":
        end += 1
    return value, end


_SIMPLE_TAG_ENTITIES: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_SUPPORTED_TAGS: Final = frozenset({*_SIMPLE_TAG_ENTITIES, "a", "code", "pre", "blockquote", "tg-emoji"})


def parse_html(text: str, *, strict_ampersand: bool = True) -> tuple[str, list[JSONDict]]:
    """Parse Bot API HTML into (plain text, MessageEntity dicts) or raise EntityParseError.

    Follows tdlib's ``parse_html`` (the code behind Telegram's parse_mode "HTML"): the supported
    tags, attribute syntax, the optional ';' of entities, ``<pre><code class="language-x">``
    merging, ``<blockquote expandable>``, and the error messages with UTF-8 byte offsets. Offsets
    and lengths of the returned entities are in UTF-16 code units. With ``strict_ampersand`` a
    '&' that does not start an entity is an error (Telegram would keep it literally).
    """
    n = len(text)
    out: list[str] = []
    utf16 = 0
    entities: list[JSONDict] = []
    stack: list[_OpenTag] = []

    def at(k: int) -> str:
        return text[k] if k < n else ""

    i = 0
    while i < n:
        c = text[i]
        if c == "&":
            decoded = _decode_html_entity(text, i)
            if decoded is not None:
                code, i = decoded
                if 0xD800 <= code <= 0xDFFF:
                    raise EntityParseError(
                        "Text contains invalid Unicode characters after decoding HTML entities, "
                        "check for unmatched surrogate code units"
                    )
                out.append(chr(code))
                utf16 += 2 if code > 0xFFFF else 1
                continue
            if strict_ampersand:
                raise EntityParseError(
                    f'Character "&" is reserved and must be escaped as "&amp;" at byte offset {_byte_offset(text, i)}'
                )
        if c != "<":
            out.append(c)
            utf16 += 2 if ord(c) > 0xFFFF else 1
            i += 1
            continue

        begin = i
        offset = _byte_offset(text, begin)
        i += 1
        if at(i) != "/":
            # Start tag: name up to whitespace or '>'.
            while not _is_space(at(i)) and at(i) != ">":
                i += 1
            if i >= n:
                raise EntityParseError(f"Unclosed start tag at byte offset {offset}")
            tag = text[begin + 1 : i].lower()
            if tag not in _SUPPORTED_TAGS:
                raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {offset}')
            argument = ""
            while at(i) != ">":
                while i < n and _is_space(at(i)):
                    i += 1
                if at(i) == ">":
                    break
                attr_begin = i
                while not _is_space(at(i)) and at(i) not in ("=", ">"):
                    i += 1
                attr_name = text[attr_begin:i]
                if not attr_name:
                    raise EntityParseError(f'Empty attribute name in the tag "{tag}" at byte offset {offset}')
                while i < n and _is_space(at(i)):
                    i += 1
                if at(i) != "=":
                    if tag == "blockquote" and attr_name.lower() == "expandable":
                        argument = "expandable"
                        continue
                    raise EntityParseError(
                        f'Expected equal sign in declaration of an attribute of the tag "{tag}" at byte offset {offset}'
                    )
                i += 1
                while i < n and _is_space(at(i)):
                    i += 1
                if i >= n:
                    raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {offset}')
                if at(i) not in ("'", '"'):
                    # An unquoted name token: letters, digits, '.' and '-'.
                    token_begin = i
                    while at(i) and ((at(i).isascii() and at(i).isalnum()) or at(i) in (".", "-")):
                        i += 1
                    value = text[token_begin:i].lower()
                    if not _is_space(at(i)) and at(i) != ">":
                        raise EntityParseError(
                            f"Unexpected end of name token at byte offset {_byte_offset(text, token_begin)}"
                        )
                else:
                    quote = text[i]
                    i += 1
                    chars: list[str] = []
                    while i < n and text[i] != quote:
                        if text[i] == "&":
                            decoded = _decode_html_entity(text, i)
                            if decoded is not None:
                                chars.append(chr(decoded[0]))
                                i = decoded[1]
                                continue
                        chars.append(text[i])
                        i += 1
                    if i < n:
                        i += 1
                    value = "".join(chars)
                if i >= n:
                    raise EntityParseError(f"Unclosed start tag at byte offset {offset}")
                if tag == "a" and attr_name == "href":
                    argument = value
                elif tag == "code" and attr_name == "class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and attr_name == "class" and value.startswith("tg-"):
                    argument = value[len("tg-") :]
                elif tag == "tg-emoji" and attr_name == "emoji-id":
                    argument = value
                elif tag == "blockquote" and attr_name == "expandable":
                    argument = "expandable"
            i += 1  # the '>'
            if tag == "span" and argument != "spoiler":
                raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
            stack.append(_OpenTag(tag, argument, utf16, len(out)))
            continue

        # End tag.
        if not stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {offset}")
        i += 1
        name_begin = i
        while not _is_space(at(i)) and at(i) != ">":
            i += 1
        end_name = text[name_begin:i].lower()
        while i < n and _is_space(at(i)):
            i += 1
        if at(i) != ">":
            raise EntityParseError(f"Unclosed end tag at byte offset {offset}")
        i += 1
        top = stack[-1]
        if end_name and end_name != top.name:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {offset}, expected "</{top.name}>", found "</{end_name}>"'
            )
        stack.pop()
        length = utf16 - top.utf16_offset
        if length <= 0:
            continue
        entity: JSONDict = {"offset": top.utf16_offset, "length": length}
        last = entities[-1] if entities else None
        same_range = last is not None and last["offset"] == top.utf16_offset and last["length"] == length
        if top.name in _SIMPLE_TAG_ENTITIES:
            entities.append({"type": _SIMPLE_TAG_ENTITIES[top.name], **entity})
        elif top.name == "tg-emoji":
            if not top.argument.isdigit() or int(top.argument) == 0:
                raise EntityParseError("Invalid custom emoji identifier specified")
            entities.append({"type": "custom_emoji", **entity, "custom_emoji_id": top.argument})
        elif top.name == "a":
            url = top.argument or "".join(out[top.out_index :])
            user_match = re.fullmatch(r"tg://user\?id=(\d+)", url)
            if user_match:
                user = {"id": int(user_match.group(1)), "is_bot": False, "first_name": ""}
                entities.append({"type": "text_mention", **entity, "user": user})
            elif url:
                entities.append({"type": "text_link", **entity, "url": url})
        elif top.name == "pre":
            if last is not None and same_range and last["type"] == "code" and last.get("_language"):
                last["type"] = "pre"
                last["language"] = last.pop("_language")
            else:
                entities.append({"type": "pre", **entity})
        elif top.name == "code":
            if last is not None and same_range and last["type"] == "pre" and top.argument:
                last["language"] = top.argument
            else:
                entities.append({"type": "code", **entity, "_language": top.argument})
        else:  # blockquote
            kind = "expandable_blockquote" if top.argument == "expandable" else "blockquote"
            entities.append({"type": kind, **entity})
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    for ent in entities:
        ent.pop("_language", None)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _detect_user_entities(text: str) -> list[JSONDict]:
    """Entities Telegram adds to a user's plain text: bot commands and @mentions.

    Uses Telegram's boundaries: a command or mention must not touch a word character (letters
    incl. CJK, digits, '_'), so "/ask什么" is *not* a command while "/ask 什么" is.
    """
    entities: list[JSONDict] = []

    def is_word(ch: str) -> bool:
        return bool(ch) and _WORD_CHAR_RE.match(ch) is not None

    def utf16_offset(index: int) -> int:
        return utf16_len(text[:index])

    for m in _BOT_COMMAND_RE.finditer(text):
        before = text[m.start() - 1] if m.start() > 0 else ""
        after = text[m.end()] if m.end() < len(text) else ""
        if is_word(before) or before in ("/", "<", ">"):
            continue
        if is_word(after) or after in ("/", "<", ">"):
            continue
        entities.append({"type": "bot_command", "offset": utf16_offset(m.start()), "length": utf16_len(m[0])})
    for m in _MENTION_RE.finditer(text):
        before = text[m.start() - 1] if m.start() > 0 else ""
        after = text[m.end()] if m.end() < len(text) else ""
        if is_word(before) or is_word(after):
            continue
        entities.append({"type": "mention", "offset": utf16_offset(m.start()), "length": utf16_len(m[0])})
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return entities


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _normalise_chat_id(value: Any) -> int | str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        stripped = value.strip()
        if re.fullmatch(r"-?\d+", stripped):
            return int(stripped)
        return stripped
    return None


def _decode_form_value(name: str, raw: str) -> Any:
    if name in _STRING_PARAMS:
        return raw
    try:
        decoded = json.loads(raw)
    except ValueError:
        return raw
    # PTB never JSON-encodes plain strings, so a JSON string literal means the raw text was meant.
    return raw if isinstance(decoded, str) else decoded


def _client_gone() -> bool:
    request = _CURRENT_REQUEST.get()
    if request is None:
        return False
    transport = request.transport
    return transport is None or transport.is_closing()


def _now() -> int:
    return int(time.time())


def _bad_request(what: str) -> BotApiError:
    return BotApiError(400, f"Bad Request: {what}")


def _int_param(params: Mapping[str, Any], name: str, default: int | None = None) -> int:
    value = params.get(name, default)
    if isinstance(value, bool):
        raise _bad_request(f'wrong parameter "{name}" in request')
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    if value is None:
        raise _bad_request(f'parameter "{name}" is required')
    raise _bad_request(f'wrong parameter "{name}" in request')


def _bool_param(params: Mapping[str, Any], name: str) -> bool:
    value = params.get(name, False)
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)


def _default_error_description(status: int) -> str:
    defaults = {
        400: "Bad Request: injected failure",
        401: "Unauthorized",
        403: "Forbidden: bot was blocked by the user",
        404: "Not Found",
        409: "Conflict: injected failure",
        500: "Internal Server Error",
        502: "Bad Gateway",
    }
    if status in defaults:
        return defaults[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class FakeBotApi:
    """In-process fake of api.telegram.org for one bot token.

    Implemented methods: getMe, getUpdates, setWebhook, deleteWebhook, getWebhookInfo,
    setMyCommands, getMyCommands, deleteMyCommands, sendMessage, editMessageText,
    editMessageReplyMarkup, deleteMessage, answerCallbackQuery, answerInlineQuery,
    sendChatAction, sendDocument, sendPhoto, getFile, close, logOut, plus the file download route.
    Method names are case-insensitive like Telegram's; calls are recorded with the canonical name.

    All state lives in the instance; nothing is shared between instances, so each test gets a
    clean "Telegram". The server must be started inside the event loop the test runs in
    (``async with FakeBotApi() as api`` or :func:`running_fake_bot_api`).
    """

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
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._closing = asyncio.Event()

        # Recorded calls, and an event replaced after every record so waiters wake up.
        self._calls: list[Call] = []
        self._next_seq = 0
        self._calls_changed = asyncio.Event()
        #: Unexpected exceptions inside the fake itself (answered with HTTP 500); tests may
        #: assert this stays empty.
        self.server_errors: list[BaseException] = []

        # Update queue for getUpdates.
        self._updates: list[JSONDict] = []
        self._update_ids = itertools.count(first_update_id)
        self._updates_changed = asyncio.Event()
        self._allowed_updates: frozenset[str] = _DEFAULT_UPDATE_TYPES
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

        # Fault injection.
        self._faults: list[_Fault] = []
        self._blocked: dict[int | str, str] = {}

        self._methods: dict[str, tuple[str, MethodHandler]] = {}
        for name, handler in (
            ("getMe", self._m_get_me),
            ("getUpdates", self._m_get_updates),
            ("setWebhook", self._m_set_webhook),
            ("deleteWebhook", self._m_delete_webhook),
            ("getWebhookInfo", self._m_get_webhook_info),
            ("setMyCommands", self._m_set_my_commands),
            ("getMyCommands", self._m_get_my_commands),
            ("deleteMyCommands", self._m_delete_my_commands),
            ("sendMessage", self._m_send_message),
            ("editMessageText", self._m_edit_message_text),
            ("editMessageReplyMarkup", self._m_edit_message_reply_markup),
            ("deleteMessage", self._m_delete_message),
            ("answerCallbackQuery", self._m_answer_callback_query),
            ("answerInlineQuery", self._m_answer_inline_query),
            ("sendChatAction", self._m_send_chat_action),
            ("sendDocument", self._m_send_document),
            ("sendPhoto", self._m_send_photo),
            ("getFile", self._m_get_file),
            ("close", self._m_close),
            ("logOut", self._m_log_out),
        ):
            self.register_method(name, handler)

    # ----------------------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Bind to ``host`` on a random free port and start serving."""
        if self._runner is not None:
            raise RuntimeError("FakeBotApi is already running")
        # Uploads are held in memory; allow more than aiohttp's 1 MB default (Telegram: 50 MB).
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_route("GET", "/file/bot{token}/{file_path:.+}", self._handle_file)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, 0)
        await site.start()
        self._runner = runner
        address = runner.addresses[0]
        self._port = int(address[1])
        self._closing.clear()

    async def stop(self) -> None:
        """Stop serving; pending long polls and delays end immediately."""
        if self._runner is None:
            return
        self._closing.set()
        self._signal_updates()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The TCP port the server listens on (only while running)."""
        if self._port is None:
            raise RuntimeError("FakeBotApi is not running")
        return self._port

    @property
    def url(self) -> str:
        """Root URL of the server, e.g. ``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)`` / ``Bot(base_url=...)``; PTB appends the token."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)``; PTB appends the token."""
        return f"{self.url}/file/bot"

    def bot_env(self) -> dict[str, str]:
        """The settings that point reportbot at this server, as environment variable names and values."""
        return {
            "TELEGRAM_BOT_TOKEN": self.token,
            "TELEGRAM_BASE_URL": self.base_url,
            "TELEGRAM_BASE_FILE_URL": self.base_file_url,
        }

    @property
    def bot_id(self) -> int:
        """The bot's user id (the numeric part of the token)."""
        return int(self.bot_user["id"])

    @property
    def bot_username(self) -> str:
        """The bot's username without '@'."""
        return str(self.bot_user["username"])

    def register_method(self, name: str, handler: MethodHandler) -> None:
        """Add or replace a Bot API method: ``handler(params)`` returns the ``result`` value.

        The handler may be sync or async and may raise :class:`BotApiError`. Useful for methods
        this fake does not implement (e.g. sendPhoto) without editing this module.
        """
        self._methods[name.lower()] = (name, handler)

    # ----------------------------------------------------------------------------- recording

    def calls(self, method: str | None = None, chat_id: int | str | None = None) -> list[Call]:
        """Recorded calls, oldest first, optionally filtered by method (case-insensitive) and chat."""
        return [c for c in self._calls if self._call_matches(c, method, chat_id, None, 0)]

    def mark(self) -> int:
        """A position in the call log: pass as ``since=`` to only see calls made afterwards."""
        return self._next_seq

    def clear(self) -> None:
        """Forget recorded calls (server state such as messages and updates is kept)."""
        self._calls.clear()

    async def wait_for(
        self,
        method: str | None,
        predicate: CallPredicate | None = None,
        timeout: float = 10.0,
        *,
        since: int = 0,
    ) -> Call:
        """Return the first recorded call (from ``since`` on) matching method and predicate.

        Already recorded calls count, so there is no race between triggering a call and waiting
        for it; use ``since=api.mark()`` or :meth:`clear` to ignore earlier ones. Waits on an
        event that is set whenever a call is recorded; raises ``TimeoutError`` listing the calls
        seen so far.
        """
        calls = await self.wait_for_count(method, 1, timeout, predicate, since=since)
        return calls[0]

    async def wait_for_count(
        self,
        method: str | None,
        n: int,
        timeout: float = 10.0,
        predicate: CallPredicate | None = None,
        *,
        since: int = 0,
    ) -> list[Call]:
        """Wait until at least ``n`` matching calls were recorded; return the first ``n``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = [c for c in self._calls if self._call_matches(c, method, None, predicate, since)]
            if len(found) >= n:
                return found[:n]
            remaining = deadline - loop.time()
            if remaining <= 0:
                seen = ", ".join(f"{c.method}->{c.response_status}" for c in self._calls[-30:])
                raise TimeoutError(
                    f"waited {timeout}s for {n} call(s) of {method or 'any method'}, got {len(found)}; "
                    f"recent calls: [{seen}]"
                )
            changed = self._calls_changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    async def wait_until_polling(self, timeout: float = 10.0) -> None:
        """Wait until a getUpdates long poll is parked waiting for updates.

        Lets a test prove that a push wakes a waiting poller (rather than the update being
        picked up by the next poll) without sleeping.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._parked_polls == 0:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"no getUpdates long poll was waiting within {timeout}s")
            parked = self._parked_changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(parked.wait(), remaining)

    def sent_texts(self, chat_id: int | str) -> list[str]:
        """Texts of successful sendMessage calls to ``chat_id``, as sent (HTML not stripped)."""
        return [c.params["text"] for c in self.calls("sendMessage", chat_id) if c.ok]

    def sent_messages(self, chat_id: int | str) -> list[JSONDict]:
        """Message dicts the server returned for successful sends (text is entity-parsed)."""
        result: list[JSONDict] = []
        for c in self.calls(None, chat_id):
            if c.ok and c.method in ("sendMessage", "sendDocument") and isinstance(c.result, dict):
                result.append(copy.deepcopy(c.result))
        return result

    def chat_history(self, chat_id: int) -> list[JSONDict]:
        """Current messages of a chat (after edits and deletions), oldest first."""
        keys = sorted(k for k in self._messages if k[0] == chat_id)
        return [copy.deepcopy(self._messages[k]) for k in keys]

    def get_message(self, chat_id: int, message_id: int) -> JSONDict | None:
        """The current state of one message, or None if unknown/deleted."""
        msg = self._messages.get((chat_id, message_id))
        return copy.deepcopy(msg) if msg is not None else None

    def commands(self, scope: JSONDict | None = None, language_code: str = "") -> list[JSONDict]:
        """Commands set with setMyCommands for exactly this scope and language."""
        return copy.deepcopy(self._commands.get(self._commands_key(scope, language_code), []))

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates queued and not yet confirmed through getUpdates' offset."""
        return copy.deepcopy(self._updates)

    @property
    def webhook(self) -> JSONDict | None:
        """The current webhook settings (url, secret_token, ...) or None."""
        return copy.deepcopy(self._webhook)

    # ----------------------------------------------------------------------------- faults

    def fail_next(
        self,
        method: str,
        *,
        status: int = 500,
        retry_after: int | None = None,
        description: str | None = None,
        count: int = 1,
        chat_id: int | str | None = None,
    ) -> None:
        """Answer the next ``count`` matching calls with a Bot API error instead of running them.

        ``method`` is case-insensitive, ``"*"`` matches any method. 429 answers carry
        ``parameters.retry_after`` (default 1) so PTB raises ``RetryAfter``; 403 defaults to
        "Forbidden: bot was blocked by the user"; 5xx become ``NetworkError`` in PTB.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            if status == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            else:
                description = _default_error_description(status)
        self._faults.append(
            _Fault(
                kind="fail",
                method=method.lower(),
                remaining=count,
                chat_id=_normalise_chat_id(chat_id),
                status=status,
                description=description,
                retry_after=retry_after,
            )
        )

    def drop_next(self, method: str, count: int = 1, *, chat_id: int | str | None = None) -> None:
        """Close the connection of the next ``count`` matching calls without answering.

        The call is not executed (nothing is sent); PTB raises ``NetworkError``.
        """
        self._faults.append(
            _Fault(kind="drop", method=method.lower(), remaining=count, chat_id=_normalise_chat_id(chat_id))
        )

    def delay_next(self, method: str, seconds: float, count: int = 1, *, chat_id: int | str | None = None) -> None:
        """Hold the next ``count`` matching calls for ``seconds`` before executing them.

        The call still takes effect afterwards even if the client gave up (PTB ``TimedOut``),
        which is exactly the duplicate-send hazard of the real API.
        """
        self._faults.append(
            _Fault(
                kind="delay",
                method=method.lower(),
                remaining=count,
                chat_id=_normalise_chat_id(chat_id),
                seconds=seconds,
            )
        )

    def clear_faults(self) -> None:
        """Drop all pending fail/drop/delay injections."""
        self._faults.clear()

    def block_chat(self, chat_id: int | str, description: str | None = None) -> None:
        """Every later call with this chat_id answers 403 (the user blocked the bot)."""
        key = _normalise_chat_id(chat_id)
        if key is None:
            raise ValueError("chat_id required")
        if description is None:
            description = (
                "Forbidden: bot was blocked by the user"
                if isinstance(key, int) and key > 0
                else "Forbidden: bot was kicked from the group chat"
            )
        self._blocked[key] = description

    def unblock_chat(self, chat_id: int | str) -> None:
        """Undo :meth:`block_chat`."""
        key = _normalise_chat_id(chat_id)
        if key is not None:
            self._blocked.pop(key, None)

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
            raise _bad_request("chat_id is empty")
        chat_id = _normalise_chat_id(raw)
        if isinstance(chat_id, int):
            return chat_id
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            for known in self._chats.values():
                if known.get("username") and f"@{known['username']}".lower() == chat_id.lower():
                    return int(known["id"])
        raise _bad_request("chat not found")

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

    def make_message_update(
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
    ) -> JSONDict:
        """Build a ``message`` update as a user would send it, without queueing it.

        Registers the message (so replies/edits referring to it work) and assigns the next
        message_id of the chat and the next update_id. Unless ``entities`` is given, bot_command
        and mention entities are detected with Telegram's rules (see ``_detect_user_entities``).
        ``reply_to_message`` is a message dict or the id of a known message in this chat.
        """
        user = self._user(user_id, first_name=first_name, username=username, language_code=language_code)
        chat = self._chat_for_push(chat_id, chat_type, user, chat_title)
        msg: JSONDict = {
            "message_id": self._next_message_id(chat_id),
            "from": user,
            "chat": chat,
            "date": _now(),
            "text": text,
        }
        found = _detect_user_entities(text) if entities is None else copy.deepcopy(entities)
        if found:
            msg["entities"] = found
        if reply_to_message is not None:
            msg["reply_to_message"] = self._reply_target(chat_id, reply_to_message)
        self._store_message(msg)
        return {"update_id": next(self._update_ids), "message": msg}

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
    ) -> JSONDict:
        """Queue a text message from a user; see :meth:`make_message_update`."""
        return self.push_update(
            self.make_message_update(
                text,
                chat_id,
                user_id,
                chat_type=chat_type,
                chat_title=chat_title,
                language_code=language_code,
                first_name=first_name,
                username=username,
                reply_to_message=reply_to_message,
                entities=entities,
            )
        )

    def make_edited_message_update(
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
    ) -> JSONDict:
        """Build an ``edited_message`` update for a message the user sent earlier."""
        user = self._user(user_id, first_name=first_name, username=username, language_code=language_code)
        original = self._messages.get((chat_id, message_id))
        chat = dict(original["chat"]) if original else self._chat_for_push(chat_id, chat_type, user, None)
        msg: JSONDict = {
            "message_id": message_id,
            "from": user,
            "chat": chat,
            "date": original["date"] if original else _now(),
            "edit_date": _now(),
            "text": text,
        }
        found = _detect_user_entities(text)
        if found:
            msg["entities"] = found
        self._store_message(msg)
        return {"update_id": next(self._update_ids), "edited_message": msg}

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
    ) -> JSONDict:
        """Queue an ``edited_message`` update; see :meth:`make_edited_message_update`."""
        return self.push_update(
            self.make_edited_message_update(
                message_id,
                text,
                chat_id,
                user_id,
                chat_type=chat_type,
                language_code=language_code,
                first_name=first_name,
                username=username,
            )
        )

    def make_callback_query_update(
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
    ) -> JSONDict:
        """Build a ``callback_query`` update: the user pressed a button carrying ``data``.

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
                "date": _now(),
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
        return {"update_id": next(self._update_ids), "callback_query": query}

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
    ) -> JSONDict:
        """Queue a ``callback_query`` update; see :meth:`make_callback_query_update`."""
        return self.push_update(
            self.make_callback_query_update(
                data,
                chat_id,
                user_id,
                message_id,
                message_text=message_text,
                chat_type=chat_type,
                language_code=language_code,
                first_name=first_name,
                username=username,
            )
        )

    def make_inline_query_update(
        self,
        query: str,
        user_id: int,
        offset: str = "",
        *,
        chat_type: str | None = "private",
        language_code: str | None = "zh-hans",
        first_name: str | None = None,
        username: str | None = None,
    ) -> JSONDict:
        """Build an ``inline_query`` update (the user typed ``@bot query``)."""
        user = self._user(user_id, first_name=first_name, username=username, language_code=language_code)
        query_id = str(next(self._query_ids))
        self._inline_queries[query_id] = False
        inline: JSONDict = {"id": query_id, "from": user, "query": query, "offset": offset}
        if chat_type is not None:
            inline["chat_type"] = chat_type
        return {"update_id": next(self._update_ids), "inline_query": inline}

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
    ) -> JSONDict:
        """Queue an ``inline_query`` update; see :meth:`make_inline_query_update`."""
        return self.push_update(
            self.make_inline_query_update(
                query,
                user_id,
                offset,
                chat_type=chat_type,
                language_code=language_code,
                first_name=first_name,
                username=username,
            )
        )

    def make_document_update(
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
    ) -> JSONDict:
        """Build a ``message`` update carrying a document; the file is registered for getFile.

        ``file_size`` overrides the size reported to the bot (e.g. 30 MB with ``file_bytes=None``
        to test the "file is too big" path without allocating memory).
        """
        if mime_type is None:
            mime_type = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        stored = self.register_file(file_bytes, file_name=file_name, mime_type=mime_type, file_size=file_size)
        user = self._user(user_id, first_name=first_name, username=username, language_code=language_code)
        chat = self._chat_for_push(chat_id, chat_type, user, None)
        msg: JSONDict = {
            "message_id": self._next_message_id(chat_id),
            "from": user,
            "chat": chat,
            "date": _now(),
            "document": stored.document_json(),
        }
        if caption is not None:
            msg["caption"] = caption
            found = _detect_user_entities(caption)
            if found:
                msg["caption_entities"] = found
        self._store_message(msg)
        return {"update_id": next(self._update_ids), "message": msg}

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
    ) -> JSONDict:
        """Queue a document message from a user; see :meth:`make_document_update`."""
        return self.push_update(
            self.make_document_update(
                file_bytes,
                file_name,
                chat_id,
                user_id,
                mime_type,
                caption,
                file_size=file_size,
                chat_type=chat_type,
                language_code=language_code,
                first_name=first_name,
                username=username,
            )
        )

    def make_photo_update(
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
    ) -> JSONDict:
        """Build a ``message`` update carrying a photo as Telegram sends one: the sizes it made, smallest first (a
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
        user = self._user(user_id, first_name=None, username=None, language_code=language_code)
        chat = self._chat_for_push(chat_id, chat_type, user, None)
        msg: JSONDict = {
            "message_id": self._next_message_id(chat_id),
            "from": user,
            "chat": chat,
            "date": _now(),
            "photo": sizes,
        }
        if caption is not None:
            msg["caption"] = caption
        self._store_message(msg)
        return {"update_id": next(self._update_ids), "message": msg}

    def push_photo(self, jpeg: bytes, width: int, height: int, chat_id: int, user_id: int, **kwargs: Any) -> JSONDict:
        """Queue a photo message from a user; see :meth:`make_photo_update`."""
        return self.push_update(self.make_photo_update(jpeg, width, height, chat_id, user_id, **kwargs))

    async def deliver_to_webhook(self, update: JSONDict) -> int:
        """POST ``update`` to the webhook set via setWebhook, like Telegram would; returns the status.

        Sends the ``X-Telegram-Bot-Api-Secret-Token`` header when a secret token was set.
        """
        if not self._webhook:
            raise RuntimeError("no webhook is set")
        headers = {"Content-Type": "application/json"}
        secret = self._webhook.get("secret_token")
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = str(secret)
        async with (
            aiohttp.ClientSession() as session,
            session.post(str(self._webhook["url"]), data=json.dumps(update), headers=headers) as response,
        ):
            await response.read()
            return response.status

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

    # ----------------------------------------------------------------------------- HTTP plumbing

    async def _read_params(self, request: web.Request) -> JSONDict:
        params: JSONDict = {}
        for key, value in request.query.items():
            params[key] = _decode_form_value(key, value)
        if request.method != "POST" or not request.body_exists:
            return params
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
            return params
        form = await request.post()
        for key, item in form.items():
            if isinstance(item, web.FileField):
                params[key] = UploadedFile(item.filename, item.content_type, item.file.read())
            elif isinstance(item, str):
                params[key] = _decode_form_value(key, item)
            else:  # bytes from a multipart part without filename
                params[key] = _decode_form_value(key, bytes(item).decode("utf-8", "replace"))
        return params

    def _take_fault(self, kinds: tuple[str, ...], method: str, params: Mapping[str, Any]) -> _Fault | None:
        for fault in self._faults:
            if fault.kind in kinds and fault.matches(method, params):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _record(
        self, call_method: str, params: JSONDict, status: int, body: JSONDict | None, request: web.Request
    ) -> None:
        transport = request.transport
        call = Call(
            method=call_method,
            params=params,
            response_status=status,
            response=body,
            seq=self._next_seq,
            http_method=request.method,
            client_gone=status != 0 and (transport is None or transport.is_closing()),
            at=time.perf_counter(),
        )
        self._next_seq += 1
        self._calls.append(call)
        event, self._calls_changed = self._calls_changed, asyncio.Event()
        event.set()

    @staticmethod
    def _call_matches(
        call: Call,
        method: str | None,
        chat_id: int | str | None,
        predicate: CallPredicate | None,
        since: int,
    ) -> bool:
        if call.seq < since:
            return False
        if method is not None and call.method.lower() != method.lower():
            return False
        if chat_id is not None and call.chat_id != _normalise_chat_id(chat_id):
            return False
        return predicate is None or predicate(call)

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        _CURRENT_REQUEST.set(request)
        raw_method = request.match_info["method"]
        entry = self._methods.get(raw_method.lower())
        method = entry[0] if entry else raw_method
        try:
            params = await self._read_params(request)
        except Exception as exc:  # malformed body: Telegram answers 400 as well
            params = {}
            error: BotApiError | None = _bad_request(f"can't parse request: {exc}")
        else:
            error = None

        if request.match_info["token"] != self.token:
            error = BotApiError(401, "Unauthorized")
        if error is None:
            delay = self._take_fault(("delay",), method, params)
            if delay is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), delay.seconds)
            fault = self._take_fault(("fail", "drop"), method, params)
            if fault is not None and fault.kind == "drop":
                self._record(method, params, 0, None, request)
                if request.transport is not None:
                    request.transport.abort()
                return web.Response(status=500)  # never reaches the client
            if fault is not None:
                error = fault.error()

        status = 200
        body: JSONDict
        try:
            if error is not None:
                raise error
            if entry is None:
                raise BotApiError(404, "Not Found: method not found")
            self._check_blocked(params)
            result = entry[1](params)
            if inspect.isawaitable(result):
                result = await result
            if isinstance(result, _Described):
                body = {"ok": True, "result": result.result, "description": result.description}
            else:
                body = {"ok": True, "result": result}
        except BotApiError as exc:
            status, body = exc.status, exc.body()
        except Exception as exc:  # a bug in the fake: make it loud but keep serving
            _LOGGER.exception("FakeBotApi failed handling %s", method)
            self.server_errors.append(exc)
            status = 500
            body = {
                "ok": False,
                "error_code": 500,
                "description": f"Internal Server Error: fake bug: {exc!r}",
            }
        self._record(method, params, status, body, request)
        return web.json_response(body, status=status)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        file_path = request.match_info["file_path"]
        params: JSONDict = {"file_path": file_path}
        stored = self._files_by_path.get(file_path)
        if request.match_info["token"] != self.token or stored is None or stored.data is None:
            body = {"ok": False, "error_code": 404, "description": "Not Found"}
            self._record("downloadFile", params, 404, body, request)
            return web.json_response(body, status=404)
        self._record("downloadFile", params, 200, None, request)
        return web.Response(body=stored.data, content_type="application/octet-stream")

    def _check_blocked(self, params: Mapping[str, Any]) -> None:
        chat_id = _normalise_chat_id(params.get("chat_id"))
        if chat_id is not None and chat_id in self._blocked:
            raise BotApiError(403, self._blocked[chat_id])

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
                raise _bad_request(f"can't parse entities: {exc}") from None
        elif mode in ("", "markdown", "markdownv2"):
            # Markdown is accepted but not parsed by this fake.
            plain, parsed = text, []
            if mode == "" and entities is not None:
                parsed = self._check_entities(entities, plain)
        else:
            raise _bad_request(f"unsupported parse_mode {parse_mode!r}")
        length = utf16_len(plain)
        if caption:
            if length > MAX_CAPTION_LENGTH:
                raise _bad_request("message caption is too long")
        else:
            if not plain.strip():
                raise _bad_request("message text is empty")
            if length > MAX_MESSAGE_LENGTH:
                raise _bad_request("message is too long")
        return plain, parsed

    @staticmethod
    def _check_entities(entities: Any, plain: str) -> list[JSONDict]:
        if not isinstance(entities, list):
            raise _bad_request("can't parse entities JSON object")
        total = utf16_len(plain)
        checked: list[JSONDict] = []
        for ent in entities:
            if (
                not isinstance(ent, dict)
                or not isinstance(ent.get("type"), str)
                or not isinstance(ent.get("offset"), int)
                or not isinstance(ent.get("length"), int)
            ):
                raise _bad_request("can't parse MessageEntity")
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
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return markup  # ReplyKeyboardMarkup / ReplyKeyboardRemove / ForceReply: accepted as is
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request("can't parse inline keyboard button: InlineKeyboardButtons must be an Array")
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise _bad_request("can't parse inline keyboard button: Text must be a String")
                actions = [key for key in _BUTTON_ACTIONS if key in button]
                if not actions:
                    raise _bad_request("text buttons are unallowed in the inline keyboard")
                if "callback_data" in button:
                    data = button["callback_data"]
                    if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES:
                        raise _bad_request("BUTTON_DATA_INVALID")
                if "url" in button:
                    url = button["url"]
                    parts = urlsplit(url) if isinstance(url, str) else None
                    valid = parts is not None and (
                        (parts.scheme in ("http", "https") and bool(parts.netloc)) or parts.scheme in ("tg", "ton")
                    )
                    if not valid:
                        raise _bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
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
        offset = _int_param(params, "offset", 0)
        limit = min(max(_int_param(params, "limit", 100), 1), 100)
        try:
            timeout = float(params.get("timeout") or 0)
        except (TypeError, ValueError):
            raise _bad_request('wrong parameter "timeout" in request') from None
        allowed = params.get("allowed_updates")
        if allowed is not None:
            if not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed):
                raise _bad_request("can't parse allowed updates")
            self._allowed_updates = frozenset(allowed) & _ALL_UPDATE_TYPES or _DEFAULT_UPDATE_TYPES
        self._confirm_updates(offset)

        # A newer getUpdates terminates a pending one, like Telegram does (only one poller).
        self._poll_generation += 1
        generation = self._poll_generation
        self._signal_updates()

        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout, 0.0)
        while True:
            if generation != self._poll_generation:
                if _client_gone():
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

    def _m_set_webhook(self, params: JSONDict) -> _Described:
        url = params.get("url") or ""
        if not isinstance(url, str):
            raise _bad_request("bad webhook: wrong url")
        if _bool_param(params, "drop_pending_updates"):
            self._updates.clear()
        if not url:
            self._webhook = None
            return _Described(True, "Webhook was deleted")
        parts = urlsplit(url)
        # Telegram demands HTTPS on ports 443/80/88/8443; the fake accepts plain HTTP so a test
        # can point it at PTB's local webhook server.
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) & _ALL_UPDATE_TYPES or _DEFAULT_UPDATE_TYPES
        self._webhook = {
            "url": url,
            "secret_token": params.get("secret_token"),
            "max_connections": _int_param(params, "max_connections", 40),
            "ip_address": params.get("ip_address"),
        }
        self._signal_updates()  # terminates a pending getUpdates through the conflict check
        return _Described(True, "Webhook was set")

    def _m_delete_webhook(self, params: JSONDict) -> _Described:
        if _bool_param(params, "drop_pending_updates"):
            self._updates.clear()
        was_set = self._webhook is not None
        self._webhook = None
        return _Described(True, "Webhook was deleted" if was_set else "Webhook is already deleted")

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
            if self._allowed_updates != _DEFAULT_UPDATE_TYPES:
                info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        if scope is None:
            scope = {"type": "default"}
        if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
            raise _bad_request("can't parse BotCommandScope")
        lang = language_code if isinstance(language_code, str) else ""
        return json.dumps(scope, sort_keys=True), lang

    def _m_set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad_request("too many commands")
        checked: list[JSONDict] = []
        for cmd in commands:
            if not isinstance(cmd, dict):
                raise _bad_request("can't parse BotCommand")
            name, description = cmd.get("command"), cmd.get("description")
            if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
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
        allow_missing = _bool_param(params, "allow_sending_without_reply")
        if isinstance(reply, dict):
            target = reply.get("message_id")
            allow_missing = allow_missing or bool(reply.get("allow_sending_without_reply"))
            if reply.get("chat_id") is not None:
                other = _normalise_chat_id(reply.get("chat_id"))
                if isinstance(other, int):
                    chat_id = other
        elif params.get("reply_to_message_id") is not None:
            target = params.get("reply_to_message_id")
        if target is None:
            return None
        stored = self._messages.get((chat_id, _int_param({"message_id": target}, "message_id")))
        if stored is None:
            if allow_missing:
                return None
            raise _bad_request("message to be replied not found")
        reply_msg = copy.deepcopy(stored)
        reply_msg.pop("reply_to_message", None)
        return reply_msg

    def _bot_message(self, chat_id: int, **content: Any) -> JSONDict:
        msg: JSONDict = {
            "message_id": self._next_message_id(chat_id),
            "from": dict(self.bot_user),
            "chat": self._chat_for_send(chat_id),
            "date": _now(),
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
            raise _bad_request("message identifier is not specified")
        message_id = _int_param(params, "message_id")
        stored_msg = self._messages.get((chat_id, message_id))
        if stored_msg is None:
            raise _bad_request("message to edit not found")
        if stored_msg.get("from", {}).get("id") != self.bot_id:
            raise _bad_request("message can't be edited")
        return stored_msg, (chat_id, message_id)

    def _m_edit_message_text(self, params: JSONDict) -> JSONDict | bool:
        stored, key = self._editable_message(params)
        text, entities = self._format_text(params.get("text"), params.get("parse_mode"), params.get("entities"))
        markup = self._echo_markup(self._check_reply_markup(params.get("reply_markup")))
        if key is not None and "text" not in stored:
            raise _bad_request("there is no text in the message to edit")
        if (
            stored.get("text") == text
            and stored.get("entities", []) == entities
            and stored.get("reply_markup") == markup
        ):
            raise _bad_request(_NOT_MODIFIED)
        # Omitting reply_markup in an edit removes the inline keyboard, as on Telegram.
        stored["text"] = text
        stored.pop("entities", None)
        if entities:
            stored["entities"] = entities
        stored.pop("reply_markup", None)
        if markup is not None:
            stored["reply_markup"] = markup
        if key is None:
            return True
        stored["edit_date"] = _now()
        return copy.deepcopy(stored)

    def _m_edit_message_reply_markup(self, params: JSONDict) -> JSONDict | bool:
        stored, key = self._editable_message(params)
        markup = self._echo_markup(self._check_reply_markup(params.get("reply_markup")))
        if stored.get("reply_markup") == markup:
            raise _bad_request(_NOT_MODIFIED)
        stored.pop("reply_markup", None)
        if markup is not None:
            stored["reply_markup"] = markup
        if key is None:
            return True
        stored["edit_date"] = _now()
        return copy.deepcopy(stored)

    def _m_delete_message(self, params: JSONDict) -> bool:
        chat_id = self._resolve_chat_id(params)
        if params.get("message_id") is None:
            raise _bad_request("message identifier is not specified")
        if self._messages.pop((chat_id, _int_param(params, "message_id")), None) is None:
            raise _bad_request("message to delete not found")
        return True

    def _m_answer_callback_query(self, params: JSONDict) -> bool:
        query_id = params.get("callback_query_id")
        if not query_id:
            raise _bad_request('parameter "callback_query_id" is required')
        if self._callback_queries.get(str(query_id)) is not False:
            raise _bad_request(_QUERY_TOO_OLD)
        text = params.get("text")
        if isinstance(text, str) and len(text) > 200:
            raise _bad_request("MESSAGE_TOO_LONG")
        self._callback_queries[str(query_id)] = True
        return True

    def _m_answer_inline_query(self, params: JSONDict) -> bool:
        query_id = params.get("inline_query_id")
        if not query_id:
            raise _bad_request('parameter "inline_query_id" is required')
        if self._inline_queries.get(str(query_id)) is not False:
            raise _bad_request(_QUERY_TOO_OLD)
        results = params.get("results")
        if not isinstance(results, list):
            raise _bad_request("can't parse inline query results JSON object")
        if len(results) > 50:
            raise _bad_request("RESULTS_TOO_MUCH")
        next_offset = params.get("next_offset")
        if isinstance(next_offset, str) and len(next_offset.encode("utf-8")) > 64:
            raise _bad_request("NEXT_OFFSET_INVALID")
        seen: set[str] = set()
        for result in results:
            if not isinstance(result, dict) or not isinstance(result.get("type"), str):
                raise _bad_request("can't parse InlineQueryResult")
            result_id = result.get("id")
            if not isinstance(result_id, str) or not 1 <= len(result_id.encode("utf-8")) <= 64:
                raise _bad_request("RESULT_ID_INVALID")
            if result_id in seen:
                raise _bad_request("RESULT_ID_DUPLICATE")
            seen.add(result_id)
            content = result.get("input_message_content")
            if isinstance(content, dict) and "message_text" in content:
                self._format_text(content.get("message_text"), content.get("parse_mode"), content.get("entities"))
            self._check_reply_markup(result.get("reply_markup"))
        self._inline_queries[str(query_id)] = True
        return True

    def _m_send_chat_action(self, params: JSONDict) -> bool:
        self._resolve_chat_id(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    def _m_send_document(self, params: JSONDict) -> JSONDict:
        chat_id = self._resolve_chat_id(params)
        document = params.get("document")
        if isinstance(document, UploadedFile):
            if not document.data:
                raise _bad_request("file must be non-empty")
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
            raise _bad_request('parameter "document" is required')
        else:
            raise _bad_request("wrong file identifier/HTTP URL specified")
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
            raise _bad_request('parameter "photo" is required' if not photo else "wrong file identifier specified")
        if not photo.data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF8", b"RIFF")):
            raise _bad_request("IMAGE_PROCESS_FAILED")
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
            raise _bad_request('parameter "file_id" is required')
        stored = self._files.get(str(file_id))
        if stored is None:
            raise _bad_request("invalid file_id")
        if stored.file_size > MAX_DOWNLOAD_SIZE:
            raise _bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }


@contextlib.asynccontextmanager
async def running_fake_bot_api(token: str = DEFAULT_TOKEN, **kwargs: Any) -> AsyncIterator[FakeBotApi]:
    """Start a :class:`FakeBotApi` in the current event loop and stop it afterwards.

    ``kwargs`` go to :class:`FakeBotApi` (bot_username, first_update_id, strict_ampersand, ...).
    """
    server = FakeBotApi(token, **kwargs)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
