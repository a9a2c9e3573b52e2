"""Faults survived, end to end: the real bot against the fake Bot API on 127.0.0.1 injecting flood limits, 5xx,
timeouts and dropped connections; blocked chats; a database that is locked, full or read-only. Then "no one let
in": admin checks, the allow-list, the rate limit, secrets in logs and replies, user text as SQL/path/format.

"Sent twice" means: two sendMessage calls that Telegram executed (the user sees two messages) carrying the same
reply to one update, or the same day's digest to one chat. Every fault where Telegram answers an error (429, 5xx,
403) or the connection fails before the request is executed leaves exactly one copy; a request that Telegram
executed but whose response never arrived (read timeout) is indistinguishable from a lost one, and the retry that
delivers the answer when it was lost is a second copy when it was not. docs/reliability.md states the limit.
"""

from __future__ import annotations

import ast
import asyncio
import logging
import socket
import sqlite3
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest
from telegram.ext import ApplicationBuilder

from bot import callbacks, delivery
from bot.app import build_application, webhook_options
from bot.jobs import deliver_digests
from bot.services import services_of
from fakebotapi import Call, FakeBotApi, running_fake_bot_api
from retrieval import Library
from retrieval.jsonout import answer_json
from tests.botharness import ADMIN, GROUP, OTHER, USER, ask, bot_settings, buttons, running_bot
from tests.support import ROOT

READ_TIMEOUT = 0.5  # seconds; the production default (PTB's) is 5 s
DAY = datetime(2026, 11, 23, 8, 0)
NEW_REPORT = "新增报告标题汇报\n一、主要做法\n我们坚持四下基层，推动工作落实，形成调研报告12篇。\n".encode()


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with running_fake_bot_api() as server:
        yield server
        # whatever was injected, the bot never sent anything Telegram would reject as malformed (a request cut off
        # by the client, such as the long poll cancelled at shutdown, is not one)
        rejected = [(c.method, c.description) for c in server.calls() if c.response_status == 400 and not c.client_gone]
        assert rejected == []
        assert server.server_errors == []


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """with_retries' backoff (0.5 s, doubled) shortened so that five failed attempts take no time."""
    monkeypatch.setattr(delivery, "BACKOFF", 0.02)


