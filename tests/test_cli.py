"""The `reportbot` command line, driven through click's CliRunner on a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.terminal import answer_text
from retrieval import Library
from tests.support import REPORTS


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("REPORTBOT_DB", str(tmp_path / "cli.db"))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    return CliRunner()


def _ingested(runner: CliRunner) -> CliRunner:
    result = runner.invoke(cli, ["ingest", str(REPORTS)], obj={})
    assert result.exit_code == 0, result.output
    return runner


def test_every_command_has_help() -> None:
    assert isinstance(cli, click.Group)
    for name, command in cli.commands.items():
        assert command.help, name
        assert CliRunner().invoke(cli, [name, "--help"], obj={}).exit_code == 0


def test_ingest_is_idempotent_by_content(runner: CliRunner) -> None:
    first = runner.invoke(cli, ["ingest", str(REPORTS)], obj={})
    assert first.exit_code == 0 and first.output.count("added") == 5
    second = runner.invoke(cli, ["ingest", "--json", str(REPORTS)], obj={})
    *files, tally = (json.loads(line) for line in second.output.splitlines())
    assert [line["status"] for line in files] == ["unchanged"] * 5
    assert tally == {
        "tally": {
            "files": 5,
            "ingested": 0,
            "unchanged": 5,
            "duplicate": 0,
            "unsupported": 0,
            "ignored": 0,
            "failed": 0,
            "pruned": 0,
        }
    }


def test_reports_show_and_paragraph(runner: CliRunner) -> None:
    _ingested(runner)
    listing = [json.loads(line) for line in runner.invoke(cli, ["reports", "--json"], obj={}).output.splitlines()]
    # newest first: the one dated report, then the undated ones by id
    names = sorted(p.name for p in REPORTS.glob("*.txt"))
    assert [r["source"] for r in listing] == [names[2], *names[:2], *names[3:]]
    assert listing[0]["title"] == "2023年主题教育开展情况汇报" and listing[0]["date"] == "2023"
    assert [r["unit"] for r in listing] == ["*县委", "县政府办公室", "**区", "X党组", None]
    outline = json.loads(runner.invoke(cli, ["show", "4", "--json"], obj={}).output)
    assert [s["heading"] for s in outline["sections"] if s["level"] == 1] == [
        "一、主题教育开展情况",
        "二、主要做法及成效",
        "三、存在问题",
        "四、下一步工作计划",
    ]
    paragraph = json.loads(runner.invoke(cli, ["show", "2", "9", "--json"], obj={}).output)
    assert "全县生产总值达到364.2亿元" in paragraph["text"]
    missing = runner.invoke(cli, ["show", "99"], obj={})
    assert missing.exit_code != 0 and "没有编号为 99 的报告" in missing.output
    assert runner.invoke(cli, ["show", "1", "999"], obj={}).exit_code != 0


def test_ask_json_shape(runner: CliRunner) -> None:
    _ingested(runner)
    result = runner.invoke(cli, ["ask", "--json", "哪些报告提到四下基层", "全县生产总值达到多少？"], obj={})
    mention, search = (json.loads(line) for line in result.output.splitlines())
    assert mention["intent"] == "mention" and mention["term"] == "四下基层"
    assert [r["source"] for r in mention["reports"]] == ["000_201c88f9c3d4f927.txt", "001_21f5e1b268e4dc66.txt"]
    assert all(set(r) >= {"id", "title", "source", "mentions"} for r in mention["reports"])
    assert all("四下基层" in p["text"] for p in mention["passages"])
    assert search["intent"] == "search" and search["term"] is None
    assert set(search["passages"][0]) >= {"report_id", "title", "source", "section", "paragraph", "text", "score"}
    assert "364.2亿元" in search["passages"][0]["text"] and len(search["passages"][0]["text"]) < 400


def test_ask_reads_questions_from_stdin(runner: CliRunner) -> None:
    _ingested(runner)
    result = runner.invoke(cli, ["ask", "--json"], input="哪些报告提到双报到\n\n主题党日\n", obj={})
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["query"] for line in lines] == ["哪些报告提到双报到", "主题党日"]


def test_ask_prints_what_the_terminal_chat_shows(runner: CliRunner, corpus_library: Library) -> None:
    """`reportbot ask` renders through the terminal chat's renderer: the same text for an answer of one page, every
    page for a longer one."""
    _ingested(runner)
    for question in ("哪些报告提到四下基层", "哪些报告提到量子计算机", "2019年哪些报告提到四下基层"):
        printed = runner.invoke(cli, ["ask", question], obj={}).output
        assert printed == answer_text(corpus_library, question) + "\n\n", question
    several = runner.invoke(cli, ["ask", "哪些报告提到主题教育"], obj={}).output  # 5 reports, 5 per page: one page
    assert several.count("【#") == 5 and "第 1/" not in several
    searched = runner.invoke(cli, ["ask", "--limit", "9", "全县生产总值达到多少"], obj={}).output
    assert "第 1/3 页" in searched and "第 3/3 页" in searched  # 4 passages a page, every page printed


def test_bad_questions_are_answered_plainly(runner: CliRunner) -> None:
    _ingested(runner)
    for question, expected in [
        (" ", "请输入问题"),
        ("问" * 10_000, "问题太长"),
        ("😀", "没有找到"),
        ("<b>", "没有找到"),
        ("'; DROP TABLE reports; --", ""),
    ]:
        result = runner.invoke(cli, ["ask", question], obj={})
        assert result.exit_code == 0 and expected in result.output
    assert "5" in runner.invoke(cli, ["stats"], obj={}).output


def test_bad_files_fail_loudly_but_the_rest_is_ingested(runner: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text("好报告标题\n一、工作\n我们推进四下基层工作。\n", encoding="utf-16")
    (folder / "junk.txt").write_bytes(bytes(range(256)) * 10)
    (folder / "empty.md").write_bytes(b"")
    (folder / "broken.docx").write_bytes(b"PK\x03\x04nothing")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n garbage")
    result = runner.invoke(cli, ["ingest", str(folder)], obj={})
    assert result.exit_code == 1
    assert "added" in result.stdout and "good.txt" in result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert sorted(line.split(":")[1].strip() for line in errors) == [
        "broken.docx",
        "broken.pdf",
        "empty.md",
        "junk.txt",
    ]


def test_prune_drops_reports_whose_files_are_gone(runner: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for path in sorted(REPORTS.glob("*.txt"))[:2]:
        (folder / path.name).write_bytes(path.read_bytes())
    assert runner.invoke(cli, ["ingest", str(folder)], obj={}).exit_code == 0
    (folder / sorted(REPORTS.glob("*.txt"))[0].name).unlink()
    result = runner.invoke(cli, ["ingest", "--prune", str(folder)], obj={})
    assert "pruned" in result.output
    assert len(runner.invoke(cli, ["reports", "--json"], obj={}).output.splitlines()) == 1


def test_backup_and_restore(runner: CliRunner, tmp_path: Path) -> None:
    _ingested(runner)
    backup = tmp_path / "backup.db"
    assert runner.invoke(cli, ["backup", str(backup)], obj={}).exit_code == 0
    (tmp_path / "cli.db").unlink()
    assert runner.invoke(cli, ["restore", str(backup)], obj={}).exit_code == 0
    assert "报告 5 份" in runner.invoke(cli, ["stats"], obj={}).output
    not_a_db = tmp_path / "notes.txt"
    not_a_db.write_text("hello")
    assert runner.invoke(cli, ["restore", str(not_a_db)], obj={}).exit_code != 0


def test_run_without_token_chats_in_the_terminal(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPORTBOT_REPORTS_DIR", str(REPORTS))
    result = runner.invoke(cli, ["run"], input="哪些报告提到四下基层\n全县生产总值达到多少\n", obj={})
    assert result.exit_code == 0, result.output
    assert "共有 【2】 份报告提到“四下基层”" in result.output
    assert "【全县生产总值达到364.2亿元】" in result.output


def test_malformed_settings_stop_with_one_line(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in [
        ("REPORTBOT_ADMINS", "alice"),
        ("REPORTBOT_TZ", "Mars/Base"),
        ("REPORTBOT_DIGEST_TIME", "25:00"),
        ("TELEGRAM_BOT_TOKEN", "not-a-token"),
    ]:
        monkeypatch.setenv(name, value)
        result = runner.invoke(cli, ["run"], input="", obj={})
        assert result.exit_code != 0 and name in result.output and len(result.output.strip().splitlines()) == 1
        monkeypatch.delenv(name)


def test_terminal_chat_knows_the_browsing_commands(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPORTBOT_REPORTS_DIR", str(REPORTS))
    lines = "/reports\n/reports 2023\n/report 3\n/report 99\n/mentions 双报到\n/nope\n"
    result = runner.invoke(cli, ["run"], input=lines, obj={})
    assert result.exit_code == 0, result.output
    assert "共 5 份报告" in result.output and "一、抓细谋划部署" in result.output
    assert "符合“2023”的报告共 1 份：\n#3 《2023年主题教育开展情况汇报》 · 2023 · *县委 · 11段" in result.output
    assert "没有编号为 99 的报告" in result.output
    assert "共有 【2】 份报告提到“双报到”" in result.output
    assert "没有这个命令" in result.output


def test_terminal_chat_reports_filter_and_order_as_the_bot(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPORTBOT_REPORTS_DIR", str(REPORTS))
    result = runner.invoke(cli, ["run"], input="/reports\n/reports 2023\n/reports **区\n/reports 2019\n", obj={})
    assert result.exit_code == 0, result.output
    listing, year, unit, none = (
        [line for line in block.splitlines() if not line.startswith("reports:")]  # the ingest tally on stderr
        for block in result.output.strip().split("\n\n")
    )
    assert listing[1].startswith("#3 《2023年主题教育开展情况汇报》")  # newest first, as /reports
    assert year[1:] == [listing[1]] and "2023" in year[0]
    assert [line.split()[0] for line in unit[1:]] == ["#2"] and "**区" in unit[0]
    assert len(none) == 1 and "2019" in none[0]


def test_reports_filter_and_edit(runner: CliRunner) -> None:
    _ingested(runner)
    assert runner.invoke(cli, ["reports", "2023"], obj={}).output.startswith(
        "#3\t《2023年主题教育开展情况汇报》\t2023\t*县委"
    )
    assert [line.split("\t")[0] for line in runner.invoke(cli, ["reports", "**区"], obj={}).output.splitlines()] == [
        "#2"
    ]
    edited = runner.invoke(cli, ["edit", "4", "--date", "2023年10月31日", "--unit", "X局党组", "--json"], obj={})
    assert edited.exit_code == 0, edited.output
    assert json.loads(edited.output).items() >= {"id": 4, "date": "2023-10-31", "unit": "X局党组"}.items()
    listing = [json.loads(line) for line in runner.invoke(cli, ["reports", "--json"], obj={}).output.splitlines()]
    assert [r["id"] for r in listing][:2] == [4, 3]  # 2023-10-31 is newer than 2023
    # the correction outlives ingesting the file again, changed (written to another folder under its name)
    changed = runner.invoke(cli, ["ingest", "--json", str(_changed_copy(runner, "003_76e823c6e0fb73eb.txt"))], obj={})
    assert json.loads(changed.output.splitlines()[0])["status"] == "replaced"
    shown = json.loads(runner.invoke(cli, ["show", "4", "--json"], obj={}).output)
    assert (shown["date"], shown["unit"]) == ("2023-10-31", "X局党组")
    reset = runner.invoke(cli, ["edit", "4", "--reset", "unit", "--json"], obj={})
    assert json.loads(reset.output)["unit"] == "X党组"
    bad = runner.invoke(cli, ["edit", "4", "--date", "2023-02-30"], obj={})
    assert bad.exit_code != 0 and "日期无法识别" in bad.output
    assert runner.invoke(cli, ["edit", "4"], obj={}).exit_code != 0
    assert "没有编号为 99 的报告" in runner.invoke(cli, ["edit", "99", "--title", "x"], obj={}).output


def _changed_copy(runner: CliRunner, name: str) -> Path:
    folder = Path("changed")
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(
        (REPORTS / name).read_text(encoding="utf-8") + "\n补充一段新的内容。\n", encoding="utf-8"
    )
    return folder / name


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"], obj={})
    assert result.exit_code == 0 and result.output.startswith("reportbot ")
    assert result.output.split()[1][0].isdigit()  # the installed distribution's version
