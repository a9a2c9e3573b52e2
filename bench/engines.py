"""The engines compared: ours (retrieval.bm25.Bm25Index) and the references, all on the same tokens.

Every engine answers `top(query_terms, k)` with positions, best first. rank-bm25 is the exactness reference
(our scores must equal its BM25Okapi scores); bm25s and tantivy are speed references only (their BM25
variants differ from rank-bm25's, so their rankings are not compared).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from retrieval.bm25 import Bm25Index, Bm25Params

PARAMS = Bm25Params()  # ours and the references with the same k1, b (and epsilon for rank-bm25)


class Engine(Protocol):
    """A ranked retriever over a fixed corpus of token lists."""

    name: str

    def build(self, documents: Sequence[Sequence[str]]) -> None: ...

    def top(self, query: Sequence[str], k: int) -> list[int]: ...


class Ours:
    """retrieval.bm25.Bm25Index: exact BM25Okapi scores, top-k with ties broken by position."""

    name = "ours"

    def __init__(self) -> None:
        self.index = Bm25Index(PARAMS)

    def build(self, documents: Sequence[Sequence[str]]) -> None:
        self.index = Bm25Index.build(documents, PARAMS)

    def top(self, query: Sequence[str], k: int) -> list[int]:
        return [p for p, _ in self.index.top(query, k)]

    def top_scored(
        self, query: Sequence[str], k: int, within: npt.NDArray[np.int64] | None = None
    ) -> list[tuple[int, float]]:
        return self.index.top(query, k, within)


class RankBm25:
    """rank_bm25.BM25Okapi (k1=1.5, b=0.75, epsilon=0.25): get_scores over every document."""

    name = "rank-bm25"

    def __init__(self) -> None:
        self.model: Any = None

    def build(self, documents: Sequence[Sequence[str]]) -> None:
        from rank_bm25 import BM25Okapi

        self.model = BM25Okapi(documents, k1=PARAMS.k1, b=PARAMS.b, epsilon=PARAMS.epsilon)

    def scores(self, query: Sequence[str]) -> npt.NDArray[np.float64]:
        scores: npt.NDArray[np.float64] = self.model.get_scores(list(query))
        return scores

    def top(self, query: Sequence[str], k: int) -> list[int]:
        scores = self.scores(query)
        cut = np.argpartition(-scores, k - 1)[:k] if scores.size > k else np.arange(scores.size)
        order = cut[np.argsort(-scores[cut], kind="stable")]
        return [int(i) for i in order if scores[i] > 0]


class Bm25s:
    """bm25s (method "robertson", k1=1.5, b=0.75), indexed from token ids."""

    name = "bm25s"

    def __init__(self) -> None:
        self.model: Any = None
        self.vocab: dict[str, int] = {}

    def build(self, documents: Sequence[Sequence[str]]) -> None:
        import bm25s  # type: ignore[import-untyped]

        vocab = self.vocab
        ids = [[vocab.setdefault(t, len(vocab)) for t in doc] for doc in documents]
        self.model = bm25s.BM25(k1=PARAMS.k1, b=PARAMS.b, method="robertson")
        self.model.index(bm25s.tokenization.Tokenized(ids=ids, vocab=dict(vocab)), show_progress=False)

    def top(self, query: Sequence[str], k: int) -> list[int]:
        ids = [self.vocab[t] for t in query if t in self.vocab]
        if not ids:
            return []
        docs, scores = self.model.retrieve([ids], k=k, show_progress=False, n_threads=1)
        return [int(d) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]


class Tantivy:
    """tantivy-py: the tokens joined by spaces in a field with the whitespace tokenizer (freqs, no positions)."""

    name = "tantivy"

    def __init__(self) -> None:
        self.index: Any = None
        self.schema: Any = None
        self.searcher: Any = None

    def build(self, documents: Sequence[Sequence[str]]) -> None:
        import tantivy

        builder = tantivy.SchemaBuilder()
        builder.add_text_field("body", stored=False, tokenizer_name="whitespace", index_option="freq")
        self.schema = builder.build()
        self.index = tantivy.Index(self.schema)
        writer = self.index.writer(heap_size=512_000_000, num_threads=2)
        for doc in documents:
            writer.add_document(tantivy.Document(body=" ".join(doc)))
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()

    def top(self, query: Sequence[str], k: int) -> list[int]:
        import tantivy

        clauses = [
            (tantivy.Occur.Should, tantivy.Query.term_query(self.schema, "body", t, index_option="freq"))
            for t in dict.fromkeys(query)
        ]
        if not clauses:
            return []
        hits = self.searcher.search(tantivy.Query.boolean_query(clauses), k).hits
        return [int(address.doc) for _, address in hits]


def reference_top(scores: npt.NDArray[np.float64], k: int) -> list[int]:
    """rank-bm25's ranking: a stable sort of the scores (ties by position), positive scores only."""
    order = np.argsort(-scores, kind="stable")
    return [int(i) for i in order[:k] if scores[i] > 0]


def compare_top(
    ours: Sequence[tuple[int, float]],
    scores: npt.NDArray[np.float64],
    k: int,
    tolerance: float = 1e-6,
    within: npt.NDArray[np.int64] | None = None,
) -> str | None:
    """None when our top-k equals the reference's (positions in order, scores within `tolerance`); with `within`
    (ascending positions), the reference's ranking restricted to those documents, its scores unchanged."""
    if within is None:
        expected = reference_top(scores, k)
    else:
        expected = [int(within[i]) for i in reference_top(scores[within], k)]
    got = [p for p, _ in ours]
    if got != expected:
        return f"positions differ: ours {got} vs reference {expected}"
    for position, score in ours:
        if abs(score - float(scores[position])) > tolerance:
            return f"score of {position} differs: ours {score!r} vs reference {float(scores[position])!r}"
    return None
