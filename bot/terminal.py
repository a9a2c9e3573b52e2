"""The terminal chat (`reportbot run` without a token): the bot's own rendering, shown as plain text."""

from __future__ import annotations

import html
import re
import sys
from typing import TextIO

from retrieval import Answer, Library, UnknownReport
from retrieval.compare import compare_question
from retrieval.copies import copies
from retrieval.followup import Conversations
from retrieval.trend import trend, trend_question

from . import render
from .followups import Turn, follow_up, turn_reply
from .followups import read as read_follow_up
from .handlers import ask_for_chat, mentions_for_chat
from .texts import ZH, t

TERMINAL_CHAT = 0  # the terminal chat is one conversation
_TAG = re.compile(r"<(/?)([a-z-]+)[^>]*>")


def to_terminal(text: str, *, color: bool) -> str:
    """Telegram HTML as terminal text: bold as ANSI bold (or 【】 when not a terminal), quotes indented."""
    out: list[str] = []
    last = 0
    for match in _TAG.finditer(text):
        out.append(html.unescape(text[last : match.start()]))
        closing, tag = match.group(1) == "/", match.group(2)
        if tag in ("b", "strong"):
            out.append(("\033[1m" if not closing else "\033[0m") if color else ("】" if closing else "【"))
        elif tag == "blockquote":
            out.append("\n" if closing else "\n｜")
        last = match.end()
    out.append(html.unescape(text[last:]))
    plain = "".join(out)
    lines: list[str] = []
    inside = False
    for line in plain.split("\n"):
        if line.startswith("｜"):
            inside = True
            line = line[1:]
        lines.append(("  ｜ " + line) if inside and line else line)
        if inside and not line:
            inside = False
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def answer_text(
    library: Library,
    question: str,
    *,
    color: bool = False,
    lang: str = ZH,
    conversation: Conversations | None = None,
) -> str:
    """Exactly what the bot would send first for `question` (or for one of the browsing commands), as text; with
    a `conversation`, a follow-up (那2019年呢, 下一页) refers to its previous question as in the bot."""
    replies = _command_replies(library, question.strip(), lang)
    if replies is None and (term := trend_question(question)) is not None:
        replies = render.trend_replies(trend(library, term), lang)  # the chat has no picture: the table
    if replies is None and conversation is not None:
        found = read_follow_up(library, conversation.last(TERMINAL_CHAT), question)
        if found is not None:
            turn = follow_up(library, found, lang)
            if isinstance(turn, Turn):
                conversation.remember(TERMINAL_CHAT, turn.question, turn.answer, turn.page)
                turn = turn_reply(turn, lang, None)
            replies = [turn]
    if replies is None:
        answer = ask_for_chat(library, question)
        refusal = render.refusal_reply(answer, lang)
        if conversation is not None and refusal is None:
            conversation.remember(TERMINAL_CHAT, question, answer)
        replies = [refusal or render.answer_reply(answer, lang, page=0)]
    return "\n\n".join(to_terminal(reply.text, color=color) for reply in replies)


def whole_answer_text(answer: Answer, *, lang: str = ZH, color: bool = False) -> str:
    """A whole answer as text (`reportbot ask`): every page as the chat shows them, a part answer of several
    reports with each report's part whole."""
    return "\n\n".join(to_terminal(reply.text, color=color) for reply in render.whole_answer_replies(answer, lang))


def _command_replies(library: Library, line: str, lang: str) -> list[render.Reply] | None:
    """The commands that make sense without Telegram; None when the line is a question."""
    if not line.startswith("/"):
        return None
    command, _, argument = line[1:].partition(" ")
    argument = argument.strip()
    try:
        if command in ("start", "help"):
            return [render.Reply(t("help", lang, username="reportbot"))]
        if command == "reports":  # /reports [2024 | 广东]: newest first, of a year or unit when one is named
            return [render.reports_reply(library.browse(argument or None), lang, query=argument)]
        if command == "report" and argument:
            return render.outline_replies(library.outline(argument), lang)
        if command == "stats":
            numbers = library.stats()
            return [render.Reply(t("stats", lang, **{**numbers, "last_ingest": numbers["last_ingest"] or "—"}))]
        if command == "search" and argument:
            return [render.answer_reply(library.search(argument, limit=render.SEARCH_LIMIT), lang)]
        if command == "copies" and argument.lstrip("#").isdigit():
            return render.copies_replies(copies(library, int(argument.lstrip("#"))), lang)
        if command == "trend" and argument:
            return render.trend_replies(trend(library, argument), lang)
        if command == "compare" and argument:
            compared = compare_question(library, argument)
            return [render.Reply(t("usage_compare", lang)) if compared is None else render.answer_reply(compared, lang)]
        if command == "mentions" and argument:
            return [render.answer_reply(mentions_for_chat(library, argument), lang)]
    except UnknownReport:
        return [render.Reply(t("unknown_report", lang, id=render.esc(argument[:20])))]
    return [render.Reply(t("unknown_command", lang))]


def chat(library: Library, stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
    """Answer each line typed or piped in until end of input."""
    stdin = stdin or sys.stdin  # looked up per call: the streams may have been replaced since import
    stdout = stdout or sys.stdout
    interactive = stdin.isatty() and stdout.isatty()
    conversation = Conversations()
    if interactive:
        stdout.write(
            to_terminal(t("start", ZH), color=True) + "\n（没有设置 TELEGRAM_BOT_TOKEN：在终端中问答，Ctrl-D 退出）\n"
        )
    while True:
        if interactive:
            stdout.write("\n问题> ")
            stdout.flush()
        line = stdin.readline()
        if not line:
            break
        if not line.strip():
            continue
        stdout.write(answer_text(library, line.strip(), color=interactive, conversation=conversation) + "\n\n")
        stdout.flush()
