"""The postings of a BM25 index: CSR segments with impact-ordered copies of their long lists, and the snapshot of
them that the top-k strategies read (`Postings`: plain data, no reference back to the index)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ..arrays import DocArray, FloatArray, IntArray, UIntArray, ptr
from .params import Bm25Params, Tuning
from .scoring import norms, tf_part

BLOCK_SHIFT = 6  # one upper bound per 64 impact entries
_DENSE_RANK_LIMIT = 1 << 24  # (tf, length) grid size up to which impact ranks come from a dense table

EMPTY_DOCS: DocArray = np.empty(0, dtype=np.int32)
_EMPTY_PTR: IntArray = np.zeros(1, dtype=np.int64)
EMPTY_BOUNDS: npt.NDArray[np.float32] = np.empty(0, dtype=np.float32)


def _tf_dtype(max_tf: int) -> type[np.unsignedinteger[Any]]:
    if max_tf <= 0xFF:
        return np.uint8
    if max_tf <= 0xFFFF:
        return np.uint16
    return np.uint32


@dataclass
class Segment:
    """Postings of the documents `start`..`stop`-1, grouped by term id (CSR), with impact copies of long lists."""

    start: int
    stop: int
    indptr: IntArray  # term id -> range in docs/tfs; covers the term ids known when the segment was built
    docs: DocArray  # positions, ascending within each term
    tfs: UIntArray
    impact_ptr: IntArray = field(default_factory=lambda: _EMPTY_PTR)  # term id -> range in impact_docs
    impact_docs: DocArray = field(default_factory=lambda: EMPTY_DOCS)  # by decreasing weight at `avgdl`
    bound_ptr: IntArray = field(default_factory=lambda: _EMPTY_PTR)  # term id -> range in bounds
    bounds: npt.NDArray[np.float32] = field(default_factory=lambda: EMPTY_BOUNDS)  # per 64 impact entries
    avgdl: float = 1.0  # the average document length the impact order and bounds were computed with
    # the tf at every document (position - start) of the common terms: one gather instead of a binary search each;
    # derived from the postings when the segment is built or loaded (`add_rows`), not saved
    rows: npt.NDArray[np.uint8] = field(default_factory=lambda: np.zeros((0, 0), dtype=np.uint8), repr=False)
    row_of: dict[int, int] = field(default_factory=dict, repr=False)  # term id -> row

    def add_rows(self, row_share: int) -> Segment:
        """The tf rows of the terms in at least 1/`row_share` of the segment's documents."""
        n = self.stop - self.start
        counts = np.diff(self.indptr)
        common = [
            tid
            for tid in np.flatnonzero((counts > 0) & (counts * row_share >= n)).tolist()
            if self.tfs.dtype == np.uint8 or int(self.postings(tid)[1].max()) <= 0xFF
        ]
        self.rows = np.zeros((len(common), n), dtype=np.uint8)
        self.row_of = {tid: row for row, tid in enumerate(common)}
        for row, tid in enumerate(common):
            docs, tfs = self.postings(tid)
            self.rows[row, docs.astype(np.intp) - self.start] = tfs
        return self

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
            return EMPTY_DOCS, EMPTY_BOUNDS, False
        lo, hi = int(self.impact_ptr[term_id]), int(self.impact_ptr[term_id + 1])
        if lo == hi:
            return EMPTY_DOCS, EMPTY_BOUNDS, False
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
    def from_arrays(cls, a: dict[str, npt.NDArray[Any]]) -> Segment:
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


def segment_from_triples(
    start: int,
    stop: int,
    terms: IntArray,
    docs: DocArray,
    tfs: IntArray,
    vocab_size: int,
    doc_len: FloatArray,
    avgdl: float,
    params: Bm25Params,
    tuning: Tuning,
) -> Segment:
    """A segment from (term, position, tf) triples sorted by term, then position."""
    per_term = np.bincount(terms, minlength=vocab_size).astype(np.int64)
    tf_type = _tf_dtype(int(tfs.max()) if tfs.size else 0)
    segment = Segment(start, stop, ptr(per_term), docs, tfs.astype(tf_type))
    long_terms = per_term >= tuning.impact_min_postings
    if long_terms.any():
        _add_impacts(segment, per_term, long_terms, terms, tfs, doc_len, avgdl, params, tuning)
    return segment.add_rows(tuning.row_share)


