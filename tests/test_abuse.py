"""A hostile user against the real bot (PTB's HTTP stack against the fake Bot API on 127.0.0.1): forged button
data, inline results past an allow-list, uploads built to freeze or exhaust the bot, floods of commands."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from retrieval import Library
from tests.botharness import GROUP, OTHER, USER, ask, bot_settings, buttons, running_bot
from tests.fakebotapi import FakeBotApi, running_fake_bot_api


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with running_fake_bot_api() as server:
        yield server
        rejected = [(c.method, c.description) for c in server.calls() if c.response_status == 400]
        assert rejected == []


def _next_page(call_buttons: list[tuple[str, str]]) -> str:
    return next(data for label, data in call_buttons if "下一页" in label)


async def test_paging_tokens_are_unguessable_and_bound_to_who_asked(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library):
        mine = await ask(api, "全县生产总值达到多少？")
        theirs = await ask(api, "各单位存在哪些问题", chat_id=OTHER, user_id=OTHER)
        token_mine, token_theirs = _next_page(buttons(mine)).split(":")[1], _next_page(buttons(theirs)).split(":")[1]
        # random, not a counter: 96 bits, nothing shared between two tokens issued one after the other
        assert len(token_mine) >= 16 and token_mine[:8] != token_theirs[:8]
        # the other user presses a button carrying my token on their own message: a refusal, not my question
        mark = api.mark()
        api.push_callback_query(f"a:{token_mine}:1", OTHER, OTHER, theirs.result["message_id"])
        refused = await api.wait_for("answerCallbackQuery", since=mark)
        assert "别人的提问" in refused.params["text"] and refused.params.get("show_alert") in (True, "true")
        assert api.calls("editMessageText") == []
        # the same token in a group from me is another chat: refused too
        mark = api.mark()
        api.push_callback_query(f"a:{token_mine}:1", GROUP, USER, 1, chat_type="supergroup")
        assert "别人的提问" in (await api.wait_for("answerCallbackQuery", since=mark)).params["text"]
        # a forged token (a neighbour of a real one) is unknown: "ask again", never anyone's answer
        forged = token_theirs[:-1] + ("A" if token_theirs[-1] != "A" else "B")
        mark = api.mark()
        api.push_callback_query(f"a:{forged}:1", OTHER, OTHER, theirs.result["message_id"])
        assert "请重新提问" in (await api.wait_for("answerCallbackQuery", since=mark)).params["text"]
        assert api.calls("editMessageText") == []
        # the owner still pages their own answer
        mark = api.mark()
        api.push_callback_query(f"a:{token_mine}:1", USER, USER, mine.result["message_id"])
        edited = await api.wait_for("editMessageText", since=mark)
        assert "第 2/3 页" in edited.text and "全县生产总值" in edited.text


async def test_inline_results_are_personal_behind_an_allow_list(api: FakeBotApi, library: Library) -> None:
    settings = bot_settings(api, Path(library.store.path), REPORTBOT_ALLOWED_CHATS=str(USER))
    async with running_bot(api, library, settings):
        mark = api.mark()
        api.push_inline_query("四下基层", USER)
        call = await api.wait_for("answerInlineQuery", since=mark)
    assert call.params["results"]
    # Telegram must not show these cached results to an outsider typing the same query
    assert call.params.get("is_personal") in (True, "true")
    assert int(call.params.get("cache_time", 300)) == 0


async def test_inline_results_of_an_open_bot_may_be_shared(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library):
        mark = api.mark()
        api.push_inline_query("四下基层", USER)
        call = await api.wait_for("answerInlineQuery", since=mark)
    assert call.params["results"] and call.params.get("is_personal") in (False, "false", None)
