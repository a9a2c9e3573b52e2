"""In-memory BM25 Okapi index over the passages' terms.

Bm25Index
    Scores equal rank-bm25's `BM25Okapi` (k1=1.5, b=0.75, epsilon=0.25) on the same tokens, bit for bit in the
    usual case: a document's score is summed term by term in query order with rank-bm25's own expression. Postings
    live in CSR segments (one large segment from the initial build, small ones appended by each new report, folded
    into one tail segment now and then); deleted passages are masked out and subtracted from the corpus
    statistics, so adding or replacing a report never rebuilds the index.

    `top` is exact but does not score every posting. A term with many postings in a segment also has an impact-ordered
    copy of the top of them (documents by decreasing tf weight `tf*(k1+1)/(tf+k1*(1-b+b*dl/avgdl))` computed when the
    segment was built; at least 8192 entries or a quarter of the list) with an upper bound per block of 64 entries. A
    query walks these copies from the top, deeper each round (threshold algorithm): every document met is scored exactly
    (binary searches into the document-ordered postings, or a dense array of a term's frequencies once that is cheaper;
    a term in at least 1/6 of a segment's documents has a row of its frequencies, a byte per document built with the
    segment or on load, so its lookup is one gather), candidates are dropped as soon as their partial score plus the
    most the remaining terms could add falls below the k-th best score, and the walk stops once no document not met yet
    could reach it. When walking on would cost more, or would pass the end of an impact copy, the query finishes with a
    MaxScore pass: terms whose maxima together stay below the k-th best score cannot lift a document alone, so only the
    postings of the other (essential) terms are read in full. In an index of 100k positions or more, such a query is
    instead scored term at a time by compiled loops (retrieval/kernels.py): every posting of every query term added in
    query order into a dense array with rank-bm25's expression, one pass keeping the k best; when most documents stay
    candidates (long questions of common terms) that is several times cheaper than pruning through numpy, and the
    walk hands over once (documents met) x (terms) passes a quarter of those postings (`_TERM_AT_A_TIME`). A later
    change of the average length moves a weight by at most the ratio of the averages, so the bounds stay valid with
    that factor and an impact order never has to be rebuilt. Terms with few postings are read whole. `top` uses
    scratch arrays of the index: calls must not run concurrently (Library holds its lock around them).
"""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .arrays import DocArray, FloatArray, IntArray, UIntArray, decode_strings, encode_strings, ptr, replace

K1 = 1.5
B = 0.75
EPSILON = 0.25
_MERGE_SEGMENTS = 16  # small segments allowed after the first before they are folded into one
IMPACT_MIN_POSTINGS = 256  # a term with at least this many postings in a segment gets an impact-ordered copy
_BLOCK_SHIFT = 6  # one upper bound per 64 impact entries
_IMPACT_KEEP_MIN = 8192  # impact copies keep at least this many entries of a list ...
_IMPACT_KEEP_SHIFT = 2  # ... or a quarter of it, whichever is more
_FIRST_DEPTH = 64  # impact entries read per list in the first round of a query
_MAX_JUMP = 16  # a list is read at most this many times deeper per round
_SWITCH = 1.0  # walk the impact lists while (documents met) x (terms) stays under the MaxScore pass's postings
_PROBE = 256  # candidates of the MaxScore pass scored first, to raise the threshold
_DENSE_AFTER = 16  # a term's frequencies go dense once 1/16 of its postings' worth of binary searches were done
_DENSE_RANK_LIMIT = 1 << 24  # (tf, length) grid size up to which impact ranks come from a dense table
_BOUND_MARGIN = 1e-9  # relative slack on bounds and pruning: they are computed in floating point too
_DENSE_SCAN = 4  # the MaxScore pass scans its whole scratch array once its lists hold 1/4 of the positions
_GATHER = 2048  # candidates up to which the remaining tf-row terms are looked up together (no pruning between)
_COMPILED_MIN = 100_000  # positions from which a ranked question may be scored term at a time (retrieval.kernels)
# ... instead of walking on, once (documents met) x (terms) x this exceeds the postings to add plus a quarter of the
# positions to scan: a candidate scored through numpy costs ~4x a posting added by the compiled loop
_TERM_AT_A_TIME = 4.0
# A scoped question scores its documents one by one while (documents in scope) x (terms) stays under this (a few
# reports); a wider scope (a year of an archive) walks the impact lists like any question, only deeper: a tenth of
# the documents in scope means reading about ten times as far down the lists, still far less than scoring them all
_WITHIN_ONE_BY_ONE = 1 << 14
_OUTSIDE_COST = 1.0  # a document met outside a question's scope costs about as much as scoring this many terms
_ROW_SHARE = 6  # a term in at least 1/6 of a segment's documents also gets a row of its tfs (a byte per document);
# 1/6 rather than 1/8: ~27 rows (27 MB) at 1M passages instead of ~45, for ~3% more time, keeps the serving process
# clear of its 1 GB budget

_EMPTY_DOCS: DocArray = np.empty(0, dtype=np.int32)
_EMPTY_PTR: IntArray = np.zeros(1, dtype=np.int64)
_EMPTY_BOUNDS: npt.NDArray[np.float32] = np.empty(0, dtype=np.float32)
_EMPTY_ROWS: npt.NDArray[np.uint8] = np.empty(0, dtype=np.uint8)


def _tf_dtype(max_tf: int) -> type[np.unsignedinteger[Any]]:
    if max_tf <= 0xFF:
        return np.uint8
    if max_tf <= 0xFFFF:
        return np.uint16
    return np.uint32


def _tf_weight(tf: Any, length: Any, avgdl: float) -> Any:
    """rank-bm25's term-frequency part of the weight (without idf), for scalars or arrays."""
    return tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / avgdl))


