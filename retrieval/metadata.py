"""A report's title, date and unit, read the way a clerk reads an official document.

Pure functions over a report's cleaned lines, its file name and what the file format declared. The clerk looks at
the top of the document (title block, dateline, speaker, the opening sentence), at its end (signature and date),
at the file name, and only then at the file's properties; web furniture, running headers, source lines and
salutations are never the title.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Protocol

# Bumped whenever reading changes: a library opened by a newer reader reads its reports' metadata again from the
# stored text (admins' corrections still apply over it).
METADATA_VERSION = "3"
# How far into a report its head (title block, dateline, speaker) can reach: scraped pages put a dozen lines of
# furniture before the title.
HEAD_MAX_LINES = 40
TAIL_LINES = 6
TITLE_LINE_MAX_CHARS = 40
TITLE_MAX_CHARS = 80
DATELINE_MAX_CHARS = 90

# Words an official title ends in (or holds); a title candidate that has one wins over one that does not.
TITLE_WORDS = (
    "报告",
    "汇报",
    "总结",
    "讲话",
    "发言",
    "方案",
    "计划",
    "要点",
    "材料",
    "情况",
    "述职",
    "意见",
    "通知",
    "纪要",
    "规划",
    "决议",
    "工作",
)

# --- furniture -----------------------------------------------------------------------------------------------

# Lines of web pages and scraped articles that carry no text of the report (whole line).
_FURNITURE_LINES = frozenset(
    (
        *("下载", "打印", "全屏", "收藏", "关闭", "分享", "首页", "返回", "顶部", "返回顶部", "打印本页", "关闭窗口"),
        *("加大", "还原", "减小", "大", "中", "小", "默认", "字号", "字体", "【", "】", "[", "]", ">", ">>", "»"),
        *("扫一扫", "二维码", "微信", "微博", "QQ空间", "(anonymous)", "anonymous", "untitled"),
    )
)
# Labelled furniture: a source or time line, a font-size switcher, a breadcrumb, a photo caption, an editor.
_FURNITURE = re.compile(
    r"^(?:"
    r"(?:来\s*源|时\s*间|发布时间|发表时间|发布日期|更新时间|作\s*者|编\s*辑|责任编辑|责编|阅读(?:量|次数)|浏览(?:量|次数)|"
    r"点击(?:量|数)|字\s*号|字\s*体|分\s*享|您的位置|当前位置|信息来源|文章来源|稿件来源|索\s*引\s*号|主题分类|"
    r"发文机关|成文日期|发布机构|签发人|密\s*级|紧急程度|打印|下载)\s*[:：].{0,40}"
    r"|【\s*(?:字号|字体|打印|关闭).*"
    r"|.*(?:加大|大)\s*(?:还原|中)\s*(?:减小|小)\s*】?$"
    r"|.*(?:记者|摄影|通讯员)\s*\S{1,4}\s*摄$|.*\s摄$|.{0,40}（?图\s*[:：]"
    r"|(?:首页|主页)\s*[>＞›»].*|.*[>＞›»]\s*(?:正文|详情)$"
    r"|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?"  # a page's publication time
    r"|\d{4}年\d{1,2}月\d{1,2}日\s*\d{1,2}[时:：]\d{2}分?(?:\d{2}秒)?"
    r"|第?\s*\d+\s*页.*|[-—]\s*\d+\s*[-—]"
    r"|Microsoft Word - .*"
    r")$"
)
# The value of a source line whose label the page (or a cleaner) dropped: 宁夏日报客户端, 新华网.
_MEDIA = re.compile(
    r"^\S{2,12}(?:日报|晚报|早报|时报|报社|客户端|新闻网|新闻|网|电视台|广播电视台|电台|融媒体中心|杂志|周刊)$"
)
# A breadcrumb trail's sections end in words like these (云南要闻, 政务信息).
_BREADCRUMB_WORDS = ("要闻", "新闻", "动态", "信息", "频道", "栏目", "公开", "首页", "专题", "资讯")
# Labels whose value the scraper put on the next line ("来源:" / "四川日报").
_LABEL_ONLY = re.compile(
    r"^(?:来\s*源|时\s*间|发布时间|发表时间|作\s*者|编\s*辑|责任编辑|阅读量|信息来源|文章来源)\s*[:：]$"
)
# Running headers and document numbers of official documents: XX县人民政府办公室文件, X政办发〔2024〕12号.
_RUNNING_HEADER = re.compile(r"^(?P<unit>\S{2,30}?)(?:文\s*件|简\s*报|情\s*况\s*通\s*报)$")
_DOCUMENT_NUMBER = re.compile(r"^\S{0,20}[〔\[［(（【]\s*(?P<year>(?:19|20)\d{2})\s*[〕\]］)）】]\s*\d+\s*号$")
_SALUTATION = re.compile(r"^(?:尊敬的|各位|同志们|亲爱的).{0,20}[:：！!，,]?$|^.{1,20}[:：]$")
_HEADING = re.compile(
    r"^(?:[一二三四五六七八九十百]+[、.．]|[（(][一二三四五六七八九十]+[）)]|第[一二三四五六七八九十]+[部章节])"
)
_SENTENCE_END = re.compile(r"[。！？；!?;]")
# A subtitle under a main title: ——在2024年全县经济工作会议上的讲话, —— 2023年工作总结.
_SUBTITLE = re.compile(r"^[—―─－]{1,2}\s*\S.{0,60}$")

# --- dates ---------------------------------------------------------------------------------------------------

_CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "Ｏ": 0, "O": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7}
_CN_DIGITS |= {"八": 8, "九": 9}
_CN_YEAR = "[〇○零Ｏ一二三四五六七八九]{4}"
_CN_NUMBER = "[一二三四五六七八九十]{1,3}"
_YEAR = rf"(?P<year>(?:19|20)\d{{2}}|{_CN_YEAR})\s*年"
_MONTH = rf"(?P<month>\d{{1,2}}|{_CN_NUMBER})\s*月份?"
_DAY = rf"(?P<day>\d{{1,2}}|{_CN_NUMBER})\s*[日号]"
_FULL_DATE = re.compile(rf"{_YEAR}\s*{_MONTH}\s*{_DAY}")
_YEAR_MONTH = re.compile(rf"{_YEAR}\s*(?:{_MONTH}(?:\s*{_DAY})?)?(?:度)?")
_MONTH_ONLY = re.compile(rf"(?<![年\d一二三四五六七八九十]){_MONTH}")
# A dateline under the title: ——2024年3月5日在第十四届全国人民代表大会第二次会议上 / （2024年3月5日）.
_DATELINE = re.compile(rf"^[\s—―─－\-–~～·（(【\[]*{_YEAR}\s*{_MONTH}\s*{_DAY}(?P<rest>.*)$")
_ISO_IN_NAME = re.compile(
    r"(?<![0-9A-Za-z])(?P<year>(?:19|20)\d{2})[-_.]?(?P<month>0[1-9]|1[0-2])[-_.]?(?P<day>0[1-9]|[12]\d|3[01])"
    r"(?![0-9A-Za-z])"
)
_YEAR_IN_NAME = re.compile(r"(?<![0-9A-Za-z])(?P<year>(?:19|20)\d{2})(?:\s*年|(?![0-9A-Za-z]))")

# --- units ---------------------------------------------------------------------------------------------------

# Administrative areas (广东省, 宁夏回族自治区, **区, *县, XX镇) and the bodies of an area or an organisation.
_AREA = (
    r"(?:(?:(?![年在于的和与])[\u4e00-\u9fff]){1,12}?(?:自治区|自治州|自治县|特别行政区|省|市|县|区|州|盟|旗|镇|乡|街道)"
    r"|[*＊XＸ某]{1,3}(?:省|市|县|区|州|镇|乡|街道))"
)
_BODY = (
    r"(?:人民政府办公室|人民政府办公厅|政府办公室|政府办公厅|人民政府|政府办|政府|委员会|县委|区委|市委|省委|州委|党委|"
    r"党组|党工委|党支部|党总支|委办|办公室|办公厅|纪委|监委|人大常委会|政协|局|厅|委|办|中心|公司|集团|学校|医院)"
)
# an area's own body (广东省人民政府), an organisation of the area (**县统计局), or the area alone (**区)
_ORGANISATION = rf"(?:(?![的和与在年])[\u4e00-\u9fff]){{0,6}}?{_BODY}"
_UNIT = rf"(?:{_AREA}(?:{_ORGANISATION})?|(?:[*＊XＸ某]{{1,3}}|[\u4e00-\u9fff]{{2,10}}?){_BODY})"
_UNIT_RE = re.compile(_UNIT)
_UNIT_LINE = re.compile(rf"^(?:中共|中国共产党)?{_UNIT}$")
# The body that gives a government work report is the area's people's government; the State Council for the nation.
_GOV_TITLE = re.compile(rf"(?P<area>{_AREA})(?:人民)?政府工作报告")
_GOV_TITLE_YEAR_FIRST = re.compile(rf"^(?P<area>{_AREA})\s*(?:19|20)\d{{2}}\s*年\s*(?:人民)?政府工作报告")
_CONGRESS_TITLE = re.compile(
    r"^(?:第?[一二三四五六七八九十]{1,3}届)?(?P<area>.{0,10}?)(?:第?[一二三四五六七八九十]{1,3}届)?"
    r"(?P<body>人民代表大会(?:常务委员会)?)(?:第[一二三四五六七八九十]{1,3}次会议)?关于"
)
_CONGRESS = re.compile(r"在(?P<area>.{0,14}?)(?:第?[一二三四五六七八九十]{1,3}届)?(?:全国)?人民代表大会")
_LEADER = re.compile(
    rf"^(?P<area>{_AREA})?(?:人民政府|政府)?(?P<post>省长|市长|县长|区长|州长|盟长|旗长|主席|代省长|代市长|代县长|代区长|总理|镇长|乡长)"
    r"\s*[\u4e00-\u9fff·]{2,5}$"
)
# The opening names the reporting body: "主题教育开展以来，县政府办公室按照……", "**区严格按照……".
_OPENING_VERBS = (
    "按照|严格按照|认真|牢牢|紧紧|坚持|始终|深入|全面|扎实|聚焦|围绕|结合|立足|把|在|以|对照|高度|迅速|积极|精心|"
    "切实|统筹|着力|持续|坚决|紧扣|紧密|成立|召开|组织|主题教育"
)
_OPENING = re.compile(rf"(?:^|[，。；])(?P<unit>(?:中共)?{_UNIT})(?:{_OPENING_VERBS})")
_NOT_UNITS = frozenset({"我们", "我局", "我办", "我委", "我县", "我区", "我市", "我省", "全县", "全区", "全市", "全省"})


@dataclass(frozen=True)
class ReportMetadata:
    """What a clerk would write on a report's card: title, the day it was made (ISO prefix) and who reports.

    `title_lines` are the indexes of the lines that make up the title (they are the report's title, not its text).
    """

    title: str | None
    date: str | None
    unit: str | None
    title_lines: tuple[int, ...] = ()

    @property
    def year(self) -> int | None:
        """The year of `date`."""
        return year_of(self.date)


class Titled(Protocol):
    """What telling reports of one title apart needs of them."""

    @property
    def id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def date(self) -> str | None: ...
    @property
    def unit(self) -> str | None: ...


def distinctions(reports: Iterable[Titled]) -> dict[int, str]:
    """What tells each report apart from the others of the same title, by id (reports whose title is their own are
    left out): the date when the dates do, else the unit when the units do, else both, else the report's number."""
    groups: dict[str, list[Titled]] = {}
    for report in reports:
        groups.setdefault(report.title, []).append(report)
    found: dict[int, str] = {}
    for group in groups.values():
        if len(group) < 2:
            continue
        for describe in (_by_date, _by_unit, _by_both):
            tags = [describe(r) for r in group]
            if all(tags) and len(set(tags)) == len(tags):
                break
        for report, tag in zip(group, tags, strict=True):
            found[report.id] = tag if tag and tags.count(tag) == 1 else " · ".join(filter(None, (tag, f"#{report.id}")))
    return found


def titled(title: str, distinction: str | None) -> str:
    """《title》 as plain text, with what tells the report apart from others of its title (《政府工作报告》（2024）)."""
    return f"《{title}》" + (f"（{distinction}）" if distinction else "")


def _by_date(report: Titled) -> str:
    return report.date or ""


def _by_unit(report: Titled) -> str:
    return report.unit or ""


def _by_both(report: Titled) -> str:
    return " · ".join(part for part in (report.date, report.unit) if part)


def year_of(date: str | None) -> int | None:
    """The year of an ISO date prefix ("2024", "2024-03", "2024-03-05")."""
    return int(date[:4]) if date and date[:4].isdigit() else None


# --- dates -------------------------------------------------------------------------------------------------------


def _number(text: str) -> int:
    """12, １２, 十二, 二十七, 二〇二四 -> int."""
    text = unicodedata.normalize("NFKC", text)
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
    value = 0
    for ch in text:
        value = value * 10 + _CN_DIGITS.get(ch, 0)
    return value


def _iso(year: str | None, month: str | None = None, day: str | None = None) -> str | None:
    """An ISO prefix from matched parts, or None when they are not a real date."""
    if year is None:
        return None
    y = _number(year)
    if not 1900 <= y <= 2100:
        return None
    if month is None:
        return f"{y:04d}"
    m = _number(month)
    if not 1 <= m <= 12:
        return f"{y:04d}"
    if day is None:
        return f"{y:04d}-{m:02d}"
    d = _number(day)
    if not 1 <= d <= calendar.monthrange(y, m)[1]:
        return f"{y:04d}-{m:02d}"
    return f"{y:04d}-{m:02d}-{d:02d}"


def _fold_digits(text: str) -> str:
    """Full-width digits as ASCII (NFKC only on digits: the rest of the text stays as written)."""
    return "".join(unicodedata.normalize("NFKC", ch) if "０" <= ch <= "９" else ch for ch in text)


def parse_date(text: str) -> str | None:
    """The first date in `text` as an ISO prefix: a full date, else a year and month, else a year."""
    text = _fold_digits(text)
    match = _FULL_DATE.search(text)
    if match:
        return _iso(match["year"], match["month"], match["day"])
    match = _YEAR_MONTH.search(text)
    if match:
        return _iso(match["year"], match["month"], match["day"])
    return None


def _month_of(text: str) -> int | None:
    """A month named without its year ("10月份阶段性总结")."""
    match = _MONTH_ONLY.search(_fold_digits(text))
    if match is None:
        return None
    month = _number(match["month"])
    return month if 1 <= month <= 12 else None


_ISO_INPUT = re.compile(r"^(?P<year>\d{4})(?:[-/.](?P<month>\d{1,2})(?:[-/.](?P<day>\d{1,2}))?)?$")


def parse_date_input(text: str) -> str:
    """A date an admin typed (2024-03-05, 2024-3, 2024, 2024年3月5日, 二〇二四年三月) as an ISO prefix;
    ValueError when it is not a real date."""
    folded = _fold_digits(text.strip())
    match = _ISO_INPUT.fullmatch(folded) or _YEAR_MONTH.fullmatch(folded)
    if match is None:
        raise ValueError(text)
    parts = [match["year"], match["month"], match["day"]]
    found = _iso(*parts)
    if found is None or found.count("-") + 1 != sum(1 for part in parts if part):
        raise ValueError(text)
    return found


def date_from_name(source: str) -> str | None:
    """A date in a file name: 20240305, 2024-03-05, 2024年3月5日, or a year standing alone (2025年…)."""
    stem = _fold_digits(PurePath(source).stem)
    match = _ISO_IN_NAME.search(stem)
    if match:
        return _iso(match["year"], match["month"], match["day"])
    if "年" in stem:
        found = parse_date(stem)
        if found:
            return found
    match = _YEAR_IN_NAME.search(stem)
    return _iso(match["year"]) if match else None


# --- lines of the head -------------------------------------------------------------------------------------------


def is_furniture(line: str) -> bool:
    """Web furniture, a source or time line, a page number or empty metadata: never part of the report's text."""
    stripped = line.strip()
    if stripped in _FURNITURE_LINES or _FURNITURE.match(stripped):
        return True
    return bool(_MEDIA.match(stripped)) and not any(word in stripped for word in TITLE_WORDS)


def _is_salutation(line: str) -> bool:
    return len(line) <= 24 and bool(_SALUTATION.match(line)) and not _DATELINE.match(line)


def _dateline(line: str) -> tuple[str | None, str] | None:
    """(date, what follows it) when the line is a dateline; a dateline has no sentence in it."""
    folded = _fold_digits(line)
    if len(folded) > DATELINE_MAX_CHARS or _SENTENCE_END.search(folded):
        return None
    match = _DATELINE.match(folded)
    if match is None:
        return None
    rest = match["rest"].strip(" ）)】]")
    # "在…会议上", "在…上的讲话", or nothing after the date: a dateline; anything else is a sentence that begins
    # with a date.
    # "（2024年3月11日第十四届全国人民代表大会第二次会议通过）": a resolution's dateline
    adopted = rest.endswith(("通过", "批准", "审议通过")) and ("会议" in rest or "大会" in rest)
    if rest and not (rest.startswith(("在", "于", "，在")) or adopted):
        return None
    return _iso(match["year"], match["month"], match["day"]), rest


def _is_title_like(line: str) -> bool:
    if len(line) > TITLE_LINE_MAX_CHARS or _SENTENCE_END.search(line.rstrip("。")) or line.endswith(("。", "：", ":")):
        return False
    if _HEADING.match(line) or is_furniture(line) or _is_salutation(line):
        return False
    return "，" not in line or any(word in line for word in TITLE_WORDS)


def _has_title_word(line: str) -> bool:
    return any(word in line for word in TITLE_WORDS)


def _ends_title(line: str) -> bool:
    return line.rstrip("）)").endswith(TITLE_WORDS) or line.endswith(("》", "”"))


def _descriptive_stem(source: str) -> str | None:
    """The file name's stem when it says what the report is (2025年吉林省政府工作报告), not a number or hash."""
    stem = PurePath(source).stem.strip()
    stem = re.sub(r"^\d{1,4}[_\-.\s]+", "", stem)  # a running number the archive put in front
    stem = re.sub(r"[_\-\s]*(?:\(\d+\)|（\d+）|副本|copy|final|终稿|定稿|v\d+)$", "", stem, flags=re.IGNORECASE)
    cjk = sum(1 for ch in stem if "\u4e00" <= ch <= "\u9fff")
    if cjk < 4 or stem.startswith("Microsoft Word"):
        return None
    return stem.replace("_", " ").strip()


def _is_subsequence(short: str, long: str) -> bool:
    chars = iter(long)
    return all(ch in chars for ch in short)


@dataclass
class _Head:
    """What the head of a report holds, line by line."""

    candidates: list[int]
    dateline: int | None
    dateline_date: str | None
    dateline_rest: str
    leader: re.Match[str] | None
    header_unit: str | None
    document_year: str | None
    body_start: int
    subtitle: int | None = None  # ——在2024年全县经济工作会议上的讲话: the line under a main title
    subtitle_date: str | None = None


def _read_head(lines: Sequence[str]) -> _Head:
    head = _Head([], None, None, "", None, None, None, min(len(lines), HEAD_MAX_LINES))
    previous = ""
    for i, raw in enumerate(lines[:HEAD_MAX_LINES]):
        line = raw.strip()
        after_label = bool(_LABEL_ONLY.match(previous))
        breadcrumb = previous in {">", ">>", "＞", "›", "»"} or line == previous or line.endswith(_BREADCRUMB_WORDS)
        previous = line
        if not line or is_furniture(line):
            continue
        if (after_label or breadcrumb) and not _has_title_word(line) and _dateline(line) is None:
            continue
        header = _RUNNING_HEADER.match(line)
        if header and len(line) <= 30 and _UNIT_LINE.match(header["unit"]):
            head.header_unit = head.header_unit or header["unit"]
            continue
        number = _DOCUMENT_NUMBER.match(line)
        if number:
            head.document_year = head.document_year or number["year"]
            continue
        dateline = _dateline(line)
        if dateline is not None:
            if head.dateline is None:
                head.dateline, (head.dateline_date, head.dateline_rest) = i, dateline
                leader = _LEADER.search(dateline[1].split()[-1]) if " " in dateline[1] else None
                head.leader = head.leader or leader
            continue
        if head.subtitle is None and _SUBTITLE.match(line):
            head.subtitle, head.subtitle_date = i, parse_date(line)
            continue
        if _continues_dateline(lines, i, head):
            head.dateline_rest += line
            continue
        leader = _LEADER.match(line.replace("\u3000", "").replace(" ", ""))
        if leader:
            head.leader = head.leader or leader
            continue
        if _is_salutation(line) or _HEADING.match(line) or not _is_title_like(line):
            head.body_start = i
            break
        head.candidates.append(i)
    return head


def _continues_dateline(lines: Sequence[str], i: int, head: _Head) -> bool:
    """A dateline broken across lines: "——2026年1月26日在广东省第十四届" / "人民代表大会第五次会议上"."""
    if head.dateline != i - 1 or not head.dateline_rest:
        return False
    line = lines[i].strip()
    return not head.dateline_rest.endswith(("上", "）", ")")) and len(line) <= 30 and line.rstrip("）)").endswith("上")


# --- title -------------------------------------------------------------------------------------------------------


def _title_block(lines: Sequence[str], head: _Head) -> tuple[str, tuple[int, ...]] | None:
    """The title lines: the last title-worded candidate before the dateline (else the first), joined with the line
    it wraps into; then the page's fuller heading if it holds that title (宁夏's page heading over 政府工作报告)."""
    worded = [i for i in head.candidates if _has_title_word(lines[i])]
    if not worded and head.subtitle is not None and head.subtitle - 1 in head.candidates:
        # a main title without a title word, made one by the subtitle under it (凝心聚力 实干争先 / ——在…的讲话)
        return lines[head.subtitle - 1].strip(), (head.subtitle - 1,)
    if not worded:
        return None
    before = [i for i in worded if head.dateline is not None and i < head.dateline]
    start = before[-1] if before else worded[0]
    indexes = [start]
    # walk back over the lines the title wraps from, then forward into the lines it wraps to
    while indexes[0] - 1 in head.candidates and _wraps(lines[indexes[0] - 1].strip(), lines[indexes[0]].strip()):
        indexes.insert(0, indexes[0] - 1)
    while indexes[-1] + 1 in head.candidates and _wraps(lines[indexes[-1]].strip(), lines[indexes[-1] + 1].strip()):
        indexes.append(indexes[-1] + 1)
    title = "".join(lines[i].strip() for i in indexes)
    for i in head.candidates:
        fuller = lines[i].strip()
        if i not in indexes and len(fuller) > len(title) and _ends_title(fuller) and _is_subsequence(title, fuller):
            return fuller, (i,)
    return title, tuple(indexes)


def _wraps(first: str, second: str) -> bool:
    """Whether `second` continues a title that `first` began (a title broken across lines)."""
    if len(first) + len(second) > TITLE_MAX_CHARS or _ends_title(first):
        return False
    if first.endswith(("的", "关于", "和", "与", "及", "暨", "在", "于", "之", "、", "——", "—")):
        return True
    return _ends_title(second) and not second.startswith(("关于", "——"))


def _choose_title(text_title: str | None, source: str, declared: str | None) -> str | None:
    """The text's own title unless the file name says the same more specifically (政府工作报告 in a file named
    2026年广东省政府工作报告: a reader must tell 31 of them apart); the file name when the text has none."""
    stem = _descriptive_stem(source)
    if text_title is None:
        return stem or declared
    if stem and len(stem) > len(text_title) and _is_subsequence(text_title, stem):
        return stem
    return text_title


def _clean_declared(title: str | None) -> str | None:
    if title is None:
        return None
    title = title.strip().removeprefix("Microsoft Word - ").strip()
    if not title or title.lower().strip("()（）") in {"anonymous", "untitled", "无标题", "word document"}:
        return None
    if re.search(r"\.(?:docx?|wps|pdf|txt)$", title, re.IGNORECASE) or is_furniture(title):
        return None
    return title


# --- unit --------------------------------------------------------------------------------------------------------


def _unit_of_title(title: str) -> str | None:
    """The reporting body a title names: 2026年北京市政府工作报告 -> 北京市人民政府; **区…汇报 -> **区."""
    text = _fold_digits(title)
    congress = _CONGRESS_TITLE.match(text)
    if congress:  # 第十四届全国人民代表大会第二次会议关于…的决议: the congress resolves
        return congress["area"] + congress["body"]
    gov = _GOV_TITLE_YEAR_FIRST.match(text) or _GOV_TITLE.search(text)
    if gov:
        return _government(gov["area"])
    if "政府工作报告" in text:
        return None
    stripped = re.sub(rf"^(?:关于)?(?:{_YEAR})?", "", text)
    match = re.match(rf"(?:中共)?{_UNIT}", stripped)
    if match and match.end() < len(stripped) and _plausible_unit(match.group()):
        unit = match.group()
        # "X党组2023年…": the unit stops before the year
        return unit
    return None


def _government(area: str) -> str:
    area = re.sub(r"^(?:19|20)\d{2}\s*年", "", area)
    return "国务院" if area in {"", "全国", "中国", "中华人民共和国"} else area + "人民政府"


def _plausible_unit(unit: str) -> bool:
    if unit in _NOT_UNITS or unit.startswith(("我", "全", "各", "本", "该", "这", "此", "第")):
        return False
    return not any(word in unit for word in ("主题教育", "思想", "工作", "学习", "情况", "问题", "会议", "以来"))


def _unit_of_dateline(rest: str) -> str | None:
    match = _CONGRESS.search(rest)
    if match is None:
        return None
    area = match["area"].strip()
    return _government(area) if area == "" or re.fullmatch(_AREA, area) else None


def _unit_of_leader(leader: re.Match[str], dateline_unit: str | None) -> str | None:
    if leader["post"] == "总理":
        return "国务院"
    if leader["area"]:
        return _government(leader["area"])
    return dateline_unit


def _unit_of_opening(lines: Sequence[str], start: int) -> str | None:
    """The body named by the first sentences of the text."""
    for line in lines[start : start + 3]:
        if _HEADING.match(line) or _is_salutation(line):
            continue
        for match in _OPENING.finditer(line[:120]):
            unit = match["unit"]
            if _plausible_unit(unit):
                return unit
    return None


def _signature(lines: Sequence[str]) -> tuple[str | None, str | None]:
    """(unit, date) of a signature block at the end: a unit line, then a date line."""
    unit: str | None = None
    date: str | None = None
    for line in reversed([raw.strip() for raw in lines[-TAIL_LINES:]]):
        if not line or is_furniture(line):
            continue
        folded = _fold_digits(line)
        if date is None and len(folded) <= 20 and _FULL_DATE.fullmatch(folded.strip("（）() ")):
            date = parse_date(folded)
            continue
        if len(line) <= 30 and _UNIT_LINE.match(line) and _plausible_unit(line):
            unit = line
            continue
        break
    return unit, date


# --- the card ----------------------------------------------------------------------------------------------------


def read_metadata(
    lines: Sequence[str], source: str, *, declared_title: str | None = None, declared_date: str | None = None
) -> ReportMetadata:
    """Title, date and unit of a report from its cleaned lines, file name and what its format declared.

    `declared_title` counts as the title when it is one of the lines (a .docx Title or Heading 1 paragraph, a
    markdown heading); otherwise it came from the file's properties and is used only when nothing else names the
    report. `declared_date` (a .docx's or PDF's creation day) is the date only when nothing in the text or the file
    name gives one: templates and copied files carry properties older or newer than the report."""
    declared = _clean_declared(declared_title)
    head = _read_head(lines)
    styled = next((i for i, line in enumerate(lines[:HEAD_MAX_LINES]) if declared and line == declared), None)
    block: tuple[str, tuple[int, ...]] | None
    block = (lines[styled], (styled,)) if styled is not None and declared else _title_block(lines, head)
    text_title = block[0] if block else None
    title = _choose_title(text_title, source, None if styled is not None else declared)
    title_lines = block[1] if block else ()

    signature_unit, signature_date = _signature(lines)
    title_date = parse_date(text_title) if text_title else None
    name_date = date_from_name(source)
    date = head.dateline_date or (title_date if title_date and len(title_date) > 4 else None) or signature_date
    date = date or title_date or head.subtitle_date or name_date or (title and parse_date(title)) or head.document_year
    date = date or declared_date
    if date is None and text_title and (month := _month_of(text_title)) is not None:
        pass  # a month without a year ("10月份阶段性总结") says nothing on its own
    elif date is not None and len(date) == 4 and text_title and (month := _month_of(text_title)) is not None:
        date = f"{date}-{month:02d}"

    dateline_unit = _unit_of_dateline(head.dateline_rest) if head.dateline is not None else None
    found = [
        _unit_of_title(text_title) if text_title else None,
        dateline_unit,
        _unit_of_leader(head.leader, dateline_unit) if head.leader else None,
        signature_unit,
        head.header_unit,
        _unit_of_opening(lines, head.body_start),
        _unit_of_title(title) if title else None,
    ]
    unit = next((u for u in found if u), None)
    # the formal name a signature or running header gives (**镇人民政府) over the short one a title uses (**镇)
    formal = [u for u in (signature_unit, head.header_unit) if u]
    if unit is not None:
        unit = next((u for u in formal if len(u) > len(unit) and u.startswith(unit)), unit)
    return ReportMetadata(title, date, unit, title_lines)
