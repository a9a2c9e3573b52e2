"""One corpus size in a process of its own, so build times and resident memory are not polluted by other sizes.

`python -m bench.worker --size N --out result.json --tmp DIR` generates the corpus, builds our indexes and the
reference engines on the same tokens, times ranked and mention questions, checks our answers against
rank-bm25 and a plain scan, times an incremental add, and (with `--serve`) measures a fresh serving process
that loads the saved index. The result is one JSON object.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import itertools
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import psutil  # type: ignore[import-untyped]

from bench.corpus import (
    COMMON_QUERIES,
    LONG_QUERIES,
    MENTION_QUERIES,
    QUICK_MENTIONS,
    QUICK_RANKED,
    RANKED_QUERIES,
    RARE_QUERIES,
    CorpusGenerator,
    make_segmenter,
    query_terms,
)
from bench.engines import Bm25s, Engine, Ours, RankBm25, Tantivy, compare_top
from retrieval.bm25 import Bm25Index
from retrieval.mentions import MentionFinder
from retrieval.passages import Places

K = 10
ADD_BATCH = 40  # about one report's passages
# Scoped questions: the corpus read as reports of REPORT_PASSAGES passages each, made in YEARS years (report r in
# year r % YEARS): a question scoped to one report, or to one year (a tenth of the library)
REPORT_PASSAGES = 40
YEARS = 10
SCOPED_REPORTS = 3  # reports and years each question is asked about
SCOPED_YEARS = 2


def rss_mb() -> float:
    """Resident memory of this process, MB."""
    gc.collect()
    return float(psutil.Process().memory_info().rss) / 2**20


def summary(samples_ms: Sequence[float]) -> dict[str, float]:
    """p50, p95, max and mean of latencies in ms."""
    a = np.asarray(samples_ms, dtype=np.float64)
    if a.size == 0:
        return {}
    return {
        "p50": float(np.percentile(a, 50)),
        "p95": float(np.percentile(a, 95)),
        "max": float(a.max()),
        "mean": float(a.mean()),
        "n": int(a.size),
    }


def timed_runs(fn: Callable[[Any], Any], inputs: Sequence[Any], reps: int) -> tuple[list[list[float]], list[Any]]:
    """Per input, `reps` latencies in ms (one warm-up call first for the whole set) and the last result."""
    fn(inputs[0])
    per_input: list[list[float]] = [[] for _ in inputs]
    results: list[Any] = [None] * len(inputs)
    for _ in range(reps):
        for i, item in enumerate(inputs):
            t = time.perf_counter_ns()
            results[i] = fn(item)
            per_input[i].append((time.perf_counter_ns() - t) / 1e6)
    return per_input, results


def latency_block(per_input: list[list[float]], classes: Sequence[str]) -> dict[str, Any]:
    """Overall and per-class latency summaries; each query's median too."""
    flat = [x for xs in per_input for x in xs]
    block: dict[str, Any] = {"all": summary(flat), "per_query_median": [float(np.median(xs)) for xs in per_input]}
    for cls in dict.fromkeys(classes):
        block[cls] = summary([x for xs, c in zip(per_input, classes, strict=True) if c == cls for x in xs])
    return block


def scan_mentions(texts: Sequence[str], term: str) -> dict[int, int]:
    """The oracle for mention answers: count non-overlapping occurrences passage by passage."""
    joined = "\x00".join(texts)
    found: Counter[int] = Counter()
    starts = np.cumsum([0] + [len(t) + 1 for t in texts[:-1]])
    at = joined.find(term)
    hits: list[int] = []
    while at != -1:
        hits.append(at)
        at = joined.find(term, at + len(term))
    if hits:
        found.update((np.searchsorted(starts, np.asarray(hits), side="right") - 1).tolist())
    return dict(found)


def build_engine(engine: Engine, documents: Sequence[Sequence[str]]) -> dict[str, float]:
    """Build and measure time and resident-memory growth."""
    before = rss_mb()
    t = time.perf_counter()
    engine.build(documents)
    seconds = time.perf_counter() - t
    return {"build_s": seconds, "rss_mb": rss_mb() - before}


