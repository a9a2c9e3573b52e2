"""Telegram handlers: each validates its input, calls one library function off the event loop, and sends
what bot/render.py made of the result."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TypeVar

from telegram import (
    CallbackQuery,
    Chat,
    File,
    ForceReply,
    Message,
    Update,
)
from telegram.constants import ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import ApplicationHandlerStop

from retrieval import (
    Answer,
    DatabaseReplaced,
    InvalidCorrection,
    Library,
    Refusal,
    StorageError,
    UnknownParagraph,
    UnknownReport,
    UnreadableReport,
)
from retrieval.answers import MentionsAnswer
from retrieval.compare import compare_question
from retrieval.copies import DEFAULT_MIN_CHARS, copies
from retrieval.export import copies_docx, export_files
from retrieval.extract import SUPPORTED_SUFFIXES
from retrieval.ingest import delete_report, ingest_bytes
from retrieval.normalize import valid_text
from retrieval.parts import Part
from retrieval.query import MAX_QUERY_CHARS
from retrieval.trend import trend, trend_png, trend_question

from . import callbacks, render
from .callbacks import REPORTS_FILTER_MAX_CHARS
from .delivery import with_retries
from .followups import follow_up, turn_reply
from .followups import read as read_follow_up
from .jobs import schedule_index_save
from .render import Reply
from .services import CustomContext, Foreign, Owner, Verdict
from .texts import EXAMPLES, language_of, t, unreadable

log = logging.getLogger(__name__)

WATCH_MAX_CHARS = 30
TYPING_AFTER_S = 0.5


def lang_of(update: Update) -> str:
    """The language to answer in: the Telegram user's."""
    user = update.effective_user
    return language_of(user.language_code if user else None)


async def send(message: Message | None, replies: Sequence[Reply]) -> None:
    """Send replies to the chat of `message`, the first one as a reply to it in groups; retried when the
    Bot API is flaky, so the answer arrives once it recovers."""
    if message is None:
        return
    for i, reply in enumerate(replies):
        quote = i == 0 and _in_group(message)
        await with_retries(
            lambda reply=reply, quote=quote: message.reply_html(  # type: ignore[misc]
                reply.text, reply_markup=reply.markup, do_quote=quote
            ),
            what=f"reply to {message.chat_id}",
        )


def _in_group(message: Message) -> bool:
    return message.chat.type != ChatType.PRIVATE


def _arg_text(context: CustomContext) -> str:
    # lone surrogates (never from Telegram, possible in JSON) would fail SQLite's UTF-8 encoding of a /watch term
    return valid_text(" ".join(context.args or []).strip())


# --- gatekeeping ---------------------------------------------------------------------------------------------


async def gatekeeper(update: Update, context: CustomContext) -> None:
    """Private deployments: chats not on the allow-list get a polite refusal and no content."""
    settings = context.services.settings
    chat = update.effective_chat
    if not settings.allowed_chats:
        return
    user = update.effective_user
    if settings.chat_allowed(chat.id if chat else None) or (user and settings.chat_allowed(user.id)):
        return
    lang = lang_of(update)
    if update.inline_query:
        await update.inline_query.answer([], cache_time=0, is_personal=True)
    elif update.callback_query:
        await update.callback_query.answer(t("not_allowed", lang), show_alert=True)
    elif update.effective_message and chat and chat.type == ChatType.PRIVATE:
        await update.effective_message.reply_html(t("not_allowed", lang))
    raise ApplicationHandlerStop


async def rate_gate(update: Update, context: CustomContext) -> None:
    """Every question, command, inline query and button that sends a message counts against the user's limit;
    over it the user is told once per window and then ignored (each refusal is itself a message)."""
    if not _counts(update, context):
        return
    svc = context.services
    user = update.effective_user
    verdict = svc.limiter.check(user.id if user else None)
    if verdict is Verdict.ALLOW:
        return
    lang = lang_of(update)
    refusal = t("rate_limited", lang, limit=svc.settings.rate_limit)
    if update.inline_query:
        with contextlib.suppress(TelegramError):
            await update.inline_query.answer([], cache_time=0, is_personal=True)
    elif update.callback_query:
        await _ack(update.callback_query, refusal if verdict is Verdict.REFUSE else None)
    elif verdict is Verdict.REFUSE:
        await send(update.effective_message, [Reply(refusal)])
    raise ApplicationHandlerStop


def _counts(update: Update, context: CustomContext) -> bool:
    """Whether an update asks the bot for something (and so counts against the rate limit)."""
    if update.inline_query is not None:
        return bool(update.inline_query.query.strip())
    if update.callback_query is not None:
        return callbacks.sends(update.callback_query.data)
    message = update.message  # edited messages and channel posts are not handled at all
    if message is None or message.document is not None:
        return False
    if (message.text or "").startswith("/"):
        return True
    return message.text is not None and _addressed_text(message, context) is not None


# --- questions -----------------------------------------------------------------------------------------------


def ask_for_chat(library: Library, text: str) -> Answer:
    """A question as a chat shows it: the best passages, or every mentioned report with page one quoted."""
    return library.ask(text, limit=render.SEARCH_LIMIT, quoted=render.MENTIONS_PER_PAGE)