@pytest.fixture
def short_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB's read timeouts shortened for this test only (no production setting): every Application built while
    the fixture is active gets them, through the builder that bot.app uses."""
    build = ApplicationBuilder.build

    def build_with_short_timeouts(self: ApplicationBuilder) -> object:  # type: ignore[type-arg]
        self.read_timeout(READ_TIMEOUT).get_updates_read_timeout(READ_TIMEOUT)
        return build(self)

    monkeypatch.setattr(ApplicationBuilder, "build", build_with_short_timeouts)


def delivered(api: FakeBotApi, chat_id: int, since: int, needle: str = "") -> list[Call]:
    """sendMessage calls to the chat that Telegram executed (the user sees them), whether or not the bot got the
    response."""
    return [c for c in api.calls("sendMessage", chat_id) if c.seq >= since and c.ok and needle in (c.text or "")]


async def answered(api: FakeBotApi, since: int, chat_id: int = USER, timeout: float = 10.0) -> Call:
    return await api.wait_for("sendMessage", lambda c: c.chat_id == chat_id and c.ok, timeout, since=since)


# --- the Bot API failing while the bot answers ---------------------------------------------------------------


async def test_flood_limit_on_an_answer_is_waited_out(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library):
        mark = api.mark()
        api.fail_next("sendMessage", status=429, retry_after=1, chat_id=USER)
        api.push_message("哪些报告提到四下基层", USER, USER)
        answer = await answered(api, mark)
        assert "共有 <b>2</b> 份报告" in answer.text
    assert [c.response_status for c in api.calls("sendMessage", USER) if c.seq >= mark] == [429, 200]
    assert len(delivered(api, USER, mark)) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_server_errors_on_an_answer_are_retried(
    api: FakeBotApi, library: Library, fast_backoff: None, status: int
) -> None:
    async with running_bot(api, library):
        mark = api.mark()
        api.fail_next("sendMessage", status=status, count=3, chat_id=USER)
        api.push_message("全县生产总值达到多少？", USER, USER)
        answer = await answered(api, mark)
    assert "364.2亿元" in answer.text
    assert [c.response_status for c in api.calls("sendMessage", USER) if c.seq >= mark] == [status] * 3 + [200]
    assert len(delivered(api, USER, mark)) == 1


async def test_dropped_connections_on_an_answer_are_retried(
    api: FakeBotApi, library: Library, fast_backoff: None
) -> None:
    async with running_bot(api, library):
        mark = api.mark()
        api.drop_next("sendMessage", count=2, chat_id=USER)
        api.push_message("哪些报告提到三会一课", USER, USER)
        answer = await answered(api, mark)
    assert "三会一课" in answer.text
    assert [c.response_status for c in api.calls("sendMessage", USER) if c.seq >= mark] == [0, 0, 200]
    assert len(delivered(api, USER, mark)) == 1


async def test_a_failing_typing_indicator_does_not_cost_the_answer(
    api: FakeBotApi, library: Library, fast_backoff: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.handlers

    monkeypatch.setattr(bot.handlers, "TYPING_AFTER_S", 0.0)  # every answer counts as slow: "typing…" is sent
    async with running_bot(api, library):
        mark = api.mark()
        api.fail_next("sendChatAction", status=502)
        api.push_message("哪些报告提到四下基层", USER, USER)
        answer = await answered(api, mark)
        mark2 = api.mark()
        api.drop_next("sendChatAction")
        again = await ask(api, "哪些报告提到主题党日")
    assert "四下基层" in answer.text and "出了点问题" not in answer.text
    assert "主题党日" in again.text
    assert [c.response_status for c in api.calls("sendChatAction") if c.seq >= mark] == [502, 0]
    assert len(delivered(api, USER, mark)) == 2 and len(delivered(api, USER, mark2)) == 1


async def test_buttons_survive_a_flaky_api(api: FakeBotApi, library: Library, fast_backoff: None) -> None:
    async with running_bot(api, library):
        first = await ask(api, "全县生产总值达到多少？")
        nav = next(data for label, data in buttons(first) if "下一页" in label)
        mark = api.mark()
        api.fail_next("answerCallbackQuery", status=502)
        api.fail_next("editMessageText", status=502)
        api.push_callback_query(nav, USER, USER, first.result["message_id"])
        edited = await api.wait_for("editMessageText", lambda c: c.ok, since=mark)
        assert "第 2/3 页" in edited.text
        mark = api.mark()
        api.drop_next("answerCallbackQuery")
        api.push_callback_query("p:2:9", USER, USER)
        paragraph = await answered(api, mark)
    assert "全县生产总值达到364.2亿元" in paragraph.text
    assert not [c for c in api.calls("sendMessage", USER) if "出了点问题" in (c.text or "")]


@pytest.mark.parametrize("timeouts", [1, 2])
async def test_send_timeouts_deliver_the_answer_and_duplicate_it_at_most_once_per_timeout(
    api: FakeBotApi, library: Library, fast_backoff: None, short_timeouts: None, timeouts: int
) -> None:
    """The one case where a message can arrive twice: Telegram executed the request but the bot timed out
    waiting for the response. The retry is what delivers the answer when the request was really lost, so it is
    kept; each timed-out attempt adds at most one copy, and no other fault adds any."""
    async with running_bot(api, library):
        mark = api.mark()
        api.delay_next("sendMessage", READ_TIMEOUT * 3, count=timeouts, chat_id=USER)
        api.push_message("哪些报告提到四下基层", USER, USER)
        await answered(api, mark)
        copies = await api.wait_for_count(
            "sendMessage", timeouts + 1, predicate=lambda c: c.chat_id == USER and c.ok, since=mark, timeout=5
        )
        await asyncio.sleep(READ_TIMEOUT * 3)
    assert len({c.text for c in copies}) == 1 and "四下基层" in copies[0].text
    assert len(delivered(api, USER, mark)) == timeouts + 1
    # the extra copies are the timed-out requests, executed by "Telegram" after the bot had stopped waiting
    assert sorted(c.client_gone for c in delivered(api, USER, mark)) == [False] + [True] * timeouts


async def test_get_updates_faults_lose_no_question_and_answer_none_twice(
    api: FakeBotApi, library: Library, short_timeouts: None
) -> None:
    questions = ["哪些报告提到四下基层", "哪些报告提到三会一课", "哪些报告提到主题党日", "哪些报告提到双报到"]
    async with running_bot(api, library):
        mark = api.mark()
        api.fail_next("getUpdates", status=502)
        await api.wait_for("getUpdates", lambda c: c.response_status == 502, since=mark)
        api.push_message(questions[0], USER, USER)
        api.drop_next("getUpdates")
        await api.wait_for("getUpdates", lambda c: c.response_status == 0, since=mark)
        api.push_message(questions[1], USER, USER)
        api.fail_next("getUpdates", status=429, retry_after=1)
        await api.wait_for("getUpdates", lambda c: c.response_status == 429, since=mark)
        api.push_message(questions[2], USER, USER)
        # a long poll that outlives the read timeout: PTB gives up and polls again; the stale poll is then
        # executed by "Telegram" and terminates the new one with 409 Conflict, as the real server does
        api.delay_next("getUpdates", READ_TIMEOUT * 4)
        await api.wait_for("getUpdates", lambda c: c.client_gone, since=mark, timeout=10)
        api.push_message(questions[3], USER, USER)
        await api.wait_for_count("sendMessage", 4, predicate=lambda c: c.chat_id == USER and c.ok, since=mark)
        await asyncio.sleep(0.5)
    for question in questions:
        term = question.removeprefix("哪些报告提到")
        assert len(delivered(api, USER, mark, f"提到“{term}”")) == 1, term


async def test_a_user_who_blocked_the_bot_costs_nothing(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library) as app:
        api.block_chat(OTHER)
        mark = api.mark()
        api.push_message("哪些报告提到四下基层", OTHER, OTHER)
        await api.wait_for("sendMessage", lambda c: c.chat_id == OTHER and c.response_status == 403, since=mark)
        assert "四下基层" in (await ask(api, "哪些报告提到四下基层")).text
        assert app.running
    assert delivered(api, OTHER, mark) == []


# --- digests under faults ------------------------------------------------------------------------------------


async def test_digest_reaches_everyone_once_through_every_fault(
    api: FakeBotApi, library: Library, fast_backoff: None
) -> None:
    chats = list(range(7001, 7009))
    for chat in chats:
        library.store.subscribe(chat, "zh", last_report_seq=0, last_passage_id=0)
    flood, flaky, dropped, blocked, down = chats[:5]
    async with running_bot(api, library) as app:
        api.fail_next("sendMessage", status=429, retry_after=1, chat_id=flood)
        api.fail_next("sendMessage", status=502, count=2, chat_id=flaky)
        api.drop_next("sendMessage", count=2, chat_id=dropped)
        api.block_chat(blocked)
        api.fail_next("sendMessage", status=500, count=delivery.ATTEMPTS, chat_id=down)  # down for this run
        mark = api.mark()
        first = await deliver_digests(app.bot, services_of(app), now=DAY)
        assert first == {"sent": 6, "skipped": 0, "unsubscribed": 1, "failed": 1}
        second = await deliver_digests(app.bot, services_of(app), now=DAY)  # "Telegram" is back for `down`
        assert second == {"sent": 1, "skipped": 6, "unsubscribed": 0, "failed": 0}
    for chat in chats:
        copies = delivered(api, chat, mark, "每日摘要")
        assert len(copies) == (0 if chat == blocked else 1), chat
    assert blocked not in [s["chat_id"] for s in library.store.subscribers()]


# --- the database failing ------------------------------------------------------------------------------------


async def _upload(api: FakeBotApi, data: bytes, name: str, *, user: int = ADMIN, timeout: float = 15) -> Call:
    mark = api.mark()
    api.push_document(data, name, user, user)
    return await api.wait_for("sendMessage", lambda c: c.chat_id == user, timeout, since=mark)


async def test_locked_database_refuses_the_upload_and_keeps_answering(api: FakeBotApi, library: Library) -> None:
    before = library.store.counts()
    other = sqlite3.connect(library.store.path, isolation_level=None)
    try:
        async with running_bot(api, library):
            other.execute("BEGIN IMMEDIATE")  # another process (say `reportbot ingest`) is writing
            upload = asyncio.create_task(_upload(api, NEW_REPORT, "new.txt"))
            await asyncio.sleep(0.2)
            started = time.perf_counter()
            answer = await ask(api, "哪些报告提到四下基层", chat_id=OTHER, user_id=OTHER)
            latency = time.perf_counter() - started
            refused = await upload
            other.execute("ROLLBACK")
            retried = await _upload(api, NEW_REPORT, "new.txt")
    finally:
        other.close()
    assert "共有 <b>2</b> 份报告" in answer.text
    assert latency < 2.0, f"a question waited {latency:.1f}s for another process's write lock"
    assert "数据库现在无法写入" in refused.text and "locked" in refused.text
    assert "已添加报告 #6" in retried.text
    assert library.store.counts()["reports"] == before["reports"] + 1


async def test_locked_database_never_delays_questions(api: FakeBotApi, library: Library) -> None:
    """A write (/watch here) waits for another process's lock up to the 5 s busy timeout, then says plainly that
    the database cannot be written; questions, on their own connection, are answered meanwhile at once."""
    other = sqlite3.connect(library.store.path, isolation_level=None)
    try:
        async with running_bot(api, library):
            other.execute("BEGIN IMMEDIATE")
            watch = asyncio.create_task(ask(api, "/watch 调查研究"))
            await asyncio.sleep(0.2)
            started = time.perf_counter()
            answer = await ask(api, "哪些报告提到四下基层", chat_id=OTHER, user_id=OTHER)
            latency = time.perf_counter() - started
            refused = await watch
            other.execute("ROLLBACK")
            assert "已关注" in (await ask(api, "/watch 调查研究")).text
    finally:
        other.close()
    assert "共有 <b>2</b> 份报告" in answer.text
    assert latency < 2.0, f"a question waited {latency:.1f}s behind a write"
    assert "数据库现在无法写入" in refused.text and "locked" in refused.text


async def test_full_database_refuses_the_upload_and_keeps_answering(api: FakeBotApi, library: Library) -> None:
    before = answer_json(library.ask("哪些报告提到四下基层"))
    counts = library.store.counts()
    pages = library.store.db.execute("PRAGMA page_count").fetchone()[0]
    library.store.db.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "disk full", on the bot's conn
    big = "大报告\n" + "".join(f"第{i}条：我们坚持四上基层，推动工作落实，形成调研报告{i}篇。\n" for i in range(3000))
    async with running_bot(api, library):
        refused = await _upload(api, big.encode(), "big.txt")
        answer = await ask(api, "哪些报告提到四下基层")
        nothing = await ask(api, "哪些报告提到四上基层")
    assert "数据库现在无法写入" in refused.text and "full" in refused.text
    assert "共有 <b>2</b> 份报告" in answer.text and "没有报告提到" in nothing.text
    assert answer_json(library.ask("哪些报告提到四下基层")) == before
    assert library.store.counts() == counts


async def test_read_only_database_refuses_the_upload_and_keeps_answering(api: FakeBotApi, library: Library) -> None:
    counts = library.store.counts()
    library.store.db.execute("PRAGMA query_only = ON")  # what a read-only file gives (chmod means nothing to root)
    async with running_bot(api, library):
        refused = await _upload(api, NEW_REPORT, "new.txt")
        answer = await ask(api, "哪些报告提到四下基层")
        outline = await ask(api, "/report 2")
        mark = api.mark()
        api.push_callback_query("p:2:9", USER, USER)
        paragraph = await answered(api, mark)
    assert "数据库现在无法写入" in refused.text and "readonly" in refused.text
    assert "共有 <b>2</b> 份报告" in answer.text and "《主题教育开展情况》" in outline.text
    assert "364.2亿元" in paragraph.text
    assert library.store.counts() == counts


async def test_digest_goes_out_even_when_it_cannot_be_recorded(api: FakeBotApi, library: Library) -> None:
    """A database that turned read-only (or full, or locked for long) must not stop the digest run at the first
    subscriber: everyone still gets today's digest; it is just not recorded (so it may come again)."""
    for chat in (USER, OTHER, ADMIN):
        library.store.subscribe(chat, "zh", last_report_seq=0, last_passage_id=0)
    async with running_bot(api, library) as app:
        mark = api.mark()
        library.store.db.execute("PRAGMA query_only = ON")
        outcome = await deliver_digests(app.bot, services_of(app), now=DAY)
    assert outcome["sent"] == 3
    for chat in (USER, OTHER, ADMIN):
        assert len(delivered(api, chat, mark, "每日摘要")) == 1


