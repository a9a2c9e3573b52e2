"""The fake Bot API server: HTTP on 127.0.0.1, the call log tests wait on, and injected faults."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import inspect
import json
import logging
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any, Final

import aiohttp
from aiohttp import web

from fakebotapi.methods import Methods
from fakebotapi.records import (
    CURRENT_REQUEST,
    DEFAULT_TOKEN,
    BotApiError,
    Call,
    CallPredicate,
    Described,
    Fault,
    JSONDict,
    MethodHandler,
    UploadedFile,
    bad_request,
    default_error_description,
    normalise_chat_id,
)
from fakebotapi.updates import UpdateBuilders

_LOGGER = logging.getLogger(__name__)

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


def _decode_form_value(name: str, raw: str) -> Any:
    if name in _STRING_PARAMS:
        return raw
    try:
        decoded = json.loads(raw)
    except ValueError:
        return raw
    # PTB never JSON-encodes plain strings, so a JSON string literal means the raw text was meant.
    return raw if isinstance(decoded, str) else decoded


class FakeBotApi(Methods, UpdateBuilders):
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

    def _init_server(self) -> None:
        """The server's own state: its socket, the call log, injected faults and the method table."""
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

        # Recorded calls, and an event replaced after every record so waiters wake up.
        self._calls: list[Call] = []
        self._next_seq = 0
        self._calls_changed = asyncio.Event()
        #: Unexpected exceptions inside the fake itself (answered with HTTP 500); tests may
        #: assert this stays empty.
        self.server_errors: list[BaseException] = []

        # Fault injection.
        self._faults: list[Fault] = []
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
                description = default_error_description(status)
        self._faults.append(
            Fault(
                kind="fail",
                method=method.lower(),
                remaining=count,
                chat_id=normalise_chat_id(chat_id),
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
            Fault(kind="drop", method=method.lower(), remaining=count, chat_id=normalise_chat_id(chat_id))
        )

    def delay_next(self, method: str, seconds: float, count: int = 1, *, chat_id: int | str | None = None) -> None:
        """Hold the next ``count`` matching calls for ``seconds`` before executing them.

        The call still takes effect afterwards even if the client gave up (PTB ``TimedOut``),
        which is exactly the duplicate-send hazard of the real API.
        """
        self._faults.append(
            Fault(
                kind="delay",
                method=method.lower(),
                remaining=count,
                chat_id=normalise_chat_id(chat_id),
                seconds=seconds,
            )
        )

    def clear_faults(self) -> None:
        """Drop all pending fail/drop/delay injections."""
        self._faults.clear()

    def block_chat(self, chat_id: int | str, description: str | None = None) -> None:
        """Every later call with this chat_id answers 403 (the user blocked the bot)."""
        key = normalise_chat_id(chat_id)
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
        key = normalise_chat_id(chat_id)
        if key is not None:
            self._blocked.pop(key, None)

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

    def _take_fault(self, kinds: tuple[str, ...], method: str, params: Mapping[str, Any]) -> Fault | None:
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
        if chat_id is not None and call.chat_id != normalise_chat_id(chat_id):
            return False
        return predicate is None or predicate(call)

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        CURRENT_REQUEST.set(request)
        raw_method = request.match_info["method"]
        entry = self._methods.get(raw_method.lower())
        method = entry[0] if entry else raw_method
        try:
            params = await self._read_params(request)
        except Exception as exc:  # malformed body: Telegram answers 400 as well
            params = {}
            error: BotApiError | None = bad_request(f"can't parse request: {exc}")
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
            if isinstance(result, Described):
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
        chat_id = normalise_chat_id(params.get("chat_id"))
        if chat_id is not None and chat_id in self._blocked:
            raise BotApiError(403, self._blocked[chat_id])


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
