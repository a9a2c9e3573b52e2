"""Questions about a standard part of the reports (存在哪些问题, 下一步有什么打算, 主要做法有哪些): that part of
each report, one block per report, through the library, the command line and the real bot (fake Bot API)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from telegram.constants import MessageLimit

from bot.cli import cli
from bot.render import answer_reply, page_count, units
from bot.terminal import answer_text
from fakebotapi import FakeBotApi
from retrieval import Library, PartAnswer, RankedAnswer
from retrieval.ingest import ingest_file
from retrieval.jsonout import answer_json
from retrieval.query import part_question
from tests.botharness import USER, ask, bot_settings, buttons, running_bot
from tests.support import REPORTS


@pytest.mark.parametrize(
    ("question", "part"),
    [
        ("存在哪些问题", "problems"),
        ("各单位存在哪些问题？", "problems"),
        ("有哪些不足", "problems"),
        ("问题和不足", "problems"),
        ("下一步有什么打算", "plans"),
        ("下一步工作计划是什么", "plans"),
        ("今年的重点工作", "plans"),
        ("主要做法有哪些", "progress"),
        ("取得了哪些成效", "progress"),
        ("下一步有什麼打算", "plans"),  # traditional characters
        ("哪些省份存在问题", "problems"),
        ("各地区下一步的打算", "plans"),
        ("各單位存在哪些問題？", "problems"),
        ("举办了几期读书班", None),
        ("学习存在哪些问题", None),  # asks about something within the part: a search
        ("问题整改到位率是多少", None),
        ("群众急难愁盼问题", None),
    ],
)
def test_part_questions_are_recognised(question: str, part: str | None) -> None:
    assert part_question(question) == part


def _sources(answer: PartAnswer) -> list[str]:
    return [block.report.source[:3] for block in answer.blocks]


def test_plans_of_every_bundled_report(corpus_library: Library) -> None:
    """The issue's complaint: "下一步有什么打算" brought 2 of the 5 reports' plans; plans without a heading
    ("下一步，我们将……") were missed."""
    answer = corpus_library.ask("下一步有什么打算")
    assert isinstance(answer, PartAnswer) and answer.part == "plans"
    assert sorted(_sources(answer)) == ["000", "001", "002", "003", "004"]
    by_source = {block.report.source[:3]: block for block in answer.blocks}
    assert by_source["001"].paragraphs[0].text.startswith("下一步，我们将继续把主题教育")
    assert [p.number for p in by_source["001"].paragraphs] == [12, 13, 14, 15]
    assert by_source["004"].heading == "三、下一步打算"
    assert by_source["004"].paragraphs[-1].text.startswith("四要扎实推进整改落实")


def test_newest_report_first(corpus_library: Library, provincial_library: Library) -> None:
    """Blocks come newest report first where reports are dated (the 2023 汇报 before the undated ones), then by id."""
    plans = corpus_library.ask("下一步有什么打算")
    assert isinstance(plans, PartAnswer)
    assert [b.report.source[:3] for b in plans.blocks] == ["002", "000", "001", "003", "004"]
    problems = provincial_library.ask("存在哪些问题")
    assert isinstance(problems, PartAnswer)
    dates = [b.report.date or "" for b in problems.blocks]
    assert all(dates) and dates == sorted(dates, reverse=True)


def test_problems_and_progress_of_the_bundled_reports(corpus_library: Library) -> None:
    problems = corpus_library.ask("各单位存在哪些问题")
    assert isinstance(problems, PartAnswer)
    assert sorted(_sources(problems)) == ["000", "003", "004"]  # 001 and 002 name no problems
    text = "".join(p.text for b in problems.blocks for p in b.paragraphs)
    assert "破解工学矛盾还缺乏有效手段" in text and "自主学习热度不够" in text
    progress = corpus_library.ask("主要做法有哪些")
    assert isinstance(progress, PartAnswer) and len(progress.blocks) == 5


def test_a_part_nobody_has_falls_back_to_a_search(empty_library: Library, tmp_path: Path) -> None:
    report = tmp_path / "a.txt"
    report.write_text("学习情况\n我们组织了学习，参加人数达到120人。\n", encoding="utf-8")
    ingest_file(empty_library, report)
    answer = empty_library.ask("存在哪些问题")
    assert isinstance(answer, RankedAnswer)


def test_provincial_reports_problems_and_plans(provincial_library: Library) -> None:
    problems = provincial_library.ask("存在哪些问题")
    assert isinstance(problems, PartAnswer) and len(problems.blocks) == 31
    # the problems of a government work report are one paragraph at the end of its review
    assert all(len(block.paragraphs) == 1 for block in problems.blocks)
    assert all("清醒" in b.paragraphs[0].text or "问题" in b.paragraphs[0].text for b in problems.blocks)
    plans = provincial_library.ask("下一步的重点工作")
    assert isinstance(plans, PartAnswer) and len(plans.blocks) == 31
    guangdong = next(b for b in plans.blocks if "广东" in b.report.source)
    assert guangdong.heading == "三、2026年工作安排"
    texts = [p.text for p in guangdong.paragraphs]
    assert any("（十四）全面加强政府自身建设" in t for t in texts)
    assert not any("让我们更加紧密地团结" in t for t in texts)  # the closing words are not plans
    assert not any("名词解释" in t for t in texts)
    scoped = provincial_library.part("plans", report_ids=frozenset({guangdong.report.id}))
    assert [b.report.id for b in scoped.blocks] == [guangdong.report.id]
    assert scoped.blocks[0].paragraphs == guangdong.paragraphs


def test_terminal_and_cli_show_part_answers(
    corpus_library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = answer_text(corpus_library, "存在哪些问题")
    assert "共有 【3】 份报告有“存在问题”部分" in shown and "二、存在问题" in shown
    monkeypatch.setenv("REPORTBOT_DB", str(tmp_path / "cli.db"))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(cli, ["ingest", str(REPORTS)], obj={}).exit_code == 0
    result = runner.invoke(cli, ["ask", "--json", "下一步有什么打算"], obj={})
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["intent"] == "part" and payload["part"] == "plans"
    assert len(payload["reports"]) == 5
    first = payload["reports"][0]
    assert {"report_id", "title", "source", "heading", "paragraphs"} <= first.keys()
    assert all({"number", "kind", "section", "text"} <= p.keys() for p in first["paragraphs"])
    plain = runner.invoke(cli, ["ask", "存在哪些问题"], obj={})
    # as the terminal chat shows it, each report's part whole (as its 全文 button shows it)
    assert "共有 【3】 份报告有“存在问题”部分" in plain.output and "§10 一是部分党员学习主动性不够" in plain.output


async def test_bot_answers_a_part_question_and_reads_a_part_whole(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library):
        first = await ask(api, "下一步有什么打算")
        assert "共有 <b>5</b> 份报告有“下一步打算”部分" in first.text and "第 1/2 页" in first.text
        assert first.text.count("<blockquote>") == 3
        whole = [(label, data) for label, data in buttons(first) if label.startswith("全文")]
        assert len(whole) == 3 and all(data.startswith("w:") and data.endswith(":plans") for _, data in whole)
        # the next page: the other two reports
        nav = next(data for label, data in buttons(first) if "下一页" in label)
        mark = api.mark()
        api.push_callback_query(nav, USER, USER, first.result["message_id"])
        second = await api.wait_for("editMessageText", since=mark)
        assert "第 2/2 页" in second.text and second.text.count("<blockquote>") == 2
        # one report's plans, whole
        report_id = next(int(data.split(":")[1]) for label, data in buttons(second) if label.startswith("全文"))
        mark = api.mark()
        api.push_callback_query(f"w:{report_id}:plans", USER, USER, first.result["message_id"])
        part = await api.wait_for("sendMessage", since=mark)
    # the report whose button was pressed, whatever the order of the pages (newest first once reports are dated)
    title = library.store.report(report_id).title
    expected = [p for p in library.part("plans", report_ids=frozenset({report_id})).blocks[0].paragraphs]
    assert "“下一步打算”部分" in part.text and f"#{report_id} 《{title}》" in part.text
    assert all(p.text[:30] in part.text for p in expected if p.kind == "body")


async def test_bot_pages_a_long_part_by_telegram_limit(api: FakeBotApi, provincial_library: Library) -> None:
    """A provincial report's plans are tens of thousands of characters: shown whole, page by page, each page
    within Telegram's limit, every paragraph on some page."""
    guangdong = next(r for r in provincial_library.reports() if "广东" in r.source)
    block = provincial_library.part("plans", report_ids=frozenset({guangdong.id})).blocks[0]
    async with running_bot(api, provincial_library):
        mark = api.mark()
        api.push_callback_query(f"w:{guangdong.id}:plans", USER, USER, 1, message_text="earlier answer")
        page = await api.wait_for("sendMessage", since=mark)
        pages = [page]
        while next_page := [data for label, data in buttons(pages[-1]) if "下一页" in label]:
            mark = api.mark()
            api.push_callback_query(next_page[0], USER, USER, page.result["message_id"])
            pages.append(await api.wait_for("editMessageText", since=mark))
    assert len(pages) > 5 and f"第 {len(pages)}/{len(pages)} 页" in pages[-1].text
    assert all(units(p.text) <= MessageLimit.MAX_TEXT_LENGTH for p in pages)
    shown = "".join(p.text for p in pages)
    assert all(f"§{p.number}" in shown for p in block.paragraphs if p.kind == "body")


