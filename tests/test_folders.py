"""Duplicates by text and folder ingest that accounts for every file, through `reportbot ingest` (CliRunner, real
SQLite), the upgrade of an existing library, and an upload through the real bot."""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner, Result

from bot.cli import cli
from fakebotapi import FakeBotApi, running_fake_bot_api
from officefiles import libreoffice_export, word_document
from retrieval import Library, Store
from retrieval.ingest import ingest_bytes, ingest_paths
from retrieval.segment import Segmenter
from retrieval.store import SCHEMA_VERSION
from tests.botharness import ADMIN, running_bot
from tests.support import REPORTS

SOURCE = sorted(REPORTS.glob("*.txt"))[1]  # 主题教育开展情况: 15 paragraphs, headings included
LINES = [line.strip() for line in SOURCE.read_text(encoding="utf-8").splitlines() if line.strip()]


def as_docx(lines: list[str]) -> bytes:
    """The report as Word saves it: one paragraph per line."""
    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("REPORTBOT_DB", str(tmp_path / "lib.db"))
    monkeypatch.delenv("REPORTBOT_REPORTS_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def ingest(runner: CliRunner, *args: str, code: int = 0) -> tuple[Result, list[dict[str, object]], dict[str, int]]:
    result = runner.invoke(cli, ["ingest", "--json", *args], obj={})
    assert result.exit_code == code, result.output
    *lines, last = (json.loads(line) for line in result.stdout.splitlines())
    return result, lines, last["tally"]


def test_the_same_text_in_another_format_or_file_name_is_a_duplicate(runner: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a-汇报.txt").write_text("\n".join(LINES) + "\n", encoding="utf-8")
    (folder / "b-汇报.docx").write_bytes(as_docx(LINES))
    # the same text again: another encoding, a blank line between paragraphs, spaces as a PDF export puts them
    spaced = [line.replace("年", " 年 ") for line in LINES]
    (folder / "c-汇报-副本.txt").write_bytes(("\r\n\r\n".join(spaced) + "\r\n").encode("gb18030"))
    (folder / "d-改过的.txt").write_text("\n".join([*LINES, "附：新增一段不同的内容。"]), encoding="utf-8")
    _, lines, tally = ingest(runner, str(folder))
    assert [(line["source"], line["status"], line["id"]) for line in lines] == [
        ("a-汇报.txt", "added", 1),
        ("b-汇报.docx", "duplicate", 1),
        ("c-汇报-副本.txt", "duplicate", 1),
        ("d-改过的.txt", "added", 2),  # other text: a report of its own
    ]
    assert lines[1]["same_as"] == "a-汇报.txt"
    assert tally["ingested"] == 2 and tally["duplicate"] == 2
    text = runner.invoke(cli, ["ingest", str(folder / "b-汇报.docx")], obj={}).output
    assert "duplicate #1 《主题教育开展情况》 ← b-汇报.docx (same text as a-汇报.txt)" in text
    answer = json.loads(runner.invoke(cli, ["ask", "--json", "哪些报告提到四下基层"], obj={}).output)
    assert [r["source"] for r in answer["reports"]] == ["a-汇报.txt", "d-改过的.txt"]  # never quoted twice


def test_a_report_as_word_and_its_exports_is_ingested_once(runner: CliRunner, tmp_path: Path) -> None:
    """The case of the issue: an office keeps the report as .docx (running header, page numbers) and as the PDF
    and .doc that LibreOffice exports from it, beside the plain text."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "1-汇报.txt").write_bytes(SOURCE.read_bytes())
    word = word_document(LINES[0], LINES[1:])
    (folder / "2-汇报.docx").write_bytes(word)
    for suffix, data in libreoffice_export(word, ["pdf", "doc"]).items():
        (folder / f"3-汇报.{suffix}").write_bytes(data)
    _, lines, tally = ingest(runner, str(folder))
    assert [(line["source"], line["status"], line["id"]) for line in lines] == [
        ("1-汇报.txt", "added", 1),
        ("2-汇报.docx", "duplicate", 1),
        ("3-汇报.doc", "duplicate", 1),
        ("3-汇报.pdf", "duplicate", 1),
    ]
    assert tally["ingested"] == 1 and tally["duplicate"] == 3


def test_a_folder_ingest_accounts_for_every_file(runner: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "办公室共享"
    (folder / "2024" / ".git").mkdir(parents=True)
    (folder / "__MACOSX").mkdir()
    (folder / "报告.txt").write_text("\n".join(LINES), encoding="utf-8")
    (folder / "报告.docx").write_bytes(as_docx(LINES))  # the same report saved as Word: a duplicate
    (folder / "~$报告.docx").write_bytes(b"\x0cAdministrator" + b"\x00" * 150)  # Word's lock file beside it
    (folder / "~WRL0001.tmp").write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
    (folder / ".~lock.报告.docx#").write_text("Administrator,host,01.01.2026 10:00;", encoding="utf-8")
    (folder / "Thumbs.db").write_bytes(b"\x00" * 64)
    (folder / "2024" / "草稿.txt~").write_text("旧稿", encoding="utf-8")
    (folder / "2024" / ".git" / "description.txt").write_text("不是报告", encoding="utf-8")
    (folder / "2024" / "二季度汇报.md").write_text("# 二季度汇报\n## 一、工作\n推进河长制。\n", encoding="utf-8")
    (folder / "2024" / "统计表.xlsx").write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    (folder / "2024" / "安装包.exe").write_bytes(b"MZ" + b"\x00" * 64)
    (folder / "2024" / "坏的.pdf").write_bytes(b"%PDF-1.4\n garbage")

    result, lines, tally = ingest(runner, str(folder), code=1)  # a file that looked like a report failed
    assert tally == {
        "files": 13,
        "ingested": 2,
        "unchanged": 0,
        "duplicate": 1,
        "unsupported": 2,
        "ignored": 7,  # ~$ lock, ~WRL tmp, .~lock, Thumbs.db, backup~, the .git folder, __MACOSX
        "failed": 1,
        "pruned": 0,
    }
    by_status = {(line["status"], line["source"]) for line in lines}
    assert {("unsupported", "统计表.xlsx"), ("unsupported", "安装包.exe"), ("failed", "坏的.pdf")} <= by_status
    unsupported = next(line for line in lines if line["source"] == "统计表.xlsx")
    assert ".xlsx" in str(unsupported["reason"])
    assert [line for line in result.stderr.splitlines() if line.startswith("error:")] == [
        line for line in result.stderr.splitlines() if "坏的.pdf" in line
    ]

    (folder / "2024" / "坏的.pdf").unlink()
    text = runner.invoke(cli, ["ingest", str(folder)], obj={})
    assert text.exit_code == 0, text.output  # unsupported and ignored files are no failure
    assert "unsupported 统计表.xlsx: 不支持的文件类型" in text.output
    assert text.output.strip().splitlines()[-1] == (
        "12 files: 0 ingested, 2 unchanged, 1 duplicate, 2 unsupported, 7 ignored, 0 failed"
    )
    assert "报告 2 份" in runner.invoke(cli, ["stats"], obj={}).output


def test_a_word_lock_file_does_not_fail_the_run(runner: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "报告.docx").write_bytes(as_docx(LINES))
    (folder / "~$报告.docx").write_bytes(b"\x0cAdministrator" + b"\x00" * 150)
    result = runner.invoke(cli, ["ingest", str(folder)], obj={})
    assert result.exit_code == 0 and "error" not in result.output
    assert result.output.strip().splitlines()[-1] == (
        "2 files: 1 ingested, 0 unchanged, 0 duplicate, 0 unsupported, 1 ignored, 0 failed"
    )


def test_an_existing_library_gains_text_fingerprints_in_place(tmp_path: Path, segmenter: Segmenter) -> None:
    db = tmp_path / "reports.db"
    library = Library(Store(db), segmenter)
    assert ingest_paths(library, [REPORTS]).ok
    fingerprints = [r.text_fingerprint for r in library.reports()]
    counts = library.stats()
    library.store.close()
    conn = sqlite3.connect(db)  # as version 3 left it: no text fingerprints
    conn.execute("DROP INDEX reports_text_fingerprint")
    conn.execute("ALTER TABLE reports DROP COLUMN text_fingerprint")
    conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()

    upgraded = Library(Store(db), segmenter)
    try:
        assert upgraded.store.meta("schema_version") == str(SCHEMA_VERSION)
        assert [r.text_fingerprint for r in upgraded.reports()] == fingerprints and all(fingerprints)
        assert upgraded.stats() == counts  # nothing lost
        copy = ingest_bytes(upgraded, "副本.docx", as_docx(LINES))
        assert copy.status == "duplicate" and copy.report.source == SOURCE.name
    finally:
        upgraded.store.close()


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with running_fake_bot_api() as server:
        yield server


async def test_an_upload_of_the_same_text_as_word_is_refused_as_a_duplicate(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library):
        mark = api.mark()
        api.push_document(as_docx(LINES), "主题教育.docx", ADMIN, ADMIN)
        reply = await api.wait_for("sendMessage", lambda c: c.chat_id == ADMIN, since=mark)
    assert "与已有的报告 #2 《主题教育开展情况》 内容相同" in reply.text
    assert library.stats()["reports"] == 5
