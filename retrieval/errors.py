"""Named errors of the retrieval library; the CLI and the bot turn them into user-facing messages."""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Final


class ReportbotError(Exception):
    """Base class of every error the library raises on purpose."""


# Why a file cannot be read: reason -> code. The reason says precisely what is wrong (the edge words it for people,
# bot/texts.py, `unreadable_<reason>`); the code is the stable category callers branch on (several reasons share one).
UNREADABLE_CODES: Final[Mapping[str, str]] = types.MappingProxyType(
    {
        "unsupported": "unsupported",
        "no_suffix": "unsupported",
        "needs_libreoffice": "missing_program",
        "needs_ocr": "missing_program",
        "office_encrypted": "encrypted",
        "broken_office": "broken_office",
        "convert_timeout": "timeout",
        "scan_too_long": "too_large",
        "broken_image": "broken_image",
        "no_text_image": "no_text",
        "no_html_text": "empty",
        "too_large": "too_large",
        "docx_too_large": "too_large",
        "too_many_chars": "too_large",
        "too_many_paragraphs": "too_large",
        "docx_too_complex": "too_large",
        "empty": "empty",
        "binary": "binary",
        "undecodable": "undecodable",
        "broken_docx": "broken_docx",
        "docx_not_word": "broken_docx",
        "broken_pdf": "broken_pdf",
        "pdf_truncated": "broken_pdf",
        "pdf_encrypted": "broken_pdf",
        "no_text": "no_text",
        "not_found": "io_error",
        "is_directory": "io_error",
        "permission_denied": "io_error",
        "io_error": "io_error",  # detail: the system's words
        "read_failed": "io_error",  # a file of a folder being ingested; detail: the system's words
    }
)


class UnreadableReport(ReportbotError):
    """A report file that cannot be ingested: binary, empty, broken, undecodable or unsupported.

    `reason` says what is wrong (one of UNREADABLE_CODES), `details` fill in its message (sizes, limits, a
    suffix); `code` is the stable category. The words for people are the edge's (bot/texts.py).
    """

    def __init__(self, source: str, reason: str, details: Mapping[str, str] | None = None) -> None:
        self.source = source
        self.reason = reason
        self.code = UNREADABLE_CODES[reason]
        self.details = dict(details or {})
        shown = ", ".join(f"{key}={value}" for key, value in self.details.items())
        super().__init__(f"{source}: {reason}" + (f" ({shown})" if shown else ""))

    def __reduce__(self) -> tuple[type[UnreadableReport], tuple[str, str, dict[str, str]]]:
        # worker processes send these back to the main process
        return (UnreadableReport, (self.source, self.reason, self.details))


class UnknownReport(ReportbotError):
    """A report id that is not in the database."""

    def __init__(self, report_id: str) -> None:
        super().__init__(f"unknown report: {report_id}")
        self.report_id = report_id


class UnknownParagraph(ReportbotError):
    """A paragraph number that the report does not have."""

    def __init__(self, report_id: str, paragraph: int) -> None:
        super().__init__(f"report {report_id} has no paragraph {paragraph}")
        self.report_id = report_id
        self.paragraph = paragraph


class StorageError(ReportbotError):
    """The database cannot be written (read-only, full disk, locked); reading may still work."""


class DatabaseReplaced(StorageError):
    """The database file was deleted or replaced under a running process: nothing more may be written to it."""


class InvalidCorrection(ReportbotError):
    """A correction of a report's metadata that cannot be stored: an unknown field, an empty title, a date that is
    not a date. `field` names the field, `value` is what was given."""

    def __init__(self, field: str, value: str) -> None:
        super().__init__(f"invalid {field}: {value!r}")
        self.field = field
        self.value = value