# --- no one let in -------------------------------------------------------------------------------------------


async def drained(api: FakeBotApi, timeout: float = 5.0) -> None:
    """Wait until the bot fetched and confirmed every pushed update (then leaving `running_bot` awaits their
    handlers), so a test can assert on what the bot did *not* do."""
    deadline = time.monotonic() + timeout
    while api.pending_updates:
        assert time.monotonic() < deadline, "the bot did not fetch every update"
        await asyncio.sleep(0.02)


async def test_uploads_are_checked_by_telegram_user_id_on_every_call(api: FakeBotApi, library: Library) -> None:
    other_report = "另一份报告汇报\n一、做法\n我们推进双报到工作。\n".encode()
    async with running_bot(api, library):
        assert "已添加报告 #6" in (await _upload(api, NEW_REPORT, "new.txt")).text
        mark = api.mark()
        assert "只有管理员" in (await _upload(api, other_report, "other.txt", user=OTHER)).text
        # the admin's chat id is not the admin: what counts is the Telegram user id of the sender
        api.push_document(other_report, "impostor.txt", ADMIN, OTHER)
        assert "只有管理员" in (await answered(api, mark, chat_id=ADMIN)).text
        # a file shared in a group by someone else is not for the bot: no answer, no download
        api.push_document(other_report, "group.txt", GROUP, OTHER, chat_type="supergroup")
        await drained(api)
    assert not [c for c in api.calls() if c.seq >= mark and c.method in ("getFile", "downloadFile")]
    assert not [c for c in api.calls("sendMessage", GROUP) if c.seq >= mark]
    assert [r.source for r in library.reports()][-1] == "new.txt" and library.stats()["reports"] == 6
    # admins come from the settings of the running bot, checked per upload: dropped from the list, refused
    settings = bot_settings(api, Path(library.store.path), REPORTBOT_ADMINS="")
    async with running_bot(api, library, settings):
        assert "只有管理员" in (await _upload(api, other_report, "other.txt")).text
    assert library.stats()["reports"] == 6


