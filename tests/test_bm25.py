"""The serving scorer equals rank-bm25's BM25Okapi on the same tokens: same scores (1e-6), same ranking."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rank_bm25 import BM25Okapi

from retrieval import Library
from retrieval.bm25 import Bm25Index, Tuning, topk

QUERIES = [
    "四下基层",
    "全县生产总值达到多少",
    "主题教育",
    "工作 推进",
    "存在问题",
    "调查研究 检视整改",
    "政府办 文稿服务",
    "下一步 打算",
    "学习 学习 学习",
    "不存在的词语组合",
    "三会一课 主题党日 双报到",
    "习近平新时代中国特色社会主义思想",
]


# small corpora and questions for the property tests of the compiled loops
_SMALL_CORPUS = st.lists(st.lists(st.sampled_from("abcdefgh"), min_size=1, max_size=12), min_size=1, max_size=60)
_SMALL_QUERY = st.lists(st.sampled_from("abcdefghz"), min_size=1, max_size=6)


def _reference_top(scores: np.ndarray, k: int) -> list[int]:
    order = np.argsort(-scores, kind="stable")
    return [int(i) for i in order[:k] if scores[i] > 0]


def test_corpus_scores_and_ranks_equal_rank_bm25(corpus_library: Library) -> None:
    records = corpus_library.store.passages()
    documents = [list(r.terms) for r in records]
    reference = BM25Okapi(documents)
    index = Bm25Index.build(documents)
    for text in QUERIES:
        query = corpus_library.query_terms(text)
        expected = reference.get_scores(query)
        assert np.allclose(index.dense_scores(query), expected, atol=1e-6, rtol=0), text
        assert [p for p, _ in index.top(query, 10)] == _reference_top(expected, 10), text
        for position, score in index.top(query, 10):
            assert score == pytest.approx(expected[position], abs=1e-6)


def test_corpus_scoped_questions_equal_rank_bm25_restricted(corpus_library: Library) -> None:
    """The library's positions of a set of reports, and the index's top k within them, against rank-bm25 over the
    whole corpus restricted to those reports' passages."""
    records = corpus_library.store.passages()
    reference = BM25Okapi([list(r.terms) for r in records])
    for report_ids in ({4}, {1, 3}, {2, 5, 1}, {1, 2, 3, 4, 5}, {99}):
        within = corpus_library._passages.of_reports(report_ids)
        in_scope = [i for i, r in enumerate(records) if r.report_id in report_ids]
        assert within.tolist() == in_scope
        for text in QUERIES:
            query = corpus_library.query_terms(text)
            expected = reference.get_scores(query)
            got = corpus_library._passages.bm25.top(query, 10, within)
            assert [p for p, _ in got] == _reference_top_within(expected, in_scope, 10), (text, report_ids)
            for position, score in got:
                assert score == pytest.approx(expected[position], abs=1e-6)


def _random_corpus(seed: int, n: int) -> list[list[str]]:
    rng = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(80)]
    return [[rng.choice(vocabulary[: rng.randint(2, 80)]) for _ in range(rng.randint(1, 40))] for _ in range(n)]


@pytest.fixture(params=["pruned", "term-at-a-time"])
def scoring(request: pytest.FixtureRequest) -> Tuning:
    """Ranked questions walked and pruned (numpy), or, as in a large index, handed to the compiled loops."""
    if request.param == "term-at-a-time":
        return Tuning(
            compiled_min=0,
            term_at_a_time=1e9,  # as soon as a list would be read further
            impact_min_postings=2,  # short lists walked too, and cut short
            impact_keep_min=8,
            first_depth=2,
        )
    return Tuning()


@pytest.mark.parametrize("seed", range(5))
def test_incremental_adds_and_removals_stay_exact(seed: int, scoring: Tuning) -> None:
    documents = _random_corpus(seed, 400)
    index = Bm25Index.build(documents[:250], tuning=scoring)
    for start in range(250, 400, 10):  # many small segments, merged along the way
        index.add(documents[start : start + 10])
    removed = set(random.Random(seed).sample(range(400), 60))
    index.remove(sorted(removed))
    live = [d for i, d in enumerate(documents) if i not in removed]
    reference = BM25Okapi(live)
    live_positions = [i for i in range(400) if i not in removed]
    rng = random.Random(seed + 100)
    for _ in range(20):
        query = [f"w{rng.randint(0, 85)}" for _ in range(rng.randint(1, 5))]
        expected = reference.get_scores(query)
        assert np.allclose(index.dense_scores(query), expected, atol=1e-6, rtol=0)
        ours = [p for p, _ in index.top(query, 10)]
        assert ours == [live_positions[i] for i in _reference_top(expected, 10)]


