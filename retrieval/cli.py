"""The `reportbot` command line: a thin shell over `Library`. The bot adds its `run` command in bot/cli.py."""

from __future__ import annotations

import importlib.metadata
import json
import re
import sqlite3
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar, assert_never

import click
from pydantic import ValidationError
from pydantic_settings import BaseSettings
from tqdm import tqdm

from . import LibrarySettings, open_library
from .answers import Answer, AnyAnswer, PartAnswer, Quote
from .errors import (
    InvalidCorrection,
    ReportbotError,
    StorageError,
    UnknownParagraph,
    UnknownReport,
    UnreadableReport,
)
from .ingest import IngestSummary, collect_files, delete_report, ingest_paths, same_folder
from .library import Library
from .metadata import titled
from .scope import InScope, MissingReports, MissingTitle, MissingYears, NoOverlap, OutOfScope
from .store import CORRECTABLE, SCHEMA_VERSION, InstanceLock, Report, Store

F = TypeVar("F", bound=Callable[..., Any])
S = TypeVar("S", bound=BaseSettings)
PROGRESS_MIN_FILES = 20


def settings_or_exit(factory: type[S]) -> S:
    """Build a settings object; a missing or malformed setting stops with one line naming it."""
    try:
        return factory()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first.get("loc") else "setting"
        raise click.ClickException(f"setting {name}: {first['msg']}") from None


def _settings(ctx: click.Context) -> LibrarySettings:
    """The settings for this invocation (the bot's `run` puts its own, richer ones in first)."""
    obj = ctx.ensure_object(dict)
    if "settings" not in obj:
        obj["settings"] = settings_or_exit(LibrarySettings)
    settings: LibrarySettings = obj["settings"]
    return settings


def chosen_reports_dir(settings: LibrarySettings) -> Path | None:
    """REPORTBOT_REPORTS_DIR when the operator set it (None when not); a folder that is not there stops with one
    line naming the setting."""
    folder = settings.reports_dir
    if folder is not None and not folder.is_dir():
        raise click.ClickException(f"setting REPORTBOT_REPORTS_DIR: {folder} is not a folder")
    return folder


def _advance(bar: tqdm[Any]) -> None:
    bar.update()


def library_from(ctx: click.Context) -> Library:
    """The Library for this invocation, opened once."""
    obj = ctx.ensure_object(dict)
    if "library" not in obj:
        settings = _settings(ctx)
        try:
            obj["library"] = open_library(settings)
        except ReportbotError as exc:
            raise click.ClickException(str(exc)) from None
    library: Library = obj["library"]
    return library


def emit_json(payload: Any) -> None:
    """One JSON object on one line of stdout."""
    click.echo(json.dumps(payload, ensure_ascii=False))


def json_option(func: F) -> F:
    """The --json flag every command has."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")(func)


def _version() -> str:
    """The installed distribution's version (a checkout run without installing has none to tell)."""
    try:
        return importlib.metadata.version("reportbot")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