def mentions_for_chat(library: Library, term: str) -> MentionsAnswer:
    """/mentions as a chat shows it (see ask_for_chat)."""
    return library.mentions(term, limit=render.SEARCH_LIMIT, quoted=render.MENTIONS_PER_PAGE)


async def answer_and_send(
    update: Update, context: CustomContext, ask: Callable[[Library], Answer], *, remember: str | None = None
) -> None:
    """Rate-limit, ask the library off the loop, render page one with paging buttons, send; `remember` the
    question for follow-ups in the chat."""
    message = update.effective_message
    if message is None:
        return
    lang = lang_of(update)
    svc = context.services
    work = asyncio.ensure_future(asyncio.to_thread(ask, svc.library))
    done, _ = await asyncio.wait({work}, timeout=TYPING_AFTER_S)
    if not done:
        # only a slow answer earns "typing…": it costs a Bot API call per question, and a hiccup on this
        # cosmetic call must not cost the answer
        with contextlib.suppress(TelegramError):
            await context.bot.send_chat_action(message.chat_id, "typing")
    answer: Answer = await work
    if remember is not None and answer_shown(answer):
        svc.conversations.remember(message.chat_id, remember, answer)
    await send(message, [reply_for(answer, lang, update, context)])


def answer_shown(answer: Answer) -> bool:
    """Whether an answer was given (not refused as empty or too long): what a follow-up can refer to."""
    return not isinstance(answer, Refusal)


def owner_of(update: Update) -> Owner:
    """The chat and user an update comes from: paging buttons answer only them."""
    chat, user = update.effective_chat, update.effective_user
    return Owner(chat.id if chat else None, user.id if user else None)


def reply_for(answer: Answer, lang: str, update: Update, context: CustomContext) -> Reply:
    """The first page of an answer with its buttons; the answer is kept (for the user who asked) for paging,
    export and feedback."""
    refusal = render.refusal_reply(answer, lang)
    if refusal is not None:
        return refusal
    token = context.services.answers.put(answer, owner_of(update))  # for its pages, 导出 and 👍/👎
    return render.with_actions(render.answer_reply(answer, lang, page=0, token=token), token, lang)


def _addressed_text(message: Message, context: CustomContext) -> str | None:
    """The question in a message, or None when a group message is not meant for the bot."""
    text = message.text or ""
    if message.chat.type == ChatType.PRIVATE:
        return text
    username = context.bot.username or ""
    mention = re.compile(re.escape(f"@{username}"), re.IGNORECASE) if username else None
    replied = message.reply_to_message
    to_bot = bool(replied and replied.from_user and replied.from_user.id == context.bot.id)
    if mention is not None and mention.search(text):
        return mention.sub(" ", text).strip()
    return text if to_bot else None


async def question(update: Update, context: CustomContext) -> None:
    """Any text in a private chat, or addressed to the bot in a group, is a question."""
    message = update.effective_message
    if message is None:
        return
    text = _addressed_text(message, context)
    if text is None:
        return
    if await _comment(update, context):
        return
    if (term := trend_question(text)) is not None:
        await send_trend(update, context, term)
        return
    if await _followed_up(update, context, text):
        return
    await answer_and_send(update, context, lambda library: ask_for_chat(library, text), remember=text)


async def _followed_up(update: Update, context: CustomContext, text: str) -> bool:
    """Answer `text` as a follow-up of the chat's previous question (那2019年呢, 更多, 只看存在问题) if it is one."""
    message = update.effective_message
    assert message is not None
    svc = context.services
    asked = svc.conversations.last(message.chat_id)
    if asked is None:
        return False
    reading = await asyncio.to_thread(read_follow_up, svc.library, asked, text)
    if reading is None:
        return False
    lang = lang_of(update)
    found = await asyncio.to_thread(follow_up, svc.library, reading, lang)
    if isinstance(found, Reply):
        await send(message, [found])
        return True
    svc.conversations.remember(message.chat_id, found.question, found.answer, found.page)
    token = svc.answers.put(found.answer, owner_of(update))
    reply = turn_reply(found, lang, token)
    await send(message, [reply if not answer_shown(found.answer) else render.with_actions(reply, token, lang)])
    return True


async def _comment(update: Update, context: CustomContext) -> bool:
    """A reply to the bot's "what did you expect?" after a 👎, by the reader who voted: stored with the vote."""
    message, user = update.effective_message, update.effective_user
    replied = message.reply_to_message if message else None
    if message is None or replied is None:
        return False
    svc = context.services
    feedback_id = svc.comment_prompts.take(message.chat_id, replied.message_id, user.id if user else None)
    if feedback_id is None:
        return False
    comment = valid_text(message.text or "").strip()[:FEEDBACK_COMMENT_MAX_CHARS]
    await asyncio.to_thread(svc.feedback.comment, feedback_id, comment)
    await send(message, [Reply(t("feedback_saved", lang_of(update)))])
    return True


