"""numba or numpy: the compiled loops (retrieval/kernels.py) against the same loops as numpy passes
(retrieval/kernels_numpy.py) on bench/run.py's corpus, in the same process, alternating A/B runs. Writes
docs/benchmarks/numba.json and numba.md.

    python -m bench.numba_or_numpy --tmp /tmp/numba-bench [--sizes 100k,1m] [--reps 4]

Per size: the indexes are built once (building never runs the loops); every ranked question (by kind: rare,
common, long, and scoped to a year of the library) and every mention question (`find_counts`) is timed with
each kind of loops in turn, the order swapped every repetition, and the answers of the two compared. Then two
fresh serving processes per kind of loops load the saved indexes and time import, warm-up and first questions:
one with an empty numba cache (numba compiles), one with the cache the first left (what every later start does),
and their resident memory. Last, the size of numba and llvmlite as installed.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.corpus import (  # noqa: E402
    COMMON_QUERIES,
    MENTION_QUERIES,
    RANKED_QUERIES,
    RARE_QUERIES,
    CorpusGenerator,
    make_segmenter,
    query_terms,
)
from bench.run import SIZES, label, machine  # noqa: E402
from bench.worker import REPORT_PASSAGES, YEARS, K, rss_mb, summary  # noqa: E402

KINDS = ("numba", "numpy")


def use(kind: str) -> None:
    """From now on the indexes run `kind`'s loops: for numpy, numba is made unimportable (as in an install without
    the `fast` extra) and retrieval.loops chooses again; for numba, the modules imported at the start come back."""
    import retrieval
    from retrieval import loops

    loops.loops.cache_clear()
    if kind == "numpy":
        sys.modules["numba"] = None  # type: ignore[assignment]
        sys.modules.pop("retrieval.kernels", None)
        retrieval.__dict__.pop("kernels", None)
    else:  # the modules measure_size imported first
        sys.modules["numba"], sys.modules["retrieval.kernels"] = REAL["numba"], REAL["kernels"]
        retrieval.kernels = REAL["kernels"]  # type: ignore[attr-defined]
    loops.loops()


REAL: dict[str, ModuleType] = {}


def site_size(package: str) -> int:
    """Bytes of an installed package's folder."""
    module = importlib.util.find_spec(package)
    if module is None or not module.submodule_search_locations:
        return 0
    folder = Path(next(iter(module.submodule_search_locations)))
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def alternate(
    fn: Callable[[Any], Any], inputs: Sequence[Any], reps: int
) -> tuple[dict[str, list[list[float]]], dict[str, list[Any]]]:
    """Per kind of loops, per input, `reps` latencies (ms) and the answers; the kinds take turns, their order
    swapped every repetition, after one untimed pass of each."""
    times: dict[str, list[list[float]]] = {name: [[] for _ in inputs] for name in KINDS}
    answers: dict[str, list[Any]] = {name: [None] * len(inputs) for name in KINDS}
    names = list(KINDS)
    for name in names:
        use(name)
        fn(inputs[0])
    for rep in range(reps):
        for name in names if rep % 2 == 0 else names[::-1]:
            use(name)
            for i, item in enumerate(inputs):
                t = time.perf_counter_ns()
                answers[name][i] = fn(item)
                times[name][i].append((time.perf_counter_ns() - t) / 1e6)
    return times, answers


def block(per_input: list[list[float]], classes: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"all": summary([x for xs in per_input for x in xs])}
    for cls in dict.fromkeys(classes):
        out[cls] = summary([x for xs, c in zip(per_input, classes, strict=True) if c == cls for x in xs])
    return out