@click.group(help="Answer questions about Chinese work reports with quoted, cited passages.")
@click.version_option(_version(), "--version", prog_name="reportbot", message="%(prog)s %(version)s")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Group entry point; the library is opened lazily by the commands that need it."""
    ctx.ensure_object(dict)


def _no_empty_path(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[Path, ...]:
    # Path("") is the working folder: an unset shell variable (`reportbot ingest "$DIR"`) must not ingest it
    if any(not value.strip() for value in values):
        raise click.BadParameter("an empty path; name a file or folder (`.` for the working folder)")
    return tuple(Path(value) for value in values)


@cli.command(
    help="Ingest report files (.txt .md .docx .pdf) or folders; default: REPORTBOT_REPORTS_DIR, or the bundled "
    "reports when it is not set."
)
@click.argument("paths", nargs=-1, type=click.Path(), callback=_no_empty_path)
@click.option("--prune", is_flag=True, help="Drop reports whose file is not among the files given.")
@json_option
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[Path, ...], prune: bool, as_json: bool) -> None:
    """Ingest files; one line per file, one clear line per bad file; exit 1 if any file failed."""
    settings = _settings(ctx)
    targets = list(paths) or [chosen_reports_dir(settings) or settings.bundled_reports_dir]
    library = library_from(ctx)
    # only the bundled reports themselves leave the library as it was; anything else makes it the operator's
    bundled = all(same_folder(target, settings.bundled_reports_dir) for target in targets)
    files = collect_files(targets)
    with tqdm(total=len(files), disable=len(files) < PROGRESS_MIN_FILES, file=sys.stderr, unit="file") as bar:
        summary = ingest_paths(library, targets, prune=prune, on_file=lambda _: _advance(bar), claim=not bundled)
    for result in summary.results:
        r = result.report
        if as_json:
            emit_json(
                {
                    "source": result.source,
                    "status": result.status,
                    "id": r.id,
                    "title": r.title,
                    "paragraphs": r.paragraph_count,
                    "passages": r.passage_count,
                    **({"same_as": r.source} if result.status == "duplicate" else {}),
                }
            )
        elif result.status == "duplicate":  # the report it repeats, and that report's own file
            click.echo(f"{'duplicate':<9} #{r.id} 《{r.title}》 ← {result.source} (same text as {r.source})")
        else:
            click.echo(f"{result.status:<9} #{r.id} 《{r.title}》 {r.paragraph_count}段 ← {result.source}")
    for report in summary.pruned:
        if as_json:
            emit_json({"source": report.source, "status": "pruned", "id": report.id, "title": report.title})
        else:
            click.echo(f"{'pruned':<9} #{report.id} 《{report.title}》 ← {report.source}")
    for refusal in summary.unsupported:
        if as_json:
            emit_json({"source": refusal.source, "status": "unsupported", "reason": refusal.zh})
        else:
            click.echo(f"{'unsupported':<9} {refusal.message()}")
    for failure in summary.failures:
        if as_json:
            emit_json({"source": failure.source, "status": "failed", "code": failure.code, "reason": failure.zh})
        click.echo(f"error: {failure.message()}", err=True)
    if as_json:
        emit_json({"tally": summary.tally()})
    else:
        click.echo(tally_line(summary))
    if not summary.ok:
        ctx.exit(1)


def tally_line(summary: IngestSummary) -> str:
    """One line that accounts for every file: `12 files: 3 ingested, 5 unchanged, ...`."""
    counts = summary.tally()
    parts = [f"{counts[k]} {k}" for k in ("ingested", "unchanged", "duplicate", "unsupported", "ignored", "failed")]
    pruned = f"; {counts['pruned']} pruned" if counts["pruned"] else ""
    files = f"{counts['files']} file" + ("" if counts["files"] == 1 else "s")
    return f"{files}: " + ", ".join(parts) + pruned


@cli.command(help="Delete reports by id (as `reportbot reports` lists them) or file name: delete REPORT [REPORT ...].")
@click.argument("reports", nargs=-1, required=True)
@json_option
@click.pass_context
def delete(ctx: click.Context, reports: tuple[str, ...], as_json: bool) -> None:
    """Remove reports from the database and the index; all named reports must exist, or none is deleted."""
    library = library_from(ctx)
    found: dict[int, Report] = {}
    for key in reports:
        try:
            report = library.find_report(key)
        except UnknownReport:
            raise click.ClickException(
                f"没有编号或文件名为 {key} 的报告（用 reportbot reports 查看）；未删除任何报告"
            ) from None
        found[report.id] = report
    for report in found.values():
        delete_report(library, report.id)
        if as_json:
            emit_json({"source": report.source, "status": "deleted", "id": report.id, "title": report.title})
        else:
            click.echo(f"{'deleted':<9} #{report.id} 《{report.title}》 ← {report.source}")


def report_json(r: Report) -> dict[str, Any]:
    """A report as `reports --json` and `edit --json` print it."""
    return {
        "id": r.id,
        "title": r.title,
        "date": r.date,
        "unit": r.unit,
        "source": r.source,
        "paragraphs": r.paragraph_count,
        "passages": r.passage_count,
        "ingested_at": r.ingested_at,
    }


def plain_title(r: Report) -> str:
    """《title》, told apart from others of the same title by date or unit: 《政府工作报告》（2024-03-05）."""
    return titled(r.title, r.distinction)


def report_line(r: Report) -> str:
    """One report as a line of `reports`: id, title, date, unit, paragraphs, file (— for what is not known)."""
    return f"#{r.id}\t《{r.title}》\t{r.date or '—'}\t{r.unit or '—'}\t{r.paragraph_count}段\t{r.source}"


@cli.command(
    help="List the reports newest first: id, title, date, unit, paragraphs, source file. FILTER: a year "
    "(2024) or part of a unit, title or file name (广东)."
)
@click.argument("filter_text", metavar="[FILTER]", required=False)
@json_option
@click.pass_context
def reports(ctx: click.Context, filter_text: str | None, as_json: bool) -> None:
    """List reports."""
    for r in library_from(ctx).browse(filter_text):
        if as_json:
            emit_json(report_json(r))
        else:
            click.echo(report_line(r))


@cli.command(
    help="Correct a report's title, date or unit; kept when the file is ingested again. "
    "--date takes 2024-03-05, 2024-03 or 2024; an empty --date or --unit means not known; "
    "--reset FIELD goes back to what was read from the file."
)
@click.argument("report")
@click.option("--title", help="The title.")
@click.option("--date", help="The day (or month, or year) the report was made.")
@click.option("--unit", help="The body that reports.")
@click.option("--reset", "resets", multiple=True, type=click.Choice(CORRECTABLE), help="Drop a correction.")
@json_option
@click.pass_context
def edit(
    ctx: click.Context,
    report: str,
    title: str | None,
    date: str | None,
    unit: str | None,
    resets: tuple[str, ...],
    as_json: bool,
) -> None:
    """Store corrections and print the report as it now reads."""
    changes = {k: v for k, v in (("title", title), ("date", date), ("unit", unit)) if v is not None}
    if not changes and not resets:
        raise click.UsageError("nothing to change: give --title, --date, --unit or --reset")
    library = library_from(ctx)
    try:
        if resets:
            library.uncorrect(report, resets)
        r = library.edit(report, changes) if changes else library.outline(report).report
    except UnknownReport as exc:
        raise click.ClickException(f"没有编号为 {exc.report_id} 的报告（用 reportbot reports 查看）") from None
    except InvalidCorrection as exc:
        raise click.ClickException(_invalid_message(exc)) from None
    except StorageError as exc:
        raise click.ClickException(f"cannot write the database: {exc}") from None
    if as_json:
        emit_json(report_json(r))
    else:
        click.echo(report_line(r))


def _invalid_message(exc: InvalidCorrection) -> str:
    if exc.field == "date":
        return f"日期无法识别：{exc.value}（例如 2024-03-05、2024-03、2024）"
    if exc.field == "title":
        return "标题不能为空"
    return f"不能修改 {exc.field}"


@cli.command(help="Show a report's outline, or one paragraph in full: show REPORT [PARAGRAPH].")
@click.argument("report")
@click.argument("paragraph", required=False, type=int)
@json_option
@click.pass_context
def show(ctx: click.Context, report: str, paragraph: int | None, as_json: bool) -> None:
    """Outline or paragraph."""
    library = library_from(ctx)
    try:
        if paragraph is None:
            outline = library.outline(report)
            r = outline.report
            if as_json:
                sections = [
                    {"level": s.level, "heading": s.heading, "paragraph": s.paragraph} for s in outline.sections
                ]
                parts = [{"part": run.part, "first": run.first, "last": run.last} for run in outline.parts]
                emit_json(report_json(r) | {"sections": sections, "parts": parts})
                return
            click.echo(f"#{r.id} 《{r.title}》 {r.date or '—'} {r.unit or '—'} {r.paragraph_count}段 ← {r.source}")
            for s in outline.sections:
                click.echo(f"{'  ' * s.level}{s.heading}  (第{s.paragraph}段)")
            if outline.parts:
                click.echo(
                    "部分："
                    + " · ".join(f"{_PART_NAMES[run.part]} {_span(run.first, run.last)}" for run in outline.parts)
                )
        else:
            r, p = library.paragraph(report, paragraph)
            if as_json:
                emit_json(
                    {
                        "report_id": r.id,
                        "title": r.title,
                        "source": r.source,
                        "paragraph": p.number,
                        "section": p.section,
                        "text": p.text,
                    }
                )
                return
            click.echo(f"《{r.title}》 · {p.section or '—'} · 第{p.number}段\n{p.text}")
    except UnknownReport as exc:
        raise click.ClickException(f"没有编号为 {exc.report_id} 的报告（用 reportbot reports 查看）") from None
    except UnknownParagraph as exc:
        raise click.ClickException(f"报告 #{exc.report_id} 没有第{exc.paragraph}段") from None


_PART_NAMES = {"progress": "主要做法及成效", "problems": "存在问题", "plans": "下一步打算"}


def format_answer(answer: AnyAnswer) -> str:
    """A plain-text answer for the terminal: quotes with 【marked】 terms and their sources, or the part of each
    report a part question asks for, whole."""
    if isinstance(answer, PartAnswer):
        return _format_part(answer)
    if isinstance(answer, Answer):
        return _format_passages(answer)
    assert_never(answer)


def _span(first: int, last: int) -> str:
    return f"第{first}段" if first == last else f"第{first}–{last}段"


def _format_part(answer: PartAnswer) -> str:
    lines = [] if answer.scope is None else [f"范围：{_plain_scope(answer.scope)}"]
    lines.append(f"共有{len(answer.blocks)}份报告有“{_PART_NAMES[answer.part]}”部分：")
    for block in answer.blocks:
        lines.append(
            f"\n#{block.report.id} {plain_title(block.report)}" + (f" · {block.heading}" if block.heading else "")
        )
        for paragraph in block.paragraphs:
            lines.append(
                f"【{paragraph.text}】" if paragraph.kind == "heading" else f"  §{paragraph.number} {paragraph.text}"
            )
    return "\n".join(lines)


def _format_passages(answer: Answer) -> str:
    if answer.refusal == "empty":
        return "请输入问题。"
    if answer.refusal == "too_long":
        return "问题太长了，请精简到500字以内。"
    lines: list[str] = []
    if answer.scope is not None:
        lines.append(f"范围：{_plain_scope(answer.scope)}")
        if isinstance(answer.scope, OutOfScope):
            return "\n".join([*lines, _plain_problem(answer.scope)])
    if answer.intent == "mention" and answer.reports and answer.group is not None:
        groups = answer.groups()
        what = "单位" if answer.group == "unit" else "年份"
        lines.append(f"共有{len(groups)}个{what}（{len(answer.reports)}份报告）提到“{answer.term}”：")
        for g in groups:
            name = g.key if isinstance(g.key, str) else f"{g.key}年" if g.key else f"{what}不详"
            refs = "、".join(f"#{m.report.id}{plain_title(m.report)}{m.mentions}处" for m in g.reports)
            lines.append(f"{name} · {g.mentions}处：{refs}")
        return "\n".join(lines)
    if answer.intent == "mention" and answer.reports:
        lines.append(f"共有{len(answer.reports)}份报告提到“{answer.term}”：")
        for m in answer.reports:
            lines.append(f"\n#{m.report.id} {plain_title(m.report)} — {m.mentions}处")
            if m.quote is not None:
                lines.append(_plain_quote(m.quote))
        return "\n".join(lines)
    if answer.intent == "mention":
        lines.append(f"没有报告提到“{answer.term}”。")
        if answer.passages:
            lines.append("以下是最接近的段落（不含该词）：")
    elif not answer.passages:
        return "没有找到相关内容，换个说法试试。"
    for quote in answer.passages:
        lines.append("\n" + _plain_quote(quote))
    return "\n".join(lines).strip()


def _plain_scope(resolution: InScope | OutOfScope) -> str:
    scope = resolution.scope
    parts = [
        "、".join(f"《{title}》" for title in scope.titles),
        "、".join([f"第{n}份报告" for n in scope.numbers] + [f"#{i}" for i in scope.ids]),
        "、".join(f"{year}年" for year in scope.years),
        "、".join(scope.units),
    ]
    named = " · ".join(p for p in parts if p)
    return f"{named}（全部报告）" if isinstance(resolution, InScope) and resolution.everything else named


def _plain_problem(resolution: OutOfScope) -> str:
    """Why a scope names no report (the bot says the same through bot/texts.py)."""
    problem = resolution.problem
    if isinstance(problem, MissingYears):
        years = "、".join(f"{y}年" for y in problem.years)
        if not problem.available:
            return f"没有{years}的报告（报告都没有日期）。"
        return f"没有{years}的报告；有{'、'.join(f'{y}年' for y in problem.available)}的。"
    if isinstance(problem, MissingReports):
        if not problem.count:
            return "还没有报告。"
        named = _plain_scope(OutOfScope(problem.scope, problem))
        return f"没有{named}；共有{problem.count}份报告（#{problem.first}–#{problem.last}）。"
    if isinstance(problem, MissingTitle):
        return f"没有标题为《{problem.title}》的报告。"
    if isinstance(problem, NoOverlap):
        lines = [f"没有同时符合“{_plain_scope(resolution)}”的报告："]
        for part, reports in problem.parts:
            refs = "、".join(f"#{r.id}《{r.title}》" + (f"（{r.year}年）" if r.year else "") for r in reports)
            lines.append(f"  {_plain_scope(OutOfScope(part, problem))}：{refs}")
        return "\n".join(lines)
    assert_never(problem)


def _plain_quote(quote: Quote) -> str:
    text, out, last = quote.text, [], 0
    for start, end in quote.highlights:
        out.append(text[last:start] + "【" + text[start:end] + "】")
        last = end
    out.append(text[last:])
    source = f"{titled(quote.title, quote.distinction)} · {quote.section or '—'} · 第{quote.paragraph}段"
    return "> " + "".join(out) + "\n  —— " + source


def _questions(args: tuple[str, ...]) -> Iterator[str]:
    if args:
        yield from args
        return
    for line in sys.stdin:
        if line.strip():
            yield line.rstrip("\n")


@cli.command(help="Answer questions given as arguments, or one per line from stdin.")
@click.argument("questions", nargs=-1)
@click.option("--limit", default=5, show_default=True, type=click.IntRange(1, 50), help="Passages per answer.")
@click.option("--docx", type=click.Path(dir_okay=False, path_type=Path), help="Also write the answers to a .docx.")
@click.option("--xlsx", type=click.Path(dir_okay=False, path_type=Path), help="Mention answers' counts to a .xlsx.")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, path_type=Path), help="The same counts as CSV.")
@json_option
@click.pass_context
def ask(
    ctx: click.Context,
    questions: tuple[str, ...],
    limit: int,
    docx: Path | None,
    xlsx: Path | None,
    csv_file: Path | None,
    as_json: bool,
) -> None:
    """Answer each question as it arrives; the files are written when every question is answered."""
    from .export import answers_docx, complete, counts_csv, counts_xlsx, is_counted

    library = library_from(ctx)
    answers: list[AnyAnswer] = []
    for question in _questions(questions):
        answer = library.ask(question, limit=limit)
        if docx or xlsx or csv_file:
            answers.append(complete(library, answer))
        if as_json:
            emit_json(answer.to_json())
        else:
            click.echo(format_answer(answer) + "\n")
        sys.stdout.flush()
    counted = [a for a in answers if isinstance(a, Answer) and is_counted(a)]
    if (xlsx or csv_file) and not counted:
        raise click.ClickException("--xlsx/--csv: no mention answer with reports to count (哪些报告提到…)")
    if docx:
        docx.write_bytes(answers_docx(answers))
    if xlsx:
        xlsx.write_bytes(counts_xlsx(counted))
    if csv_file:
        csv_file.write_text(counts_csv(counted), encoding="utf-8")


def _listed(values: tuple[str, ...]) -> list[str]:
    """`--years 2024,2025 --years 2019`: every value, split at commas (ASCII or Chinese) and spaces."""
    return [v for value in values for v in re.split(r"[,，、\s]+", value) if v]


def _years(values: tuple[str, ...]) -> list[int]:
    years = []
    for value in _listed(values):
        digits = value.removesuffix("年")
        if not (digits.isdigit() and len(digits) == 4):
            raise click.BadParameter(f"{value!r} is not a year like 2024", param_hint="--years")
        years.append(int(digits))
    return years


@cli.command(
    help="Compare one part of the reports (存在问题/problems, 下一步打算/plans, 主要做法/progress) across "
    "reports, newest first: compare PART [--years 2024,2025] [--units 广东,江苏] [--reports 3,4]."
)
@click.argument("part")
@click.option("--years", multiple=True, help="Only reports of these years (comma-separated, or repeat).")
@click.option("--units", multiple=True, help="Only reports of these units or places (comma-separated, or repeat).")
@click.option("--reports", "report_ids", multiple=True, help="Only these report ids.")
@json_option
@click.pass_context
def compare(
    ctx: click.Context,
    part: str,
    years: tuple[str, ...],
    units: tuple[str, ...],
    report_ids: tuple[str, ...],
    as_json: bool,
) -> None:
    """One block per report holding the part: its section and its text (or numbered points)."""
    from .compare import compare as compare_part
    from .compare import compare_json, part_named, points

    named = part_named(part)
    if named is None:
        raise click.BadParameter(f"{part!r}: name a part: 存在问题 (problems), 下一步打算 (plans), 主要做法 (progress)")
    ids = _listed(report_ids)
    if not all(i.lstrip("#").isdigit() for i in ids):
        raise click.BadParameter("report ids are numbers, as `reportbot reports` lists them", param_hint="--reports")
    library = library_from(ctx)
    answer = compare_part(
        library, named, years=_years(years), units=_listed(units), report_ids=[int(i.lstrip("#")) for i in ids]
    )
    if isinstance(answer, Answer):  # the scope names no report
        assert isinstance(answer.scope, OutOfScope)
        raise click.ClickException(f"范围：{_plain_scope(answer.scope)}：{_plain_problem(answer.scope)}")
    if as_json:
        emit_json(compare_json(answer))
        return
    click.echo(f"共有{len(answer.blocks)}份报告有“{_PART_NAMES[answer.part]}”部分：")
    for entry in compare_json(answer)["reports"]:
        facts = " · ".join(str(v) for v in (entry["date"], entry["unit"], entry["section"]) if v)
        click.echo(f"\n#{entry['id']} 《{entry['title']}》" + (f" · {facts}" if facts else ""))
        for point in points(entry["text"]):
            click.echo(f"  · {point}")


@cli.command(
    help="A term's mentions per year (per unit when the reports are of one year, per report otherwise), "
    "with the mention answer's own counts: trend TERM [--by year|unit|report] [--png FILE]."
)
@click.argument("term")
@click.option("--by", type=click.Choice(["year", "unit", "report"]), help="Group by year, unit or report.")
@click.option("--png", type=click.Path(dir_okay=False, path_type=Path), help="Also draw the chart into FILE.")
@json_option
@click.pass_context
def trend(ctx: click.Context, term: str, by: str | None, png: Path | None, as_json: bool) -> None:
    """One line (or JSON object) per year, unit or report: mentions and reports."""
    from .trend import TREND_BY, caption, trend_png
    from .trend import trend as term_trend

    if not term.strip():
        raise click.BadParameter("an empty term", param_hint="TERM")
    library = library_from(ctx)
    found = term_trend(library, term, by=next((b for b in TREND_BY if b == by), None))
    if png is not None:
        png.write_bytes(trend_png(found))
    if as_json:
        emit_json(found.to_json())
        return
    click.echo(caption(found, limit=10_000))
    for point in found.points:
        click.echo(f"{point.label}\t{point.mentions}处\t{point.reports}份报告")


def _since(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?", value):
        raise click.BadParameter("a date like 2026-12-01 (or 2026-12-01T08:00)")
    return value


@cli.command(help="Readers' feedback on answers (👍/👎 in the bot, with what they expected): feedback [--since DATE].")
@click.option("--since", callback=_since, help="Only feedback from this date (2026-12-01) or time on.")
@json_option
@click.pass_context
def feedback(ctx: click.Context, since: str | None, as_json: bool) -> None:
    """One line (or JSON object) per vote, oldest first; a last line with the counts."""
    from .feedback import feedback_json

    store = Store(_settings(ctx).db)  # the votes only: no index to load
    try:
        rows = store.feedback(since)
    finally:
        store.close()
    for row in rows:
        if as_json:
            emit_json(feedback_json(row))
        else:
            vote = "👍" if row["vote"] == "up" else "👎"
            comment = f"\t期望：{row['comment']}" if row["comment"] else ""
            click.echo(f"{row['at']}\t{vote}\tuser {row['user_id']}\t{row['question']}{comment}")
    if not as_json:
        up = sum(r["vote"] == "up" for r in rows)
        click.echo(f"{len(rows)} 条反馈：👍 {up} · 👎 {len(rows) - up} · 留言 {sum(bool(r['comment']) for r in rows)}")


@cli.command(help="Copied text (查重): the runs of a report that stand word for word in other reports: "
    "copies REPORT [--min-chars 20] [--docx FILE].")
@click.argument("report")
@click.option("--min-chars", default=20, show_default=True, type=click.IntRange(8, 200), help="Shortest run counted.")
@click.option("--docx", type=click.Path(dir_okay=False, path_type=Path), help="Also write the result to a .docx.")
@json_option
@click.pass_context
def copies(ctx: click.Context, report: str, min_chars: int, docx: Path | None, as_json: bool) -> None:
    """The shared runs grouped by the other report, the share of the report's text, and common phrasing apart."""
    from .copies import copies as find_copies
    from .export import copies_docx

    try:
        found = find_copies(library_from(ctx), report.lstrip("#"), min_chars=min_chars)
    except UnknownReport:
        raise click.ClickException(f"没有编号或文件名为 {report} 的报告（用 reportbot reports 查看）") from None
    if docx is not None:
        docx.write_bytes(copies_docx(found))
    if as_json:
        emit_json(found.to_json())
        return
    r = found.report
    count = len(found.shared)
    click.echo(f"#{r.id} {plain_title(r)}：连续{min_chars}字以上与其他报告相同的共{count}处，占全文{found.share:.1%}")
    for other, runs in found.by_report():
        click.echo(f"\n#{other.id} {plain_title(other)} · {len(runs)}处")
        for run in runs:
            click.echo(f"  第{run.paragraph}段 ↔ 第{run.other_paragraph}段：{run.text}")
    if found.common:
        click.echo(f"\n常见表述（不算重复）：{len(found.common)}条")
        for phrase in found.common:
            click.echo(f"  {phrase.text}（{phrase.reports}份其他报告）")


