"""Quantity questions (举办了几期读书班, 增长目标是多少): among BM25's candidates, passages stating a number with its
unit beside the question's terms come first, and the number is marked as well as the terms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from retrieval import Library, Quote, RankedAnswer
from retrieval.quantity import numbers_beside, quantity_question
from tests.support import REPORTS


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("先后组织6期读书班、27次集中学习", ["6期", "27次"]),
        ("全县生产总值达到364.2亿元，同比增长7.9%", ["364.2亿元", "7.9%"]),
        ("地区生产总值增长4.5%—5%，一般公共预算收入增长5%左右", ["4.5%—5%", "5%左右"]),
        ("签约3万吨水处理剂生产等项目28个", ["3万吨", "28个"]),
        ("粮食产量1600亿斤以上", ["1600亿斤以上"]),
        ("占比提高百分之五，收入增长三成", ["百分之五", "三成"]),
        ("2023年12月20日前完成调研，取得成功", []),  # years, dates and 成功 are no quantities
    ],
)
def test_numbers_with_their_unit(text: str, numbers: list[str]) -> None:
    terms = ["组织", "读书班", "总值", "增长", "项目", "产量", "提高", "收入", "完成"]
    assert [n for _, _, n in numbers_beside(text, terms)] == numbers


def test_only_numbers_beside_the_terms_count() -> None:
    text = "全县共有干部1200名。我们组织了读书班，效果很好。"
    assert numbers_beside(text, ["读书班"]) == []
    assert [n for _, _, n in numbers_beside(text, ["干部"])] == ["1200名"]


@pytest.mark.parametrize(
    ("question", "unit"),
    [
        ("举办了几期读书班", "期"),
        ("调研课题确定了多少个", "个"),
        ("全县生产总值达到多少", None),
        ("增长目标是多少", None),
    ],
)
def test_quantity_questions(question: str, unit: str | None) -> None:
    found = quantity_question(question)
    assert found is not None and found.unit == unit
    assert quantity_question("政府办怎样做好文稿服务") is None


def _marked(quote: Quote) -> list[str]:
    return [quote.text[a:b] for a, b in quote.highlights]


@pytest.mark.parametrize("question", ["举办了几期读书班", "舉辦了幾期讀書班"])
def test_how_many_reading_classes(corpus_library: Library, question: str) -> None:
    """The issue's example: "举办了几期读书班" must bring the passage with "6期读书班", the number marked."""
    answer = corpus_library.ask(question)
    assert isinstance(answer, RankedAnswer)
    first = answer.passages[0]
    assert first.source.startswith("002_") and "先后组织6期读书班" in first.text
    assert any("6期" in mark for mark in _marked(first))
    assert any("读书班" in mark for mark in _marked(first))


def test_reranking_keeps_bm25_candidates_and_scores(corpus_library: Library) -> None:
    """Only the order among BM25's own candidates changes, and only for quantity questions."""
    question = "举办了几期读书班"
    terms = corpus_library.query_terms(question)
    ranked = corpus_library._passages.bm25.top(terms, 20)
    ids = corpus_library._passages.passage_ids
    candidates = {int(ids[position]): score for position, score in ranked}
    answer = corpus_library.search(question, limit=8)
    assert answer.passages and all(candidates[q.passage_id] == q.score for q in answer.passages)
    assert [q.score for q in answer.passages] != sorted((q.score for q in answer.passages), reverse=True)
    for plain in ("政府办怎样做好文稿服务", "主题党日活动", "学习贯彻A新时代中国特色社会主义思想"):
        passages = corpus_library.search(plain, limit=8, per_report=8).passages
        assert [q.score for q in passages] == sorted((q.score for q in passages), reverse=True), plain


@pytest.mark.parametrize(
    ("question", "province", "answer", "number"),
    [
        ("广东省今年地区生产总值增长目标是多少", "广东", "地区生产总值增长4.5%—5%", "4.5%—5%"),
        ("黑龙江粮食产量目标是多少", "黑龙江", "粮食产量1600亿斤以上", "1600亿斤以上"),
        ("浙江省城镇新增就业多少万人", "浙江", "城镇新增就业115.8万人", "115.8万人"),
    ],
)
def test_provincial_quantity_questions(
    provincial_library: Library, question: str, province: str, answer: str, number: str
) -> None:
    found = provincial_library.ask(question)
    assert isinstance(found, RankedAnswer)
    first = found.passages[0]
    assert province in first.source and answer in first.text
    assert any(number in mark for mark in _marked(first))


def test_cli_json_carries_the_marked_number(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPORTBOT_DB", str(tmp_path / "cli.db"))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(cli, ["ingest", str(REPORTS)], obj={}).exit_code == 0
    payload = json.loads(runner.invoke(cli, ["ask", "--json", "举办了几期读书班"], obj={}).output)
    first = payload["passages"][0]
    marked = [first["text"][start:end] for start, end in first["highlights"]]
    assert "6期读书班" in marked
