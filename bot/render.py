"""All Telegram rendering: HTML (escaped), the 4,096-character limit, and inline keyboards.

Handlers get plain data from the library and turn it into `Reply` objects here, nowhere else. Long content is
split between blocks or at sentence boundaries before escaping, so a message never ends inside a tag.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import assert_never

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InlineQueryResultArticle, InputTextMessageContent
from telegram.constants import MessageLimit

from retrieval import (
    Answer,
    InScope,
    MentionAnswer,
    MentionGroup,
    MissingReports,
    MissingTitle,
    MissingYears,
    NoMentionAnswer,
    NoOverlap,
    Outline,
    OutOfScope,
    OutOfScopeAnswer,
    PartAnswer,
    PartBlock,
    Quote,
    RankedAnswer,
    Refusal,
    Report,
    ReportMentions,
    Scope,
)
from retrieval.answers import answer_scope, quoted
from retrieval.compare import point_heads
from retrieval.copies import Copies
from retrieval.digest import Digest
from retrieval.query import MAX_QUERY_CHARS
from retrieval.store import StoredParagraph, StoredSection
from retrieval.trend import Trend, TrendPoint

from . import callbacks
from .texts import EXAMPLES, t

# Telegram's limits are python-telegram-bot's constants (MessageLimit, InlineKeyboardButtonLimit, ...); these are
# our own choices within them.
BUDGET = MessageLimit.MAX_TEXT_LENGTH - 196  # leaves room for a page line under the longest block
DIGEST_MAX_MESSAGES = 3  # one chat's digest; the rest is named in a closing line
DIGEST_MORE_UNITS = 150  # room kept in the last message for that line
INLINE_RESULTS = 10  # results offered to an inline query (Telegram takes up to InlineQueryLimit.RESULTS)
INLINE_DESCRIPTION_CHARS = 120
MENTIONS_PER_PAGE = 5
GROUPS_PER_PAGE = 10
GROUP_REPORTS_MAX = 40  # reports named on one line of a grouped mention answer (the JSON answer has them all)
GROUP_TITLES_MAX = 3  # a group with more reports names them by id only
PASSAGES_PER_PAGE = 4
REPORTS_PER_PAGE = 10
SEARCH_LIMIT = 12
PART_BLOCKS_PER_PAGE = 3
PART_EXCERPT_CHARS = 280
POINTS_SHOWN = 6  # numbered points of a part shown on a page of several reports
POINT_HEAD_CHARS = 60
LABEL_MAX = 60  # titles and headings from .docx files can be paragraphs long
SUMMARY_SENTENCE_MAX = 160
_SENTENCE = re.compile(r"[^。！？；!?;\n]*[。！？；!?;\n]+|[^。！？；!?;\n]+")


@dataclass(frozen=True)
class Reply:
    """One message to send: HTML text and an optional inline keyboard."""

    text: str
    keyboard: tuple[tuple[tuple[str, str], ...], ...] = field(default=())  # rows of (label, callback data)

    @property
    def markup(self) -> InlineKeyboardMarkup | None:
        """The keyboard as PTB wants it."""
        if not self.keyboard:
            return None
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in self.keyboard]
        )


def units(text: str) -> int:
    """Length as Telegram limits it: UTF-16 code units, so an emoji or a CJK Extension B character counts twice.
    Every budget here is in these units, of the escaped HTML (never less than what Telegram counts)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def esc(text: str) -> str:
    """Escape text for Telegram HTML."""
    return html.escape(text, quote=False)


def label(text: str, limit: int = LABEL_MAX) -> str:
    """A title, section or file name as shown in a line: shortened, escaped."""
    return esc(_short(text, limit))


def titled(title: str, distinction: str | None = None, limit: int = LABEL_MAX) -> str:
    """《title》, with what tells the report apart from others of the same title: 《政府工作报告》（2024-03-05）."""
    return f"《{label(title, limit)}》" + (f"（{esc(distinction)}）" if distinction else "")


def report_title(report: Report, limit: int = LABEL_MAX) -> str:
    """A report's 《title》, told apart from others of its title."""
    return titled(report.title, report.distinction, limit)


def split_escaped(text: str, budget: int = BUDGET) -> list[str]:
    """Escape `text` into pieces of at most `budget` characters, cut between sentences where possible."""
    pieces: list[str] = []
    current = ""
    for sentence in _SENTENCE.findall(text):
        escaped = esc(sentence)
        while units(escaped) > budget:  # one enormous sentence: cut by characters, never inside an entity
            cut = budget
            while (excess := units(escaped[:cut]) - budget) > 0:  # wide characters: each dropped one frees 1-2
                cut -= (excess + 1) // 2
            amp = escaped.rfind("&", 0, cut)
            if amp != -1 and escaped.find(";", amp) >= cut:
                cut = amp
            if current:
                pieces.append(current)
                current = ""
            pieces.append(escaped[:cut])
            escaped = escaped[cut:]
        if units(current) + units(escaped) > budget:
            pieces.append(current)
            current = ""
        current += escaped
    if current or not pieces:
        pieces.append(current)
    return pieces


