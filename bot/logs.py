"""Logging set-up: one line per handled update, and secrets (the bot token) never written anywhere."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

REDACTED = "[REDACTED]"
_secrets: set[str] = set()  # the one process-wide piece of state here: secrets live as long as the process
_installed: list[Callable[..., logging.LogRecord]] = []


def _redact(text: str) -> str:
    for secret in _secrets:
        text = text.replace(secret, REDACTED)
    return text


def install_redaction(secrets: Iterable[str]) -> None:
    """Redact `secrets` from every log record when it is created, whatever handler later writes it.

    httpx logs request URLs, and Bot API URLs contain the token; a record factory covers every logger and
    every handler (including pytest's), where a handler filter would cover only one handler.
    """
    _secrets.update(s for s in secrets if s)
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if _secrets:
            message = record.getMessage()
            clean = _redact(message)
            if clean != message:
                record.msg, record.args = clean, None
            if record.exc_info and record.exc_info[1] is not None:
                record.exc_text = _redact(logging.Formatter().formatException(record.exc_info))
        return record

    _installed.append(factory)
    logging.setLogRecordFactory(factory)


def configure_logging(level: str, secrets: Iterable[str]) -> None:
    """Root logging to stderr, secrets redacted, chatty libraries at WARNING."""
    install_redaction(secrets)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=level, force=True)
    for noisy in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
