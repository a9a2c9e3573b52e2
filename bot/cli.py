"""The `reportbot` console script: the library's commands plus `run`, the bot's composition entry point, and the
commands that print answers (`ask`, `compare`: as the terminal chat shows them) or why a file cannot be read
(`ingest`: in bot/texts.py's words)."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from retrieval import MentionAnswer, OutOfScopeAnswer, open_library
from retrieval.cli import (
    chosen_reports_dir,
    cli,
    emit_json,
    json_option,
    library_from,
    listed,
    settings_from,
    settings_or_exit,
    years_of,
)
from retrieval.ingest import IngestSummary, collect_files, ingest_at_start, ingest_paths, same_folder
from retrieval.jsonout import ingest_json, removed_json, unreadable_json
from retrieval.parts import PART_LABELS
from retrieval.store import InstanceLock

from .logs import configure_logging
from .settings import BotSettings
from .texts import ZH, unreadable, unreadable_reason

PROGRESS_MIN_FILES = 20


@cli.command(
    help="Run the bot (TELEGRAM_BOT_TOKEN set) or, without a token, a question-and-answer chat "
    "in the terminal. Ingests new or changed files of REPORTBOT_REPORTS_DIR first; unset, the bundled reports "
    "seed a new library."
)
@click.pass_context
def run(ctx: click.Context) -> None:
    """Start the bot, or the terminal chat when there is no token."""
    settings: BotSettings = settings_or_exit(BotSettings)
    if settings.webhook_url and settings.webhook_secret is None:
        raise click.ClickException("setting REPORTBOT_WEBHOOK_SECRET: required when REPORTBOT_WEBHOOK_URL is set")
    secrets = [settings.token.get_secret_value() if settings.token else ""]
    configure_logging(settings.log_level if settings.token else "WARNING", secrets)
    ctx.obj["settings"] = settings
    if settings.token is not None:
        # one bot per database, for the life of this process: a second would send every digest twice
        lock = InstanceLock(settings.db)
        if not lock.acquire():
            raise click.ClickException(
                f"another reportbot bot (process {lock.holder()}) is running on {settings.db}; stop it first, "
                "or give this one its own REPORTBOT_DB"
            )
        ctx.obj["instance_lock"] = lock
    reports_dir = chosen_reports_dir(settings)
    library = library_from(ctx)
    summary = ingest_at_start(library, reports_dir, settings.bundled_reports_dir)
    if summary is not None:
        for failure in summary.failures:
            click.echo(f"warning: {unreadable(failure, ZH)}", err=True)
        counts = summary.tally()
        if counts["files"] > counts["unchanged"] + counts["ignored"]:  # a start with nothing new stays quiet
            click.echo(f"reports: {tally_line(summary)}", err=True)
    if settings.token is None:
        from .terminal import chat

        chat(library)
        return
    from telegram.error import InvalidToken, NetworkError

    from .app import run as run_bot

    try:
        run_bot(settings, library)
    except InvalidToken:
        # PTB's message and traceback carry the token in full: neither is printed
        raise click.ClickException(
            "Telegram rejected TELEGRAM_BOT_TOKEN (revoked, or mistyped): check it, or get a new one from @BotFather"
        ) from None
    except NetworkError as exc:  # at start-up (getMe): later failures are retried by the polling loop
        where = settings.base_url or "https://api.telegram.org"
        raise click.ClickException(
            f"cannot reach the Telegram Bot API at {where} ({type(exc).__name__}): check the network, "
            "a proxy (HTTPS_PROXY, see docs/deploy.md) or TELEGRAM_BASE_URL"
        ) from None


def _advance(bar: tqdm[Any]) -> None:
    bar.update()


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
    settings = settings_from(ctx)
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
            emit_json(ingest_json(result))
        elif result.status == "duplicate":  # the report it repeats, and that report's own file
            click.echo(f"{'duplicate':<9} #{r.id} 《{r.title}》 ← {result.source} (same text as {r.source})")
        else:
            click.echo(f"{result.status:<9} #{r.id} 《{r.title}》 {r.paragraph_count}段 ← {result.source}")
    for report in summary.pruned:
        if as_json:
            emit_json(removed_json(report, "pruned"))
        else:
            click.echo(f"{'pruned':<9} #{report.id} 《{report.title}》 ← {report.source}")
    for refusal in summary.unsupported:
        if as_json:
            emit_json(unreadable_json(refusal, unreadable_reason(refusal, ZH), failed=False))
        else:
            click.echo(f"{'unsupported':<9} {unreadable(refusal, ZH)}")
    for failure in summary.failures:
        if as_json:
            emit_json(unreadable_json(failure, unreadable_reason(failure, ZH), failed=True))
        click.echo(f"error: {unreadable(failure, ZH)}", err=True)
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
    """Answer each question as it arrives, as the terminal chat shows it (every page) or as JSON; the files are
    written when every question is answered."""
    from retrieval.export import answers_docx, complete, counts_csv, counts_xlsx
    from retrieval.jsonout import answer_json

    library = library_from(ctx)
    answers = []
    for question in _questions(questions):
        answer = library.ask(question, limit=limit)
        if docx or xlsx or csv_file:
            answers.append(complete(library, answer))
        if as_json:
            emit_json(answer_json(answer))
        else:
            from .terminal import whole_answer_text  # the bot's rendering: only when text is printed

            click.echo(whole_answer_text(answer) + "\n")
        sys.stdout.flush()
    counted = [a for a in answers if isinstance(a, MentionAnswer)]
    if (xlsx or csv_file) and not counted:
        raise click.ClickException("--xlsx/--csv: no mention answer with reports to count (哪些报告提到…)")
    if docx:
        docx.write_bytes(answers_docx(answers))
    if xlsx:
        xlsx.write_bytes(counts_xlsx(counted))
    if csv_file:
        csv_file.write_text(counts_csv(counted), encoding="utf-8")


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
    from retrieval.answers import report_unit
    from retrieval.compare import block_text, part_named, points
    from retrieval.compare import compare as compare_part
    from retrieval.jsonout import compare_json

    named = part_named(part)
    if named is None:
        raise click.BadParameter(f"{part!r}: name a part: 存在问题 (problems), 下一步打算 (plans), 主要做法 (progress)")
    ids = listed(report_ids)
    if not all(i.lstrip("#").isdigit() for i in ids):
        raise click.BadParameter("report ids are numbers, as `reportbot reports` lists them", param_hint="--reports")
    library = library_from(ctx)
    answer = compare_part(
        library, named, years=years_of(years), units=listed(units), report_ids=[int(i.lstrip("#")) for i in ids]
    )
    if isinstance(answer, OutOfScopeAnswer):  # the scope names no report: said as the chat says it
        from .terminal import whole_answer_text

        raise click.ClickException(whole_answer_text(answer))
    if as_json:
        emit_json(compare_json(answer))
        return
    click.echo(f"共有{len(answer.blocks)}份报告有“{PART_LABELS[answer.part]}”部分：")
    for block in answer.blocks:
        report = block.report
        facts = " · ".join(str(v) for v in (report.date, report_unit(report), block.heading) if v)
        click.echo(f"\n#{report.id} 《{report.title}》" + (f" · {facts}" if facts else ""))
        for point in points(block_text(block)):
            click.echo(f"  · {point}")


def main() -> None:
    """Console entry point."""
    # Questions piped in another encoding must not end `ask` (or the terminal chat) with a traceback at the first
    # bad byte: decoded like argv, bad bytes become lone surrogates, which the library turns into U+FFFD.
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="surrogateescape")
    sys.exit(cli.main(obj={}, standalone_mode=True))


__all__ = ["main", "open_library"]

if __name__ == "__main__":  # `python -m bot.cli`, where no `reportbot` script is installed
    main()
