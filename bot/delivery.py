"""Sending that survives a flaky Bot API: wait out flood limits, retry network failures, never retry a refusal."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

log = logging.getLogger(__name__)

T = TypeVar("T")
ATTEMPTS = 5
BACKOFF = 0.5  # seconds, doubled after each network failure


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def with_retries(send: Callable[[], Awaitable[T]], *, what: str = "send") -> T:
    """Call `send` until it succeeds: RetryAfter is waited out, 5xx/timeouts/dropped connections are retried
    with backoff; BadRequest and Forbidden are final and go to the caller (BadRequest is a NetworkError in PTB)."""
    for attempt in range(ATTEMPTS):
        try:
            return await send()
        except RetryAfter as exc:
            delay = _seconds(exc.retry_after)
            log.warning("%s: flood limit, waiting %.1fs", what, delay)
            await asyncio.sleep(delay)
        except (BadRequest, Forbidden):
            raise
        except NetworkError as exc:
            if attempt == ATTEMPTS - 1:
                raise
            log.warning("%s failed (%s); retrying", what, exc)
            await asyncio.sleep(BACKOFF * 2**attempt)
    return await send()
