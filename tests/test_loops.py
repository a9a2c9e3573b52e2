"""The loops without numba (the `fast` extra not installed): retrieval/kernels_numpy.py gives the answers the
compiled loops give, bit for bit, through the mention finder (merged lists and candidates read from the text) and
term-at-a-time scoring, and an install without numba answers and says which loops it runs."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rank_bm25 import BM25Okapi

import retrieval
from retrieval import Library, loops
from retrieval.bm25 import Bm25Index, topk
from retrieval.jsonout import answer_json
from retrieval.mentions import MentionFinder, MentionTuning
from tests.support import ROOT

_INDEXED = MentionTuning(index_min_units=1)  # every group of passages gets a bigram index
_ALPHABET = "党主题教育x\U0001f600"


@contextmanager
def _loops(kind: str) -> Iterator[None]:
    """Run `kind`'s loops inside the block: for numpy, numba cannot be imported, as in an install without it."""
    loops.loops.cache_clear()
    if kind == "numba":
        assert loops.compiled()
        yield
        return
    saved = {name: sys.modules.get(name) for name in ("numba", "retrieval.kernels")}
    compiled_module = retrieval.__dict__.pop("kernels", None)
    sys.modules["numba"] = None  # type: ignore[assignment]
    sys.modules.pop("retrieval.kernels", None)
    try:
        assert not loops.compiled()
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
        if compiled_module is not None:
            retrieval.kernels = compiled_module  # type: ignore[attr-defined]
        loops.loops.cache_clear()


@settings(max_examples=80, deadline=None)
@given(
    texts=st.lists(st.text(alphabet=_ALPHABET, max_size=40), min_size=1, max_size=30),
    term=st.text(alphabet=_ALPHABET, min_size=1, max_size=8),
)
def test_mention_loops_equal_the_compiled_ones_and_str_count(texts: list[str], term: str) -> None:
    """Few characters, so bigram lists are long, needles overlap themselves and both ways of matching (merging the
    lists, reading candidates in the text) meet every case."""
    finder = MentionFinder(_INDEXED)
    finder.add(texts)
    expected = {i: t.count(term) for i, t in enumerate(texts) if term in t}
    for kind in ("numba", "numpy"):
        with _loops(kind):
            for read_text in (False, True):
                positions, counts = finder.find_counts(term, read_text=read_text)
                assert dict(zip(positions.tolist(), counts.tolist(), strict=True)) == expected, (kind, read_text)


def test_reading_the_text_across_big_gaps() -> None:
    """Candidates read from the text when the rarest bigram is far rarer than the others, with positions more than
    65535 units apart (kept aside from the 16-bit gaps)."""
    texts = ["主题教育" + "育" * 70_000, "教" * 100 + "主题教育", "x" * 90_000 + "主题教育教育", "题教育" * 50]
    finder = MentionFinder(_INDEXED)
    finder.add(texts)
    for kind in ("numba", "numpy"):
        with _loops(kind):
            for term in ["主题教育", "育", "教育", "题教育", "育育育", "x主", "育题", "教育教育", "xxxxxxxx主"]:
                expected = {i: t.count(term) for i, t in enumerate(texts) if term in t}
                for read_text in (False, True):
                    assert finder.find(term) == expected, (kind, term)
                    positions, counts = finder.find_counts(term, read_text=read_text)
                    assert dict(zip(positions.tolist(), counts.tolist(), strict=True)) == expected


_WORDS = [f"w{i}" for i in range(12)]


@settings(max_examples=60, deadline=None)
@given(
    documents=st.lists(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=12), min_size=2, max_size=50),
    query=st.lists(st.sampled_from(_WORDS), min_size=1, max_size=5),
    k=st.integers(1, 12),
    removed=st.sets(st.integers(0, 49), max_size=8),
    scoped=st.booleans(),
)
def test_term_at_a_time_loops_equal_the_compiled_ones(
    documents: list[list[str]], query: list[str], k: int, removed: set[int], scoped: bool
) -> None:
    """Every document scored as numpy passes: the same positions, order and scores, bit for bit, as the compiled
    loops (and rank-bm25's ranking), with deleted documents, repeated query terms and a scope."""
    index = Bm25Index.build(documents)
    index.remove(sorted(i for i in removed if i < len(documents)))
    order, idf = index._plan(query)
    within = np.arange(0, len(documents), 2, dtype=np.int64) if scoped else None
    eligible = None
    if within is not None:
        eligible = np.zeros(len(documents), dtype=np.bool_)
        eligible[within] = True
        eligible &= index.alive
    answers = {}
    for kind in ("numba", "numpy"):
        with _loops(kind):
            answers[kind] = topk.term_at_a_time(index.postings(), index.scratch, order, idf, k, eligible, within)
            assert not index.scratch.acc.any()  # cleared for the next question
    assert answers["numpy"] == answers["numba"]
    if not removed and not scoped:
        scores = BM25Okapi(documents).get_scores(query)
        ranked = sorted((i for i in range(len(documents)) if scores[i] > 0), key=lambda i: (-scores[i], i))[:k]
        assert [p for p, _ in answers["numpy"]] == ranked


def test_a_library_answers_the_same_without_numba(
    provincial_library: Library, caplog: pytest.LogCaptureFixture
) -> None:
    """The provincial reports (an indexed mention finder): mention answers and ranked answers are the same with
    either loops, and the log says which run."""
    questions = ["哪些报告提到新质生产力", "提到低空经济的报告", "哪些省份提到两重两新", "今年经济增长的预期目标"]
    answers = {}
    for kind in ("numba", "numpy"):
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="retrieval.loops"), _loops(kind):
            answers[kind] = [answer_json(provincial_library.ask(q)) for q in questions]
            copied = provincial_library.passages_containing("以习近平新时代中国特色社会主义思想为指导")
            answers[kind].append([ids.tolist() for ids in copied])
            said = caplog.text
        assert ("numpy loops" in said) == (kind == "numpy") and ("compiled by numba" in said) == (kind == "numba")
    assert answers["numpy"] == answers["numba"]
    assert answers["numpy"][0]["reports"]


def test_an_install_without_numba_answers_and_says_so() -> None:
    """A process where numba cannot be imported (as without the `fast` extra): an indexed finder answers, ranking
    works, and the log line names the numpy loops."""
    script = (
        "import logging, sys\n"
        "sys.modules['numba'] = None\n"
        "logging.basicConfig(level=logging.INFO, format='%(message)s')\n"
        "from retrieval.bm25 import Bm25Index\n"
        "from retrieval.mentions import MentionFinder, MentionTuning\n"
        "finder = MentionFinder(MentionTuning(index_min_units=1))\n"
        "finder.add(['哪些报告提到四下基层', '主题教育主题教育', '主题'])\n"
        "finder.warm()\n"
        "assert finder.find('主题教育') == {1: 2}, finder.find('主题教育')\n"
        "index = Bm25Index.build([['a', 'b'], ['b'], ['c']])\n"
        "index.warm()\n"
        "assert [p for p, _ in index.top(['b'], 2)] == [1, 0]\n"
        "assert 'retrieval.kernels' not in sys.modules\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "numba is not installed: the mention finder and ranking run numpy loops" in proc.stderr
