"""What an index is built and searched with: BM25's parameters (they change scores) and the tuning of its
structures and strategies (it never changes an answer, only how fast it comes and how much memory it takes)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bm25Params:
    """rank-bm25's `BM25Okapi` parameters. A saved index records them: one saved with others is rebuilt."""

    k1: float = 1.5
    b: float = 0.75
    epsilon: float = 0.25  # a term in more than half of the documents gets epsilon x the average idf


@dataclass(frozen=True)
class Tuning:
    """Thresholds of the index's structures and of the top-k strategies. Tests and the benchmark turn them down
    so that small corpora take every path a large one takes."""

    merge_segments: int = 16  # small segments allowed after the first before they are folded into one
    impact_min_postings: int = 256  # a term with at least this many postings in a segment gets an impact copy
    impact_keep_min: int = 8192  # impact copies keep at least this many entries of a list ...
    impact_keep_shift: int = 2  # ... or a quarter of it, whichever is more
    # a term in at least 1/row_share of a segment's documents also gets a row of its tfs (a byte per document);
    # 1/6 rather than 1/8: ~27 rows (27 MB) at 1M passages instead of ~45, for ~3% more time, keeps the serving
    # process clear of its 1 GB budget
    row_share: int = 6
    first_depth: int = 64  # impact entries read per list in the first round of a query
    max_jump: int = 16  # a list is read at most this many times deeper per round
    switch: float = 1.0  # walk the impact lists while (documents met) x (terms) stays under the MaxScore postings
    probe: int = 256  # candidates of the MaxScore pass scored first, to raise the threshold
    dense_after: int = 16  # a term's tfs go dense once 1/16 of its postings' worth of binary searches were done
    dense_scan: int = 4  # the MaxScore pass scans its whole scratch array once its lists hold 1/4 of the positions
    gather: int = 2048  # candidates up to which the remaining tf-row terms are looked up together (no pruning)
    compiled_min: int = 100_000  # positions from which a question may be scored term at a time (retrieval.kernels)
    # ... instead of walking on, once (documents met) x (terms) x this exceeds the postings to add plus a quarter of
    # the positions to scan: a candidate scored through numpy costs ~4x a posting added by the compiled loop
    term_at_a_time: float = 4.0
    # A scoped question scores its documents one by one while (documents in scope) x (terms) stays under this (a
    # few reports); a wider scope (a year of an archive) walks the impact lists like any question, only deeper: a
    # tenth of the documents in scope means reading about ten times as far down the lists, still far less than
    # scoring them all
    within_one_by_one: int = 1 << 14
    outside_cost: float = 1.0  # a document met outside a question's scope costs about as much as this many terms
