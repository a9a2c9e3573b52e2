"""Scope in questions: years, units, reports by position, id or title, read from the question, resolved against
the library's reports, and answered from those reports only (scores unchanged: rank-bm25's over the whole library).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from rank_bm25 import BM25Okapi
from telegram.constants import MessageLimit

from bot import render
from bot.cli import cli
from retrieval import (
    Library,
    MentionAnswer,
    NoMentionAnswer,
    OutOfScopeAnswer,
    PartAnswer,
    RankedAnswer,
    Segmenter,
    Store,
)
from retrieval.ingest import ingest_paths
from retrieval.jsonout import answer_json
from retrieval.normalize import normalize
from retrieval.scope import (
    Catalogue,
    InScope,
    MissingReports,
    MissingTitle,
    MissingYears,
    NoOverlap,
    OutOfScope,
    ReportFacts,
    Scope,
    place_in_name,
    unit_aliases,
    unit_place,
)
from tests.support import ROOT

PROVINCIAL = ROOT / "tests" / "corpora" / "provincial-2026"

ARCHIVE = Catalogue(
    (
        ReportFacts(1, "2019年政府工作报告", "2019.txt", 2019, "国务院"),
        ReportFacts(2, "2021年政府工作报告", "2021.txt", 2021, "国务院"),
        ReportFacts(3, "2026年广东省政府工作报告", "gd.txt", 2026, None),
        ReportFacts(4, "政府工作报告", "2026年广西壮族自治区政府工作报告.txt", 2026, None),
        ReportFacts(5, "2023年主题教育开展情况汇报", "z.txt", 2023, "县政府办公室"),
        ReportFacts(7, "第二批主题教育10月份阶段性总结", "y.txt", 2023, "**区"),
        ReportFacts(8, "政府工作报告", "2026年内蒙古自治区政府工作报告.txt", 2026, "内蒙古自治区人民政府"),
    ),
    this_year=2026,
)


def _parse(question: str) -> tuple[Scope, str]:
    return ARCHIVE.parse(question)


@pytest.mark.parametrize(
    ("question", "years", "rest"),
    [
        ("2019年赤字率是多少", (2019,), "赤字率是多少"),
        ("2019年的赤字率", (2019,), "赤字率"),
        ("二〇一九年的赤字率", (2019,), "赤字率"),
        ("二零二一年赤字率", (2021,), "赤字率"),
        ("２０１９年赤字率", (2019,), "赤字率"),
        ("19年赤字率", (2019,), "赤字率"),  # the library has 2019
        ("24年赤字率", (2024,), "赤字率"),  # not in the library, not in the future: 2024 (and the answer says so)
        ("2019年和2021年的赤字率", (2019, 2021), "赤字率"),
        ("2019—2021年的赤字率", (2019, 2020, 2021), "赤字率"),
        ("2019年的报告中赤字率是多少", (2019,), "赤字率是多少"),
        ("2021年度财政赤字", (2021,), "财政赤字"),
        ("2024年中国经济增长", (2024,), "中国经济增长"),  # 中 stays with 中国
    ],
)
def test_years_are_read_in_every_form(question: str, years: tuple[int, ...], rest: str) -> None:
    scope, left = _parse(question)
    assert scope.years == years and left == rest


@pytest.mark.parametrize(
    "question",
    ["2035年远景目标是什么", "2020年以来的变化", "2030年前碳达峰", "近10年来的发展", "过去5年的成绩", "90年代的改革"],
)
def test_spans_deadlines_and_durations_are_not_years(question: str) -> None:
    scope, rest = _parse(question)
    assert not scope.years and rest == normalize(question)


@pytest.mark.parametrize(
    ("question", "units", "rest"),
    [
        ("广东省今年地区生产总值增长目标是多少", ("广东省",), "今年地区生产总值增长目标是多少"),
        ("广东的地区生产总值", ("广东",), "地区生产总值"),
        ("广西壮族自治区粮食产量", ("广西壮族自治区",), "粮食产量"),  # the longest name, not 广西
        ("广西和内蒙古的粮食产量", ("广西", "内蒙古"), "粮食产量"),
        ("内蒙古自治区的煤炭", ("内蒙古自治区",), "煤炭"),
        ("政府办存在哪些问题", ("政府办",), "存在哪些问题"),
        ("县政府办公室下一步有什么打算", ("县政府办公室",), "下一步有什么打算"),
        ("**区的主题党日", ("**区",), "主题党日"),
        ("国务院的赤字率", ("国务院",), "赤字率"),
    ],
)
def test_units_are_the_librarys_own_longest_names(question: str, units: tuple[str, ...], rest: str) -> None:
    scope, left = _parse(question)
    assert scope.units == units and left == rest


@pytest.mark.parametrize(
    "question", ["政府的工作重点", "全省经济增长", "各地区的情况", "东部地区发展", "主题教育开展情况", "工作推进"]
)
def test_ordinary_words_are_not_units(question: str) -> None:
    assert _parse(question)[0] == Scope()


@pytest.mark.parametrize(
    ("question", "numbers", "ids", "rest"),
    [
        ("第四份报告存在哪些问题", (4,), (), "存在哪些问题"),
        ("第4份报告中存在哪些问题", (4,), (), "存在哪些问题"),
        ("第二篇汇报的主要做法", (2,), (), "主要做法"),
        ("第十二份报告", (12,), (), ""),
        ("#4 存在哪些问题", (), (4,), "存在哪些问题"),
        ("＃4存在哪些问题", (), (4,), "存在哪些问题"),
        ("报告4存在哪些问题", (), (4,), "存在哪些问题"),
        ("报告 #7 里的问题", (), (7,), "问题"),
        ("4号报告的问题", (), (4,), "问题"),
        ("report 4 problems", (), (4,), "problems"),
    ],
)
def test_reports_by_position_or_id(question: str, numbers: tuple[int, ...], ids: tuple[int, ...], rest: str) -> None:
    scope, left = _parse(question)
    assert (scope.numbers, scope.ids, left) == (numbers, ids, rest)


def test_counts_after_report_words_are_not_ids() -> None:
    assert _parse("报告3次提到数字经济")[0] == Scope()
    assert _parse("第二批主题教育")[0] == Scope()
    assert _parse("第十四届人民代表大会")[0] == Scope()


def test_reports_by_title() -> None:
    scope, rest = _parse("《2023年主题教育开展情况汇报》中提到了哪些做法")
    assert scope.titles == ("2023年主题教育开展情况汇报",) and rest == "提到了哪些做法"
    assert ARCHIVE.resolve(scope) == InScope(scope, frozenset({5}))
    # a quoted name that is no report's title and does not read like one stays a search term
    scope, rest = _parse("学习《习近平著作选读》的体会")
    assert scope == Scope() and "《" in rest
    scope, _ = _parse("《不存在的工作总结》里有什么")
    assert ARCHIVE.resolve(scope) == OutOfScope(scope, MissingTitle("不存在的工作总结"))


def test_resolution_of_each_kind_and_of_kinds_together() -> None:
    def ids(question: str) -> frozenset[int]:
        resolution = ARCHIVE.resolve(_parse(question)[0])
        assert isinstance(resolution, InScope), resolution
        return resolution.report_ids

    assert ids("2026年的经济增长目标") == {3, 4, 8}
    assert ids("2026年广东省的经济增长目标") == {3}
    assert ids("2019年和2021年的赤字率") == {1, 2}
    assert ids("第四份报告") == {4}
    assert ids("第六份报告") == {7}  # the sixth by id: ids need not be contiguous
    assert ids("#7") == {7}
    assert ids("#4和#5的问题") == {4, 5}
    assert ids("2023年政府办的问题") == {5}
    everything = ARCHIVE.resolve(Scope(years=(2019, 2021, 2023, 2026)))
    assert isinstance(everything, InScope) and everything.everything


def test_nothing_in_scope_says_what_there_is() -> None:
    scope, _ = _parse("2020年的赤字率")
    assert ARCHIVE.resolve(scope) == OutOfScope(scope, MissingYears((2020,), (2019, 2021, 2023, 2026)))
    scope, _ = _parse("24年赤字率")
    assert ARCHIVE.resolve(scope) == OutOfScope(scope, MissingYears((2024,), (2019, 2021, 2023, 2026)))
    scope, _ = _parse("第九份报告")
    assert ARCHIVE.resolve(scope) == OutOfScope(scope, MissingReports(scope, 7, 1, 8))
    scope, _ = _parse("#6")  # a gap in the ids
    assert isinstance(ARCHIVE.resolve(scope), OutOfScope)
    scope, _ = _parse("2019年广东省的赤字率")  # each names reports, none both
    resolution = ARCHIVE.resolve(scope)
    assert isinstance(resolution, OutOfScope) and isinstance(resolution.problem, NoOverlap)
    assert [(part, [r.id for r in reports]) for part, reports in resolution.problem.parts] == [
        (Scope(years=(2019,)), [1]),
        (Scope(units=("广东省",)), [3]),
    ]
    empty = Catalogue((), this_year=2026)
    assert empty.resolve(empty.parse("第一份报告")[0]) == OutOfScope(
        Scope(numbers=(1,)), MissingReports(Scope(numbers=(1,)), 0, None, None)
    )


def test_unit_names_and_places_in_names() -> None:
    assert unit_aliases("广东省人民政府") == {"广东省人民政府", "广东省", "广东"}
    assert unit_aliases("县政府办公室") >= {"县政府办公室", "县政府办", "政府办公室", "政府办"}
    assert unit_aliases("新疆维吾尔自治区") == {"新疆维吾尔自治区", "新疆"}
    assert place_in_name("2025年吉林省政府工作报告") == "吉林省"
    assert place_in_name("2026年四川省人民政府工作报告") == "四川省"
    assert place_in_name("主题教育开展情况") is None


# --- the provincial reports of 2026 ---------------------------------------------------------------------------


@pytest.fixture
def provincial(provincial_library: Library) -> Library:
    """The 31 provincial government work reports of 2026, ingested once for the session (shared: do not modify)."""
    return provincial_library


def _province_of(library: Library, report_id: int) -> str:
    return library.store.report(report_id).source


def test_a_unit_scoped_question_answers_from_that_unit_only(provincial: Library) -> None:
    answer = provincial.ask("广东省今年地区生产总值增长目标是多少")
    assert isinstance(answer.scope, InScope) and answer.scope.scope.units == ("广东省",)
    assert answer.passages and {q.source for q in answer.passages} == {"2026年广东省政府工作报告.txt"}
    assert "4.5%—5%" in answer.passages[0].text  # this year's target, not last year's 3.9% growth
    text = render.answer_reply(answer, "zh").text
    assert text.startswith("<i>范围：广东省</i>")
    assert "Scope: 广东省" in render.answer_reply(answer, "en").text
    unscoped = provincial.ask("今年地区生产总值增长目标是多少")
    assert unscoped.scope is None and len({q.source for q in unscoped.passages}) > 1


def test_scoped_questions_on_the_real_corpus_equal_rank_bm25_restricted(provincial: Library) -> None:
    records = provincial.store.passages()
    reference = BM25Okapi([list(r.terms) for r in records])
    reports = {r.source: r.id for r in provincial.reports()}
    scopes = [
        {reports["2026年广东省政府工作报告.txt"]},
        {reports["2026年广东省政府工作报告.txt"], reports["2026年广西壮族自治区政府工作报告.txt"]},
        set(list(reports.values())[::3]),
    ]
    for report_ids in scopes:
        within = provincial._passages.of_reports(report_ids)
        in_scope = [i for i, r in enumerate(records) if r.report_id in report_ids]
        assert within.tolist() == in_scope
        for text in ("地区生产总值增长目标", "粮食产量", "首发经济 消费", "人工智能 产业 创新 发展 推进"):
            query = provincial.query_terms(text)
            expected = reference.get_scores(query)
            got = provincial._passages.bm25.top(query, 10, within)
            best = sorted((i for i in in_scope if expected[i] > 0), key=lambda i: (-expected[i], i))[:10]
            assert [p for p, _ in got] == best, text
            assert np.allclose([s for _, s in got], expected[best], atol=1e-6, rtol=0)


def _files_containing(term: str) -> set[str]:
    return {path.name for path in PROVINCIAL.glob("*.txt") if term in normalize(path.read_text(encoding="utf-8"))}


@pytest.mark.parametrize("question", ["哪些省份提到首发经济", "哪几个省提到首发经济？", "首发经济出现在哪些地区"])
def test_which_provinces_is_a_complete_mention_answer_grouped_by_unit(provincial: Library, question: str) -> None:
    answer = provincial.ask(question)
    assert isinstance(answer, MentionAnswer) and answer.term == "首发经济" and answer.group == "unit"
    truth = _files_containing("首发经济")
    assert 3 <= len(truth) < 31
    assert {m.report.source for m in answer.reports} == truth
    groups = answer.groups()
    assert sum(len(g.reports) for g in groups) == len(truth)
    # a province's unit is its people's government (广东省人民政府)
    assert all(
        isinstance(g.key, str) and g.key.removesuffix("人民政府").endswith(("省", "市", "自治区")) for g in groups
    )
    text = render.answer_reply(answer, "zh").text
    assert f"共有 <b>{len(groups)}</b> 个单位（{len(truth)} 份报告）提到“首发经济”" in text
    assert all(f"<b>{g.key}</b>" in text for g in groups[: render.GROUPS_PER_PAGE])


def test_mentions_take_scope_too(provincial: Library) -> None:
    answer = provincial.ask("广东和广西哪些报告提到低空经济")
    assert isinstance(answer, MentionAnswer) and answer.term == "低空经济"
    truth = _files_containing("低空经济") & {"2026年广东省政府工作报告.txt", "2026年广西壮族自治区政府工作报告.txt"}
    assert {m.report.source for m in answer.reports} == truth
    everywhere = provincial.ask("哪些报告提到低空经济")
    assert len(everywhere.reports) > len(answer.reports)
    # counts are the reports' own, not changed by the scope
    counts = {m.report.id: m.mentions for m in everywhere.reports}
    assert all(counts[m.report.id] == m.mentions for m in answer.reports)


def test_traditional_characters_in_a_mention_question(corpus_library: Library) -> None:
    answer = corpus_library.ask("哪些報告提到四下基層")
    assert isinstance(answer, MentionAnswer) and answer.term == "四下基層"
    assert [m.report.id for m in answer.reports] == [
        m.report.id for m in corpus_library.ask("哪些报告提到四下基层").reports
    ]


@pytest.mark.parametrize(
    "question",
    [
        "第四份报告存在哪些问题",
        "#99 存在哪些问题",
        "第九十九份报告",
        "2020年的赤字率",
        "24年赤字率是多少",
        "２０２３年主要做法",
        "二〇二三年的主要做法",
        "2023年和2019年的报告中存在问题",
        "《不存在的汇报》中提到了什么",
        "《2023年主题教育开展情况汇报》中提到了什么",
        "第4篇",
        "2023年",
        "2023年哪些报告提到主题党日",
    ],
)
def test_every_scope_gets_a_clear_answer(corpus_library: Library, question: str) -> None:
    """Nothing in scope, everything in scope, contradictions, ids out of range, 24年, full-width digits: an answer
    that says which scope it used or why nothing is in it, in both languages, never an error."""
    answer = corpus_library.ask(question)
    assert answer.scope is not None
    for lang in ("zh", "en"):
        reply = render.answer_reply(answer, lang)
        assert render.units(reply.text) <= MessageLimit.MAX_TEXT_LENGTH
        assert ("范围：" if lang == "zh" else "Scope: ") in reply.text
    if isinstance(answer, PartAnswer):  # 第四份报告存在哪些问题: that report's part
        assert isinstance(answer.scope, InScope)
        assert all(b.report.id in answer.scope.report_ids for b in answer.blocks)
    elif isinstance(answer, OutOfScopeAnswer):  # not answered: nothing quoted
        assert isinstance(answer.scope, OutOfScope)
    else:
        assert isinstance(answer, RankedAnswer | MentionAnswer | NoMentionAnswer) and isinstance(answer.scope, InScope)
        if isinstance(answer, MentionAnswer):
            assert all(m.report.id in answer.scope.report_ids for m in answer.reports)
        quotes = {RankedAnswer: "passages", MentionAnswer: "quotes", NoMentionAnswer: "nearest"}[type(answer)]
        assert all(q.report_id in answer.scope.report_ids for q in getattr(answer, quotes))
    assert answer_json(answer)["scope"]["report_ids"] == (
        sorted(answer.scope.report_ids) if isinstance(answer.scope, InScope) else []
    )


def test_a_report_by_position_answers_from_that_report(corpus_library: Library) -> None:
    answer = corpus_library.ask("第四份报告存在哪些问题")
    assert isinstance(answer.scope, InScope) and answer.scope.report_ids == {4}
    assert isinstance(answer, PartAnswer) and [b.report.id for b in answer.blocks] == [4]
    scoped = corpus_library.ask("第四份报告里读书班的情况")
    assert isinstance(scoped, RankedAnswer) and scoped.passages and {q.report_id for q in scoped.passages} == {4}
    assert "范围：第4份报告" in render.answer_reply(answer, "zh").text
    out = corpus_library.ask("#9 存在哪些问题")
    assert "没有#9；共有 5 份报告（#1–#5）" in render.answer_reply(out, "zh").text


def test_cli_ask_json_carries_the_scope(
    corpus_library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPORTBOT_DB", str(corpus_library.store.path))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    runner = CliRunner()
    result = runner.invoke(cli, ["ask", "--json", "第四份报告存在哪些问题"], obj={})
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output.splitlines()[0])
    assert payload["scope"]["numbers"] == [4] and payload["scope"]["report_ids"] == [4]
    assert payload["intent"] == "part" and [r["report_id"] for r in payload["reports"]] == [4]
    text = runner.invoke(cli, ["ask", "#9 存在哪些问题"], obj={}).output
    assert "范围：#9" in text and "没有#9；共有 5 份报告（#1–#5）" in text  # as the terminal chat says it


def test_unit_places() -> None:
    assert unit_place("广东省人民政府") == "广东省"
    assert unit_place("宁夏回族自治区人民政府") == "宁夏回族自治区"
    assert unit_place("县政府办公室") == "县政府办公室"
    assert unit_place("*县委") == "*县委"
    assert unit_place("**区") == "**区"


# --- an archive of several years ------------------------------------------------------------------------------

_YEARLY = {
    2019: ("2.8%", "2.6%"),
    2021: ("3.2%左右", "3.6%左右"),
    2024: ("3%", "3%"),
}


@pytest.fixture(scope="module")
def yearly(tmp_path_factory: pytest.TempPathFactory, segmenter: Segmenter) -> Iterator[Library]:
    """Three government work reports of different years, each speaking of its own year as 今年."""
    folder = tmp_path_factory.mktemp("yearly-files")
    for year, (this_year, last_year) in _YEARLY.items():
        (folder / f"{year}年政府工作报告.txt").write_text(
            f"政府工作报告\n——{year}年3月5日在全国人民代表大会上\n各位代表：\n一、{year - 1}年工作回顾\n"
            f"过去一年，经济运行总体平稳，去年赤字率为{last_year}，财政收支保持平衡，就业形势稳定。\n"
            f"二、{year}年政府工作任务\n今年赤字率拟按{this_year}安排，积极的财政政策要提质增效。"
            "稳步推进高质量发展，扎实做好各项工作。\n",
            encoding="utf-8",
        )
    library = Library(Store(tmp_path_factory.mktemp("yearly") / "reports.db"), segmenter)
    assert ingest_paths(library, [folder]).ok
    assert sorted(r.year for r in library.reports() if r.year) == [2019, 2021, 2024]
    yield library
    library.store.close()


def _year_of(library: Library, report_id: int) -> int | None:
    return library.store.report(report_id).year


@pytest.mark.parametrize(
    ("question", "year"), [("2019年的赤字率", 2019), ("二〇二一年赤字率是多少", 2021), ("24年赤字率", 2024)]
)
def test_a_year_means_the_report_of_that_year(yearly: Library, question: str, year: int) -> None:
    answer = yearly.ask(question)
    assert isinstance(answer, RankedAnswer) and isinstance(answer.scope, InScope)
    assert {_year_of(yearly, q.report_id) for q in answer.passages} == {year}
    assert f"今年赤字率拟按{_YEARLY[year][0]}" in answer.passages[0].text  # the year's own 今年 first
    assert render.answer_reply(answer, "zh").text.startswith(f"<i>范围：{year}年</i>")


def test_a_missing_year_names_the_years_there_are(yearly: Library) -> None:
    answer = yearly.ask("2020年的赤字率是多少")
    assert isinstance(answer, OutOfScopeAnswer) and isinstance(answer.scope, OutOfScope)
    assert answer.scope.problem == MissingYears((2020,), (2019, 2021, 2024))
    assert "没有2020年的报告；有2019年、2021年、2024年的。" in render.answer_reply(answer, "zh").text
    both = yearly.ask("2019年和2021年的赤字率")
    assert isinstance(both, RankedAnswer) and {_year_of(yearly, q.report_id) for q in both.passages} == {2019, 2021}


def test_which_years_is_a_mention_answer_grouped_by_year(yearly: Library) -> None:
    answer = yearly.ask("哪几年提到赤字率")
    assert isinstance(answer, MentionAnswer) and answer.group == "year"
    assert [(g.key, [m.mentions for m in g.reports]) for g in answer.groups()] == [
        (2024, [2]),
        (2021, [2]),
        (2019, [2]),
    ]
    text = render.answer_reply(answer, "zh").text
    assert "共有 <b>3</b> 个年份（3 份报告）提到“赤字率”" in text
    assert text.index("<b>2024年</b>") < text.index("<b>2021年</b>") < text.index("<b>2019年</b>")
    scoped = yearly.ask("2019年和2024年哪些报告提到赤字率")
    assert isinstance(scoped, MentionAnswer) and sorted(_year_of(yearly, m.report.id) or 0 for m in scoped.reports) == [
        2019,
        2024,
    ]
    assert answer_json(answer)["groups"][0] == {
        "key": 2024,
        "mentions": 2,
        "reports": [answer.groups()[0].reports[0].report.id],
    }


def test_the_provinces_year_is_everything_and_other_years_are_not_there(provincial: Library) -> None:
    everything = provincial.ask("2026年地区生产总值增长目标是多少")
    assert isinstance(everything, RankedAnswer)
    assert isinstance(everything.scope, InScope) and everything.scope.everything
    assert render.answer_reply(everything, "zh").text.startswith("<i>范围：2026年（全部报告）</i>")
    assert len({q.report_id for q in everything.passages}) > 1
    missing = provincial.ask("2024年赤字率是多少")
    assert isinstance(missing, OutOfScopeAnswer) and isinstance(missing.scope, OutOfScope)
    assert "没有2024年的报告；有2026年的。" in render.answer_reply(missing, "zh").text
    assert "There is no report of 2024; there are 2026." in render.answer_reply(missing, "en").text
