"""The `reportbot` console script: the library's commands plus `run`, the bot's composition entry point."""

from __future__ import annotations

import io
import sys

import click

from retrieval import open_library
from retrieval.cli import chosen_reports_dir, cli, library_from, settings_or_exit, tally_line
from retrieval.ingest import ingest_at_start
from retrieval.store import InstanceLock

from .logs import configure_logging
from .settings import BotSettings


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
            click.echo(f"warning: {failure.message()}", err=True)
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