def pack(blocks: Sequence[str], budget: int = BUDGET, separator: str = "\n\n") -> list[str]:
    """Join HTML blocks (or lines) into as few messages as fit, never splitting a block."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        if current and units(current) + len(separator) + units(block) > budget:
            messages.append(current)
            current = ""
        current = f"{current}{separator}{block}" if current else block
    if current:
        messages.append(current)
    return messages


def highlighted(quote: Quote, max_chars: int | None = None) -> str:
    """The quote's text, escaped, with the matched terms in <b>; cut to `max_chars` around the first match when
    a page would not fit otherwise."""
    text, spans = quote.text, quote.highlights
    prefix = suffix = ""
    if max_chars is not None and len(text) > max_chars:
        first = spans[0][0] if spans else 0
        start = max(0, min(first - max_chars // 4, len(text) - max_chars))
        end = start + max_chars
        spans = tuple((max(a, start) - start, min(b, end) - start) for a, b in spans if a < end and b > start)
        prefix, suffix = ("…" if start else ""), ("…" if end < len(text) else "")
        text = text[start:end]
    out: list[str] = [prefix]
    last = 0
    for start, end in spans:
        out.append(esc(text[last:start]))
        out.append(f"<b>{esc(text[start:end])}</b>")
        last = end
    out.append(esc(text[last:]))
    out.append(suffix)
    return "".join(out)


def source_line(quote: Quote, lang: str) -> str:
    """《title》 · section · 第N段"""
    return "— " + t(
        "source",
        lang,
        title=titled(quote.title, quote.distinction),
        section=label(quote.section) or t("no_section", lang),
        paragraph=quote.paragraph,
    )


def quote_block(quote: Quote, lang: str, max_chars: int | None = None) -> str:
    """A passage as a blockquote with its source under it."""
    return f"<blockquote>{highlighted(quote, max_chars)}</blockquote>\n{source_line(quote, lang)}"


PagedAnswer = RankedAnswer | MentionAnswer | NoMentionAnswer | OutOfScopeAnswer | Refusal  # all but a part answer


def _answer_items(
    answer: PagedAnswer, lang: str
) -> tuple[str, Sequence[ReportMentions | Quote | MentionGroup], int]:
    """Header (under the scope line), the items to page through (mentioned reports, their groups or quotes),
    items per page."""
    resolution = answer_scope(answer)
    scope = "" if resolution is None else scope_line(resolution, lang) + "\n"
    match answer:
        case OutOfScopeAnswer():
            return scope + scope_problem(answer.scope, lang), (), PASSAGES_PER_PAGE
        case MentionAnswer(group=None):
            header = t("mention_head", lang, count=len(answer.reports), term=esc(answer.term))
            return scope + header, answer.reports, MENTIONS_PER_PAGE
        case MentionAnswer(group=group):
            groups = answer.groups()
            count, term = len(answer.reports), esc(answer.term)
            header = t(f"mention_groups_{group}", lang, groups=len(groups), reports=count, term=term)
            return scope + header, groups, GROUPS_PER_PAGE
        case NoMentionAnswer():
            header = t("mention_none", lang, term=esc(answer.term))
            if answer.nearest:
                header += "\n" + t("nearest", lang)
            return scope + header, answer.nearest, PASSAGES_PER_PAGE
        case RankedAnswer():
            if not answer.passages:
                return scope + t("no_results", lang), (), PASSAGES_PER_PAGE
            header = t("search_head", lang, query=esc(_short(answer.query, 40)))
            return scope + header, answer.passages, PASSAGES_PER_PAGE
        case Refusal():
            return _refusal_text(answer, lang), (), PASSAGES_PER_PAGE
        case _:
            assert_never(answer)


def scope_label(scope: Scope, lang: str) -> str:
    """The scope as named: 2024年 · 广东省 · #4 · 《…》 (escaped)."""
    parts = []
    if scope.titles:
        parts.append("、".join(f"《{label(title)}》" for title in scope.titles))
    if scope.numbers or scope.ids:
        refs = [t("scope_number", lang, n=n) for n in scope.numbers] + [f"#{i}" for i in scope.ids]
        parts.append("、".join(refs))
    if scope.years:
        parts.append("、".join(t("scope_year", lang, year=year) for year in scope.years))
    if scope.units:
        parts.append("、".join(label(unit) for unit in scope.units))
    return " · ".join(parts)


