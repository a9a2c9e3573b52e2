"""Reading a question: is it a mention question ("哪些报告提到X") or a search, and what is the term."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from .normalize import normalize_with_offsets, original_span, valid_text

MAX_QUERY_CHARS = 500

_QUOTES = "\"'“”‘’「」『』《》〈〉【】`"
_END = "？?。.!！～~ \u3000"
_DOCS = r"(?:报告|汇报|材料|文件|总结|文档|文章)"
_WHICH = r"(?:哪些|哪几份|哪几篇|哪几个|哪份|哪篇|哪个|什么)"
_VERB = r"(?:提到|提及|提起|讲到|说到|谈到|写到|涉及|包含|含有|出现|用到)"
# a provincial or yearly archive's reader asks which provinces, units or years: the same complete answer, grouped
_GROUP_WHICH = r"(?:哪些|哪几个|哪几|哪一个|哪一|哪个|哪|什么)"
_UNIT_WORDS = r"(?:省份|省区市|省市区|省区|省市|省|自治区|地区|地方|城市|市|县|区县|单位|部门)"
_YEAR_WORDS = r"(?:年份|年度|年)"
_GROUP = rf"(?:(?P<unit>{_UNIT_WORDS})|(?P<year>{_YEAR_WORDS}))(?:的{_DOCS})?"

_MENTION_PATTERNS = [
    re.compile(rf"^(?:请问)?(?:有)?{_WHICH}{_DOCS}(?:里|中|当中)?(?:都|还)?(?:有)?{_VERB}[了过]?(?P<term>.+)$"),
    re.compile(rf"^(?:请问)?(?:有)?{_GROUP_WHICH}{_GROUP}(?:里|中|当中)?(?:都|还)?(?:有)?{_VERB}[了过]?(?P<term>.+)$"),
    re.compile(
        rf"^(?P<term>.+?)(?:都|还)?(?:出现|被提到|被提及|提到|提及)(?:在|于)?{_WHICH}{_DOCS}(?:里|中|当中)?[了]?$"
    ),
    re.compile(
        rf"^(?P<term>.+?)(?:都|还)?(?:出现|被提到|被提及|提到|提及)(?:在|于)?{_GROUP_WHICH}{_GROUP}(?:里|中|当中)?[了]?$"
    ),
    re.compile(rf"^(?:有)?{_VERB}[了过]?(?P<term>.+?)的{_DOCS}(?:有)?{_WHICH}(?:{_DOCS})?$"),
    re.compile(rf"^{_DOCS}(?:里|中)?(?:哪里|哪儿|哪些地方){_VERB}[了过]?(?P<term>.+)$"),
    re.compile(
        r"^(?:which|what)\s+(?:reports?|documents?|files?)\s+(?:mentions?|contains?|talks?\s+about|refers?\s+to|"
        r"includes?|says?)\s+(?P<term>.+)$",
        re.IGNORECASE,
    ),
    re.compile(r"^(?:reports?|documents?)\s+(?:mentioning|containing|that\s+mention)\s+(?P<term>.+)$", re.IGNORECASE),
    re.compile(r"^(?:where\s+(?:is|are)\s+)(?P<term>.+?)\s+mentioned$", re.IGNORECASE),
]

# Words of the question itself, not of its subject: left out of a ranked search.
QUESTION_WORDS = frozenset(
    [
        "哪些",
        "哪个",
        "哪几",
        "哪里",
        "哪儿",
        "什么",
        "怎样",
        "怎么",
        "怎么样",
        "如何",
        "多少",
        "几",
        "是否",
        "是不是",
        "吗",
        "呢",
        "吧",
        "请问",
        "请",
        "一下",
        "有没有",
        "关于",
        "方面",
        "情况",
        "具体",
        "主要",
        "提到",
        "提及",
        "报告",
        "汇报",
        "what",
        "which",
        "how",
        "who",
        "where",
        "when",
        "why",
        "is",
        "are",
        "the",
        "a",
        "an",
        "of",
        "in",
        "on",
        "to",
        "do",
        "does",
        "about",
    ]
)


Grouping = Literal["unit", "year"]


@dataclass(frozen=True)
class ParsedQuestion:
    """The question as typed, its intent, the mention term when there is one, and how a mention answer is grouped
    when the question asks which units or years (哪些省份 / 哪几年提到X)."""

    text: str
    intent: str  # "mention" | "search"
    term: str | None
    group: Grouping | None = None


def clean_term(term: str) -> str:
    """Strip quotes, trailing particles and punctuation around a mention term."""
    term = term.strip().strip(_END)
    for _ in range(3):
        term = term.strip().strip(_QUOTES).strip(_END)
        for particle in ("的内容", "这个词", "这一表述", "的", "吗", "呢", "了", "这个"):
            if term.endswith(particle) and len(term) > len(particle):
                term = term[: -len(particle)]
    return term.strip().strip(_QUOTES)


def parse_question(text: str) -> ParsedQuestion:
    """Decide between a mention question and a ranked search. The patterns match the normalised question (so
    traditional characters and full-width forms are read too); the term is taken from the question as typed."""
    question = " ".join(text.split())
    norm, origin = normalize_with_offsets(valid_text(question))  # same length: offsets stay valid
    core = norm.strip(_END)
    lead = len(norm) - len(norm.lstrip(_END))
    for pattern in _MENTION_PATTERNS:
        match = pattern.match(core)
        if match:
            start, end = original_span(origin, lead + match.start("term"), lead + match.end("term"))
            term = clean_term(question[start:end])
            if term:
                groups = match.groupdict()
                group: Grouping | None = "unit" if groups.get("unit") else "year" if groups.get("year") else None
                return ParsedQuestion(question, "mention", term, group)
    return ParsedQuestion(question, "search", None)
