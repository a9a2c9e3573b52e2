"""The daily digest: new reports with summaries, watched terms, passage of the day; exactly once per chat a day."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import replace
from datetime import date, datetime, time, timedelta

from bot.jobs import DIGEST_GRACE_S, DIGEST_JOB, MISSED_DIGEST_JOB, WARM_JOB, deliver_digests
from bot.services import services_of
from fakebotapi import FakeBotApi
from retrieval import Library
from retrieval.digest import build_digest
from retrieval.ingest import ingest_bytes
from retrieval.subscriptions import Subscriptions
from tests.botharness import ADMIN, OTHER, USER, ask, bot_settings, running_bot

NEW_REPORT = (
    "乡镇调研工作阶段性总结\n一、主要做法\n我们组织干部深入田间地头开展调查研究，形成调研报告12篇。"
    "围绕乡村振兴和产业发展，推动解决群众反映的问题35个。\n二、存在问题\n部分干部调研不够深入，成果转化不够。\n"
).encode()


def test_new_report_summary_and_key_terms(library: Library) -> None:
    seq, last = library.store.max_report_seq(), library.store.max_passage_id()
    ingest_bytes(library, "township.txt", NEW_REPORT)
    digest = build_digest(
        library, day=date(2026, 11, 23), last_report_seq=seq, last_passage_id=last, watches=["调查研究", "不存在的词"]
    )
    assert [item.report.title for item in digest.new_reports] == ["乡镇调研工作阶段性总结"]
    summary = digest.new_reports[0].summary
    assert 2 <= len(summary) <= 3 and all(sentence in NEW_REPORT.decode() for sentence in summary)
    assert digest.new_reports[0].key_terms
    assert [term for term, _ in digest.watch_hits] == ["调查研究"]
    assert digest.passage_of_the_day is None


def test_nothing_new_gives_a_different_passage_each_day(library: Library) -> None:
    seq, last = library.store.max_report_seq(), library.store.max_passage_id()
    days = [date(2026, 11, 20) + timedelta(days=i) for i in range(5)]
    picks = [build_digest(library, day=d, last_report_seq=seq, last_passage_id=last, watches=[]) for d in days]
    ids = [p.passage_of_the_day.passage_id for p in picks if p.passage_of_the_day]
    assert len(ids) == 5 and all(a != b for a, b in itertools.pairwise(ids))


def test_subscriptions_digest_for_a_chat_from_where_its_last_one_ended(library: Library) -> None:
    """The one digest /digest and the daily run send: new since the chat's last digest, its watches' new
    mentions; a chat that is not subscribed gets the passage of the day, never the whole archive."""
    subscriptions = Subscriptions(library)
    assert subscriptions.watch(USER, "调查研究", "zh", limit=2) == "added"  # watching subscribes
    assert subscriptions.watch(USER, "调查研究", "zh", limit=2) == "already"
    assert subscriptions.watch(USER, "四下基层", "zh", limit=2) == "added"
    assert subscriptions.watch(USER, "三会一课", "zh", limit=2) == "full"
    assert set(subscriptions.watches(USER)) == {"调查研究", "四下基层"}
    [sub] = subscriptions.subscribers()
    assert sub.chat_id == USER and sub.language == "zh" and not sub.had_digest(date(2026, 11, 23))
    ingest_bytes(library, "township.txt", NEW_REPORT)
    day = date(2026, 11, 23)
    digest = subscriptions.digest_for(USER, day)
    assert [i.report.title for i in digest.new_reports] == ["乡镇调研工作阶段性总结"]
    assert [term for term, _ in digest.watch_hits] == ["调查研究"]
    stranger = subscriptions.digest_for(OTHER, day)
    assert not stranger.new_reports and not stranger.watch_hits and stranger.passage_of_the_day is not None
    subscriptions.mark_sent(USER, digest)
    assert subscriptions.subscriber(USER) == replace(
        sub, last_digest_day="2026-11-23", last_report_seq=digest.report_seq, last_passage_id=digest.passage_id
    )
    later = subscriptions.digest_for(USER, day + timedelta(days=1))
    assert not later.new_reports and not later.watch_hits and later.passage_of_the_day is not None
    assert subscriptions.unwatch(USER, "调查研究") and not subscriptions.unwatch(USER, "调查研究")
    assert subscriptions.unsubscribe(USER) and subscriptions.subscriber(USER) is None


async def test_slash_digest_and_the_daily_run_send_the_same_digest(api: FakeBotApi, library: Library) -> None:
    """Both ask Subscriptions.digest_for: what /digest shows a subscriber is what the daily run then sends it."""
    async with running_bot(api, library) as app:
        await ask(api, "/watch 调查研究")
        mark = api.mark()
        api.push_document(NEW_REPORT, "township.txt", ADMIN, ADMIN)
        await api.wait_for("sendMessage", lambda c: c.chat_id == ADMIN, since=mark)
        asked = await ask(api, "/digest")
        mark = api.mark()
        now = datetime.now(services_of(app).settings.tz)
        assert (await deliver_digests(app.bot, services_of(app), now=now))["sent"] == 1
        [daily] = [c for c in api.calls("sendMessage", chat_id=USER) if c.seq >= mark]
    assert "《乡镇调研工作阶段性总结》" in asked.text and "关注词“调查研究”的新内容" in asked.text
    assert daily.text == asked.text


async def test_digest_goes_to_every_subscriber_once_even_across_restarts(api: FakeBotApi, library: Library) -> None:
    now = datetime(2026, 11, 23, 8, 0)
    async with running_bot(api, library) as app:
        jobs = [job.name for job in app.job_queue.jobs()]  # type: ignore[union-attr]
        # no catch-up run before digest time (the periodic check for a missed digest is always there)
        assert sorted(name for name in jobs if name not in (WARM_JOB, MISSED_DIGEST_JOB)) == [DIGEST_JOB]
        await ask(api, "/subscribe")
        await ask(api, "/watch 调查研究", chat_id=OTHER, user_id=OTHER)  # watching subscribes too
        mark = api.mark()
        api.push_document(NEW_REPORT, "township.txt", ADMIN, ADMIN)
        await api.wait_for("sendMessage", lambda c: c.chat_id == ADMIN, since=mark)
        mark = api.mark()
        outcome = await deliver_digests(app.bot, services_of(app), now=now)
        assert outcome == {"sent": 2, "skipped": 0, "unsubscribed": 0, "failed": 0}
        for chat in (USER, OTHER):
            [digest] = [c for c in api.calls("sendMessage", chat_id=chat) if c.seq >= mark]
            assert "每日摘要" in digest.text and "《乡镇调研工作阶段性总结》" in digest.text
        other = next(c for c in api.calls("sendMessage", chat_id=OTHER) if c.seq >= mark)
        assert "关注词“调查研究”的新内容" in other.text
        assert (await deliver_digests(app.bot, services_of(app), now=now))["skipped"] == 2
    async with running_bot(api, library) as app:  # a restart the same day sends nothing again
        mark = api.mark()
        assert (await deliver_digests(app.bot, services_of(app), now=now))["sent"] == 0
        assert [c for c in api.calls("sendMessage") if c.seq >= mark] == []
        tomorrow = await deliver_digests(app.bot, services_of(app), now=now + timedelta(days=1))
        assert tomorrow["sent"] == 2
        assert "今日一段" in next(c for c in api.calls("sendMessage", chat_id=USER) if c.seq >= mark).text


async def test_blocked_subscriber_is_dropped_and_flood_limits_are_waited_out(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library) as app:
        await ask(api, "/subscribe")
        await ask(api, "/subscribe", chat_id=OTHER, user_id=OTHER)
        api.block_chat(OTHER)
        api.fail_next("sendMessage", status=429, retry_after=1, chat_id=USER)
        mark = api.mark()
        outcome = await deliver_digests(app.bot, services_of(app), now=datetime(2026, 11, 23, 8, 0))
        assert outcome == {"sent": 1, "skipped": 0, "unsubscribed": 1, "failed": 0}
        delivered = [c for c in api.calls("sendMessage", chat_id=USER) if c.seq >= mark and c.response_status == 200]
        assert len(delivered) == 1
    assert [s.chat_id for s in Subscriptions(library).subscribers()] == [USER]


async def test_missed_digest_is_caught_up_after_a_restart(api: FakeBotApi, library: Library) -> None:
    Subscriptions(library).subscribe(USER, "zh", last_report_seq=0, last_passage_id=0)
    settings = bot_settings(api, library.store.path, REPORTBOT_DIGEST_TIME="00:00")  # type: ignore[arg-type]
    async with running_bot(api, library, settings):
        digest = await api.wait_for("sendMessage", lambda c: c.chat_id == USER, timeout=15)
        assert "每日摘要" in digest.text
    sub = Subscriptions(library).subscriber(USER)
    assert sub is not None and sub.had_digest(datetime.now(settings.tz).date())


async def test_the_library_is_warmed_once_in_the_background_at_start(api: FakeBotApi, library: Library) -> None:
    """A one-off job (off the event loop) readies the library for the first question; questions do not wait."""
    async with running_bot(api, library) as app:
        queue = app.job_queue
        assert queue is not None
        for _ in range(200):
            if not queue.get_jobs_by_name(WARM_JOB):
                break
            await asyncio.sleep(0.05)
        assert not queue.get_jobs_by_name(WARM_JOB), "the warm-up job never ran"
        assert "四下基层" in (await ask(api, "哪些报告提到四下基层")).text


async def test_a_running_bot_catches_up_a_missed_digest_the_same_day(api: FakeBotApi, library: Library) -> None:
    # The daily run misfired (the loop stalled past the scheduler's grace): the periodic check delivers it, once.
    settings = bot_settings(api, library.store.path, REPORTBOT_DIGEST_TIME="23:59")  # type: ignore[arg-type]
    async with running_bot(api, library, settings) as app:
        assert app.job_queue is not None
        (daily,) = app.job_queue.get_jobs_by_name(DIGEST_JOB)
        assert daily.job.misfire_grace_time == DIGEST_GRACE_S
        (check,) = app.job_queue.get_jobs_by_name(MISSED_DIGEST_JOB)
        Subscriptions(library).subscribe(USER, "zh", last_report_seq=0, last_passage_id=0)
        await check.run(app)  # before digest time: nothing is due
        assert api.calls("sendMessage", USER) == []
        services_of(app).settings.digest_time = time(0, 0)  # now past digest time, and the daily run never came
        await check.run(app)
        digest = await api.wait_for("sendMessage", lambda c: c.chat_id == USER)
        assert "每日摘要" in digest.text
        sent = len(api.calls("sendMessage", USER))
        await check.run(app)  # the next check finds it delivered
        assert len(api.calls("sendMessage", USER)) == sent


async def test_a_stopping_bot_ends_the_digest_run_between_chats(api: FakeBotApi, library: Library) -> None:
    # SIGTERM during a digest run: PTB marks the application not running, then waits for the job. The run ends
    # after the chat in hand; the others are not marked, so the next start's catch-up sends them theirs, once.
    chats = [9000 + i for i in range(6)]
    for chat in chats:
        Subscriptions(library).subscribe(chat, "zh", last_report_seq=0, last_passage_id=0)
    async with running_bot(api, library) as app:
        sent: list[int] = []

        def running() -> bool:
            sent.append(0)
            return len(sent) <= 2  # the process is told to stop while the third chat is next

        day = datetime(2026, 11, 23, 8, 0)
        first = await deliver_digests(app.bot, services_of(app), now=day, running=running)
        assert first["sent"] == 2
        rest = await deliver_digests(app.bot, services_of(app), now=day)
        assert rest["sent"] == 4 and rest["skipped"] == 2
    assert all(len(api.calls("sendMessage", chat)) >= 1 for chat in chats)
    assert sorted({c.chat_id for c in api.calls("sendMessage") if c.chat_id in chats}) == chats
