"""The `reportbot` command line: a thin shell over `Library`. bot/cli.py adds `run` and the commands that print
answers or why a file is unreadable (`ingest`, `ask`, `compare`), whose words are the bot's (render.py, texts.py)."""

from __future__ import annotations

import importlib.metadata
import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError
from pydantic_settings import BaseSettings

from . import LibrarySettings, open_library
from .errors import (
    InvalidCorrection,
    ReportbotError,
    StorageError,
    UnknownParagraph,
    UnknownReport,
)
from .ingest import delete_report
from .jsonout import (
    copies_json,
    feedback_json,
    outline_json,
    paragraph_json,
    removed_json,
    report_json,
    trend_json,
)
from .library import Library
from .metadata import titled
from .parts import PART_LABELS
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


def settings_from(ctx: click.Context) -> LibrarySettings:
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


def library_from(ctx: click.Context) -> Library:
    """The Library for this invocation, opened once."""
    obj = ctx.ensure_object(dict)
    if "library" not in obj:
        settings = settings_from(ctx)
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
            emit_json(removed_json(report, "deleted"))
        else:
            click.echo(f"{'deleted':<9} #{report.id} 《{report.title}》 ← {report.source}")


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
                emit_json(outline_json(outline))
                return
            click.echo(f"#{r.id} 《{r.title}》 {r.date or '—'} {r.unit or '—'} {r.paragraph_count}段 ← {r.source}")
            for s in outline.sections:
                click.echo(f"{'  ' * s.level}{s.heading}  (第{s.paragraph}段)")
            if outline.parts:
                click.echo(
                    "部分："
                    + " · ".join(f"{PART_LABELS[run.part]} {_span(run.first, run.last)}" for run in outline.parts)
                )
        else:
            r, p = library.paragraph(report, paragraph)
            if as_json:
                emit_json(paragraph_json(r, p))
                return
            click.echo(f"《{r.title}》 · {p.section or '—'} · 第{p.number}段\n{p.text}")
    except UnknownReport as exc:
        raise click.ClickException(f"没有编号为 {exc.report_id} 的报告（用 reportbot reports 查看）") from None
    except UnknownParagraph as exc:
        raise click.ClickException(f"报告 #{exc.report_id} 没有第{exc.paragraph}段") from None




def _span(first: int, last: int) -> str:
    return f"第{first}段" if first == last else f"第{first}–{last}段"


def listed(values: tuple[str, ...]) -> list[str]:
    """`--years 2024,2025 --years 2019`: every value, split at commas (ASCII or Chinese) and spaces."""
    return [v for value in values for v in re.split(r"[,，、\s]+", value) if v]


def years_of(values: tuple[str, ...]) -> list[int]:
    years = []
    for value in listed(values):
        digits = value.removesuffix("年")
        if not (digits.isdigit() and len(digits) == 4):
            raise click.BadParameter(f"{value!r} is not a year like 2024", param_hint="--years")
        years.append(int(digits))
    return years


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
        emit_json(trend_json(found))
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
    store = Store(settings_from(ctx).db)  # the votes only: no index to load
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
        emit_json(copies_json(found))
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
    settings = settings_from(ctx)
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
    settings = settings_from(ctx)
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
    settings = settings_from(ctx)
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