def scope_line(resolution: InScope | OutOfScope, lang: str) -> str:
    """范围：2024年 · 广东省 — the scope an answer was made from."""
    named = scope_label(resolution.scope, lang)
    if isinstance(resolution, InScope) and resolution.everything:
        named = t("scope_everything", lang, scope=named)
    return "<i>" + t("scope_line", lang, scope=named) + "</i>"


def _report_refs(reports: Sequence[Report], lang: str, limit: int = 5) -> str:
    shown = "、".join(f"#{r.id}{report_title(r, 24)}" for r in reports[:limit])
    return shown + (t("group_more", lang, count=len(reports)) if len(reports) > limit else "")


def scope_problem(resolution: OutOfScope, lang: str) -> str:
    """Why a scope names no report, and what there is instead."""
    problem = resolution.problem
    if isinstance(problem, MissingYears):
        years = "、".join(t("scope_year", lang, year=y) for y in problem.years)
        if not problem.available:
            return t("scope_no_dates", lang, years=years)
        available = "、".join(t("scope_year", lang, year=y) for y in problem.available)
        return t("scope_no_year", lang, years=years, available=available)
    if isinstance(problem, MissingReports):
        if not problem.count:
            return t("scope_no_reports", lang)
        refs = scope_label(problem.scope, lang)
        return t("scope_no_report", lang, refs=refs, count=problem.count, first=problem.first, last=problem.last)
    if isinstance(problem, MissingTitle):
        return t("scope_no_title", lang, title=label(problem.title))
    if isinstance(problem, NoOverlap):
        lines = [t("scope_no_overlap", lang, scope=scope_label(resolution.scope, lang))]
        for part, reports in problem.parts:
            refs = "、".join(
                f"#{r.id}《{label(r.title, 24)}》" + (f"（{t('scope_year', lang, year=r.year)}）" if r.year else "")
                for r in reports[:5]
            )
            more = t("group_more", lang, count=len(reports)) if len(reports) > 5 else ""
            lines.append(t("scope_part", lang, scope=scope_label(part, lang), reports=refs + more))
        return "\n".join(lines)
    assert_never(problem)


def _group_line(group: MentionGroup, lang: str, *, with_titles: bool, most: int) -> str:
    """One unit or year of a grouped mention answer: its reports (at most `most`) and their mentions."""
    if isinstance(group.key, int):
        key = t("scope_year", lang, year=group.key)
    else:
        key = label(group.key) if group.key else t("unknown_unit" if group.kind == "unit" else "unknown_year", lang)
    titles = with_titles and len(group.reports) <= GROUP_TITLES_MAX
    refs = "、".join(
        f"#{m.report.id}"
        + (report_title(m.report, 24) if titles else "")
        + " "
        + t("mention_count", lang, count=m.mentions)
        for m in group.reports[:most]
    )
    if len(group.reports) > most:
        refs += t("group_more", lang, count=len(group.reports))
    return t("group_line", lang, name=key, count=group.mentions, reports=refs)


def _group_blocks(header: str, groups: Sequence[MentionGroup], lang: str) -> list[str]:
    """One page of groups, with fewer words per line until header and lines fit the message budget."""
    for with_titles, most in ((True, GROUP_REPORTS_MAX), (False, GROUP_REPORTS_MAX), (False, 12), (False, 3)):
        blocks = [_group_line(g, lang, with_titles=with_titles, most=most) for g in groups]
        if units(header) + sum(units(b) + 1 for b in blocks) <= BUDGET:
            break
    return blocks


