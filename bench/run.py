"""`make bench`: how fast is retrieval at 1k, 10k, 100k and 1M passages, and is it still exact?

Each size runs in a subprocess of its own (bench/worker.py) on a seeded synthetic corpus recombined from the
bundled reports (bench/corpus.py). Our ranked answers are checked against rank-bm25 on the same tokens (top-10
positions in order, ties broken by position, scores within 1e-6) and our mention answers against a plain scan;
any difference makes the run exit 1. Writes results.md, results.json and latency.png to --out.

    .venv/bin/python bench/run.py                      # everything, ~15 minutes on 2 cores
    .venv/bin/python bench/run.py --sizes 1k,10k       # some sizes
    .venv/bin/python bench/run.py --quick --out /tmp/b # 1k, a few queries, no plot (the test suite's smoke run)
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000, "1m": 1_000_000}
ENGINES = ["ours", "rank-bm25", "bm25s", "tantivy"]
WORKER_TIMEOUT_S = 1500


def parse_sizes(text: str) -> list[int]:
    sizes = []
    for part in text.split(","):
        key = part.strip().lower()
        if not key:
            continue
        sizes.append(SIZES[key] if key in SIZES else int(key.replace("_", "")))
    return sizes


def label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n // 1000}k" if n >= 1000 else str(n)


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    import numpy
    import psutil  # type: ignore[import-untyped]

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for package in ("rank-bm25", "bm25s", "tantivy", "rjieba", "psutil"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "cpu": cpu,
        "cores_logical": os.cpu_count(),
        "cores_physical": psutil.cpu_count(logical=False),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "platform": platform.platform(),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        **versions,
    }


def run_worker(size: int, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    out = tmp / f"worker_{size}.json"
    command = [
        sys.executable,
        "-m",
        "bench.worker",
        "--size",
        str(size),
        "--out",
        str(out),
        "--tmp",
        str(tmp / f"size_{size}"),
        "--reps",
        str(1 if args.quick else args.reps),
        "--engines",
        ",".join(args.engines),
        "--rank-bm25-max",
        str(args.rank_bm25_max),
    ]
    if args.quick:
        command.append("--quick")
    if not args.no_serve:
        command.append("--serve")
    t = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=WORKER_TIMEOUT_S, check=False)
    if proc.returncode != 0:
        return {"n": size, "error": proc.stderr[-4000:], "errors": ["worker failed"]}
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    result["worker_s"] = time.perf_counter() - t
    return result


def run_system(what: str, tmp: Path, *extra: str, module: str = "bench.system") -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", module, *([what] if what else []), "--tmp", str(tmp), *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=WORKER_TIMEOUT_S,
        check=False,
    )
    if proc.returncode != 0:
        return {"error": proc.stderr[-4000:]}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Retrieval benchmark (see the module docstring).")
    parser.add_argument("--sizes", default="1k,10k,100k,1m", help="comma-separated: 1k,10k,100k,1m or numbers")
    parser.add_argument("--quick", action="store_true", help="1k only, a few queries, no plot (for the tests)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks")
    parser.add_argument("--reps", type=int, default=3, help="timed repetitions of every question")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--rank-bm25-max", type=int, default=1_000_000, help="largest size rank-bm25 runs at")
    parser.add_argument("--no-serve", action="store_true", help="skip the saved-index serving process")
    parser.add_argument("--skip-system", action="store_true", help="skip cold start and ingest throughput")
    parser.add_argument("--ingest-files", type=int, default=150, help="report files for the ingest measurement")
    parser.add_argument(
        "--bot", action="store_true", help="also run the bot under a stream of questions (bench/botload.py)"
    )
    parser.add_argument(
        "--bot-reports", type=int, default=25_000, help="synthetic reports (~40 passages each) for the bot load test"
    )
    parser.add_argument("--selfcheck-cases", type=int, default=100, help="random corpora in the self-check")
    args = parser.parse_args(argv)
    args.engines = [e for e in args.engines.split(",") if e]
    sizes = [1_000] if args.quick else parse_sizes(args.sizes)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": machine(), "quick": args.quick, "sizes": [], "system": {}}
    with tempfile.TemporaryDirectory(prefix="reportbot-bench-") as tmp_name:
        tmp = Path(tmp_name)
        for size in sizes:
            print(f"[bench] {label(size)} passages ...", flush=True)
            result = run_worker(size, args, tmp)
            results["sizes"].append(result)
            print(f"[bench] {label(size)}: {one_line(result)}", flush=True)
        print("[bench] randomised self-check ...", flush=True)
        from bench import selfcheck

        results["selfcheck"] = selfcheck.run(20 if args.quick else args.selfcheck_cases)
        if not args.skip_system:
            print("[bench] cold start ...", flush=True)
            results["system"]["cold_start"] = run_system("cold", tmp / "cold", "--runs", "2" if args.quick else "5")
            print("[bench] ingest ...", flush=True)
            files = "5" if args.quick else str(args.ingest_files)
            results["system"]["ingest"] = run_system("ingest", tmp / "ingest", "--files", files)
        if args.bot:
            print("[bench] bot under a stream of questions ...", flush=True)
            sizes_args = ["--reports", "5", "--seconds", "2", "--burst", "10", "--alone", "3"] if args.quick else []
            results["system"]["bot"] = run_system(
                "", tmp / "bot", "--reports", str(args.bot_reports), *sizes_args, module="bench.botload"
            )
    results["total_s"] = time.perf_counter() - started
    from bench.report import failures, write_outputs

    write_outputs(results, args.out, plot=not args.quick)
    problems = failures(results)
    for problem in problems:
        print(f"[bench] FAIL: {problem}", file=sys.stderr)
    print(f"[bench] wrote {args.out}/results.md ({results['total_s']:.0f} s)", flush=True)
    return 1 if problems else 0


def one_line(result: dict[str, Any]) -> str:
    if "error" in result:
        return "worker failed"
    ours = result["engines"]["ours"]
    ranked = ours["ranked"]["all"]
    mentions = result["mentions"]["find"]["all"]
    return (
        f"build {ours['build_s']:.1f} s, ranked p50/p95 {ranked['p50']:.2f}/{ranked['p95']:.2f} ms, "
        f"mentions p50/p95 {mentions['p50']:.2f}/{mentions['p95']:.2f} ms, "
        f"mismatches {len(result['exactness']['mismatches']) + len(result['mention_exactness']['mismatches'])}"
    )


if __name__ == "__main__":
    sys.exit(main())
