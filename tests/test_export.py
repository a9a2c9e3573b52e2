"""Export (导出, `reportbot ask --docx/--xlsx/--csv`): answers as Word documents and mention counts as spreadsheets,
read back with python-docx and openpyxl; the 导出 button through the real bot and the fake Bot API."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import docx
import openpyxl
from click.testing import CliRunner

from bot.cli import cli
from fakebotapi import FakeBotApi, UploadedFile
from retrieval import Library, MentionAnswer
from retrieval.export import answer_docx, complete, counts_csv, counts_xlsx, export_files
from tests.botharness import OTHER, USER, ask, buttons, running_bot
from tests.support import REPORTS


def _texts(data: bytes) -> list[str]:
    return [p.text for p in docx.Document(io.BytesIO(data)).paragraphs]


def test_mention_answer_as_docx_and_spreadsheet(corpus_library: Library) -> None:
    answer = complete(corpus_library, corpus_library.ask("哪些报告提到主题党日", quoted=1))
    assert isinstance(answer, MentionAnswer) and all(m.quote is not None for m in answer.reports)
    document = docx.Document(io.BytesIO(answer_docx(answer)))
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "哪些报告提到主题党日" and "共有2份报告提到“主题党日”。" in texts
    table = document.tables[0]
    rows = [[c.text for c in row.cells] for row in table.rows]
    assert rows[0][0] == "报告编号" and rows[0][-1] == "提及次数"
    assert [(r[0], r[-1]) for r in rows[1:]] == [(str(m.report.id), str(m.mentions)) for m in answer.reports]
    for entry in answer.reports:  # each quote with its source line
        assert entry.quote is not None and entry.quote.text in texts
        assert f"——《{entry.quote.title}》 · {entry.quote.section} · 第{entry.quote.paragraph}段" in texts
    sheet = openpyxl.load_workbook(io.BytesIO(counts_xlsx([answer]))).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("报告编号", "标题", "文件", "日期", "单位", "提及次数")
    assert [(v[0], v[-1]) for v in values[1:]] == [(m.report.id, m.mentions) for m in answer.reports]
    rows_csv = list(csv.reader(io.StringIO(counts_csv([answer]).lstrip("\ufeff"))))
    assert rows_csv[1][0] == "主题党日" and len(rows_csv) == 3


def test_search_and_part_answers_as_docx(corpus_library: Library) -> None:
    search = corpus_library.ask("全县生产总值达到多少")
    texts = _texts(answer_docx(search))
    assert texts[0] == "全县生产总值达到多少" and any("364.2亿元" in t for t in texts)
    part = corpus_library.ask("各单位存在哪些问题")
    texts = _texts(answer_docx(part))
    assert "共有3份报告有“存在问题”部分。" in texts and any("一是自主学习热度不够" in t for t in texts)
    assert texts.count("二、存在问题") == 0  # the part's heading heads its block once
    assert [name for name, _ in export_files(corpus_library, part)] == ["存在问题.docx"]


def test_cli_exports(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"REPORTBOT_DB": str(tmp_path / "r.db")}
    assert runner.invoke(cli, ["ingest", str(REPORTS)], env=env).exit_code == 0
    out = {s: tmp_path / f"a.{s}" for s in ("docx", "xlsx", "csv")}
    result = runner.invoke(
        cli,
        [
            "ask",
            "--docx",
            str(out["docx"]),
            "--xlsx",
            str(out["xlsx"]),
            "--csv",
            str(out["csv"]),
            "哪些报告提到四下基层",
            "全县生产总值达到多少",
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    texts = _texts(out["docx"].read_bytes())
    assert "哪些报告提到四下基层" in texts and "全县生产总值达到多少" in texts
    sheet = openpyxl.load_workbook(out["xlsx"]).active
    assert sheet is not None and sheet.max_row == 3  # header + the 2 reports
    assert out["csv"].read_text(encoding="utf-8").startswith("\ufeff词语,报告编号")
    refused = runner.invoke(cli, ["ask", "--xlsx", str(tmp_path / "b.xlsx"), "全县生产总值达到多少"], env=env)
    assert refused.exit_code == 1 and "no mention answer" in refused.output


async def test_export_button(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library):
        reply = await ask(api, "哪些报告提到四下基层")
        export = next(data for label, data in buttons(reply) if label == "导出")
        assert export.startswith("e:")
        mark = api.mark()
        api.push_callback_query(export, USER, USER, reply.result["message_id"])
        await api.wait_for_count("sendDocument", 2, since=mark)
        sent = [c.params for c in api.calls("sendDocument") if c.seq > mark]
        files = {p["document"].filename: p["document"].data for p in sent if isinstance(p["document"], UploadedFile)}
        assert set(files) == {"提及-四下基层.docx", "提及-四下基层.xlsx"}
        assert "哪些报告提到四下基层" in _texts(files["提及-四下基层.docx"])
        assert "（Word 文档）" in sent[0]["caption"]
        # someone else's press, and forged data, get a refusal and no file
        mark = api.mark()
        api.push_callback_query(export, OTHER, OTHER, reply.result["message_id"])
        assert "别人的提问" in (await api.wait_for("answerCallbackQuery", since=mark)).params["text"]
        for forged in ("e:", "e:../../etc", "e:nosuchtoken"):
            mark = api.mark()
            api.push_callback_query(forged, USER, USER, reply.result["message_id"])
            assert "请重新提问" in (await api.wait_for("answerCallbackQuery", since=mark)).params["text"]
        assert len(api.calls("sendDocument")) == 2