def test_zero_scores_are_not_results() -> None:
    index = Bm25Index.build([["a"], ["b"], ["c"]])
    assert index.top(["zzz"], 10) == []
    assert [p for p, _ in index.top(["a"], 10)] == [0]


@pytest.mark.filterwarnings("error")
def test_live_documents_without_terms_score_nothing_without_dividing_by_zero(scoring: Tuning) -> None:
    """When no live document holds a term (an ingested file whose only passage has no words, or deletions leaving
    only such passages) rank-bm25's avgdl would be 0 and it refuses the corpus; nothing can score. The index answers
    nothing, warns nothing, and once a document with terms comes its scores are rank-bm25's again, also through a
    segment merged while the live documents were empty (its impact bounds were divided by that average)."""
    with pytest.raises(ZeroDivisionError):  # rank-bm25's own behaviour: no index of such a corpus
        BM25Okapi([[], []])
    empty = Bm25Index.build([[], []], tuning=scoring)
    assert empty.top(["a"], 10) == [] and not empty.dense_scores(["a"]).any()

    tuning = dataclasses.replace(scoring, merge_segments=2, impact_min_postings=2)
    index = Bm25Index.build([["a", "a"], ["a"]], tuning=tuning)
    index.add([["a"]])
    index.add([["a", "b"]])
    index.remove([0, 1, 2, 3])
    index.add([[]])  # the tail is merged while no live document holds a term
    assert index.top(["a"], 10) == [] and index.score(["a"])[0].size == 0
    index.add([[], ["a", "b"], ["c"]])
    reference = BM25Okapi([[], [], ["a", "b"], ["c"]])
    for query in (["a"], ["b", "a"], ["c", "z"]):
        expected = reference.get_scores(query)
        assert np.array_equal(index.dense_scores(query), expected), query
        assert [p - 4 for p, _ in index.top(query, 10)] == _reference_top(expected, 10), query


def test_tf_rows_of_common_terms_stay_exact(tmp_path: Path, scoring: Tuning) -> None:
    """Common terms get a tf row per segment (not for tfs over 255); one segment looks them up together."""
    rng = random.Random(7)
    documents = [["common"] * rng.randint(1, 3) + _random_corpus(i, 1)[0] for i in range(300)]
    documents[5] += ["heavy"] * 300 + ["common"] * 2
    documents += [["heavy"] for _ in range(60)]
    index = Bm25Index.build(documents, tuning=scoring)
    segment = index._segments[0]
    assert "common" in index.vocabulary and index.vocabulary["common"] in segment.row_of
    assert index.vocabulary["heavy"] not in segment.row_of  # a tf of 302 does not fit a byte
    path = tmp_path / "index.npz"
    index.save(path)
    loaded = Bm25Index.load(path, tuning=scoring)
    assert loaded._segments[0].row_of == segment.row_of
    assert np.array_equal(loaded._segments[0].rows, segment.rows)
    reference = BM25Okapi(documents)
    for query in (["common", "w1", "w2", "w3"], ["heavy", "common"], ["w5", "common", "w5", "w7", "heavy"]):
        expected = reference.get_scores(query)
        for k in (1, 10, 50):
            got = loaded.top(query, k)
            assert [p for p, _ in got] == _reference_top(expected, k)
            assert [s for _, s in got] == [expected[p] for p, _ in got]
    index.add([["common", "w1"], ["heavy", "w2"]])  # a second segment: rows looked up one segment at a time
    reference = BM25Okapi([*documents, ["common", "w1"], ["heavy", "w2"]])
    expected = reference.get_scores(["common", "w1", "heavy"])
    assert [p for p, _ in index.top(["common", "w1", "heavy"], 10)] == _reference_top(expected, 10)


@settings(max_examples=150, deadline=None)
@given(
    documents=_SMALL_CORPUS,
    query=_SMALL_QUERY,
    k=st.integers(1, 12),
    removed=st.sets(st.integers(0, 59), max_size=10),
    split=st.integers(1, 60),
)
def test_term_at_a_time_equals_rank_bm25_bit_for_bit(
    documents: list[list[str]], query: list[str], k: int, removed: set[int], split: int
) -> None:
    """The compiled loops score every document: same positions, order (ties by position) and scores as rank-bm25,
    over several segments, deleted documents and repeated query terms."""
    index = Bm25Index.build(documents[:split])
    if split < len(documents):
        index.add(documents[split:])
    gone = sorted(i for i in removed if i < len(documents))
    index.remove(gone)
    live = [i for i in range(len(documents)) if i not in removed]
    if not live:
        return
    reference = BM25Okapi([documents[i] for i in live])
    if gone:  # rank-bm25 sums its average idf in an order the index does not keep (see bench/selfcheck.py)
        index._mean_idf = lambda: float(reference.average_idf)  # type: ignore[method-assign]
    order, idf = index._plan(query)
    got = topk.term_at_a_time(index.postings(), index.scratch, order, idf, k)
    expected = reference.get_scores(query)
    assert [p for p, _ in got] == [live[i] for i in _reference_top(expected, k)]
    assert [s for _, s in got] == [expected[live.index(p)] for p, _ in got]
    assert not index.scratch.acc.any()  # cleared for the next question