async def _with_argument(
    update: Update, context: CustomContext, usage: str, ask: Callable[[Library, str], Answer], question: str = "{}"
) -> None:
    """Commands that take a query: usage when it is missing, otherwise the answer (remembered for follow-ups as
    `question` with the argument in it)."""
    found = await _term_or_usage(update, context, usage)
    if found is not None:
        argument = found[0]
        await answer_and_send(
            update, context, lambda library: ask(library, argument), remember=question.format(argument)
        )


async def search_command(update: Update, context: CustomContext) -> None:
    """/search QUERY: ranked passages, whatever the question looks like."""
    await _with_argument(update, context, "usage_search", lambda lib, q: lib.search(q, limit=render.SEARCH_LIMIT))


async def mentions_command(update: Update, context: CustomContext) -> None:
    """/mentions TERM: every report that contains the term."""
    await _with_argument(update, context, "usage_mentions", mentions_for_chat, "哪些报告提到“{}”")


async def compare_command(update: Update, context: CustomContext) -> None:
    """/compare 存在问题 [2024年] [广东]: one part of the reports side by side, newest first."""
    found = await _term_or_usage(update, context, "usage_compare")
    if found is None:
        return
    text, message, _ = found
    answer = await asyncio.to_thread(compare_question, context.services.library, text)
    if answer is None:
        await send(message, [Reply(t("usage_compare", lang_of(update)))])
        return
    context.services.conversations.remember(message.chat_id, text, answer)
    await send(message, [reply_for(answer, lang_of(update), update, context)])


async def copies_command(update: Update, context: CustomContext) -> None:
    """/copies ID [N]: the report's runs of N+ characters that stand in other reports, common phrasing apart."""
    found = await _term_or_usage(update, context, "usage_copies")
    if found is None:
        return
    text, message, _ = found
    lang = lang_of(update)
    words = text.split()
    if not (1 <= len(words) <= 2 and all(w.lstrip("#").isdigit() and len(w) <= 9 for w in words)):
        await send(message, [Reply(t("usage_copies", lang))])
        return
    min_chars = int(words[1]) if len(words) == 2 else DEFAULT_MIN_CHARS
    await send(message, await _copies_for(context, int(words[0].lstrip("#")), min_chars, lang))


async def _copies_for(context: CustomContext, report_id: int, min_chars: int, lang: str) -> list[Reply]:
    try:
        found = await asyncio.to_thread(copies, context.services.library, report_id, min_chars=min_chars)
    except UnknownReport:
        return [Reply(t("unknown_report", lang, id=report_id))]
    return render.copies_replies(found, lang)


async def copies_export_button(update: Update, context: CustomContext) -> None:
    """导出 under a /copies answer: the whole result as a .docx (worked out again: it is cheap and keeps nothing)."""
    found = await _pressed(update, callbacks.CopiesExportButton)
    if found is None:
        return
    query, pressed = found
    lang = lang_of(update)
    message = _message_of(query)
    library = context.services.library
    try:
        copied = await asyncio.to_thread(copies, library, pressed.report_id, min_chars=pressed.min_chars)
    except UnknownReport:
        await _ack(query, t("unknown_report", lang, id=pressed.report_id))
        return
    await _ack(query)
    if message is None:
        return
    data = await asyncio.to_thread(copies_docx, copied)
    await with_retries(
        lambda: message.reply_document(
            data, filename=f"查重-{copied.report.id}.docx", caption=t("export_copies", lang), do_quote=False
        ),
        what=f"export to {message.chat_id}",
    )


async def trend_command(update: Update, context: CustomContext) -> None:
    """/trend TERM: the term's mentions per year (or unit, or report) as a chart, with a table."""
    found = await _term_or_usage(update, context, "usage_trend")
    if found is not None:
        await send_trend(update, context, found[0])


async def send_trend(update: Update, context: CustomContext, term: str) -> None:
    """Count off the loop, draw the chart off the loop, send it as a photo with its numbers, then the table."""
    message = update.effective_message
    assert message is not None
    lang = lang_of(update)
    svc = context.services
    if len(term) > MAX_QUERY_CHARS:
        await send(message, [Reply(t("too_long", lang, limit=MAX_QUERY_CHARS))])
        return
    found = await asyncio.to_thread(trend, svc.library, term)
    if found.points:
        png = await asyncio.to_thread(trend_png, found)
        caption = render.trend_caption(found, lang)
        await with_retries(
            lambda: message.reply_photo(png, caption=caption, do_quote=_in_group(message)),
            what=f"chart to {message.chat_id}",
        )
    await send(message, render.trend_replies(found, lang))


# --- browsing ------------------------------------------------------------------------------------------------


async def start(update: Update, context: CustomContext) -> None:
    """/start: what the bot does, with three example questions as buttons."""
    await send(update.effective_message, [render.start_reply(lang_of(update))])


async def help_command(update: Update, context: CustomContext) -> None:
    """/help: how to ask and every command; admins also read how to add and delete reports."""
    lang = lang_of(update)
    text = t("help", lang, username=context.bot.username)
    user = update.effective_user
    if context.services.settings.is_admin(user.id if user else None):
        text += t("help_admin", lang)
    await send(update.effective_message, [Reply(text)])


