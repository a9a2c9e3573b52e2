"""The standard parts of a report (progress, problems, plans): found at ingest, stored per paragraph, and
compared with what a reader finds in the bundled and the provincial reports (tests/parts_truth.json)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest

from retrieval import Library, PartAnswer, Segmenter, Store
from retrieval.extract import read_report_file
from retrieval.ingest import ingest_paths
from retrieval.parts import PARTS, PartLine, label_parts
from retrieval.store import SCHEMA_VERSION
from retrieval.structure import build_structure
from tests.support import PROVINCIAL, REPORTS, ROOT

TRUTH = json.loads((ROOT / "tests" / "parts_truth.json").read_text(encoding="utf-8"))


def _runs(texts: Sequence[str], parts: Sequence[str | None]) -> dict[str, list[list[str]]]:
    """Each part's runs of consecutive paragraphs as (how the first begins, how the last begins)."""
    found: dict[str, list[list[str]]] = {}
    previous: str | None = None
    for text, part in zip(texts, parts, strict=True):
        if part is not None and part == previous:
            found[part][-1][1] = text
        elif part is not None:
            found.setdefault(part, []).append([text, text])
        previous = part
    return found


def _matches(found: dict[str, list[list[str]]], expected: dict[str, list[list[str]]]) -> bool:
    if found.keys() != expected.keys():
        return False
    return all(
        len(found[part]) == len(expected[part])
        and all(
            first.startswith(want_first) and last.startswith(want_last)
            for (first, last), (want_first, want_last) in zip(found[part], expected[part], strict=True)
        )
        for part in expected
    )


def _file_parts(path: Path, segmenter: Segmenter) -> dict[str, list[list[str]]]:
    extracted = read_report_file(path, max_bytes=50_000_000)
    structure = build_structure(
        extracted.lines, segmenter, declared_title=extracted.title, heading_levels=extracted.heading_levels
    )
    return _runs([p.text for p in structure.paragraphs], [p.part for p in structure.paragraphs])


@pytest.mark.parametrize("name", sorted(TRUTH["bundled"]))
def test_bundled_reports_parts(name: str, segmenter: Segmenter) -> None:
    found = _file_parts(REPORTS / name, segmenter)
    assert _matches(found, TRUTH["bundled"][name]), found


def test_provincial_reports_parts(segmenter: Segmenter) -> None:
    """All 31 reports: the review is progress, the paragraph after it that owns up to problems is problems, the
    year's work section is plans; the five-year outline, the closing words and the annexes are in no part."""
    wrong = {}
    for province, expected in TRUTH["provincial-2026"].items():
        found = _file_parts(PROVINCIAL / f"2026年{province}政府工作报告.txt", segmenter)
        if not _matches(found, expected):
            wrong[province] = found
    assert not wrong
    assert len(TRUTH["provincial-2026"]) == 31


def _labels(*lines: tuple[str, int | None] | str) -> list[str | None]:
    part_lines = [
        PartLine("heading", line[0], line[1]) if isinstance(line, tuple) else PartLine("body", line, None)
        for line in lines
    ]
    return list(label_parts(part_lines))


def test_a_part_named_by_a_heading_runs_to_the_next_heading_of_its_level() -> None:
    assert _labels(
        "今年以来，我局按照部署开展工作。",
        ("一、主要做法", 1),
        ("（一）强化学习", 2),
        "一是……。",
        ("（二）存在的不足", 2),
        "学习不够深入。",
        ("二、其他工作", 1),
        "做好其他工作。",
    ) == [None, "progress", "progress", "progress", "problems", "problems", None, None]


def test_parts_named_by_how_a_paragraph_opens() -> None:
    assert _labels(
        ("一、抓学习", 1),
        "我们组织了6期读书班。",
        "但也还存在以下问题：学习不够深入。",
        "一是学习不深。",
        "下一步，我们将继续抓好学习。",
        "一是持续学习。",
    ) == ["progress", "progress", "problems", "problems", "plans", "plans"]
    # in a review section: the problems paragraph ends at the next top-level heading
    assert _labels(
        ("一、2025年工作回顾", 1),
        ("（一）经济", 2),
        "经济增长5%。",
        "同时我们也清醒认识到，发展中还存在不少问题。",
        ("二、其他", 1),
        "其他。",
    ) == ["progress", "progress", "progress", "problems", None, None]


def test_closing_words_and_what_follows_are_in_no_part() -> None:
    assert _labels(
        ("三、下一步打算", 1),
        "一是持续学习。",
        "各位代表！",
        "奋斗创造历史。让我们更加紧密地团结在一起，奋力谱写新篇章！",
        "附件",
        "名词解释",
    ) == ["plans", "plans", None, None, None, None]


