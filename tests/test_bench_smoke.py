"""`bench/run.py --quick` runs end to end: it exits 0 (every answer equal to rank-bm25's and to a plain scan) and
writes its result files. Numbers are never asserted: they depend on the machine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT


@pytest.mark.timeout(600)
def test_quick_benchmark_runs_and_writes_its_results(tmp_path: Path) -> None:
    out = tmp_path / "bench"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--bot", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=590,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (out / "results.md").read_text(encoding="utf-8").startswith("# Retrieval benchmark")
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    (size,) = results["sizes"]
    assert size["n"] == 1000
    assert size["exactness"]["checked"] > 0 and not size["exactness"]["mismatches"]
    # scoped questions (one report, one year) were timed and checked against rank-bm25 restricted to the scope
    assert size["exactness"]["scoped_checked"] > 0
    assert {"one report", "one year"} <= set(size["engines"]["ours"]["scoped"])
    assert "### Scoped questions" in (out / "results.md").read_text(encoding="utf-8")
    assert size["mention_exactness"]["checked"] > 0 and not size["mention_exactness"]["mismatches"]
    assert size["serve"]["same_answers"]
    assert size["add"]["visible"]
    # the stream bench ran the bot (pacing off, then as deployed) and the do-nothing floor bot through the same
    # seeded stream and burst, every question answered; the targets table has its rows
    bot = results["system"]["bot"]
    for run in (bot, bot["as_deployed"], bot["floor"]):
        assert run["stream"]["questions"] == bot["stream"]["questions"] > 0
        assert run["stream"]["answered"] == run["stream"]["questions"] and run["stream"]["lost"] == 0
        assert run["burst"]["answered"] == run["burst"]["questions"] == 10 and run["burst"]["answers_per_s"] > 0
    report = (out / "results.md").read_text(encoding="utf-8")
    assert "## The bot under Telegram's real limit" in report
    assert "Poisson stream of 30 questions/s for 60 s: p99 <= 250 ms" in report
    assert "500 questions at once" not in report
    # the stream bench's own files, written from the same results
    from bench.botload import write_outputs

    write_outputs(bot, tmp_path / "stream")
    assert json.loads((tmp_path / "stream" / "stream.json").read_text(encoding="utf-8"))["stream"] == bot["stream"]
    assert "| floor |" in (tmp_path / "stream" / "stream.md").read_text(encoding="utf-8")


def test_cold_start_answers_its_question(tmp_path: Path) -> None:
    """The cold start measurement gets a ranked answer with passages (a part question once made it fail silently)."""
    from bench.system import cold_start

    result = cold_start(tmp_path, runs=1)
    assert "error" not in result, result
    assert result["median_s"] > 0