def test_no_button_leads_to_an_admin_action_but_the_checked_delete_confirmation() -> None:
    """Each kind of button data has a handler of its own (bot/callbacks.py, registered with its pattern), and no
    handler of a button but one reaches an admin action. The one admin action behind a button, the /delete
    confirmation (d:ID:y), checks the presser is an admin before it deletes (pressed in tests/test_delete.py)."""
    source = (ROOT / "bot" / "handlers.py").read_text(encoding="utf-8")
    functions = {node.name: node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.AsyncFunctionDef)}

    def called(name: str) -> list[str]:
        nodes = [n for n in ast.walk(functions[name]) if isinstance(n, ast.Call)]
        return [n.func.id if isinstance(n.func, ast.Name) else getattr(n.func, "attr", "") for n in nodes]

    buttons = [name for name in functions if name.endswith("_button") and name != "delete_button"]
    # one per kind of button but the delete confirmation, and the one for data of no kind (stale_button)
    assert len(buttons) == len(callbacks.KINDS)
    for name in buttons:
        assert not set(called(name)) & {"document", "ingest_bytes", "ingest_file", "delete_report", "is_admin"}, name
    delete = called("delete_button")
    assert delete.index("is_admin") < delete.index("to_thread")  # delete_report is passed to to_thread


async def test_allow_list_covers_buttons_uploads_and_groups(api: FakeBotApi, library: Library) -> None:
    settings = bot_settings(api, Path(library.store.path), REPORTBOT_ALLOWED_CHATS=str(USER))
    async with running_bot(api, library, settings):
        mark = api.mark()
        api.push_callback_query("p:2:9", OTHER, OTHER, 1, message_text="old answer")
        alert = await api.wait_for("answerCallbackQuery", since=mark)
        refused = await _upload(api, NEW_REPORT, "new.txt")  # an admin, but not on the allow-list
        api.push_message(f"@{api.bot_username} 哪些报告提到四下基层", GROUP, OTHER, chat_type="supergroup")
        api.push_message("/report 2", GROUP, OTHER, chat_type="supergroup")
        allowed = await ask(api, "哪些报告提到四下基层")
        await drained(api)
    assert "仅供内部使用" in alert.params["text"]
    assert "仅供内部使用" in refused.text
    assert "四下基层" in allowed.text
    assert [c.text for c in api.calls("sendMessage", OTHER) if c.seq >= mark] == []
    assert [c.text for c in api.calls("sendMessage", GROUP) if c.seq >= mark] == []
    assert not [c for c in api.calls() if c.seq >= mark and c.method in ("getFile", "downloadFile")]
    assert library.stats()["reports"] == 5