def run(args: argparse.Namespace) -> dict[str, Any]:
    size: int = args.size
    tmp = Path(args.tmp)
    tmp.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {"n": size, "engines": {}, "errors": []}
    baseline = rss_mb()
    segmenter = make_segmenter()
    generator = CorpusGenerator(segmenter)
    t = time.perf_counter()
    texts: list[str] = []
    terms: list[list[str]] = []
    for batch_texts, batch_terms in generator.batches(size + ADD_BATCH):
        texts.extend(batch_texts)
        terms.extend(batch_terms)
    held_texts, held_terms = texts[size:], terms[size:]
    del texts[size:], terms[size:]
    out["generate_s"] = time.perf_counter() - t
    out["chars"] = sum(len(x) for x in texts)
    out["tokens"] = sum(len(x) for x in terms)
    gc.collect()
    gc.freeze()  # the corpus is millions of objects: keep the collector from walking it during timing
    out["process_rss_after_corpus_mb"] = rss_mb()
    out["process_rss_baseline_mb"] = baseline

    ranked_texts = QUICK_RANKED if args.quick else RANKED_QUERIES
    classes = ["rare" if q in RARE_QUERIES else "common" if q in COMMON_QUERIES else "long" for q in ranked_texts]
    assert all(q in RARE_QUERIES or q in COMMON_QUERIES or q in LONG_QUERIES for q in ranked_texts)
    queries = [query_terms(segmenter, q) for q in ranked_texts]
    mention_terms = QUICK_MENTIONS if args.quick else MENTION_QUERIES
    reps = args.reps

    # --- ours: ranked ----------------------------------------------------------------------------------
    ours = Ours()
    out["engines"]["ours"] = build_engine(ours, terms)
    out["postings"] = ours.index.posting_count()
    out["ranked_index_mb"] = ours.index.nbytes() / 2**20
    out["vocabulary"] = len(ours.index.vocabulary)
    ours.index.warm()  # as the bot does at start: a large index loads its compiled loops before the first question
    per_query, our_tops = timed_runs(lambda q: ours.top_scored(q, K), queries, reps)
    out["engines"]["ours"]["ranked"] = latency_block(per_query, classes)
    # --- ours: scoped ranked questions -------------------------------------------------------------------
    report_of = Places()
    report_of.extend(np.arange(size), np.arange(size) // REPORT_PASSAGES, np.ones(size, dtype=np.bool_))
    scopes = scoped_reports(size)
    # each question unscoped, then in every scope, back to back: the comparison holds even when the machine's load
    # changes during the run (the unscoped timings above are a phase of their own)
    asked: list[tuple[str, list[int] | None]] = [("unscoped", None), *scopes]
    scoped = [(query, ids) for query in queries for _, ids in asked]
    per_scoped, scoped_tops = timed_runs(
        lambda item: ours.top_scored(item[0], K, None if item[1] is None else report_of.of_reports(item[1])),
        scoped,
        reps,
    )
    out["engines"]["ours"]["scoped"] = latency_block(per_scoped, [kind for _ in queries for kind, _ in asked])
    # --- ours: mentions --------------------------------------------------------------------------------
    finder = MentionFinder()
    before = rss_mb()
    t = time.perf_counter()
    finder.add(texts)
    out["mentions"] = {"build_s": time.perf_counter() - t, "rss_mb": rss_mb() - before}
    mention_classes = ["mention"] * len(mention_terms)
    per_term, our_mentions = timed_runs(finder.find, mention_terms, reps)
    out["mentions"]["find"] = latency_block(per_term, mention_classes)
    out["mentions"]["hits"] = [len(m) for m in our_mentions]
    per_term, _ = timed_runs(finder.find_counts, mention_terms, reps)
    out["mentions"]["find_counts"] = latency_block(per_term, mention_classes)
    out["mentions"]["index_mb"] = finder.nbytes() / 2**20
    out["index_rss_mb"] = rss_mb() - out["process_rss_after_corpus_mb"]

    # --- a serving process loading the saved indexes ---------------------------------------------------
    if args.serve:
        out["serve"] = serve_measurement(ours.index, finder, tmp, ranked_texts, mention_terms, our_tops, our_mentions)

    # --- incremental add of one report ------------------------------------------------------------------
    out["add"] = add_measurement(ours.index, finder, held_texts, held_terms, size, queries)
    del finder
    ours = Ours()
    gc.collect()

    # --- reference engines --------------------------------------------------------------------------------
    for name, engine_type in (("tantivy", Tantivy), ("bm25s", Bm25s)):
        if name not in args.engines:
            continue
        try:
            engine = engine_type()
            out["engines"][name] = build_engine(engine, terms)
            per_query, _ = timed_runs(lambda q, e=engine: e.top(q, K), queries, reps)  # type: ignore[misc]
            out["engines"][name]["ranked"] = latency_block(per_query, classes)
            del engine
        except Exception as exc:  # an optional engine that fails is reported, not fatal
            out["engines"][name] = {"skipped": f"{type(exc).__name__}: {exc}"}
        gc.collect()

    # --- rank-bm25: the reference for exactness -----------------------------------------------------------
    checks: list[dict[str, Any]] = []
    if "rank-bm25" in args.engines and size <= args.rank_bm25_max:
        reference = RankBm25()
        out["engines"]["rank-bm25"] = build_engine(reference, terms)
        per_query = []
        scoped_checks = iter(zip(scoped, scoped_tops, strict=True))
        for query, top in zip(queries, our_tops, strict=True):
            t_ns = time.perf_counter_ns()
            reference.top(query, K)
            per_query.append([(time.perf_counter_ns() - t_ns) / 1e6])
            scores = reference.scores(query)
            problem = compare_top(top, scores, K)
            checks.append({"query": " ".join(query), "ok": problem is None, "problem": problem})
            for (_, ids), scoped_top in itertools.islice(scoped_checks, len(asked)):
                if ids is None:  # unscoped: checked above
                    continue
                within = report_of.of_reports(ids)
                problem = compare_top(scoped_top, scores, K, within=within)
                label = f"within {len(ids)} reports ({within.size} passages): " + " ".join(query)
                checks.append({"query": label, "ok": problem is None, "problem": problem, "scoped": True})
        out["engines"]["rank-bm25"]["ranked"] = latency_block(per_query, classes)
        if size <= args.after_add_check_max:
            checks.extend(after_add_check(terms, held_terms, queries, size))
        del reference
    else:
        out["engines"]["rank-bm25"] = {
            "skipped": f"not run above {args.rank_bm25_max:,} passages (build ~1 min and ~3 GB, "
            "1-3 s per question at 1M); our answers at this size are not checked against it"
        }
    out["exactness"] = {
        "reference": "rank-bm25" if checks else None,
        "checked": len(checks),
        "scoped_checked": sum(1 for c in checks if c.get("scoped")),
        "mismatches": [c for c in checks if not c["ok"]],
    }
    mention_checks = []
    for term, found in zip(mention_terms, our_mentions, strict=True):
        expected = scan_mentions(texts, term)
        mention_checks.append({"term": term, "ok": found == expected, "hits": len(expected)})
    out["mention_exactness"] = {
        "reference": "scan",
        "checked": len(mention_checks),
        "mismatches": [c for c in mention_checks if not c["ok"]],
    }
    return out


def scoped_reports(size: int) -> list[tuple[str, list[int]]]:
    """The scopes of the scoped questions: (kind, report ids) for a few single reports and a few years, spread
    over the corpus (report r holds positions r * REPORT_PASSAGES onwards and was made in year r % YEARS)."""
    reports = max(1, -(-size // REPORT_PASSAGES))
    one = [("one report", [reports * (2 * i + 1) // (2 * SCOPED_REPORTS)]) for i in range(SCOPED_REPORTS)]
    years = [("one year", list(range(year, reports, YEARS))) for year in range(min(SCOPED_YEARS, reports))]
    return one + years


def add_measurement(
    index: Bm25Index,
    finder: MentionFinder,
    texts: list[str],
    terms: list[list[str]],
    size: int,
    queries: list[list[str]],
) -> dict[str, Any]:
    """Add one report's passages; time it, the next question, and a replace (remove + add)."""
    result: dict[str, Any] = {"passages": len(terms)}
    t = time.perf_counter()
    positions = index.add(terms)
    result["ranked_add_ms"] = (time.perf_counter() - t) * 1e3
    t = time.perf_counter()
    finder.add(texts)
    result["mentions_add_ms"] = (time.perf_counter() - t) * 1e3
    t = time.perf_counter()
    index.top(queries[0], K)
    result["next_question_ms"] = (time.perf_counter() - t) * 1e3
    probe = texts[0][:12]
    visible_mention = any(p >= size for p in finder.find(probe))
    scored, _ = index.score(terms[0])
    visible_ranked = bool((np.asarray(scored) == positions[0]).any())
    result["visible"] = visible_mention and visible_ranked
    t = time.perf_counter()
    index.remove(list(positions))
    index.add(terms)
    finder.add(texts)
    result["replace_ms"] = (time.perf_counter() - t) * 1e3
    return result


def after_add_check(
    terms: list[list[str]], held: list[list[str]], queries: list[list[str]], size: int
) -> list[dict[str, Any]]:
    """Build, add one report, replace it: the answers must still equal rank-bm25 on the live documents."""
    index = Bm25Index.build(terms)
    first = index.add(held)
    index.remove(list(first))
    index.add(held)
    live_positions = np.concatenate([np.arange(size), np.arange(size + len(held), size + 2 * len(held))])
    reference = RankBm25()
    reference.build(list(terms) + list(held))
    checks = []
    for query in queries:
        ours = [(int(live_positions.searchsorted(p)), s) for p, s in index.top(query, K)]
        problem = compare_top(ours, reference.scores(query), K)
        checks.append({"query": "after add: " + " ".join(query), "ok": problem is None, "problem": problem})
    return checks


def serve_measurement(
    index: Bm25Index,
    finder: MentionFinder,
    tmp: Path,
    ranked_texts: Sequence[str],
    mention_terms: Sequence[str],
    tops: list[list[tuple[int, float]]],
    mentions: list[dict[int, int]],
) -> dict[str, Any]:
    """Save the indexes, load them in a fresh process, measure it, and check it answers the same."""
    directory = tmp / "index"
    t = time.perf_counter()
    index.save(directory / "bm25")
    finder.save(directory / "mentions")
    save_s = time.perf_counter() - t
    request = tmp / "serve_request.json"
    request.write_text(
        json.dumps({"dir": str(directory), "ranked": list(ranked_texts), "mentions": list(mention_terms)}),
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "bench.worker", "--serve-request", str(request)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if proc.returncode != 0:
        return {"error": proc.stderr[-2000:]}
    served: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    same_ranked = served.pop("tops") == [[[p, s] for p, s in top] for top in tops]
    same_mentions = served.pop("mention_answers") == [mention_digest(m) for m in mentions]
    served.update({"save_s": save_s, "same_answers": same_ranked and same_mentions})
    return served


def mention_digest(found: dict[int, int]) -> str:
    """A short fingerprint of a mention answer (holding every answer would inflate the RSS measured)."""
    positions = np.fromiter(sorted(found), dtype=np.int64, count=len(found))
    counts = np.asarray([found[p] for p in positions.tolist()], dtype=np.int64)
    return hashlib.sha1(positions.tobytes() + counts.tobytes()).hexdigest()


def serve(request_path: Path) -> dict[str, Any]:
    """The serving process: segmenter + both indexes loaded from disk; resident memory and first answers."""
    started = time.perf_counter()
    request = json.loads(request_path.read_text(encoding="utf-8"))
    t = time.perf_counter()
    segmenter = make_segmenter()
    segmenter_s = time.perf_counter() - t
    baseline = rss_mb()
    directory = Path(request["dir"])
    t = time.perf_counter()
    index = Bm25Index.load(directory / "bm25")
    finder = MentionFinder.load(directory / "mentions")
    load_s = time.perf_counter() - t
    query = query_terms(segmenter, request["ranked"][0])
    t = time.perf_counter()
    first = index.top(query, K)
    first_ms = (time.perf_counter() - t) * 1e3
    start_to_first = time.perf_counter() - started
    tops = [first] + [index.top(query_terms(segmenter, q), K) for q in request["ranked"][1:]]
    answers = [mention_digest(finder.find(term)) for term in request["mentions"]]
    rss = rss_mb()
    return {
        "segmenter_s": segmenter_s,
        "load_s": load_s,
        "first_question_ms": first_ms,
        "start_to_first_answer_s": start_to_first,
        "rss_mb": rss,
        "baseline_rss_mb": baseline,
        "tops": [[[p, s] for p, s in top] for top in tops],
        "mention_answers": answers,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--tmp", type=Path)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--engines", default="ours,rank-bm25,bm25s,tantivy")
    parser.add_argument("--rank-bm25-max", type=int, default=1_000_000)
    parser.add_argument("--after-add-check-max", type=int, default=10_000)
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--serve-request", type=Path)
    args = parser.parse_args(argv)
    if args.serve_request is not None:
        print(json.dumps(serve(args.serve_request)))
        return 0
    args.engines = set(args.engines.split(","))
    result = run(args)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
