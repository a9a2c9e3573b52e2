"""Named errors of the retrieval library; the CLI and the bot turn them into user-facing messages."""

from __future__ import annotations


class ReportbotError(Exception):
    """Base class of every error the library raises on purpose."""


class UnreadableReport(ReportbotError):
    """A report file that cannot be ingested: binary, empty, broken, undecodable or unsupported.

    `code` is a stable machine-readable reason; `zh` and `en` are the messages shown to people.
    """

    def __init__(self, source: str, code: str, zh: str, en: str) -> None:
        super().__init__(f"{source}: {en}")
        self.source = source
        self.code = code
        self.zh = zh
        self.en = en

    def __reduce__(self) -> tuple[type[UnreadableReport], tuple[str, str, str, str]]:
        # worker processes send these back to the main process
        return (UnreadableReport, (self.source, self.code, self.zh, self.en))

    def message(self, language: str = "zh") -> str:
        """The reason in the user's language, naming the file."""
        return f"{self.source}: {self.en if language == 'en' else self.zh}"


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
