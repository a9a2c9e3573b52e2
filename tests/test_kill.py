"""SIGKILL, with real subprocesses: `reportbot ingest` of a big report killed while it writes, and the bot killed
in the middle of a digest run against a fake Bot API that this test runs on 127.0.0.1.

Every subprocess runs in its own process group and is killed and reaped in `finally`, whatever happens.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import time as dt_time
from pathlib import Path

import pytest

from fakebotapi import Call, FakeBotApi, running_fake_bot_api
from retrieval import Library, NoMentionAnswer, Segmenter, Store
from retrieval.extract import extract
from retrieval.ingest import ingest_bytes, ingest_paths
from retrieval.structure import build_structure, cut_passages
from tests.support import REPORTS, ROOT

pytestmark = pytest.mark.timeout(20)

BIG = "big.txt"
OLD_MARK, NEW_MARK = "旧版标记", "新版标记"  # in every paragraph of the old and the new version respectively
BIG_BYTES = 2_000_000


# --- helpers -------------------------------------------------------------------------------------------------


def _env(db: Path, **extra: str) -> dict[str, str]:
    """The environment of a `reportbot` subprocess: this checkout, this database, nothing from the caller's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPORTBOT_", "TELEGRAM_"))}
    env.update({"REPORTBOT_DB": str(db), "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **extra})
    return env


@contextmanager
def reportbot(args: list[str], *, db: Path, cwd: Path, log: Path, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """`reportbot ARGS` in its own process group; killed (with anything it started) and reaped on the way out."""
    with log.open("ab") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from bot.cli import main; main()", *args],
            cwd=cwd,
            env=_env(db, **env),
            stdin=subprocess.DEVNULL,
            stdout=stderr,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        kill(proc)


def kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process group (if still there) and reap the process."""
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def big_report(mark: str) -> str:
    """A multi-MB report: the bundled reports' paragraphs, shuffled, each carrying `mark`, under headings."""
    lines = [line.strip() for p in sorted(REPORTS.glob("*.txt")) for line in p.read_text("utf-8").splitlines()]
    body = [line.replace("##paidbegin##", "").replace("##paidend##", "") for line in lines if len(line) > 40]
    rng = random.Random(7)
    out, size, i = ["大报告压力测试工作汇报"], 0, 0
    while size < BIG_BYTES:
        if i % 25 == 0:
            out.append(f"{'一二三四五六七八九十'[(i // 25) % 10]}、第{i // 25 + 1}部分")
        line = f"{rng.choice(body)}（{mark}第{i}段）"
        out.append(line)
        size += len(line.encode())
        i += 1
    return "\n".join(out) + "\n"


@dataclass(frozen=True)
class Version:
    """What the store must hold for one version of the big report, computed without the store."""

    sha256: str
    title: str
    paragraphs: int
    sections: int
    passages: int
    paragraphs_fingerprint: str


def expected_version(data: bytes, segmenter: Segmenter) -> Version:
    extracted = extract(BIG, data)
    structure = build_structure(extracted.lines, segmenter, declared_title=extracted.title)
    texts = [p.text for p in structure.paragraphs]
    return Version(
        extracted.sha256,
        structure.title,
        len(structure.paragraphs),
        len(structure.sections),
        sum(len(cut_passages(p.number, p.text)) for p in structure.paragraphs),
        hashlib.sha256("\n".join(texts).encode()).hexdigest(),
    )


@dataclass(frozen=True)
class IngestFixture:
    db: Path  # the bundled reports and the old version of big.txt, closed
    old: bytes
    new: bytes
    versions: dict[str, Version]  # by sha256
    others: dict[str, tuple[int, int, int]]  # the bundled reports: source -> (paragraphs, sections, passages)


@pytest.fixture(scope="module")
def ingest_fixture(tmp_path_factory: pytest.TempPathFactory, segmenter: Segmenter) -> IngestFixture:
    folder = tmp_path_factory.mktemp("kill-ingest")
    old, new = big_report(OLD_MARK).encode(), big_report(NEW_MARK).encode()
    (folder / BIG).write_bytes(old)
    db = folder / "reports.db"
    library = Library(Store(db), segmenter)
    assert ingest_paths(library, [REPORTS, folder / BIG]).ok
    library.store.close()
    versions = {v.sha256: v for v in (expected_version(old, segmenter), expected_version(new, segmenter))}
    conn = sqlite3.connect(db)
    others = {source: _report_rows(conn, source) for (source,) in conn.execute("SELECT source FROM reports")}
    conn.close()
    del others[BIG]
    return IngestFixture(db, old, new, versions, others)


def _report_rows(conn: sqlite3.Connection, source: str) -> tuple[int, int, int]:
    (report_id,) = conn.execute("SELECT id FROM reports WHERE source = ?", (source,)).fetchone()
    return tuple(  # type: ignore[return-value]
        conn.execute(f"SELECT count(*) FROM {table} WHERE report_id = ?", (report_id,)).fetchone()[0]
        for table in ("paragraphs", "sections", "passages")
    )


def wal_size(db: Path) -> int:
    try:
        return os.path.getsize(f"{db}-wal")
    except FileNotFoundError:
        return 0


def check_whole(db: Path, fixture: IngestFixture, segmenter: Segmenter) -> Version:
    """The database holds one whole version of big.txt, untouched other reports, nothing orphaned; returns it."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        row = conn.execute(
            "SELECT id, sha256, title, paragraph_count, passage_count FROM reports WHERE source = ?", (BIG,)
        ).fetchone()
        assert row is not None, "the report vanished"
        report_id, sha256, title, paragraph_count, passage_count = row
        assert sha256 in fixture.versions, "a third version?"
        version = fixture.versions[sha256]
        assert (title, paragraph_count, passage_count) == (version.title, version.paragraphs, version.passages)
        assert _report_rows(conn, BIG) == (version.paragraphs, version.sections, version.passages)
        rows = conn.execute("SELECT text FROM paragraphs WHERE report_id = ? ORDER BY number", (report_id,))
        texts = [text for (text,) in rows]
        assert hashlib.sha256("\n".join(texts).encode()).hexdigest() == version.paragraphs_fingerprint
        for source, rows in fixture.others.items():
            assert _report_rows(conn, source) == rows, source
        for table in ("paragraphs", "sections", "passages"):
            orphans = conn.execute(
                f"SELECT count(*) FROM {table} WHERE report_id NOT IN (SELECT id FROM reports)"
            ).fetchone()[0]
            assert orphans == 0, table
        dangling = conn.execute(
            "SELECT count(*) FROM passages p LEFT JOIN paragraphs g ON g.report_id = p.report_id"
            ' AND g.number = p.paragraph WHERE g.number IS NULL OR p."end" > length(g.text)'
        ).fetchone()[0]
        assert dangling == 0
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM reports), (SELECT sum(paragraph_count) FROM reports),"
            " (SELECT count(*) FROM paragraphs), (SELECT sum(passage_count) FROM reports),"
            " (SELECT count(*) FROM passages)"
        ).fetchone()
        assert counts[0] == len(fixture.others) + 1 and counts[1] == counts[2] and counts[3] == counts[4]
    finally:
        conn.close()
    # what a restarted bot sees: the library loads and answers from exactly one version
    library = Library(Store(db), segmenter)
    try:
        is_old = version.sha256 == hashlib.sha256(fixture.old).hexdigest()
        present, absent = (OLD_MARK, NEW_MARK) if is_old else (NEW_MARK, OLD_MARK)
        found = library.ask(f"哪些报告提到{present}")
        assert [m.report.source for m in found.reports] == [BIG] and found.reports[0].mentions > 1000
        assert isinstance(library.ask(f"哪些报告提到{absent}"), NoMentionAnswer)
        assert library.search("四下基层").passages
    finally:
        library.store.close()
    return version


# --- ingest killed while it writes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "seed"),
    [("early", 1), ("midway", 2), ("any time after", 3), ("any time after", 4)],
)
def test_ingest_killed_while_writing_leaves_old_or_new_never_a_mix(
    ingest_fixture: IngestFixture, segmenter: Segmenter, tmp_path: Path, when: str, seed: int
) -> None:
    db = tmp_path / "reports.db"
    shutil.copyfile(ingest_fixture.db, db)
    (tmp_path / BIG).write_bytes(ingest_fixture.new)
    rng = random.Random(seed)
    wal_at_kill = 0
    with reportbot(["ingest", BIG], db=db, cwd=tmp_path, log=tmp_path / "ingest.log") as proc:
        deadline = time.monotonic() + 15
        # "started writing": the transaction spills pages into the WAL (the commit comes megabytes later)
        threshold = {"early": 1 << 20, "midway": 3 << 20}.get(when, 1)
        while wal_size(db) < threshold and proc.poll() is None:
            assert time.monotonic() < deadline, "the ingest never started writing"
            time.sleep(0.0005)
        if when == "any time after":
            time.sleep(rng.uniform(0, 0.6))  # anywhere in the write, the commit, the index update or the close
        wal_at_kill = wal_size(db)
        kill(proc)  # (a late kill may find it finished)
        assert proc.returncode in (-signal.SIGKILL, 0)
    version = check_whole(db, ingest_fixture, segmenter)
    old_sha = hashlib.sha256(ingest_fixture.old).hexdigest()
    if when == "early":  # killed with a torn transaction in the WAL: the old version must be what is left
        assert wal_at_kill >= 1 << 20 and version.sha256 == old_sha
    # and the next ingest simply completes the job
    library = Library(Store(db), segmenter)
    try:
        result = ingest_bytes(library, BIG, ingest_fixture.new)
        assert result.status in ("replaced", "unchanged")
    finally:
        library.store.close()
    assert check_whole(db, ingest_fixture, segmenter).sha256 != old_sha


# --- the bot killed in the middle of a digest run ------------------------------------------------------------

SUBSCRIBERS = list(range(9001, 9031))
SEND_DELAY = 0.12  # every sendMessage takes this long: a digest run of 30 chats takes ~4 s


@pytest.fixture
def digest_db(tmp_path: Path, segmenter: Segmenter) -> Path:
    db = tmp_path / "reports.db"
    library = Library(Store(db), segmenter)
    assert ingest_paths(library, [REPORTS]).ok
    for chat in SUBSCRIBERS:  # nothing new since they subscribed: one message each, the passage of the day
        library.store.subscribe(
            chat, "zh", last_report_seq=library.store.max_report_seq(), last_passage_id=library.store.max_passage_id()
        )
    library.store.close()
    return db


def digest_days(db: Path) -> dict[int, str | None]:
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("SELECT chat_id, last_digest_day FROM subscribers"))
    finally:
        conn.close()


def digests(api: FakeBotApi) -> list[Call]:
    """Digest messages Telegram executed (the chat sees them), including those whose response never arrived."""
    return [c for c in api.calls("sendMessage") if c.ok and "每日摘要" in (c.text or "")]


@pytest.mark.parametrize("seed", [11, 12])
async def test_bot_killed_mid_digest_sends_each_subscriber_the_digest_once_after_restart(
    digest_db: Path, tmp_path: Path, seed: int
) -> None:
    """Exactly once, except for the one chat whose message was in flight when the process died: Telegram may
    have executed that send (the user sees it) before the bot could record it, and the restart sends it again.
    Sends are sequential, so that window holds at most one chat."""
    if datetime.now(UTC).time() > dt_time(23, 59, 40):
        pytest.skip("too close to midnight UTC: the two runs must share one digest day")
    empty = tmp_path / "no-reports"
    empty.mkdir()
    kill_after = random.Random(seed).randint(3, len(SUBSCRIBERS) - 5)
    today = datetime.now(UTC).date().isoformat()
    async with running_fake_bot_api() as api:
        settings = {
            **api.bot_env(),
            "REPORTBOT_REPORTS_DIR": str(empty),
            "REPORTBOT_TZ": "UTC",
            "REPORTBOT_DIGEST_TIME": "00:00",  # always past: the bot catches up at start
            "REPORTBOT_LOG_LEVEL": "INFO",
        }
        api.delay_next("sendMessage", SEND_DELAY, count=10_000)
        log = tmp_path / "bot.log"
        with reportbot(["run"], db=digest_db, cwd=tmp_path, log=log, **settings) as first:
            await api.wait_for_count("sendMessage", kill_after, timeout=15, predicate=lambda c: c.ok)
            os.killpg(first.pid, signal.SIGKILL)
            await asyncio.to_thread(first.wait, 10)
        await asyncio.sleep(SEND_DELAY * 3)  # a send held by "Telegram" when the bot died is executed now
        before_restart = digests(api)
        assert kill_after <= len(before_restart) <= kill_after + 1
        with reportbot(["run"], db=digest_db, cwd=tmp_path, log=log, **settings) as second:
            deadline = time.monotonic() + 15
            while any(day != today for day in digest_days(digest_db).values()):
                assert second.poll() is None, log.read_text(errors="replace")[-2000:]
                assert time.monotonic() < deadline, "the restarted bot did not finish the digest run"
                await asyncio.sleep(0.1)
            second.send_signal(signal.SIGTERM)  # a clean stop this time
            assert await asyncio.to_thread(second.wait, 10) == 0
        sent = digests(api)
    copies = {chat: sum(1 for c in sent if c.chat_id == chat) for chat in SUBSCRIBERS}
    assert all(n >= 1 for n in copies.values()), "a subscriber never got the digest"
    twice = [chat for chat, n in copies.items() if n > 1]
    assert len(twice) <= 1 and all(n <= 2 for n in copies.values()), copies
    if twice:  # only the chat in flight at the kill: the last one "Telegram" executed before the restart
        assert twice == [before_restart[-1].chat_id]
    assert api.token not in log.read_text(errors="replace")
    assert api.token.split(":")[1] not in log.read_text(errors="replace")
