"""Compiled loops of the mention finder and of ranked questions over large indexes (numba, cached on disk after
the first compilation).

A mention question over a large indexed chunk touches every occurrence of a bigram of its needle: decoding the
delta-coded positions, matching them against the positions of the needle's other bigrams, and mapping what is left
to passages. As numpy passes, each step was a sweep over arrays of up to a million entries, and checking candidates
against the text meant a cache miss each; here each step is one loop, position lists are merged front to back instead
of reading the text, a position becomes a passage without a branch (the passage table plus a popcount of the NUL
bitmap), and a single character's lists are counted one cache-sized stretch of the text at a time. The loops release
the GIL. Buffers are passed in from numpy, which asks for huge pages for large arrays (a fresh 8 MB array otherwise
costs 2,000 page faults).

A ranked question whose terms are common everywhere (a long question about 主题教育 in an archive of such reports)
gains little from pruning: most documents stay candidates. Scoring it term at a time is then cheapest: each term's
postings are added into a dense score array in query order, with rank-bm25's expression, so the sums are its scores
bit for bit; one pass over the array then keeps the k best and clears it.

`retrieval.mentions` and `retrieval.bm25` load this module (through `retrieval.loops`) when an indexed chunk is first
asked something or a large index scores term at a time, so small libraries (the cold start on the bundled reports)
and ingesting never load numba. numba is the `fast` extra: without it retrieval/kernels_numpy.py runs the same loops
as numpy passes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt

COMPILED = True  # retrieval.loops: these are numba's
_F = TypeVar("_F", bound=Callable[..., Any])
_STRETCH = 1 << 20  # code units whose passage table, NUL bitmap and counts fit a core's cache together

Array = npt.NDArray[Any]


def _compiled(fn: _F) -> _F:
    return cast(_F, numba.njit(cache=True, nogil=True)(fn))


@_compiled
def _popcount(x: Any) -> Any:
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return (x * np.uint64(0x0101010101010101)) >> np.uint64(56)


@_compiled
def _passage(table: Array, nul_bits: Array, at: int) -> int:
    """The passage holding code unit `at`: the passage at its 64-unit block (`_PASSAGE_SHIFT` of the index) plus the
    NULs before it in the block."""
    block = at >> 6
    below = (nul_bits[block] << np.uint64(63 - (at & 63))) << np.uint64(1)  # a shift by 64 would be undefined
    return int(table[block] + np.int64(_popcount(below)))


@_compiled
def _decode(deltas: Array, big_at: Array, big: Array, a: int, b: int, head: int, out: Array, o: int) -> int:
    """Positions of entries a..b-1 (one bigram) into out[o:]; returns the next free slot."""
    e = np.searchsorted(big_at, a + 1)
    p = np.int64(head)
    out[o] = p
    for i in range(a + 1, b):
        d = np.int64(deltas[i])
        if d == 0:  # a gap of 65536 or more, kept aside
            d = np.int64(big[e])
            e += 1
        p += d
        out[o + i - a] = p
    return o + b - a


@_compiled
def run_lengths(ids: Array, n: int, counts: Array) -> int:
    """Fold ids[:n] (ascending) into distinct ids (ids[:r]) and their numbers (counts[:r]); returns r."""
    r = 0
    for i in range(n):
        q = ids[i]
        if r > 0 and ids[r - 1] == q:
            counts[r - 1] += 1
        else:
            ids[r] = q
            counts[r] = 1
            r += 1
    return r


@_compiled
def to_passages(table: Array, nul_bits: Array, at: Array, n: int) -> None:
    """Replace positions at[:n] by the passages holding them."""
    for i in range(n):
        at[i] = _passage(table, nul_bits, at[i])


@_compiled
def _intersect(at: Array, n: int, other: Array, nb: int, shift: int) -> int:
    """Keep the entries of at[:n] found in other[:nb] - shift (both ascending); returns how many are kept. One
    branch-free merge step per entry of either list, reading both lists front to back."""
    i = 0
    k = 0
    r = 0
    while i < n and k < nb:
        x = at[i]
        y = other[k] - shift
        at[r] = x
        r += x == y
        i += x <= y
        k += y <= x
    return r


@_compiled
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
    """Passages holding a needle of m code units into at[:r] (ascending) and its occurrences in each into
    counts[:r]; returns r.

    `cover` lists (bigram, offset in the needle) pairs whose bigrams together cover every unit of the needle, rarest
    first: the rarest one's positions are the candidates, and each next one's positions are merged in, so the needle
    is matched without reading the text (whose pages then need not be in memory at all). `at` and `counts` hold as
    many entries as the first bigram has positions, `scratch` as many as the largest other one. With `border` (the
    needle can overlap itself) occurrences are counted left to right without overlaps, like str.count."""
    t = cover[0, 0]
    n = _decode(deltas, big_at, big, ptr[t], ptr[t + 1], heads[t], at, 0)
    shift = cover[0, 1]
    first = 0
    while first < n and at[first] < shift:  # the needle would start before the text
        first += 1
    for i in range(first, n):
        at[i - first] = at[i] - shift
    n -= first
    for c in range(1, cover.shape[0]):
        t = cover[c, 0]
        size = _decode(deltas, big_at, big, ptr[t], ptr[t + 1], heads[t], scratch, 0)
        n = _intersect(at, n, scratch, size, cover[c, 1])
    if border:
        kept = 0
        end = -1
        for i in range(n):
            if at[i] >= end:
                end = at[i] + m
                at[kept] = at[i]
                kept += 1
        n = kept
    to_passages(table, nul_bits, at, n)  # ascending positions, ascending passages
    return run_lengths(at, n, counts)


@_compiled
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
    """`occurrences` read from the text instead of merged with the other bigrams' lists: the positions of bigram t
    (at offset `shift` in the needle) are the candidates, each compared with the needle where it would start.
    Cheaper when the candidates are few beside the other lists (a common phrase: ten characters of common words
    whose rarest bigram still stands thousands of times), at the cost of reading the text's pages around them."""
    n = _decode(deltas, big_at, big, ptr[t], ptr[t + 1], heads[t], at, 0)
    m = needle.size
    last = units.size - m
    kept = 0
    for i in range(n):  # without branches, so the reads of many candidates are under way at once
        p = at[i] - shift
        q = min(max(p, 0), last)
        same = p == q
        for j in range(m):
            same &= units[q + j] == needle[j]
        at[kept] = p
        kept += same
    if border:  # a needle that overlaps itself: occurrences counted left to right without overlaps
        n = kept
        kept = 0
        end = -1
        for i in range(n):
            if at[i] >= end:
                end = at[i] + m
                at[kept] = at[i]
                kept += 1
    to_passages(table, nul_bits, at, kept)
    return run_lengths(at, kept, counts)


