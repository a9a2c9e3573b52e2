"""Comparing one part across reports (/compare, "各单位存在哪些问题对比一下", `reportbot compare`): the library on the
bundled and provincial reports, the CLI's JSON and the real bot through the fake Bot API."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from bot.cli import cli
from fakebotapi import FakeBotApi
from retrieval import Library, OutOfScopeAnswer, PartAnswer
from retrieval.compare import compare, compare_question, part_named, point_heads, points
from retrieval.jsonout import compare_json
from tests.botharness import ask, buttons, running_bot
from tests.support import REPORTS


def test_part_names() -> None:
    assert part_named("存在问题") == part_named("problems") == part_named("各单位存在哪些问题对比一下") == "problems"
    assert part_named("下一步打算") == part_named("plans") == "plans"
    assert part_named("主要做法") == "progress"
    assert part_named("天气") is None


def test_points_split_numbered_parts() -> None:
    text = "存在以下问题：一是学习不够。主要是……。二是覆盖不广。平时……。三是创新不足。"
    assert points(text) == ["存在以下问题：", "一是学习不够。主要是……。", "二是覆盖不广。平时……。", "三是创新不足。"]
    assert point_heads(text) == ["一是学习不够。", "二是覆盖不广。", "三是创新不足。"]
    assert points("一段没有编号的文字。第二句。") == ["一段没有编号的文字。第二句。"]
    assert point_heads("一段没有编号的文字。") == []


def test_compare_bundled(corpus_library: Library) -> None:
    answer = compare(corpus_library, "problems")
    assert isinstance(answer, PartAnswer)
    payload = compare_json(answer)
    assert payload["part"] == "problems"
    assert [r["id"] for r in payload["reports"]] == [1, 4, 5]
    first = payload["reports"][0]
    assert set(first) >= {"id", "title", "source", "date", "unit", "section", "text"}
    assert first["section"] == "二、存在问题" and first["text"].startswith("主题教育开展以来")
    assert [p[:2] for p in first["points"][1:]] == ["一是", "二是", "三是"]
    # the words ask the same
    asked = corpus_library.ask("各单位存在哪些问题对比一下")
    assert isinstance(asked, PartAnswer) and [b.report.id for b in asked.blocks] == [1, 4, 5]


def test_compare_scoped(corpus_library: Library, provincial_library: Library) -> None:
    one = compare(corpus_library, "problems", report_ids=[4])
    assert isinstance(one, PartAnswer) and [b.report.id for b in one.blocks] == [4]
    two = compare(provincial_library, "problems", units=["广东", "江苏"])
    assert isinstance(two, PartAnswer)
    assert sorted(r["unit"][:2] for r in compare_json(two)["reports"]) == ["广东", "江苏"]
    assert all(r["date"].startswith("2026-") for r in compare_json(two)["reports"])
    everyone = compare(provincial_library, "problems")
    assert isinstance(everyone, PartAnswer) and len(everyone.blocks) == 31
    missing = compare(corpus_library, "problems", years=[2019])
    assert isinstance(missing, OutOfScopeAnswer) and missing.scope is not None  # says why, never an empty answer
    asked = compare_question(provincial_library, "存在问题 广东")
    assert isinstance(asked, PartAnswer) and [b.report.source for b in asked.blocks] == ["2026年广东省政府工作报告.txt"]
    assert compare_question(provincial_library, "天气 广东") is None


def test_cli_compare(provincial_cli_db: Path) -> None:
    runner = CliRunner()
    env = {"REPORTBOT_DB": str(provincial_cli_db)}  # the provincial folder, ingested by `reportbot ingest`
    result = runner.invoke(cli, ["compare", "存在问题", "--units", "广东,江苏", "--json"], env=env)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["part"] == "problems"
    assert sorted(r["source"] for r in payload["reports"]) == [
        "2026年广东省政府工作报告.txt",
        "2026年江苏省政府工作报告.txt",
    ]
    dates = [r["date"] for r in payload["reports"]]
    assert dates == sorted(dates, reverse=True)  # newest first
    assert all(r["text"] and r["section"] for r in payload["reports"])
    text = runner.invoke(cli, ["compare", "plans", "--reports", "12"], env=env)
    assert text.exit_code == 0 and "#12 《2026年广东省政府工作报告》" in text.output and "下一步打算" in text.output
    bad = runner.invoke(cli, ["compare", "天气"], env=env)
    assert bad.exit_code == 2 and "name a part" in bad.output
    assert runner.invoke(cli, ["compare", "problems", "--years", "twenty"], env=env).exit_code == 2
    none = runner.invoke(cli, ["compare", "problems", "--years", "2019"], env=env)
    assert none.exit_code == 1 and "没有2019年的报告" in none.output


async def test_bot_compare(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library):
        reply = await ask(api, "/compare 存在问题")
        assert "共有 <b>3</b> 份报告有“存在问题”部分" in reply.text
        assert "一是自主学习热度不够。" in reply.text and "二是理论研讨深度不够。" in reply.text
        assert ("全文 #1", "w:1:problems") in buttons(reply)
        words = await ask(api, "各单位存在哪些问题对比一下")
        assert words.text == reply.text
        one = await ask(api, "/compare 存在问题 #4")
        assert "#4 《第二批主题教育10月份阶段性总结》" in one.text and "二是学习教育覆盖面不广" in one.text
        usage = await ask(api, "/compare 天气")
        assert "用法：/compare" in usage.text
        none = await ask(api, "/compare 存在问题 2019年")
        assert "范围：2019年" in none.text and "没有2019年" in none.text
        english = await ask(api, "/compare", language_code="en")
        assert "Usage: /compare" in english.text


def test_compare_by_year(yearly_library: Library) -> None:
    answer = compare(yearly_library, "problems", years=[2021, 2024])
    assert isinstance(answer, PartAnswer)
    assert [r["date"] for r in compare_json(answer)["reports"]] == ["2024-01-20", "2021-01-20"]
    assert compare_json(answer)["reports"][0]["points"] == ["一是基础薄弱。", "二是人才不足。"]


def test_terminal_compare(corpus_library: Library) -> None:
    from bot.terminal import answer_text

    text = answer_text(corpus_library, "/compare 存在问题")
    assert "共有 【3】 份报告有“存在问题”部分" in text and "一是自主学习热度不够。" in text
    assert REPORTS.is_dir()
