"""A term over the years (/trend, "新质生产力历年提及情况", `reportbot trend`): counts equal to the mention answer's,
the chart (a PNG drawn with a font that has Chinese), the CLI's JSON and the real bot sending the chart as a photo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from fakebotapi import FakeBotApi, UploadedFile
from retrieval import Library, Store
from retrieval.ingest import ingest_bytes
from retrieval.jsonout import trend_json
from retrieval.trend import cjk_font, default_by, trend, trend_png, trend_question
from tests.botharness import ask, running_bot
from tests.conftest import yearly_report

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("question", "term"),
    [
        ("新质生产力历年提及情况", "新质生产力"),
        ("“三会一课”每年提到几次？", "三会一课"),
        ("新质生产力的变化趋势", "新质生产力"),
        ("主题教育历年变化", "主题教育"),
        ("全县生产总值达到多少", None),
        ("哪些报告提到四下基层", None),
        ("各单位存在哪些问题", None),
    ],
)
def test_trend_questions(question: str, term: str | None) -> None:
    assert trend_question(question) == term


def test_counts_equal_the_mention_answer(corpus_library: Library, provincial_library: Library) -> None:
    answer = corpus_library.mentions("主题教育")
    by_report = trend(corpus_library, "主题教育", by="report")
    assert {(p.key, p.mentions) for p in by_report.points} == {(m.report.id, m.mentions) for m in answer.reports}
    assert by_report.mentions == sum(m.mentions for m in answer.reports)
    # the provincial reports are of one year and name their units: by unit, as the grouped mention answer
    assert default_by(provincial_library) == "unit"
    by_unit = trend(provincial_library, "新质生产力")
    grouped = provincial_library.ask("哪些省份提到新质生产力")
    assert [(p.key, p.mentions, p.reports) for p in by_unit.points] == [
        (g.key, g.mentions, len(g.reports))
        for g in grouped.groups()  # type: ignore[union-attr]
    ]
    assert len(by_unit.points) == 31 and by_unit.mentions == 122
    assert trend(provincial_library, "没有这个词语").points == ()


def test_by_year(yearly_library: Library, corpus_library: Library) -> None:
    assert default_by(yearly_library) == "year"
    found = trend(yearly_library, "新质生产力")
    assert trend_json(found) == {
        "term": "新质生产力",
        "by": "year",
        "points": [
            {"year": 2019, "mentions": 0, "reports": 0},  # a year of the library without a mention is a zero
            {"year": 2021, "mentions": 2, "reports": 1},
            {"year": 2022, "mentions": 3, "reports": 1},
            {"year": 2024, "mentions": 1, "reports": 1},
        ],
    }
    grouped = yearly_library.ask("哪几年提到新质生产力")
    assert {(g.key, g.mentions) for g in grouped.groups()} == {  # type: ignore[union-attr]
        (p.key, p.mentions) for p in found.points if p.mentions
    }
    # reports without a year are counted apart, never dropped
    mixed = trend(corpus_library, "主题教育", by="year")
    assert [p.key for p in mixed.points] == [2023, None]
    assert mixed.mentions == sum(m.mentions for m in corpus_library.mentions("主题教育").reports)


def test_chart_draws_chinese(corpus_library: Library) -> None:
    assert cjk_font() is not None  # fonts-noto-cjk, installed by the project's setup
    png = trend_png(trend(corpus_library, "主题教育"))
    assert png.startswith(PNG) and len(png) > 5000


def test_cli_trend(provincial_cli_db: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"REPORTBOT_DB": str(provincial_cli_db)}  # the provincial folder, ingested by `reportbot ingest`
    chart = tmp_path / "chart.png"
    result = runner.invoke(cli, ["trend", "新质生产力", "--json", "--png", str(chart)], env=env)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["term"] == "新质生产力" and payload["by"] == "unit"
    assert payload["points"][0] == {"unit": "四川省", "mentions": 7, "reports": 1}
    assert sum(p["mentions"] for p in payload["points"]) == 122
    assert chart.read_bytes().startswith(PNG)
    by_report = json.loads(runner.invoke(cli, ["trend", "新质生产力", "--by", "report", "--json"], env=env).output)
    assert by_report["points"][0] == {"report_id": 1, "mentions": 3, "reports": 1}
    text = runner.invoke(cli, ["trend", "新质生产力"], env=env)
    assert text.exit_code == 0 and "四川省\t7处\t1份报告" in text.output
    assert runner.invoke(cli, ["trend", "x", "--by", "month"], env=env).exit_code == 2


async def test_bot_sends_the_chart_and_the_table(api: FakeBotApi, yearly_library: Library, tmp_path: Path) -> None:
    library = Library(Store(tmp_path / "r.db"), yearly_library.segmenter)
    for year, mentions in ((2019, 0), (2021, 2), (2022, 3), (2024, 1)):
        ingest_bytes(library, f"{year}年某县政府工作报告.txt", yearly_report(year, mentions))
    async with running_bot(api, library):
        mark = api.mark()
        table = await ask(api, "/trend 新质生产力")
        photo = (await api.wait_for("sendPhoto", since=mark)).params
        assert isinstance(photo["photo"], UploadedFile) and photo["photo"].data.startswith(PNG)
        assert photo["caption"] == "“新质生产力”共 6 处、3 份报告：2019年 0 · 2021年 2 · 2022年 3 · 2024年 1"
        assert table.text.splitlines() == [
            "“新质生产力”历年提及情况（共 <b>6</b> 处，3 份报告）：",
            "2019年 · 0 处 · 0 份报告",
            "2021年 · 2 处 · 1 份报告",
            "2022年 · 3 处 · 1 份报告",
            "2024年 · 1 处 · 1 份报告",
        ]
        mark = api.mark()
        words = await ask(api, "新质生产力历年提及情况")
        assert words.text == table.text
        await api.wait_for("sendPhoto", since=mark)
        none = await ask(api, "/trend 没有这个词语")
        assert "没有报告提到“没有这个词语”" in none.text
        usage = await ask(api, "/trend")
        assert "用法：/trend" in usage.text
        english = await ask(api, "/trend 新质生产力", language_code="en")
        assert "“新质生产力” by year" in english.text and "2021 · 2× · 1 reports" in english.text
    library.store.close()


def test_terminal_trend(yearly_library: Library) -> None:
    from bot.terminal import answer_text

    assert "2022年 · 3 处 · 1 份报告" in answer_text(yearly_library, "新质生产力历年提及情况")
    assert "2022年 · 3 处 · 1 份报告" in answer_text(yearly_library, "/trend 新质生产力")
