"""Follow-up questions (那2019年呢, 那三会一课呢, 第二份呢, 更多, 只看存在问题): how they are read, remembered per chat
for 30 minutes, answered by the real bot through the fake Bot API and by the terminal chat."""

from __future__ import annotations

from bot.terminal import answer_text
from fakebotapi import FakeBotApi
from retrieval import Library
from retrieval.followup import (
    REMEMBER_S,
    Conversations,
    NewScope,
    NewTerm,
    NextPage,
    NoSuchReport,
    NthReport,
    OnlyPart,
    Reask,
    read_follow_up,
)
from tests.botharness import OTHER, USER, ask, buttons, running_bot


def test_reading_follow_ups(provincial_library: Library) -> None:
    catalogue = provincial_library.catalogue()
    memory = Conversations()
    assert read_follow_up("那广东呢", memory.last(1), catalogue) is None  # nothing asked yet
    asked_text = "哪些报告提到新质生产力"
    memory.remember(1, asked_text, provincial_library.ask(asked_text, quoted=5))
    asked = memory.last(1)
    scope = read_follow_up("那广东呢？", asked, catalogue)
    assert scope == Reask("广东 哪些报告提到“新质生产力”", None, NewScope("广东"))
    assert read_follow_up("江苏和浙江", asked, catalogue) == Reask(
        "江苏、浙江 哪些报告提到“新质生产力”", None, NewScope("江苏、浙江")
    )
    term = read_follow_up("那低空经济呢", asked, catalogue)
    assert term == Reask("哪些报告提到“低空经济”", None, NewTerm("低空经济"))
    nth = read_follow_up("第二份呢", asked, catalogue)
    assert isinstance(nth, Reask) and isinstance(nth.reading, NthReport) and nth.reading.n == 2
    assert nth.report_ids == frozenset({asked.answer.reports[1].report.id})  # type: ignore[union-attr]
    assert read_follow_up("第四十份呢", asked, catalogue) == NoSuchReport(40, 31)
    assert read_follow_up("更多", asked, catalogue) == NextPage(asked, 1)  # type: ignore[arg-type]
    assert read_follow_up("下一页", asked, catalogue) == NextPage(asked, 1)  # type: ignore[arg-type]
    part = read_follow_up("只看存在问题", asked, catalogue)
    assert isinstance(part, Reask) and part.reading == OnlyPart("problems") and part.question == "存在哪些问题"
    assert part.report_ids is not None and len(part.report_ids) == 31
    # questions of their own are not follow-ups
    for question in ("全省生产总值增长多少", "哪些报告提到四下基层", "各单位存在哪些问题"):
        assert read_follow_up(question, asked, catalogue) is None


def test_remembered_per_chat_for_thirty_minutes(corpus_library: Library) -> None:
    now = [0.0]
    memory = Conversations(clock=lambda: now[0])
    memory.remember(1, "哪些报告提到四下基层", corpus_library.ask("哪些报告提到四下基层"))
    assert memory.last(2) is None
    now[0] = REMEMBER_S - 1
    assert memory.last(1) is not None
    now[0] = REMEMBER_S + 1
    assert memory.last(1) is None


async def test_bot_follow_ups(api: FakeBotApi, library: Library) -> None:
    async with running_bot(api, library):
        await ask(api, "哪些报告提到主题党日")
        term = await ask(api, "那三会一课呢")
        assert term.text.startswith("<i>按“三会一课”重新回答：</i>")
        assert "份报告提到“三会一课”" in term.text
        assert library.ask("哪些报告提到三会一课").reports[0].report.title in term.text  # type: ignore[union-attr]
        year = await ask(api, "那2019年呢？")
        assert year.text.startswith("<i>按“2019年”重新回答：</i>") and "范围：2019年" in year.text
        # another chat has its own previous question: none yet, so this is a question of its own
        other = await ask(api, "那三会一课呢", chat_id=OTHER, user_id=OTHER)
        assert "重新回答" not in other.text
        first = await ask(api, "全县生产总值达到多少？")
        assert "第 1/3 页" in first.text
        more = await ask(api, "更多")
        assert more.text.startswith("<i>上一个回答的第 2 页：</i>") and "第 2/3 页" in more.text
        assert any("上一页" in label for label, _ in buttons(more))
        await ask(api, "下一页")
        done = await ask(api, "下一页")
        assert "上一个回答已经全部显示了" in done.text
        await ask(api, "各单位存在哪些问题")
        second = await ask(api, "第二份呢")
        assert second.text.startswith("<i>只看上一个回答的第2份：#4《第二批主题教育10月份阶段性总结》</i>")
        assert "“存在问题”部分" in second.text
        await ask(api, "哪些报告提到主题教育")
        only = await ask(api, "只看存在问题")
        assert only.text.startswith("<i>只看上一个回答中各报告的“存在问题”部分：</i>")
        assert "共有 <b>3</b> 份报告有“存在问题”部分" in only.text
        english = await ask(api, "more", language_code="en")
        assert "Page 2 of the last answer" in english.text or "all of the last answer" in english.text


def test_terminal_follow_ups(corpus_library: Library) -> None:
    memory = Conversations()
    first = answer_text(corpus_library, "全县生产总值达到多少？", conversation=memory)
    assert "第 1/3 页" in first
    assert "第 2/3 页" in answer_text(corpus_library, "下一页", conversation=memory)
    assert "第 3/3 页" in answer_text(corpus_library, "下一页", conversation=memory)
    answer_text(corpus_library, "哪些报告提到主题党日", conversation=memory)
    term = answer_text(corpus_library, "那三会一课呢", conversation=memory)
    assert term.startswith("按“三会一课”重新回答：") and "提到“三会一课”" in term
    assert USER  # the bot's users and the terminal's one conversation are apart