def _pair_weights(pairs: IntArray, max_len: int, avgdl: float, params: Bm25Params) -> FloatArray:
    """rank-bm25's tf part of the weight for (tf, length) pairs coded as tf * (max_len + 1) + length."""
    return tf_part(pairs // (max_len + 1), norms(pairs % (max_len + 1), avgdl, params), params.k1).astype(np.float64)


def _add_impacts(
    segment: Segment,
    per_term: IntArray,
    long_terms: npt.NDArray[np.bool_],
    terms: IntArray,
    tfs: IntArray,
    doc_len: FloatArray,
    avgdl: float,
    params: Bm25Params,
    tuning: Tuning,
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
        weights = _pair_weights(present, max_len, avgdl, params)
        order = np.argsort(-weights, kind="stable")
        rank_of[present[order]] = np.arange(present.size)
        rank = rank_of[pair]
        weight_of_rank = weights[order]
    else:  # pathological lengths: rank the pairs that occur
        present, inverse = np.unique(pair, return_inverse=True)
        weights = _pair_weights(present, max_len, avgdl, params)
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
    kept = np.minimum(counts, np.maximum(tuning.impact_keep_min, (counts >> tuning.impact_keep_shift) + 1))
    kept = np.where(kept < counts, (kept + (1 << BLOCK_SHIFT) - 1) >> BLOCK_SHIFT << BLOCK_SHIFT, counts)
    kept = np.minimum(kept, counts)
    impact_ptr = ptr(kept)
    keep_entry = np.zeros(int(full_ptr[-1]), dtype=np.bool_)
    starts = np.repeat(full_ptr[:-1], kept)
    keep_entry[starts + np.arange(int(impact_ptr[-1]), dtype=np.int64) - np.repeat(impact_ptr[:-1], kept)] = True
    impact_docs = impact_docs[keep_entry]
    del keep_entry, starts
    # one bound per block of kept entries, and for a cut list one more: the weight where the cut is
    blocks = ((kept + (1 << BLOCK_SHIFT) - 1) >> BLOCK_SHIFT) + (kept < counts)
    bound_ptr = ptr(blocks)
    total_blocks = int(bound_ptr[-1])
    list_start = np.repeat(full_ptr[:-1], blocks)
    within = np.arange(total_blocks, dtype=np.int64) - np.repeat(bound_ptr[:-1], blocks)
    block_weight = entry_weight[list_start + (within << BLOCK_SHIFT)]
    bounds = block_weight.astype(np.float32)
    low = bounds.astype(np.float64) < block_weight
    bounds[low] = np.nextafter(bounds[low], np.float32(np.inf))
    segment.impact_ptr = impact_ptr
    segment.impact_docs = impact_docs
    segment.bound_ptr = bound_ptr
    segment.bounds = bounds
    segment.avgdl = avgdl


@dataclass(frozen=True)
class Postings:
    """What a question reads: the segments and the corpus statistics of one moment of the index, with the
    parameters and tuning it was built with. The top-k strategies (`topk`) take this, not the index."""

    segments: list[Segment]
    size: int  # positions allocated, deleted ones included
    live: int  # documents not deleted
    avgdl: float
    norm: FloatArray  # k1 * (1 - b + b * dl / avgdl) per position
    alive: npt.NDArray[np.bool_]
    params: Bm25Params
    tuning: Tuning

    def tf(self, term_id: int, positions: DocArray) -> FloatArray:
        """The term's frequency in each of `positions` (sorted), 0 where absent."""
        if len(self.segments) == 1:
            docs, tfs = self.segments[0].postings(term_id)
            if docs.size >= positions.size > 0:  # the usual case, in as few numpy calls as possible
                idx = np.searchsorted(docs, positions)
                hit = np.take(docs, idx, mode="clip") == positions
                found: FloatArray = np.multiply(np.take(tfs, idx, mode="clip"), hit, dtype=np.float64)
                return found
        out = np.zeros(positions.size, dtype=np.float64)
        for segment in self.segments:
            docs, tfs = segment.postings(term_id)
            if docs.size == 0:
                continue
            if len(self.segments) > 1:
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

    def dense_tf(self, term_id: int) -> UIntArray:
        """The term's frequency at every position (0 where absent)."""
        dtype = max((s.tfs.dtype for s in self.segments), key=lambda d: d.itemsize)
        dense: UIntArray = np.zeros(self.size, dtype=dtype)
        for segment in self.segments:
            docs, tfs = segment.postings(term_id)
            dense[docs.astype(np.intp)] = tfs  # scatters with int32 indices are several times slower
        return dense