def test_warming_a_large_index_changes_no_answer() -> None:
    documents = _random_corpus(3, 300)
    index = Bm25Index.build(documents)
    before = [index.top(query, 10) for query in (["w1"], ["w2", "w3", "w2"])]
    index.tuning = Tuning(compiled_min=0)
    index.warm()
    assert not index.scratch.acc.any()
    order, idf = index._plan(["w1"])
    assert topk.term_at_a_time(index.postings(), index.scratch, order, idf, 10) == before[0]
    assert [index.top(query, 10) for query in (["w1"], ["w2", "w3", "w2"])] == before


def _reference_top_within(scores: np.ndarray, within: list[int], k: int) -> list[int]:
    """rank-bm25's ranking restricted to the documents `within` (indexes into its corpus), ties by position."""
    order = sorted((i for i in within if scores[i] > 0), key=lambda i: (-scores[i], i))
    return order[:k]


@pytest.fixture(params=["one by one", "walk"])
def within_path(request: pytest.FixtureRequest) -> int:
    """A scoped question scored document by document (a narrow scope) or by walking the index (a wide one)."""
    return 1 << 62 if request.param == "one by one" else 0  # Tuning.within_one_by_one


@pytest.mark.parametrize("seed", range(4))
def test_scoped_top_equals_rank_bm25_restricted_to_the_scope(seed: int, scoring: Tuning, within_path: int) -> None:
    """A scope filters the candidates and never changes a score: the same top k, scores and order as rank-bm25 over
    the whole corpus, restricted to the documents in scope; after adds and removals too."""
    documents = _random_corpus(seed, 400)
    index = Bm25Index.build(documents[:250], tuning=dataclasses.replace(scoring, within_one_by_one=within_path))
    for start in range(250, 400, 30):
        index.add(documents[start : start + 30])
    rng = random.Random(seed)
    removed = set(rng.sample(range(400), 40))
    index.remove(sorted(removed))
    live = [i for i in range(400) if i not in removed]
    reference = BM25Okapi([documents[i] for i in live])
    scopes = [
        list(range(30, 60)),  # one report's contiguous passages
        sorted(rng.sample(range(400), 120)),  # a year: reports spread over the library
        sorted(rng.sample(range(400), 3)),
        list(range(400)),  # everything
        sorted(removed)[:5],  # only deleted documents: nothing
    ]
    for scope in scopes:
        within = np.asarray(scope, dtype=np.int64)
        in_scope = [live.index(p) for p in scope if p not in removed]
        for _ in range(8):
            query = [f"w{rng.randint(0, 85)}" for _ in range(rng.randint(1, 5))]
            expected = reference.get_scores(query)
            for k in (1, 10):
                got = index.top(query, k, within)
                assert [p for p, _ in got] == [live[i] for i in _reference_top_within(expected, in_scope, k)]
                for position, score in got:
                    assert score == pytest.approx(expected[live.index(position)], abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(
    documents=_SMALL_CORPUS,
    query=_SMALL_QUERY,
    k=st.integers(1, 12),
    scope=st.sets(st.integers(0, 59), max_size=60),
    split=st.integers(1, 60),
)
def test_scoped_term_at_a_time_equals_rank_bm25_bit_for_bit(
    documents: list[list[str]], query: list[str], k: int, scope: set[int], split: int
) -> None:
    """The compiled loops with a scope: rank-bm25's scores of the documents in scope, bit for bit, in its order."""
    index = Bm25Index.build(documents[:split])
    if split < len(documents):
        index.add(documents[split:])
    reference = BM25Okapi(documents)
    eligible = np.zeros(index.size, dtype=np.bool_)
    in_scope = sorted(i for i in scope if i < len(documents))
    eligible[in_scope] = True
    order, idf = index._plan(query)
    got = topk.term_at_a_time(index.postings(), index.scratch, order, idf, k, eligible)
    expected = reference.get_scores(query)
    assert [p for p, _ in got] == _reference_top_within(expected, in_scope, k)
    assert [s for _, s in got] == [expected[p] for p, _ in got]
    assert not index.scratch.acc.any()
    within = np.asarray(in_scope, dtype=np.int64)
    one_by_one = topk.score_within(index.postings(), order, idf, k, within) if order else []
    assert one_by_one == got
    # the loops that add up and pass over only the scope's documents
    assert topk.term_at_a_time(index.postings(), index.scratch, order, idf, k, eligible, within) == got
    assert not index.scratch.acc.any()
