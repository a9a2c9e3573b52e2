"""Copied text (/copies, `reportbot copies`): a report made the way offices make one (a paragraph of another report
pasted in, in traditional characters, and the slogan every report repeats), the provincial reports checked against
their own text, the CLI's JSON and the real bot with its 导出 button."""

from __future__ import annotations

import io
import itertools
import json
from pathlib import Path

import docx
import opencc
import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.render import copies_replies
from fakebotapi import FakeBotApi, UploadedFile
from retrieval import Library
from retrieval.copies import copies
from retrieval.export import copies_docx
from retrieval.ingest import ingest_bytes
from retrieval.jsonout import copies_json
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
    result = ingest_bytes(library, "某局总结.txt", text.encode("utf-8"))
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
    payload = copies_json(found)
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


def test_reports_of_one_title_are_told_apart(library: Library, tmp_path: Path) -> None:
    """Two reports titled alike, each pasting a paragraph of report #2: the answer, its export and the CLI name
    each with what tells it apart (its date), as every other answer does."""
    ids = []
    for name, day, number in (("a.txt", "2023年3月1日", 7), ("b.txt", "2024年3月1日", 9)):
        _, pasted = library.paragraph(2, number)
        text = f"主题教育情况汇报\n（{day}）\n本单位今年按要求开展主题教育，现将有关情况汇报如下。\n{pasted.text}\n"
        ids.append(ingest_bytes(library, name, text.encode("utf-8")).report.id)
    found = copies(library, 2)
    named = {other.id: other.distinction for other, _ in found.by_report() if other.id in ids}
    assert named == {ids[0]: "2023-03-01", ids[1]: "2024-03-01"}
    replies = copies_replies(found, "zh")
    text = "\n".join(r.text for r in replies)
    assert "《主题教育情况汇报》（2023-03-01）" in text and "《主题教育情况汇报》（2024-03-01）" in text
    document = docx.Document(io.BytesIO(copies_docx(found)))
    headings = [p.text for p in document.paragraphs]
    assert f"#{ids[0]} 《主题教育情况汇报》（2023-03-01） · 1 处" in headings
    assert copies(library, ids[1]).report.distinction == "2024-03-01"


@pytest.mark.parametrize(
    "formulation",
    [
        "持续防范化解重点领域风险，着力稳就业、稳企业、稳市场、稳预期",  # the economic work conference's: 28 reports
        "坚持马克思列宁主义、毛泽东思想、邓小平理论、“三个代表”重要思想、科学发展观",  # the guiding ideology: 5
    ],
)
def test_long_official_formulations_are_common_phrasing(provincial_library: Library, formulation: str) -> None:
    """Wording many reports repeat is common phrasing however long the run holding it (70 characters and more of
    standard formulation were listed as copying between every pair of provinces): a run listed as copying has 20
    characters that fewer than 3 other reports hold (checked against the reports' text), and the formulation is
    listed as common phrasing."""
    needle = normalize(formulation)
    texts = {r.id: normalize(_text(provincial_library, r.id)) for r in provincial_library.reports()}
    holding = [rid for rid, text in texts.items() if needle in text]
    assert len(holding) >= 5
    for report_id in holding[:6]:
        found = copies(provincial_library, report_id)
        for run in found.shared:
            text = normalize(run.text)
            if needle[:20] in text:
                windows = (text[i : i + 20] for i in range(max(1, len(text) - 19)))
                assert any(sum(w in t for rid, t in texts.items() if rid != report_id) < 3 for w in windows), text
        assert any(needle[:12] in normalize(c.text) for c in found.common)


def _text(library: Library, report_id: int) -> str:
    report = library.find_report(report_id)
    return "\n".join(p.text for p in library.store.paragraphs(report.id, 1, report.paragraph_count))


def _maximal_runs(mine: str, other: str, min_chars: int) -> set[tuple[int, int]]:
    """The reference: every stretch of `mine` that `other` also has at some alignment, extended as far as both agree
    (brute force over all alignments), but those inside a longer one."""
    found = set()
    for shift in range(-len(other) + 1, len(mine)):
        i = max(0, shift)
        while i < len(mine) and i - shift < len(other):
            if mine[i] != other[i - shift]:
                i += 1
                continue
            start = i
            while i < len(mine) and i - shift < len(other) and mine[i] == other[i - shift]:
                i += 1
            if i - start >= min_chars:
                found.add((start, i))
    # one inside a longer one (the same text standing at two places of the other paragraph) is not a run of its own
    return {(a, b) for a, b in found if not any(c <= a and b <= d and (c, d) != (a, b) for c, d in found)}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_runs_equal_a_brute_force_reference_on_random_texts(tmp_path: Path, seed: int) -> None:
    """Random reports pieced together from a few shared phrases (over a small alphabet, so stretches repeat at
    several alignments): the runs found through the positional index equal every maximal common stretch of 20+
    characters found by comparing each pair of paragraphs at every alignment."""
    import random

    from retrieval import Store
    from retrieval.copies import _EDGE_PUNCTUATION
    from retrieval.segment import Segmenter

    rng = random.Random(seed)
    alphabet = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面"
    phrases = ["".join(rng.choice(alphabet) for _ in range(rng.randint(6, 30))) for _ in range(12)]
    library = Library(Store(tmp_path / "r.db"), Segmenter())
    for number in range(6):
        pieces = (rng.choice(phrases) if rng.random() < 0.6 else rng.choice(alphabet) for _ in range(80))
        paragraphs = ["".join(itertools.islice(pieces, rng.randint(4, 9))) + "。" for _ in range(rng.randint(2, 5))]
        ingest_bytes(library, f"r{number}.txt", "\n".join([f"随机报告第{number}号", *paragraphs]).encode("utf-8"))
    reports = library.reports()
    texts = {
        (r.id, p.number): (p.kind, normalize(p.text))
        for r in reports
        for p in library.store.paragraphs(r.id, 1, r.paragraph_count)
    }
    for report in reports:
        found = copies(library, report.id, common_reports=10**6)  # nothing is common phrasing: every run counts
        got = {(r.paragraph, r.other.id, r.other_paragraph, normalize(r.text)) for r in found.shared}
        expected = set()
        for (rid, number), (kind, mine) in texts.items():
            if rid != report.id or kind == "heading":
                continue
            for (other_id, other_number), (_, other) in texts.items():
                if other_id == report.id:
                    continue
                for a, b in _maximal_runs(mine, other, 20):
                    expected.add((number, other_id, other_number, mine[a:b].strip(_EDGE_PUNCTUATION)))
        assert got == expected
