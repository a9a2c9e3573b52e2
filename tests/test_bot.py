"""End to end: the real Application and HTTP stack against the fake Bot API server; users send messages,
commands, button presses, inline queries and documents; we assert on the Bot API calls the bot makes."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from fakebotapi import FakeBotApi
from officefiles import libreoffice_export, photo_jpeg, word_document
from retrieval import Library, Store
from retrieval.bm25 import Tuning
from retrieval.ingest import ingest_bytes, ingest_paths
from retrieval.mentions import MentionTuning, _IndexedChunk
from retrieval.segment import Segmenter
from tests.botharness import ADMIN, GROUP, OTHER, USER, ask, bot_settings, buttons, running_bot
from tests.support import REPORTS


async def test_start_help_and_command_menu(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library):
        start = await ask(api, "/start")
        assert start.params["parse_mode"] == "HTML"
        assert "工作汇报问答机器人" in start.text
        assert [data for _, data in buttons(start)] == ["x:0", "x:1", "x:2"]
        help_reply = await ask(api, "/help")
        assert "/mentions" in help_reply.text and "/subscribe" in help_reply.text
    zh = api.commands()
    en = api.commands(language_code="en")
    assert [c["command"] for c in zh][:3] == ["start", "help", "reports"]
    assert any(c["description"] == "报告列表" for c in zh)
    assert any(c["description"] == "List reports" for c in en)


async def test_example_button_answers_the_question(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library):
        await ask(api, "/start")
        mark = api.mark()
        api.push_callback_query("x:0", USER, USER)
        reply = await api.wait_for("sendMessage", lambda c: c.chat_id == USER, since=mark)
        assert "份报告提到“四下基层”" in reply.text


async def test_mention_question_lists_every_report_with_quotes(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library):
        reply = await ask(api, "哪些报告提到四下基层")
    text = reply.text
    assert "共有 <b>2</b> 份报告提到“四下基层”" in text
    assert text.count("<blockquote>") == 2 and "<b>四下基层</b>" in text
    assert "《主题教育工作开展情况》" in text and "《主题教育开展情况》" in text
    assert "第4段" in text and "第7段" in text
    assert ("全文 #1·4", "p:1:4") in buttons(reply)
    assert reply.params["link_preview_options"] == {"is_disabled": True}  # the bot's Defaults: no link previews


async def test_fast_answers_skip_the_typing_indicator(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library):
        await ask(api, "哪些报告提到四下基层")
    assert api.calls("sendChatAction") == []


async def test_search_pages_edit_the_message_in_place(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library):
        first = await ask(api, "全县生产总值达到多少？")
        assert "<b>全县生产总值达到364.2亿元</b>" in first.text  # the number is marked with the terms
        assert "第 1/3 页" in first.text
        nav = [data for label, data in buttons(first) if "下一页" in label]
        assert len(nav) == 1
        message_id = first.result["message_id"]
        mark = api.mark()
        api.push_callback_query(nav[0], USER, USER, message_id)
        edited = await api.wait_for("editMessageText", since=mark)
        assert edited.params["message_id"] == message_id and "第 2/3 页" in edited.text
        assert edited.params["link_preview_options"] == {"is_disabled": True}
        prev = [data for label, data in buttons(edited) if "上一页" in label]
        mark = api.mark()
        api.push_callback_query(prev[0], USER, USER, message_id)
        back = await api.wait_for("editMessageText", since=mark)
        assert "第 1/3 页" in back.text
        await api.wait_for("answerCallbackQuery", since=mark)


async def test_full_paragraph_button(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library):
        mark = api.mark()
        api.push_callback_query("p:2:9", USER, USER, 1, message_text="earlier answer")
        reply = await api.wait_for("sendMessage", since=mark)
    assert "第9段" in reply.text and "全县生产总值达到364.2亿元" in reply.text


async def test_button_after_restart_says_ask_again(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library):
        first = await ask(api, "全县生产总值达到多少？")
        nav = next(data for label, data in buttons(first) if "下一页" in label)
    async with running_bot(api, library):  # a new process: the answer cache is gone
        mark = api.mark()
        api.push_callback_query(nav, USER, USER, first.result["message_id"])
        answered = await api.wait_for("answerCallbackQuery", since=mark)
        paragraph_mark = api.mark()
        api.push_callback_query("p:2:9", USER, USER)  # stateless buttons keep working
        await api.wait_for("sendMessage", since=paragraph_mark)
    assert "请重新提问" in answered.params["text"] and answered.params.get("show_alert") in (True, "true")


async def test_answer_that_needs_several_messages_is_paged(api: FakeBotApi, library: Library) -> None:
    long_paragraph = "".join(f"第{i}句话说明<工作>&进展情况，推进四下基层落实。" for i in range(300))
    async with running_bot(api, library):
        mark = api.mark()
        api.push_document(f"长报告\n{long_paragraph}\n".encode(), "long.txt", ADMIN, ADMIN)
        added = await api.wait_for("sendMessage", since=mark)
        assert "已添加报告 #6" in added.text
        mark = api.mark()
        api.push_callback_query("p:6:2", ADMIN, ADMIN)
        first = await api.wait_for("sendMessage", since=mark)
        pages = [first]
        while nav := [data for label, data in buttons(pages[-1]) if "下一页" in label]:
            mark = api.mark()
            api.push_callback_query(nav[0], ADMIN, ADMIN, first.result["message_id"])
            pages.append(await api.wait_for("editMessageText", since=mark))
    # one message for the press, its pages turned in place (a paragraph of millions of characters is not
    # hundreds of messages)
    assert len(api.calls("sendMessage", ADMIN)) == 2 and len(pages) >= 3
    assert all(len(p.text) <= 4096 for p in pages)
    assert "(1/" in pages[0].text and "&lt;工作&gt;&amp;" in pages[0].text
    assert f"({len(pages)}/{len(pages)})" in pages[-1].text
    assert all(p.text.count("<blockquote>") == p.text.count("</blockquote>") == 1 for p in pages)


async def test_groups_answer_only_when_addressed(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library):
        mark = api.mark()
        api.push_message("哪些报告提到双报到", GROUP, USER, chat_type="supergroup", chat_title="办公室")
        addressed = await ask(
            api, f"@{api.bot_username} 哪些报告提到双报到", chat_id=GROUP, chat_type="supergroup", chat_title="办公室"
        )
        assert "双报到" in addressed.text
        assert len([c for c in api.calls("sendMessage", chat_id=GROUP) if c.seq >= mark]) == 1
        reply_to_bot = await ask(
            api,
            "那三会一课呢？哪些报告提到三会一课",
            chat_id=GROUP,
            chat_type="supergroup",
            reply_to_message=addressed.result,
        )
        assert "三会一课" in reply_to_bot.text
        command = await ask(api, f"/mentions@{api.bot_username} 主题党日", chat_id=GROUP, chat_type="supergroup")
        assert "主题党日" in command.text


async def test_inline_mode_offers_passages(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library):
        mark = api.mark()
        api.push_inline_query("四下基层", USER)
        call = await api.wait_for("answerInlineQuery", since=mark)
    results = call.params["results"]
    assert 2 <= len(results) <= 10 and len({r["id"] for r in results}) == len(results)
    assert all(r["input_message_content"]["parse_mode"] == "HTML" for r in results)
    assert all(r["input_message_content"]["link_preview_options"] == {"is_disabled": True} for r in results)
    assert results[0]["title"].startswith("《") and "第" in results[0]["title"] and "段" in results[0]["title"]
    assert all("<b>四下基层</b>" in r["input_message_content"]["message_text"] for r in results[:2])


async def test_browsing_commands(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library):
        listing = await ask(api, "/reports")
        assert (
            "共 5 份报告" in listing.text and "#3 《2023年主题教育开展情况汇报》 · 2023 · *县委 · 11段" in listing.text
        )
        assert ("#1 主题教育工作开展情况", "o:1") in buttons(listing)
        outline = await ask(api, "/report 4")
        assert "二、主要做法及成效" in outline.text and "（一）下好理论学习先手棋" in outline.text
        assert len([data for _, data in buttons(outline) if data.startswith("s:")]) == 7  # one per section
        assert [data for _, data in buttons(outline) if data.startswith("w:")] == [
            "w:4:progress",
            "w:4:problems",
            "w:4:plans",
        ]  # and one per part
        section_button = next(data for label, data in buttons(outline) if label.startswith("三、存在问题"))
        mark = api.mark()
        api.push_callback_query(section_button, USER, USER, outline.result["message_id"])
        section = await api.wait_for("sendMessage", since=mark)
        assert "三、存在问题" in section.text and "一是部分党员学习主动性不够" in section.text
        assert "§10" in section.text and "四、下一步工作计划" not in section.text
        assert "没有编号为 99 的报告" in (await ask(api, "/report 99")).text
        assert "用法：/report" in (await ask(api, "/report")).text
        assert "用法：/search" in (await ask(api, "/search")).text
        assert "用法：/mentions" in (await ask(api, "/mentions")).text
        assert "用法：/watch" in (await ask(api, "/watch")).text
        assert "用法：/unwatch" in (await ask(api, "/unwatch")).text
        assert "/help" in (await ask(api, "/nosuchcommand")).text
        stats = await ask(api, "/stats")
        assert "报告 <b>5</b> 份" in stats.text
        search = await ask(api, "/search 哪些报告提到四下基层")  # /search ranks even a mention-style question
        assert "最相关的段落" in search.text
        mark = api.mark()
        api.push_callback_query("o:3", USER, USER)
        assert "一、抓细谋划部署" in (await api.wait_for("sendMessage", since=mark)).text


async def test_subscriptions_and_watches(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library):
        assert "已订阅" in (await ask(api, "/subscribe")).text
        assert "已经订阅" in (await ask(api, "/subscribe")).text
        assert "已关注“调查研究”" in (await ask(api, "/watch 调查研究")).text
        assert "已经在关注" in (await ask(api, "/watch 调查研究")).text
        assert "• 调查研究" in (await ask(api, "/watches")).text
        assert "已取消关注" in (await ask(api, "/unwatch 调查研究")).text
        assert "没有关注" in (await ask(api, "/unwatch 调查研究")).text
        assert "还没有关注" in (await ask(api, "/watches")).text
        assert "已取消订阅" in (await ask(api, "/unsubscribe")).text
        assert "还没有订阅" in (await ask(api, "/unsubscribe")).text
        digest = await ask(api, "/digest")
        assert "每日摘要" in digest.text and "今日一段" in digest.text


async def test_english_users_get_english(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library):
        reply = await ask(api, "which reports mention 四下基层", language_code="en")
        assert "<b>2</b> reports mention “四下基层”" in reply.text and "¶4" in reply.text


async def test_admin_upload_unchanged_refused_and_bad_files(api: FakeBotApi, library: Library) -> None:
    report = "新增报告标题汇报\n一、主要做法\n我们坚持四下基层，推动工作落实。\n".encode("gb18030")
    async with running_bot(api, library):
        mark = api.mark()
        api.push_document(report, "new.txt", ADMIN, ADMIN)
        assert "已添加报告 #6 《新增报告标题汇报》，共3段" in (await api.wait_for("sendMessage", since=mark)).text
        mark = api.mark()
        api.push_document(report, "new.txt", ADMIN, ADMIN)
        assert "没有变化" in (await api.wait_for("sendMessage", since=mark)).text
        mark = api.mark()
        api.push_document(report, "new.txt", OTHER, OTHER)
        assert "只有管理员" in (await api.wait_for("sendMessage", chat_id_is(OTHER), since=mark)).text
        mark = api.mark()
        api.push_document(bytes(range(256)) * 20, "junk.txt", ADMIN, ADMIN)
        assert "无法添加：junk.txt" in (await api.wait_for("sendMessage", since=mark)).text
        mark = api.mark()
        api.push_document(b"PK\x03\x04broken", "broken.docx", ADMIN, ADMIN)
        assert "无法添加：broken.docx" in (await api.wait_for("sendMessage", since=mark)).text
        mark = api.mark()
        api.push_document(None, "huge.pdf", ADMIN, ADMIN, file_size=500 * 1024 * 1024)
        assert "文件太大" in (await api.wait_for("sendMessage", since=mark)).text
        assert not [c for c in api.calls("getFile") if c.seq >= mark]  # refused before download
        answer = await ask(api, "哪些报告提到四下基层")
        assert "共有 <b>3</b> 份报告" in answer.text
    assert library.stats()["reports"] == 6


def chat_id_is(chat_id: int):  # type: ignore[no-untyped-def]
    return lambda call: call.chat_id == chat_id


async def test_bad_questions_get_clear_answers(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library):
        assert "太长" in (await ask(api, "四" * 10_000)).text
        assert "没有找到" in (await ask(api, "😀😀😀")).text
        html_like = await ask(api, "<b>四下基层</b> & <script>")
        assert "&lt;b&gt;" not in html_like.text or "<b>四下基层</b>" in html_like.text
        sql = await ask(api, "'; DROP TABLE reports; --")
        assert sql.response_status == 200
    assert library.stats()["reports"] == 5


async def test_allow_list_refuses_other_chats(api: FakeBotApi, library: Library) -> None:
    settings = bot_settings(api, library.store.path, REPORTBOT_ALLOWED_CHATS=str(USER))  # type: ignore[arg-type]
    async with running_bot(api, library, settings):
        assert "仅供内部使用" in (await ask(api, "哪些报告提到四下基层", chat_id=OTHER, user_id=OTHER)).text
        assert "四下基层" in (await ask(api, "哪些报告提到四下基层")).text
        mark = api.mark()
        api.push_inline_query("四下基层", OTHER)
        assert (await api.wait_for("answerInlineQuery", since=mark)).params["results"] == []


async def test_rate_limit_is_friendly(api: FakeBotApi, library: Library) -> None:
    settings = bot_settings(api, library.store.path, REPORTBOT_RATE_LIMIT="2")  # type: ignore[arg-type]
    async with running_bot(api, library, settings):
        await ask(api, "四下基层")
        await ask(api, "三会一课")
        assert "太快" in (await ask(api, "主题党日")).text
        assert "太快" not in (await ask(api, "主题党日", chat_id=OTHER, user_id=OTHER)).text


async def test_token_never_reaches_logs(api: FakeBotApi, library: Library, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_bot(api, library):
        await ask(api, "哪些报告提到四下基层")
        api.fail_next("sendMessage", status=500)
        await ask(api, "/stats")
    assert caplog.records and "handled in" in caplog.text
    assert api.token not in caplog.text
    assert api.token.split(":")[1] not in caplog.text


async def test_mention_pages_are_quoted_when_turned_to(api: FakeBotApi, library: Library) -> None:
    for i in range(6):
        text = f"第{i + 1}号单位工作汇报\n本单位坚持四下基层，开展调研{i + 1}次。\n"
        assert ingest_bytes(library, f"extra_{i}.txt", text.encode()).status == "added"
    async with running_bot(api, library):
        first = await ask(api, "哪些报告提到四下基层")
        assert "共有 <b>8</b> 份报告提到“四下基层”" in first.text and first.text.count("<blockquote>") == 5
        nav = next(data for label, data in buttons(first) if "下一页" in label)
        mark = api.mark()
        api.push_callback_query(nav, USER, USER, first.result["message_id"])
        second = await api.wait_for("editMessageText", since=mark)
    assert "第 2/2 页" in second.text and second.text.count("<blockquote>") == 3
    assert second.text.count("<b>四下基层</b>") == 3


@pytest.mark.parametrize(
    "question", ["哪些报告提到四下基层", "哪些报告提到党", "哪些报告提到主题教育", "全县生产总值达到多少"]
)
async def test_answers_are_the_same_from_a_large_librarys_compiled_paths(
    api: FakeBotApi,
    library: Library,
    tmp_path: Path,
    segmenter: Segmenter,
    question: str,
) -> None:
    """A large library (bigram-indexed mention finder, ranked questions scored term at a time; compiled loops warmed
    by the start job) answers through the bot exactly as a small one does; thresholds are lowered so the bundled
    reports take the large library's paths."""
    async with running_bot(api, library):
        scanned = (await ask(api, question)).text
    indexed = Library(
        Store(tmp_path / "indexed.db"),
        segmenter,
        tuning=Tuning(compiled_min=0, term_at_a_time=1e9, first_depth=2, impact_min_postings=2),
        mention_tuning=MentionTuning(index_min_units=1),
    )
    assert ingest_paths(indexed, [REPORTS]).ok
    assert any(isinstance(chunk, _IndexedChunk) for chunk in indexed._passages.mentions._chunks)
    try:
        async with running_bot(api, indexed):
            assert (await ask(api, question)).text == scanned
    finally:
        indexed.store.close()


