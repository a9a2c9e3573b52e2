"""Feedback (👍/👎 under answers, what the reader expected after a 👎, `reportbot feedback`, /stats for admins):
through the real bot and the fake Bot API, stored in the real SQLite file; the schema upgrade."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from bot.cli import cli
from fakebotapi import FakeBotApi
from retrieval import Library, Store
from retrieval.store import SCHEMA_VERSION
from tests.botharness import ADMIN, OTHER, USER, ask, buttons, running_bot


def _vote(reply_buttons: list[tuple[str, str]], label: str) -> str:
    return next(data for text, data in reply_buttons if text == label)


async def test_votes_and_what_was_expected(api: FakeBotApi, library: Library, tmp_path: Path) -> None:
    async with running_bot(api, library):
        reply = await ask(api, "全县生产总值达到多少？")
        up, down = _vote(buttons(reply), "👍"), _vote(buttons(reply), "👎")
        assert up.startswith("f:") and up.endswith(":up") and down.endswith(":down")
        mark = api.mark()
        api.push_callback_query(up, USER, USER, reply.result["message_id"])
        assert "谢谢反馈" in (await api.wait_for("answerCallbackQuery", since=mark)).params["text"]
        # changing one's mind changes the vote; a 👎 asks what was expected
        mark = api.mark()
        api.push_callback_query(down, USER, USER, reply.result["message_id"])
        prompt = await api.wait_for("sendMessage", lambda c: c.chat_id == USER, since=mark)
        assert "期望的答案" in prompt.text and prompt.params["reply_markup"]["force_reply"] is True
        # a reply to that question by the reader is stored with the vote
        mark = api.mark()
        api.push_message("应该引用第9段的364.2亿元", USER, USER, reply_to_message=prompt.result["message_id"])
        saved = await api.wait_for("sendMessage", lambda c: c.chat_id == USER, since=mark)
        assert "已记录" in saved.text
        # another reader's vote on the answer they were shown is refused: the answer is not theirs
        mark = api.mark()
        api.push_callback_query(up, OTHER, OTHER, reply.result["message_id"])
        assert "别人的提问" in (await api.wait_for("answerCallbackQuery", since=mark)).params["text"]
        for forged in ("f:", "f:abc", "f:abc:maybe", "f:nosuchtoken:up", f"{up}:x"):
            mark = api.mark()
            api.push_callback_query(forged, USER, USER, reply.result["message_id"])
            assert "请重新提问" in (await api.wait_for("answerCallbackQuery", since=mark)).params["text"]
        # a mention answer's vote stores the reports it showed
        mention = await ask(api, "哪些报告提到四下基层")
        mark = api.mark()
        api.push_callback_query(_vote(buttons(mention), "👍"), USER, USER, mention.result["message_id"])
        await api.wait_for("answerCallbackQuery", since=mark)
        # /stats: admins see the counts, others do not
        admin = await ask(api, "/stats", chat_id=ADMIN, user_id=ADMIN)
        assert "反馈：👍 1 · 👎 1 · 留言 1" in admin.text
        assert "反馈" not in (await ask(api, "/stats")).text
    rows = library.store.feedback()
    assert [(r["vote"], r["user_id"], r["question"]) for r in rows] == [
        ("down", USER, "全县生产总值达到多少？"),
        ("up", USER, "哪些报告提到四下基层"),
    ]
    assert rows[0]["comment"] == "应该引用第9段的364.2亿元"
    shown = json.loads(rows[0]["shown"])
    assert {"report_id": 2, "paragraph": 9} in [{k: s[k] for k in ("report_id", "paragraph")} for s in shown]
    assert json.loads(rows[1]["shown"]) == [{"report_id": 1, "mentions": 1}, {"report_id": 2, "mentions": 1}]
    # the CLI exports them
    runner = CliRunner()
    env = {"REPORTBOT_DB": library.store.path}
    result = runner.invoke(cli, ["feedback", "--json"], env=env)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["vote"] for line in lines] == ["down", "up"] and lines[0]["comment"] == "应该引用第9段的364.2亿元"
    assert isinstance(lines[0]["shown"], list)
    assert runner.invoke(cli, ["feedback", "--json", "--since", "2999-01-01"], env=env).output == ""
    text = runner.invoke(cli, ["feedback"], env=env).output
    assert "2 条反馈：👍 1 · 👎 1 · 留言 1" in text
    assert runner.invoke(cli, ["feedback", "--since", "yesterday"], env=env).exit_code == 2


async def test_a_reply_by_someone_else_is_a_question(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library):
        reply = await ask(api, "全县生产总值达到多少？")
        mark = api.mark()
        api.push_callback_query(_vote(buttons(reply), "👎"), USER, USER, reply.result["message_id"])
        prompt = await api.wait_for("sendMessage", lambda c: c.chat_id == USER, since=mark)
        other = await ask(api, "哪些报告提到四下基层", reply_to_message=prompt.result["message_id"], user_id=OTHER)
        assert "份报告提到“四下基层”" in other.text
    assert library.store.feedback()[0]["comment"] is None


def test_an_older_library_gains_the_feedback_table(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    Store(db).close()
    conn = sqlite3.connect(db)
    conn.execute("DROP TABLE feedback")
    conn.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    store = Store(db)
    assert store.meta("schema_version") == str(SCHEMA_VERSION) == "6"
    assert store.feedback() == [] and store.feedback_counts() == {"up": 0, "down": 0, "comments": 0}
    store.close()
