"""Button data: every kind is written within Telegram's 64 bytes and read back as it was written; whatever the bot
would not have written (forged, malformed, odd digits, another kind's) reads as nothing."""

from __future__ import annotations

import pytest
from telegram.constants import InlineKeyboardButtonLimit

from bot import callbacks
from bot.callbacks import (
    AnswerPage,
    AnyButton,
    CopiesExportButton,
    DeleteButton,
    ExampleButton,
    ExportButton,
    FeedbackButton,
    OutlineButton,
    ParagraphButton,
    PartButton,
    ReportsPage,
    SectionButton,
)

TOKEN = "AbC-12_xyzAbC-12"  # as AnswerCache makes them
HUGE = "9" * 25  # beyond SQLite's integers

WRITTEN: list[tuple[AnyButton, str]] = [
    (AnswerPage(TOKEN, 2), f"a:{TOKEN}:2"),
    (ParagraphButton(2, 9), "p:2:9"),
    (ParagraphButton(2, 9, 1), "p:2:9:1"),
    (SectionButton(3, 4), "s:3:4"),
    (SectionButton(3, 4, 0), "s:3:4:0"),
    (PartButton(5, "problems"), "w:5:problems"),
    (ReportsPage(1), "r:1"),
    (ReportsPage(0, "县委"), "r:0:县委"),
    (OutlineButton(3), "o:3"),
    (ExampleButton(0), "x:0"),
    (ExportButton(TOKEN), f"e:{TOKEN}"),
    (FeedbackButton(TOKEN, "down"), f"f:{TOKEN}:down"),
    (CopiesExportButton(4, 20), "k:4:20"),
    (DeleteButton(2, confirmed=True), "d:2:y"),
    (DeleteButton(2, confirmed=False), "d:2:n"),
]


@pytest.mark.parametrize(("button", "data"), WRITTEN, ids=[data for _, data in WRITTEN])
def test_every_kind_reads_back_as_written(button: AnyButton, data: str) -> None:
    assert button.encode() == data
    assert type(button).decode(data) == button and callbacks.decode(data) == button
    assert callbacks.pattern(type(button)).match(data)
    assert not any(callbacks.pattern(other).match(data) for other in callbacks.KINDS if other is not type(button))


def test_every_kind_is_covered() -> None:
    assert {type(button) for button, _ in WRITTEN} == set(callbacks.KINDS)


def test_data_over_telegrams_limit_is_never_written() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        ReportsPage(0, "县" * 30).encode()
    assert InlineKeyboardButtonLimit.MAX_CALLBACK_DATA == 64


@pytest.mark.parametrize(
    "data",
    [
        "",
        "x",
        "zz:1",
        "pick:1",
        "a:token:²",
        "a::1",
        "a:../../etc:1",
        f"a:{TOKEN}",
        "p:²:1",
        "p:1:²",
        f"p:{HUGE}:1",
        f"p:1:2:{HUGE}",
        "p:#2:9",
        "p:1:2:3:4",
        "s:²:1",
        "s:1",
        "w:5:nonsense",
        "w:x:plans",
        "r:²",
        f"r:{HUGE}",
        "r:0:a:b",
        "o:²",
        f"o:{HUGE}",
        "o:1:2",
        "x:²",
        "x:-1",
        "e:",
        "e:../../etc",
        "f:",
        "f:abc",
        "f:abc:maybe",
        f"f:{TOKEN}:up:x",
        "k:abc:20",
        "k:1",
        "k:4:999",
        "k:4:7",
        "k:4:20:x",
        "k:٣:20",
        "d:2:yes",
        "d:x:y",
        "d:٣:y",
        "d:12345678901234:y",
    ],
)
def test_forged_or_malformed_data_reads_as_nothing(data: str) -> None:
    assert callbacks.decode(data) is None
    assert all(kind.decode(data) is None for kind in callbacks.KINDS)


def test_presses_that_send_count_and_page_turns_do_not() -> None:
    """What the rate limit counts: a press that sends a new message; turning a page in place does not."""
    sending = {data for button, data in WRITTEN if button.sends}
    assert sending == {
        "p:2:9",
        "s:3:4",
        "w:5:problems",
        "o:3",
        "x:0",
        f"e:{TOKEN}",
        f"f:{TOKEN}:down",
        "k:4:20",
    }
    assert all(callbacks.sends(data) == (data in sending) for _, data in WRITTEN)
    # forged data counts as its kind's sending form would: the refusal is an answer all the same
    assert callbacks.sends("x:99") and callbacks.sends("e:nosuchtoken") and callbacks.sends("f:abc:maybe")
    assert not callbacks.sends("p:1:2:²") and not callbacks.sends("a:token:²") and not callbacks.sends("cb")
