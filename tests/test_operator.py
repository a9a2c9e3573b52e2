"""An unlucky operator: the database deleted or replaced under a running bot, a health check on the wrong file,
two bots on one database, a restore under a running bot. Real `reportbot` subprocesses against the fake Bot API
on 127.0.0.1 (each in its own process group, killed and reaped on the way out)."""

from __future__ import annotations

import asyncio
import shutil
import socket
import sqlite3
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from click.testing import CliRunner

import retrieval.library as library_module
from bot.cli import cli
from bot.jobs import SAVE_INDEX_JOB
from fakebotapi import running_fake_bot_api
from retrieval import Library, Segmenter, Store
from retrieval.ingest import ingest_paths
from tests.botharness import ADMIN, running_bot
from tests.support import REPORTS
from tests.test_kill import reportbot

pytestmark = pytest.mark.timeout(60)
USER = 1001


def _stats(db: Path, **env: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["stats"], obj={}, env={"REPORTBOT_DB": str(db), **env})
    return result.exit_code, result.output


def test_the_health_check_fails_on_a_missing_empty_or_foreign_file_and_creates_none(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    code, output = _stats(missing)
    assert code == 1 and "no database at" in output and not missing.exists()
    empty = tmp_path / "empty.db"
    empty.touch()
    code, output = _stats(empty)
    assert code == 1 and "empty" in output and empty.stat().st_size == 0
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE notes (x)")
    conn.close()
    before = foreign.read_bytes()
    code, output = _stats(foreign)
    assert code == 1 and "not a reportbot database" in output and foreign.read_bytes() == before
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not sqlite at all" * 100)
    assert _stats(garbage)[0] == 1


def test_the_health_check_reads_counts_without_building_the_library(library: Library, tmp_path: Path) -> None:
    # Building the library (segmenter, index: 10 s and 2.5 GB at 218k passages) needs the dictionary; the health
    # check reads counts from the file alone, so it answers even without one.
    db = Path(library.store.path)
    before = db.read_bytes()
    code, output = _stats(db, REPORTBOT_DICT=str(tmp_path / "no-dictionary.txt"))
    assert code == 0 and output.startswith("报告 5 份"), output
    assert db.read_bytes() == before


async def test_one_bot_per_database_no_restore_under_it_and_a_replaced_file_stops_it(
    library: Library, tmp_path: Path
) -> None:
    db = Path(library.store.path)
    library.store.close()
    spare = tmp_path / "spare.db"
    shutil.copy(db, spare)
    empty = tmp_path / "no-reports"
    empty.mkdir()
    async with running_fake_bot_api() as api:
        settings = {**api.bot_env(), "REPORTBOT_REPORTS_DIR": str(empty), "REPORTBOT_LOG_LEVEL": "INFO"}
        first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
        with reportbot(["run"], db=db, cwd=tmp_path, log=first_log, **settings) as first:
            await api.wait_until_polling(timeout=30)
            # a second bot on the same database refuses to start, with one line
            with reportbot(["run"], db=db, cwd=tmp_path, log=second_log, **settings) as second:
                assert await asyncio.to_thread(second.wait, 30) == 1
            refused = second_log.read_text()
            assert "another reportbot bot" in refused and "is running on" in refused
            assert "Traceback" not in refused and api.token not in refused
            # restore under it is refused and changes nothing
            result = CliRunner().invoke(cli, ["restore", str(spare)], obj={}, env={"REPORTBOT_DB": str(db)})
            assert result.exit_code == 1 and "stop it before restoring" in result.output
            # the file replaced under the running bot: a write is refused, not confirmed, and the bot stops
            shutil.copy(spare, tmp_path / "moved-in.db")
            (tmp_path / "moved-in.db").replace(db)
            mark = api.mark()
            api.push_message("/subscribe", USER, USER)
            reply = await api.wait_for("sendMessage", lambda c: c.chat_id == USER, timeout=15, since=mark)
            assert "无法写入" in reply.text and "replaced" in reply.text
            assert await asyncio.to_thread(first.wait, 30) == 1
        log = first_log.read_text()
        assert "was deleted or replaced while the bot ran; restart the bot" in log.splitlines()[-1]
        assert api.token not in log
    # the bot is gone: the lock with it, and restore works
    result = CliRunner().invoke(cli, ["restore", str(spare)], obj={}, env={"REPORTBOT_DB": str(db)})
    assert result.exit_code == 0, result.output


async def test_the_bot_saves_its_index_after_an_upload_not_only_at_shutdown(
    tmp_path: Path, segmenter: Segmenter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(library_module, "SAVE_INDEX_MIN_PASSAGES", 1)  # the bundled reports count as large
    db = tmp_path / "reports.db"
    library = Library(Store(db), segmenter, index_dir=tmp_path / "reports.db.index")
    assert ingest_paths(library, [REPORTS]).ok
    key = tmp_path / "reports.db.index" / "key"
    saved = key.read_text()
    async with running_fake_bot_api() as api, running_bot(api, library) as application:
        mark = api.mark()
        api.push_document("新报告\n一、做法\n推进第一项工作。\n".encode(), "new.txt", ADMIN, ADMIN)
        await api.wait_for("sendMessage", lambda c: c.chat_id == ADMIN, since=mark)
        assert application.job_queue is not None
        jobs = application.job_queue.get_jobs_by_name(SAVE_INDEX_JOB)
        assert len(jobs) == 1  # debounced: one pending save however many uploads came
        await jobs[0].run(application)  # what the job queue does SAVE_INDEX_AFTER_S later
        assert key.read_text() != saved and key.read_text() == library.store.passage_key()
    library.store.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("fault", ["revoked token", "unreachable Bot API"])
async def test_start_up_failures_are_one_line_and_never_show_the_token(
    fault: str, library: Library, tmp_path: Path
) -> None:
    db = Path(library.store.path)
    library.store.close()
    empty = tmp_path / "no-reports"
    empty.mkdir()
    async with running_fake_bot_api() as api:
        settings = {**api.bot_env(), "REPORTBOT_REPORTS_DIR": str(empty), "REPORTBOT_LOG_LEVEL": "DEBUG"}
        if fault == "revoked token":
            api.fail_next("*", status=401, description="Unauthorized", count=1000)
        else:
            closed = f"http://127.0.0.1:{_free_port()}"
            settings |= {"TELEGRAM_BASE_URL": f"{closed}/bot", "TELEGRAM_BASE_FILE_URL": f"{closed}/file/bot"}
        log = tmp_path / "bot.log"
        with reportbot(["run"], db=db, cwd=tmp_path, log=log, **settings) as bot:
            assert await asyncio.to_thread(bot.wait, 45) == 1
        printed = log.read_text()
        secret = api.token.split(":", 1)[1]
    lines = [line for line in printed.splitlines() if " DEBUG " not in line]
    assert api.token not in printed and secret not in printed and quote(secret) not in printed
    assert "Traceback" not in printed and len(lines) <= 2, printed[-3000:]
    expected = "Telegram rejected TELEGRAM_BOT_TOKEN" if fault == "revoked token" else "cannot reach the Telegram"
    assert lines[-1].startswith("Error: ") and expected in lines[-1]


def test_an_empty_token_stops_start_up_with_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["run"], obj={}, env={"TELEGRAM_BOT_TOKEN": "", "REPORTBOT_DB": str(tmp_path / "r.db")}, input=""
    )
    assert result.exit_code != 0 and "TELEGRAM_BOT_TOKEN" in result.output and "empty" in result.output
    assert not (tmp_path / "r.db").exists()


class _ForwardProxy:
    """A plain HTTP forward proxy on 127.0.0.1 (what HTTPS_PROXY/HTTP_PROXY point at): takes absolute-form requests,
    sends each to its target and relays the answer; records what went through it."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, version = lines[0].split(" ")
                headers = [line for line in lines[1:] if line and not line.lower().startswith(("proxy-", "connection"))]
                length = next((int(h.split(":", 1)[1]) for h in headers if h.lower().startswith("content-length")), 0)
                body = await reader.readexactly(length)
                url = urlsplit(target)
                self.requests.append(f"{method} {url.path.rsplit('/', 1)[-1]}")
                up_reader, up_writer = await asyncio.open_connection(url.hostname, url.port)
                path = url.path + (f"?{url.query}" if url.query else "")
                request = [f"{method} {path} {version}", *headers, "Connection: close", "", ""]
                up_writer.write("\r\n".join(request).encode("latin-1") + body)
                await up_writer.drain()
                answer = await up_reader.read()
                up_writer.close()
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()


async def test_the_bot_reaches_telegram_through_an_http_proxy(library: Library, tmp_path: Path) -> None:
    db = Path(library.store.path)
    library.store.close()
    empty = tmp_path / "no-reports"
    empty.mkdir()
    proxy = _ForwardProxy()
    port = await proxy.start()
    try:
        async with running_fake_bot_api() as api:
            settings = {
                **api.bot_env(),
                "REPORTBOT_REPORTS_DIR": str(empty),
                "HTTP_PROXY": f"http://127.0.0.1:{port}",
                "HTTPS_PROXY": f"http://127.0.0.1:{port}",
                "NO_PROXY": "",
                "no_proxy": "",
            }
            with reportbot(["run"], db=db, cwd=tmp_path, log=tmp_path / "bot.log", **settings):
                await api.wait_until_polling(timeout=30)
                api.push_message("哪些报告提到四下基层", USER, USER)
                answer = await api.wait_for("sendMessage", lambda c: c.chat_id == USER, timeout=20)
    finally:
        await proxy.stop()
    assert "四下基层" in (answer.text or "")
    assert "POST getMe" in proxy.requests and "POST sendMessage" in proxy.requests  # every call went through it
