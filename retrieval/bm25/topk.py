"""The top-k strategies of a BM25 index, over a `Postings` snapshot: the impact walk (threshold algorithm) with a
MaxScore pass to finish, term at a time in compiled loops for a large index, and one by one for a narrow scope;
`every_score` is rank-bm25's get_scores itself. Every strategy sums each document's terms in query order with
rank-bm25's expression (`scoring`), so whichever answers, the top k and its scores are the same.

The strategies use a `Scratch` the index keeps between questions: calls must not run concurrently (the library
holds its lock around them)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..arrays import DocArray, FloatArray, IntArray, UIntArray
from ..loops import compiled, loops
from .params import Tuning
from .scoring import accumulate, term_scores
from .segments import BLOCK_SHIFT, EMPTY_DOCS, Postings

_BOUND_MARGIN = 1e-9  # relative slack on bounds and pruning: they are computed in floating point too
_EMPTY_ROWS: npt.NDArray[np.uint8] = np.empty(0, dtype=np.uint8)


class Scratch:
    """Arrays a question writes and leaves clean for the next (a fresh 8 MB array costs thousands of page faults):
    a mark per position (a question's stamp: met already) and a score per position (left zero)."""

    def __init__(self) -> None:
        self.mark: npt.NDArray[np.int32] = np.empty(0, dtype=np.int32)
        self.stamp = 0
        self.acc: FloatArray = np.empty(0, dtype=np.float64)

    def next_stamp(self, size: int) -> int:
        if self.mark.size != size:
            self.mark = np.zeros(size, dtype=np.int32)
            self.stamp = 0
        if self.stamp >= np.iinfo(np.int32).max - 1:
            self.mark[:] = 0
            self.stamp = 0
        self.stamp += 1
        return self.stamp

    def scores(self, size: int) -> FloatArray:
        if self.acc.size != size:
            self.acc = np.zeros(size, dtype=np.float64)
        return self.acc


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
        self.positions: DocArray = EMPTY_DOCS
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

    def __init__(self, p: Postings, order: list[int], idf: dict[int, float], ceiling: dict[int, float]) -> None:
        self.p = p
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
        self.postings = {tid: sum(r[1] - r[0] for r in (s.range(tid) for s in p.segments)) for tid in idf}
        self.searched = dict.fromkeys(idf, 0)
        self.dense: dict[int, UIntArray] = {}
        # with one segment (positions = row offsets), the offset of each common term's row in its flattened rows
        only = p.segments[0] if len(p.segments) == 1 else None
        self.rows = _EMPTY_ROWS if only is None else only.rows.reshape(-1)
        self.row_offset = (
            {} if only is None else {t: only.row_of[t] * only.rows.shape[1] for t in idf if t in only.row_of}
        )

    def _tf(self, tid: int, positions: DocArray) -> FloatArray:
        dense = self.dense.get(tid)
        if dense is None and (self.searched[tid] + positions.size) * self.p.tuning.dense_after > self.postings[tid]:
            dense = self.dense[tid] = self.p.dense_tf(tid)
        if dense is not None:
            return np.take(dense, positions).astype(np.float64)
        self.searched[tid] += positions.size
        return self.p.tf(tid, positions)

    def _tfs(self, tids: list[int], positions: DocArray) -> FloatArray:
        """The frequencies of `tids` (one row each) in `positions`; a group of row terms in one gather."""
        if len(tids) == 1:
            at = self.row_offset.get(tids[0])
            if at is None:
                return self._tf(tids[0], positions)[None, :]
            return np.take(self.rows[at : at + self.p.size], positions).astype(np.float64)[None, :]
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
        found_norm = self.p.norm.take(found)
        tfs: dict[int, tuple[IntArray, FloatArray]] = {}
        while pending:
            if keep.size == 0:
                return EMPTY_DOCS, np.empty(0, dtype=np.float64)
            step = pending[:1]
            if step[0] in self.row_offset and (threshold is None or keep.size <= self.p.tuning.gather):
                step = [tid for tid in pending if tid in self.row_offset]  # cheap now: the rest of them at once
            pending = [tid for tid in pending if tid not in step]
            tf = self._tfs(step, found)
            for row, tid in enumerate(step):
                tfs[tid] = (keep, tf[row])
            if threshold is None:
                continue
            if len(step) == 1:
                part = part + term_scores(self.weight[step[0]], tf, found_norm, self.p.params.k1)[0]
            else:
                weights = np.array([self.weight[tid] for tid in step], dtype=np.float64)[:, None]
                part = part + term_scores(weights, tf, found_norm, self.p.params.k1).sum(axis=0)
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
            return EMPTY_DOCS, np.empty(0, dtype=np.float64)
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
        contribution = term_scores(self.idf_column, tf_rows, found_norm, self.p.params.k1, out=tf_rows)
        scores = contribution[self.order_rows[0]].copy()
        for row in self.order_rows[1:]:
            scores += contribution[row]
        return found, scores


def top(
    p: Postings, scratch: Scratch, order: list[int], idf: dict[int, float], k: int, within: IntArray | None = None
) -> list[tuple[int, float]]:
    """The `k` best positions by score, ties broken by position (as a stable sort of rank-bm25's scores).

    `within` (ascending positions) restricts the answer to those documents: the k best of them, with the
    scores they have in the whole index (idf and average length stay the whole corpus's). The restriction
    applies while candidates are gathered, never to a finished top k, so the answer is never short. A narrow
    scope (one report) is scored document by document; a wide one (a year of an archive) walks the index as
    an unrestricted question does, skipping the documents outside it."""
    tuning = p.tuning
    positive = [tid for tid, weight in idf.items() if weight > 0]
    if k <= 0 or not positive:
        return []
    if within is not None:
        if within.size * len(idf) <= tuning.within_one_by_one:
            within = within[p.alive[within]] if within.size else within
            return score_within(p, order, idf, k, within) if within.size else []
        eligible = np.zeros(p.size, dtype=np.bool_)
        eligible[within] = True
        eligible &= p.alive
    else:
        eligible = p.alive
    counts = Counter(order)
    avgdl = p.avgdl
    drift = [max(1.0, avgdl / s.avgdl) for s in p.segments]
    pieces: list[DocArray] = []
    lists: list[_List] = []
    ceiling = dict.fromkeys(idf, 0.0)  # the most a term can add to any score
    for number, segment in enumerate(p.segments):
        for tid in positive:
            impact_docs, bounds, cut = segment.impact(tid)
            weight = idf[tid] * counts[tid]
            if impact_docs.size:
                walk = _List(number, impact_docs, bounds, weight, min(impact_docs.size, tuning.first_depth), cut)
                lists.append(walk)
                pieces.append(impact_docs[: walk.depth])
                ceiling[tid] = max(ceiling[tid], weight * float(bounds[0]) * drift[number])
            else:
                docs, _ = segment.postings(tid)
                if docs.size:
                    pieces.append(docs)
                    ceiling[tid] = max(ceiling[tid], weight * (p.params.k1 + 1))
    scorer = _Scorer(p, order, idf, ceiling)
    # a large index finishes a question that needs many documents scored term at a time, compiled (as numpy passes
    # that costs more than pruning: docs/benchmarks/numba.md)
    at_a_time = p.size >= tuning.compiled_min and compiled()
    whole = sum(scorer.postings[tid] for tid in order) + p.size // 4 if at_a_time else 0
    stamp = scratch.next_stamp(p.size)
    mark = scratch.mark
    best = _Best(k)
    share = 1.0 if within is None else min(1.0, within.size / max(1, p.live))  # of documents met, in scope
    outside = min(1.0, tuning.outside_cost / len(idf))  # see `read`
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
        # a document met outside the scope costs one lookup, not a score (`Tuning.outside_cost`)
        read += met.size + (met_all - met.size) * outside
        best.take(*scorer.score(met, best.threshold))
        steps = _deeper(p.tuning, lists, drift, best.threshold)
        pieces = []
        more = 0 if steps is None else sum(depth - walk.depth for walk, depth in steps) * cost_of_met
        if at_a_time and (steps is None or (steps and (read + more) * len(idf) * tuning.term_at_a_time > whole)):
            return term_at_a_time(p, scratch, order, idf, k, eligible, within)
        if steps is None:
            _maxscore(p, scratch, scorer, best, eligible)
            break
        if (
            steps
            and best.threshold is not None
            and (read + more) * len(idf) > tuning.switch * _essential_cost(scorer, best.threshold)
        ):
            if at_a_time:
                return term_at_a_time(p, scratch, order, idf, k, eligible, within)
            _maxscore(p, scratch, scorer, best, eligible)
            break
        for walk, depth in steps:
            pieces.append(walk.docs[walk.depth : depth])
            walk.depth = depth
    return best.ranked()


def score_within(
    p: Postings, order: list[int], idf: dict[int, float], k: int, within: IntArray
) -> list[tuple[int, float]]:
    """The `k` best of the live positions `within`, each scored exactly (rank-bm25's sums): cheaper than any
    walk of the index when they are few."""
    positions = within.astype(np.int32)
    norm = p.norm.take(positions)
    contribution = {}
    for tid, weight in idf.items():
        tf = p.tf(tid, positions)
        contribution[tid] = term_scores(weight, tf, norm, p.params.k1, out=tf)  # rank-bm25's expression, then its sum
    scores = contribution[order[0]].copy()
    for tid in order[1:]:
        scores += contribution[tid]
    best = _Best(k)
    best.take(positions, scores)
    return best.ranked()


def term_at_a_time(
    p: Postings,
    scratch: Scratch,
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
    kernels = loops()  # numba loads with the first such question (never for a small index)

    scores, norm = scratch.scores(p.size), p.norm
    for tid in order:
        for segment in p.segments:
            docs, tfs = segment.postings(tid)
            if not docs.size:
                continue
            accumulate(scores, docs, tfs, norm, idf[tid], p.params, None if within is None else eligible)
    positions = np.empty(k, dtype=np.int64)
    values = np.empty(k, dtype=np.float64)
    if within is not None and eligible is not None:
        n = kernels.best_within(scores, within, k, positions, values)
    else:
        n = kernels.best(scores, p.alive if eligible is None else eligible, k, positions, values)
    ranked = np.lexsort((positions[:n], -values[:n]))
    return [(int(positions[i]), float(values[i])) for i in ranked]


def _maxscore(
    p: Postings,
    scratch: Scratch,
    scorer: _Scorer,
    best: _Best,
    eligible: npt.NDArray[np.bool_],
) -> None:
    """Finish a query by reading the essential terms' postings in full (see `_essential_candidates`)."""
    threshold = 0.0 if best.threshold is None else best.threshold
    met, partial, essential = _essential_candidates(p, scratch, scorer, threshold, eligible)
    if met.size > p.tuning.probe:
        # score the most promising first: the threshold they set prunes the rest much harder
        probe = np.zeros(met.size, dtype=np.bool_)
        probe[np.argpartition(-partial, p.tuning.probe)[: p.tuning.probe]] = True
        best.take(*scorer.score(met[probe], best.threshold))
        met, partial = met[~probe], partial[~probe]
    best.take(*scorer.score(met, best.threshold, partial if best.threshold is not None else None, essential))


def _essential_candidates(
    p: Postings,
    scratch: Scratch,
    scorer: _Scorer,
    threshold: float,
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
        return EMPTY_DOCS, np.empty(0, dtype=np.float64), frozenset()
    acc = scratch.scores(p.size)
    norm = p.norm
    touched: list[IntArray] = []
    for tid in essential:
        weight = scorer.weight[tid]
        for segment in p.segments:
            docs32, tfs = segment.postings(tid)
            if docs32.size:
                # intp indices: numpy gathers and scatters with int32 ones are several times slower
                docs = docs32.astype(np.intp)
                tf = tfs.astype(np.float64)
                acc[docs] += term_scores(weight, tf, np.take(norm, docs), p.params.k1, out=tf)  # once per list
                touched.append(docs)
    # below `cut` a document cannot reach the threshold (the same test as in _Scorer.score, rearranged)
    cut = threshold / (1 + _BOUND_MARGIN) - rest
    if sum(d.size for d in touched) * p.tuning.dense_scan > acc.size:  # many documents: scan the array once
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
    keep = (scratch.mark[met] != scratch.stamp) & eligible[met]
    return met[keep].astype(np.int32), partial[keep], frozenset(essential)


def _essential_cost(scorer: _Scorer, threshold: float) -> int:
    """Postings the MaxScore pass would read at this threshold."""
    total = 0.0
    cost = 0
    for tid in sorted(scorer.idf, key=lambda t: scorer.ceiling[t]):
        total += scorer.ceiling[tid]
        if total * (1 + _BOUND_MARGIN) >= threshold:
            cost += scorer.postings[tid]
    return cost


def _deeper(
    tuning: Tuning, lists: list[_List], drift: list[float], threshold: float | None
) -> list[tuple[_List, int]] | None:
    """How much further to read down the impact lists: empty when no unread document can reach `threshold`,
    None when that needs a list read past its impact copy (then the query finishes with a MaxScore pass).

    The lists of each segment share a budget: the sum of their bounds must fall below the threshold, so they
    are cut at a common level (water filling): a list whose bound is above the level is read deeper (straight
    to the block under the level, at most tuning.max_jump times deeper), a list below it is left alone. Without a
    threshold (fewer than k documents found) all are read further.
    """
    by_segment: dict[int, list[tuple[float, _List]]] = {}
    for walk in lists:
        if walk.depth < walk.docs.size or walk.cut:
            bound = walk.weight * float(walk.bounds[walk.depth >> BLOCK_SHIFT]) * drift[walk.segment]
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
                deeper = min(max(block << BLOCK_SHIFT, deeper), tuning.max_jump * walk.depth)
            steps.append((walk, min(walk.docs.size, max(deeper, tuning.first_depth))))
    return steps


def every_score(p: Postings, order: list[int], idf: dict[int, float]) -> FloatArray:
    """Scores of every position, exactly as rank-bm25's get_scores adds them up."""
    norm = p.norm
    contribution: dict[int, FloatArray] = {}
    for tid, weight in idf.items():
        tf = np.zeros(p.size, dtype=np.float64)
        for segment in p.segments:
            docs, tfs = segment.postings(tid)
            tf[docs] = tfs
        contribution[tid] = term_scores(weight, tf, norm, p.params.k1, out=tf)
    scores = np.zeros(p.size, dtype=np.float64)
    for tid in order:
        scores += contribution[tid]
    return scores


def warm(p: Postings, scratch: Scratch) -> None:
    """For a large index, load the compiled loops and write the scratch array once (a fresh 8 MB array costs
    thousands of page faults), so that the first question scored term at a time does not wait for them."""
    if p.size < p.tuning.compiled_min or not compiled():
        return
    kernels = loops()

    scores, norm = scratch.scores(p.size), p.norm
    scores.fill(0.0)
    for segment in p.segments:  # the loops as questions call them: each segment's dtypes
        accumulate(scores, segment.docs[:0], segment.tfs[:0], norm, 0.0, p.params)
        accumulate(scores, segment.docs[:0], segment.tfs[:0], norm, 0.0, p.params, p.alive)
    kernels.best(scores, p.alive, 1, np.empty(1, dtype=np.int64), np.empty(1, dtype=np.float64))
    none = np.empty(0, dtype=np.int64)
    kernels.best_within(scores, none, 1, np.empty(1, dtype=np.int64), np.empty(1, dtype=np.float64))
