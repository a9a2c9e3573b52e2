"""In-memory search structures: a BM25 Okapi index and an exact mention finder over normalised passages.

Scores equal rank-bm25's `BM25Okapi` (k1=1.5, b=0.75, epsilon=0.25) on the same tokens, but a query only
touches the postings of its own terms: postings live in CSR segments (one large segment from the initial
build, small ones appended by each new report), deleted passages are masked out and subtracted from the
corpus statistics, so adding or replacing a report never rebuilds the index.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

K1 = 1.5
B = 0.75
EPSILON = 0.25
_MERGE_SEGMENTS = 16

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass
class _Segment:
    """Postings of a contiguous range of documents, grouped by term id (CSR)."""

    indptr: npt.NDArray[np.int64]  # size = vocabulary size at build time + 1
    docs: npt.NDArray[np.int32]
    tfs: npt.NDArray[np.float32]

    def postings(self, term_id: int) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]:
        if term_id + 1 >= self.indptr.size:
            return _EMPTY_DOCS, _EMPTY_TFS
        lo, hi = int(self.indptr[term_id]), int(self.indptr[term_id + 1])
        return self.docs[lo:hi], self.tfs[lo:hi]


_EMPTY_DOCS = np.empty(0, dtype=np.int32)
_EMPTY_TFS = np.empty(0, dtype=np.float32)


def _build_segment(doc_offset: int, term_ids: Sequence[npt.NDArray[np.int64]], vocab_size: int) -> _Segment:
    """CSR postings for documents `doc_offset + i` with the given term id arrays."""
    lengths = np.fromiter((t.size for t in term_ids), dtype=np.int64, count=len(term_ids))
    if lengths.sum() == 0:
        return _Segment(np.zeros(vocab_size + 1, dtype=np.int64), _EMPTY_DOCS, _EMPTY_TFS)
    all_terms = np.concatenate(term_ids)
    all_docs = np.repeat(np.arange(doc_offset, doc_offset + len(term_ids), dtype=np.int64), lengths)
    key = all_terms * (doc_offset + len(term_ids)) + all_docs  # sort by term, then document
    unique_keys, tf = np.unique(key, return_counts=True)
    n_docs_total = doc_offset + len(term_ids)
    terms = unique_keys // n_docs_total
    docs = (unique_keys % n_docs_total).astype(np.int32)
    indptr = np.zeros(vocab_size + 1, dtype=np.int64)
    np.add.at(indptr, terms + 1, 1)
    np.cumsum(indptr, out=indptr)
    return _Segment(indptr, docs, tf.astype(np.float32))


@dataclass
class Bm25Index:
    """BM25 Okapi over documents given as term lists; documents are addressed by position (0, 1, 2, …)."""

    vocabulary: dict[str, int] = field(default_factory=dict)
    _segments: list[_Segment] = field(default_factory=list)
    _doc_len: FloatArray = field(default_factory=lambda: np.empty(0, dtype=np.float64))
    _alive: npt.NDArray[np.bool_] = field(default_factory=lambda: np.empty(0, dtype=np.bool_))
    _df: IntArray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    _idf: FloatArray | None = None
    _norm: FloatArray | None = None  # k1 * (1 - b + b * dl / avgdl) per document
    _scratch: FloatArray = field(default_factory=lambda: np.empty(0, dtype=np.float64))

    @classmethod
    def build(cls, documents: Sequence[Sequence[str]]) -> Bm25Index:
        """An index of `documents` (each a list of terms), positions 0..len-1."""
        index = cls()
        index.add(documents)
        return index

    @property
    def size(self) -> int:
        """Positions allocated, deleted ones included."""
        return int(self._doc_len.size)

    @property
    def live_count(self) -> int:
        """Documents not deleted: rank-bm25's corpus_size."""
        return int(self._alive.sum())

    def _term_ids(self, terms: Sequence[str]) -> npt.NDArray[np.int64]:
        vocab = self.vocabulary
        ids = np.empty(len(terms), dtype=np.int64)
        for i, term in enumerate(terms):
            tid = vocab.get(term)
            if tid is None:
                tid = vocab[term] = len(vocab)
            ids[i] = tid
        return ids

    def add(self, documents: Sequence[Sequence[str]]) -> range:
        """Append documents; returns their positions. Visible to the next query."""
        start = self.size
        term_ids = [self._term_ids(doc) for doc in documents]
        vocab_size = len(self.vocabulary)
        segment = _build_segment(start, term_ids, vocab_size)
        self._segments.append(segment)
        self._doc_len = np.concatenate(
            [self._doc_len, np.array([len(d) for d in documents], dtype=np.float64)]
        )
        self._alive = np.concatenate([self._alive, np.ones(len(documents), dtype=np.bool_)])
        df = np.zeros(vocab_size, dtype=np.int64)
        df[: self._df.size] = self._df
        df += np.diff(segment.indptr)
        self._df = df
        self._scratch = np.zeros(self.size, dtype=np.float64)
        self._invalidate()
        if len(self._segments) > _MERGE_SEGMENTS:
            self._merge_small_segments()
        return range(start, self.size)

    def remove(self, positions: Sequence[int]) -> None:
        """Delete documents: they stop counting in N, avgdl and document frequencies, and never match."""
        if not len(positions):
            return
        pos = np.unique(np.asarray(positions, dtype=np.int64))
        pos = pos[self._alive[pos]]
        if pos.size == 0:
            return
        self._alive[pos] = False
        dead = np.zeros(self.size, dtype=np.bool_)
        dead[pos] = True
        for segment in self._segments:
            hit = dead[segment.docs]
            if hit.any():
                # a trailing 0 makes every start a valid index, empty ranges at the end included
                padded = np.append(hit.astype(np.int64), 0)
                counts = np.add.reduceat(padded, segment.indptr[:-1])
                counts[segment.indptr[:-1] == segment.indptr[1:]] = 0
                self._df[: counts.size] -= counts
        self._invalidate()

    def _merge_small_segments(self) -> None:
        """Fold the appended segments into one so a query visits few segments."""
        main, small = self._segments[0], self._segments[1:]
        vocab_size = len(self.vocabulary)
        docs = np.concatenate([s.docs for s in small])
        tfs = np.concatenate([s.tfs for s in small])
        terms = np.concatenate([np.repeat(np.arange(s.indptr.size - 1), np.diff(s.indptr)) for s in small])
        order = np.lexsort((docs, terms))
        indptr = np.zeros(vocab_size + 1, dtype=np.int64)
        np.add.at(indptr, terms + 1, 1)
        np.cumsum(indptr, out=indptr)
        self._segments = [main, _Segment(indptr, docs[order], tfs[order])]

    def _invalidate(self) -> None:
        self._idf = None
        self._norm = None

    def _statistics(self) -> tuple[FloatArray, FloatArray]:
        """idf per term id and the length normalisation per document, as rank-bm25 computes them."""
        if self._idf is None or self._norm is None:
            n = float(self.live_count)
            live_terms = self._df > 0
            df = self._df.astype(np.float64)
            raw = np.log(n - df + 0.5) - np.log(df + 0.5)
            average = float(raw[live_terms].mean()) if live_terms.any() else 0.0
            idf = np.where(raw < 0, EPSILON * average, raw)
            idf[~live_terms] = 0.0
            total = float(self._doc_len[self._alive].sum())
            avgdl = total / n if n else 1.0
            self._idf = idf
            self._norm = K1 * (1 - B + B * self._doc_len / avgdl)
        return self._idf, self._norm

    def idf(self, term: str) -> float:
        """The idf rank-bm25 would give `term` (0 when the corpus does not contain it)."""
        tid = self.vocabulary.get(term)
        return 0.0 if tid is None else float(self._statistics()[0][tid])

    def score(self, query: Sequence[str]) -> tuple[IntArray, FloatArray]:
        """Positions with a positive score for `query` and their scores, in position order."""
        idf, norm = self._statistics()
        counts = Counter(query)
        scratch = self._scratch
        touched: list[npt.NDArray[np.int32]] = []
        for term, count in counts.items():
            tid = self.vocabulary.get(term)
            if tid is None or self._df[tid] == 0:
                continue
            weight = idf[tid]
            for segment in self._segments:
                docs, tfs = segment.postings(tid)
                if docs.size == 0:
                    continue
                contribution = weight * (tfs * (K1 + 1) / (tfs + norm[docs]))
                scratch[docs] += contribution * count if count > 1 else contribution
                touched.append(docs)
        if not touched:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        touched_total = sum(t.size for t in touched)
        if touched_total * 8 > scratch.size:
            candidates = np.flatnonzero(scratch)
        elif len(touched) == 1:
            candidates = touched[0].astype(np.int64)
        else:
            candidates = np.unique(np.concatenate(touched)).astype(np.int64)
        scores = scratch[candidates]
        scratch[candidates] = 0.0
        keep = self._alive[candidates] & (scores > 0)
        return candidates[keep], scores[keep]

    def top(self, query: Sequence[str], k: int) -> list[tuple[int, float]]:
        """The `k` best positions by score, ties broken by position (as a stable sort of rank-bm25's scores)."""
        positions, scores = self.score(query)
        if positions.size > k:
            cut = np.argpartition(-scores, k - 1)[:k]
            threshold = scores[cut].min()
            # keep every position tied with the k-th score so the tie-break by position is exact
            chosen = np.flatnonzero(scores >= threshold)
            positions, scores = positions[chosen], scores[chosen]
        order = np.lexsort((positions, -scores))[:k]
        return [(int(positions[i]), float(scores[i])) for i in order]

    def dense_scores(self, query: Sequence[str]) -> FloatArray:
        """Scores of every live position (0 for no match), in position order: for comparing with rank-bm25."""
        out = np.zeros(self.size, dtype=np.float64)
        positions, scores = self.score(query)
        out[positions] = scores
        return out[self._alive]


