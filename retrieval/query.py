"""Reading a question: is it a mention question ("哪些报告提到X") or a search, and what is the term."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from .normalize import normalize, normalize_with_offsets, original_span, valid_text
from .parts import Part

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

_HOW_OFTEN = r"(?:几次|多少次|几处|多少处|几回|多少回)"
_IN_DOCS = rf".*?(?:{_DOCS}(?:里|中|当中)?|》(?:里|中|当中)?)"  # (…)报告中, 《…》中
_AT = r"(?<![存现正所实内潜自外])在"  # 在 of a place (X在广东的报告中出现了几次), not of a word (存在问题)
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
    # how often (提到几次X, 提到X多少次, X出现了几次): the mention answer counts them, per report. What names the
    # reports (广东的报告中, 《…》中) is left in front of the term here and read as the scope by Library.ask
    re.compile(rf"^(?:{_IN_DOCS})?(?:一共|共|总共)?{_VERB}[了过]?{_HOW_OFTEN}(?P<term>.+)$"),
    re.compile(
        rf"^(?:{_IN_DOCS})?(?:一共|共|总共)?{_VERB}[了过]?(?![了过])(?P<term>.+?)(?:一共|共|总共)?{_HOW_OFTEN}$"
    ),
    re.compile(
        rf"^(?:{_IN_DOCS})?(?![里中])(?P<term>(?:(?!{_AT}).)+?)(?:{_AT}.*?)?(?:一共|共|总共)?"
        rf"(?:出现|被提到|被提及|提到|提及)[了过]?{_HOW_OFTEN}$"
    ),
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
    intent: Literal["mention", "search"]  # a mention question always has its term
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
    if len(question) > MAX_QUERY_CHARS:
        # a search, which the library refuses as too long before parsing: the patterns of how-often questions (a lazy
        # term after a lazy prefix) take time quadratic in a question that fails them (20 s at 100,000 characters)
        return ParsedQuestion(question, "search", None)
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


# Questions about a standard part of the reports (retrieval.parts): the words that name each part as a question
# puts them, and the words that may stand around them without asking about anything else.
_PART_QUESTIONS: tuple[tuple[Part, re.Pattern[str]], ...] = (
    (
        "problems",
        re.compile(
            r"(?:存在|有)(?:哪些|什么|的|些)?(?:主要)?(?:问题|不足|困难|差距|短板)(?:和|与|及)?(?:不足|差距|困难|问题)?"
            r"|(?:问题|困难|差距|短板)(?:和|与|及)(?:不足|差距|问题|困难|弱项)|不足之处|(?:不足|差距|短板)"
        ),
    ),
    (
        "plans",
        re.compile(
            r"(?:下一步|下步|下阶段|下一阶段|今后|明年|接下来)(?:工作)?(?:的|有)?(?:什么|哪些)?(?:工作)?"
            r"(?:打算|计划|安排|思路|重点工作|重点任务|主要任务|工作|举措|措施)?"
            r"|(?:今年|明年)?(?:的)?(?:工作)?(?:计划|打算|安排|思路)|(?:今年|明年)?(?:的)?(?:重点|主要)(?:工作|任务)"
        ),
    ),
    (
        "progress",
        re.compile(
            r"(?:主要|具体|工作|经验)?做法(?:及|和|与)?(?:成效)?|(?:取得|有)(?:了)?(?:哪些|什么)?(?:成效|成绩|进展)"
            r"|(?:主要|工作)?成效|(?:工作)?进展情况|工作进展|工作回顾|(?:做|开展)了(?:哪些|什么)(?:工作)?"
            r"|(?:工作)?开展情况|主要成绩"
        ),
    ),
)
# everything else a part question may say: who (各单位), the question words, particles, punctuation
_PART_FILLER = re.compile(
    r"各(?:个)?(?:单位|部门|地区|地方|地|省份|省区市|省|市|县|区|报告|汇报|级)|所有(?:报告|单位)?|每(?:个|份)(?:单位|报告)?"
    r"|省份|省区市|单位|部门|地区|地方"  # 哪些省份存在问题: each one's part
    r"|(?:对比|比较|对照|横向比较|比一比)(?:一下)?|报告|汇报|材料|里面|当中|其中|中|里|都|还|又|分别|主要|具体|目前|当前|工作|我们|的|是|有|在|了|哪些|哪几|什么|怎样"
    r"|如何|怎么|多少|吗|呢|吧|请问|请|介绍|说说|讲讲|列出|一下|看看|情况|方面|[\s\d?？。.!！,，、:：;；\"'“”‘’]"
)


def part_question(text: str) -> Part | None:
    """The part of the reports a question asks for ("存在哪些问题" -> problems, "下一步有什么打算" -> plans,
    "主要做法有哪些" -> progress), when it asks for nothing else; None for any other question. Read normalised:
    下一步有什麼打算 is the same question."""
    text = normalize(text)
    for part, pattern in _PART_QUESTIONS:
        match = pattern.search(text)
        if match is None or not match.group(0):
            continue
        rest = text[: match.start()] + " " + text[match.end() :]
        if not _PART_FILLER.sub("", rest):
            return part
    return None