async def test_rate_limit_counts_every_way_of_asking(api: FakeBotApi, library: Library) -> None:
    settings = bot_settings(api, Path(library.store.path), REPORTBOT_RATE_LIMIT="3")
    async with running_bot(api, library, settings):
        await ask(api, "四下基层")
        await ask(api, "/search 三会一课")
        mark = api.mark()
        api.push_inline_query("主题党日", USER)
        assert (await api.wait_for("answerInlineQuery", since=mark)).params["results"]
        assert "太快" in (await ask(api, "哪些报告提到双报到")).text
        # told once per window, then ignored: each refusal would itself be a message
        mark = api.mark()
        api.push_message("/mentions 双报到", USER, USER)
        api.push_message("/help", USER, USER)
        api.push_callback_query("x:0", USER, USER, 1, message_text="/start")
        api.push_inline_query("主题党日", USER)  # the same user's updates are handled in order
        assert (await api.wait_for("answerInlineQuery", since=mark)).params["results"] == []
        assert api.calls("sendMessage", USER)[-1].seq < mark
        pressed = [c for c in api.calls("answerCallbackQuery") if c.seq >= mark]
        assert len(pressed) == 1 and not pressed[0].params.get("text")
        # per user: another user, even in the same group, is not slowed down
        assert "双报到" in (await ask(api, "哪些报告提到双报到", chat_id=OTHER, user_id=OTHER)).text