def test_five_year_outline_and_year_words() -> None:
    assert _labels(
        ("一、2025年工作回顾", 1),
        "过去一年。",
        ("二、“十五五”时期主要目标任务", 1),
        "五年目标。",
        ("三、2026年主要工作", 1),
        "今年要做好以下工作。",
    ) == ["progress", "progress", None, None, "plans", "plans"]
    # without a review before it, "X年主要工作" is the work done (a year-end summary)
    assert _labels(("一、2023年主要工作", 1), "开展了学习。", ("二、存在问题", 1), "不够深入。") == [
        "progress",
        "progress",
        "problems",
        "problems",
    ]


def test_headings_about_acting_on_problems_are_not_the_problems_part() -> None:
    assert _labels(("一、聚焦问题短板，沉到底调查研究", 1), "调研。", ("二、整改存在的问题", 1), "整改。") == [
        None,
        None,
        None,
        None,
    ]


def test_bare_lines_head_a_web_copy_without_numbered_top_headings() -> None:
    assert _labels(
        "“十四五”时期工作回顾",
        "五年来主要做了以下工作。",
        "我们也清醒看到，全省仍面临不少困难和问题。",
        "“十五五”时期的主要目标任务",
        "五年目标。",
        "2026年重点工作",
        ("（一）扩大内需", 2),
        "促消费。",
    ) == ["progress", "progress", "problems", None, None, "plans", "plans", "plans"]


def test_parts_are_stored_and_read_back(corpus_library: Library) -> None:
    report = next(r for r in corpus_library.reports() if r.source.startswith("004_"))
    problems = corpus_library.store.part_paragraphs("problems", [report.id])
    assert [p.number for p in problems] == [7, 8, 9]
    assert problems[1].text.endswith("但也还存在以下问题：")
    assert {p.part for p in corpus_library.store.paragraphs(report.id, 1, 20)} == {None, *PARTS}
    every = corpus_library.store.part_paragraphs("plans")
    assert {p.report_id for p in every} == {r.id for r in corpus_library.reports()}


def test_a_library_of_schema_2_gains_parts_in_place(tmp_path: Path, segmenter: Segmenter) -> None:
    db = tmp_path / "reports.db"
    library = Library(Store(db), segmenter)
    assert ingest_paths(library, [REPORTS]).ok
    expected = {p.number: p.part for p in library.store.paragraphs(1, 1, 100)}
    library.store.close()
    # the file as version 2 wrote it: no part column (nor the text fingerprints of version 4)
    conn = sqlite3.connect(db)
    conn.execute("DROP INDEX paragraphs_part")
    conn.execute("ALTER TABLE paragraphs DROP COLUMN part")
    conn.execute("DROP INDEX reports_text_fingerprint")
    conn.execute("ALTER TABLE reports DROP COLUMN text_fingerprint")
    conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()

    upgraded = Library(Store(db), segmenter)
    try:
        assert upgraded.store.meta("schema_version") == str(SCHEMA_VERSION)
        assert {p.number: p.part for p in upgraded.store.paragraphs(1, 1, 100)} == expected
        assert len(upgraded.reports()) == 5
        answer = upgraded.ask("存在哪些问题")
        assert isinstance(answer, PartAnswer) and len(answer.blocks) == 3
        assert upgraded.search("存在问题").passages  # the index was rebuilt for the new schema
    finally:
        upgraded.store.close()


def test_a_year_end_summary_as_offices_write_it() -> None:
    assert _labels(
        "2023年，我局在县委县政府的坚强领导下，圆满完成各项工作任务。现将有关情况汇报如下：",
        ("一、2023年工作完成情况", 1),
        ("（一）主要工作及成效", 2),
        "全年共办理事项120件。",
        ("二、存在的困难和问题", 1),
        "一是人员不足。",
        ("三、下步工作打算", 1),
        "一是加强学习。",
        ("四、意见建议", 1),
        "建议上级加大支持。",
    ) == [None, "progress", "progress", "progress", "problems", "problems", "plans", "plans", None, None]


def test_a_national_government_work_report() -> None:
    """The State Council's report: the review, its problems, the year's overall requirements and its tasks."""
    assert _labels(
        "各位代表：",
        ("一、2023年工作回顾", 1),
        "过去一年，经济回升向好。",
        "在肯定成绩的同时，我们也清醒看到面临的困难和挑战。",
        ("二、2024年经济社会发展总体要求和政策取向", 1),
        "今年发展主要预期目标是：国内生产总值增长5%左右。",
        ("三、2024年政府工作任务", 1),
        ("（一）大力推进现代化产业体系建设", 2),
        "充分发挥创新主导作用。",
        "各位代表！让我们更加紧密地团结在以习近平同志为核心的党中央周围，奋力谱写新篇章！",
    ) == [None, "progress", "progress", "problems", "plans", "plans", "plans", "plans", "plans", None]
    # an older one: 对今年政府工作的建议
    assert _labels(("一、过去五年工作回顾", 1), "五年来。", ("二、对今年政府工作的建议", 1), "今年。") == [
        "progress",
        "progress",
        "plans",
        "plans",
    ]
