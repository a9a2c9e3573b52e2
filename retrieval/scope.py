"""The scope a question names, and the reports it means.

A question may name years (2024年, 2019年的, 二〇二四年, ２０２４年, 24年), units (广东省, 广东, 政府办), reports by
position or id (第四份报告, #4, 报告4) or by title (《2023年主题教育开展情况汇报》中). `parse_scope` reads them against
the library's own reports (their units, titles and years are the vocabulary, so an ordinary two-character word is
never taken for a unit), cuts them out of the words the question is ranked by, and `Catalogue.resolve` turns them
into report ids: one kind named twice is either (2019年和2024年), different kinds must all hold (2024年 · 广东省).
A scope that names nothing there is resolves to a reason (`OutOfScope`), never to an empty answer.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from .normalize import normalize

# A year later than this many years after the newest report, or the current year, is a target ("2035年远景目标"),
# not the year of a report; the current year counts so that an archive without this year's report still says so.
_CN_DIGITS = {"〇": 0, "零": 0, "○": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_SMALL = {**_CN_DIGITS, "两": 2}
_DOC = r"(?:报告|汇报|材料|文件|总结|文档|文章)"
# what ties a scope to the rest of the question, cut with it: 2019年的(报告中)赤字率, 《…》中, 第四份报告里
_TIE = re.compile(rf"\s*(?P<of>的\s*)?(?P<doc>{_DOC}\s*)?(?P<within>当中|中|里|内)?(?:的)?")

# a year and what must not follow it: 2020年以来 is a span, 2030年前 a deadline, 90年代 a decade, 2024年度 is fine
_NOT_A_YEAR_AFTER = r"(?!\s*(?:代|以来|以前|之前|以后|之后|前|后|起|来|间|内|多|左右))"
_YEAR_RANGE = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年?\s*(?:-|—|–|~|～|至|到)\s*((?:19|20)\d{2})\s*年(?:度)?")
_YEAR = re.compile(rf"(?<!\d)((?:19|20)\d{{2}})\s*年(?:度)?{_NOT_A_YEAR_AFTER}")
_CN_YEAR = re.compile(rf"([〇零○一二三四五六七八九]{{4}})\s*年(?:度)?{_NOT_A_YEAR_AFTER}")
# 24年: not 近10年, 过去5年, 工作了24年 (durations), and only when it means a year of the library (see _short_year)
_SHORT_YEAR = re.compile(rf"(?<![\d近去这前后多几每约第了用花余逾超达满])(\d{{2}})\s*年(?:度)?{_NOT_A_YEAR_AFTER}")

_NUMBER = r"([0-9]{1,4}|[一二三四五六七八九十两百零〇]{1,4})"
_ORDINAL = re.compile(rf"第\s*{_NUMBER}\s*(?:(?:份|篇)\s*{_DOC}?|个\s*{_DOC}|号\s*{_DOC})")
_HASH_ID = re.compile(r"#\s*(\d{1,9})(?!\d)")
_NOT_AN_ID_AFTER = r"(?![\d年月日号%.．次个项条份篇处点位名万亿千百])"  # 报告3次, 报告2.5万 are counts
_DOC_ID = re.compile(rf"(?:{_DOC}|report)\s*(?:#|no\.?|编号)?\s*(\d{{1,9}}){_NOT_AN_ID_AFTER}", re.IGNORECASE)
_ID_DOC = re.compile(rf"(?<!\d)(\d{{1,9}})\s*号\s*{_DOC}")
_TITLE = re.compile(r"《([^《》]{1,120})》")
# 《…》 that names no report is only taken as a missing report when it reads like the title of one
_TITLE_LIKE = re.compile(r"(?:报告|汇报|总结|情况|计划|材料|方案|要点|通报|讲话|发言|纪要)$")

# A report's unit (广东省人民政府, 县政府办公室, **区) is named in questions by its place or office: suffixes that
# may be dropped, and the short forms of province-level names (广东省 -> 广东, 广西壮族自治区 -> 广西).
_UNIT_SUFFIXES = ("人民政府办公室", "人民政府办公厅", "人民政府", "政府办公室", "政府办公厅", "政府")
_PLACE_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市")
_PLACE_ENDINGS = ("省", "市", "自治区", "特别行政区", "县", "区", "州", "盟", "旗")
_PLACE_IN_NAME = re.compile(
    r"^(?:\d{4}年度?)?(?P<place>[\u4e00-\u9fff*＊xX]{1,12}?"
    r"(?:维吾尔自治区|壮族自治区|回族自治区|特别行政区|自治区|自治州|省|市|县|区|州|盟|旗))(?:人民)?政府"
)
# words that name no unit in particular (every report's own body is "the government", "this province")
_GENERIC_UNITS = frozenset(["政府", "人民政府", "办公室", "办公厅", "委员会", "党委"]) | {
    a + b for a in "全本我各省市县区" for b in ("省", "市", "县", "区", "政府")
}
_JOINERS = frozenset(["和", "与", "及", "以及", "或", "或者", "、", "跟", "同", ","])  # left between two scopes


@dataclass(frozen=True)
class ReportFacts:
    """What scoping knows of a report: its id, title, file name, year and unit."""

    id: int
    title: str
    source: str = ""
    year: int | None = None
    unit: str | None = None


@dataclass(frozen=True)
class Scope:
    """What a question restricts itself to, as it names it. Empty when it names nothing."""

    years: tuple[int, ...] = ()
    units: tuple[str, ...] = ()  # as the question names them (广东, 政府办)
    numbers: tuple[int, ...] = ()  # 第N份报告: the Nth report by id
    ids: tuple[int, ...] = ()  # #N, 报告N, N号报告
    titles: tuple[str, ...] = ()  # 《…》 as written

    def __bool__(self) -> bool:
        return bool(self.years or self.units or self.numbers or self.ids or self.titles)


@dataclass(frozen=True)
class InScope:
    """A scope and the reports it means; `everything` when that is every report of the library."""

    scope: Scope
    report_ids: frozenset[int]
    everything: bool = False


@dataclass(frozen=True)
class MissingYears:
    """No report of the years named; `available` are the years there are."""

    years: tuple[int, ...]
    available: tuple[int, ...]


@dataclass(frozen=True)
class MissingReports:
    """No report has the ids or positions named; the library has `count` reports, ids `first`..`last`."""

    scope: Scope
    count: int
    first: int | None
    last: int | None


@dataclass(frozen=True)
class MissingTitle:
    """No report has the title named."""

    title: str


@dataclass(frozen=True)
class NoOverlap:
    """Every part of the scope names reports, but no report is in all of them: each part and its reports."""

    parts: tuple[tuple[Scope, tuple[ReportFacts, ...]], ...]


ScopeProblem = MissingYears | MissingReports | MissingTitle | NoOverlap


@dataclass(frozen=True)
class OutOfScope:
    """A scope that names no report, and why."""

    scope: Scope
    problem: ScopeProblem


Resolution = InScope | OutOfScope


def _year_of_chinese(digits: str) -> int:
    return int("".join(str(_CN_DIGITS[ch]) for ch in digits))


def _small_number(text: str) -> int | None:
    """1-9999 written in digits or in Chinese (四, 十二, 二十三, 一百零五, 两)."""
    if text.isdigit():
        return int(text)
    if all(ch in _CN_DIGITS for ch in text) and len(text) > 1:  # 一〇五
        return int("".join(str(_CN_DIGITS[ch]) for ch in text))
    total, current = 0, 0
    for ch in text:
        if ch in _CN_SMALL:
            current = _CN_SMALL[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current or None


@lru_cache(maxsize=1 << 16)  # a library's units repeat; its catalogue is rebuilt after every write
def unit_aliases(name: str) -> frozenset[str]:
    """The ways a question names a unit: the name, without 人民政府/政府, a province's short form, an office's
    abbreviation (县政府办公室 -> 县政府办, 政府办公室, 政府办)."""
    name = normalize(name).replace(" ", "")
    aliases = {name}
    places = [name]
    for suffix in _UNIT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            places.append(name[: -len(suffix)])
            break
    if "政府办公室" in name or "政府办公厅" in name:
        aliases |= {"政府办公室", "政府办"}
    if name.endswith(("办公室", "办公厅")):
        aliases.add(name[:-3] + "办")
    for place in places:
        aliases.add(place)
        for suffix in _PLACE_SUFFIXES:
            if place.endswith(suffix) and len(place) - len(suffix) >= 2:
                aliases.add(place[: -len(suffix)])
                break
    return frozenset(a for a in aliases if len(a) >= 2 and a not in _GENERIC_UNITS)


def unit_place(unit: str) -> str:
    """A unit as a reader of a provincial archive names it: 广东省人民政府 -> 广东省; an office or a body that is not a
    government (县政府办公室, *县委, X党组) as it is."""
    for suffix in ("人民政府", "政府"):
        place = unit.removesuffix(suffix)
        if place != unit and len(place) >= 2 and place.endswith(_PLACE_ENDINGS):
            return place
    return unit


@lru_cache(maxsize=1 << 16)
def place_in_name(name: str) -> str | None:
    """The body a title or file name says it is of (2026年广东省政府工作报告 -> 广东省), if it says so."""
    if "政府" not in name:  # (the same characters in traditional Chinese) most titles: no need to normalise
        return None
    match = _PLACE_IN_NAME.match(normalize(name).replace(" ", ""))
    return match.group("place") if match else None


@dataclass
class Catalogue:
    """The reports a scope is resolved against, with the words that name them."""

    reports: tuple[ReportFacts, ...]
    this_year: int
    by_year: dict[int, set[int]] = field(init=False)
    by_alias: dict[str, set[int]] = field(init=False)
    longest: int = field(init=False)
    ordered: tuple[int, ...] = field(init=False)  # report ids ascending: 第N份报告 is ordered[N - 1]
    all_ids: frozenset[int] = field(init=False)
    _titles: tuple[tuple[int, str], ...] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.reports = tuple(sorted(self.reports, key=lambda r: r.id))
        self.ordered = tuple(r.id for r in self.reports)
        self.all_ids = frozenset(self.ordered)
        self.by_year = defaultdict(set)
        self.by_alias = defaultdict(set)
        for report in self.reports:
            if report.year is not None:
                self.by_year[report.year].add(report.id)
            names = [report.unit] if report.unit else []
            names += [p for p in (place_in_name(report.title), place_in_name(_stem(report.source))) if p]
            for name in names:
                for alias in unit_aliases(name):
                    self.by_alias[alias].add(report.id)
        self.longest = max((len(a) for a in self.by_alias), default=0)

    def years(self) -> tuple[int, ...]:
        """The years of the reports, ascending."""
        return tuple(sorted(self.by_year))

    def _latest_year(self) -> int:
        return max(self.this_year, max(self.by_year, default=self.this_year))

    # --- parsing ---------------------------------------------------------------------------------------------

    def parse(self, question: str) -> tuple[Scope, str]:
        """The scope `question` names and the question without its scope words (normalised text)."""
        text = normalize(question)
        taken: list[tuple[int, int, bool]] = []  # spans cut out; True for those that name reports (see _cut)

        def free(start: int, end: int) -> bool:
            return all(end <= a or start >= b for a, b, _ in taken)

        def take(start: int, end: int, loose: bool = False) -> None:
            taken.append((start, end, loose))

        titles: list[str] = []
        for match in _TITLE.finditer(text):
            title = match.group(1).strip()
            if self._title_ids(title) or _TITLE_LIKE.search(title):
                titles.append(title)
                take(*match.span(), True)
        years: list[int] = []
        for match in _YEAR_RANGE.finditer(text):
            first, last = sorted((int(match.group(1)), int(match.group(2))))
            if free(*match.span()) and last - first <= 100 and last <= self._latest_year():
                years.extend(range(first, last + 1))
                take(*match.span())
        for pattern, read in ((_YEAR, int), (_CN_YEAR, _year_of_chinese), (_SHORT_YEAR, self._short_year)):
            for match in pattern.finditer(text):
                year = read(match.group(1))
                if year is not None and free(*match.span()) and year <= self._latest_year():
                    years.append(year)
                    take(*match.span())
        numbers: list[int] = []
        ids: list[int] = []
        for pattern, found in ((_ORDINAL, numbers), (_ID_DOC, ids), (_DOC_ID, ids), (_HASH_ID, ids)):
            for match in pattern.finditer(text):
                number = _small_number(match.group(1))
                if number is not None and free(*match.span()):
                    found.append(number)
                    take(*match.span(), True)
        units: list[str] = []
        at = 0
        while at < len(text):
            alias = next(
                (
                    text[at : at + size]
                    for size in range(min(self.longest, len(text) - at), 1, -1)
                    if text[at : at + size] in self.by_alias and free(at, at + size)
                ),
                None,
            )
            if alias is None:
                at += 1
                continue
            units.append(alias)
            take(at, at + len(alias))
            at += len(alias)
        scope = Scope(
            tuple(dict.fromkeys(years)),
            tuple(dict.fromkeys(units)),
            tuple(dict.fromkeys(numbers)),
            tuple(dict.fromkeys(ids)),
            tuple(dict.fromkeys(titles)),
        )
        return scope, _cut(text, taken)

    def _short_year(self, digits: str) -> int | None:
        """24年 is 2024 when the library has reports of 2024, 1924 when it has those (and none of 2024); else 2024
        when that is not in the future (then the answer says there is no report of it), else not a year."""
        for year in (2000 + int(digits), 1900 + int(digits)):
            if year in self.by_year:
                return year
        year = 2000 + int(digits)
        return year if year <= self.this_year else None

    def _title_ids(self, title: str) -> set[int]:
        """Reports whose title is `title`, or contains it (a title quoted without its year or unit)."""
        wanted = normalize(title).replace(" ", "")
        if len(wanted) < 2:
            return set()
        if self._titles is None:  # normalised once, with the first title a question quotes
            self._titles = tuple((r.id, normalize(r.title).replace(" ", "")) for r in self.reports)
        exact = {rid for rid, norm in self._titles if norm == wanted}
        return exact or {rid for rid, norm in self._titles if wanted in norm}

    # --- resolving -------------------------------------------------------------------------------------------

    def resolve(self, scope: Scope) -> Resolution:
        """The reports `scope` means, or why there are none."""
        everything = self.all_ids
        parts: list[tuple[Scope, set[int]]] = []
        if scope.titles:
            found = set().union(*(self._title_ids(t) for t in scope.titles))
            if not found:
                return OutOfScope(scope, MissingTitle(scope.titles[0]))
            parts.append((Scope(titles=scope.titles), found))
        if scope.numbers or scope.ids:
            ordered = self.ordered
            found = {ordered[n - 1] for n in scope.numbers if 1 <= n <= len(ordered)}
            found |= {i for i in scope.ids if i in everything}
            if not found:
                first, last = (ordered[0], ordered[-1]) if ordered else (None, None)
                return OutOfScope(scope, MissingReports(scope, len(ordered), first, last))
            parts.append((Scope(numbers=scope.numbers, ids=scope.ids), found))
        if scope.years:
            found = set().union(*(self.by_year.get(y, set()) for y in scope.years))
            if not found:
                return OutOfScope(scope, MissingYears(scope.years, self.years()))
            parts.append((Scope(years=scope.years), found))
        if scope.units:
            parts.append((Scope(units=scope.units), set().union(*(self.by_alias[u] for u in scope.units))))
        if not parts:
            return InScope(scope, everything, True)
        common = set.intersection(*(ids for _, ids in parts))
        if not common:
            by_id = {r.id: r for r in self.reports}
            return OutOfScope(
                scope, NoOverlap(tuple((part, tuple(by_id[i] for i in sorted(ids))) for part, ids in parts))
            )
        return InScope(scope, frozenset(common), common == everything)


def _stem(source: str) -> str:
    return source.rsplit("/", 1)[-1].rsplit(".", 1)[0]


def _cut(text: str, spans: Iterable[tuple[int, int, bool]]) -> str:
    """`text` without `spans`, and without the words that tied them to it (2019年的报告中赤字率 -> 赤字率). 中/里
    go with a report word or a span that names reports (`loose`: 《…》中, 第四份报告里); 2024年中国 keeps 中国."""
    out: list[str] = []
    last = 0
    for start, end, loose in sorted(spans):
        out.append(text[last:start])
        tie = _TIE.match(text, end)
        if tie is not None:
            if tie.group("within") and not (loose or tie.group("doc")):
                end = tie.end("of") if tie.group("of") else end
            else:
                end = tie.end()
        out.append(" ")
        last = end
    out.append(text[last:])
    return " ".join(word for word in "".join(out).split() if word not in _JOINERS)