def _page_of(count: int, per_page: int, page: int) -> tuple[int, int]:
    """The page shown when `page` is asked for (clamped to the pages there are), and how many pages there are."""
    pages = max(1, -(-count // per_page))
    return max(0, min(page, pages - 1)), pages


def page_range(answer: Answer, lang: str, page: int) -> tuple[int, int]:
    """Which items page `page` shows (clamped to the pages there are): start and stop."""
    if isinstance(answer, PartAnswer):
        count, per_page = (len(answer.blocks), PART_BLOCKS_PER_PAGE) if len(answer.blocks) > 1 else (1, 1)
    else:
        _, items, per_page = _answer_items(answer, lang)
        count = len(items)
    page, _ = _page_of(count, per_page, page)
    return page * per_page, min(count, (page + 1) * per_page)


def _page_lines(item: ReportMentions | Quote, lang: str) -> tuple[str, Quote | None]:
    """A page item as (title line, quote): a mentioned report heads its quote with its title and count."""
    if isinstance(item, ReportMentions):
        title = (
            f"<b>#{item.report.id} {report_title(item.report)}</b> · {t('mention_count', lang, count=item.mentions)}"
        )
        return title + ("\n" if item.quote is not None else ""), item.quote
    return "", item


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _page_blocks(header: str, items: Sequence[tuple[str, Quote | None]], lang: str) -> list[str]:
    """One page's blocks, quotes cut shorter until header and blocks fit the message budget."""
    for max_chars in (None, 200, 120, 60):
        blocks = [line + (quote_block(quote, lang, max_chars) if quote else "") for line, quote in items]
        if units(header) + sum(units(b) + 2 for b in blocks) <= BUDGET:
            break
    return blocks


def page_count(answer: Answer, lang: str) -> int:
    """How many pages the answer takes."""
    if isinstance(answer, PartAnswer):
        return _part_pages(answer, lang, 0)[2]
    _, items, per_page = _answer_items(answer, lang)
    return _page_of(len(items), per_page, 0)[1]


def refusal_reply(answer: Answer, lang: str) -> Reply | None:
    """The message for a question that was not answered (empty, too long), if it was not."""
    return Reply(_refusal_text(answer, lang)) if isinstance(answer, Refusal) else None


def _refusal_text(refusal: Refusal, lang: str) -> str:
    match refusal.reason:
        case "empty":
            return t("empty", lang)
        case "too_long":
            return t("too_long", lang, limit=MAX_QUERY_CHARS)
        case _:
            assert_never(refusal.reason)


def answer_reply(answer: Answer, lang: str, *, page: int = 0, token: str | None = None) -> Reply:
    """One page of an answer, with 上一页/下一页 (when `token` names the stored question) and 全文 buttons."""
    if isinstance(answer, PartAnswer):
        return part_reply(answer, lang, page=page, token=token)
    return _passages_reply(answer, lang, page=page, token=token)


def whole_answer_replies(answer: Answer, lang: str) -> list[Reply]:
    """Every page of an answer, for a reader without buttons (`reportbot ask`): a part answer of several reports
    gives each report's part whole, as its 全文 button shows it."""
    if isinstance(answer, PartAnswer) and len(answer.blocks) > 1:
        scope = "" if answer.scope is None else scope_line(answer.scope, lang) + "\n"
        head = Reply(scope + t("part_head", lang, count=len(answer.blocks), part=part_name(answer.part, lang)))
        wholes = [PartAnswer(answer.query, answer.part, (block,)) for block in answer.blocks]
        return [head, *(reply for whole in wholes for reply in whole_answer_replies(whole, lang))]
    return [answer_reply(answer, lang, page=page) for page in range(page_count(answer, lang))]


def _nav_row(token: str | None, page: int, pages: int, lang: str) -> tuple[tuple[str, str], ...]:
    """上一页/下一页 for a stored answer of several pages (none without a token)."""
    nav: list[tuple[str, str]] = []
    if token is not None and pages > 1:
        if page > 0:
            nav.append((t("prev", lang), callbacks.AnswerPage(token, page - 1).encode()))
        if page < pages - 1:
            nav.append((t("next", lang), callbacks.AnswerPage(token, page + 1).encode()))
    return tuple(nav)


def _passages_reply(answer: PagedAnswer, lang: str, *, page: int, token: str | None) -> Reply:
    """One page of any answer but a part answer."""
    header, items, per_page = _answer_items(answer, lang)
    page, pages = _page_of(len(items), per_page, page)
    on_page = items[page * per_page : (page + 1) * per_page]
    groups = [item for item in on_page if isinstance(item, MentionGroup)]
    shown = [_page_lines(item, lang) for item in on_page if not isinstance(item, MentionGroup)]
    quotes = [quote for _, quote in shown if quote is not None]
    if groups:
        parts = [header, "\n".join(_group_blocks(header, groups, lang))]
    else:
        parts = [header, *_page_blocks(header, shown, lang)]
    if pages > 1:
        parts.append(t("page", lang, page=page + 1, pages=pages))
    rows: list[tuple[tuple[str, str], ...]] = []
    places = dict.fromkeys((q.report_id, q.paragraph) for q in quotes)  # one button per paragraph
    full = [
        (t("full_paragraph", lang, n=f"#{rid}·{n}"), callbacks.ParagraphButton(rid, n).encode()) for rid, n in places
    ]
    for i in range(0, len(full), 2):
        rows.append(tuple(full[i : i + 2]))
    if nav := _nav_row(token, page, pages, lang):
        rows.append(nav)
    return Reply("\n\n".join(parts), tuple(rows))


def part_name(part: str, lang: str) -> str:
    """主要做法及成效 / 存在问题 / 下一步打算, as the reader calls the part."""
    return t(f"part_{part}", lang)


def _part_paragraph_blocks(block: PartBlock, budget: int) -> list[str]:
    """A part's paragraphs as HTML blocks: headings bold, body paragraphs with their number, long ones cut."""
    blocks: list[str] = []
    for paragraph in block.paragraphs:
        if paragraph.kind == "heading":
            blocks.append(f"<b>{label(paragraph.text, 200)}</b>")
            continue
        pieces = split_escaped(paragraph.text, budget - 20)
        blocks.append(f"<i>§{paragraph.number}</i> {pieces[0]}")
        blocks.extend(pieces[1:])
    return blocks


def part_excerpt(block: PartBlock, max_chars: int = PART_EXCERPT_CHARS) -> str:
    """The opening of a report's part (its body text, headings left out), escaped, cut at `max_chars`; a part made
    of numbered points (一是……二是……) shows each point's first sentence instead, to read reports side by side."""
    text = "".join(p.text for p in block.paragraphs if p.kind != "heading") or block.heading
    heads = point_heads(text)
    if len(heads) > 1:
        lines = [esc(_short(head, POINT_HEAD_CHARS)) for head in heads[:POINTS_SHOWN]]
        if len(heads) > POINTS_SHOWN:
            lines.append("…")
        return "\n".join(lines)
    return esc(_short(text, max_chars))


def _part_head(block: PartBlock) -> str:
    heading = f" · {label(block.heading)}" if block.heading else ""
    return f"<b>#{block.report.id} {report_title(block.report)}</b>{heading}"


def _part_pages(answer: PartAnswer, lang: str, page: int) -> tuple[str, int, int]:
    """One page of a part answer (without its page line), which page that is (`page` clamped to the pages there
    are) and how many pages it has: one report's part whole, in as many pages as it needs; several reports' parts
    three to a page, each its opening with a button to read it whole. Only the page shown is rendered: the part of
    every report in a large library is thousands of blocks."""
    name = part_name(answer.part, lang)
    scope = "" if answer.scope is None else scope_line(answer.scope, lang) + "\n"
    if len(answer.blocks) == 1:
        block = answer.blocks[0]
        head = scope + t("part_whole_head", lang, id=block.report.id, title=report_title(block.report), part=name)
        budget = BUDGET - units(head) - 40
        pages = [f"{head}\n\n{text}" for text in pack(_part_paragraph_blocks(block, budget), budget)]
        page, count = _page_of(len(pages), 1, page)
        return pages[page], page, count
    head = scope + t("part_head", lang, count=len(answer.blocks), part=name)
    page, count = _page_of(len(answer.blocks), PART_BLOCKS_PER_PAGE, page)
    items = [
        f"{_part_head(block)}\n<blockquote>{part_excerpt(block)}</blockquote>\n"
        + t("part_size", lang, paragraphs=len(block.paragraphs), chars=sum(len(p.text) for p in block.paragraphs))
        for block in answer.blocks[page * PART_BLOCKS_PER_PAGE : (page + 1) * PART_BLOCKS_PER_PAGE]
    ]
    return "\n\n".join([head, *items]), page, count


def inline_results(answer: Answer, lang: str) -> list[InlineQueryResultArticle]:
    """Inline mode: an answer's passages (for a mention answer, the quotes of its first reports) or each report's
    part, as results to send; at most INLINE_RESULTS."""
    if isinstance(answer, PartAnswer):
        return part_inline_results(answer, lang)[:INLINE_RESULTS]
    return [quote_inline_result(quote, lang) for quote in quoted(answer)[:INLINE_RESULTS]]


def quote_inline_result(quote: Quote, lang: str) -> InlineQueryResultArticle:
    """A passage as an inline result: its report and paragraph as the title, the start of its text below, the quote
    with its source as the message sent."""
    return InlineQueryResultArticle(
        id=f"{quote.passage_id}",
        title=t("inline_quote_title", lang, title=quote.title, paragraph=quote.paragraph),
        description=quote.text[:INLINE_DESCRIPTION_CHARS],
        input_message_content=InputTextMessageContent(quote_block(quote, lang)),
    )


def part_inline_results(answer: PartAnswer, lang: str) -> list[InlineQueryResultArticle]:
    """Inline mode: each report's part as a result to send (its opening, headed by the report)."""
    return [
        InlineQueryResultArticle(
            id=f"{answer.part}-{block.report.id}",
            title=f"《{_short(block.report.title, 40)}》"
            + (f"（{block.report.distinction}）" if block.report.distinction else "")
            + f" · {part_name(answer.part, lang)}",
            description=_short(
                "".join(p.text for p in block.paragraphs if p.kind != "heading"), INLINE_DESCRIPTION_CHARS
            ),
            input_message_content=InputTextMessageContent(
                f"{_part_head(block)}\n<blockquote>{part_excerpt(block, 1500)}</blockquote>"
            ),
        )
        for block in answer.blocks
    ]


def part_reply(answer: PartAnswer, lang: str, *, page: int = 0, token: str | None = None) -> Reply:
    """One page of a part answer, with 上一页/下一页 (when `token` names the stored answer) and, on a page of several
    reports, a button per report that reads its part whole."""
    body, page, count = _part_pages(answer, lang, page)
    text = body + ("\n\n" + t("page", lang, page=page + 1, pages=count) if count > 1 else "")
    rows: list[tuple[tuple[str, str], ...]] = []
    if len(answer.blocks) > 1:
        shown = answer.blocks[page * PART_BLOCKS_PER_PAGE : (page + 1) * PART_BLOCKS_PER_PAGE]
        rows.append(
            tuple(
                (t("part_full", lang, id=b.report.id), callbacks.PartButton(b.report.id, answer.part).encode())
                for b in shown
            )
        )
    if nav := _nav_row(token, page, count, lang):
        rows.append(nav)
    return Reply(text, tuple(rows))


def paragraph_replies(report: Report, paragraph: StoredParagraph, lang: str) -> list[Reply]:
    """A paragraph in full, in as many messages as it needs."""
    head = (
        "<b>"
        + t(
            "paragraph_head",
            lang,
            title=report_title(report),
            section=label(paragraph.section) or t("no_section", lang),
            n=paragraph.number,
        )
        + "</b>"
    )
    pieces = split_escaped(paragraph.text, BUDGET - units(head) - 30)
    replies = []
    for i, piece in enumerate(pieces):
        prefix = head + (f" ({i + 1}/{len(pieces)})" if len(pieces) > 1 else "")
        replies.append(Reply(f"{prefix}\n<blockquote>{piece}</blockquote>"))
    return replies


def paragraph_page(report: Report, paragraph: StoredParagraph, lang: str, page: int = 0) -> Reply:
    """One message of a paragraph in full, with 上一页/下一页 buttons that edit it in place when there are more:
    a paragraph of two million characters is a bounded number of sends, not seven hundred."""
    replies = paragraph_replies(report, paragraph, lang)
    page, pages = _page_of(len(replies), 1, page)
    return _with_page_buttons(
        replies[page], lang, page, pages, lambda to: callbacks.ParagraphButton(report.id, paragraph.number, to).encode()
    )


def section_page(
    report: Report, section: StoredSection, paragraphs: Sequence[StoredParagraph], lang: str, page: int = 0
) -> Reply:
    """One message of a section read in full, paged like `paragraph_page`."""
    replies = section_replies(report, section, paragraphs, lang)
    page, pages = _page_of(len(replies), 1, page)
    return _with_page_buttons(
        replies[page], lang, page, pages, lambda to: callbacks.SectionButton(report.id, section.index, to).encode()
    )


def _with_page_buttons(reply: Reply, lang: str, page: int, pages: int, turn: Callable[[int], str]) -> Reply:
    """上一页/下一页 under a page of a message read in full; `turn` is the data of the button to a page."""
    if pages == 1:
        return reply
    nav = []
    if page > 0:
        nav.append((t("prev", lang), turn(page - 1)))
    if page < pages - 1:
        nav.append((t("next", lang), turn(page + 1)))
    return Reply(reply.text, (*reply.keyboard, tuple(nav)))


def section_replies(
    report: Report, section: StoredSection, paragraphs: Sequence[StoredParagraph], lang: str
) -> list[Reply]:
    """A section read in full: its heading, then each paragraph with its number; as many messages as needed."""
    blocks = [f"<b>{report_title(report)} · {label(section.heading, 200)}</b>"]
    for paragraph in paragraphs:
        if paragraph.number == section.paragraph and paragraph.kind == "heading":
            continue
        pieces = split_escaped(paragraph.text, BUDGET - 40)
        blocks.append(f"<i>§{paragraph.number}</i>\n{pieces[0]}")
        blocks.extend(pieces[1:])
    return [Reply(m) for m in pack(blocks)]


def reports_reply(reports: Sequence[Report], lang: str, page: int = 0, query: str = "") -> Reply:
    """A page of the report list (newest first, each with its date and unit), with buttons to each report's outline;
    `query` is the filter it was asked with, kept in the page buttons."""
    if not reports:
        return Reply(t("reports_none_filtered", lang, filter=esc(query)) if query else t("reports_none", lang))
    page, pages = _page_of(len(reports), REPORTS_PER_PAGE, page)
    shown = reports[page * REPORTS_PER_PAGE : (page + 1) * REPORTS_PER_PAGE]
    head = t("reports_filtered_head", lang, filter=esc(query), count=len(reports)) if query else None
    lines = [head or t("reports_head", lang, count=len(reports))]
    lines += [report_line(r, lang) for r in shown]
    if pages > 1:
        lines.append(t("page", lang, page=page + 1, pages=pages))
    rows: list[tuple[tuple[str, str], ...]] = [
        tuple((f"#{r.id} {_short(r.title, 14)}", callbacks.OutlineButton(r.id).encode()) for r in shown[i : i + 2])
        for i in range(0, len(shown), 2)
    ]
    nav: list[tuple[str, str]] = []
    if page > 0:
        nav.append((t("prev", lang), callbacks.ReportsPage(page - 1, query).encode()))
    if page < pages - 1:
        nav.append((t("next", lang), callbacks.ReportsPage(page + 1, query).encode()))
    if nav:
        rows.append(tuple(nav))
    return Reply("\n".join(lines), tuple(rows))


def report_line(r: Report, lang: str) -> str:
    """#3 《title》 · 2023 · *县委 · 11段: a report in a list, with its date and unit when known."""
    meta = "".join(f" · {esc(value)}" for value in (r.date, r.unit) if value)
    return t("report_line", lang, id=r.id, title=titled(r.title), meta=meta, paragraphs=r.paragraph_count)


def outline_replies(outline: Outline, lang: str) -> list[Reply]:
    """A report's outline: title, date, unit and file, then its headings under the standard parts they are in,
    with a button per section (up to Telegram's sensible limits)."""
    r = outline.report
    unknown = t("not_known", lang)
    head = t(
        "outline_head",
        lang,
        id=r.id,
        title=report_title(r),
        date=esc(r.date or unknown),
        unit=esc(r.unit or unknown),
        paragraphs=r.paragraph_count,
        source=label(r.source),
    )
    lines = [f"{'　' * (s.level - 1)}{label(s.heading, 200)} <i>(§{s.paragraph})</i>" for s in outline.sections]
    if not lines:
        lines = [t("outline_empty", lang)]
    if outline.parts:
        runs = [
            f"{part_name(run.part, lang)} <i>(§{run.first}" + (f"–{run.last})</i>" if run.last > run.first else ")</i>")
            for run in outline.parts
        ]
        lines.append(t("outline_parts", lang, parts=" · ".join(runs)))
    messages = pack([head, *lines], separator="\n")
    rows: tuple[tuple[tuple[str, str], ...], ...] = tuple(
        ((f"{_short(s.heading, 18)}", callbacks.SectionButton(r.id, s.index).encode()),) for s in outline.sections[:40]
    )
    # one button per part (its runs read together, whole), above the sections
    parts = tuple(dict.fromkeys(run.part for run in outline.parts))
    if parts:
        rows = (tuple((part_name(part, lang), callbacks.PartButton(r.id, part).encode()) for part in parts), *rows)
    return [Reply(m, rows if i == len(messages) - 1 else ()) for i, m in enumerate(messages)]


def edited_reply(report: Report, lang: str) -> Reply:
    """What an admin's /edit changed: the report as it now reads."""
    return Reply(t("edited", lang, id=report.id, line=report_line(report, lang)))


def delete_confirm_reply(report: Report, lang: str) -> Reply:
    """The question an admin's /delete asks, with the buttons that answer it."""
    text = t(
        "delete_confirm",
        lang,
        id=report.id,
        title=label(report.title),
        paragraphs=report.paragraph_count,
        source=label(report.source),
    )
    keyboard = (
        (
            (t("delete_yes", lang), callbacks.DeleteButton(report.id, confirmed=True).encode()),
            (t("delete_no", lang), callbacks.DeleteButton(report.id, confirmed=False).encode()),
        ),
    )
    return Reply(text, keyboard)


def start_reply(lang: str) -> Reply:
    """/start: what the bot does and three example questions as buttons."""
    rows = tuple(((q, callbacks.ExampleButton(i).encode()),) for i, q in enumerate(EXAMPLES[lang]))
    return Reply(t("start", lang), rows)


def watches_replies(terms: Sequence[str], lang: str) -> list[Reply]:
    """A chat's watched terms, in as few messages as fit (never one over Telegram's limit)."""
    if not terms:
        return [Reply(t("watches_none", lang))]
    return [Reply(m) for m in pack([t("watches_head", lang), *(f"• {esc(term)}" for term in terms)], separator="\n")]


def digest_replies(digest: Digest, lang: str) -> list[Reply]:
    """A digest in as few messages as fit, at most DIGEST_MAX_MESSAGES: one new report must not send a chat with
    many watches dozens of messages while every later subscriber waits."""
    blocks = [t("digest_head", lang, day=digest.day)]
    if digest.new_reports:
        blocks.append(t("digest_new_reports", lang))
        for item in digest.new_reports:
            summary = esc("".join(_short(sentence, SUMMARY_SENTENCE_MAX) for sentence in item.summary))
            terms = "、".join(esc(term) for term in item.key_terms)
            blocks.append(
                f"<b>#{item.report.id} {report_title(item.report)}</b>\n<blockquote>{summary}</blockquote>\n"
                + t("digest_key_terms", lang, terms=terms)
            )
    for term, quotes in digest.watch_hits:
        blocks.append(t("digest_watch", lang, term=esc(term)))
        blocks.extend(quote_block(q, lang) for q in quotes)
    if digest.passage_of_the_day is not None:
        blocks.append(t("digest_nothing_new", lang))
        blocks.append(quote_block(digest.passage_of_the_day, lang))
    messages = pack(blocks, BUDGET - DIGEST_MORE_UNITS)
    if len(messages) > DIGEST_MAX_MESSAGES:
        shown = sum(m.count("<blockquote>") for m in messages[:DIGEST_MAX_MESSAGES])
        left = sum(m.count("<blockquote>") for m in messages[DIGEST_MAX_MESSAGES:])
        messages = messages[:DIGEST_MAX_MESSAGES]
        messages[-1] += "\n\n" + t("digest_more", lang, shown=shown, left=left)
    return [Reply(m) for m in messages]


def _trend_label(point: TrendPoint, trend: Trend, lang: str) -> str:
    """2024年 / 广东省 / #3, escaped."""
    if point.key is None:
        return t("unknown_year" if trend.by == "year" else "unknown_unit", lang)
    if trend.by == "year":
        return t("scope_year", lang, year=point.key)
    if trend.by == "report":
        return f"#{point.key}"
    return label(str(point.key), 24)


def trend_caption(trend: Trend, lang: str) -> str:
    """The chart's one-line caption carrying the numbers (HTML, within Telegram's 1,024 for captions)."""
    head = t("trend_caption", lang, term=esc(trend.term), mentions=trend.mentions, reports=trend.reports)
    line = head
    for point in trend.points:
        item = ("" if line == head else " · ") + f"{_trend_label(point, trend, lang)} {point.mentions}"
        if units(line + item) > MessageLimit.CAPTION_LENGTH - 10:
            return line + " …"
        line += item
    return line


def trend_replies(trend: Trend, lang: str) -> list[Reply]:
    """The text table under the chart: one line per year, unit or report with its mentions and reports."""
    if not trend.points:
        return [Reply(t("mention_none", lang, term=esc(trend.term)))]
    head = t(f"trend_head_{trend.by}", lang, term=esc(trend.term), mentions=trend.mentions, reports=trend.reports)
    lines = [
        t("trend_line", lang, name=_trend_label(p, trend, lang), mentions=p.mentions, reports=p.reports)
        for p in trend.points
    ]
    return [Reply(m) for m in pack([head, *lines], separator="\n")]


def with_actions(reply: Reply, token: str, lang: str) -> Reply:
    """An answer's page with 导出 / 👍 / 👎 under it (for the kept answer `token`)."""
    row = (
        (t("export", lang), callbacks.ExportButton(token).encode()),
        ("👍", callbacks.FeedbackButton(token, "up").encode()),
        ("👎", callbacks.FeedbackButton(token, "down").encode()),
    )
    return Reply(reply.text, (*reply.keyboard, row))


COPIES_PER_REPORT = 5  # runs shown per other report (the export and the CLI have them all)
COPIES_REPORTS = 12
COMMON_SHOWN = 8


def copies_replies(found: Copies, lang: str) -> list[Reply]:
    """What of a report stands in other reports: the share, each other report with its shared runs, then the
    common phrasing apart; an 导出 button under the last message."""
    report = found.report
    groups = found.by_report()
    head = t(
        "copies_head",
        lang,
        id=report.id,
        title=report_title(report),
        n=found.min_chars,
        count=len(found.shared),
        reports=len(groups),
        share=f"{found.share:.1%}",
    )
    blocks = [head if found.shared else head + "\n" + t("copies_none", lang)]
    for other, runs in groups[:COPIES_REPORTS]:
        lines = [f"<b>#{other.id} {report_title(other)}</b> · {t('mention_count', lang, count=len(runs))}"]
        for run in runs[:COPIES_PER_REPORT]:
            where = t("copies_where", lang, p=run.paragraph, q=run.other_paragraph)
            lines.append(f"<i>{where}</i><blockquote>{esc(_short(run.text, 300))}</blockquote>")
        if len(runs) > COPIES_PER_REPORT:
            lines.append(t("group_more", lang, count=len(runs)))
        blocks.append("\n".join(lines))
    if len(groups) > COPIES_REPORTS:
        blocks.append(t("copies_more_reports", lang, count=len(groups) - COPIES_REPORTS))
    if found.common:
        common = [t("copies_common_head", lang, count=len(found.common))]
        common += [
            t("copies_common_line", lang, text=esc(_short(c.text, 80)), reports=c.reports)
            for c in found.common[:COMMON_SHOWN]
        ]
        blocks.append("\n".join(common))
    messages = pack(blocks)
    button = ((t("export", lang), callbacks.CopiesExportButton(report.id, found.min_chars).encode()),)
    return [Reply(m, (button,) if i == len(messages) - 1 else ()) for i, m in enumerate(messages)]