def same(a: Any, b: Any) -> bool:
    if isinstance(a, tuple):
        return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def measure_size(size: int, reps: int, tmp: Path) -> dict[str, Any]:
    import numba

    from retrieval import kernels
    from retrieval.bm25 import Bm25Index
    from retrieval.mentions import MentionFinder

    REAL.update(numba=numba, kernels=kernels)
    out: dict[str, Any] = {"n": size}
    segmenter = make_segmenter()
    texts: list[str] = []
    terms: list[list[str]] = []
    for batch_texts, batch_terms in CorpusGenerator(segmenter).batches(size):
        texts.extend(batch_texts)
        terms.extend(batch_terms)
    out["chars"] = sum(len(t) for t in texts)
    gc.collect()
    gc.freeze()
    t = time.perf_counter()
    index = Bm25Index.build(terms)
    out["ranked_build_s"] = time.perf_counter() - t
    t = time.perf_counter()
    finder = MentionFinder()
    finder.add(texts)
    out["mentions_build_s"] = time.perf_counter() - t
    del terms
    gc.collect()
    for name in KINDS:  # compile (or load from numba's cache) before timing
        use(name)
        index.warm()
        finder.warm()
    classes = ["rare" if q in RARE_QUERIES else "common" if q in COMMON_QUERIES else "long" for q in RANKED_QUERIES]
    queries = [query_terms(segmenter, q) for q in RANKED_QUERIES]
    reports = -(-size // REPORT_PASSAGES)
    year = np.concatenate(
        [np.arange(r * REPORT_PASSAGES, min(size, (r + 1) * REPORT_PASSAGES)) for r in range(0, reports, YEARS)]
    ).astype(np.int64)
    asked = [(q, None) for q in queries] + [(q, year) for q in queries]
    kinds = classes + ["one year"] * len(queries)
    times, answers = alternate(lambda item: index.top(item[0], K, item[1]), asked, reps)
    out["ranked"] = {name: block(times[name], kinds) for name in KINDS}
    out["ranked_same"] = all(same(a, b) for a, b in zip(answers["numba"], answers["numpy"], strict=True))
    times, answers = alternate(finder.find_counts, MENTION_QUERIES, reps)
    out["mentions"] = {name: block(times[name], ["mention"] * len(MENTION_QUERIES)) for name in KINDS}
    out["mentions_same"] = all(same(a, b) for a, b in zip(answers["numba"], answers["numpy"], strict=True))
    directory = tmp / f"index-{size}"
    index.save(directory / "bm25")
    finder.save(directory / "mentions")
    del finder, texts
    gc.collect()
    out["serve"] = {}
    for name in ("numba", "numpy"):
        cache = tmp / f"numba-cache-{size}-{name}"
        for start in ("first start", "later start"):
            out["serve"][f"{name}, {start}"] = serve_process(directory, name, cache)
    return out


def serve_process(directory: Path, loops: str, cache: Path) -> dict[str, Any]:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    proc = subprocess.run(
        [sys.executable, "-m", "bench.numba_or_numpy", "--serve", str(directory), "--loops", loops],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if proc.returncode != 0:
        return {"error": proc.stderr[-3000:]}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def serve(directory: Path, loops: str) -> dict[str, Any]:
    """A serving process: load both saved indexes, get the loops ready, answer a first ranked question scored term
    at a time (a long one) and a first mention question; resident memory after."""
    started = time.perf_counter()
    if loops == "numpy":
        sys.modules["numba"] = None  # type: ignore[assignment]  # as an install without numba
    segmenter = make_segmenter()
    from retrieval.bm25 import Bm25Index
    from retrieval.loops import loops as chosen
    from retrieval.mentions import MentionFinder

    index = Bm25Index.load(directory / "bm25")
    finder = MentionFinder.load(directory / "mentions")
    loaded = time.perf_counter()
    base_rss = rss_mb()
    t = time.perf_counter()
    chosen()  # numba and llvmlite, or the numpy loops
    import_s = time.perf_counter() - t
    t = time.perf_counter()
    index.warm()
    finder.warm()
    warm_s = time.perf_counter() - t
    query = query_terms(segmenter, RANKED_QUERIES[-1])
    t = time.perf_counter()
    index.top(query, K)
    ranked_ms = (time.perf_counter() - t) * 1e3
    t = time.perf_counter()
    finder.find_counts(MENTION_QUERIES[0])
    mention_ms = (time.perf_counter() - t) * 1e3
    return {
        "load_s": loaded - started,
        "import_s": import_s,
        "warm_s": warm_s,
        "first_ranked_ms": ranked_ms,
        "first_mention_ms": mention_ms,
        "ready_s": time.perf_counter() - started,
        "rss_mb": rss_mb(),
        "loops_rss_mb": rss_mb() - base_rss,
    }


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [
        "# numba or numpy: the compiled loops against numpy passes",
        "",
        "Generated by `python -m bench.numba_or_numpy`; do not edit by hand.",
        "",
        f"Machine: {m['cpu']}, {m['cores_logical']} logical cores, {m['ram_gb']} GB RAM; Python {m['python']}, "
        f"numpy {m['numpy']}, numba {result['numba_version']}; {m['date']}; load average "
        f"{result['load_before']} before, {result['load_after']} after. numba + llvmlite installed: "
        f"{result['install_mb']['numba'] + result['install_mb']['llvmlite']:.0f} MB "
        f"(numba {result['install_mb']['numba']:.0f} MB, llvmlite {result['install_mb']['llvmlite']:.0f} MB).",
        "",
        "Same process, same indexes, the two kinds of loops in turn (order swapped every repetition, "
        f"{result['reps']} repetitions of every question); latencies in ms. Each kind as it runs when installed: "
        "with numpy loops a large index never scores a ranked question term at a time (it prunes, as every index "
        "under 100k passages does).",
        "",
        "| passages | questions | numba p50 | numba p95 | numpy p50 | numpy p95 | numpy/numba p50 | numpy/numba p95 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for size in result["sizes"]:
        rows = [(f"ranked: {k}", size["ranked"], k) for k in ("rare", "common", "long", "one year", "all")]
        rows.append(("mentions (`find_counts`)", size["mentions"], "all"))
        for title, data, key in rows:
            a, b = data["numba"][key], data["numpy"][key]
            lines.append(
                f"| {label(size['n'])} | {title} | {a['p50']:.2f} | {a['p95']:.2f} | {b['p50']:.2f} | {b['p95']:.2f}"
                f" | {b['p50'] / a['p50']:.2f}x | {b['p95'] / a['p95']:.2f}x |"
            )
    lines += [
        "",
        "| passages | chars | ranked build (s) | mention build (s) | same ranked answers | same mention answers |",
        "|---|---|---|---|---|---|",
    ]
    for size in result["sizes"]:
        lines.append(
            f"| {label(size['n'])} | {size['chars']:,} | {size['ranked_build_s']:.1f} | "
            f"{size['mentions_build_s']:.1f} | {size['ranked_same']} | {size['mentions_same']} |"
        )
    lines += [
        "",
        "Building does not run the loops: its time is the same with either.",
        "",
        "A fresh serving process loading the saved indexes: importing the loops, getting them ready (`warm`: numba "
        "compiles, or loads what it compiled from its cache), the first long ranked question and the first "
        "mention question, resident memory at the end (and what importing and warming added).",
        "",
        "| passages | loops, start | load (s) | import (s) | warm (s) | first ranked (ms) | first mention (ms) | "
        "ready (s) | RSS (MB) | loops' RSS (MB) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for size in result["sizes"]:
        for name, s in size["serve"].items():
            if "error" in s:
                lines.append(f"| {label(size['n'])} | {name} | error |  |  |  |  |  |  |  |")
                continue
            lines.append(
                f"| {label(size['n'])} | {name} | {s['load_s']:.2f} | {s['import_s']:.2f} | {s['warm_s']:.2f} | "
                f"{s['first_ranked_ms']:.1f} | {s['first_mention_ms']:.1f} | {s['ready_s']:.2f} | "
                f"{s['rss_mb']:.0f} | {s['loops_rss_mb']:.0f} |"
            )
    lines += ["", result.get("decision", ""), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tmp", type=Path)
    parser.add_argument("--sizes", default="100k,1m")
    parser.add_argument("--reps", type=int, default=4)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--loops", default="numba", help=argparse.SUPPRESS)
    parser.add_argument("--markdown-only", action="store_true", help="rewrite numba.md from numba.json")
    args = parser.parse_args(argv)
    if args.serve is not None:
        print(json.dumps(serve(args.serve, args.loops)))
        return 0
    json_path, md_path = args.out / "numba.json", args.out / "numba.md"
    if args.markdown_only:
        md_path.write_text(markdown(json.loads(json_path.read_text(encoding="utf-8"))), encoding="utf-8")
        return 0
    import numba

    result: dict[str, Any] = {
        "machine": machine(),
        "numba_version": numba.__version__,
        "reps": args.reps,
        "load_before": round(os.getloadavg()[0], 1),
        "install_mb": {p: site_size(p) / 2**20 for p in ("numba", "llvmlite")},
        "sizes": [],
    }
    with tempfile.TemporaryDirectory(prefix="numba-bench-", dir=args.tmp) as name:
        for part in args.sizes.split(","):
            size = SIZES[part] if part in SIZES else int(part)
            print(f"[numba] {label(size)} ...", flush=True)
            result["sizes"].append(measure_size(size, args.reps, Path(name)))
            print(json.dumps(result["sizes"][-1])[:2000], flush=True)
    result["load_after"] = round(os.getloadavg()[0], 1)
    if json_path.is_file():  # the decision is written by hand into the JSON and kept across runs
        result["decision"] = json.loads(json_path.read_text(encoding="utf-8")).get("decision", "")
    args.out.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    md_path.write_text(markdown(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
