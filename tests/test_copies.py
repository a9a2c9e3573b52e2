"""Copied text (/copies, `reportbot copies`): a report made the way offices make one (a paragraph of another report
pasted in, in traditional characters, and the slogan every report repeats), the provincial reports checked against
their own text, the CLI's JSON and the real bot with its 导出 button."""

from __future__ import annotations

import io
import json
from pathlib import Path

import docx
import opencc
from click.testing import CliRunner

from bot.cli import cli
from fakebotapi import FakeBotApi, UploadedFile
from retrieval import Library
from retrieval.copies import copies
from retrieval.normalize import normalize
from tests.botharness import USER, ask, buttons, running_bot
from tests.support import PROVINCIAL

SLOGAN = "牢牢把握“学思想、强党性、重实践、建新功”的总要求"


def _copied_report(library: Library) -> tuple[int, str]:
    """A new report pasting paragraph 7 of report #2 (in traditional characters) between text of its own."""
    _, pasted = library.paragraph(2, 7)
    own = "本单位今年坚持把基层调研作为重要抓手，组织骨干力量分赴各乡镇开展走访，形成调研报告若干篇。"
    text = "\n".join(
        [
            "某局主题教育工作总结",
            "一、主要做法",
            f"一是加强组织领导。{SLOGAN}，成立领导小组，由主要负责同志任组长。",
            opencc.OpenCC("s2t").convert(pasted.text),
            own,
        ]
    )
    result = library.ingest_bytes("某局总结.txt", text.encode("utf-8"))
    return result.report.id, pasted.text


def test_a_pasted_paragraph_is_found_and_the_slogan_is_not_copying(library: Library) -> None:
    report_id, pasted = _copied_report(library)
    found = copies(library, report_id)
    assert {other.id for other, _ in found.by_report()} == {2}
    (run,) = [r for r in found.shared if r.other_paragraph == 7]
    assert normalize(run.text) in normalize(pasted) and len(normalize(run.text)) >= 0.9 * len(normalize(pasted))
    assert run.paragraph == 4  # title 1, heading 2, slogan paragraph 3, the pasted one 4
    total = sum(len(normalize(p.text)) for p in library.store.paragraphs(report_id, 3, 5))
    assert abs(found.share - run.chars / total) < 0.02 and 0.4 < found.share < 0.9
    assert any("学思想、强党性、重实践、建新功" in c.text for c in found.common)
    assert not any("学思想、强党性、重实践、建新功" in r.text for r in found.shared)
    payload = found.to_json()
    assert set(payload) == {"report", "share", "shared", "common_phrases", "min_chars"}
    assert set(payload["shared"][0]) == {"id", "title", "source", "paragraph", "other_paragraph", "text"}
    # a longer shortest run leaves out shorter ones, never longer ones
    assert all(len(normalize(r.text)) >= 60 for r in copies(library, report_id, min_chars=60).shared)


def test_provincial_runs_stand_in_the_other_report(provincial_library: Library) -> None:
    found = copies(provincial_library, 3)
    assert found.shared and found.common and 0 < found.share < 0.1
    for run in found.shared:
        _, other = provincial_library.paragraph(run.other.id, run.other_paragraph)
        _, mine = provincial_library.paragraph(3, run.paragraph)
        assert normalize(run.text) in normalize(other.text) and normalize(run.text) in normalize(mine.text)
        assert len(normalize(run.text)) >= 18  # 20 normalised characters, less the punctuation at its edges
    assert all(c.reports >= 3 for c in found.common)
    assert any("习近平新时代中国特色社会主义思想为指导" in c.text and c.reports >= 25 for c in found.common)


def test_cli_copies(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"REPORTBOT_DB": str(tmp_path / "r.db")}
    assert runner.invoke(cli, ["ingest", str(PROVINCIAL)], env=env).exit_code == 0
    result = runner.invoke(cli, ["copies", "3", "--json", "--docx", str(tmp_path / "c.docx")], env=env)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["report"]["id"] == 3 and payload["shared"] and payload["common_phrases"]
    assert (tmp_path / "c.docx").read_bytes()[:2] == b"PK"
    text = runner.invoke(cli, ["copies", "#3"], env=env).output
    assert "连续20字以上与其他报告相同的共" in text and "常见表述（不算重复）" in text
    missing = runner.invoke(cli, ["copies", "99"], env=env)
    assert missing.exit_code == 1 and "没有编号或文件名为 99 的报告" in missing.output
    assert runner.invoke(cli, ["copies", "3", "--min-chars", "5"], env=env).exit_code == 2


async def test_bot_copies(api: FakeBotApi, library: Library) -> None:
    report_id, _ = _copied_report(library)
    async with running_bot(api, library):
        reply = await ask(api, f"/copies {report_id}")
        assert f"<b>#{report_id} 《某局主题教育工作总结》</b>与其他报告相同的文字（连续 20 字以上）" in reply.text
        assert "<b>#2 《主题教育开展情况》</b>" in reply.text and "本报告第4段 ↔ 第7段" in reply.text
        assert "<b>常见表述</b>" in reply.text
        export = next(data for label, data in buttons(reply) if label == "导出")
        assert export == f"k:{report_id}:20"
        mark = api.mark()
        api.push_callback_query(export, USER, USER, reply.result["message_id"])
        sent = (await api.wait_for("sendDocument", since=mark)).params["document"]
        assert isinstance(sent, UploadedFile) and sent.filename == f"查重-{report_id}.docx"
        assert any("本报告第4段 ↔ #2 第7段" in p.text for p in docx.Document(io.BytesIO(sent.data)).paragraphs)
        for forged in (f"k:{report_id}:999", "k:abc:20", "k:1", f"k:{report_id}:20:x"):
            mark = api.mark()
            api.push_callback_query(forged, USER, USER, reply.result["message_id"])
            assert "请重新提问" in (await api.wait_for("answerCallbackQuery", since=mark)).params["text"]
        assert "用法：/copies" in (await ask(api, "/copies abc")).text
        assert "没有编号为 99 的报告" in (await ask(api, "/copies 99")).text
        longer = await ask(api, f"/copies {report_id} 60")
        assert "连续 60 字以上" in longer.text
