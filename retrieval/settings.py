"""Typed settings of the library, read once from the environment and an optional `.env`."""

from __future__ import annotations

import importlib.resources
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .extract import ReportLimits

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _data_dir() -> Path:
    """Where the database lives by default: the checkout's data folder, else the working directory's."""
    checkout = PROJECT_ROOT / "data"
    return checkout if (checkout / "reports").is_dir() else Path.cwd() / "data"


def _bundled_dir() -> Path:
    """The data that comes with the program (dictionary, bundled reports): the checkout's data folder, else the
    package data an installed copy carries (`retrieval/bundled`, found through importlib.resources), so the
    installed command works from any folder; else the working directory's data folder."""
    checkout = PROJECT_ROOT / "data"
    if (checkout / "reports").is_dir():
        return checkout
    installed = Path(str(importlib.resources.files("retrieval").joinpath("bundled")))
    return installed if (installed / "dict.txt").is_file() else Path.cwd() / "data"


class LibrarySettings(BaseSettings):
    """Where the database, the operator's reports (or the bundled ones) and the domain dictionary are."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    db: Path = Field(default_factory=lambda: _data_dir() / "reports.db", alias="REPORTBOT_DB")
    # None: not set, and the bundled reports seed a new library (see retrieval.ingest.ingest_at_start)
    reports_dir: Path | None = Field(None, alias="REPORTBOT_REPORTS_DIR")
    dictionary: Path = Field(default_factory=lambda: _bundled_dir() / "dict.txt", alias="REPORTBOT_DICT")
    max_upload_mb: int = Field(20, alias="REPORTBOT_MAX_UPLOAD_MB", ge=1, le=2000)
    # what one report may expand to once read (a small compressed file can hold millions of paragraphs)
    max_report_chars: int = Field(ReportLimits.max_chars, alias="REPORTBOT_MAX_REPORT_CHARS", ge=1000)
    max_report_paragraphs: int = Field(ReportLimits.max_paragraphs, alias="REPORTBOT_MAX_REPORT_PARAGRAPHS", ge=10)

    @property
    def report_limits(self) -> ReportLimits:
        """The limits above for the library."""
        return ReportLimits(max_chars=self.max_report_chars, max_paragraphs=self.max_report_paragraphs)

    @field_validator("reports_dir", mode="before")
    @classmethod
    def _check_reports_dir(cls, value: Any) -> Any:
        # An empty value would be Path(""), the working folder: `make run` from a checkout would ingest its
        # virtualenv (273,000 paragraphs) as reports.
        if isinstance(value, str) and not value.strip():
            raise ValueError("is empty; name the folder of your reports, or leave it unset for the bundled ones")
        return value

    @property
    def bundled_reports_dir(self) -> Path:
        """The reports that come with the program (data/reports): they seed a new, empty library."""
        return _bundled_dir() / "reports"