async def test_a_scoped_answer_shows_its_scope(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library):
        reply = await ask(api, "第四份报告存在哪些问题")
        missing = await ask(api, "#9 存在哪些问题")
        english = await ask(api, "#9 存在哪些问题", language_code="en")
    # a part question scoped to one report: that report's problems, whole
    assert reply.text.startswith("<i>范围：第4份报告</i>\n<b>#4 《第二批主题教育10月份阶段性总结》</b>")
    assert "“存在问题”部分" in reply.text
    assert "一是部分党员学习主动性不够" in reply.text and "二是学习教育覆盖面不广" in reply.text
    assert "范围：#9" in missing.text and "没有#9；共有 5 份报告（#1–#5）" in missing.text
    assert "Scope: #9" in english.text and "there are 5 reports (#1–#5)" in english.text


async def test_admin_uploads_a_word_97_file(api: FakeBotApi, library: Library) -> None:
    paragraphs = ["一、主要做法", "我们坚持四下基层，2024年新建5G基站52处。"]
    doc = libreoffice_export(word_document("旧版Word格式的报告", paragraphs), ["doc"])["doc"]
    async with running_bot(api, library):
        mark = api.mark()
        api.push_document(doc, "旧版报告.doc", ADMIN, ADMIN)
        assert "已添加报告 #6 《旧版Word格式的报告》" in (await api.wait_for("sendMessage", since=mark)).text
        answer = await ask(api, "哪些报告提到5G基站")
        assert "《旧版Word格式的报告》" in answer.text


