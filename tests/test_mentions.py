"""Mention questions are answered exactly and completely: every report with the term, with counts, no other."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from retrieval import Library, MentionAnswer, NoMentionAnswer, RankedAnswer
from retrieval.ingest import delete_report, ingest_bytes
from retrieval.mentions import MentionFinder, MentionTuning, _IndexedChunk
from retrieval.passages import PassageIndex
from retrieval.store import PassageRecord
from tests.support import REPORTS, ROOT

TERMS = [
    "四下基层",
    "三会一课",
    "主题党日",
    "双报到",
    "两个维护",
    "四个自信",
    "我为群众办实事",
    "调查研究",
    "主题教育",
    "存在问题",
    "吴书",
    "招商",
    "X名",
    "**区",
    "生产总值",
    "以学铸魂",
    "党",
    "APP",
]


def _oracle(term: str) -> dict[str, int]:
    """Counts by file, straight from the raw files (markers removed): independent of the index."""
    counts = {}
    for path in sorted(REPORTS.glob("*.txt")):
        text = path.read_text(encoding="utf-8").replace("##paidbegin##", "").replace("##paidend##", "")
        n = sum(line.count(term) for line in text.splitlines())
        if n:
            counts[path.name] = n
    return counts


@pytest.mark.parametrize("term", TERMS)
def test_mentions_equal_a_scan_of_the_raw_files(corpus_library: Library, term: str) -> None:
    answer = corpus_library.mentions(term)
    found = answer.reports if isinstance(answer, MentionAnswer) else ()
    assert {m.report.source: m.mentions for m in found} == _oracle(term)
    for m in found:
        assert term.lower() in m.quote.text.lower()
        assert m.quote.highlights, "the term is marked in the quote"
        start, end = m.quote.highlights[0]
        assert m.quote.text[start:end].lower() == term.lower()


@pytest.mark.parametrize(
    "question",
    [
        "哪些报告提到四下基层",
        "哪几份报告提及“四下基层”？",
        "which reports mention 四下基层",
        "四下基层出现在哪些报告里",
        "哪些报告中出现了「四下基层」",
        "提到四下基层的报告有哪些",
        "Which reports mention '四下基层'?",
    ],
)
def test_every_phrasing_gives_the_same_complete_answer(corpus_library: Library, question: str) -> None:
    answer = corpus_library.ask(question)
    assert isinstance(answer, MentionAnswer) and answer.term == "四下基层"
    assert {m.report.source for m in answer.reports} == set(_oracle("四下基层"))


@pytest.mark.parametrize(
    ("question", "scoped_to"),
    [
        ("提到几次四下基层", None),
        ("四下基层一共出现了多少次？", None),
        ("提到了多少次“四下基层”", None),
        ("第二份报告提到几次四下基层", 2),
        ("**区提到四下基层几次", 2),
        ("四下基层在**区的报告中出现了几次", 2),
        ("《主题教育工作开展情况》中四下基层出现了几次", 1),
    ],
)
def test_how_often_is_a_mention_question(corpus_library: Library, question: str, scoped_to: int | None) -> None:
    # was a ranked search: quantity ranking put passages with any number first, none of them holding the term
    answer = corpus_library.ask(question)
    assert isinstance(answer, MentionAnswer) and answer.term == "四下基层"
    expected = _oracle("四下基层")
    found = {m.report.source: m.mentions for m in answer.reports}
    if scoped_to is None:
        assert found == expected
    else:
        assert [m.report.id for m in answer.reports] == [scoped_to]
        assert found == {s: c for s, c in expected.items() if s in found}


def test_how_often_keeps_quantity_questions_and_words_with_zai_whole(corpus_library: Library) -> None:
    assert isinstance(corpus_library.ask("举办了几期读书班"), RankedAnswer)
    assert isinstance(corpus_library.ask("开展了几次调研"), RankedAnswer)
    answer = corpus_library.ask("存在问题出现了几次")
    assert isinstance(answer, MentionAnswer) and answer.term == "存在问题"


def test_full_leader_name_finds_the_anonymised_passages(corpus_library: Library) -> None:
    answer = corpus_library.ask("哪些报告提到习近平新时代中国特色社会主义思想")
    sources = {m.report.source: m.mentions for m in answer.reports}
    assert "002_c09105e2aec2ab18.txt" in sources  # written as “A新时代中国特色社会主义思想”
    quote = next(m.quote for m in answer.reports if m.report.source == "002_c09105e2aec2ab18.txt")
    start, end = quote.highlights[0]
    assert quote.text[start:end] == "A新时代中国特色社会主义思想"


def test_traditional_and_full_width_queries_match(corpus_library: Library) -> None:
    assert {m.report.id for m in corpus_library.mentions("四下基層").reports} == {
        m.report.id for m in corpus_library.mentions("四下基层").reports
    }


def test_no_match_says_so_and_labels_the_nearest_passages(corpus_library: Library) -> None:
    answer = corpus_library.ask("哪些报告提到量子计算机")
    # no report, and any passages shown are the nearest ones (the kind of answer labels them so)
    assert isinstance(answer, NoMentionAnswer) and answer.term == "量子计算机"
    assert all("量子计算机" not in q.text for q in answer.nearest)


def _more_reports(library: Library, count: int, term: str) -> None:
    for i in range(count):
        text = f"第{i + 1}号单位工作汇报\n本单位把{term}作为重点，开展调研{i + 1}次。\n{term}{term}成效明显。\n"
        assert ingest_bytes(library, f"extra_{i}.txt", text.encode()).status == "added"


def test_quotes_are_made_for_the_reports_asked_for(library: Library) -> None:
    _more_reports(library, 4, "四下基层")
    full = library.mentions("四下基层")
    lazy = library.mentions("四下基层", quoted=2)
    assert [(m.report.id, m.mentions) for m in lazy.reports] == [(m.report.id, m.mentions) for m in full.reports]
    assert [m.quote is not None for m in lazy.reports] == [True, True, False, False, False, False]
    assert lazy.quotes == tuple(m.quote for m in full.reports[:2])
    # most mentions first, then by id
    assert [m.mentions for m in full.reports] == sorted((m.mentions for m in full.reports), reverse=True)
    page = library.with_quotes(lazy, 2, 5)
    assert [m.quote for m in page.reports[2:5]] == [m.quote for m in full.reports[2:5]]
    assert page.reports[5].quote is None and library.with_quotes(page, 0, 5) is page


def test_a_page_quoted_after_its_report_was_deleted_shows_no_quote(library: Library) -> None:
    _more_reports(library, 2, "四下基层")
    answer = library.mentions("四下基层", quoted=0)
    gone = answer.reports[0].report
    delete_report(library, gone.id)
    page = library.with_quotes(answer, 0, len(answer.reports))
    assert page.reports[0].report == gone and page.reports[0].quote is None
    assert all(m.quote is not None for m in page.reports[1:])


# --- the finder itself, on passages small enough that the threshold is lowered to index them -------------------

_EDGE_TEXTS = [
    "哈哈哈",  # overlapping needle: two non-overlapping "哈哈" fit in four, one in three
    "哈哈哈哈x哈",
    "主题教育",  # needle at the very start of a passage ...
    "教育主题",  # ... and across the border between two passages: must not match
    "\U0001f600党\U0001f600\U0001f600",  # characters outside the BMP are two code units each
    "",
    "习近平新时代中国特色社会主义思想和习近平新时代中国特色社会主义思想",  # needle longer than one 4-unit read
    "x" * 61 + "主题教育",  # a 64-unit block holding several passages
    "党" * 70 + "主题",
    "a",
    "主题教育",  # and at the very end of the chunk
]


_INDEXED = MentionTuning(index_min_units=1)  # every group of passages gets a bigram index


@pytest.fixture
def indexed() -> MentionFinder:
    finder = MentionFinder(_INDEXED)
    finder.add(_EDGE_TEXTS)
    assert isinstance(finder._chunks[0], _IndexedChunk)
    return finder


@pytest.mark.parametrize(
    "term",
    [
        "哈哈",
        "哈",
        "主题教育",
        "育主",
        "\U0001f600",
        "\U0001f600\U0001f600",
        "党",
        "党\U0001f600",
        "习近平新时代中国特色社会主义思想",
        "中国特色社会主义思想和习",
        "xx主题",
        "党党党",
        "主题",
        "a",
        "ax",
        "不存在",
    ],
)
def test_indexed_finder_equals_str_count(indexed: MentionFinder, term: str, tmp_path: Path) -> None:
    expected = {i: t.count(term) for i, t in enumerate(_EDGE_TEXTS) if term in t}
    assert indexed.find(term) == expected
    indexed.save(tmp_path / "mentions.npz")
    loaded = MentionFinder.load(tmp_path / "mentions.npz")
    assert loaded.find(term) == expected
    assert [loaded.text(i) for i in range(len(_EDGE_TEXTS))] == _EDGE_TEXTS
    # a deleted passage is never reported again: the passage index drops it (its one deletion mask)
    passages = PassageIndex(mention_tuning=_INDEXED)
    passages.build(
        [PassageRecord(i + 1, 1, 1, "body", 0, len(t), "", tuple(t), t) for i, t in enumerate(_EDGE_TEXTS)]
    )
    with passages.writer() as writer:
        writer.remove_passages([3])  # the passage at position 2
    expected.pop(2, None)
    positions, counts = passages.containing(term)
    assert dict(zip(positions.tolist(), counts.tolist(), strict=True)) == expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    texts=st.lists(st.text(alphabet="党主题教育x\U0001f600", max_size=40), min_size=1, max_size=30),
    term=st.text(alphabet="党主题教育x\U0001f600", min_size=1, max_size=6),
)
def test_indexed_finder_equals_str_count_on_any_texts(texts: list[str], term: str) -> None:
    """Few characters, so that bigram lists are long, needles overlap themselves and merging meets every case."""
    finder = MentionFinder(_INDEXED)
    finder.add(texts)
    assert finder.find(term) == {i: t.count(term) for i, t in enumerate(texts) if term in t}


def test_indexed_finder_across_big_gaps_and_lopsided_bigrams() -> None:
    """Positions more than 65535 units apart (stored aside from the 16-bit gaps), and a needle whose rare bigram
    leaves far fewer candidates than its common one has positions (checked against the text instead of merged)."""
    texts = ["主题教育" + "育" * 70_000, "教" * 100 + "主题教育", "x" * 90_000 + "主题教育教育", "题教育" * 50]
    finder = MentionFinder(_INDEXED)
    finder.add(texts)
    assert isinstance(finder._chunks[0], _IndexedChunk)
    assert int(finder._chunks[0].big_at.size) > 0
    for term in ["主题教育", "育", "教育", "题教育", "育育育", "x主", "育题", "教育教育"]:
        assert finder.find(term) == {i: t.count(term) for i, t in enumerate(texts) if term in t}, term


def test_a_loaded_finder_maps_its_text_and_survives_a_save_over_it(tmp_path: Path) -> None:
    """The code units are mapped from their own file, not read; saving again (as the library does at shutdown)
    replaces the files, and a finder still mapping the old ones answers as before, checks against the text
    included (the lopsided needle)."""
    texts = ["主题教育" + "育" * 70_000, "教" * 100 + "主题教育", "题教育" * 50]
    finder = MentionFinder(_INDEXED)
    finder.add(texts)
    finder.save(tmp_path / "mentions.npz")
    loaded = MentionFinder.load(tmp_path / "mentions.npz")
    assert isinstance(loaded._chunks[0], _IndexedChunk)
    assert isinstance(loaded._chunks[0].units, np.memmap)
    finder.add(["主题教育育"])
    finder.save(tmp_path / "mentions.npz")
    for term in ["主题教育", "育育", "题教育", "教"]:
        assert loaded.find(term) == {i: t.count(term) for i, t in enumerate(texts) if term in t}, term
    assert MentionFinder.load(tmp_path / "mentions.npz").find("主题教育育") == {0: 1, 3: 1}
    names = sorted(p.name for p in tmp_path.iterdir())  # the added passage is a chunk of its own (threshold 1)
    assert names == ["mentions.npz", "mentions.npz.c0.units.npy", "mentions.npz.c1.units.npy"]


def test_warming_answers_nothing_new_and_loads_numba_only_for_an_indexed_finder(
    indexed: MentionFinder, tmp_path: Path
) -> None:
    before = {term: indexed.find(term) for term in ("哈哈", "党", "主题教育")}
    indexed.warm()
    assert {term: indexed.find(term) for term in before} == before
    MentionFinder().warm()  # empty: nothing to do
    small = (
        "import sys\n"
        "from retrieval.mentions import MentionFinder, MentionTuning, _IndexedChunk\n"
        "finder = MentionFinder()\n"
        "finder.add(['哪些报告提到四下基层', '主题教育'])\n"
        "finder.warm()\n"
        "assert finder.find('四下') == {0: 1}\n"
        "assert 'numba' not in sys.modules\n"
    )
    proc = subprocess.run([sys.executable, "-c", small], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