@_compiled
def unit_positions(
    deltas: Array, big_at: Array, big: Array, ptr: Array, heads: Array, lo: int, hi: int, at: Array
) -> None:
    """The positions of one code unit, whose bigrams are lo..hi-1, into `at`: each bigram's ascending in turn."""
    o = 0
    for t in range(lo, hi):
        o = _decode(deltas, big_at, big, ptr[t], ptr[t + 1], heads[t], at, o)


@_compiled
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
    their numbers into counts[:r]; returns r.

    The bigrams' position lists are walked together, one stretch of `_STRETCH` code units at a time, so the passage
    table, the NUL bitmap and the counts being touched stay in the core's cache."""
    lists = hi - lo
    cursor = np.empty(lists + 1, np.int64)
    for t in range(lists + 1):
        cursor[t] = ptr[lo + t] - ptr[lo]
    limit = 0
    for t in range(lists):
        if cursor[t + 1] > cursor[t]:
            limit = max(limit, at[cursor[t + 1] - 1] + 1)
    for stop in range(_STRETCH, limit + _STRETCH, _STRETCH):
        for t in range(lists):
            i = cursor[t]
            end = ptr[lo + t + 1] - ptr[lo]
            while i < end and at[i] < stop:
                per_passage[_passage(table, nul_bits, at[i])] += 1
                i += 1
            cursor[t] = i
    r = 0
    for q in range(per_passage.size):
        c = per_passage[q]
        found[r] = q
        counts[r] = c
        r += c != 0
    return r


