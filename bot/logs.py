"""Logging set-up: one line per handled update, and secrets (the bot token) never written anywhere."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

REDACTED = "[REDACTED]"
_secrets: set[str] = set()  # the one process-wide piece of state here: secrets live as long as the process
_installed: list[Callable[..., logging.LogRecord]] = []


def _forms(secret: str) -> set[str]:
    """The ways a secret shows up in log text: as is, percent-encoded (httpx logs the file download URL with the
    token's ':' as %3A) and, for a bot token, its part after the colon, which is what must stay secret."""
    encoded = quote(secret, safe="")
    forms = {secret, encoded, encoded.replace("%3A", "%3a")}
    bot_id, colon, rest = secret.partition(":")
    if colon and bot_id.isdigit() and rest:
        forms |= {rest, quote(rest, safe="")}
    return {form for form in forms if form}


def _redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):  # a whole token before its secret part
        text = text.replace(secret, REDACTED)
    return text


def install_redaction(secrets: Iterable[str]) -> None:
    """Redact `secrets` from every log record when it is created, whatever handler later writes it.

    httpx logs request URLs, and Bot API URLs contain the token; a record factory covers every logger and
    every handler (including pytest's), where a handler filter would cover only one handler.
    """
    _secrets.update(form for s in secrets if s for form in _forms(s))
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if _secrets:
            # Formatted now, always: args are live objects that handlers format later (pytest keeps records, a
            # QueueHandler formats in another thread), and PTB logs the getFile result dict before it rewrites
            # file_path into the download URL, token included.
            record.msg, record.args = _redact(record.getMessage()), None
            if record.exc_info and record.exc_info[1] is not None:
                record.exc_text = _redact(logging.Formatter().formatException(record.exc_info))
        return record

    _installed.append(factory)
    logging.setLogRecordFactory(factory)


def _start_up_failure_said_once(record: logging.LogRecord) -> bool:
    """Drop PTB's traceback for a start-up that fails on the token or the network: `reportbot run` says it in one
    line naming what to check (a revoked token printed 132 lines, an unreachable Bot API 246)."""
    from telegram.error import InvalidToken, NetworkError

    failure = record.exc_info[1] if record.exc_info else None
    return not (
        isinstance(failure, InvalidToken | NetworkError)
        and record.getMessage().startswith("Network Retry Loop (Bootstrap")
    )


def configure_logging(level: str, secrets: Iterable[str]) -> None:
    """Root logging to stderr, secrets redacted, chatty libraries at WARNING."""
    install_redaction(secrets)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=level, force=True)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_start_up_failure_said_once)
    for noisy in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
