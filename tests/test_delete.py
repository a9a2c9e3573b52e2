"""Deleting a report: `reportbot delete` and an admin's /delete in the bot (confirmed with a button). Gone from
ranked and mention answers at once and after a restart from the saved index; digest cursors unharmed."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

import retrieval.library as library_module
from bot.cli import cli
from bot.jobs import deliver_digests
from bot.services import services_of
from fakebotapi import FakeBotApi
from retrieval import Library
from tests.botharness import ADMIN, GROUP, OTHER, USER, ask, buttons, running_bot
from tests.support import REPORTS

# Report #2 holds the one passage with 全县生产总值达到364.2亿元 and one of the two reports that mention 四下基层.
RANKED, MENTION = "全县生产总值达到多少？", "哪些报告提到四下基层"


def test_cli_delete_removes_the_report_from_answers_and_from_the_saved_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPORTBOT_DB", str(tmp_path / "lib.db"))
    monkeypatch.delenv("REPORTBOT_REPORTS_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(library_module, "SAVE_INDEX_MIN_PASSAGES", 1)  # the bundled reports get a saved index
    runner = CliRunner()

    def ask_json(*questions: str) -> list[dict[str, object]]:
        result = runner.invoke(cli, ["ask", "--json", *questions], obj={})
        assert result.exit_code == 0, result.output
        return [json.loads(line) for line in result.output.splitlines()]

    assert runner.invoke(cli, ["ingest", str(REPORTS)], obj={}).exit_code == 0
    saved_key = (tmp_path / "lib.db.index" / "key").read_text()
    ranked, mention = ask_json(RANKED, MENTION)
    assert ranked["passages"][0]["report_id"] == 2 and "364.2亿元" in ranked["passages"][0]["text"]
    assert [r["id"] for r in mention["reports"]] == [1, 2]

    unknown = runner.invoke(cli, ["delete", "2", "99"], obj={})  # all or nothing
    assert unknown.exit_code == 1 and "99" in unknown.output
    deleted = runner.invoke(cli, ["delete", "--json", "001_21f5e1b268e4dc66.txt"], obj={})  # by file name
    assert deleted.exit_code == 0, deleted.output
    assert json.loads(deleted.output) == {
        "source": "001_21f5e1b268e4dc66.txt",
        "status": "deleted",
        "id": 2,
        "title": "主题教育开展情况",
    }

    # a new process: the index saved before the delete no longer fits the database and is not used
    assert (tmp_path / "lib.db.index" / "key").read_text() == saved_key
    ranked, mention = ask_json(RANKED, MENTION)
    assert all(p["report_id"] != 2 for p in ranked["passages"]) and "364.2亿元" not in json.dumps(ranked)
    assert [r["id"] for r in mention["reports"]] == [1]
    assert "报告 4 份" in runner.invoke(cli, ["stats"], obj={}).output
    assert runner.invoke(cli, ["delete", "2"], obj={}).exit_code == 1  # gone


async def test_admin_deletes_with_a_confirmation_button(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library):
        before = await ask(api, RANKED)
        assert "364.2亿元" in before.text
        nav = next(data for label, data in buttons(before) if "下一页" in label)

        assert "/delete" not in (await ask(api, "/help", chat_id=OTHER, user_id=OTHER)).text
        assert "/delete 编号 删除报告" in (await ask(api, "/help", chat_id=ADMIN, user_id=ADMIN)).text
        refused = await ask(api, "/delete 2", chat_id=OTHER, user_id=OTHER)
        assert "只有管理员可以删除报告" in refused.text and not buttons(refused)
        assert "用法：/delete" in (await ask(api, "/delete", chat_id=ADMIN, user_id=ADMIN)).text
        assert "没有编号为 99 的报告" in (await ask(api, "/delete 99", chat_id=ADMIN, user_id=ADMIN)).text

        confirm = await ask(api, "/delete 2", chat_id=ADMIN, user_id=ADMIN)
        assert "确定删除报告 #2 《主题教育开展情况》" in confirm.text
        assert [data for _, data in buttons(confirm)] == ["d:2:y", "d:2:n"]
        assert library.stats()["reports"] == 5  # nothing happens before the press

        # presses that must change nothing: someone else's (a button seen in a group, or forged), malformed data
        for data, user, alert in [
            ("d:2:y", OTHER, "只有管理员可以删除报告"),
            ("d:2:yes", ADMIN, "已失效"),
            ("d:x:y", ADMIN, "已失效"),
            ("d:12345678901234:y", ADMIN, "已失效"),
            ("d:99:y", ADMIN, "已经不存在"),
        ]:
            mark = api.mark()
            chat, kind = (ADMIN, "private") if user == ADMIN else (GROUP, "supergroup")
            api.push_callback_query(data, chat, user, confirm.result["message_id"], chat_type=kind)
            answered = await api.wait_for("answerCallbackQuery", since=mark)
            assert alert in answered.params["text"], data
        assert library.stats()["reports"] == 5

        mark = api.mark()
        api.push_callback_query("d:2:n", ADMIN, ADMIN, confirm.result["message_id"])
        assert "没有删除" in (await api.wait_for("editMessageText", since=mark)).text
        assert library.stats()["reports"] == 5

        mark = api.mark()
        api.push_callback_query("d:2:y", ADMIN, ADMIN, confirm.result["message_id"])
        done = await api.wait_for("editMessageText", since=mark)
        assert "已删除报告 #2 《主题教育开展情况》" in done.text and not buttons(done)

        # at once: the next answers no longer quote or count it
        after = await ask(api, RANKED)
        assert "364.2亿元" not in after.text and "《主题教育开展情况》" not in after.text
        mention = await ask(api, MENTION)
        assert "共有 <b>1</b> 份报告" in mention.text and "《主题教育开展情况》" not in mention.text
        assert "没有编号为 2 的报告" in (await ask(api, "/report 2")).text
        # a paging button of an answer made before the delete: ask again, rather than a page that quotes it
        mark = api.mark()
        api.push_callback_query(nav, USER, USER, before.result["message_id"])
        assert "请重新提问" in (await api.wait_for("answerCallbackQuery", since=mark)).params["text"]
        # pressed again (a stale client): the report is gone, said plainly
        mark = api.mark()
        api.push_callback_query("d:2:y", ADMIN, ADMIN, confirm.result["message_id"])
        assert "已经不存在" in (await api.wait_for("answerCallbackQuery", since=mark)).params["text"]
    assert library.stats()["reports"] == 4
    assert library.owner() == "operator"


NEWS = "河长制工作汇报{n}\n一、主要做法\n全面落实河长制，巡河{n}次，推进四下基层。\n"


async def test_a_delete_never_makes_a_digest_skip_or_repeat(api: FakeBotApi, library: Library) -> None:
    day = datetime(2026, 11, 23, 8, 0)

    async def digest_on(day: datetime) -> str:
        mark = api.mark()
        outcome = await deliver_digests(app.bot, services_of(app), now=day)
        assert outcome["sent"] == 1
        [digest] = [c.text for c in api.calls("sendMessage", chat_id=USER) if c.seq >= mark]
        return digest

    async def upload(n: int) -> None:
        mark = api.mark()
        api.push_document(NEWS.format(n=n).encode(), f"news{n}.txt", ADMIN, ADMIN)
        assert "已添加报告" in (await api.wait_for("sendMessage", lambda c: c.chat_id == ADMIN, since=mark)).text

    async with running_bot(api, library) as app:
        await ask(api, "/watch 河长制")
        await upload(1)
        first = await digest_on(day)
        assert "《河长制工作汇报1》" in first and "关注词“河长制”的新内容" in first
        # the newest report, the one the subscriber's cursor points at, is deleted; then another arrives
        confirm = await ask(api, "/delete 6", chat_id=ADMIN, user_id=ADMIN)
        mark = api.mark()
        api.push_callback_query("d:6:y", ADMIN, ADMIN, confirm.result["message_id"])
        await api.wait_for("editMessageText", since=mark)
        await upload(2)
        second = await digest_on(day + timedelta(days=1))
        new_reports = second.split("<b>新报告</b>")[1].split("关注词")[0]
        assert "《河长制工作汇报2》" in new_reports and "巡河2次" in second  # not skipped
        assert "河长制工作汇报1" not in second
        third = await digest_on(day + timedelta(days=2))
        assert "河长制工作汇报" not in third and "今日一段" in third  # not repeated
