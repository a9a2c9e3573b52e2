"""Typed settings of the bot, read once from the environment and an optional `.env`."""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from retrieval import LibrarySettings

_ID_LIST = re.compile(r"^\s*-?\d+\s*(,\s*-?\d+\s*)*,?\s*$")


def _id_set(value: Any) -> Any:
    """`1, 2,3` -> {1, 2, 3}; an empty string is the empty set."""
    if isinstance(value, str):
        if not value.strip():
            return frozenset()
        if not _ID_LIST.match(value):
            raise ValueError("expected comma-separated numeric Telegram ids, e.g. 12345,67890")
        return frozenset(int(part) for part in value.split(",") if part.strip())
    return value


class BotSettings(LibrarySettings):
    """Everything `reportbot run` needs; a missing or malformed value stops start-up naming the variable."""

    token: SecretStr | None = Field(None, alias="TELEGRAM_BOT_TOKEN")
    base_url: str | None = Field(None, alias="TELEGRAM_BASE_URL")
    base_file_url: str | None = Field(None, alias="TELEGRAM_BASE_FILE_URL")
    admins: Annotated[frozenset[int], NoDecode] = Field(frozenset(), alias="REPORTBOT_ADMINS")
    allowed_chats: Annotated[frozenset[int], NoDecode] = Field(frozenset(), alias="REPORTBOT_ALLOWED_CHATS")
    tz_name: str = Field("Asia/Shanghai", alias="REPORTBOT_TZ")
    digest_time: time = Field(time(8, 0), alias="REPORTBOT_DIGEST_TIME")
    webhook_url: str | None = Field(None, alias="REPORTBOT_WEBHOOK_URL")
    webhook_listen: str = Field("0.0.0.0", alias="REPORTBOT_WEBHOOK_LISTEN")
    webhook_port: int = Field(8443, alias="REPORTBOT_WEBHOOK_PORT", ge=1, le=65535)
    webhook_secret: SecretStr | None = Field(None, alias="REPORTBOT_WEBHOOK_SECRET")
    rate_limit: int = Field(20, alias="REPORTBOT_RATE_LIMIT", ge=1, le=10_000)
    # watched terms per chat: each costs a search per new report and a share of the chat's digest
    max_watches: int = Field(20, alias="REPORTBOT_MAX_WATCHES", ge=1, le=1000)
    log_level: str = Field("INFO", alias="REPORTBOT_LOG_LEVEL")
    # Telegram allows about 30 messages a second; turn pacing off only for a self-hosted Bot API server or a load test
    pace_sends: bool = Field(True, alias="REPORTBOT_PACE_SENDS")
    connection_pool_size: int = Field(16, alias="REPORTBOT_CONNECTION_POOL", ge=1, le=1024)
    # updates handled at once: more only queues more requests in httpcore's pool (measured by bench/botload.py)
    concurrent_updates: int = Field(16, alias="REPORTBOT_CONCURRENT_UPDATES", ge=1, le=1024)

    @field_validator("admins", "allowed_chats", mode="before")
    @classmethod
    def _parse_ids(cls, value: Any) -> Any:
        return _id_set(value)

    @field_validator("token", mode="before")
    @classmethod
    def _check_token(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            # set but empty (deploy/example.env ships it so): a service would run the terminal chat, read end of
            # input and exit 0, for ever; only an absent variable means the terminal chat
            raise ValueError("is empty: put the bot token from @BotFather here (leave it out for the terminal chat)")
        if isinstance(value, str) and not re.fullmatch(r"\d+:[A-Za-z0-9_-]{5,}", value.strip()):
            raise ValueError("does not look like a bot token from @BotFather (digits:letters)")
        return value.strip() if isinstance(value, str) and value.strip() else None

    @field_validator("tz_name")
    @classmethod
    def _check_tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use a name like Asia/Shanghai)") from None
        return value

    @field_validator("digest_time", mode="before")
    @classmethod
    def _parse_time(cls, value: Any) -> Any:
        if isinstance(value, str):
            match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", value)
            if not match or int(match[1]) > 23 or int(match[2]) > 59:
                raise ValueError("expected HH:MM, e.g. 08:00")
            return time(int(match[1]), int(match[2]))
        return value

    @field_validator("log_level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("expected DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    @field_validator("webhook_url")
    @classmethod
    def _check_webhook(cls, value: str | None) -> str | None:
        if value is not None and value.strip() and not value.startswith(("https://", "http://")):
            raise ValueError("expected an https:// URL")
        return value.strip() or None if value is not None else None

    @property
    def tz(self) -> ZoneInfo:
        """The digest's time zone."""
        return ZoneInfo(self.tz_name)

    @property
    def digest_at(self) -> time:
        """The digest time, aware of the time zone (JobQueue.run_daily needs that)."""
        return self.digest_time.replace(tzinfo=self.tz)

    def is_admin(self, user_id: int | None) -> bool:
        """Admins are named by Telegram user id."""
        return user_id is not None and user_id in self.admins

    def chat_allowed(self, chat_id: int | None) -> bool:
        """With an allow-list, only those chats get answers."""
        return not self.allowed_chats or (chat_id is not None and chat_id in self.allowed_chats)
