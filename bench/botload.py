"""The bot under Telegram's real limit: N passages, questions arriving as a Poisson stream (30 a second for 60 s by
default), then a burst of 100 at once, through the real HTTP stack.

The bot runs as its own process (`reportbot run`, as deployed) against the fake Bot API server on 127.0.0.1
(fakebotapi/) run by this process. Latency is from the moment a question is queued for the bot's long poll to the
sendMessage that answers it, as the fake server records it. A question with no answer 30 s after the last one was
asked is lost. The burst's drain rate is its 100 answers over the time from queueing them to the last answer.

The questions (seeded): the benchmark's ranked questions and its mention questions ("哪些报告提到…"), drawn
uniformly; 90% from private chats of 400 users, 10% addressed to the bot (@name) in 20 groups by the same users, so
each user asks a few questions a minute, under the deployed per-user rate limit (which stays as deployed), and a
group's questions queue behind each other as the bot handles one update per chat at a time. The burst: 100 new
users at once, each in their own private chat.

Send pacing: the target is judged with pacing off (REPORTBOT_PACE_SENDS=false). Pacing is PTB's AIORateLimiter at
Telegram's 30 messages a second, a queue served exactly as fast as this stream arrives on average: with Poisson
arrivals at that rate its wait grows without bound over the minute whatever the bot does, and on Telegram it is
Telegram's limit, not the bot, that would set that wait. The bot as deployed (pacing on) is measured in the same run
and reported beside it. The same stream and burst are measured for bench/floorbot.py, python-telegram-bot replying
with a fixed text and doing nothing else: the floor for any bot built on it.

Run as `python -m bench.botload --tmp DIR [--reports N] [--rate 30] [--seconds 60] [--burst 100]`."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.corpus import MENTION_QUERIES, RANKED_QUERIES, make_segmenter
from bench.system import _reportbot, write_reports

FLOOR_COMMAND = [sys.executable, "-m", "bench.floorbot"]
PRIVATE_USERS = 400
GROUPS = 20
GROUP_SHARE = 0.1
GRACE_S = 30.0  # after the last question: what is not answered by then is lost
BURST_USER = 300_000
ALONE_USER = 90_000


@dataclass(frozen=True)
class Question:
    """One question of the plan: when it arrives (seconds from the start), from whom, where, what."""

    at: float
    chat_id: int
    user_id: int
    text: str
    group: bool


def questions_pool() -> list[str]:
    return [*RANKED_QUERIES, *(f"哪些报告提到{term}" for term in MENTION_QUERIES)]


def stream_plan(rate: float, seconds: float, seed: int) -> list[Question]:
    """Poisson arrivals at `rate` a second for `seconds`: exponential gaps, seeded."""
    rng = random.Random(seed)
    pool = questions_pool()
    plan: list[Question] = []
    at = rng.expovariate(rate)
    while at < seconds:
        user = 200_000 + rng.randrange(PRIVATE_USERS)
        text = rng.choice(pool)
        if rng.random() < GROUP_SHARE:
            plan.append(Question(at, -100_200_000 - rng.randrange(GROUPS), user, text, group=True))
        else:
            plan.append(Question(at, user, user, text, group=False))
        at += rng.expovariate(rate)
    return plan


def _percentiles(latencies_ms: list[float]) -> dict[str, float]:
    if not latencies_ms:
        return {}
    ordered = sorted(latencies_ms)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]

    return {"p50_ms": at(0.5), "p95_ms": at(0.95), "p99_ms": at(0.99), "max_ms": ordered[-1]}


class _Asker:
    """Pushes questions into the fake Bot API and matches them with the answers (a chat's answers come in the order
    of its questions: the bot handles one update per chat at a time)."""

    def __init__(self, api: Any) -> None:
        self.api = api
        self.asked: list[tuple[Question, float]] = []

    def push(self, question: Question) -> None:
        text = f"@{self.api.bot_username} {question.text}" if question.group else question.text
        chat_type = "supergroup" if question.group else "private"
        self.api.push_message(text, question.chat_id, question.user_id, chat_type=chat_type)
        self.asked.append((question, time.perf_counter()))

    def answers(self, since: int) -> list[Any]:
        """The bot's messages to the chats this asker asked in (a late answer to an earlier phase is not one)."""
        chats = {question.chat_id for question, _ in self.asked}
        return [c for c in self.api.calls("sendMessage") if c.seq >= since and c.ok and c.chat_id in chats]

    async def wait(self, since: int, count: int, deadline: float) -> None:
        # poll instead of wait_for_count: its rescans on every new call would make the fake server the bottleneck
        while len(self.answers(since)) < count and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)

    def latencies(self, since: int) -> tuple[list[float], int, float]:
        """Each answered question's latency (ms), how many were lost, and when the last answer came."""
        answered = self.answered(since)
        lost = len(self.asked) - len(answered)
        return [ms for _, ms, _ in answered], lost, max((at for _, _, at in answered), default=0.0)

    def answered(self, since: int) -> list[tuple[Question, float, float]]:
        """The answered questions, each with its latency (ms) and when its answer came."""
        by_chat: dict[int, list[float]] = {}
        for call in self.answers(since):
            by_chat.setdefault(int(call.chat_id or 0), []).append(call.at)
        found = []
        waiting: dict[int, list[float]] = {chat: sorted(times, reverse=True) for chat, times in by_chat.items()}
        for question, asked in self.asked:
            answers = waiting.get(question.chat_id)
            if answers:
                at = answers.pop()
                found.append((question, (at - asked) * 1000, at))
        return found


