"""A hostile user against the real bot (PTB's HTTP stack against the fake Bot API on 127.0.0.1): forged button
data, inline results past an allow-list, uploads built to freeze or exhaust the bot, floods of commands."""

from __future__ import annotations

import io
import os
import pickle
import random
import subprocess
import sys
import zipfile
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner

import retrieval.segment as segment_module
from bot.cli import cli
from bot.texts import ZH, unreadable_reason
from fakebotapi import FakeBotApi
from retrieval import Library, LibrarySettings, Segmenter, UnreadableReport, open_library
from retrieval.extract import extract
from retrieval.ingest import ingest_bytes
from tests.botharness import ADMIN, GROUP, OTHER, USER, ask, bot_settings, buttons, running_bot
from tests.support import DICTIONARY, ROOT


def _next_page(call_buttons: list[tuple[str, str]]) -> str:
    return next(data for label, data in call_buttons if "下一页" in label)


async def test_paging_tokens_are_unguessable_and_bound_to_who_asked(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library):
        mine = await ask(api, "全县生产总值达到多少？")
        theirs = await ask(api, "全县生产总值达到多少？", chat_id=OTHER, user_id=OTHER)
        token_mine, token_theirs = _next_page(buttons(mine)).split(":")[1], _next_page(buttons(theirs)).split(":")[1]
        # random, not a counter: 96 bits, nothing shared between two tokens issued one after the other
        assert len(token_mine) >= 16 and token_mine[:8] != token_theirs[:8]
        # the other user presses a button carrying my token on their own message: a refusal, not my question
        mark = api.mark()
        api.push_callback_query(f"a:{token_mine}:1", OTHER, OTHER, theirs.result["message_id"])
        refused = await api.wait_for("answerCallbackQuery", since=mark)
        assert "别人的提问" in refused.params["text"] and refused.params.get("show_alert") in (True, "true")
        assert api.calls("editMessageText") == []
        # the same token in a group from me is another chat: refused too
        mark = api.mark()
        api.push_callback_query(f"a:{token_mine}:1", GROUP, USER, 1, chat_type="supergroup")
        assert "别人的提问" in (await api.wait_for("answerCallbackQuery", since=mark)).params["text"]
        # a forged token (a neighbour of a real one) is unknown: "ask again", never anyone's answer
        forged = token_theirs[:-1] + ("A" if token_theirs[-1] != "A" else "B")
        mark = api.mark()
        api.push_callback_query(f"a:{forged}:1", OTHER, OTHER, theirs.result["message_id"])
        assert "请重新提问" in (await api.wait_for("answerCallbackQuery", since=mark)).params["text"]
        assert api.calls("editMessageText") == []
        # the owner still pages their own answer
        mark = api.mark()
        api.push_callback_query(f"a:{token_mine}:1", USER, USER, mine.result["message_id"])
        edited = await api.wait_for("editMessageText", since=mark)
        assert "第 2/3 页" in edited.text and "全县生产总值" in edited.text


async def test_inline_results_are_personal_behind_an_allow_list(api: FakeBotApi, library: Library) -> None:
    settings = bot_settings(api, Path(library.store.path), REPORTBOT_ALLOWED_CHATS=str(USER))
    async with running_bot(api, library, settings):
        mark = api.mark()
        api.push_inline_query("四下基层", USER)
        call = await api.wait_for("answerInlineQuery", since=mark)
    assert call.params["results"]
    # Telegram must not show these cached results to an outsider typing the same query
    assert call.params.get("is_personal") in (True, "true")
    assert int(call.params.get("cache_time", 300)) == 0


async def test_inline_results_of_an_open_bot_may_be_shared(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library):
        mark = api.mark()
        api.push_inline_query("四下基层", USER)
        call = await api.wait_for("answerInlineQuery", since=mark)
    assert call.params["results"] and call.params.get("is_personal") in (False, "false", None)


# --- uploads built to freeze the bot ---------------------------------------------------------------------------