@cli.command(help="Counts of reports, paragraphs and passages, and the last ingest time.")
@json_option
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """Print statistics; exits 0 only for a readable reportbot database (the container health check). Opens the file
    read-only and never loads the index: a missing, empty or foreign file fails instead of becoming a new library,
    and a large library answers at once."""
    settings = _settings(ctx)
    try:
        store = Store(settings.db, read_only=True)
    except StorageError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        numbers = {**store.counts(), "last_ingest": store.meta("last_ingest")}
    finally:
        store.close()
    if as_json:
        emit_json(numbers)
    else:
        click.echo(
            f"报告 {numbers['reports']} 份，段落 {numbers['paragraphs']} 个，"
            f"片段 {numbers['passages']} 个；最近入库：{numbers['last_ingest'] or '—'}"
        )


@cli.command(help="Online backup of the database to DEST (safe while the bot runs).")
@click.argument("dest", type=click.Path(path_type=Path))
@click.pass_context
def backup(ctx: click.Context, dest: Path) -> None:
    """sqlite3's backup API, not a file copy."""
    settings = _settings(ctx)
    store = Store(settings.db)
    try:
        store.backup(dest)
    finally:
        store.close()
    click.echo(f"backup written: {dest}")


@cli.command(help="Replace the database with a backup SRC (stop the bot first).")
@click.argument("src", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.pass_context
def restore(ctx: click.Context, src: Path) -> None:
    """Check SRC is a reportbot database, then copy it in with the backup API (never under a running bot)."""
    settings = _settings(ctx)
    lock = InstanceLock(settings.db)
    if not lock.acquire():
        raise click.ClickException(
            f"a reportbot bot (process {lock.holder()}) is running on {settings.db}; stop it before restoring"
        )
    try:
        source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
        version = source.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.DatabaseError as exc:
        raise click.ClickException(f"{src} is not a reportbot database: {exc}") from None
    if version is None or int(version[0]) > SCHEMA_VERSION:
        raise click.ClickException(f"{src} is not a reportbot database this version can read")
    target = sqlite3.connect(str(settings.db))
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
    click.echo(f"restored {settings.db} from {src}")


def main() -> None:
    """Console entry point of the library-only CLI."""
    try:
        cli(obj={})
    except UnreadableReport as exc:
        click.echo(f"error: {exc.message()}", err=True)
        sys.exit(1)
