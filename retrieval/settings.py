"""Typed settings of the library, read once from the environment and an optional `.env`."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _data_dir() -> Path:
    """The bundled data folder: next to the code in a checkout, else in the working directory."""
    bundled = PROJECT_ROOT / "data"
    return bundled if (bundled / "reports").is_dir() else Path.cwd() / "data"


class LibrarySettings(BaseSettings):
    """Where the database, the bundled reports and the domain dictionary are."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    db: Path = Field(default_factory=lambda: _data_dir() / "reports.db", alias="REPORTBOT_DB")
    reports_dir: Path = Field(default_factory=lambda: _data_dir() / "reports", alias="REPORTBOT_REPORTS_DIR")
    dictionary: Path = Field(default_factory=lambda: _data_dir() / "dict.txt", alias="REPORTBOT_DICT")
    max_upload_mb: int = Field(20, alias="REPORTBOT_MAX_UPLOAD_MB", ge=1, le=2000)
