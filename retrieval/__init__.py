"""Retrieval library for reportbot: ingest Chinese work reports, answer questions with cited passages.

Nothing here imports Telegram; the CLI and the bot are thin shells over `Library`.
"""

from __future__ import annotations

from pathlib import Path

from .answers import (
    Answer,
    IngestResult,
    MentionAnswer,
    MentionedReports,
    MentionGroup,
    NoMentionAnswer,
    Outline,
    OutOfScopeAnswer,
    PartAnswer,
    PartBlock,
    Quote,
    RankedAnswer,
    Refusal,
    ReportMentions,
)
from .errors import (
    DatabaseReplaced,
    InvalidCorrection,
    ReportbotError,
    StorageError,
    UnknownParagraph,
    UnknownReport,
    UnreadableReport,
)
from .library import Library
from .scope import InScope, MissingReports, MissingTitle, MissingYears, NoOverlap, OutOfScope, Scope
from .segment import Segmenter
from .settings import LibrarySettings
from .store import Report, Store


def open_library(settings: LibrarySettings) -> Library:
    """The composition of store, segmenter and indexes that every entry point uses."""
    store = Store(settings.db)
    index_dir = None if store.path == ":memory:" else Path(f"{settings.db}.index")
    return Library(store, Segmenter(settings.dictionary), index_dir=index_dir, limits=settings.report_limits)


__all__ = [
    "Answer",
    "DatabaseReplaced",
    "InScope",
    "IngestResult",
    "InvalidCorrection",
    "Library",
    "LibrarySettings",
    "MentionAnswer",
    "MentionGroup",
    "MentionedReports",
    "MissingReports",
    "MissingTitle",
    "MissingYears",
    "NoMentionAnswer",
    "NoOverlap",
    "OutOfScope",
    "OutOfScopeAnswer",
    "Outline",
    "PartAnswer",
    "PartBlock",
    "Quote",
    "RankedAnswer",
    "Refusal",
    "Report",
    "ReportMentions",
    "ReportbotError",
    "Scope",
    "Segmenter",
    "StorageError",
    "Store",
    "UnknownParagraph",
    "UnknownReport",
    "UnreadableReport",
    "open_library",
]
