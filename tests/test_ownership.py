"""The library is the operator's: the bundled reports seed a new library only, REPORTBOT_REPORTS_DIR is checked
before anything is ingested, and reports can be deleted. Through the CLI (CliRunner, real SQLite files)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import cli
from fakebotapi import running_fake_bot_api
from retrieval import Library, Segmenter, Store
from retrieval.ingest import ingest_at_start
from tests.botharness import ADMIN, running_bot
from tests.support import REPORTS

BUNDLED = sorted(p.name for p in REPORTS.glob("*.txt"))
OWN_REPORT = "本单位工作汇报\n一、主要做法\n我们推进双报到工作，落实河长制巡河。\n二、存在问题\n基层力量薄弱。\n"


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("REPORTBOT_DB", str(tmp_path / "lib.db"))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.delenv("REPORTBOT_REPORTS_DIR", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env; and the working folder must never be ingested
    (tmp_path / "stray.txt").write_text("工作目录里的文件\n不是报告。\n", encoding="utf-8")
    return CliRunner()


def invoke(runner: CliRunner, *args: str, code: int = 0, stdin: str = "") -> Result:
    result = runner.invoke(cli, list(args), input=stdin, obj={})
    assert result.exit_code == code, result.output
    return result


def sources(runner: CliRunner) -> list[str]:
    """The reports' files by id (the listing itself is newest first)."""
    listing = [json.loads(line) for line in invoke(runner, "reports", "--json").output.splitlines()]
    return [r["source"] for r in sorted(listing, key=lambda r: int(r["id"]))]


def own_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "own"
    folder.mkdir(exist_ok=True)
    (folder / "本单位汇报.txt").write_text(OWN_REPORT, encoding="utf-8")
    return folder


def owner(db: Path) -> str | None:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = 'library_owner'").fetchone()
    return None if row is None else str(row[0])


def test_bundled_reports_seed_a_new_library_and_never_return_after_a_prune(runner: CliRunner, tmp_path: Path) -> None:
    seeded = invoke(runner, "run")  # a new library, no REPORTBOT_REPORTS_DIR: the terminal chat on the bundled reports
    assert "reports: 5 files: 5 ingested, 0 unchanged" in seeded.stderr
    assert sources(runner) == BUNDLED and owner(tmp_path / "lib.db") == "bundled"
    again = invoke(runner, "run")  # still theirs: kept up to date, nothing added twice; a quiet start
    assert sources(runner) == BUNDLED and again.stderr == ""
    pruned = invoke(runner, "ingest", "--prune", str(own_folder(tmp_path)))
    assert [line.split()[0] for line in pruned.output.splitlines()].count("pruned") == 5
    assert owner(tmp_path / "lib.db") == "operator"
    for _ in range(2):
        chat = invoke(runner, "run", stdin="哪些报告提到四下基层\n哪些报告提到双报到\n")
        assert sources(runner) == ["本单位汇报.txt"]
        assert "没有报告提到“四下基层”" in chat.output and "共有 【1】 份报告提到“双报到”" in chat.output


def test_ingesting_your_own_reports_keeps_the_bundled_ones_from_coming_back(runner: CliRunner, tmp_path: Path) -> None:
    invoke(runner, "run")
    invoke(runner, "ingest", str(own_folder(tmp_path)))  # added beside the bundled reports: the library is yours
    invoke(runner, "delete", *[str(i) for i in range(1, 6)])
    invoke(runner, "run")
    assert sources(runner) == ["本单位汇报.txt"]


def test_reports_dir_is_ingested_at_every_start_and_the_bundled_ones_never(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = own_folder(tmp_path)
    monkeypatch.setenv("REPORTBOT_REPORTS_DIR", str(folder))
    invoke(runner, "run")
    assert sources(runner) == ["本单位汇报.txt"]
    (folder / "第二份.txt").write_text("第二份汇报\n一、做法\n推进四下基层。\n", encoding="utf-8")
    invoke(runner, "run")
    assert sources(runner) == ["本单位汇报.txt", "第二份.txt"]
    monkeypatch.delenv("REPORTBOT_REPORTS_DIR")  # unset later: the library is already the operator's
    invoke(runner, "run")
    assert sources(runner) == ["本单位汇报.txt", "第二份.txt"]
    assert invoke(runner, "ingest").output.count("added") == 5  # asked for by name: the bundled reports
    assert len(sources(runner)) == 7


def test_pointing_reports_dir_at_the_bundled_reports_loads_them(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke(runner, "ingest", str(own_folder(tmp_path)))
    monkeypatch.setenv("REPORTBOT_REPORTS_DIR", str(REPORTS))
    invoke(runner, "run")
    assert sources(runner) == ["本单位汇报.txt", *BUNDLED]


@pytest.mark.parametrize("value", ["", "   ", "no-such-folder"])
def test_empty_or_missing_reports_dir_stops_start_up_with_one_line(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("REPORTBOT_REPORTS_DIR", value)
    for command in (["run"], ["ingest"]):
        result = invoke(runner, *command, code=1)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and "REPORTBOT_REPORTS_DIR" in lines[0], result.output
    monkeypatch.delenv("REPORTBOT_REPORTS_DIR")
    # nothing was ingested, the working folder least of all: not even a database was made (stats reads read-only)
    assert "no database at" in invoke(runner, "stats", code=1).output


def test_an_empty_path_argument_is_not_the_working_folder(runner: CliRunner) -> None:
    result = invoke(runner, "ingest", "", code=2)
    assert "empty path" in result.output
    assert "no database at" in invoke(runner, "stats", code=1).output  # nothing ingested, nothing made


def test_a_library_from_before_the_rule_is_decided_by_what_it_holds(runner: CliRunner, tmp_path: Path) -> None:
    db = tmp_path / "lib.db"
    invoke(runner, "ingest", str(own_folder(tmp_path)))
    with sqlite3.connect(db) as conn:  # as an older version left it: no record of whose it is
        conn.execute("DELETE FROM meta WHERE key = 'library_owner'")
    invoke(runner, "run")
    assert sources(runner) == ["本单位汇报.txt"] and owner(db) == "operator"

    db.unlink()
    invoke(runner, "ingest", str(REPORTS))  # the bundled reports, by name: whose the library is stays open
    assert owner(db) is None
    invoke(runner, "run")
    assert sources(runner) == BUNDLED and owner(db) == "bundled"


async def test_an_upload_in_the_chat_makes_the_library_the_operators(tmp_path: Path, segmenter: Segmenter) -> None:
    library = Library(Store(tmp_path / "lib.db"), segmenter)
    try:
        assert ingest_at_start(library, None, REPORTS) is not None and library.owner() == "bundled"
        async with running_fake_bot_api() as api, running_bot(api, library):
            mark = api.mark()
            api.push_document(OWN_REPORT.encode(), "本单位汇报.txt", ADMIN, ADMIN)
            reply = await api.wait_for("sendMessage", lambda c: c.chat_id == ADMIN, since=mark)
            assert "已添加报告 #6" in reply.text
        assert library.owner() == "operator"
        assert ingest_at_start(library, None, REPORTS) is None  # the next start loads nothing bundled
    finally:
        library.store.close()