async def test_admin_photo_becomes_a_report_while_the_bot_keeps_answering(api: FakeBotApi, library: Library) -> None:
    paragraph = "我们坚持四下基层，深入一线了解群众急难愁盼问题。"
    jpeg, width, height = photo_jpeg([paragraph])
    async with running_bot(api, library):
        mark = api.mark()
        api.push_photo(jpeg, width, height, ADMIN, ADMIN)
        # OCR runs in a child process off the event loop: a question asked meanwhile is answered at once
        answer = await ask(api, "哪些报告提到四下基层")
        assert "共有 <b>2</b> 份报告" in answer.text
        added = await api.wait_for("sendMessage", chat_id_is(ADMIN), timeout=240, since=mark)
        assert added.seq > answer.seq
        assert "已添加报告 #6" in added.text
        assert "共有 <b>3</b> 份报告" in (await ask(api, "哪些报告提到四下基层")).text
        # anyone else's photo gets the polite refusal, never silence
        mark = api.mark()
        api.push_photo(jpeg, width, height, OTHER, OTHER)
        assert "只有管理员" in (await api.wait_for("sendMessage", chat_id_is(OTHER), since=mark)).text


async def test_reports_newest_first_filtered_and_an_outline_with_date_unit_and_parts(
    api: FakeBotApi, library: Library
) -> None:
    async with running_bot(api, library):
        listing = await ask(api, "/reports")
        filtered = await ask(api, "/reports 2023")
        by_unit = await ask(api, "/reports 县委")
        nothing = await ask(api, "/reports 广东")
        mark = api.mark()
        api.push_callback_query("r:0:县委", USER, USER, filtered.result["message_id"])
        page = await api.wait_for("editMessageText", since=mark)
        outline = await ask(api, "/report 4")
        english = await ask(api, "/report 3", language_code="en")
    # newest first: the one dated report, then the others by number
    assert [line.split(" ")[0] for line in listing.text.splitlines()[1:]] == ["#3", "#1", "#2", "#4", "#5"]
    assert "#2 《主题教育开展情况》 · **区 · 15段" in listing.text
    assert filtered.text == "符合“2023”的报告共 1 份：\n#3 《2023年主题教育开展情况汇报》 · 2023 · *县委 · 11段"
    assert by_unit.text.splitlines()[1].startswith("#3 ") and len(by_unit.text.splitlines()) == 2
    assert "没有符合“广东”的报告" in nothing.text
    assert page.text == by_unit.text  # the page buttons keep the filter
    head = outline.text.splitlines()
    assert head[:3] == [
        "#4 《第二批主题教育10月份阶段性总结》",
        "日期：未知 · 单位：X党组",
        "12段 · 来源：003_76e823c6e0fb73eb.txt",
    ]
    assert "存在问题 <i>(§9–10)</i>" in head[-1]  # and where its parts run
    assert "Date: 2023 · Unit: *县委" in english.text