async def reports_command(update: Update, context: CustomContext) -> None:
    """/reports [2024 | 广东]: the paged list of reports, newest first, of a year or unit when one is named."""
    lang = lang_of(update)
    query = _arg_text(context).replace(":", " ").strip()
    if len(query) > REPORTS_FILTER_MAX_CHARS:
        await send(update.effective_message, [Reply(t("reports_filter_too_long", lang))])
        return
    reports = await asyncio.to_thread(context.services.library.browse, query or None)
    await send(update.effective_message, [render.reports_reply(reports, lang, query=query)])


async def report_command(update: Update, context: CustomContext) -> None:
    """/report ID: a report's outline with a button per section."""
    lang = lang_of(update)
    message = update.effective_message
    assert message is not None
    report_id = _arg_text(context)
    if not report_id:
        await send(message, [Reply(t("usage_report", lang))])
        return
    await send(message, await _outline_for(context, report_id, lang))


async def _outline_for(context: CustomContext, report_id: int | str, lang: str) -> list[Reply]:
    """The outline, or the reason there is none."""
    try:
        outline = await asyncio.to_thread(context.services.library.outline, report_id)
    except UnknownReport:
        return [Reply(t("unknown_report", lang, id=render.esc(str(report_id)[:20])))]
    return render.outline_replies(outline, lang)


async def _paragraph_for(context: CustomContext, report_id: int, number: int, lang: str, page: int = 0) -> list[Reply]:
    """A page of a paragraph in full, or the reason it cannot be shown."""
    try:
        report, paragraph = await asyncio.to_thread(context.services.library.paragraph, report_id, number)
    except UnknownReport:
        return [Reply(t("unknown_report", lang, id=render.esc(str(report_id)[:20])))]
    except UnknownParagraph:
        return [Reply(t("unknown_paragraph", lang, id=render.esc(str(report_id)[:20]), n=number))]
    return [render.paragraph_page(report, paragraph, lang, page)]


async def _part_for(update: Update, context: CustomContext, report_id: int, part: Part, lang: str) -> list[Reply]:
    """One report's part whole (page one, paged when longer), or the reason it cannot be shown."""
    answer = await asyncio.to_thread(context.services.library.part, part, report_ids=frozenset({report_id}))
    if not answer.blocks:  # the report was deleted or replaced by a version without that part
        return [Reply(t("unknown_report", lang, id=report_id))]
    return [reply_for(answer, lang, update, context)]


async def _section_for(context: CustomContext, report_id: int, index: int, lang: str, page: int = 0) -> list[Reply]:
    """A page of a section in full, or the reason it cannot be shown."""
    try:
        report, section, paragraphs = await asyncio.to_thread(context.services.library.section, report_id, index)
    except UnknownReport:
        return [Reply(t("unknown_report", lang, id=render.esc(str(report_id)[:20])))]
    except UnknownParagraph:
        return [Reply(t("expired", lang))]
    return [render.section_page(report, section, paragraphs, lang, page)]


async def stats_command(update: Update, context: CustomContext) -> None:
    """/stats: reports, paragraphs, passages, last ingest; for admins also the readers' feedback."""
    svc = context.services
    lang = lang_of(update)
    numbers = await asyncio.to_thread(svc.library.stats)
    text = t("stats", lang, **{**numbers, "last_ingest": render.esc(str(numbers["last_ingest"] or "—"))})
    user = update.effective_user
    if svc.settings.is_admin(user.id if user else None):  # readers' votes are for the people who run the bot
        text += "\n" + t("stats_feedback", lang, **await asyncio.to_thread(svc.feedback.counts))
    await send(update.effective_message, [Reply(text)])


async def unknown_command(update: Update, context: CustomContext) -> None:
    """Commands the bot does not know: a pointer to /help (in a group only when addressed to this bot: the
    others' commands are none of its business)."""
    message = update.effective_message
    if message is None:
        return
    command = (message.text or "").split(maxsplit=1)[0] if message.text else ""
    _, _, addressee = command.partition("@")
    if _in_group(message) and addressee.lower() != (context.bot.username or "").lower():
        return
    await send(message, [Reply(t("unknown_command", lang_of(update)))])


# --- digest, subscriptions, watches --------------------------------------------------------------------------


async def digest_command(update: Update, context: CustomContext) -> None:
    """/digest: today's digest for this chat, now (the daily one is still sent)."""
    svc = context.services
    chat = update.effective_chat
    assert chat is not None and update.effective_message is not None
    day = datetime.now(svc.settings.tz).date()
    digest = await asyncio.to_thread(svc.subscriptions.digest_for, chat.id, day)
    await send(update.effective_message, render.digest_replies(digest, lang_of(update)))


async def subscribe_command(update: Update, context: CustomContext) -> None:
    """/subscribe: the daily digest for this chat."""
    svc = context.services
    chat = update.effective_chat
    assert chat is not None
    lang = lang_of(update)
    added = await asyncio.to_thread(svc.subscriptions.subscribe, chat.id, lang)
    at = svc.settings.digest_time.strftime("%H:%M")
    await send(update.effective_message, [Reply(t("subscribed" if added else "already_subscribed", lang, time=at))])


