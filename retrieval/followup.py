"""Follow-up questions: a short message that refers to the chat's previous question.

"那2019年呢？" asks the same question of another scope, "那三会一课呢" the same kind of question of another term,
"第二份呢" about the second report of the previous answer, "只看存在问题" narrows to a part of its reports, "更多" /
"下一页" turns its page. What a chat asked is remembered for a while (`Conversations`), in the bot per chat and in
the terminal chat for its one conversation. Reading a follow-up is typed (`Reading`) so the answer can say how it
read it ("按“2019年”重新回答：").
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias, assert_never

from .answers import (
    Answer,
    MentionAnswer,
    NoMentionAnswer,
    OutOfScopeAnswer,
    PartAnswer,
    RankedAnswer,
    Refusal,
    answer_scope,
    quoted,
)
from .normalize import normalize
from .parts import Part
from .query import clean_term
from .scope import Catalogue, InScope, Scope, _small_number

REMEMBER_S = 30 * 60  # how long a chat's previous question is followed up
CHATS_KEPT = 10_000
FOLLOW_UP_MAX_CHARS = 30  # longer messages are questions of their own

_PART_QUESTION: dict[Part, str] = {
    "problems": "存在哪些问题",
    "plans": "下一步有什么打算",
    "progress": "主要做法有哪些",
}
_LEAD = re.compile(r"^(?:那么|那|还有|再看看|再看|换成|改成|如果是|如果换成|要是)\s*")
_TAIL = re.compile(r"(?:的情况|的呢|怎么样|如何|又如何|呢|吗|的|吧)?[\s?？。.!！~～]*$")
_MORE = re.compile(r"^(?:更多|还有吗|还有呢|继续|下一页|下页|再来|接着|后面的|后面呢|more|next(?: page)?)$", re.I)
_NTH = re.compile(r"^第\s*([0-9]{1,3}|[一二三四五六七八九十两]{1,3})\s*(?:份|篇|个|条)(?:报告|汇报|材料)?$")
_ONLY = re.compile(r"^(?:只看|只要|只说|只列|仅看|就看|只显示|看看)\s*(?P<rest>.+)$")


@dataclass(frozen=True)
class Asked:
    """A chat's previous question as answered: its answer, the page last shown, when."""

    question: str  # the question the answer was made for (a follow-up's rewritten one)
    answer: Answer
    page: int
    at: float


@dataclass(frozen=True)
class NewScope:
    """The same question of another scope (那2019年呢)."""

    words: str


@dataclass(frozen=True)
class NewTerm:
    """The same kind of question of another term (那三会一课呢)."""

    term: str


@dataclass(frozen=True)
class NthReport:
    """The previous question about the nth report of its answer (第二份呢)."""

    n: int
    report_id: int
    title: str


@dataclass(frozen=True)
class OnlyPart:
    """A part of the previous answer's reports (只看存在问题)."""

    part: Part


Reading: TypeAlias = NewScope | NewTerm | NthReport | OnlyPart


@dataclass(frozen=True)
class Reask:
    """Ask `question` (of `report_ids` when given) because the follow-up was read as `reading`."""

    question: str
    report_ids: frozenset[int] | None
    reading: Reading


@dataclass(frozen=True)
class NextPage:
    """Show page `page` of the previous answer."""

    asked: Asked
    page: int


@dataclass(frozen=True)
class NoSuchReport:
    """第N份 of an answer that has fewer reports."""

    n: int
    count: int


FollowUp: TypeAlias = Reask | NextPage | NoSuchReport


class Conversations:
    """What each chat asked last, for REMEMBER_S seconds; the oldest chats are forgotten beyond CHATS_KEPT."""

    def __init__(self, remember_s: float = REMEMBER_S, clock: Callable[[], float] = time.monotonic) -> None:
        self._items: OrderedDict[int, Asked] = OrderedDict()
        self._remember_s = remember_s
        self._clock = clock
        self._lock = threading.Lock()  # the bot answers from worker threads

    def remember(self, chat_id: int, question: str, answer: Answer, page: int = 0) -> None:
        """The chat's question and answer (and the page shown): what its next follow-up refers to."""
        with self._lock:
            self._items[chat_id] = Asked(question, answer, page, self._clock())
            self._items.move_to_end(chat_id)
            while len(self._items) > CHATS_KEPT:
                self._items.popitem(last=False)

    def last(self, chat_id: int) -> Asked | None:
        """The chat's previous question, if asked within REMEMBER_S."""
        with self._lock:
            asked = self._items.get(chat_id)
        if asked is None or self._clock() - asked.at > self._remember_s:
            return None
        return asked