def _all_log_text(caplog: pytest.LogCaptureFixture) -> str:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records) + "\n" + caplog.text


def _everything_sent(api: FakeBotApi) -> str:
    return "\n".join(repr(c.params) for c in api.calls())


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every record at DEBUG, including the libraries configure_logging quiets (httpx logs URLs with the token)."""
    for name in ("", "httpx", "httpcore", "telegram", "telegram.ext", "apscheduler", "aiohttp", "asyncio"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


async def test_the_token_is_in_no_log_record_and_no_message(
    library: Library, debug_logs: pytest.LogCaptureFixture, fast_backoff: None, short_timeouts: None
) -> None:
    async with running_fake_bot_api() as api, running_bot(api, library):
        secret = api.token.split(":", 1)[1]
        mark = api.mark()
        api.fail_next("sendMessage", status=500, chat_id=USER)
        api.drop_next("sendMessage", chat_id=USER)
        api.fail_next("sendMessage", status=429, retry_after=1, chat_id=USER)
        await ask(api, "哪些报告提到四下基层")
        api.delay_next("sendMessage", READ_TIMEOUT * 2, chat_id=USER)
        await ask(api, "全县生产总值达到多少？")
        await api.wait_for("sendMessage", lambda c: c.client_gone, since=mark)  # the timed-out copy, executed
        api.fail_next("getUpdates", status=502)
        api.drop_next("getUpdates")
        await ask(api, "/stats")
        api.fail_next("sendMessage", status=400, description="Bad Request: can't parse entities", chat_id=USER)
        api.push_message("/reports", USER, USER)  # an error, with its traceback in the log
        await api.wait_for("sendMessage", lambda c: c.ok and "出了点问题" in (c.text or ""), since=mark)
        assert "已添加报告" in (await _upload(api, NEW_REPORT, "new.txt")).text  # getFile + the file URL
        api.block_chat(OTHER)
        api.push_message("/start", OTHER, OTHER)
        await api.wait_for("sendMessage", lambda c: c.response_status == 403, since=mark)
        library.store.db.execute("PRAGMA query_only = ON")
        assert "无法写入" in (await _upload(api, NEW_REPORT.replace(b"12", b"13"), "again.txt")).text
        library.store.db.execute("PRAGMA query_only = OFF")
    logs = _all_log_text(debug_logs)
    assert "HTTP Request: POST" in logs and "[REDACTED]" in logs  # httpx did log the URLs, redacted
    assert "Traceback" in logs
    for text in (logs, _everything_sent(api)):
        assert api.token not in text
        assert secret not in text


async def test_the_webhook_secret_is_in_no_log_record(library: Library, debug_logs: pytest.LogCaptureFixture) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    secret = "Webhook_S3cret-for-logs"
    async with running_fake_bot_api() as api:
        settings = bot_settings(
            api,
            Path(library.store.path),
            REPORTBOT_WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
            REPORTBOT_WEBHOOK_LISTEN="127.0.0.1",
            REPORTBOT_WEBHOOK_PORT=str(port),
            REPORTBOT_WEBHOOK_SECRET=secret,
        )
        application = build_application(settings, library)
        await application.initialize()
        await application.start()
        assert application.updater is not None
        await application.updater.start_webhook(**webhook_options(settings))
        try:
            update = api.push_message("哪些报告提到四下基层", USER, USER, queue=False)
            async with aiohttp.ClientSession() as session:
                headers = {"X-Telegram-Bot-Api-Secret-Token": "a-wrong-guess"}  # PTB logs wrong ones
                async with session.post(f"http://127.0.0.1:{port}/hook", json=update, headers=headers) as r:
                    assert r.status == 403
            assert await api.deliver_to_webhook(update) == 200
            await api.wait_for("sendMessage", lambda c: c.chat_id == USER)
        finally:
            await application.updater.stop()
            await application.stop()
            await application.shutdown()
    logs = _all_log_text(debug_logs)
    assert "setWebhook" in logs
    assert "a-wrong-guess" in logs  # the record that would have carried a secret exists ...
    assert secret not in logs and api.token not in logs  # ... and the real ones are in none


# User text used as a format string, a path, a regex or SQL: none of these may change what the bot does.
NASTY = [
    "{0}",
    "{}",
    "{title}",
    "%s",
    "%(x)s",
    "%n",
    "../../etc/passwd",
    "..\\..\\boot.ini",
    "/dev/zero",
    "(",
    "[",
    "*",
    ".*",
    "\\",
    "$1",
    "'; DROP TABLE reports; --",
    '" OR 1=1 --',
    "<b>",
    "&amp;",
]
MARK = "zqx"  # prefixed to every nasty string, so it can be found wherever it goes


async def test_user_text_is_never_code_a_path_or_a_pattern(
    api: FakeBotApi, library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    db_files = {p.name for p in tmp_path.iterdir()}
    statements: list[tuple[str, object]] = []
    # every command counts in the rate limit: this one user sends hundreds
    settings = bot_settings(api, Path(library.store.path), REPORTBOT_RATE_LIMIT="10000")
    with library.store.db.tracer(lambda sql, params: statements.append((sql, params))):
        async with running_bot(api, library, settings):
            for i, nasty in enumerate(NASTY):
                text = MARK + nasty
                for reply in (
                    await ask(api, text),
                    await ask(api, f"哪些报告提到{text}"),
                    await ask(api, f"/search {text}"),
                    await ask(api, f"/mentions {text}"),
                    await ask(api, f"/report {text}"),
                ):
                    assert reply.ok and "出了点问题" not in reply.text, (nasty, reply.text)
                watched = await ask(api, f"/watch {text}")
                assert watched.result["text"] == f"已关注“{text}”：新报告中出现它时会在每日摘要里告诉你。"
                listed = await ask(api, "/watches")
                assert f"• {text}" in listed.result["text"]
                assert "已取消关注" in (await ask(api, f"/unwatch {text}")).text
                report = f"注入测试报告{i}\n一、做法\n我们推进第{i}项工作，涉及{text}。\n".encode()
                uploaded = await _upload(api, report, f"{text}.txt")
                # directories are dropped from a name: `zqx\\.txt` is `.txt`, which has no name to keep
                separator = "/" in nasty or "\\" in nasty
                assert "已添加报告" in uploaded.text or (separator and "无法添加" in uploaded.text), uploaded.text
                mark = api.mark()
                api.push_inline_query(text, USER)
                assert (await api.wait_for("answerInlineQuery", since=mark)).ok
    # names are file names, never paths: nothing was written anywhere, directories were dropped
    assert {p.name for p in tmp_path.iterdir()} <= db_files | {"reports.db-wal", "reports.db-shm"}
    sources = [r.source for r in library.reports()][5:]
    assert len(sources) >= len(NASTY) - 2
    assert all("/" not in s and "\\" not in s and s.endswith(".txt") for s in sources)
    assert "passwd.txt" in sources and "boot.ini.txt" in sources
    # the database is whole, and user text only ever travelled as a bound parameter
    assert library.store.counts()["reports"] == 5 + len(sources)
    assert statements and not [sql for sql, _ in statements if MARK in sql]
    assert [params for _, params in statements if MARK in repr(params)]


SQL_WORDS = ("SELECT ", "INSERT ", "UPDATE ", "DELETE ", " WHERE ", " FROM ", "PRAGMA ", " IN (")
# The only values spliced into SQL text: table names from a literal tuple and runs of '?' placeholders.
SPLICED = {"table", "marks"}


def test_all_sql_is_parameterised() -> None:
    """Every f-string, %-format or .format() that builds SQL in the bot and the library splices in only the
    names above, all derived from constants or lengths; values always travel as parameters."""
    found: list[str] = []
    for path in sorted([*(ROOT / "bot").glob("*.py"), *(ROOT / "retrieval").glob("*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                literal = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
                if any(word in literal for word in SQL_WORDS):  # the code writes SQL keywords in capitals
                    for value in node.values:
                        if isinstance(value, ast.FormattedValue):
                            spliced = ast.unparse(value.value)
                            found.append(spliced)
                            assert spliced in SPLICED, f"{path.name}:{node.lineno} splices {spliced} into SQL"
            call = node.func if isinstance(node, ast.Call) else None
            is_format = isinstance(call, ast.Attribute) and call.attr == "format"
            is_percent = isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod)
            if is_format or is_percent:
                target = node.func.value if isinstance(node, ast.Call) else node.left  # type: ignore[union-attr]
                if isinstance(target, ast.Constant) and isinstance(target.value, str):
                    assert not any(w in target.value for w in SQL_WORDS), f"{path.name}:{node.lineno}"
    assert found  # the check saw the store's IN (?, ?, ...) lists