async def unsubscribe_command(update: Update, context: CustomContext) -> None:
    """/unsubscribe: no more daily digest."""
    chat = update.effective_chat
    assert chat is not None
    removed = await asyncio.to_thread(context.services.subscriptions.unsubscribe, chat.id)
    await send(update.effective_message, [Reply(t("unsubscribed" if removed else "not_subscribed", lang_of(update)))])


async def _term_or_usage(update: Update, context: CustomContext, usage: str) -> tuple[str, Message, Chat] | None:
    """The command's term with its message and chat, or None after replying with the usage."""
    message, chat = update.effective_message, update.effective_chat
    assert message is not None and chat is not None
    term = _arg_text(context)
    if not term:
        await send(message, [Reply(t(usage, lang_of(update)))])
        return None
    return term, message, chat


async def watch_command(update: Update, context: CustomContext) -> None:
    """/watch TERM: new passages with the term come in the daily digest (subscribing the chat if needed)."""
    lang = lang_of(update)
    found = await _term_or_usage(update, context, "usage_watch")
    if found is None:
        return
    term, message, chat = found
    if len(term) > WATCH_MAX_CHARS:
        await send(message, [Reply(t("watch_too_long", lang, limit=WATCH_MAX_CHARS))])
        return
    svc = context.services
    limit = svc.settings.max_watches
    result = await asyncio.to_thread(svc.subscriptions.watch, chat.id, term, lang, limit=limit)
    if result == "full":
        await send(message, [Reply(t("watch_limit", lang, limit=limit))])
        return
    key = "watching" if result == "added" else "already_watching"
    await send(message, [Reply(t(key, lang, term=render.esc(term)))])


async def unwatch_command(update: Update, context: CustomContext) -> None:
    """/unwatch TERM."""
    lang = lang_of(update)
    found = await _term_or_usage(update, context, "usage_unwatch")
    if found is None:
        return
    term, message, chat = found
    removed = await asyncio.to_thread(context.services.subscriptions.unwatch, chat.id, term)
    await send(message, [Reply(t("unwatched" if removed else "not_watching", lang, term=render.esc(term)))])


async def watches_command(update: Update, context: CustomContext) -> None:
    """/watches: this chat's watched terms."""
    chat = update.effective_chat
    assert chat is not None
    lang = lang_of(update)
    terms = await asyncio.to_thread(context.services.subscriptions.watches, chat.id)
    await send(update.effective_message, render.watches_replies(terms, lang))


# --- buttons and inline mode ---------------------------------------------------------------------------------


B = TypeVar("B", bound=callbacks.ButtonData)


async def _pressed(update: Update, kind: type[B]) -> tuple[CallbackQuery, B] | None:
    """The button press and its data read as `kind`; None after telling the presser the button has expired
    (forged or malformed data, or data of an older version)."""
    query = update.callback_query
    assert query is not None
    pressed = kind.decode(query.data or "")
    if pressed is None:
        await _ack(query, t("expired", lang_of(update)))
        return None
    return query, pressed


OnAnswer = TypeVar("OnAnswer", callbacks.AnswerPage, callbacks.ExportButton, callbacks.FeedbackButton)


async def _kept_answer(
    update: Update, context: CustomContext, kind: type[OnAnswer]
) -> tuple[CallbackQuery, OnAnswer, Answer] | None:
    """A press of a button under a kept answer, its data and the answer it names, for the user who asked it;
    None after saying why not (forged data; forgotten: the bot restarted or kept too many since; someone else's)."""
    found = await _pressed(update, kind)
    if found is None:
        return None
    query, pressed = found
    answer = context.services.answers.get(pressed.token, owner_of(update))
    if answer is None:
        await _ack(query, t("expired", lang_of(update)))
        return None
    if isinstance(answer, Foreign):
        await _ack(query, t("not_your_answer", lang_of(update)))
        return None
    return query, pressed, answer


def _message_of(query: CallbackQuery) -> Message | None:
    """The message a button sits on, when the bot can still reply to it."""
    return query.message if isinstance(query.message, Message) else None


async def _reply_below(query: CallbackQuery, replies: Callable[[], Awaitable[Sequence[Reply]]]) -> None:
    """Stop the button's spinner, then send what the press asked for in the chat of the message it sits on."""
    await _ack(query)
    if (message := _message_of(query)) is not None:
        await send(message, await replies())


InFull = TypeVar("InFull", callbacks.ParagraphButton, callbacks.SectionButton)


async def _show_or_turn(
    update: Update, kind: type[InFull], show: Callable[[InFull, int], Awaitable[list[Reply]]]
) -> None:
    """A paragraph or section read in full: the first press sends its first page as a new message; its page
    buttons turn the pages of that message in place (two million characters are a bounded number of sends)."""
    found = await _pressed(update, kind)
    if found is None:
        return
    query, pressed = found
    if pressed.page is None:
        await _reply_below(query, lambda: show(pressed, 0))
        return
    replies = await show(pressed, pressed.page)
    await _ack(query)
    await _edit(query.edit_message_text, replies[0])