def read_follow_up(text: str, asked: Asked | None, catalogue: Catalogue) -> FollowUp | None:
    """How a message follows up `asked`, or None when it is a question of its own."""
    if asked is None:
        return None
    message = normalize(" ".join(text.split())).strip()
    if not message or len(message) > FOLLOW_UP_MAX_CHARS:
        return None
    framed = bool(_LEAD.match(message)) or bool(re.search(r"呢[\s?？]*$", message))
    core = _TAIL.sub("", _LEAD.sub("", message)).strip()
    if not core:
        return None
    if _MORE.match(core):
        return NextPage(asked, asked.page + 1)
    if (nth := _NTH.match(core)) is not None:
        n = _small_number(nth.group(1)) or 0
        reports = shown_reports(asked.answer)
        if not 1 <= n <= len(reports):
            return NoSuchReport(n, len(reports))
        report_id, title = reports[n - 1]
        return Reask(asked.question, frozenset({report_id}), NthReport(n, report_id, title))
    if (only := _ONLY.match(core)) is not None and (part := _part_named(only.group("rest"))) is not None:
        ids = frozenset(r for r, _ in shown_reports(asked.answer)) or _scope_ids(asked.answer)
        return Reask(_PART_QUESTION[part], ids or None, OnlyPart(part))
    scope, rest = catalogue.parse(core)
    if scope and not re.sub(r"[\s和与及、,，的年]", "", rest):
        words = scope_words(scope)
        return Reask(f"{words} {base_question(asked, catalogue)}", None, NewScope(words))
    if framed and (term := clean_term(core)):
        return Reask(_with_term(asked, term), None, NewTerm(term))
    return None


def _part_named(text: str) -> Part | None:
    from .compare import part_named  # compare imports the library too; kept out of this module's import time

    return part_named(text)


def shown_reports(answer: Answer) -> list[tuple[int, str]]:
    """The reports an answer shows, in its order: (id, title)."""
    match answer:
        case PartAnswer():
            return [(b.report.id, b.report.title) for b in answer.blocks]
        case MentionAnswer():
            return [(m.report.id, m.report.title) for m in answer.reports]
        case RankedAnswer() | NoMentionAnswer() | OutOfScopeAnswer() | Refusal():
            seen: dict[int, str] = {}
            for quote in quoted(answer):
                seen.setdefault(quote.report_id, quote.title)
            return list(seen.items())
        case _:
            assert_never(answer)


def _scope_ids(answer: Answer) -> frozenset[int]:
    scope = answer_scope(answer)
    return scope.report_ids if isinstance(scope, InScope) and not scope.everything else frozenset()


def _mention_question(answer: Answer) -> tuple[str, str | None] | None:
    """For an answer to a mention question, how it asked (哪些报告, or 哪些单位 / 哪几年 when grouped) and its
    term; None for other questions."""
    match answer:
        case MentionAnswer() | NoMentionAnswer() | OutOfScopeAnswer(asked="mention"):
            return {"unit": "哪些单位", "year": "哪几年"}.get(answer.group or "", "哪些报告"), answer.term
        case Refusal(asked="mention"):
            return "哪些报告", answer.term
        case RankedAnswer() | PartAnswer() | OutOfScopeAnswer() | Refusal():
            return None
        case _:
            assert_never(answer)


def scope_words(scope: Scope) -> str:
    """A scope as a question names it: 2019年、2020年 广东 #4 《…》."""
    kinds = [
        [f"{y}年" for y in scope.years],
        list(scope.units),
        [f"第{n}份报告" for n in scope.numbers] + [f"#{i}" for i in scope.ids],
        [f"《{title}》" for title in scope.titles],
    ]
    return " ".join("、".join(words) for words in kinds if words)


def base_question(asked: Asked, catalogue: Catalogue) -> str:
    """The previous question without its scope: what a new scope is put in front of."""
    answer = asked.answer
    if isinstance(answer, PartAnswer):
        return _PART_QUESTION[answer.part]
    mention = _mention_question(answer)
    if mention is not None and mention[1]:
        return f"{mention[0]}提到“{mention[1]}”"
    if answer_scope(answer) is not None:
        _, rest = catalogue.parse(asked.question)
        return " ".join(rest.split()) or asked.question
    return asked.question


def _with_term(asked: Asked, term: str) -> str:
    """The previous kind of question, of `term`, in the previous scope."""
    answer = asked.answer
    scope = answer_scope(answer)
    words = scope_words(scope.scope if scope is not None else Scope())
    if (mention := _mention_question(answer)) is not None:
        question = f"{mention[0]}提到“{term}”"
    elif isinstance(answer, PartAnswer):
        question = f"{term}{_PART_QUESTION[answer.part]}"
    else:
        question = term
    return f"{words} {question}".strip()
