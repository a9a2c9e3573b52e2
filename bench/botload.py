"""Bot under load: N passages, 500 questions arriving at once through the real HTTP stack.

The bot runs as its own process (`reportbot run`, as deployed, sends not paced) against a fake Bot API server
on 127.0.0.1 (tests/fakebotapi.py) run by this process; latency is from the moment the questions are queued to
the sendMessage that answers each one. Run as `python -m bench.botload --tmp DIR [--reports N] [--questions 500]`.
"""

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


async def _load(db: Path, reports: Path, questions: list[str], pool: int) -> dict[str, Any]:
    from tests.fakebotapi import running_fake_bot_api

    async with running_fake_bot_api() as api:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": api.token,
            "TELEGRAM_BASE_URL": api.base_url,
            "TELEGRAM_BASE_FILE_URL": api.base_file_url,
            "REPORTBOT_DB": str(db),
            "REPORTBOT_REPORTS_DIR": str(reports),
            "REPORTBOT_RATE_LIMIT": "10000",
            "REPORTBOT_DIGEST_TIME": "23:59",
            "REPORTBOT_PACE_SENDS": "false",
            "REPORTBOT_CONNECTION_POOL": str(pool),
            "REPORTBOT_LOG_LEVEL": "WARNING",
        }
        started_bot = time.perf_counter()
        command = os.environ.get("BOTLOAD_COMMAND", "").split() or _reportbot()
        bot = subprocess.Popen([*command, "run"], env=env, stdin=subprocess.DEVNULL)
        try:
            await api.wait_until_polling(timeout=600)
            startup = time.perf_counter() - started_bot
            chats = [100_000 + i for i in range(len(questions))]
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
    latencies = sorted((arrived[c] - started) * 1000 for c in chats)
    return {
        "questions": len(questions),
        "p50_ms": statistics.median(latencies),
        "p95_ms": latencies[int(0.95 * (len(latencies) - 1))],
        "max_ms": latencies[-1],
        "total_s": total,
        "answers_per_s": len(questions) / total,
        "bot_startup_s": startup,
        "connection_pool": pool,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tmp", type=Path, required=True)
    parser.add_argument("--reports", type=int, default=2500, help="synthetic reports of ~40 passages each")
    parser.add_argument("--questions", type=int, default=500)
    parser.add_argument("--pool", type=int, default=32, help="the bot's HTTP connection pool")
    args = parser.parse_args()
    from retrieval import Library, Store
    from retrieval.ingest import ingest_paths

    args.tmp.mkdir(parents=True, exist_ok=True)
    reports = args.tmp / "reports"
    write_reports(reports, args.reports)
    db = args.tmp / "botload.db"
    if db.exists():
        db.unlink()
    library = Library(Store(db), make_segmenter())
    t = time.perf_counter()
    assert ingest_paths(library, [reports]).ok
    ingest_s = time.perf_counter() - t
    passages = library.stats()["passages"]
    library.store.close()
    pool = [*RANKED_QUERIES, *(f"哪些报告提到{term}" for term in MENTION_QUERIES)]
    questions = [pool[i % len(pool)] for i in range(args.questions)]
    result = asyncio.run(_load(db, reports, questions, args.pool))
    result.update(passages=passages, ingest_s=ingest_s)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
