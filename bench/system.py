"""Whole-system measurements: cold start of `reportbot ask`, and ingest throughput of report files.

Run as `python -m bench.system cold|ingest ...`; each prints one JSON object. The orchestrator (bench/run.py)
calls these in subprocesses so nothing is cached between measurements.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.corpus import REPORTS, ROOT, CorpusGenerator, make_segmenter

# a ranked question, so the first answer loads the index (a part question such as 下一步工作打算是什么 reads only the
# store, and its JSON has no passages: the cold start read it as a failed answer)
COLD_QUESTION = "如何推动理论学习走深走实"


def _reportbot() -> list[str]:
    script = Path(sys.executable).with_name("reportbot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def cold_start(tmp: Path, runs: int) -> dict[str, Any]:
    """Wall time of `reportbot ask QUESTION --json` on the bundled corpus with a prebuilt database: from process
    start to the answer on its stdout (the command flushes each answer as it is printed), and to the process's exit
    (the interpreter's teardown comes after the answer)."""
    tmp.mkdir(parents=True, exist_ok=True)
    db = tmp / "cold.db"
    if db.exists():
        db.unlink()
    env = {**os.environ, "REPORTBOT_DB": str(db), "REPORTBOT_REPORTS_DIR": str(REPORTS)}
    subprocess.run([*_reportbot(), "ingest", str(REPORTS)], env=env, check=True, capture_output=True, cwd=tmp)
    times: list[float] = []
    exits: list[float] = []
    for _ in range(runs):
        t = time.perf_counter()
        with subprocess.Popen(
            [*_reportbot(), "ask", COLD_QUESTION, "--json"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            cwd=tmp,
        ) as proc:
            assert proc.stdout is not None and proc.stderr is not None
            line = proc.stdout.readline()
            times.append(time.perf_counter() - t)
            rest, errors = proc.communicate()
            exits.append(time.perf_counter() - t)
        try:
            answered = bool(json.loads(line)["passages"])
        except (ValueError, KeyError):
            answered = False
        if proc.returncode != 0 or not answered or rest.strip():
            return {"error": errors[-2000:] or "no passages in the answer"}
    try:
        split = phases(db)
    except (subprocess.CalledProcessError, ValueError, IndexError):
        split = {}
    return {
        "runs_s": times,
        "median_s": statistics.median(times),
        "min_s": min(times),
        "exit_runs_s": exits,
        "exit_median_s": statistics.median(exits),
        "phases": split,
    }


_PHASES = """
import json, sys, time
t0 = time.perf_counter()
import bot.cli
from retrieval import LibrarySettings, open_library
t1 = time.perf_counter()
library = open_library(LibrarySettings(REPORTBOT_DB=sys.argv[1]))
t2 = time.perf_counter()
answer = library.ask(sys.argv[2])
t3 = time.perf_counter()
assert answer.passages
print(json.dumps({"imports_s": t1 - t0, "open_library_s": t2 - t1, "first_answer_s": t3 - t2}))
"""


def phases(db: Path) -> dict[str, float]:
    """Where a cold start's time goes, in a fresh interpreter: imports, opening the library, the first answer."""
    proc = subprocess.run(
        [sys.executable, "-c", _PHASES, str(db), COLD_QUESTION], capture_output=True, text=True, cwd=ROOT, check=True
    )
    result: dict[str, float] = json.loads(proc.stdout.splitlines()[-1])
    return result


def write_reports(directory: Path, count: int, seed: int = 7) -> int:
    """`count` synthetic report files (title, headings, paragraphs of generated sentences); total characters."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    generator = CorpusGenerator(make_segmenter(), seed=seed)
    passages = next(iter(generator.batches(count * 40, batch=count * 40)))[0]
    total = 0
    at = 0
    numerals = "一二三四五六七八九"
    for r in range(count):
        lines = [f"第{r + 1}号单位主题教育工作情况汇报"]
        for h in range(3):
            lines.append(f"{numerals[h]}、{passages[at][:14].rstrip('，。；')}")
            for _ in range(4):
                lines.append("".join(passages[at : at + 3]))
                at += 3
            at += 1
        text = "\n".join(lines) + "\n"
        total += len(text)
        (directory / f"report_{r:05d}.txt").write_text(text, encoding="utf-8")
    return total


def ingest(directory: Path, db: Path) -> dict[str, Any]:
    """Characters per second through Library ingest, and what normalising and segmenting alone cost."""
    from retrieval import Library, Store
    from retrieval.extract import read_report_file
    from retrieval.ingest import ingest_paths
    from retrieval.normalize import normalize

    segmenter = make_segmenter()
    files = sorted(directory.glob("*.txt"))
    chars = sum(len(p.read_text(encoding="utf-8")) for p in files)
    if db.exists():
        db.unlink()
    library = Library(Store(db), segmenter)
    t = time.perf_counter()
    summary = ingest_paths(library, [directory])
    seconds = time.perf_counter() - t
    assert summary.ok, [str(f) for f in summary.failures]
    lines = [line for p in files for line in read_report_file(p).lines]
    t = time.perf_counter()
    normalized = [normalize(line) for line in lines]
    normalize_s = time.perf_counter() - t
    t = time.perf_counter()
    for text in normalized:
        segmenter.terms(text, normalized=True)
    terms_s = time.perf_counter() - t
    t = time.perf_counter()
    for text in normalized:
        segmenter.raw_tokens(text)
    rjieba_s = time.perf_counter() - t
    line_chars = sum(len(x) for x in lines)
    library.store.close()
    return {
        "files": len(files),
        "chars": chars,
        "seconds": seconds,
        "chars_per_s": chars / seconds,
        "normalize_chars_per_s": line_chars / normalize_s,
        "terms_chars_per_s": line_chars / terms_s,
        "rjieba_chars_per_s": line_chars / rjieba_s,
        "normalize_share": normalize_s / seconds,
        "terms_share": terms_s / seconds,
        "workers": os.cpu_count(),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["cold", "ingest"])
    parser.add_argument("--tmp", type=Path)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--files", type=int, default=100)
    args = parser.parse_args()
    if args.what == "cold":
        result: Any = cold_start(args.tmp, args.runs)
    else:
        reports = args.tmp / "reports"
        write_reports(reports, args.files)
        result = ingest(reports, args.tmp / "ingest.db")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