async def test_admins_edit_a_report_and_others_cannot(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library):
        refused = await ask(api, "/edit 4 日期 2023-10-31")
        usage = await ask(api, "/edit 4", chat_id=ADMIN, user_id=ADMIN)
        bad_field = await ask(api, "/edit 4 颜色 红", chat_id=ADMIN, user_id=ADMIN)
        dated = await ask(api, "/edit 4 日期 2023-10-31", chat_id=ADMIN, user_id=ADMIN)
        titled = await ask(api, "/edit 4 title 第二批主题教育10月份总结", chat_id=ADMIN, user_id=ADMIN)
        bad_date = await ask(api, "/edit 4 date 2023-02-30", chat_id=ADMIN, user_id=ADMIN)
        unknown = await ask(api, "/edit 99 单位 X局", chat_id=ADMIN, user_id=ADMIN)
        listing = await ask(api, "/reports")
        undated = await ask(api, "/edit 4 日期 -", chat_id=ADMIN, user_id=ADMIN)
        reset = await ask(api, "/edit 4 还原 标题", chat_id=ADMIN, user_id=ADMIN)
    assert "只有管理员可以修改" in refused.text
    assert "用法：/edit 编号 字段 新内容" in usage.text and "用法：/edit" in bad_field.text
    assert dated.text == "已修改报告 #4：\n#4 《第二批主题教育10月份阶段性总结》 · 2023-10-31 · X党组 · 12段"
    assert "《第二批主题教育10月份总结》" in titled.text
    assert "日期无法识别：2023-02-30" in bad_date.text
    assert "没有编号为 99 的报告" in unknown.text
    assert listing.text.splitlines()[1].startswith("#4 《第二批主题教育10月份总结》 · 2023-10-31")  # now the newest
    assert undated.text == "已修改报告 #4：\n#4 《第二批主题教育10月份总结》 · X党组 · 12段"
    assert reset.text == "已修改报告 #4：\n#4 《第二批主题教育10月份阶段性总结》 · X党组 · 12段"
    assert library.store.corrections(4) == {"date": None}  # the title's correction is gone, "no date" stays


