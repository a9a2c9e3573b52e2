"""The evaluation set on a real archive (tests/eval_provincial.json, the 31 provincial government work reports of
2026 in tests/corpora/provincial-2026): every report's title, date and unit; unit-scoped facts whose answer differs
from province to province; mention questions in a provincial archive's phrasing, their truth computed here from the
files; the standard parts of named reports; quantity questions. All of it must pass."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from retrieval import Library
from retrieval.answers import MentionAnswer, PartAnswer
from retrieval.normalize import normalize
from tests.support import PROVINCIAL, ROOT

EVAL: dict[str, list[dict[str, Any]]] = json.loads(
    (ROOT / "tests" / "eval_provincial.json").read_text(encoding="utf-8")
)
TEXTS = {path.name: normalize(path.read_text(encoding="utf-8")) for path in sorted(PROVINCIAL.glob("*.txt"))}


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [f"{i:02d}" for i in range(len(items))]


@pytest.fixture
def archive(provincial_library: Library) -> Library:
    return provincial_library


def test_the_set_is_large_enough() -> None:
    assert sum(len(items) for items in EVAL.values()) >= 80
    assert len(EVAL["metadata"]) == len(TEXTS) == 31
    assert len(EVAL["scoped"]) >= 25
    assert len({item["expect"] for item in EVAL["scoped"]}) > 10, "the facts must differ from province to province"


@pytest.mark.parametrize("item", EVAL["scoped"], ids=_ids(EVAL["scoped"]))
def test_a_unit_scoped_fact_comes_from_that_unit(archive: Library, item: dict[str, Any]) -> None:
    answer = archive.ask(item["question"])
    assert answer.passages, item["question"]
    assert {q.source for q in answer.passages} == {item["file"]}, "a scoped question is answered from its unit only"
    top = answer.passages[: item["top"]]
    assert any(normalize(item["expect"]) in normalize(q.text) for q in top), [q.text[:60] for q in top]


@pytest.mark.parametrize("item", EVAL["mentions"], ids=_ids(EVAL["mentions"]))
def test_which_provinces_mention_a_term(archive: Library, item: dict[str, Any]) -> None:
    needle = normalize(item["term"])
    truth = {name: text.count(needle) for name, text in TEXTS.items() if needle in text}
    answer = archive.ask(item["question"])
    assert isinstance(answer, MentionAnswer) and answer.term == item["term"]
    assert {m.report.source: m.mentions for m in answer.reports} == truth
    assert answer.group == "unit", "哪些省份 is answered grouped by unit"


@pytest.mark.parametrize("item", EVAL["parts"], ids=_ids(EVAL["parts"]))
def test_a_part_of_a_named_report(archive: Library, item: dict[str, Any]) -> None:
    answer = archive.ask(item["question"])
    assert isinstance(answer, PartAnswer), type(answer).__name__
    assert answer.part == item["part"]
    assert [block.report.source for block in answer.blocks] == [item["file"]], "the part of the named report only"
    text = normalize("\n".join([answer.blocks[0].heading, *(p.text for p in answer.blocks[0].paragraphs)]))
    assert normalize(item["expect"]) in text


@pytest.mark.parametrize("item", EVAL["quantity"], ids=_ids(EVAL["quantity"]))
def test_a_quantity_question_brings_its_number_marked(archive: Library, item: dict[str, Any]) -> None:
    answer = archive.ask(item["question"])
    top = answer.passages[: item["top"]]
    hits = [q for q in top if q.source == item["file"] and item["expect"] in q.text]
    assert hits, [q.text[:60] for q in top]
    quote = hits[0]
    number = re.search(r"[0-9][0-9.]*(?:[%％]|万人|亿元)?", item["expect"])
    assert number is not None
    at = quote.text.index(item["expect"]) + number.start()
    assert any(start <= at and at + len(number.group()) <= end for start, end in quote.highlights), (
        "the number is marked",
        [quote.text[s:e] for s, e in quote.highlights],
    )


@pytest.mark.parametrize("item", EVAL["metadata"], ids=_ids(EVAL["metadata"]))
def test_every_report_knows_its_title_date_and_unit(archive: Library, item: dict[str, Any]) -> None:
    (report,) = [r for r in archive.reports() if r.source == item["file"]]
    assert report.date == item["date"]
    assert report.unit is not None and item["short"] in report.unit
    assert "政府工作报告" in report.title
    for furniture in ("下载", "打印", "来源", "各位代表", "首页", "(anonymous)"):
        assert furniture not in report.title


def test_reports_are_told_apart(archive: Library) -> None:
    shown = [(r.title, r.unit, r.date) for r in archive.reports()]
    assert len(set(shown)) == len(shown) == 31