class MentionFinder:
    """Exact, complete substring search over normalised passage texts.

    Texts are kept in a few large strings (one per batch added) with NUL separators, so one C-level scan
    finds every occurrence; a sorted offsets array maps an occurrence back to its passage position.
    """

    def __init__(self) -> None:
        self._chunks: list[tuple[int, str, npt.NDArray[np.int64]]] = []  # (first position, text, starts)
        self._alive = np.empty(0, dtype=np.bool_)
        self.size = 0

    def add(self, texts: Sequence[str]) -> None:
        """Append normalised passage texts at the next positions."""
        if not texts:
            return
        lengths = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=len(texts))
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        self._chunks.append((self.size, "\x00".join(texts) + "\x00", starts))
        self._alive = np.concatenate([self._alive, np.ones(len(texts), dtype=np.bool_)])
        self.size += len(texts)

    def remove(self, positions: Sequence[int]) -> None:
        """Deleted passages are never reported again."""
        if len(positions):
            self._alive[np.asarray(positions, dtype=np.int64)] = False

    def alive_positions(self) -> npt.NDArray[np.int64]:
        """Positions of passages not deleted."""
        return np.flatnonzero(self._alive)

    def text(self, position: int) -> str:
        """The normalised text of one passage."""
        for first, text, starts in reversed(self._chunks):
            if position >= first:
                i = position - first
                end = int(starts[i + 1]) - 1 if i + 1 < starts.size else len(text) - 1
                return text[int(starts[i]) : end]
        raise IndexError(position)

    def find(self, term: str) -> dict[int, int]:
        """Every live passage position containing `term` (normalised), with its number of occurrences."""
        if not term or "\x00" in term:
            return {}
        found: Counter[int] = Counter()
        step = len(term)
        for first, text, starts in self._chunks:
            hits: list[int] = []
            at = text.find(term)
            while at != -1:
                hits.append(at)
                at = text.find(term, at + step)
            if hits:
                local = np.searchsorted(starts, np.asarray(hits, dtype=np.int64), side="right") - 1
                found.update((local + first).tolist())
        return {pos: n for pos, n in found.items() if self._alive[pos]}
