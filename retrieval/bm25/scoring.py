"""rank-bm25's `BM25Okapi` arithmetic, written once: the length norms, the idf, and a term's contribution to a
document's score, `idf * (tf * (k1 + 1) / (tf + norm))`. Every path of the index scores through `term_scores`
(numpy) or `accumulate` (its compiled twin, `retrieval.kernels.accumulate`, the same expression per posting), and
sums the terms in query order as rank-bm25 does, so scores equal its scores bit for bit."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..arrays import DocArray, FloatArray, UIntArray
from ..loops import loops
from .params import Bm25Params


def norms(lengths: Any, avgdl: float, params: Bm25Params) -> Any:
    """k1 * (1 - b + b * dl / avgdl) per document length, as rank-bm25 computes it."""
    return params.k1 * (1 - params.b + params.b * lengths / avgdl)


def tf_part(tf: Any, norm: Any, k1: float, out: FloatArray | None = None) -> FloatArray:
    """The term-frequency part of rank-bm25's expression, tf * (k1 + 1) / (tf + norm); into `out` when given (it may
    be `tf` itself)."""
    numerator = tf * (k1 + 1)
    part: FloatArray = np.add(tf, norm, out=out)
    np.divide(numerator, part, out=part)
    return part


def term_scores(idf: Any, tf: Any, norm: Any, k1: float, out: FloatArray | None = None) -> FloatArray:
    """rank-bm25's contribution of a term to a score, idf * (tf * (k1 + 1) / (tf + norm)), element by element (`idf`
    a number, or a column: one term per row). The product's order does not change a bit of it."""
    scores = tf_part(tf, norm, k1, out)
    scores *= idf
    return scores


def idf(df: int, live: int, average: Callable[[], float], params: Bm25Params) -> float:
    """rank-bm25's idf of a term in `df` of `live` documents: a negative raw value becomes epsilon x the average idf
    (`average()`, asked only then)."""
    raw = math.log(live - df + 0.5) - math.log(df + 0.5)
    return raw if raw >= 0 else params.epsilon * average()


def mean_idf(df: FloatArray, live: int) -> float:
    """rank-bm25's average_idf: the mean raw idf of every term of the live corpus (document frequencies `df`, all
    positive), summed in order."""
    if df.size == 0:
        return 0.0
    n = float(live)
    raw = np.log(n - df + 0.5) - np.log(df + 0.5)
    return float(np.cumsum(raw)[-1]) / df.size


def accumulate(
    scores: FloatArray,
    docs: DocArray,
    tfs: UIntArray,
    norm: FloatArray,
    idf: float,
    params: Bm25Params,
    eligible: Any = None,
) -> None:
    """Add one term's contribution into `scores` at its postings (`docs`, `tfs`), for the documents `eligible`
    only when given: the compiled twin of `term_scores`, one posting at a time."""
    kernels = loops()  # numba loads with the first such question (never for a small index)
    if eligible is None:
        kernels.accumulate(scores, docs, tfs, norm, idf, params.k1)
    else:
        kernels.accumulate_within(scores, docs, tfs, norm, idf, params.k1, eligible)
