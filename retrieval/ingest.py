"""Ingesting files and folders: one transaction per report, one clear line per bad file, nothing half-done."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .errors import StorageError, UnreadableReport
from .extract import SUPPORTED_SUFFIXES
from .library import IngestResult, Library
from .store import Report


@dataclass
class IngestSummary:
    """The outcome of one ingest run."""

    results: list[IngestResult] = field(default_factory=list)
    failures: list[UnreadableReport] = field(default_factory=list)
    pruned: list[Report] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every file was read."""
        return not self.failures


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """Files named directly, and supported files found in named folders (recursively), sorted."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES and not p.name.startswith(".")
                )
            )
        else:
            files.append(path)
    return list(dict.fromkeys(files))


def ingest_paths(
    library: Library,
    paths: Sequence[Path],
    *,
    prune: bool = False,
    on_file: Callable[[Path], None] | None = None,
) -> IngestSummary:
    """Ingest every file under `paths`; with `prune`, drop reports whose source file is no longer there."""
    summary = IngestSummary()
    files = collect_files(paths)
    for file in files:
        if on_file is not None:
            on_file(file)
        try:
            if not file.exists():
                raise UnreadableReport(file.name, "missing", "文件不存在", "file does not exist")
            summary.results.append(library.ingest_file(file))
        except UnreadableReport as exc:
            summary.failures.append(exc)
        except OSError as exc:
            summary.failures.append(
                UnreadableReport(
                    file.name,
                    "io",
                    f"无法读取文件（{exc.strerror}）",
                    f"cannot read the file ({exc.strerror})",
                )
            )
        except StorageError:
            raise
    if prune:
        present = {f.name for f in files if f.exists()}
        for report in library.reports():
            if report.source not in present:
                summary.pruned.append(library.delete_report(report.id))
    return summary