@_compiled
def accumulate(scores: Array, docs: Array, tfs: Array, norm: Array, idf: float, k1: float) -> None:
    """Add one query term's contribution to the score of each document in its postings (`docs`, with `tfs`):
    idf * (tf * (k1 + 1) / (tf + norm)), the expression rank-bm25 evaluates."""
    for i in range(docs.size):
        d = docs[i]
        tf = np.float64(tfs[i])
        scores[d] += idf * (tf * (k1 + 1.0) / (tf + norm[d]))


@_compiled
def accumulate_within(
    scores: Array, docs: Array, tfs: Array, norm: Array, idf: float, k1: float, eligible: Array
) -> None:
    """`accumulate` for the documents `eligible` only (a question's scope): the others' scores are never written,
    so a scope of a tenth of the documents costs a tenth of the scattered writes."""
    for i in range(docs.size):
        d = docs[i]
        if eligible[d]:
            tf = np.float64(tfs[i])
            scores[d] += idf * (tf * (k1 + 1.0) / (tf + norm[d]))


@_compiled
def _below(value: float, position: int, other_value: float, other_position: int) -> bool:
    """Whether a document ranks below another: a lower score, or the same score at a higher position."""
    return value < other_value or (value == other_value and position > other_position)


@_compiled
def _offer(s: float, i: int, k: int, n: int, positions: Array, values: Array) -> int:
    """Offer document i with score s to the heap of the k best so far (positions[:n], values[:n], the root the
    lowest ranked); returns the heap's new size. Documents are offered in ascending positions."""
    if n < k:
        j = n  # sift up
        n += 1
        while j > 0 and _below(s, i, values[(j - 1) >> 1], positions[(j - 1) >> 1]):
            values[j] = values[(j - 1) >> 1]
            positions[j] = positions[(j - 1) >> 1]
            j = (j - 1) >> 1
    elif s > values[0]:  # positions ascend: an equal score never displaces an earlier document
        j = 0  # sift down from the root
        while 2 * j + 1 < n:
            c = 2 * j + 1
            if c + 1 < n and _below(values[c + 1], positions[c + 1], values[c], positions[c]):
                c += 1
            if not _below(values[c], positions[c], s, i):
                break
            values[j] = values[c]
            positions[j] = positions[c]
            j = c
    else:
        return n
    values[j] = s
    positions[j] = i
    return n


@_compiled
def best(scores: Array, alive: Array, k: int, positions: Array, values: Array) -> int:
    """The k best live documents with a positive score into positions[:n], values[:n] (a heap whose root is the
    lowest ranked, not in rank order), clearing `scores` to zeros on the way; returns n."""
    n = 0
    for i in range(scores.size):
        s = scores[i]
        if s == 0.0:
            continue
        scores[i] = 0.0
        if s < 0.0 or not alive[i]:
            continue
        if n >= k and not s > values[0]:  # what _offer would refuse, decided here: the call is not inlined and
            continue  # most documents are refused (the call on every one cost 2-3.5x this loop at 1M)
        n = _offer(s, i, k, n, positions, values)
    return n


@_compiled
def best_within(scores: Array, within: Array, k: int, positions: Array, values: Array) -> int:
    """`best` over the positions `within` (ascending) only, clearing their scores: with `accumulate_within`, the
    only ones written."""
    n = 0
    for w in range(within.size):
        i = within[w]
        s = scores[i]
        if s == 0.0:
            continue
        scores[i] = 0.0
        if s < 0.0:
            continue
        if n >= k and not s > values[0]:  # as in best
            continue
        n = _offer(s, i, k, n, positions, values)
    return n