# Lines that made a pattern scan quadratically, each 200,000 characters: before the fix the first took 100 s.
_RUN = 200_000
ADVERSARIAL_LINES: dict[str, str] = {
    "tabs inside a line (edge trimming)": "甲" + "\t" * _RUN + "乙",
    "ideographic spaces before a character (table rule)": "\u3000" * _RUN + "x",
    "open brackets (link text)": "[" * _RUN,
    "unclosed link targets": "[a](" * (_RUN // 4),
    "unclosed bold": "**a " * (_RUN // 4),
    "unclosed underscore bold": "a" + "__a " * (_RUN // 4) + "b",
    "tabs inside a heading (closing hashes)": "# 标题" + "\t" * _RUN + "乙",
    "list marker then spaces": "- " + " " * _RUN + "x",
}


def _adversarial_files() -> list[tuple[str, str, bytes]]:
    files = []
    for label, line in ADVERSARIAL_LINES.items():
        files.append((f"{label} (.md)", "x.md", f"标题\n{line}\n".encode()))
        files.append((f"{label} (.txt)", "x.txt", f"标题\n{line}\n".encode()))
    files.append(("tabs in a Word paragraph (.docx)", "x.docx", tabbed_docx(_RUN)))
    return files


def tabbed_docx(tabs: int) -> bytes:
    """A .docx whose one paragraph holds `tabs` tab characters between two words (about 2 KB zipped)."""
    document = docx.Document()
    document.add_paragraph("关于工作情况的报告")
    document.add_paragraph("甲" + "\t" * tabs + "乙")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


_PIPELINE = """
import pickle, sys
from pathlib import Path
from retrieval.extract import extract
from retrieval.prepare import prepare_report
from retrieval.segment import Segmenter
segmenter = Segmenter(Path(sys.argv[1]))
for label, name, data in pickle.load(sys.stdin.buffer):
    print(label, flush=True)
    prepare_report(extract(name, data), segmenter)
print("done", flush=True)
"""


def test_adversarial_lines_pass_extraction_and_preparation_in_linear_time(tmp_path: Path) -> None:
    # A hang guard, not a speed measurement: every case takes milliseconds when each pattern is linear and
    # minutes to hours when one is quadratic, so a deadline 100x above the expected time tells the two apart.
    files = _adversarial_files()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(
        [sys.executable, "-c", _PIPELINE, str(DICTIONARY)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=False,
    ) as process:
        try:
            out, _ = process.communicate(pickle.dumps(files), timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            out, _ = process.communicate()
            stuck = out.decode().splitlines()[-1] if out else "start-up"
            pytest.fail(f"extraction did not finish within 60 s; stuck on: {stuck}")
    assert process.returncode == 0 and out.decode().splitlines()[-1] == "done"


def test_markdown_syntax_is_still_removed() -> None:
    # the linear patterns keep what the quadratic ones did on ordinary Markdown
    text = (
        '# 标题 ##\n## 二、**重点**工作 #\n### #5\n正文[链接](http://x.cn "t")、![图](a.png)和 __强调__ 。\n'
        "| a | b |\n|---|:---:|\n- 列表项 **加粗** **区 保留\n#话题\n"
    )
    extracted = extract("x.md", text.encode())
    assert extracted.lines == (
        "标题",
        "二、重点工作",
        "#5",
        "正文链接、图和 强调 。",
        "| a | b |",
        "列表项 加粗 **区 保留",
        "#话题",
    )
    assert dict(extracted.heading_levels) == {0: 1, 1: 2, 2: 3}


async def test_a_small_docx_built_to_freeze_the_bot_does_not(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library):
        mark = api.mark()
        upload = tabbed_docx(_RUN)
        assert len(upload) < 64 * 1024  # what an attacker sends: a few dozen kilobytes
        api.push_document(upload, "tabs.docx", ADMIN, ADMIN)
        # meanwhile another user asks: answered, and the upload answered too, each well within the wait
        other = await ask(api, "哪些报告提到四下基层", chat_id=OTHER, user_id=OTHER)
        reply = await api.wait_for("sendMessage", lambda c: c.chat_id == ADMIN, since=mark)
    assert "四下基层" in other.text
    assert "已添加报告" in reply.text or "太" in reply.text


# --- uploads built to exhaust memory ----------------------------------------------------------------------------


def tiny_paragraphs_docx(paragraphs: int, text: str = "甲") -> bytes:
    """A .docx of `paragraphs` one-character paragraphs (2 million zip to about 240 KB), or empty ones."""
    base = io.BytesIO()
    docx.Document().save(base)
    with zipfile.ZipFile(io.BytesIO(base.getvalue())) as source:
        members = {info.filename: source.read(info.filename) for info in source.infolist()}
    run = f"<w:r><w:t>{text}</w:t></w:r>" if text else ""
    body = f"<w:p>{run}</w:p>" * paragraphs
    members["word/document.xml"] = members["word/document.xml"].replace(b"<w:body>", f"<w:body>{body}".encode(), 1)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Files that expand far beyond what one report may be, each at most 20 MB (the upload limit)."""
    folder = tmp_path_factory.mktemp("bombs")
    made = {
        "tiny paragraphs.docx": tiny_paragraphs_docx(2_000_000),
        "empty paragraphs.docx": tiny_paragraphs_docx(2_000_000, text=""),
        "one-character lines.txt": "甲\n".encode() * 5_000_000,
        "one-character lines.md": "甲\n\n".encode() * 4_000_000,
        "one long line.txt": "甲乙丙丁".encode() * 1_600_000,
    }
    paths = {}
    for name, data in made.items():
        assert len(data) <= 20 * 1024 * 1024
        paths[name] = folder / name
        paths[name].write_bytes(data)
    return paths


_PEAK = """
import sys
from pathlib import Path
from bot.texts import ZH, unreadable_reason
from retrieval.errors import UnreadableReport
from retrieval.extract import read_report_file
try:
    read_report_file(Path(sys.argv[1]))
    print("accepted")
except UnreadableReport as exc:
    print(exc.code, unreadable_reason(exc, ZH))
# the peak of this address space (ru_maxrss would carry over the peak of the pytest process that forked it)
print(next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")) // 1024)
"""


@pytest.mark.parametrize(
    "name",
    [
        "tiny paragraphs.docx",
        "empty paragraphs.docx",
        "one-character lines.txt",
        "one-character lines.md",
        "one long line.txt",
    ],
)
def test_a_file_that_expands_too_far_is_refused_in_bounded_memory(bombs: dict[str, Path], name: str) -> None:
    # the case: a 244 KB .docx of 2 million tiny paragraphs peaked at 3.7 GB on its way into the library
    result = subprocess.run(
        [sys.executable, "-c", _PEAK, str(bombs[name])],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
        check=True,
    )
    verdict, peak_mb = result.stdout.splitlines()
    assert verdict.startswith("too_large") and "上限" in verdict, verdict
    assert int(peak_mb) < 500, f"{name}: peak {peak_mb} MB"


def test_report_limits_are_settings(tmp_path: Path) -> None:
    settings = LibrarySettings(
        _env_file=None,  # type: ignore[call-arg]
        REPORTBOT_DB=str(tmp_path / "r.db"),
        REPORTBOT_MAX_REPORT_PARAGRAPHS="10",
        REPORTBOT_MAX_REPORT_CHARS="1000",
    )
    library = open_library(settings)
    try:
        with pytest.raises(UnreadableReport) as refused:
            ingest_bytes(library, "many.txt", "\n".join(f"第{i}段。" for i in range(11)).encode())
        reason = unreadable_reason(refused.value, ZH)
        assert "段落太多" in reason and "10 段" in reason
        with pytest.raises(UnreadableReport) as refused:
            ingest_bytes(library, "long.txt", ("长" * 1001).encode())
        assert "文字太多" in unreadable_reason(refused.value, ZH)
        assert ingest_bytes(library, "ok.txt", "\n".join(f"第{i}段。" for i in range(10)).encode()).status == "added"
        assert library.stats()["reports"] == 1
    finally:
        library.store.close()


async def test_the_bot_refuses_a_docx_bomb_with_the_reason(
    api: FakeBotApi, library: Library, bombs: dict[str, Path]
) -> None:
    async with running_bot(api, library):
        mark = api.mark()
        api.push_document(bombs["tiny paragraphs.docx"].read_bytes(), "汇报.docx", ADMIN, ADMIN)
        reply = await api.wait_for("sendMessage", lambda c: c.chat_id == ADMIN, since=mark)
    assert "段落太多" in reply.text and "20,000" in reply.text and "没有入库" in reply.text
    assert library.stats()["reports"] == 5


# --- one group member stalling everyone ---------------------------------------------------------------------


async def test_a_slow_group_does_not_hold_other_chats_slots(api: FakeBotApi, library: Library) -> None:
    # Twenty members of a group ask at once and the group's sends are slow (as when Telegram paces a group to 20
    # messages a minute). Before, their handlers held all 16 concurrent slots while they waited, and a private
    # question queued behind them; now a chat holds one slot at a time.
    async with running_bot(api, library):
        api.delay_next("sendMessage", 0.2, count=20, chat_id=GROUP)
        username = api.bot_username
        for member in range(20):
            api.push_message(f"@{username} 四下基层", GROUP, 5000 + member, chat_type="supergroup")
        private = await ask(api, "哪些报告提到四下基层", chat_id=OTHER, user_id=OTHER)
        before = [c for c in api.calls("sendMessage", GROUP) if c.seq < private.seq]
        assert "四下基层" in private.text
        assert len(before) <= 3, f"{len(before)} group answers went out before the private one"
        await api.wait_for_count("sendMessage", 20, predicate=lambda c: c.chat_id == GROUP)


async def test_a_command_flood_gets_one_refusal_and_then_silence(api: FakeBotApi, library: Library) -> None:
    settings = bot_settings(api, Path(library.store.path), REPORTBOT_RATE_LIMIT="5")
    async with running_bot(api, library, settings):
        username = api.bot_username
        for _ in range(30):
            api.push_message(f"/help@{username}", GROUP, USER, chat_type="supergroup")
        private = await ask(api, "哪些报告提到四下基层", chat_id=OTHER, user_id=OTHER)
        assert "四下基层" in private.text
        sent = await api.wait_for_count("sendMessage", 6, predicate=lambda c: c.chat_id == GROUP)
        # the same member's next command is ignored too (their updates are handled in order)
        mark = api.mark()
        api.push_message("/stats", GROUP, USER, chat_type="supergroup")
        api.push_message("/stats", GROUP, OTHER, chat_type="supergroup")
        stats = await api.wait_for("sendMessage", lambda c: c.chat_id == GROUP, since=mark)
    texts = [c.text for c in sent]
    # every command counts: five answers, one refusal, then nothing for the rest of the minute
    assert sum("/mentions" in text for text in texts) == 5 and "太快" in texts[5]
    assert len(api.calls("sendMessage", GROUP)) == 7 and "报告" in stats.text


# --- odd digits ---------------------------------------------------------------------------------------------

_HUGE = "9" * 25  # beyond SQLite's 64-bit integers


async def test_odd_digits_in_commands_and_buttons_get_one_clear_line(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library):
        for command in ("/report ²", f"/report {_HUGE}", "/report ٣", "/report -1"):
            reply = await ask(api, command)
            assert "没有编号为" in reply.text, (command, reply.text)
        for data in (
            "p:²:1",
            "p:1:²",
            f"p:1:{_HUGE}",
            f"p:{_HUGE}:1",
            f"p:1:2:{_HUGE}",
            "p:1:2:²",
            f"s:1:{_HUGE}",
            "s:²:1",
            "r:²",
            f"r:{_HUGE}",
            "x:²",
            f"x:{_HUGE}",
            "a:token:²",
            "o:²",
            f"o:{_HUGE}",
            "d:٣:y",
        ):
            mark = api.mark()
            api.push_callback_query(data, USER, USER, 1, message_text="earlier answer")
            await api.wait_for("answerCallbackQuery", since=mark)
            # whatever comes back is a plain answer or refusal, never "something went wrong"
            await api.wait_for_count(None, 1, since=mark)
    assert not [c.text for c in api.calls("sendMessage") if c.text and "出了点问题" in c.text]


@pytest.mark.parametrize(
    "args", [["show", "²"], ["show", _HUGE], ["show", "1", _HUGE], ["show", _HUGE, "1"], ["show", "1", "²"]]
)
def test_odd_digits_in_reportbot_show_get_one_clear_line(args: list[str], library: Library) -> None:
    result = CliRunner().invoke(cli, args, obj={}, env={"REPORTBOT_DB": str(library.store.path)})
    assert result.exit_code in (1, 2) and "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)


# --- smaller ones -------------------------------------------------------------------------------------------

CHANNEL = -100777


async def test_edits_channel_posts_and_other_bots_commands_are_not_run(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library):
        sent = api.push_message("/watch 四下基层", USER, USER)
        await api.wait_for("sendMessage", lambda c: c.chat_id == USER)
        # the user edits the message four times: still one watch, and no reply to the edits
        for term in ("三会一课", "主题党日", "双报到", "四下基层 "):
            api.push_edited_message(sent["message"]["message_id"], f"/watch {term}", USER, USER)
        api.push_update(
            {
                "channel_post": {
                    "message_id": 1,
                    "chat": {"id": CHANNEL, "type": "channel", "title": "通知"},
                    "date": 1,
                    "text": "/通知 明天开会",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 3}],
                }
            }
        )
        api.push_message("/otherbot_command@some_other_bot", GROUP, USER, chat_type="supergroup")
        mark = api.mark()
        watches = await ask(api, "/watches")  # the same user's updates are handled in order: the edits came first
    assert library.store.watches(USER) == ["四下基层"]
    assert "四下基层" in watches.text and "三会一课" not in watches.text
    assert [c.chat_id for c in api.calls("sendMessage") if c.seq >= mark] == [USER]
    assert api.calls("sendMessage", CHANNEL) == [] and api.calls("sendMessage", GROUP) == []
    assert len(api.calls("sendMessage", USER)) == 2


def test_a_file_name_with_line_breaks_stays_on_one_line(library: Library) -> None:
    result = ingest_bytes(library, "第一行\n第二行\r\u2028名.txt", "标题\n正文内容。\n".encode())
    assert result.report.source == "第一行 第二行  名.txt"
    listing = CliRunner().invoke(cli, ["reports"], obj={}, env={"REPORTBOT_DB": str(library.store.path)})
    assert listing.exit_code == 0 and len(listing.output.splitlines()) == 6
    columns = {len(line.split("\t")) for line in listing.output.splitlines()}
    assert len(columns) == 1 and listing.output.splitlines()[-1].endswith("\t第一行 第二行  名.txt")


def test_random_questions_do_not_grow_the_segmenters_cache_without_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    # every random string is a new token; before, each was kept for ever (+94 MB after 20,000 random questions;
    # bench numbers in docs/reliability.md)
    monkeypatch.setattr(segment_module, "KEPT_TOKENS_MAX", 1000)
    segmenter = Segmenter(DICTIONARY)
    fresh = Segmenter(DICTIONARY)
    rng = random.Random(5)
    seen = 0
    for _ in range(1500):
        words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8)) for _ in range(4)]
        question = " ".join(words) + " 的 四下基层"
        assert segmenter.terms(question) == fresh.terms(question)  # verdicts are the same, cached or not
        seen += 4
        assert segmenter.kept_tokens <= 1000
    assert seen > 5 * 1000


async def test_watches_are_capped_listed_within_limits_and_a_digest_is_bounded(
    api: FakeBotApi, library: Library
) -> None:
    settings = bot_settings(api, Path(library.store.path), REPORTBOT_MAX_WATCHES="140", REPORTBOT_RATE_LIMIT="1000")
    terms = [f"第{i:03d}项重点工作任务推进落实情况专项督查" for i in range(141)]
    assert all(len(term) <= 30 for term in terms)
    async with running_bot(api, library, settings):
        for term in terms[:140]:
            assert "已关注" in (await ask(api, f"/watch {term}", chat_id=ADMIN, user_id=ADMIN)).text
        refused = await ask(api, f"/watch {terms[140]}", chat_id=ADMIN, user_id=ADMIN)
        assert "最多关注140个" in refused.text
        mark = api.mark()
        api.push_message("/watches", ADMIN, ADMIN)
        await api.wait_for("sendMessage", lambda c: c.chat_id == ADMIN, since=mark)
        # one report mentioning every watched term, then the digest
        report = "督查报告\n" + "\n".join(f"本月{term}良好，{term}取得进展。" for term in terms[:140]) + "\n"
        api.push_document(report.encode(), "督查.txt", ADMIN, ADMIN)
        added = await api.wait_for(
            "sendMessage", lambda c: c.chat_id == ADMIN and "已添加报告" in (c.text or ""), since=mark
        )
        digest_mark = api.mark()
        api.push_message("/digest", ADMIN, ADMIN)
        api.push_message("/stats", ADMIN, ADMIN)  # handled after the digest: the same chat's updates are in order
        await api.wait_for(
            "sendMessage",
            lambda c: c.chat_id == ADMIN and "报告" in (c.text or "") and "段落" in (c.text or ""),
            since=digest_mark,
        )
    listing = [c.text or "" for c in api.calls("sendMessage", ADMIN) if mark <= c.seq < added.seq]
    assert sum(text.count("•") for text in listing) == 140 and all(len(text) <= 4096 for text in listing)
    digest = [c.text for c in api.calls("sendMessage", ADMIN) if c.seq > digest_mark][:-1]
    assert 1 <= len(digest) <= 3 and "还有" in digest[-1] and "每日摘要" in digest[0]