async def test_reports_of_the_same_title_are_told_apart(api: FakeBotApi, library: Library) -> None:
    def report(day: str, area: str) -> bytes:
        return (
            f"政府工作报告\n——{day}在{area}第十四届人民代表大会第二次会议上\n各位代表：\n"
            f"一、过去一年工作回顾\n{area}大力发展首发经济，推动消费提质升级，全年新开首店120家。\n"
        ).encode()

    async with running_bot(api, library):
        for name, day, area in (("a.txt", "2024年1月20日", "甲省"), ("b.txt", "2025年1月22日", "甲省")):
            mark = api.mark()
            api.push_document(report(day, area), name, ADMIN, ADMIN)
            await api.wait_for("sendMessage", since=mark)
        mention = await ask(api, "哪些报告提到首发经济")
        search = await ask(api, "/search 首店")
        listing = await ask(api, "/reports 甲省")
        outline = await ask(api, "/report 7")
    assert "#7 《政府工作报告》（2025-01-22）" in mention.text and "#6 《政府工作报告》（2024-01-20）" in mention.text
    assert "— 《政府工作报告》（2025-01-22） · 一、过去一年工作回顾 · 第5段" in search.text
    assert listing.text.splitlines()[1:] == [
        "#7 《政府工作报告》 · 2025-01-22 · 甲省人民政府 · 5段",
        "#6 《政府工作报告》 · 2024-01-20 · 甲省人民政府 · 5段",
    ]
    assert outline.text.startswith("#7 《政府工作报告》（2025-01-22）\n日期：2025-01-22 · 单位：甲省人民政府")
