"""Tests of the fake Bot API server, driven by real PTB objects over real HTTP.

These double as executable documentation of how to use :mod:`fakebotapi`: every
interaction goes through ``telegram.Bot`` / ``telegram.ext.Application`` and httpx against the
server on 127.0.0.1, and tests wait for recorded calls instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import html
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st
from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQuery,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from fakebotapi import (
    BOT_USERNAME,
    EntityParseError,
    FakeBotApi,
    UploadedFile,
    parse_html,
    running_fake_bot_api,
    utf16_len,
)

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
USER = 1001


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with running_fake_bot_api() as server:
        yield server
        assert server.server_errors == []


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url) as tg_bot:
        yield tg_bot


@contextlib.asynccontextmanager
async def running_application(
    api: FakeBotApi, *handlers: BaseHandler[Any, Any, Any], errors: list[BaseException] | None = None
) -> AsyncIterator[AnyApplication]:
    """Build, start and poll a real Application against ``api``; always shut it down."""
    application = (
        ApplicationBuilder()
        .token(api.token)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .concurrent_updates(True)
        .build()
    )
    for handler in handlers:
        application.add_handler(handler)
    if errors is not None:

        async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
            assert context.error is not None
            errors.append(context.error)

        application.add_error_handler(on_error)

    await application.initialize()
    try:
        await application.start()
        try:
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0, timeout=1)
            try:
                yield application
            finally:
                await application.updater.stop()
        finally:
            await application.stop()
    finally:
        await application.shutdown()


# ------------------------------------------------------------------------------ basic round trip


async def test_get_me_and_send_message_round_trip(api: FakeBotApi, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.username == BOT_USERNAME
    assert me.supports_inline_queries is True
    assert me.id == api.bot_id

    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("更多", callback_data="more:1")]])
    first = await bot.send_message(USER, "<b>你好</b>，世界 &amp; 😀", parse_mode=ParseMode.HTML, reply_markup=keyboard)
    second = await bot.send_message(USER, "plain")

    assert isinstance(first, Message)
    assert first.text == "你好，世界 & 😀"
    assert first.entities == (MessageEntity(MessageEntity.BOLD, 0, 2),)
    assert first.reply_markup == keyboard
    assert first.from_user is not None and first.from_user.id == api.bot_id
    assert first.chat.id == USER
    assert second.message_id == first.message_id + 1

    call = api.calls("sendMessage", chat_id=USER)[0]
    assert call.ok and call.response_status == 200
    assert call.params["chat_id"] == USER  # decoded back to int
    assert call.params["reply_markup"] == {"inline_keyboard": [[{"text": "更多", "callback_data": "more:1"}]]}
    assert api.sent_texts(USER) == ["<b>你好</b>，世界 &amp; 😀", "plain"]
    assert [m["text"] for m in api.sent_messages(USER)] == ["你好，世界 & 😀", "plain"]


async def test_message_ids_are_per_chat_and_shared_with_user_messages(api: FakeBotApi, bot: Bot) -> None:
    update = api.push_message("hi", chat_id=5, user_id=5)
    assert update["message"]["message_id"] == 1
    assert (await bot.send_message(5, "a")).message_id == 2
    assert (await bot.send_message(6, "b")).message_id == 1


# ------------------------------------------------------------------------------ application


async def test_application_polling_echo(api: FakeBotApi) -> None:
    seen: list[Update] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("欢迎")

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update)
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

    errors: list[BaseException] = []
    async with running_application(
        api,
        CommandHandler("start", start),
        MessageHandler(filters.TEXT & ~filters.COMMAND, echo),
        errors=errors,
    ):
        api.push_message("你好", chat_id=USER, user_id=USER, first_name="小明")
        echoed = await api.wait_for("sendMessage", lambda c: c.text == "echo: 你好", timeout=5)
        api.push_message(f"/start@{BOT_USERNAME}", chat_id=USER, user_id=USER)
        welcomed = await api.wait_for("sendMessage", lambda c: c.text == "欢迎", timeout=5)

    assert echoed.ok and echoed.chat_id == USER
    assert welcomed.ok
    assert errors == []
    user = seen[0].effective_user
    assert user is not None and user.first_name == "小明" and user.language_code == "zh-hans"
    # The updater confirmed everything on shutdown: nothing is redelivered.
    assert api.pending_updates == []
    calls = api.calls()
    assert [c.method for c in calls[:2]] == ["getMe", "deleteWebhook"]


async def test_callback_query_arrives_as_ptb_object(api: FakeBotApi) -> None:
    received: list[CallbackQuery] = []

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        received.append(query)
        await query.answer("好的")
        await query.edit_message_text(f"已选择 {query.data}")

    errors: list[BaseException] = []
    async with running_application(api, CallbackQueryHandler(on_button), errors=errors) as app:
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("一", callback_data="pick:1")]])
        sent = await app.bot.send_message(USER, "请选择", reply_markup=keyboard)
        api.push_callback_query("pick:1", chat_id=USER, user_id=USER)
        edit = await api.wait_for("editMessageText", timeout=5)
        answer = await api.wait_for("answerCallbackQuery", timeout=5)

    assert errors == []
    assert edit.ok and answer.ok and answer.params["text"] == "好的"
    query = received[0]
    assert isinstance(query, CallbackQuery)
    assert query.data == "pick:1"
    assert isinstance(query.message, Message) and query.message.message_id == sent.message_id
    assert query.message.reply_markup == keyboard
    assert query.from_user.language_code == "zh-hans"
    stored = api.get_message(USER, sent.message_id)
    assert stored is not None and stored["text"] == "已选择 pick:1"
    assert "reply_markup" not in stored  # edits without reply_markup drop the keyboard


async def test_inline_query_arrives_and_answer_is_validated(api: FakeBotApi) -> None:
    received: list[InlineQuery] = []

    async def on_inline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.inline_query
        assert query is not None
        received.append(query)
        text = "<b>ok</b>" if query.query == "good" else "<b>broken"
        result = InlineQueryResultArticle(
            id="r1", title="结果", input_message_content=InputTextMessageContent(text, parse_mode=ParseMode.HTML)
        )
        await query.answer([result], cache_time=0)

    errors: list[BaseException] = []
    async with running_application(api, InlineQueryHandler(on_inline), errors=errors):
        api.push_inline_query("good", user_id=USER)
        good = await api.wait_for("answerInlineQuery", timeout=5)
        api.push_inline_query("bad", user_id=USER, offset="10")
        bad = await api.wait_for("answerInlineQuery", lambda c: not c.ok, timeout=5)

    assert good.ok
    assert bad.response_status == 400 and "can't parse entities" in (bad.description or "")
    assert isinstance(received[0], InlineQuery) and received[0].query == "good"
    assert received[1].offset == "10" and received[1].from_user.id == USER
    assert len(errors) == 1 and isinstance(errors[0], BadRequest)


async def test_document_download_through_application(api: FakeBotApi) -> None:
    payload = "第一章 总则\n".encode() * 100
    downloaded: list[bytes] = []

    async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.document is not None
        try:
            tg_file = await message.document.get_file()
        except BadRequest as exc:
            await message.reply_text(f"failed: {exc.message}")
            return
        data = await tg_file.download_as_bytearray()
        downloaded.append(bytes(data))
        await message.reply_text(f"got {len(data)} bytes")

    async with running_application(api, MessageHandler(filters.Document.ALL, on_document)):
        api.push_document(payload, "报告.txt", chat_id=USER, user_id=USER, caption="请分析")
        await api.wait_for("sendMessage", lambda c: (c.text or "").startswith("got"), timeout=5)
        api.push_document(None, "huge.pdf", chat_id=USER, user_id=USER, file_size=30 * 1024 * 1024)
        too_big = await api.wait_for("sendMessage", lambda c: (c.text or "").startswith("failed"), timeout=5)

    assert downloaded == [payload]
    assert too_big.text == "failed: File is too big"
    assert [c.response_status for c in api.calls("downloadFile")] == [200]


async def test_get_file_and_download_with_bot(api: FakeBotApi, bot: Bot) -> None:
    update = api.push_document(b"%PDF-1.4 fake", "a.pdf", chat_id=USER, user_id=USER)
    document = update["message"]["document"]
    assert document["file_size"] == 13 and document["mime_type"] == "application/pdf"

    tg_file = await bot.get_file(document["file_id"])
    assert tg_file.file_size == 13
    assert bytes(await tg_file.download_as_bytearray()) == b"%PDF-1.4 fake"

    with pytest.raises(BadRequest, match="Invalid file_id"):
        await bot.get_file("nope")


async def test_send_document_multipart(api: FakeBotApi, bot: Bot) -> None:
    message = await bot.send_document(
        USER, document=b"hello report", filename="报告.txt", caption="<b>摘要</b>", parse_mode=ParseMode.HTML
    )
    assert message.document is not None and message.document.file_name == "报告.txt"
    assert message.caption == "摘要"
    assert message.caption_entities == (MessageEntity(MessageEntity.BOLD, 0, 2),)

    call = api.calls("sendDocument")[0]
    uploaded = call.params["document"]
    assert isinstance(uploaded, UploadedFile) and uploaded.data == b"hello report"

    tg_file = await bot.get_file(message.document.file_id)
    assert bytes(await tg_file.download_as_bytearray()) == b"hello report"

    with pytest.raises(BadRequest, match="caption is too long"):
        await bot.send_document(USER, document=b"x", filename="x.txt", caption="长" * 1025)


# ------------------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("fish & chips", 'Character "&" is reserved'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ('<span class="bold">x</span>', 'Tag "span" must have class "tg-spoiler"'),
        ("<a href=x y>z</a>", "Expected equal sign"),
        ("中文<p>", 'Unsupported start tag "p" at byte offset 6'),
    ],
)
async def test_invalid_html_is_rejected(api: FakeBotApi, bot: Bot, text: str, reason: str) -> None:
    with pytest.raises(BadRequest) as excinfo:
        await bot.send_message(USER, text, parse_mode=ParseMode.HTML)
    assert "can't parse entities" in excinfo.value.message.lower()
    call = api.calls("sendMessage")[-1]
    assert call.response_status == 400
    assert call.description == f"Bad Request: can't parse entities: {reason}" or reason in (call.description or "")
    assert api.sent_texts(USER) == []


async def test_invalid_html_is_rejected_in_edits(api: FakeBotApi, bot: Bot) -> None:
    sent = await bot.send_message(USER, "ok")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.edit_message_text("<b>x", chat_id=USER, message_id=sent.message_id, parse_mode=ParseMode.HTML)


@pytest.mark.parametrize(
    ("source", "plain", "entities"),
    [
        ("&lt;b&gt; &quot;&amp;&#20320;&#x597D;", '<b> "&你好', []),
        ("<b>粗<i>斜</i></b>", "粗斜", [("bold", 0, 2), ("italic", 1, 1)]),
        ('<pre><code class="language-python">x = 1</code></pre>', "x = 1", [("pre", 0, 5)]),
        ("<code>c</code><pre>p</pre>", "cp", [("code", 0, 1), ("pre", 1, 1)]),
        ("<blockquote expandable>长引用</blockquote>", "长引用", [("expandable_blockquote", 0, 3)]),
        ('<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>', "st", [("spoiler", 0, 1), ("spoiler", 1, 1)]),
        ('😀<a href="https://example.org/?a=1&b=2">链接</a>', "😀链接", [("text_link", 2, 2)]),
        ("<s>a</s><strike>b</strike><del>c</del><u>d</u><ins>e</ins><em>f</em><strong>g</strong>", "abcdefg", None),
        ("<b></b>x", "x", []),
        ("a > b", "a > b", []),
    ],
)
def test_parse_html_valid(source: str, plain: str, entities: list[tuple[str, int, int]] | None) -> None:
    text, parsed = parse_html(source)
    assert text == plain
    if entities is not None:
        assert [(e["type"], e["offset"], e["length"]) for e in parsed] == entities
    if source.startswith("<pre>"):
        assert parsed[0]["language"] == "python"
    if "href" in source:
        assert parsed[0]["url"] == "https://example.org/?a=1&b=2"


def test_parse_html_lenient_ampersand_matches_telegram() -> None:
    assert parse_html("fish & chips", strict_ampersand=False) == ("fish & chips", [])
    with pytest.raises(EntityParseError):
        parse_html("fish & chips")


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"])))
def test_parse_html_escaped_text_round_trips(text: str) -> None:
    plain, entities = parse_html(html.escape(text, quote=False))
    assert plain == text
    assert entities == []


async def test_text_length_is_counted_in_utf16_units(api: FakeBotApi, bot: Bot) -> None:
    await bot.send_message(USER, "长" * 4096)  # 4096 BMP characters: exactly at the limit
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(USER, "a" * 4097)
    assert utf16_len("😀" * 2049) == 4098
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(USER, "😀" * 2049)  # only 2049 code points, but 4098 UTF-16 units
    # The limit applies after entity parsing: markup does not count.
    await bot.send_message(USER, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(USER, "<b> </b>", parse_mode=ParseMode.HTML)


async def test_callback_data_is_limited_to_64_utf8_bytes(api: FakeBotApi, bot: Bot) -> None:
    def keyboard(data: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data=data)]])

    await bot.send_message(USER, "ok", reply_markup=keyboard("x" * 64))
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(USER, "too long", reply_markup=keyboard("x" * 65))
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(USER, "22 CJK chars are 66 bytes", reply_markup=keyboard("文" * 22))
    assert api.calls("sendMessage")[-1].response_status == 400


async def test_edit_not_modified_and_missing_messages(api: FakeBotApi, bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="d")]])
    sent = await bot.send_message(USER, "<i>v1</i>", parse_mode=ParseMode.HTML, reply_markup=keyboard)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "<i>v1</i>", chat_id=USER, message_id=sent.message_id, parse_mode=ParseMode.HTML, reply_markup=keyboard
        )
    edited = await bot.edit_message_text("v2", chat_id=USER, message_id=sent.message_id, reply_markup=keyboard)
    assert isinstance(edited, Message) and edited.text == "v2" and edited.edit_date is not None

    await bot.edit_message_reply_markup(chat_id=USER, message_id=sent.message_id, reply_markup=None)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(chat_id=USER, message_id=sent.message_id, reply_markup=None)

    assert await bot.delete_message(USER, sent.message_id) is True
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("v3", chat_id=USER, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(USER, sent.message_id)


async def test_answer_queries_only_once(api: FakeBotApi, bot: Bot) -> None:
    await bot.send_message(USER, "menu")
    query = api.push_callback_query("x", chat_id=USER, user_id=USER)["callback_query"]
    assert await bot.answer_callback_query(query["id"]) is True
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query["id"])
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_inline_query("12345", [])


async def test_chat_action_and_commands(api: FakeBotApi, bot: Bot) -> None:
    assert await bot.send_chat_action(USER, ChatAction.TYPING) is True
    with pytest.raises(BadRequest, match=r"(?i)wrong parameter action"):
        await bot.send_chat_action(USER, "dancing")

    assert await bot.set_my_commands([("start", "开始"), ("ask", "提问")]) is True
    assert await bot.set_my_commands([("start", "start")], language_code="en") is True
    assert [c.command for c in await bot.get_my_commands()] == ["start", "ask"]
    assert [c.description for c in await bot.get_my_commands(language_code="en")] == ["start"]
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([("Start", "大写不行")])
    assert await bot.delete_my_commands() is True
    assert await bot.get_my_commands() == ()
    assert api.commands(language_code="en") == [{"command": "start", "description": "start"}]


# ------------------------------------------------------------------------------ getUpdates


async def test_get_updates_offset_limit_and_allowed_updates(api: FakeBotApi, bot: Bot) -> None:
    for text in ("一", "二", "三"):
        api.push_message(text, chat_id=USER, user_id=USER)
    first_two = await bot.get_updates(limit=2)
    assert [u.message.text for u in first_two if u.message] == ["一", "二"]
    assert len(api.pending_updates) == 3  # nothing confirmed yet

    rest = await bot.get_updates(offset=first_two[0].update_id + 1)
    assert [u.message.text for u in rest if u.message] == ["二", "三"]
    assert [u["update_id"] for u in api.pending_updates] == [u.update_id for u in rest]

    await bot.send_message(USER, "menu")
    api.push_callback_query("cb", chat_id=USER, user_id=USER)
    only_callbacks = await bot.get_updates(offset=rest[-1].update_id + 1, allowed_updates=["callback_query"])
    assert [u.callback_query.data for u in only_callbacks if u.callback_query] == ["cb"]

    api.push_message("not allowed", chat_id=USER, user_id=USER)
    assert await bot.get_updates(offset=only_callbacks[-1].update_id + 1) == ()
    assert api.pending_updates == []


async def test_long_poll_wakes_on_push_and_times_out(api: FakeBotApi, bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await bot.get_updates(timeout=dtm.timedelta(milliseconds=200)) == ()
    assert loop.time() - started >= 0.19

    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await api.wait_until_polling()
    api.push_message("wake up", chat_id=USER, user_id=USER)
    updates = await asyncio.wait_for(poll, 2)
    assert [u.message.text for u in updates if u.message] == ["wake up"]


async def test_second_poller_terminates_first(api: FakeBotApi, bot: Bot) -> None:
    """Two bot instances polling at once: Telegram answers the older poll with 409."""
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await api.wait_until_polling()
    # A separate Bot: PTB's own getUpdates connection pool holds a single connection.
    async with Bot(api.token, base_url=api.base_url) as second_instance:
        assert await second_instance.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates"):
        await first


async def test_webhook_settings_and_delivery(api: FakeBotApi, bot: Bot) -> None:
    received: list[tuple[dict[str, Any], str | None]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"

        assert await bot.set_webhook(url, secret_token="s3cret") is True
        info = await bot.get_webhook_info()
        assert info.url == url and info.pending_update_count == 0
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()

        update = api.push_message("/start", chat_id=USER, user_id=USER, queue=False)
        assert api.pending_updates == []  # queue=False only builds the update
        parsed = Update.de_json(update, bot)
        assert parsed.message is not None
        assert parsed.message.entities == (MessageEntity(MessageEntity.BOT_COMMAND, 0, 6),)
        assert await api.deliver_to_webhook(update) == 200
        assert received == [(update, "s3cret")]

        assert await bot.delete_webhook(drop_pending_updates=True) is True
        assert (await bot.get_webhook_info()).url == ""
        assert await bot.get_updates() == ()
    finally:
        await runner.cleanup()


def test_user_entities_follow_telegram_boundaries() -> None:
    api = FakeBotApi()  # the builders work without a running server

    def entities(text: str) -> list[tuple[str, int, int]]:
        message = api.push_message(text, chat_id=USER, user_id=USER, queue=False)["message"]
        return [(e["type"], e["offset"], e["length"]) for e in message.get("entities", [])]

    assert entities("/start") == [("bot_command", 0, 6)]
    assert entities(f"/start@{BOT_USERNAME} 参数") == [("bot_command", 0, 25)]
    assert entities("/ask 什么是新质生产力") == [("bot_command", 0, 4)]
    assert entities("/ask什么") == []  # Telegram needs a non-word character after the command
    assert entities(f"hi @{BOT_USERNAME}") == [("mention", 3, 19)]
    assert entities(f"你好@{BOT_USERNAME}") == []
    assert entities("😀 /help") == [("bot_command", 3, 5)]


# ------------------------------------------------------------------------------ errors & faults


async def test_unknown_method_and_wrong_token(api: FakeBotApi, bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("fooBar")
    call = api.calls("fooBar")[0]
    assert call.response == {"ok": False, "error_code": 404, "description": "Not Found: method not found"}

    with pytest.raises(InvalidToken):
        async with Bot("42:wrong", base_url=api.base_url):
            pass


async def test_retry_after(api: FakeBotApi, bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # RetryAfter.retry_after as timedelta, no warning
    api.fail_next("sendMessage", status=429, retry_after=7)
    with pytest.raises(RetryAfter) as excinfo:
        await bot.send_message(USER, "x")
    assert excinfo.value.retry_after == dtm.timedelta(seconds=7)
    assert api.calls("sendMessage")[0].response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 7",
        "parameters": {"retry_after": 7},
    }
    await bot.send_message(USER, "x")  # only the next call failed
    assert api.sent_texts(USER) == ["x"]


async def test_forbidden_via_fault_and_blocked_chat(api: FakeBotApi, bot: Bot) -> None:
    api.fail_next("sendMessage", status=403, chat_id=7)
    await bot.send_message(8, "other chats are unaffected")
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(7, "x")

    api.block_chat(9)
    for _ in range(2):
        with pytest.raises(Forbidden):
            await bot.send_message(9, "x")
    with pytest.raises(Forbidden):
        await bot.send_chat_action(9, ChatAction.TYPING)
    api.unblock_chat(9)
    await bot.send_message(9, "back")


async def test_server_errors_and_dropped_connections(api: FakeBotApi, bot: Bot) -> None:
    api.fail_next("sendMessage", status=502, count=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(USER, "x")
    api.fail_next("*", status=500)
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.get_me()

    api.drop_next("sendMessage")
    with pytest.raises(NetworkError) as excinfo:
        await bot.send_message(USER, "lost")
    assert not isinstance(excinfo.value, TimedOut)
    assert api.calls("sendMessage")[-1].response_status == 0
    assert api.sent_texts(USER) == []
    await bot.send_message(USER, "fine again")
    assert api.sent_texts(USER) == ["fine again"]


async def test_delay_causes_timeout_but_message_is_still_sent(api: FakeBotApi) -> None:
    request = HTTPXRequest(read_timeout=0.1)
    async with Bot(api.token, base_url=api.base_url, request=request) as slow_bot:
        api.delay_next("sendMessage", 0.4)
        with pytest.raises(TimedOut):
            await slow_bot.send_message(USER, "duplicate hazard")
        call = await api.wait_for("sendMessage", timeout=2)
    assert call.ok  # Telegram delivered it even though the client gave up ...
    assert call.client_gone  # ... and nobody received the answer


async def test_wait_for_times_out_with_context(api: FakeBotApi, bot: Bot) -> None:
    await bot.get_me()
    with pytest.raises(TimeoutError, match=r"getMe->200"):
        await api.wait_for("sendMessage", timeout=0.05)
    mark = api.mark()
    await bot.send_message(USER, "old")
    assert (await api.wait_for("sendMessage", since=mark)).text == "old"
    mark = api.mark()
    waiter = asyncio.create_task(api.wait_for("sendMessage", since=mark, timeout=2))
    await bot.send_message(USER, "new")
    assert (await waiter).text == "new"
    api.clear()
    assert api.calls() == []


async def test_raw_http_decoding(api: FakeBotApi) -> None:
    """Form fields are decoded like PTB encodes them; JSON bodies are accepted too."""
    async with aiohttp.ClientSession() as session:
        form = {"chat_id": "12", "text": "123", "entities": '[{"type": "bold", "offset": 0, "length": 1}]'}
        async with session.post(f"{api.base_url}{api.token}/sendMessage", data=form) as response:
            body = await response.json()
        assert response.status == 200 and body["result"]["text"] == "123"
        assert body["result"]["entities"] == [{"type": "bold", "offset": 0, "length": 1}]
        async with session.post(f"{api.base_url}{api.token}/SENDMESSAGE", json={"chat_id": 12, "text": "j"}) as r2:
            assert r2.status == 200
    params = api.calls("sendMessage")[0].params
    assert params == {
        "chat_id": 12,
        "text": "123",
        "entities": [{"type": "bold", "offset": 0, "length": 1}],
    }
    assert api.calls("sendmessage")[1].method == "sendMessage"
