"""A term over the years (新质生产力历年提及情况): the mention answer's counts per year, per unit or per report, and
the chart of them. The counts are the mention answer's own (`Library.mentions` and its grouping), never a recount."""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass
from typing import Literal, get_args

from .answers import MentionAnswer, MentionsAnswer, mention_groups, report_unit
from .library import Library
from .normalize import normalize
from .query import clean_term

log = logging.getLogger(__name__)

TrendBy = Literal["year", "unit", "report"]
TREND_BY: tuple[TrendBy, ...] = get_args(TrendBy)
# fonts that draw Chinese, most wanted first (Debian's fonts-noto-cjk gives the first)
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Serif CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
)
_TREND_WORDS = re.compile(
    r"^(?P<term>.+?)(?:的)?(?:在)?(?:历年|每年|逐年|各年|近年|这几年|历次|各年度|年度)(?:的)?"
    r"(?:提及|提到|出现|使用)?(?:情况|次数|频次|频率|变化|趋势|走势|统计|多少次|几次)?(?:如何|怎样|怎么样)?$"
    r"|^(?P<term2>.+?)(?:的)?(?:提及|出现)?(?:变化趋势|趋势图|走势图|趋势)$"
)
_END = "？?。.!！ "


@dataclass(frozen=True)
class TrendPoint:
    """One year, unit or report: its mentions of the term and how many reports they are in."""

    key: int | str | None  # the year, the unit or the report id; None: reports without a year or unit
    label: str  # as a chart and a table name it: 2024年, 广东省, #3
    mentions: int
    reports: int


@dataclass(frozen=True)
class Trend:
    """A term's mentions by year, unit or report, from the mention answer `answer`."""

    term: str
    by: TrendBy
    points: tuple[TrendPoint, ...]
    answer: MentionsAnswer

    @property
    def mentions(self) -> int:
        return sum(p.mentions for p in self.points)

    @property
    def reports(self) -> int:
        return sum(p.reports for p in self.points)


def trend_question(text: str) -> str | None:
    """The term a question asks the trend of (新质生产力历年提及情况, “三会一课”每年提到几次, X的变化趋势), or None."""
    question = normalize(" ".join(text.split())).strip(_END)
    match = _TREND_WORDS.match(question)
    if match is None:
        return None
    term = clean_term(match.group("term") or match.group("term2") or "")
    return term or None


def default_by(library: Library) -> TrendBy:
    """By year when the reports span several years; by unit when they are of one year (or undated) and name their
    units; by report otherwise."""
    reports = library.reports()
    if len({r.year for r in reports} - {None}) > 1:
        return "year"
    if reports and sum(report_unit(r) is not None for r in reports) * 2 > len(reports):
        return "unit"
    return "report"


def trend(library: Library, term: str, *, by: TrendBy | None = None) -> Trend:
    """The term's mentions grouped by year (every year of the library, with its zeros, oldest first), by unit
    (most mentions first) or by report (each report that mentions it, by id); no points when no report mentions
    it."""
    chosen = by or default_by(library)
    answer = library.mentions(term, quoted=0)
    if not isinstance(answer, MentionAnswer):  # nothing to chart: not a row of zeros
        return Trend(answer.term or term, chosen, (), answer)
    if chosen == "report":
        points = tuple(
            TrendPoint(m.report.id, f"#{m.report.id}", m.mentions, 1)
            for m in sorted(answer.reports, key=lambda m: m.report.id)
        )
        return Trend(answer.term or term, chosen, points, answer)
    groups = mention_groups(answer.reports, chosen)
    if chosen == "unit":
        points = tuple(
            TrendPoint(g.key, str(g.key) if g.key else "单位不详", g.mentions, len(g.reports)) for g in groups
        )
        return Trend(answer.term or term, chosen, points, answer)
    by_year = {g.key: g for g in groups}
    years = sorted(
        {y for r in library.reports() if (y := r.year) is not None} | {k for k in by_year if isinstance(k, int)}
    )
    points = tuple(
        TrendPoint(
            year,
            f"{year}年" if year is not None else "年份不详",
            by_year[year].mentions if year in by_year else 0,
            len(by_year[year].reports) if year in by_year else 0,
        )
        for year in [*years, *([None] if None in by_year else [])]
    )
    return Trend(answer.term or term, chosen, points, answer)


def caption(trend: Trend, limit: int = 1000) -> str:
    """One line carrying the numbers: “新质生产力”：2024年 5处 · 2025年 8处 (cut at `limit` characters)."""
    head = f"“{trend.term}”："
    if not trend.points:
        return head + "没有报告提到"
    line = head + " · ".join(f"{p.label} {p.mentions}处" for p in trend.points)
    return line if len(line) <= limit else line[: limit - 1] + "…"


def table(trend: Trend) -> list[tuple[str, int, int]]:
    """The rows of the text table: label, mentions, reports."""
    return [(p.label, p.mentions, p.reports) for p in trend.points]


def cjk_font() -> str | None:
    """The name of an installed font that draws Chinese, found through matplotlib's font manager."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    found = next((name for name in CJK_FONTS if name in installed), None)
    if found is None:
        found = next((name for name in sorted(installed) if "CJK" in name or "Hei" in name), None)
    return found


def trend_png(trend: Trend, *, title: str | None = None) -> bytes:
    """The chart as PNG bytes: a bar per year (or unit, or report) with its count on it."""
    import matplotlib

    matplotlib.use("Agg")  # no display: the chart is only ever written to bytes
    from matplotlib.figure import Figure

    font = cjk_font()
    if font is None:
        log.warning("no font that draws Chinese is installed (fonts-noto-cjk); the chart's labels will be boxes")
    families = [font, "sans-serif"] if font else ["sans-serif"]
    shown = trend.points[:40]  # a chart of more bars cannot be read; the caption and the table have them all
    with matplotlib.rc_context({"font.family": families, "axes.unicode_minus": False}):
        figure = Figure(figsize=(max(6.0, 0.45 * len(shown) + 2), 4.2), dpi=120)
        axes = figure.subplots()
        labels = [p.label for p in shown]
        values = [p.mentions for p in shown]
        bars = axes.bar(range(len(shown)), values, color="#c0392b" if trend.by == "year" else "#2c7fb8")
        axes.bar_label(bars, labels=[str(v) for v in values], padding=2, fontsize=9)
        axes.set_xticks(range(len(shown)), labels, rotation=0 if len(shown) <= 8 else 60, fontsize=9)
        axes.set_ylabel("提及次数")
        axes.set_ylim(0, max([*values, 1]) * 1.18)
        axes.spines[["top", "right"]].set_visible(False)
        by = {"year": "历年", "unit": "各单位", "report": "各报告"}[trend.by]
        axes.set_title(title or f"“{trend.term}”{by}提及次数（共{trend.mentions}处，{trend.reports}份报告）")
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="png")
    return out.getvalue()