async def _run(
    command: list[str], db: Path, reports: Path, plan: list[Question], args: argparse.Namespace, *, pace: bool
) -> dict[str, Any]:
    """One bot process against a fresh fake Bot API: a few questions alone, the stream, then the burst."""
    import psutil

    from fakebotapi import running_fake_bot_api

    async with running_fake_bot_api() as api:
        env = {
            **os.environ,
            **api.bot_env(),
            "REPORTBOT_DB": str(db),
            "REPORTBOT_REPORTS_DIR": str(reports),
            "REPORTBOT_DIGEST_TIME": "23:59",
            "REPORTBOT_PACE_SENDS": "true" if pace else "false",
            "REPORTBOT_LOG_LEVEL": "WARNING",
        }
        started_bot = time.perf_counter()
        bot = subprocess.Popen([*command, "run"], env=env, stdin=subprocess.DEVNULL)
        try:
            await api.wait_until_polling(timeout=900)
            startup = time.perf_counter() - started_bot
            pool = questions_pool()
            alone = _Asker(api)
            for i in range(args.alone):
                mark = api.mark()
                alone.push(Question(0.0, ALONE_USER + i, ALONE_USER + i, pool[i % len(pool)], group=False))
                await api.wait_for("sendMessage", since=mark, timeout=60)
            alone_ms, _, _ = alone.latencies(0)

            process = psutil.Process(bot.pid)
            cpu_before = sum(process.cpu_times()[:2])
            stream = _Asker(api)
            mark = api.mark()
            started = time.perf_counter()
            for question in plan:
                delay = started + question.at - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                stream.push(question)
            await stream.wait(mark, len(plan), time.perf_counter() + GRACE_S)
            stream_ms, stream_lost, _ = stream.latencies(mark)
            slowest = sorted(stream.answered(mark), key=lambda found: -found[1])[:10]
            cpu = sum(process.cpu_times()[:2]) - cpu_before

            burst = _Asker(api)
            mark = api.mark()
            burst_started = time.perf_counter()
            for i in range(args.burst):
                burst.push(Question(0.0, BURST_USER + i, BURST_USER + i, pool[i % len(pool)], group=False))
            await burst.wait(mark, args.burst, time.perf_counter() + GRACE_S + args.burst / 10)
            burst_ms, burst_lost, burst_last = burst.latencies(mark)
        finally:
            bot.terminate()
            # waited for off the loop: the fake server on this loop must answer the bot's last getUpdates as it stops
            try:
                await asyncio.to_thread(bot.wait, 30)
            except subprocess.TimeoutExpired:
                bot.kill()
                await asyncio.to_thread(bot.wait)
    offered = len(plan) / plan[-1].at if plan else 0.0
    drain_s = burst_last - burst_started
    return {
        "paced": pace,
        "bot_startup_s": startup,
        "alone": _percentiles(alone_ms),
        "stream": {
            "questions": len(plan),
            "answered": len(stream_ms),
            "lost": stream_lost,
            "offered_per_s": offered,
            "cpu_ms_per_answer": cpu * 1000 / max(1, len(stream_ms)),
            # where the tail comes from: the slowest answers, when their questions were asked
            "slowest": [{"ms": ms, "at_s": q.at, "question": q.text} for q, ms, _ in slowest],
            **_percentiles(stream_ms),
        },
        "burst": {
            "questions": args.burst,
            "answered": len(burst_ms),
            "lost": burst_lost,
            "drain_s": drain_s,
            "answers_per_s": len(burst_ms) / drain_s if drain_s > 0 else 0.0,
            **_percentiles(burst_ms),
        },
    }