async def answer_page_button(update: Update, context: CustomContext) -> None:
    """上一页/下一页 under an answer: the page, turned in place, for the user who asked."""
    kept = await _kept_answer(update, context, callbacks.AnswerPage)
    if kept is None:
        return
    query, pressed, answer = kept
    lang = lang_of(update)
    svc = context.services
    quoted = await asyncio.to_thread(svc.library.with_quotes, answer, *render.page_range(answer, lang, pressed.page))
    if quoted is not answer:
        svc.answers.replace(pressed.token, quoted)
    reply = render.answer_reply(quoted, lang, page=pressed.page, token=pressed.token)
    await _ack(query)
    await _edit(query.edit_message_text, render.with_actions(reply, pressed.token, lang))


async def paragraph_button(update: Update, context: CustomContext) -> None:
    """全文 under a quote: the paragraph in full; its page buttons turn the pages of a long one."""
    lang = lang_of(update)
    await _show_or_turn(
        update, callbacks.ParagraphButton, lambda p, page: _paragraph_for(context, p.report_id, p.number, lang, page)
    )


async def section_button(update: Update, context: CustomContext) -> None:
    """A heading under an outline: the section in full; its page buttons turn the pages of a long one."""
    lang = lang_of(update)
    await _show_or_turn(
        update, callbacks.SectionButton, lambda s, page: _section_for(context, s.report_id, s.index, lang, page)
    )


async def part_button(update: Update, context: CustomContext) -> None:
    """A part's button (under an outline or a part answer of several reports): that report's part whole."""
    found = await _pressed(update, callbacks.PartButton)
    if found is not None:
        query, w = found
        await _reply_below(query, lambda: _part_for(update, context, w.report_id, w.part, lang_of(update)))


async def reports_page_button(update: Update, context: CustomContext) -> None:
    """上一页/下一页 under /reports: the page of the list (of the year or unit it was asked with), in place."""
    found = await _pressed(update, callbacks.ReportsPage)
    if found is None:
        return
    query, pressed = found
    reports = await asyncio.to_thread(context.services.library.browse, pressed.filter or None)
    await _ack(query)
    reply = render.reports_reply(reports, lang_of(update), pressed.page, query=pressed.filter)
    await _edit(query.edit_message_text, reply)


async def outline_button(update: Update, context: CustomContext) -> None:
    """A report in the /reports list: its outline."""
    found = await _pressed(update, callbacks.OutlineButton)
    if found is not None:
        query, o = found
        await _reply_below(query, lambda: _outline_for(context, o.report_id, lang_of(update)))


async def example_button(update: Update, context: CustomContext) -> None:
    """An example question under /start, answered as if it had been typed."""
    found = await _pressed(update, callbacks.ExampleButton)
    if found is None:
        return
    query, pressed = found
    lang = lang_of(update)
    if pressed.index >= len(EXAMPLES[lang]):
        await _ack(query, t("expired", lang))
        return
    await _reply_below(query, lambda: _answer_for(update, context, EXAMPLES[lang][pressed.index], lang))


async def _answer_for(update: Update, context: CustomContext, text: str, lang: str) -> list[Reply]:
    answer = await asyncio.to_thread(ask_for_chat, context.services.library, text)
    return [reply_for(answer, lang, update, context)]


async def stale_button(update: Update, context: CustomContext) -> None:
    """Button data of no kind this bot writes (forged, or from a version long gone): it has expired."""
    query = update.callback_query
    assert query is not None
    await _ack(query, t("expired", lang_of(update)))


FEEDBACK_COMMENT_MAX_CHARS = 1000


async def export_button(update: Update, context: CustomContext) -> None:
    """导出 under an answer: the answer as a .docx and, for a mention answer, its counts as a spreadsheet."""
    kept = await _kept_answer(update, context, callbacks.ExportButton)
    message = None if kept is None else _message_of(kept[0])
    if kept is None or message is None:
        return
    query, _, answer = kept
    lang = lang_of(update)
    await _ack(query)
    files = await asyncio.to_thread(export_files, context.services.library, answer)
    question = render.label(answer.query, 40)
    for name, data in files:
        caption = t("export_docx" if name.endswith(".docx") else "export_counts", lang, question=question)
        await with_retries(
            lambda name=name, data=data, caption=caption: message.reply_document(  # type: ignore[misc]
                data, filename=name, caption=caption, do_quote=False
            ),
            what=f"export to {message.chat_id}",
        )


async def feedback_button(update: Update, context: CustomContext) -> None:
    """👍 / 👎 under an answer: stored with the question, what it showed and who voted; a 👎 asks what was
    expected (a reply to that question is stored with the vote)."""
    kept = await _kept_answer(update, context, callbacks.FeedbackButton)
    if kept is None:
        return
    query, pressed, answer = kept
    lang = lang_of(update)
    svc = context.services
    chat, user = update.effective_chat, update.effective_user
    feedback_id = await asyncio.to_thread(
        svc.feedback.vote,
        answer_key=pressed.token,
        chat_id=chat.id if chat else None,
        user_id=user.id if user else None,
        vote=pressed.vote,
        answer=answer,
    )
    await _ack_toast(query, t("feedback_thanks", lang))
    message = _message_of(query)
    if pressed.vote == "down" and message is not None:
        prompt = await with_retries(
            lambda: message.reply_html(
                t("feedback_ask", lang),
                reply_markup=ForceReply(selective=True, input_field_placeholder=t("feedback_placeholder", lang)),
                do_quote=False,
            ),
            what=f"feedback question to {message.chat_id}",
        )
        svc.comment_prompts.add(prompt.chat_id, prompt.message_id, feedback_id, user.id if user else None)