@dataclass
class _Segment:
    """Postings of the documents `start`..`stop`-1, grouped by term id (CSR), with impact copies of long lists."""

    start: int
    stop: int
    indptr: IntArray  # term id -> range in docs/tfs; covers the term ids known when the segment was built
    docs: DocArray  # positions, ascending within each term
    tfs: UIntArray
    impact_ptr: IntArray = field(default_factory=lambda: _EMPTY_PTR)  # term id -> range in impact_docs
    impact_docs: DocArray = field(default_factory=lambda: _EMPTY_DOCS)  # by decreasing weight at `avgdl`
    bound_ptr: IntArray = field(default_factory=lambda: _EMPTY_PTR)  # term id -> range in bounds
    bounds: npt.NDArray[np.float32] = field(default_factory=lambda: _EMPTY_BOUNDS)  # per 64 impact entries
    avgdl: float = 1.0  # the average document length the impact order and bounds were computed with
    # the tf at every document (position - start) of the common terms: one gather instead of a binary search each;
    # derived from the postings when the segment is built or loaded, not saved
    rows: npt.NDArray[np.uint8] = field(init=False, repr=False)
    row_of: dict[int, int] = field(init=False, repr=False)  # term id -> row

    def __post_init__(self) -> None:
        n = self.stop - self.start
        counts = np.diff(self.indptr)
        common = [
            tid
            for tid in np.flatnonzero((counts > 0) & (counts * _ROW_SHARE >= n)).tolist()
            if self.tfs.dtype == np.uint8 or int(self.postings(tid)[1].max()) <= 0xFF
        ]
        self.rows = np.zeros((len(common), n), dtype=np.uint8)
        self.row_of = {tid: row for row, tid in enumerate(common)}
        for row, tid in enumerate(common):
            docs, tfs = self.postings(tid)
            self.rows[row, docs.astype(np.intp) - self.start] = tfs

    def range(self, term_id: int) -> tuple[int, int]:
        if term_id + 1 >= self.indptr.size:
            return 0, 0
        return int(self.indptr[term_id]), int(self.indptr[term_id + 1])

    def postings(self, term_id: int) -> tuple[DocArray, UIntArray]:
        lo, hi = self.range(term_id)
        return self.docs[lo:hi], self.tfs[lo:hi]

    def impact(self, term_id: int) -> tuple[DocArray, npt.NDArray[np.float32], bool]:
        """The impact-ordered top of a term's postings, the block bounds, and whether postings go on past it
        (then the last bound is the weight where the list was cut). Empty when the term has no impact copy."""
        if term_id + 1 >= self.impact_ptr.size:
            return _EMPTY_DOCS, _EMPTY_BOUNDS, False
        lo, hi = int(self.impact_ptr[term_id]), int(self.impact_ptr[term_id + 1])
        if lo == hi:
            return _EMPTY_DOCS, _EMPTY_BOUNDS, False
        bounds = self.bounds[int(self.bound_ptr[term_id]) : int(self.bound_ptr[term_id + 1])]
        return self.impact_docs[lo:hi], bounds, hi - lo < int(self.indptr[term_id + 1] - self.indptr[term_id])

    def nbytes(self) -> int:
        arrays = (self.indptr, self.docs, self.tfs, self.impact_ptr, self.impact_docs, self.bound_ptr, self.bounds)
        return int(self.rows.nbytes) + sum(int(a.nbytes) for a in arrays)

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        return {
            "range": np.array([self.start, self.stop], dtype=np.int64),
            "avgdl": np.array([self.avgdl], dtype=np.float64),
            "indptr": self.indptr,
            "docs": self.docs,
            "tfs": self.tfs,
            "impact_ptr": self.impact_ptr,
            "impact_docs": self.impact_docs,
            "bound_ptr": self.bound_ptr,
            "bounds": self.bounds,
        }

    @classmethod
    def from_arrays(cls, a: dict[str, npt.NDArray[Any]]) -> _Segment:
        start, stop = (int(x) for x in a["range"])
        return cls(
            start,
            stop,
            a["indptr"],
            a["docs"],
            a["tfs"],
            a["impact_ptr"],
            a["impact_docs"],
            a["bound_ptr"],
            a["bounds"],
            float(a["avgdl"][0]),
        )


def _segment_from_triples(
    start: int,
    stop: int,
    terms: IntArray,
    docs: DocArray,
    tfs: IntArray,
    vocab_size: int,
    doc_len: FloatArray,
    avgdl: float,
) -> _Segment:
    """A segment from (term, position, tf) triples sorted by term, then position."""
    per_term = np.bincount(terms, minlength=vocab_size).astype(np.int64)
    tf_type = _tf_dtype(int(tfs.max()) if tfs.size else 0)
    segment = _Segment(start, stop, ptr(per_term), docs, tfs.astype(tf_type))
    long_terms = per_term >= IMPACT_MIN_POSTINGS
    if long_terms.any():
        _add_impacts(segment, per_term, long_terms, terms, tfs, doc_len, avgdl)
    return segment


