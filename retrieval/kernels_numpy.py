"""The loops of retrieval/kernels.py written as numpy passes: the same functions, the same arguments, the same
results (bit for bit: scores are summed term by term in the same order with the same expression), for an install
without numba. Each compiled loop becomes a few sweeps over arrays: a position list is decoded with a cumulative
sum, lists are matched with binary searches instead of a merge, passages are counted with bincount.

Chosen by `retrieval.kernels.loops()`; docs/benchmarks/numba.md measures both.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

COMPILED = False  # retrieval.loops: these are numpy passes
Array = npt.NDArray[Any]

_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)


def _popcount(x: Array) -> Array:
    x = x - ((x >> np.uint64(1)) & _M1)
    x = (x & _M2) + ((x >> np.uint64(2)) & _M2)
    x = (x + (x >> np.uint64(4))) & _M4
    counts: Array = (x * _H01) >> np.uint64(56)
    return counts


def _passages(table: Array, nul_bits: Array, at: Array) -> Array:
    """The passages holding code units `at` (see kernels._passage)."""
    at = at.astype(np.int64, copy=False)
    block = at >> 6
    below = (nul_bits[block] << (63 - (at & 63)).astype(np.uint64)) << np.uint64(1)
    passages: Array = table[block].astype(np.int64) + _popcount(below).astype(np.int64)
    return passages


def _decode(deltas: Array, big_at: Array, big: Array, a: int, b: int, head: int) -> Array:
    """Positions of entries a..b-1 (one bigram), ascending."""
    out = np.empty(b - a, dtype=np.int64)
    if b <= a:
        return out
    out[0] = head
    gaps = deltas[a + 1 : b].astype(np.int64)
    lo, hi = np.searchsorted(big_at, (a + 1, b))
    if hi > lo:  # gaps of 65536 or more, kept aside
        gaps[big_at[lo:hi].astype(np.int64) - (a + 1)] = big[lo:hi]
    np.cumsum(gaps, out=out[1:])
    out[1:] += head
    return out


def run_lengths(ids: Array, n: int, counts: Array) -> int:
    """Fold ids[:n] (ascending) into distinct ids (ids[:r]) and their numbers (counts[:r]); returns r."""
    if n == 0:
        return 0
    values = ids[:n]
    heads = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
    r = int(heads.size)
    counts[:r] = np.diff(heads, append=n)
    ids[:r] = values[heads]
    return r


def to_passages(table: Array, nul_bits: Array, at: Array, n: int) -> None:
    """Replace positions at[:n] by the passages holding them."""
    if n:
        at[:n] = _passages(table, nul_bits, at[:n])


def occurrences(
    table: Array,
    nul_bits: Array,
    deltas: Array,
    big_at: Array,
    big: Array,
    ptr: Array,
    heads: Array,
    cover: Array,
    m: int,
    border: bool,
    at: Array,
    scratch: Array,
    counts: Array,
) -> int:
    """See kernels.occurrences (`scratch` is not needed here)."""
    t = int(cover[0, 0])
    found = _decode(deltas, big_at, big, int(ptr[t]), int(ptr[t + 1]), int(heads[t]))
    found = found[found >= cover[0, 1]] - cover[0, 1]  # the needle would start before the text
    for c in range(1, cover.shape[0]):
        if not found.size:
            break
        t = int(cover[c, 0])
        other = _decode(deltas, big_at, big, int(ptr[t]), int(ptr[t + 1]), int(heads[t]))
        other -= cover[c, 1]
        where = np.searchsorted(other, found)
        where[where == other.size] = 0
        found = found[other[where] == found] if other.size else found[:0]
    return _counted(table, nul_bits, found, m, border, at, counts)


def verified(
    table: Array,
    nul_bits: Array,
    deltas: Array,
    big_at: Array,
    big: Array,
    ptr: Array,
    heads: Array,
    t: int,
    shift: int,
    units: Array,
    needle: Array,
    border: bool,
    at: Array,
    counts: Array,
) -> int:
    """See kernels.verified."""
    m = int(needle.size)
    found = _decode(deltas, big_at, big, int(ptr[t]), int(ptr[t + 1]), int(heads[t])) - shift
    found = found[(found >= 0) & (found + m <= units.size)]
    for j in range(m):  # one column of the needle at a time: the candidates left shrink as they fail
        if not found.size:
            break
        found = found[units[found + j] == needle[j]]
    return _counted(table, nul_bits, found, m, border, at, counts)


def _counted(table: Array, nul_bits: Array, found: Array, m: int, border: bool, at: Array, counts: Array) -> int:
    """Occurrences at `found` (ascending) as passages and their counts into at[:r], counts[:r]; returns r. With
    `border` (the needle can overlap itself) they are counted left to right without overlaps, like str.count."""
    if border and found.size > 1 and bool((np.diff(found) < m).any()):
        kept = []
        end = -1
        for p in found.tolist():
            if p >= end:
                kept.append(p)
                end = p + m
        found = np.asarray(kept, dtype=np.int64)
    n = int(found.size)
    at[:n] = _passages(table, nul_bits, found)
    return run_lengths(at, n, counts)


def unit_positions(
    deltas: Array, big_at: Array, big: Array, ptr: Array, heads: Array, lo: int, hi: int, at: Array
) -> None:
    """The positions of one code unit, whose bigrams are lo..hi-1, into `at`: each bigram's ascending in turn."""
    o = 0
    for t in range(lo, hi):
        a, b = int(ptr[t]), int(ptr[t + 1])
        at[o : o + b - a] = _decode(deltas, big_at, big, a, b, int(heads[t]))
        o += b - a