async def _ack_toast(query: CallbackQuery, text: str) -> None:
    """Answer a button press with a short notice that goes away by itself."""
    with contextlib.suppress(TelegramError):
        await query.answer(text)


async def _ack(query: CallbackQuery, alert: str | None = None) -> None:
    """Answer a button press (stop the client's spinner, or show `alert`). Best effort: a Bot API failure here,
    or a press answered too late, must not cost the page or paragraph the press asked for."""
    with contextlib.suppress(TelegramError):
        await query.answer(alert, show_alert=alert is not None)


async def _edit(edit: Callable[..., Awaitable[object]], reply: Reply) -> None:
    try:
        # retried like a send: an edit applied twice looks like one ("not modified" below), so this is safe
        await with_retries(
            lambda: edit(reply.text, reply_markup=reply.markup),
            what="edit",
        )
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


async def inline_query(update: Update, context: CustomContext) -> None:
    """Inline mode: `@bot 四下基层` offers the matching passages as results to send."""
    query = update.inline_query
    assert query is not None
    text = query.query.strip()
    lang = lang_of(update)
    if not text:
        await query.answer([], cache_time=5, is_personal=True)
        return
    limit = render.INLINE_RESULTS
    answer = await asyncio.to_thread(context.services.library.ask, text, limit=limit, quoted=limit)
    results = render.inline_results(answer, lang)
    if context.services.settings.allowed_chats:
        await query.answer(results, cache_time=0, is_personal=True)
    else:
        await query.answer(results, cache_time=60, is_personal=False)


# --- admin upload --------------------------------------------------------------------------------------------


async def document(update: Update, context: CustomContext) -> None:
    """A file sent to the bot: admins add reports; anyone else gets a polite refusal."""
    message = update.effective_message
    assert message is not None and message.document is not None
    if not await _may_upload(update, context):
        return
    doc = message.document
    name = doc.file_name or f"{doc.file_unique_id}.txt"
    if not name.lower().endswith(tuple(SUPPORTED_SUFFIXES)):
        await send(message, [Reply(t("upload_unsupported", lang_of(update)))])
        return
    await _add_upload(update, context, name, doc.file_size, doc.get_file)


async def photo(update: Update, context: CustomContext) -> None:
    """A photo sent to the bot: admins add it as a report, read by OCR; anyone else gets a polite refusal."""
    message = update.effective_message
    assert message is not None and message.photo
    if not await _may_upload(update, context):
        return
    largest = message.photo[-1]  # Telegram lists the sizes it made, smallest first
    # The same photo sent again has the same unique id: it is recognised as unchanged, not added twice.
    await _add_upload(update, context, f"photo_{largest.file_unique_id}.jpg", largest.file_size, largest.get_file)


async def _may_upload(update: Update, context: CustomContext) -> bool:
    """Admins may add reports; anyone else is told so in a private chat (files in groups are not for the bot)."""
    svc = context.services
    message = update.effective_message
    user = update.effective_user
    assert message is not None
    if svc.settings.is_admin(user.id if user else None):
        return True
    if message.chat.type == ChatType.PRIVATE:
        await send(message, [Reply(t("upload_refused", lang_of(update)))])
    return False


async def _add_upload(
    update: Update, context: CustomContext, name: str, size: int | None, get_file: Callable[[], Awaitable[File]]
) -> None:
    """Download an admin's file and add it as a report (conversion and OCR run in child processes, off the
    event loop); the reply says what became of it."""
    svc = context.services
    message = update.effective_message
    assert message is not None
    lang = lang_of(update)
    limit = svc.settings.max_upload_mb * 1024 * 1024
    if size is not None and size > limit:
        shown = f"{size / 1024 / 1024:.1f}"
        await send(message, [Reply(t("upload_too_large", lang, size=shown, limit=svc.settings.max_upload_mb))])
        return
    try:
        file = await get_file()
        data = bytes(await file.download_as_bytearray())
    except TelegramError as exc:
        log.warning("download of %s failed: %s", name, exc)
        await send(message, [Reply(t("download_failed", lang))])
        return
    try:
        result = await asyncio.to_thread(ingest_bytes, svc.library, name, data, max_bytes=limit)
    except UnreadableReport as exc:
        await send(message, [Reply(t("upload_failed", lang, reason=render.esc(unreadable(exc, lang))))])
        return
    except StorageError as exc:
        log.error("ingest of %s failed: %s", name, exc)
        await send(message, [Reply(t("storage_failed", lang, reason=render.esc(str(exc)[:200])))])
        if isinstance(exc, DatabaseReplaced):
            svc.halt(str(exc))
        return
    schedule_index_save(context)
    r = result.report
    key = {
        "added": "upload_added",
        "replaced": "upload_replaced",
        "unchanged": "upload_unchanged",
        "duplicate": "upload_duplicate",
    }[result.status]
    await send(message, [Reply(t(key, lang, id=r.id, title=render.esc(r.title), paragraphs=r.paragraph_count))])