async def test_inline_part_question(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library):
        mark = api.mark()
        api.push_inline_query("存在哪些问题", USER)
        answered = await api.wait_for("answerInlineQuery", since=mark)
    results = answered.params["results"]
    assert len(results) == 3 and all("存在问题" in r["title"] for r in results)
    private = bot_settings(api, Path(library.store.path), REPORTBOT_ALLOWED_CHATS=str(USER))
    async with running_bot(api, library, private):
        mark = api.mark()
        api.push_inline_query("存在哪些问题", USER)
        behind = await api.wait_for("answerInlineQuery", since=mark)
    # a private deployment's part answers are personal and uncached like every other inline answer
    assert behind.params["results"] and behind.params.get("is_personal") in (True, "true")


def test_every_page_of_a_provincial_part_answer_fits(provincial_library: Library) -> None:
    for question in ("存在哪些问题", "下一步的重点工作", "主要做法有哪些"):
        answer = provincial_library.ask(question)
        assert isinstance(answer, PartAnswer) and len(answer.blocks) == 31
        for lang in ("zh", "en"):
            pages = page_count(answer, lang)
            assert pages == 11
            shown = [answer_reply(answer, lang, page=page) for page in range(pages)]
            assert all(units(reply.text) <= MessageLimit.MAX_TEXT_LENGTH for reply in shown)
            assert sum(reply.text.count("<blockquote>") for reply in shown) == 31


