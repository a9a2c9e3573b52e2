"""The evaluation set (tests/eval_set.json) must pass entirely: exact mention answers, relevant search hits."""

from __future__ import annotations

import json
from typing import Any

import pytest

from retrieval import Library, MentionAnswer, NoMentionAnswer, PartAnswer, RankedAnswer
from retrieval.answers import answer_scope, question_kind
from tests.support import ROOT

ITEMS: list[dict[str, Any]] = json.loads((ROOT / "tests" / "eval_set.json").read_text(encoding="utf-8"))["items"]


def test_the_set_is_large_enough() -> None:
    assert len(ITEMS) >= 40
    assert {item["intent"] for item in ITEMS} == {"mention", "search", "part"}


@pytest.mark.parametrize("item", ITEMS, ids=[item["question"] for item in ITEMS])
def test_eval_item(corpus_library: Library, item: dict[str, Any]) -> None:
    answer = corpus_library.ask(item["question"])
    assert question_kind(answer) == item["intent"]
    if "scope" in item:  # a question that names its reports is answered from them only, and says so
        assert answer_scope(answer) is not None
        assert isinstance(answer, PartAnswer | RankedAnswer)
        shown = (
            [b.report.source for b in answer.blocks]
            if isinstance(answer, PartAnswer)
            else [q.source for q in answer.passages]
        )
        assert shown and set(shown) <= set(item["scope"]), shown
    if isinstance(answer, PartAnswer):
        assert answer.part == item["part"]
        blocks = {block.report.source: block for block in answer.blocks}
        assert sorted(blocks) == sorted(item["reports"])
        assert any(item["contains"] in p.text for p in blocks[item["source"]].paragraphs)
        return
    if item["intent"] == "mention" and not item["reports"]:
        assert isinstance(answer, NoMentionAnswer) and answer.term == item["term"]
        return
    if item["intent"] == "mention":
        assert isinstance(answer, MentionAnswer)
        assert answer.term == item["term"]
        assert {m.report.source: m.mentions for m in answer.reports} == item["reports"]
        for m in answer.reports:
            assert item["quote_contains"] in m.quote.text
        return
    assert isinstance(answer, RankedAnswer)
    top = answer.passages[: item["top"]]
    assert any(q.source == item["source"] and item["contains"] in q.text for q in top), [
        (q.source, q.text[:40]) for q in top
    ]