# --- admin delete --------------------------------------------------------------------------------------------


async def delete_command(update: Update, context: CustomContext) -> None:
    """/delete ID (admins): the report, with buttons to confirm or cancel; anyone else gets a polite refusal."""
    svc = context.services
    message, user = update.effective_message, update.effective_user
    assert message is not None
    lang = lang_of(update)
    if not svc.settings.is_admin(user.id if user else None):
        await send(message, [Reply(t("delete_refused", lang))])
        return
    report_id = _arg_text(context)
    if not report_id:
        await send(message, [Reply(t("usage_delete", lang))])
        return
    try:
        report = await asyncio.to_thread(svc.library.report, report_id)
    except UnknownReport:
        await send(message, [Reply(t("unknown_report", lang, id=render.esc(str(report_id)[:20])))])
        return
    await send(message, [render.delete_confirm_reply(report, lang)])


async def delete_button(update: Update, context: CustomContext) -> None:
    """The buttons under a /delete question. Anyone can press a button they see (in a group) or send any data
    (a forged press): only an admin's press of well-formed data deletes, checked here, on every press."""
    query = update.callback_query
    assert query is not None
    lang = lang_of(update)
    svc = context.services
    if not svc.settings.is_admin(query.from_user.id):
        await _ack(query, t("delete_refused", lang))
        return
    found = await _pressed(update, callbacks.DeleteButton)
    if found is None:
        return
    report_id = found[1].report_id
    if not found[1].confirmed:
        await _ack(query)
        await _edit(query.edit_message_text, Reply(t("delete_cancelled", lang, id=report_id)))
        return
    try:
        report = await asyncio.to_thread(delete_report, svc.library, report_id)
    except UnknownReport:  # pressed twice, or deleted meanwhile by another admin or the CLI
        await _ack(query, t("delete_gone", lang, id=report_id))
        return
    except StorageError:
        await _ack(query)
        raise  # error_handler says the database cannot be written
    svc.answers.clear()  # pages kept for paging buttons could quote the deleted report
    schedule_index_save(context)
    await _ack(query)
    await _edit(query.edit_message_text, Reply(t("deleted", lang, id=report.id, title=render.label(report.title))))


# --- admin edit ----------------------------------------------------------------------------------------------

# /edit ID FIELD VALUE: the field in English or Chinese; "reset"/"还原" FIELD drops a correction.
EDIT_FIELDS = {"title": "title", "标题": "title", "date": "date", "日期": "date", "unit": "unit", "单位": "unit"}
EDIT_RESET = frozenset({"reset", "还原", "恢复"})
EDIT_UNKNOWN = frozenset({"-", "—", "无", "未知", "none"})


async def edit_command(update: Update, context: CustomContext) -> None:
    """/edit ID title|date|unit VALUE (admins): correct a report's title, date or unit; /edit ID reset FIELD undoes
    it. Anyone else gets a polite refusal; a malformed command gets the usage."""
    svc = context.services
    message, user = update.effective_message, update.effective_user
    assert message is not None
    lang = lang_of(update)
    if not svc.settings.is_admin(user.id if user else None):
        await send(message, [Reply(t("edit_refused", lang))])
        return
    args = [valid_text(a) for a in context.args or []]
    if len(args) < 3:
        await send(message, [Reply(t("usage_edit", lang))])
        return
    report_id, word, value = args[0], args[1].lower(), " ".join(args[2:]).strip()
    reset = word in EDIT_RESET
    name = EDIT_FIELDS.get(value.lower() if reset else word)
    if name is None or (reset and len(args) != 3):
        await send(message, [Reply(t("usage_edit", lang))])
        return
    try:
        if reset:
            report = await asyncio.to_thread(svc.library.uncorrect, report_id, [name])
        else:
            change = None if name != "title" and value.lower() in EDIT_UNKNOWN else value
            report = await asyncio.to_thread(svc.library.edit, report_id, {name: change})
    except UnknownReport:
        await send(message, [Reply(t("unknown_report", lang, id=render.esc(str(report_id)[:20])))])
        return
    except InvalidCorrection as exc:
        key = "edit_bad_date" if exc.field == "date" else "edit_empty_title"
        await send(message, [Reply(t(key, lang, value=render.esc(exc.value[:40])))])
        return
    svc.answers.clear()  # pages kept for paging buttons show the report as it was
    await send(message, [render.edited_reply(report, lang)])


async def error_handler(update: object, context: CustomContext) -> None:
    """Log the error (never the token) and tell the user plainly: a storage failure by name (questions still
    work), anything else without details."""
    log.error("error while handling an update: %s", context.error, exc_info=context.error)
    if isinstance(update, Update) and update.effective_message and update.effective_chat:
        chat: Chat = update.effective_chat
        lang = lang_of(update)
        text = (
            t("storage_failed", lang, reason=render.esc(str(context.error)[:200]))
            if isinstance(context.error, StorageError)
            else t("error", lang)
        )
        with contextlib.suppress(TelegramError):
            await context.bot.send_message(chat.id, text)
    if isinstance(context.error, DatabaseReplaced):
        context.services.halt(str(context.error))