def tally(
    table: Array,
    nul_bits: Array,
    ptr: Array,
    lo: int,
    hi: int,
    at: Array,
    per_passage: Array,
    found: Array,
    counts: Array,
) -> int:
    """Count the positions `unit_positions` wrote per passage; the passages with any into found[:r] (ascending),
    their numbers into counts[:r]; returns r."""
    n = int(ptr[hi] - ptr[lo])
    per_passage += np.bincount(_passages(table, nul_bits, at[:n]), minlength=per_passage.size).astype(per_passage.dtype)
    nonzero = np.flatnonzero(per_passage)
    r = int(nonzero.size)
    found[:r] = nonzero
    counts[:r] = per_passage[nonzero]
    return r


def accumulate(scores: Array, docs: Array, tfs: Array, norm: Array, idf: float, k1: float) -> None:
    """kernels.accumulate: a term's postings hold each document once, so one indexed add is exact."""
    if docs.size:
        tf = tfs.astype(np.float64)
        scores[docs] += idf * (tf * (k1 + 1.0) / (tf + norm[docs]))


def accumulate_within(
    scores: Array, docs: Array, tfs: Array, norm: Array, idf: float, k1: float, eligible: Array
) -> None:
    """kernels.accumulate for the documents `eligible` only."""
    keep = eligible[docs]
    accumulate(scores, docs[keep], tfs[keep], norm, idf, k1)


def _keep_best(candidates: Array, values: Array, k: int, positions: Array, out_values: Array) -> int:
    """The k best of `candidates` (ascending) by value, an equal value ranked by position, into positions[:n] and
    out_values[:n] (in no particular order, like the compiled heap); returns n."""
    if candidates.size > k:
        # everything above the k-th best value, then the earliest of those equal to it
        kth = -np.partition(-values, k - 1)[k - 1]
        above = values > kth
        ties = np.flatnonzero(values == kth)[: k - int(np.count_nonzero(above))]
        above[ties] = True
        candidates, values = candidates[above], values[above]
    n = int(candidates.size)
    positions[:n] = candidates
    out_values[:n] = values
    return n


def best(scores: Array, alive: Array, k: int, positions: Array, values: Array) -> int:
    """The k best live documents with a positive score (see kernels.best), clearing `scores` to zeros."""
    touched = np.flatnonzero(scores)
    found = scores[touched]
    scores[touched] = 0.0
    keep = (found > 0.0) & alive[touched]
    return _keep_best(touched[keep], found[keep], k, positions, values)


def best_within(scores: Array, within: Array, k: int, positions: Array, values: Array) -> int:
    """`best` over the positions `within` (ascending) only, clearing their scores."""
    found = scores[within]
    scores[within] = 0.0
    keep = found > 0.0
    return _keep_best(within[keep], found[keep], k, positions, values)
