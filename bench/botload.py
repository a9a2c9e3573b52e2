"""Bot under load: N passages, questions one at a time, then 500 arriving at once, through the real HTTP stack.

The bot runs as its own process (`reportbot run`, as deployed, sends not paced) against a fake Bot API server
on 127.0.0.1 (fakebotapi/) run by this process; latency is from the moment a question is queued to the
sendMessage that answers it. The same is measured for bench/floorbot.py, python-telegram-bot replying with a fixed
text and doing nothing else: what the framework itself costs here, the floor for any bot built on it.
Run as `python -m bench.botload --tmp DIR [--reports N] [--questions 500]`."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.corpus import MENTION_QUERIES, RANKED_QUERIES, make_segmenter
from bench.system import _reportbot, write_reports

FLOOR_COMMAND = [sys.executable, "-m", "bench.floorbot"]


def _percentiles(latencies_ms: list[float]) -> dict[str, float]:
    ordered = sorted(latencies_ms)
    return {
        "p50_ms": statistics.median(ordered),
        "p95_ms": ordered[int(0.95 * (len(ordered) - 1))],
        "max_ms": ordered[-1],
    }


async def _load(command: list[str], db: Path, reports: Path, questions: list[str], pool: int, alone: int) -> Any:
    """Run one bot process against a fresh fake Bot API: `alone` questions one at a time, then all at once."""
    import psutil

    from fakebotapi import running_fake_bot_api

    async with running_fake_bot_api() as api:
        env = {
            **os.environ,
            **api.bot_env(),
            "REPORTBOT_DB": str(db),
            "REPORTBOT_REPORTS_DIR": str(reports),
            "REPORTBOT_RATE_LIMIT": "10000",
            "REPORTBOT_DIGEST_TIME": "23:59",
            "REPORTBOT_PACE_SENDS": "false",
            "REPORTBOT_CONNECTION_POOL": str(pool),
            "REPORTBOT_LOG_LEVEL": "WARNING",
        }
        started_bot = time.perf_counter()
        bot = subprocess.Popen([*command, "run"], env=env, stdin=subprocess.DEVNULL)
        try:
            await api.wait_until_polling(timeout=900)
            startup = time.perf_counter() - started_bot
            one_by_one = []
            for i, question in enumerate(questions[:alone]):
                mark = api.mark()
                asked = time.perf_counter()
                api.push_message(question, 90_000 + i, 90_000 + i)
                answer = await api.wait_for("sendMessage", since=mark, timeout=60)
                one_by_one.append((answer.at - asked) * 1000)
            chats = [100_000 + i for i in range(len(questions))]
            process = psutil.Process(bot.pid)
            cpu_before = sum(process.cpu_times()[:2])
            mark = api.mark()
            started = time.perf_counter()
            for chat, question in zip(chats, questions, strict=True):
                api.push_message(question, chat, chat)
            # poll instead of wait_for_count: its rescans on every call would make the fake server the bottleneck
            deadline = started + 900
            while len(sends := [c for c in api.calls("sendMessage") if c.seq >= mark]) < len(chats):
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"{len(sends)} of {len(chats)} questions answered")
                await asyncio.sleep(0.05)
            total = max(c.at for c in sends) - started
            cpu = sum(process.cpu_times()[:2]) - cpu_before
        finally:
            bot.terminate()
            try:
                bot.wait(timeout=30)
            except subprocess.TimeoutExpired:
                bot.kill()
                bot.wait()
    arrived: dict[int, float] = {}
    for call in sends:
        arrived.setdefault(int(call.chat_id or 0), call.at)
    return {
        "questions": len(questions),
        **_percentiles([(arrived[c] - started) * 1000 for c in chats]),
        "total_s": total,
        "answers_per_s": len(questions) / total,
        "cpu_ms_per_answer": cpu * 1000 / len(questions),
        "alone": _percentiles(one_by_one),
        "bot_startup_s": startup,
        "connection_pool": pool,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tmp", type=Path, required=True)
    parser.add_argument("--reports", type=int, default=2500, help="synthetic reports of ~40 passages each")
    parser.add_argument("--questions", type=int, default=500)
    parser.add_argument("--pool", type=int, default=16, help="the bot's HTTP connection pool")
    parser.add_argument("--alone", type=int, default=50, help="questions asked one at a time first")
    parser.add_argument("--no-floor", action="store_true", help="skip the do-nothing bot (bench/floorbot.py)")
    args = parser.parse_args()
    from retrieval import Library, Store
    from retrieval.ingest import ingest_paths

    args.tmp.mkdir(parents=True, exist_ok=True)
    reports = args.tmp / "reports"
    chars = write_reports(reports, args.reports)
    db = args.tmp / "botload.db"
    index_dir = Path(f"{db}.index")  # where `reportbot run` looks for a saved index, as open_library() sets it
    for stale in (db, index_dir / "key"):
        stale.unlink(missing_ok=True)
    library = Library(Store(db), make_segmenter(), index_dir=index_dir)
    t = time.perf_counter()
    assert ingest_paths(library, [reports]).ok
    ingest_s = time.perf_counter() - t
    passages = library.stats()["passages"]
    library.store.close()
    pool = [*RANKED_QUERIES, *(f"哪些报告提到{term}" for term in MENTION_QUERIES)]
    questions = [pool[i % len(pool)] for i in range(args.questions)]
    command = os.environ.get("BOTLOAD_COMMAND", "").split() or _reportbot()
    result = asyncio.run(_load(command, db, reports, questions, args.pool, args.alone))
    result.update(passages=passages, ingest_s=ingest_s, ingest_chars=chars)
    if not args.no_floor:
        result["floor"] = asyncio.run(_load(FLOOR_COMMAND, db, reports, questions, args.pool, args.alone))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