def _add_impacts(
    segment: _Segment,
    per_term: IntArray,
    long_terms: npt.NDArray[np.bool_],
    terms: IntArray,
    tfs: IntArray,
    doc_len: FloatArray,
    avgdl: float,
) -> None:
    """Impact-ordered copies of the long posting lists and their block bounds, at average length `avgdl`."""
    n = segment.stop - segment.start
    selected = np.repeat(long_terms, per_term)
    l_terms = terms[selected]
    l_docs = segment.docs[selected]
    l_tfs = tfs[selected]
    del selected
    lengths = doc_len[l_docs].astype(np.int64)
    max_tf, max_len = int(l_tfs.max()), int(lengths.max())
    pair = l_tfs * (max_len + 1) + lengths
    del lengths
    if (max_tf + 1) * (max_len + 1) <= _DENSE_RANK_LIMIT:
        present = np.flatnonzero(np.bincount(pair, minlength=(max_tf + 1) * (max_len + 1)))
        rank_of = np.zeros((max_tf + 1) * (max_len + 1), dtype=np.int64)
        weights = _tf_weight(present // (max_len + 1), present % (max_len + 1), avgdl).astype(np.float64)
        order = np.argsort(-weights, kind="stable")
        rank_of[present[order]] = np.arange(present.size)
        rank = rank_of[pair]
        weight_of_rank = weights[order]
    else:  # pathological lengths: rank the pairs that occur
        present, inverse = np.unique(pair, return_inverse=True)
        weights = _tf_weight(present // (max_len + 1), present % (max_len + 1), avgdl).astype(np.float64)
        order = np.argsort(-weights, kind="stable")
        rank_of = np.empty(present.size, dtype=np.int64)
        rank_of[order] = np.arange(present.size)
        rank = rank_of[inverse]
        weight_of_rank = weights[order]
    del pair
    ranks = int(weight_of_rank.size)
    if terms.size and int(terms.max() + 1) * ranks * n < 2**62:
        key = (l_terms * ranks + rank) * n + (l_docs.astype(np.int64) - segment.start)
        key.sort()
        impact_docs = (key % n + segment.start).astype(np.int32)
        entry_weight = weight_of_rank[(key // n) % ranks]
        del key
    else:  # keys would overflow: sort the three columns
        order = np.lexsort((l_docs, rank, l_terms))
        impact_docs = l_docs[order]
        entry_weight = weight_of_rank[rank[order]]
    counts = np.where(long_terms, per_term, 0)
    full_ptr = ptr(counts)
    # keep the top of each list only (a multiple of the block size); past it the list is read in document order
    kept = np.minimum(counts, np.maximum(_IMPACT_KEEP_MIN, (counts >> _IMPACT_KEEP_SHIFT) + 1))
    kept = np.where(kept < counts, (kept + (1 << _BLOCK_SHIFT) - 1) >> _BLOCK_SHIFT << _BLOCK_SHIFT, counts)
    kept = np.minimum(kept, counts)
    impact_ptr = ptr(kept)
    keep_entry = np.zeros(int(full_ptr[-1]), dtype=np.bool_)
    starts = np.repeat(full_ptr[:-1], kept)
    keep_entry[starts + np.arange(int(impact_ptr[-1]), dtype=np.int64) - np.repeat(impact_ptr[:-1], kept)] = True
    impact_docs = impact_docs[keep_entry]
    del keep_entry, starts
    # one bound per block of kept entries, and for a cut list one more: the weight where the cut is
    blocks = ((kept + (1 << _BLOCK_SHIFT) - 1) >> _BLOCK_SHIFT) + (kept < counts)
    bound_ptr = ptr(blocks)
    total_blocks = int(bound_ptr[-1])
    list_start = np.repeat(full_ptr[:-1], blocks)
    within = np.arange(total_blocks, dtype=np.int64) - np.repeat(bound_ptr[:-1], blocks)
    block_weight = entry_weight[list_start + (within << _BLOCK_SHIFT)]
    bounds = block_weight.astype(np.float32)
    low = bounds.astype(np.float64) < block_weight
    bounds[low] = np.nextafter(bounds[low], np.float32(np.inf))
    segment.impact_ptr = impact_ptr
    segment.impact_docs = impact_docs
    segment.bound_ptr = bound_ptr
    segment.bounds = bounds
    segment.avgdl = avgdl


@dataclass
class _List:
    """One impact-ordered posting list being walked by a query."""

    segment: int
    docs: DocArray
    bounds: npt.NDArray[np.float32]
    weight: float  # idf times the term's count in the query
    depth: int = 0
    cut: bool = False  # postings go on past the impact copy


class _Best:
    """The best documents scored so far: every one with a score at or above the k-th best (ties kept)."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.positions: DocArray = _EMPTY_DOCS
        self.scores: FloatArray = np.empty(0, dtype=np.float64)
        self.threshold: float | None = None  # the k-th best score once k documents have a positive score

    def take(self, positions: DocArray, scores: FloatArray) -> None:
        keep = scores > 0 if self.threshold is None else scores >= self.threshold
        if not keep.any():
            return
        self.positions = np.concatenate([self.positions, positions[keep]])
        self.scores = np.concatenate([self.scores, scores[keep]])
        n = self.scores.size
        if n >= self.k:
            self.threshold = float(np.partition(self.scores, n - self.k)[n - self.k])
            tied = self.scores >= self.threshold
            self.positions, self.scores = self.positions[tied], self.scores[tied]

    def ranked(self) -> list[tuple[int, float]]:
        order = np.lexsort((self.positions, -self.scores))[: self.k]
        return [(int(self.positions[i]), float(self.scores[i])) for i in order]


class _Scorer:
    """Exact scores of candidate positions for one query, pruning the hopeless ones early.

    Terms are looked up in decreasing order of the most they can add (their ceiling), the common terms with a tf
    row (in an index of one segment) last and all together in one gather; after each lookup, a candidate whose
    partial score plus the ceilings of the terms still to come stays below the threshold is dropped. The
    survivors' scores are then summed again term by term in query order with rank-bm25's expression, so they
    are exact. Another term's frequencies come from binary searches in its postings until those would cost more
    than writing the postings once into a dense array, which then serves the rest of the query.
    """

    def __init__(self, index: Bm25Index, order: list[int], idf: dict[int, float], ceiling: dict[int, float]) -> None:
        self.index = index
        self.order = order
        self.idf = idf
        counts = Counter(order)
        self.weight = {tid: value * counts[tid] for tid, value in idf.items()}  # idf times occurrences
        self.ceiling = {tid: max(ceiling.get(tid, 0.0), 0.0) for tid in idf}
        self.by_ceiling = sorted(idf, key=lambda tid: -self.ceiling[tid])
        self.terms = list(idf)
        row_of = {tid: row for row, tid in enumerate(self.terms)}
        self.order_rows = [row_of[tid] for tid in order]
        self.idf_column = np.array([idf[tid] for tid in self.terms], dtype=np.float64)[:, None]
        self.postings = {tid: sum(r[1] - r[0] for r in (s.range(tid) for s in index._segments)) for tid in idf}
        self.searched = dict.fromkeys(idf, 0)
        self.dense: dict[int, UIntArray] = {}
        # with one segment (positions = row offsets), the offset of each common term's row in its flattened rows
        only = index._segments[0] if len(index._segments) == 1 else None
        self.rows = _EMPTY_ROWS if only is None else only.rows.reshape(-1)
        self.row_offset = (
            {} if only is None else {t: only.row_of[t] * only.rows.shape[1] for t in idf if t in only.row_of}
        )

    def _tf(self, tid: int, positions: DocArray) -> FloatArray:
        dense = self.dense.get(tid)
        if dense is None and (self.searched[tid] + positions.size) * _DENSE_AFTER > self.postings[tid]:
            dense = self.dense[tid] = self.index._dense_tf(tid)
        if dense is not None:
            return np.take(dense, positions).astype(np.float64)
        self.searched[tid] += positions.size
        return self.index._tf(tid, positions)

    def _tfs(self, tids: list[int], positions: DocArray) -> FloatArray:
        """The frequencies of `tids` (one row each) in `positions`; a group of row terms in one gather."""
        if len(tids) == 1:
            at = self.row_offset.get(tids[0])
            if at is None:
                return self._tf(tids[0], positions)[None, :]
            return np.take(self.rows[at : at + self.index.size], positions).astype(np.float64)[None, :]
        offsets = np.array([self.row_offset[tid] for tid in tids], dtype=np.int64)
        return np.take(self.rows, offsets[:, None] + positions).astype(np.float64)

    def score(
        self,
        positions: DocArray,
        threshold: float | None,
        partial: FloatArray | None = None,
        done: frozenset[int] = frozenset(),
    ) -> tuple[DocArray, FloatArray]:
        """The candidates that can reach `threshold` (all when None) and their exact scores.

        `partial` may hold the contributions of the terms in `done` (summed in any order: used to prune only).
        """
        keep = np.arange(positions.size)
        part = np.zeros(positions.size, dtype=np.float64) if partial is None else partial
        pending = [tid for tid in self.by_ceiling if tid not in done]
        if threshold is not None and partial is not None and pending:
            hopeful = (part + sum(self.ceiling[tid] for tid in pending)) * (1 + _BOUND_MARGIN) >= threshold
            keep, part = keep[hopeful], part[hopeful]
        found = positions[keep]  # the candidates still in the race
        found_norm = self.index._norms().take(found)
        tfs: dict[int, tuple[IntArray, FloatArray]] = {}
        while pending:
            if keep.size == 0:
                return _EMPTY_DOCS, np.empty(0, dtype=np.float64)
            step = pending[:1]
            if step[0] in self.row_offset and (threshold is None or keep.size <= _GATHER):
                step = [tid for tid in pending if tid in self.row_offset]  # cheap now: the rest of them at once
            pending = [tid for tid in pending if tid not in step]
            tf = self._tfs(step, found)
            for row, tid in enumerate(step):
                tfs[tid] = (keep, tf[row])
            if threshold is None:
                continue
            gain = tf + found_norm
            np.divide(tf * (K1 + 1), gain, out=gain)
            if len(step) == 1:
                gain *= self.weight[step[0]]
                part = part + gain[0]
            else:
                gain *= np.array([self.weight[tid] for tid in step], dtype=np.float64)[:, None]
                part = part + gain.sum(axis=0)
            # (part + the most the terms still to come can add) * (1 + margin) >= threshold
            alive = np.flatnonzero(part >= threshold / (1 + _BOUND_MARGIN) - sum(self.ceiling[t] for t in pending))
            if alive.size < keep.size:
                keep, part, found, found_norm = (
                    keep.take(alive),
                    part.take(alive),
                    found.take(alive),
                    found_norm.take(alive),
                )
        if keep.size == 0:
            return _EMPTY_DOCS, np.empty(0, dtype=np.float64)
        tf_rows = np.empty((len(self.terms), keep.size), dtype=np.float64)
        for row, tid in enumerate(self.terms):
            if tid in tfs:
                rows, tf = tfs[tid]
                tf_rows[row] = tf if rows.size == keep.size else tf[np.searchsorted(rows, keep)]
        missing = [tid for tid in self.terms if tid not in tfs]  # the terms in `done`
        if missing:
            where = {tid: row for row, tid in enumerate(self.terms)}
            together = [tid for tid in missing if tid in self.row_offset]
            if together:
                tf_rows[[where[tid] for tid in together]] = self._tfs(together, found)
            for tid in missing:
                if tid not in self.row_offset:
                    tf_rows[where[tid]] = self._tf(tid, found)
        # rank-bm25's expression element by element, then the terms added one after another in query order
        contribution = self.idf_column * (tf_rows * (K1 + 1) / (tf_rows + found_norm))
        scores = contribution[self.order_rows[0]].copy()
        for row in self.order_rows[1:]:
            scores += contribution[row]
        return found, scores


@dataclass
class Bm25Index:
    """BM25 Okapi over documents given as term lists; documents are addressed by position (0, 1, 2, …)."""

    vocabulary: dict[str, int] = field(default_factory=dict)
    _segments: list[_Segment] = field(default_factory=list)
    _doc_len: FloatArray = field(default_factory=lambda: np.empty(0, dtype=np.float64))
    _alive: npt.NDArray[np.bool_] = field(default_factory=lambda: np.empty(0, dtype=np.bool_))
    _df: IntArray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    _live: int = 0  # documents not deleted
    _live_length: int = 0  # their total length
    _norm: FloatArray | None = None  # k1 * (1 - b + b * dl / avgdl) per position
    _average_idf: float | None = None
    _mark: npt.NDArray[np.int32] = field(default_factory=lambda: np.empty(0, dtype=np.int32))
    _acc: FloatArray = field(default_factory=lambda: np.empty(0, dtype=np.float64))
    _stamp: int = 0

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
        return self._live

    def posting_count(self) -> int:
        """Postings stored (deleted documents included), impact copies not counted."""
        return sum(int(s.docs.size) for s in self._segments)

    def nbytes(self) -> int:
        """Bytes held in arrays (the vocabulary dict not included)."""
        arrays = (self._doc_len, self._alive, self._df, self._mark)
        norm = 0 if self._norm is None else int(self._norm.nbytes)
        return sum(s.nbytes() for s in self._segments) + sum(int(a.nbytes) for a in arrays) + norm

    # --- building -----------------------------------------------------------------------------------------

    def _term_ids(self, documents: Sequence[Sequence[str]], total: int) -> npt.NDArray[np.int32]:
        """Term ids of every token, new terms numbered in order of first appearance (rank-bm25's order)."""
        vocab = self.vocabulary
        for term in dict.fromkeys(itertools.chain.from_iterable(documents)):
            if term not in vocab:
                vocab[term] = len(vocab)
        return np.fromiter(
            map(vocab.__getitem__, itertools.chain.from_iterable(documents)), dtype=np.int32, count=total
        )

    def add(self, documents: Sequence[Sequence[str]]) -> range:
        """Append documents; returns their positions. Visible to the next query."""
        start = self.size
        n = len(documents)
        if n == 0:
            return range(start, start)
        lengths = np.fromiter((len(d) for d in documents), dtype=np.int64, count=n)
        total = int(lengths.sum())
        term_ids = self._term_ids(documents, total)
        vocab_size = len(self.vocabulary)
        self._doc_len = np.concatenate([self._doc_len, lengths.astype(np.float64)])
        self._alive = np.concatenate([self._alive, np.ones(n, dtype=np.bool_)])
        self._live += n
        self._live_length += total
        self._invalidate()
        local = np.repeat(np.arange(n, dtype=np.int64), lengths)
        key = term_ids.astype(np.int64) * n + local
        del local, term_ids
        key.sort()
        if key.size:
            heads = np.flatnonzero(np.diff(key)) + 1
            heads = np.concatenate([np.zeros(1, dtype=np.int64), heads])
            tfs = np.diff(np.append(heads, key.size))
            unique = key[heads]
            del key, heads
            terms = unique // n
            docs = (unique % n + start).astype(np.int32)
            del unique
        else:
            terms, docs, tfs = (np.empty(0, dtype=np.int64), _EMPTY_DOCS, np.empty(0, dtype=np.int64))
        segment = _segment_from_triples(start, start + n, terms, docs, tfs, vocab_size, self._doc_len, self._avgdl())
        self._segments.append(segment)
        df = np.zeros(vocab_size, dtype=np.int64)
        df[: self._df.size] = self._df
        df += np.diff(segment.indptr)
        self._df = df
        if len(self._segments) > _MERGE_SEGMENTS + 1:
            self._merge_tail()
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
        self._live -= int(pos.size)
        self._live_length -= int(self._doc_len[pos].sum())
        dead = np.zeros(self.size, dtype=np.bool_)
        dead[pos] = True
        lowest, highest = int(pos[0]), int(pos[-1])
        for segment in self._segments:
            if segment.stop <= lowest or segment.start > highest or segment.docs.size == 0:
                continue
            hit = np.flatnonzero(dead[segment.docs])
            if hit.size:
                term_of_hit = np.searchsorted(segment.indptr, hit, side="right") - 1
                counts = np.bincount(term_of_hit, minlength=segment.indptr.size - 1)
                self._df[: counts.size] -= counts
        self._invalidate()

    def _merge_tail(self) -> None:
        """Fold the segments after the first into one (with impact copies) so a query visits few segments."""
        tail = self._segments[1:]
        vocab_size = len(self.vocabulary)
        terms = np.concatenate([np.repeat(np.arange(s.indptr.size - 1), np.diff(s.indptr)) for s in tail])
        docs = np.concatenate([s.docs for s in tail])
        tfs = np.concatenate([s.tfs.astype(np.int64) for s in tail])
        order = np.lexsort((docs, terms))
        merged = _segment_from_triples(
            tail[0].start,
            tail[-1].stop,
            terms[order],
            docs[order],
            tfs[order],
            vocab_size,
            self._doc_len,
            self._avgdl(),
        )
        self._segments = [self._segments[0], merged]

    # --- statistics ---------------------------------------------------------------------------------------

    def _invalidate(self) -> None:
        self._norm = None
        self._average_idf = None

    def _avgdl(self) -> float:
        return self._live_length / self._live if self._live else 1.0

    def _norms(self) -> FloatArray:
        """k1 * (1 - b + b * dl / avgdl) per position, as rank-bm25 computes it."""
        if self._norm is None:
            self._norm = K1 * (1 - B + B * self._doc_len / self._avgdl())
        return self._norm

    def _mean_idf(self) -> float:
        """rank-bm25's average_idf: the mean raw idf of every term of the live corpus, summed in order."""
        if self._average_idf is None:
            df = self._df[self._df > 0].astype(np.float64)
            if df.size == 0:
                self._average_idf = 0.0
            else:
                n = float(self._live)
                raw = np.log(n - df + 0.5) - np.log(df + 0.5)
                self._average_idf = float(np.cumsum(raw)[-1]) / df.size
        return self._average_idf

    def _term_idf(self, term_id: int) -> float | None:
        """rank-bm25's idf of a term id, None when no live document contains it."""
        df = int(self._df[term_id])
        if df == 0:
            return None
        raw = math.log(self._live - df + 0.5) - math.log(df + 0.5)
        return raw if raw >= 0 else EPSILON * self._mean_idf()

    def idf(self, term: str) -> float:
        """The idf rank-bm25 would give `term` (0 when the corpus does not contain it)."""
        tid = self.vocabulary.get(term)
        value = None if tid is None else self._term_idf(tid)
        return 0.0 if value is None else value

    def _plan(self, query: Sequence[str]) -> tuple[list[int], dict[int, float]]:
        """Term ids of the query in order (unknown terms dropped) and the idf of each."""
        vocab = self.vocabulary
        idf: dict[int, float] = {}
        missing: set[int] = set()
        order: list[int] = []
        for term in query:
            tid = vocab.get(term)
            if tid is None or tid in missing:
                continue
            if tid not in idf:
                value = self._term_idf(tid)
                if value is None:
                    missing.add(tid)
                    continue
                idf[tid] = value
            order.append(tid)
        return order, idf

    # --- scoring ------------------------------------------------------------------------------------------

    def _tf(self, term_id: int, positions: DocArray) -> FloatArray:
        """The term's frequency in each of `positions` (sorted), 0 where absent."""
        if len(self._segments) == 1:
            docs, tfs = self._segments[0].postings(term_id)
            if docs.size >= positions.size > 0:  # the usual case, in as few numpy calls as possible
                idx = np.searchsorted(docs, positions)
                hit = np.take(docs, idx, mode="clip") == positions
                found: FloatArray = np.multiply(np.take(tfs, idx, mode="clip"), hit, dtype=np.float64)
                return found
        out = np.zeros(positions.size, dtype=np.float64)
        for segment in self._segments:
            docs, tfs = segment.postings(term_id)
            if docs.size == 0:
                continue
            if len(self._segments) > 1:
                lo, hi = np.searchsorted(positions, (segment.start, segment.stop))
                if lo == hi:
                    continue
                part = positions[lo:hi]
            else:
                lo, part = 0, positions
            row = segment.row_of.get(term_id)
            if row is not None:
                out[lo : lo + part.size] = np.take(segment.rows[row], part - segment.start)
            elif docs.size < part.size:  # look the few postings up among the positions
                idx = np.searchsorted(part, docs)
                np.minimum(idx, part.size - 1, out=idx)
                hit = part[idx] == docs
                out[lo + idx[hit]] = tfs[hit]
            else:
                idx = np.searchsorted(docs, part)
                np.minimum(idx, docs.size - 1, out=idx)
                hit = docs[idx] == part
                out[lo + np.flatnonzero(hit)] = tfs[idx[hit]]
        return out

    def _dense_tf(self, term_id: int) -> UIntArray:
        """The term's frequency at every position (0 where absent)."""
        dtype = max((s.tfs.dtype for s in self._segments), key=lambda d: d.itemsize)
        dense: UIntArray = np.zeros(self.size, dtype=dtype)
        for segment in self._segments:
            docs, tfs = segment.postings(term_id)
            dense[docs.astype(np.intp)] = tfs  # scatters with int32 indices are several times slower
        return dense

    def _dense(self, order: list[int], idf: dict[int, float]) -> FloatArray:
        """Scores of every position, exactly as rank-bm25's get_scores adds them up."""
        norm = self._norms()
        contribution: dict[int, FloatArray] = {}
        for tid, weight in idf.items():
            tf = np.zeros(self.size, dtype=np.float64)
            for segment in self._segments:
                docs, tfs = segment.postings(tid)
                tf[docs] = tfs
            contribution[tid] = weight * (tf * (K1 + 1) / (tf + norm))
        scores = np.zeros(self.size, dtype=np.float64)
        for tid in order:
            scores += contribution[tid]
        return scores

    def score(self, query: Sequence[str]) -> tuple[IntArray, FloatArray]:
        """Positions with a positive score for `query` and their scores, in position order."""
        order, idf = self._plan(query)
        if not order:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        scores = self._dense(order, idf)
        positions = np.flatnonzero((scores > 0) & self._alive)
        return positions, scores[positions]

    def dense_scores(self, query: Sequence[str]) -> FloatArray:
        """Scores of every live position (0 for no match), in position order: for comparing with rank-bm25."""
        order, idf = self._plan(query)
        if not order:
            return np.zeros(self.live_count, dtype=np.float64)
        return self._dense(order, idf)[self._alive]

    def _next_stamp(self) -> int:
        if self._mark.size != self.size:
            self._mark = np.zeros(self.size, dtype=np.int32)
            self._stamp = 0
        if self._stamp >= np.iinfo(np.int32).max - 1:
            self._mark[:] = 0
            self._stamp = 0
        self._stamp += 1
        return self._stamp

    @staticmethod
    def _deeper(lists: list[_List], drift: list[float], threshold: float | None) -> list[tuple[_List, int]] | None:
        """How much further to read down the impact lists: empty when no unread document can reach `threshold`,
        None when that needs a list read past its impact copy (then the query finishes with a MaxScore pass).

        The lists of each segment share a budget: the sum of their bounds must fall below the threshold, so they
        are cut at a common level (water filling): a list whose bound is above the level is read deeper (straight
        to the block under the level, at most _MAX_JUMP times deeper), a list below it is left alone. Without a
        threshold (fewer than k documents found) all are read further.
        """
        by_segment: dict[int, list[tuple[float, _List]]] = {}
        for walk in lists:
            if walk.depth < walk.docs.size or walk.cut:
                bound = walk.weight * float(walk.bounds[walk.depth >> _BLOCK_SHIFT]) * drift[walk.segment]
                by_segment.setdefault(walk.segment, []).append((bound * (1 + _BOUND_MARGIN), walk))
        steps: list[tuple[_List, int]] = []
        for bounds in by_segment.values():
            if threshold is not None and sum(b for b, _ in bounds) < threshold:
                continue
            level = -1.0
            if threshold is not None:
                ordered = sorted(b for b, _ in bounds)
                below = 0.0
                for i, b in enumerate(ordered):
                    rest = len(ordered) - i
                    if below + b * rest >= threshold:
                        level = (threshold - below) / rest
                        break
                    below += b
            for b, walk in bounds:
                if b <= level:
                    continue
                if walk.depth >= walk.docs.size:  # past the impact copy
                    return None
                deeper = 2 * walk.depth
                if level > 0:
                    scale = walk.weight * drift[walk.segment] * (1 + _BOUND_MARGIN)
                    block = int(np.searchsorted(-walk.bounds, -level / scale, side="left"))
                    deeper = min(max(block << _BLOCK_SHIFT, deeper), _MAX_JUMP * walk.depth)
                steps.append((walk, min(walk.docs.size, max(deeper, _FIRST_DEPTH))))
        return steps

    def _scratch(self) -> FloatArray:
        if self._acc.size != self.size:
            self._acc = np.zeros(self.size, dtype=np.float64)
        return self._acc

    def _essential_candidates(
        self,
        scorer: _Scorer,
        threshold: float,
        mark: npt.NDArray[np.int32],
        stamp: int,
        eligible: npt.NDArray[np.bool_],
    ) -> tuple[DocArray, FloatArray, frozenset[int]]:
        """MaxScore: the terms whose ceilings add up to less than the threshold cannot lift a document on their own,
        so only documents with one of the other (essential) terms can still make the top. Their postings are read
        in full and summed into a scratch array; returns the documents not scored yet whose partial score plus the
        other terms' ceilings reaches the threshold, their partial scores and the essential terms."""
        ascending = sorted((tid for tid in scorer.idf if scorer.ceiling[tid] > 0), key=lambda t: scorer.ceiling[t])
        rest = 0.0
        essential: list[int] = []
        for i, tid in enumerate(ascending):
            if (rest + scorer.ceiling[tid]) * (1 + _BOUND_MARGIN) >= threshold:
                essential = ascending[i:]
                break
            rest += scorer.ceiling[tid]
        if not essential:
            return _EMPTY_DOCS, np.empty(0, dtype=np.float64), frozenset()
        acc = self._scratch()
        norm = self._norms()
        touched: list[IntArray] = []
        for tid in essential:
            weight = scorer.weight[tid]
            for segment in self._segments:
                docs32, tfs = segment.postings(tid)
                if docs32.size:
                    # intp indices: numpy gathers and scatters with int32 ones are several times slower
                    docs = docs32.astype(np.intp)
                    tf = tfs.astype(np.float64)
                    acc[docs] += weight * (tf * (K1 + 1) / (tf + np.take(norm, docs)))  # a document once per list
                    touched.append(docs)
        # below `cut` a document cannot reach the threshold (the same test as in _Scorer.score, rearranged)
        cut = threshold / (1 + _BOUND_MARGIN) - rest
        if sum(d.size for d in touched) * _DENSE_SCAN > acc.size:  # many documents: scan the array once
            met = np.flatnonzero(acc > 0 if cut <= 0 else acc >= cut)
            partial = acc[met]
            acc.fill(0.0)
        else:
            met = np.sort(np.concatenate(touched))
            if met.size > 1:  # np.unique would hash: slower here than a sort
                met = met[np.concatenate([np.ones(1, dtype=np.bool_), met[1:] != met[:-1]])]
            partial = acc[met]
            acc[met] = 0.0
            hopeful = partial > 0 if cut <= 0 else partial >= cut
            met, partial = met[hopeful], partial[hopeful]
        keep = (mark[met] != stamp) & eligible[met]
        return met[keep].astype(np.int32), partial[keep], frozenset(essential)

    def top(self, query: Sequence[str], k: int, within: IntArray | None = None) -> list[tuple[int, float]]:
        """The `k` best positions by score, ties broken by position (as a stable sort of rank-bm25's scores).

        `within` (ascending positions) restricts the answer to those documents: the k best of them, with the
        scores they have in the whole index (idf and average length stay the whole corpus's). The restriction
        applies while candidates are gathered, never to a finished top k, so the answer is never short. A narrow
        scope (one report) is scored document by document; a wide one (a year of an archive) walks the index as
        an unrestricted question does, skipping the documents outside it."""
        order, idf = self._plan(query)
        positive = [tid for tid, weight in idf.items() if weight > 0]
        if k <= 0 or not positive:
            return []
        if within is not None:
            if within.size * len(idf) <= _WITHIN_ONE_BY_ONE:
                within = within[self._alive[within]] if within.size else within
                return self._score_within(order, idf, k, within) if within.size else []
            eligible = np.zeros(self.size, dtype=np.bool_)
            eligible[within] = True
            eligible &= self._alive
        else:
            eligible = self._alive
        counts = Counter(order)
        avgdl = self._avgdl()
        drift = [max(1.0, avgdl / s.avgdl) for s in self._segments]
        pieces: list[DocArray] = []
        lists: list[_List] = []
        ceiling = dict.fromkeys(idf, 0.0)  # the most a term can add to any score
        for number, segment in enumerate(self._segments):
            for tid in positive:
                impact_docs, bounds, cut = segment.impact(tid)
                weight = idf[tid] * counts[tid]
                if impact_docs.size:
                    walk = _List(number, impact_docs, bounds, weight, min(impact_docs.size, _FIRST_DEPTH), cut)
                    lists.append(walk)
                    pieces.append(impact_docs[: walk.depth])
                    ceiling[tid] = max(ceiling[tid], weight * float(bounds[0]) * drift[number])
                else:
                    docs, _ = segment.postings(tid)
                    if docs.size:
                        pieces.append(docs)
                        ceiling[tid] = max(ceiling[tid], weight * (K1 + 1))
        scorer = _Scorer(self, order, idf, ceiling)
        # a large index finishes a question that needs many documents scored term at a time, compiled
        compiled = self.size >= _COMPILED_MIN
        whole = sum(scorer.postings[tid] for tid in order) + self.size // 4 if compiled else 0
        stamp = self._next_stamp()
        mark = self._mark
        best = _Best(k)
        share = 1.0 if within is None else min(1.0, within.size / max(1, self._live))  # of documents met, in scope
        outside = min(1.0, _OUTSIDE_COST / len(idf))  # see `read`
        cost_of_met = share + (1 - share) * outside
        read = 0.0
        while pieces:
            met = pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
            met_all = met.size
            if within is not None:  # documents outside the scope are dropped before anything else is done
                met = met[eligible[met]]
            met = met[mark[met] != stamp]
            mark[met] = stamp
            met = np.sort(met, kind="stable")
            if met.size > 1:
                met = met[np.concatenate([np.ones(1, dtype=np.bool_), met[1:] != met[:-1]])]
            if within is None:
                met = met[eligible[met]]
                met_all = met.size
            # a document met outside the scope costs one lookup, not a score (`_OUTSIDE_COST`)
            read += met.size + (met_all - met.size) * outside
            best.take(*scorer.score(met, best.threshold))
            steps = self._deeper(lists, drift, best.threshold)
            pieces = []
            more = 0 if steps is None else sum(depth - walk.depth for walk, depth in steps) * cost_of_met
            if compiled and (steps is None or (steps and (read + more) * len(idf) * _TERM_AT_A_TIME > whole)):
                return self._term_at_a_time(order, idf, k, eligible, within)
            if steps is None:
                self._maxscore(scorer, best, mark, stamp, eligible)
                break
            if (
                steps
                and best.threshold is not None
                and (read + more) * len(idf) > _SWITCH * self._essential_cost(scorer, best.threshold)
            ):
                if compiled:
                    return self._term_at_a_time(order, idf, k, eligible, within)
                self._maxscore(scorer, best, mark, stamp, eligible)
                break
            for walk, depth in steps:
                pieces.append(walk.docs[walk.depth : depth])
                walk.depth = depth
        return best.ranked()

    def warm(self) -> None:
        """For a large index, load the compiled loops and write the scratch array once (a fresh 8 MB array costs
        thousands of page faults), so that the first question scored term at a time does not wait for them."""
        if self.size < _COMPILED_MIN:
            return
        from . import kernels

        scores, norm = self._scratch(), self._norms()
        scores.fill(0.0)
        for segment in self._segments:  # the loops as questions call them: each segment's dtypes
            kernels.accumulate(scores, segment.docs[:0], segment.tfs[:0], norm, 0.0, K1)
            kernels.accumulate_within(scores, segment.docs[:0], segment.tfs[:0], norm, 0.0, K1, self._alive)
        kernels.best(scores, self._alive, 1, np.empty(1, dtype=np.int64), np.empty(1, dtype=np.float64))
        none = np.empty(0, dtype=np.int64)
        kernels.best_within(scores, none, 1, np.empty(1, dtype=np.int64), np.empty(1, dtype=np.float64))

    def _score_within(
        self, order: list[int], idf: dict[int, float], k: int, within: IntArray
    ) -> list[tuple[int, float]]:
        """The `k` best of the live positions `within`, each scored exactly (rank-bm25's sums): cheaper than any
        walk of the index when they are few."""
        positions = within.astype(np.int32)
        norm = self._norms().take(positions)
        contribution = {}
        for tid, weight in idf.items():
            tf = self._tf(tid, positions)
            contribution[tid] = weight * (tf * (K1 + 1) / (tf + norm))  # rank-bm25's expression, then its sum
        scores = contribution[order[0]].copy()
        for tid in order[1:]:
            scores += contribution[tid]
        best = _Best(k)
        best.take(positions, scores)
        return best.ranked()

    def _term_at_a_time(
        self,
        order: list[int],
        idf: dict[int, float],
        k: int,
        eligible: npt.NDArray[np.bool_] | None = None,
        within: IntArray | None = None,
    ) -> list[tuple[int, float]]:
        """The `k` best positions (of those `eligible`: live and in scope), every document scored: each term's
        postings added in query order into the scratch array by a compiled loop (rank-bm25's sums exactly), then
        one pass keeps the best and clears it. With a scope (`within`, ascending, and `eligible` its live
        positions), only its documents are added up and only its positions passed over."""
        from . import kernels  # numba loads with the first such question (never for a small index)

        scores, norm = self._scratch(), self._norms()
        for tid in order:
            for segment in self._segments:
                docs, tfs = segment.postings(tid)
                if not docs.size:
                    continue
                if within is None or eligible is None:
                    kernels.accumulate(scores, docs, tfs, norm, idf[tid], K1)
                else:
                    kernels.accumulate_within(scores, docs, tfs, norm, idf[tid], K1, eligible)
        positions = np.empty(k, dtype=np.int64)
        values = np.empty(k, dtype=np.float64)
        if within is not None and eligible is not None:
            n = kernels.best_within(scores, within, k, positions, values)
        else:
            n = kernels.best(scores, self._alive if eligible is None else eligible, k, positions, values)
        ranked = np.lexsort((positions[:n], -values[:n]))
        return [(int(positions[i]), float(values[i])) for i in ranked]

    def _maxscore(
        self,
        scorer: _Scorer,
        best: _Best,
        mark: npt.NDArray[np.int32],
        stamp: int,
        eligible: npt.NDArray[np.bool_],
    ) -> None:
        """Finish a query by reading the essential terms' postings in full (see `_essential_candidates`)."""
        threshold = 0.0 if best.threshold is None else best.threshold
        met, partial, essential = self._essential_candidates(scorer, threshold, mark, stamp, eligible)
        if met.size > _PROBE:
            # score the most promising first: the threshold they set prunes the rest much harder
            probe = np.zeros(met.size, dtype=np.bool_)
            probe[np.argpartition(-partial, _PROBE)[:_PROBE]] = True
            best.take(*scorer.score(met[probe], best.threshold))
            met, partial = met[~probe], partial[~probe]
        best.take(*scorer.score(met, best.threshold, partial if best.threshold is not None else None, essential))

    @staticmethod
    def _essential_cost(scorer: _Scorer, threshold: float) -> int:
        """Postings the MaxScore pass would read at this threshold."""
        total = 0.0
        cost = 0
        for tid in sorted(scorer.idf, key=lambda t: scorer.ceiling[t]):
            total += scorer.ceiling[tid]
            if total * (1 + _BOUND_MARGIN) >= threshold:
                cost += scorer.postings[tid]
        return cost

    # --- persistence --------------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the index to one .npz file (uncompressed, loads with a few large reads)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        terms = list(self.vocabulary)
        arrays: dict[str, npt.NDArray[Any]] = {
            "doc_len": self._doc_len,
            "alive": self._alive,
            "df": self._df,
            "meta": np.array(
                [json.dumps({"segments": len(self._segments), "live": self._live, "live_length": self._live_length})]
            ),
        }
        for key, value in encode_strings(terms).items():
            arrays[f"vocab_{key}"] = value
        for i, segment in enumerate(self._segments):
            for key, value in segment.arrays().items():
                arrays[f"seg{i}_{key}"] = value
        replace(path, arrays)

    @classmethod
    def load(cls, path: Path) -> Bm25Index:
        """An index written by `save`."""
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        meta = json.loads(str(arrays["meta"][0]))
        terms = decode_strings(arrays["vocab_blob"], arrays["vocab_lengths"])
        segments = [
            _Segment.from_arrays({k.split("_", 1)[1]: v for k, v in arrays.items() if k.startswith(f"seg{i}_")})
            for i in range(meta["segments"])
        ]
        return cls(
            vocabulary={term: i for i, term in enumerate(terms)},
            _segments=segments,
            _doc_len=arrays["doc_len"],
            _alive=arrays["alive"],
            _df=arrays["df"],
            _live=int(meta["live"]),
            _live_length=int(meta["live_length"]),
        )