def _library(tmp: Path, count: int) -> tuple[Path, Path, dict[str, Any]]:
    """The synthetic library of `count` reports in `tmp` (reused when it is already there), its report folder and
    how it was built."""
    from retrieval import Library, Store
    from retrieval.ingest import ingest_paths

    tmp.mkdir(parents=True, exist_ok=True)
    reports, db = tmp / "reports", tmp / "botload.db"
    index_dir = Path(f"{db}.index")  # where `reportbot run` looks for a saved index, as open_library() sets it
    built = tmp / "botload.json"
    if built.exists() and db.exists():
        made: dict[str, Any] = json.loads(built.read_text(encoding="utf-8"))
        if made.get("reports") == count:
            return db, reports, made
    chars = write_reports(reports, count)
    for stale in (db, index_dir / "key", built):
        stale.unlink(missing_ok=True)
    library = Library(Store(db), make_segmenter(), index_dir=index_dir)
    t = time.perf_counter()
    assert ingest_paths(library, [reports]).ok
    made = {
        "reports": count,
        "ingest_s": time.perf_counter() - t,
        "ingest_chars": chars,
        "passages": library.stats()["passages"],
    }
    library.save_index()
    library.store.close()
    built.write_text(json.dumps(made), encoding="utf-8")
    return db, reports, made


def write_outputs(result: dict[str, Any], out: Path) -> None:
    """stream.json and stream.md: this run alone, with the machine it ran on (make bench puts the same section in
    results.md)."""
    from bench.report import bot_section, bot_targets
    from bench.run import machine

    result = {"machine": machine(), **result}  # a result read back keeps the machine it was measured on
    out.mkdir(parents=True, exist_ok=True)
    (out / "stream.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    m = result["machine"]
    lines = [
        "# The bot under Telegram's real limit",
        "",
        f"Generated by `python -m bench.botload --out` on {m['cpu']}, {m['cores_logical']} logical cores,"
        f" {m['ram_gb']} GB RAM, Python {m['python']}; {m['date']}. The machine's 1-minute load average was"
        f" {result['load_before']:.1f} before the run and {result['load_after']:.1f} after it"
        + (
            ": other work shared the cores, so these numbers are not the quiet machine's."
            if max(result["load_before"], result["load_after"]) > 1
            else "."
        ),
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
        *(f"| {target} | {measured} | {verdict} |" for target, measured, verdict in bot_targets(result)),
        *bot_section(result)[2:],
        "",
    ]
    (out / "stream.md").write_text("\n".join(lines), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tmp", type=Path, required=True, help="a library made here before is reused")
    parser.add_argument("--reports", type=int, default=25_000, help="synthetic reports of ~40 passages each")
    parser.add_argument("--rate", type=float, default=30.0, help="questions a second, on average")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the stream lasts")
    parser.add_argument("--burst", type=int, default=100, help="questions at once after the stream")
    parser.add_argument("--alone", type=int, default=20, help="questions asked one at a time first")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--no-floor", action="store_true", help="skip the do-nothing bot (bench/floorbot.py)")
    parser.add_argument("--no-paced", action="store_true", help="skip the bot with send pacing on")
    parser.add_argument("--out", type=Path, help="also write stream.json and stream.md (the report's section) here")
    args = parser.parse_args()
    db, reports, made = _library(args.tmp, args.reports)
    plan = stream_plan(args.rate, args.seconds, args.seed)
    command = os.environ.get("BOTLOAD_COMMAND", "").split() or _reportbot()
    result: dict[str, Any] = {
        **made,
        "rate": args.rate,
        "seconds": args.seconds,
        "seed": args.seed,
        "users": PRIVATE_USERS,
        "groups": GROUPS,
        "group_share": GROUP_SHARE,
        "cores": os.cpu_count(),
        "load_before": os.getloadavg()[0],
    }
    result.update(asyncio.run(_run(command, db, reports, plan, args, pace=False)))
    if not args.no_paced:
        result["as_deployed"] = asyncio.run(_run(command, db, reports, plan, args, pace=True))
    if not args.no_floor:
        result["floor"] = asyncio.run(_run(FLOOR_COMMAND, db, reports, plan, args, pace=False))
    result["load_after"] = os.getloadavg()[0]
    if args.out is not None:
        write_outputs(result, args.out)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