def test_scoped_part_questions(provincial_library: Library, corpus_library: Library) -> None:
    """A scoped part question answers with that part of the named report only, and says which scope it used."""
    answer = provincial_library.ask("广东省下一步的重点工作")
    assert isinstance(answer, PartAnswer) and answer.part == "plans"
    assert [b.report.source for b in answer.blocks] == ["2026年广东省政府工作报告.txt"]
    assert answer.scope is not None and answer_json(answer)["scope"]["report_ids"] == [answer.blocks[0].report.id]
    shown = answer_text(provincial_library, "广东省下一步的重点工作")
    assert "范围" in shown and "“下一步打算”部分" in shown
    fourth = corpus_library.ask("第四份报告存在哪些问题")
    assert isinstance(fourth, PartAnswer) and [b.report.source[:3] for b in fourth.blocks] == ["003"]
    assert fourth.blocks[0].paragraphs[-1].text.startswith("一是部分党员学习主动性不够")


def test_an_outline_shows_where_the_parts_run(corpus_library: Library) -> None:
    outline = corpus_library.outline(5)
    assert [(run.part, run.first, run.last) for run in outline.parts] == [
        ("progress", 2, 6),
        ("problems", 7, 9),
        ("plans", 10, 15),
    ]
    assert "部分：主要做法及成效 (§2–6) · 存在问题 (§7–9) · 下一步打算 (§10–15)" in answer_text(
        corpus_library, "/report 5"
    )


async def test_bot_outline_part_buttons_read_a_part(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library):
        outline = await ask(api, "/report 5")
        assert "部分：" in outline.text and "存在问题 <i>(§7–9)</i>" in outline.text
        assert ("存在问题", "w:5:problems") in buttons(outline)
        mark = api.mark()
        api.push_callback_query("w:5:problems", USER, USER, outline.result["message_id"])
        part = await api.wait_for("sendMessage", since=mark)
        mark = api.mark()
        # data no button carries is refused as every button refuses it: an alert, no message
        api.push_callback_query("w:5:nonsense", USER, USER, outline.result["message_id"])
        refused = await api.wait_for("answerCallbackQuery", since=mark)
        assert [c for c in api.calls("sendMessage") if c.seq >= mark] == []
    assert "“存在问题”部分" in part.text and "但也还存在以下问题：" in part.text and "二是破解工学矛盾" in part.text
    assert "请重新提问" in refused.params["text"] and refused.params.get("show_alert") in (True, "true")


def test_cli_show_carries_the_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPORTBOT_DB", str(tmp_path / "cli.db"))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(cli, ["ingest", str(REPORTS)], obj={}).exit_code == 0
    payload = json.loads(runner.invoke(cli, ["show", "4", "--json"], obj={}).output)
    assert payload["parts"] == [
        {"part": "progress", "first": 3, "last": 8},
        {"part": "problems", "first": 9, "last": 10},
        {"part": "plans", "first": 11, "last": 12},
    ]
    assert (
        "部分：主要做法及成效 第3–8段 · 存在问题 第9–10段 · 下一步打算 第11–12段"
        in runner.invoke(cli, ["show", "4"], obj={}).output
    )
