"""What the fake Bot API records and answers: errors, files, calls, injected faults, and small parameter helpers."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Final, Literal, TypeAlias

from aiohttp import web

JSONDict: TypeAlias = dict[str, Any]
CallPredicate: TypeAlias = Callable[["Call"], bool]
MethodHandler: TypeAlias = Callable[[JSONDict], Awaitable[Any] | Any]

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

# The request being handled, so method handlers can tell whether the client is still connected.
CURRENT_REQUEST: ContextVar[web.Request | None] = ContextVar("fakebotapi_current_request", default=None)


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
        return normalise_chat_id(self.params.get("chat_id"))

    @property
    def text(self) -> str | None:
        """The ``text`` parameter as the bot sent it (still HTML when parse_mode was HTML)."""
        value = self.params.get("text")
        return value if isinstance(value, str) else None


@dataclass(slots=True)
class Fault:
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
        return self.chat_id is None or normalise_chat_id(params.get("chat_id")) == self.chat_id

    def error(self) -> BotApiError:
        parameters = {"retry_after": self.retry_after} if self.retry_after is not None else None
        return BotApiError(self.status, self.description, parameters)


@dataclass(frozen=True, slots=True)
class Described:
    """A method result plus the ``description`` Telegram adds (e.g. "Webhook was set")."""

    result: Any
    description: str


def normalise_chat_id(value: Any) -> int | str | None:
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


def client_gone() -> bool:
    request = CURRENT_REQUEST.get()
    if request is None:
        return False
    transport = request.transport
    return transport is None or transport.is_closing()


def now() -> int:
    return int(time.time())


def bad_request(what: str) -> BotApiError:
    return BotApiError(400, f"Bad Request: {what}")


def int_param(params: Mapping[str, Any], name: str, default: int | None = None) -> int:
    value = params.get(name, default)
    if isinstance(value, bool):
        raise bad_request(f'wrong parameter "{name}" in request')
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    if value is None:
        raise bad_request(f'parameter "{name}" is required')
    raise bad_request(f'wrong parameter "{name}" in request')


def bool_param(params: Mapping[str, Any], name: str) -> bool:
    value = params.get(name, False)
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)


def default_error_description(status: int) -> str:
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
