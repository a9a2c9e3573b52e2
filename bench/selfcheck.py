"""Randomised exactness check of retrieval.bm25 and retrieval.mentions on small corpora, with their tuning turned
down so that every code path runs: impact copies cut short, the MaxScore pass, scoring term at a time, many segments
folded into one, deletions, bigram-indexed and scanned mention chunks, characters outside the BMP, self-overlapping
needles.

Ranked answers must equal rank-bm25's (same positions in the same order, ties by position, same scores bit for
bit); mention answers must equal str.count over each live passage. One deliberate adjustment: after deletions,
rank-bm25 sums its average idf (used only for terms in more than half of the documents) in the order the terms
first occur in the remaining documents, which the index does not keep; the check pins that one constant to
rank-bm25's value so that everything else is compared exactly. Without the pin, scores still agree to ~1e-15.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from bench.engines import reference_top
from retrieval.bm25 import Bm25Index, Tuning
from retrieval.mentions import MentionFinder, MentionTuning


def _corpus(rng: random.Random, n: int, vocabulary: int) -> list[list[str]]:
    words = [f"w{i}" for i in range(vocabulary)]
    weights = [1.0 / (i + 1) for i in range(vocabulary)]
    return [rng.choices(words, weights, k=rng.randint(0, 40)) for _ in range(n)]


def ranked_case(seed: int) -> list[str]:
    from rank_bm25 import BM25Okapi

    rng = random.Random(seed)
    problems: list[str] = []
    tuning = Tuning(
        impact_min_postings=rng.choice([2, 8, 64]),
        impact_keep_min=rng.choice([64, 128, 8192]),
        switch=rng.choice([0.0, 1.0, 1e9]),
        probe=rng.choice([4, 256]),
        max_jump=rng.choice([2, 8]),
        dense_scan=rng.choice([0, 4, 1 << 30]),  # the MaxScore pass: sort its documents, or scan the array
        row_share=rng.choice([0, 8, 1 << 30]),  # tf rows for no term, the common ones, or every term
        gather=rng.choice([0, 2048]),
        compiled_min=rng.choice([0, 1 << 40]),  # scored term at a time by the compiled loops, or never
        term_at_a_time=rng.choice([0.0, 8.0, 1e9]),
    )
    n = rng.randint(50, 1500)
    docs = _corpus(rng, n, rng.randint(5, 300))
    split = n if rng.random() < 0.25 else rng.randint(1, n)  # one segment, or many
    index = Bm25Index.build(docs[:split], tuning=tuning)
    at = split
    while at < n:
        step = rng.randint(1, 60)
        index.add(docs[at : at + step])
        at += step
    removed = set(rng.sample(range(n), rng.randint(0, n // 3)))
    index.remove(sorted(removed))
    live = [i for i in range(n) if i not in removed]
    reference = BM25Okapi([docs[i] for i in live])
    if removed:
        index._average_idf = float(reference.average_idf)
        index._mean_idf = lambda: float(reference.average_idf)  # type: ignore[method-assign]
    for _ in range(25):
        query = [f"w{int(rng.paretovariate(0.7)) % 320}" for _ in range(rng.randint(1, 8))]
        k = rng.choice([1, 3, 10, 50])
        expected = reference.get_scores(query)
        got = index.top(query, k)
        want = [live[i] for i in reference_top(expected, k)]
        if [p for p, _ in got] != want:
            problems.append(f"ranked seed {seed} {tuning} {query} k={k}: {got[:5]} vs {want[:5]}")
            continue
        for position, score in got:
            if score != expected[live.index(position)]:
                problems.append(f"ranked seed {seed} {query}: score of {position} {score!r}")
        if not np.allclose(index.dense_scores(query), expected, atol=1e-6, rtol=0):
            problems.append(f"dense scores seed {seed} {query}")
    return problems


def mention_case(seed: int) -> list[str]:
    rng = random.Random(seed)
    problems: list[str] = []
    alphabet = rng.choice(["ab", "abc", "哈哈哈x", "主题教育工作推进a\U0001f600", "abcdef"])
    tuning = MentionTuning(index_min_units=rng.choice([1, 50, 1000, 1 << 16]))
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(rng.randint(1, 400))]
    finder = MentionFinder(tuning)
    at = 0
    while at < len(texts):
        step = rng.randint(1, 100)
        finder.add(texts[at : at + step])
        at += step
    removed = set(rng.sample(range(len(texts)), rng.randint(0, len(texts) // 4)))
    alive = np.ones(len(texts), dtype=np.bool_)  # deletions are the passage index's mask, applied to the finder's
    alive[sorted(removed)] = False
    for _ in range(30):
        term = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 5)))
        expected = {i: t.count(term) for i, t in enumerate(texts) if term in t and i not in removed}
        positions, counts = finder.find_counts(term)
        live = alive[positions]
        if dict(zip(positions[live].tolist(), counts[live].tolist(), strict=True)) != expected:
            problems.append(f"mention seed {seed} {term!r}")
    for i in rng.sample(range(len(texts)), min(5, len(texts))):
        if finder.text(i) != texts[i]:
            problems.append(f"text seed {seed} position {i}")
    return problems


def run(cases: int) -> dict[str, Any]:
    problems: list[str] = []
    for seed in range(cases):
        problems += ranked_case(seed)
        problems += mention_case(seed)
    return {"cases": cases, "ranked_queries": cases * 25, "mention_queries": cases * 30, "problems": problems}
