"""Shared fixtures: the bundled corpus ingested into a real SQLite file (once per session) and fresh libraries."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from telegram.constants import InlineKeyboardButtonLimit

from bot.cli import cli
from fakebotapi import FakeBotApi, running_fake_bot_api
from retrieval import Library, Segmenter, Store
from retrieval.ingest import ingest_bytes, ingest_paths
from tests.botharness import buttons
from tests.support import DICTIONARY, PROVINCIAL, REPORTS


@pytest.fixture(scope="session")
def segmenter() -> Segmenter:
    """One segmenter for the whole run: the dictionary load is the slow part."""
    return Segmenter(DICTIONARY)


def _shared_library(folder: Path, segmenter: Segmenter, reports: Path, count: int) -> Iterator[Library]:
    """A session's read-only library of every report in `reports` (all `count` of them ingested)."""
    library = Library(Store(folder / "reports.db"), segmenter)
    summary = ingest_paths(library, [reports])
    assert summary.ok and len(summary.results) == count
    yield library
    library.store.close()


@pytest.fixture(scope="session")
def corpus_library(tmp_path_factory: pytest.TempPathFactory, segmenter: Segmenter) -> Iterator[Library]:
    """The bundled reports in a real SQLite file; shared, so tests must not modify it."""
    yield from _shared_library(tmp_path_factory.mktemp("corpus"), segmenter, REPORTS, 5)


@pytest.fixture
def empty_library(tmp_path: Path, segmenter: Segmenter) -> Iterator[Library]:
    """A library of its own on a fresh SQLite file."""
    library = Library(Store(tmp_path / "reports.db"), segmenter)
    yield library
    library.store.close()


@pytest.fixture
def library(tmp_path: Path, segmenter: Segmenter) -> Iterator[Library]:
    """A library of its own holding the bundled reports (safe to modify)."""
    library = Library(Store(tmp_path / "reports.db"), segmenter)
    assert ingest_paths(library, [REPORTS]).ok
    yield library
    library.store.close()


@pytest.fixture(scope="session")
def provincial_library(tmp_path_factory: pytest.TempPathFactory, segmenter: Segmenter) -> Iterator[Library]:
    """The 31 provincial government work reports of 2026 in a real SQLite file; shared, so tests must not modify it."""
    yield from _shared_library(tmp_path_factory.mktemp("provincial"), segmenter, PROVINCIAL, 31)


@pytest.fixture(scope="session")
def provincial_cli_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding reports.db (and its saved index) as `reportbot ingest` of the 31 provincial reports left
    it; the CLI ingest runs once for every CLI test that reads the provincial corpus (use `provincial_cli_db`)."""
    folder = tmp_path_factory.mktemp("provincial-cli")
    result = CliRunner().invoke(cli, ["ingest", str(PROVINCIAL)], env={"REPORTBOT_DB": str(folder / "reports.db")})
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture
def provincial_cli_db(provincial_cli_folder: Path, tmp_path: Path) -> Path:
    """A copy of the CLI-ingested provincial library for this test alone (safe to modify)."""
    folder = shutil.copytree(provincial_cli_folder, tmp_path / "provincial-cli")
    return folder / "reports.db"


def yearly_report(year: int, mentions: int) -> bytes:
    """A small county work report of `year`, dated at its end, mentioning 新质生产力 `mentions` times."""
    return (
        f"{year}年某县人民政府工作报告\n\n某县人民政府\n\n一、工作回顾\n过去一年，我们推进工作。"
        + "发展新质生产力。" * mentions
        + "\n二、存在问题\n一是基础薄弱。二是人才不足。\n三、下一步打算\n继续推进。\n\n某县人民政府\n"
        + f"{year}年1月20日\n"
    ).encode()


@pytest.fixture(scope="session")
def yearly_library(tmp_path_factory: pytest.TempPathFactory, segmenter: Segmenter) -> Iterator[Library]:
    """Four reports of one county, of 2019, 2021, 2022 and 2024 (2, 3 and 1 mentions of 新质生产力 from 2021);
    shared, so tests must not modify it."""
    library = Library(Store(tmp_path_factory.mktemp("yearly") / "reports.db"), segmenter)
    for year, mentions in ((2019, 0), (2021, 2), (2022, 3), (2024, 1)):
        ingest_bytes(library, f"{year}年某县政府工作报告.txt", yearly_report(year, mentions))
    yield library
    library.store.close()


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    """The fake Bot API on 127.0.0.1; afterwards, Telegram would have rejected nothing the bot sent (valid HTML,
    within limits, callback data that fits)."""
    async with running_fake_bot_api() as server:
        yield server
        rejected = [(c.method, c.description) for c in server.calls() if c.response_status == 400]
        assert rejected == []
        for call in server.calls():
            for _, data in buttons(call):
                assert len(data.encode()) <= InlineKeyboardButtonLimit.MAX_CALLBACK_DATA
