"""Ingest: files, folders and deletions written to the store and committed to the passage index; a few reports per
transaction, one clear line per bad file, nothing half-done.

Reading, segmenting and cutting passages is CPU work done in worker processes when there is a lot of it; writing
stays in this process, in file order, so report ids do not depend on timing.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path, PurePath

from .answers import IngestResult
from .errors import UnreadableReport
from .extract import DEFAULT_MAX_BYTES, SUPPORTED_SUFFIXES, extract, read_report_file
from .library import OWNER_KEY, Library
from .passages import PassageWriter
from .prepare import PreparedReport, init_forked_worker, init_worker, prepare_file, prepare_report
from .store import Report, SavedReport

# Below these sizes starting workers costs more than it saves. A spawned worker starts an interpreter, imports
# the library and loads the dictionary (about a second of CPU); a forked one starts in milliseconds with all of
# that inherited.
PARALLEL_MIN_BYTES = 4 * 1024 * 1024
FORK_MIN_BYTES = 256 * 1024
# Reports written in one transaction: at most this many, or what arrived within this time. A commit per report
# cost as much as all other SQL (shared pages written again for each). A kill loses the open transaction only,
# and none of its files has been reported yet: results and `on_file` come after the commit.
GROUP_REPORTS = 64
GROUP_SECONDS = 0.5


@dataclass
class IngestSummary:
    """The outcome of one ingest run: what happened to every file of the folders it was given."""

    results: list[IngestResult] = field(default_factory=list)
    failures: list[UnreadableReport] = field(default_factory=list)  # looked like reports, could not be read
    pruned: list[Report] = field(default_factory=list)
    unsupported: list[UnreadableReport] = field(default_factory=list)  # in a folder, of a type reports never are
    ignored: list[Path] = field(default_factory=list)  # lock, hidden, temporary and system files (and folders)

    @property
    def ok(self) -> bool:
        """True when every file that looked like a report was read."""
        return not self.failures

    def tally(self) -> dict[str, int]:
        """How many files came to each end (ingested = added or replaced), and how many reports were pruned."""
        statuses = Counter(result.status for result in self.results)
        counts = {
            "ingested": statuses["added"] + statuses["replaced"],
            "unchanged": statuses["unchanged"],
            "duplicate": statuses["duplicate"],
            "unsupported": len(self.unsupported),
            "ignored": len(self.ignored),
            "failed": len(self.failures),
        }
        return {"files": sum(counts.values()), **counts, "pruned": len(self.pruned)}


# Never read, only counted: Office lock files (`~$报告.docx`, beside a document open in Word or WPS) and Word's
# `~WRL0001.tmp`, hidden files and folders (`.git`, a virtualenv), editors' and browsers' temporary files, and
# system files that Windows and macOS leave in shared folders.
_TEMPORARY_SUFFIXES = frozenset({".tmp", ".temp", ".swp", ".swo", ".part", ".partial", ".crdownload", ".download"})
_SYSTEM_NAMES = frozenset({"thumbs.db", "desktop.ini", "__macosx"})


def ignorable(name: str) -> bool:
    """Whether a file or folder found in a folder is a lock, hidden, temporary or system file."""
    lowered = name.lower()
    return (
        name.startswith((".", "~"))
        or name.endswith("~")
        or PurePath(lowered).suffix in _TEMPORARY_SUFFIXES
        or lowered in _SYSTEM_NAMES
    )


@dataclass(frozen=True)
class Listing:
    """What named paths hold: files to read (those named, and those of a report's type in the folders), files of
    other types, and files never read (`ignorable`); each list sorted."""

    files: list[Path]
    other: list[Path]
    ignored: list[Path]


def list_files(paths: Iterable[Path]) -> Listing:
    """Every file named or found in named folders (recursively; ignored folders are not entered), sorted."""
    files: list[Path] = []
    other: list[Path] = []
    ignored: list[Path] = []
    for path in paths:
        if not path.is_dir():
            files.append(path)
            continue
        found_files: list[Path] = []
        found_other: list[Path] = []
        found_ignored: list[Path] = []
        for folder, folders, names in os.walk(path):
            base = Path(folder)
            found_ignored.extend(base / name for name in folders if ignorable(name))
            folders[:] = [name for name in folders if not ignorable(name)]
            for name in names:
                if ignorable(name):
                    found_ignored.append(base / name)
                elif PurePath(name).suffix.lower() in SUPPORTED_SUFFIXES:
                    found_files.append(base / name)
                else:
                    found_other.append(base / name)
        for into, found in ((files, found_files), (other, found_other), (ignored, found_ignored)):
            # by parts: Path's own comparison is ~5x slower, and it shows in a folder of 25,000
            into.extend(sorted(found, key=lambda p: p.parts))
    return Listing(list(dict.fromkeys(files)), list(dict.fromkeys(other)), list(dict.fromkeys(ignored)))


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """Files named directly, and files of a report's type found in named folders (recursively), sorted."""
    return list_files(paths).files


def _unsupported(file: Path) -> UnreadableReport | None:
    """Why a file of another type is not read: the reason extract gives, by its name alone (checked before any
    byte is read). None if extract would read it after all."""
    try:
        read_report_file(file)
    except UnreadableReport as exc:
        return exc
    return None


def _io_failure(file: Path, exc: OSError) -> UnreadableReport:
    return UnreadableReport(file.name, "read_failed", {"detail": exc.strerror or type(exc).__name__})


def _pool(library: Library, workers: int, *, fork: bool) -> ProcessPoolExecutor:
    """Workers that prepare files, each with a segmenter: forked with this process's, or spawned loading one."""
    if fork:
        return ProcessPoolExecutor(
            workers, mp_context=get_context("fork"), initializer=init_forked_worker, initargs=(library.segmenter,)
        )
    return ProcessPoolExecutor(
        workers, mp_context=get_context("spawn"), initializer=init_worker, initargs=(library.segmenter.dictionary,)
    )


def _prepared(
    library: Library, files: Sequence[Path], workers: int, max_bytes: int
) -> Iterator[tuple[Path, PreparedReport | UnreadableReport]]:
    """Prepare files in order, in worker processes when there is enough work for them."""
    # Fork only while this process runs no other thread (a lock another thread held at the fork would stay held
    # in the child for ever); otherwise spawn. Forked workers never touch the databases they inherit.
    fork = "fork" in get_all_start_methods() and threading.active_count() == 1
    size = sum(f.stat().st_size for f in files) if workers > 1 and len(files) > 1 else 0
    if size >= (FORK_MIN_BYTES if fork else PARALLEL_MIN_BYTES):
        with _pool(library, workers, fork=fork) as pool:
            # a few files per task: fewer round trips, while still sharing the work out evenly
            chunk = max(1, min(8, len(files) // (8 * workers)))
            n = len(files)
            tasks = pool.map(prepare_file, files, [max_bytes] * n, [library.limits] * n, chunksize=chunk)
            yield from zip(files, tasks, strict=True)
        return
    for file in files:
        try:
            extracted = read_report_file(file, max_bytes=max_bytes, report_limits=library.limits)
            yield file, prepare_report(extracted, library.segmenter)
        except UnreadableReport as exc:
            yield file, exc


# --- one report, a group of reports, a deletion ----------------------------------------------------------------


def ingest_file(library: Library, path: Path) -> IngestResult:
    """Ingest one file from disk (see `ingest_bytes`)."""
    return ingest_bytes(library, path.name, path.read_bytes())


def ingest_bytes(
    library: Library,
    source: str,
    data: bytes,
    *,
    max_bytes: int | None = None,
    claim: bool = True,
    writer: PassageWriter | None = None,
) -> IngestResult:
    """Ingest a report file's bytes; UnreadableReport says why a file cannot be read. `claim` and `writer`: see
    `ingest_group`."""
    extracted = extract(source, data, max_bytes=max_bytes or DEFAULT_MAX_BYTES, report_limits=library.limits)
    found = known(library, extracted.source, extracted.sha256)
    if found is not None:
        return found
    return ingest_group(library, [prepare_report(extracted, library.segmenter)], claim=claim, writer=writer)[0]


def known(library: Library, source: str, sha256: str, text: str | None = None) -> IngestResult | None:
    """The result for a file that needs no work: unchanged, or the same bytes (or, given its `text`
    fingerprint, the same text) as another report."""
    store = library.store
    twin = store.report_by_sha256(sha256)
    if twin is None and text is not None:
        twin = store.report_by_text(text)
    return _known(source, sha256, store.report_by_source(source), twin)


def known_files(library: Library, files: Sequence[tuple[str, str]]) -> list[IngestResult | None]:
    """`known` for many (source, sha256) pairs against one read of the reports: a first pass that spares the
    unchanged files of a large folder their preparing; writing checks each report again in its transaction."""
    reports = library.store.reports()
    by_source = {r.source: r for r in reports}
    by_sha256 = {r.sha256: r for r in reports}
    return [_known(source, sha256, by_source.get(source), by_sha256.get(sha256)) for source, sha256 in files]


def _known(source: str, sha256: str, existing: Report | None, twin: Report | None) -> IngestResult | None:
    """Unchanged (`existing`, the report of this file name, has these bytes), a duplicate (`twin`, the report
    with these bytes or this text, has another file name), or None: the file needs writing. A file whose bytes
    changed but whose text did not replaces its report (its paragraphs may be split differently)."""
    if existing is not None and existing.sha256 == sha256:
        return IngestResult(source, "unchanged", existing)
    if twin is not None and twin.source != source:
        return IngestResult(source, "duplicate", twin)
    return None


def ingest_group(
    library: Library,
    group: Sequence[PreparedReport],
    *,
    claim: bool = True,
    writer: PassageWriter | None = None,
) -> list[IngestResult]:
    """Write prepared reports, in order, in as few transactions as possible, each committed to the passage
    index after its transaction (through `writer`, which may hold them for a larger step: see PassageWriter; a
    writer of its own, committed at the end, when none is given).

    With `claim` (everything but start-up's loading of the bundled reports), a transaction that writes a
    report also records that the library is the operator's (OWNER_KEY), so the bundled reports never return.

    A transaction holds reports of distinct files and contents: each report is checked against the committed
    store (unchanged? a duplicate?), which then also covers the reports before it. A report repeating a file
    name or a content of the open transaction commits it and starts the next. If a write fails, the open
    transaction is rolled back and the error raised; transactions committed before it are in the indexes.
    """
    if writer is None:
        with library.writer() as own:
            return ingest_group(library, group, claim=claim, writer=own)
    results: list[IngestResult] = []
    at = 0
    while at < len(group):
        sources: set[str] = set()
        contents: set[str] = set()
        saved: list[tuple[SavedReport, PreparedReport]] = []  # for the index once the transaction is committed
        with library.store.write():
            while (
                at < len(group)
                and group[at].source not in sources
                and group[at].sha256 not in contents
                and group[at].text_fingerprint not in contents
            ):
                prepared = group[at]
                sources.add(prepared.source)
                contents.update((prepared.sha256, prepared.text_fingerprint))
                result = known(library, prepared.source, prepared.sha256, prepared.text_fingerprint)
                if result is None:
                    written = _write(library, prepared)
                    saved.append((written, prepared))
                    result = IngestResult(prepared.source, "replaced" if written.replaced else "added", written.report)
                results.append(result)
                at += 1
            if claim and saved:
                library.store.set_meta(OWNER_KEY, "operator")
        for written, prepared in saved:
            writer.remove_passages(written.removed)
            writer.add_report(written.report, written.passage_ids, prepared.passages)
        writer.step()
    return results


def _write(library: Library, prepared: PreparedReport) -> SavedReport:
    return library.store.save_report(
        source=prepared.source,
        sha256=prepared.sha256,
        kind=prepared.kind,
        encoding=prepared.encoding,
        structure=prepared.structure,
        passages=prepared.passages,
        text_fingerprint=prepared.text_fingerprint,
        metadata=prepared.metadata,
        declared_title=prepared.declared_title,
        declared_date=prepared.declared_date,
    )


def delete_report(library: Library, report_id: int | str, *, writer: PassageWriter | None = None) -> Report:
    """Remove a report and its passages from the store and from the indexes (at once, or with `writer`'s next
    commit); the library is the operator's from then on (OWNER_KEY). UnknownReport if there is no such report."""
    report = library.store.report(report_id)
    with library.store.write():
        removed = library.store.delete_report(report.id)
        library.store.set_meta(OWNER_KEY, "operator")
    if writer is not None:
        writer.delete_report(report.id, removed)
        return report
    with library.writer() as own:
        own.delete_report(report.id, removed)
    return report


def ingest_paths(
    library: Library,
    paths: Sequence[Path],
    *,
    prune: bool = False,
    on_file: Callable[[Path], None] | None = None,
    workers: int | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    claim: bool = True,
) -> IngestSummary:
    """Ingest every file under `paths`; with `prune`, drop reports whose source file is no longer there.
    `claim` (all but start-up's loading of the bundled reports): what this writes makes the library the
    operator's (see ingest_group).

    A StorageError (database read-only, full or locked) stops the run: nothing after it could be written either.
    """
    summary = IngestSummary()
    todo: list[Path] = []
    listing = list_files(paths)
    files = list(listing.files)
    summary.ignored = listing.ignored
    for file in listing.other:
        reason = _unsupported(file)
        if reason is None:
            files.append(file)
        else:
            summary.unsupported.append(reason)
    readable: list[tuple[Path, str]] = []
    for file in files:
        try:
            readable.append((file, hashlib.sha256(file.read_bytes()).hexdigest()))
        except OSError as exc:
            summary.failures.append(_io_failure(file, exc))
            if on_file is not None:
                on_file(file)
    for (file, _), result in zip(readable, known_files(library, [(f.name, sha) for f, sha in readable]), strict=True):
        if result is None:
            todo.append(file)
        else:
            summary.results.append(result)
            if on_file is not None:
                on_file(file)
    waiting: list[tuple[Path, PreparedReport | UnreadableReport]] = []  # not yet written, in file order

    def write_waiting() -> None:
        group = [p for _, p in waiting if isinstance(p, PreparedReport)]
        results = iter(ingest_group(library, group, claim=claim, writer=writer))
        for file, prepared in waiting:
            if isinstance(prepared, UnreadableReport):
                summary.failures.append(prepared)
            else:
                summary.results.append(next(results))
            if on_file is not None:
                on_file(file)
        waiting.clear()

    with library.writer() as writer:  # a few reports per transaction, a few index commits for the run
        started = 0.0
        for file, prepared in _prepared(library, todo, workers or min(2, os.cpu_count() or 1), max_bytes):
            if not waiting:
                started = time.monotonic()
            waiting.append((file, prepared))
            if len(waiting) >= GROUP_REPORTS or time.monotonic() - started >= GROUP_SECONDS:
                write_waiting()
        write_waiting()
    if prune:
        present = {f.name for f in files if f.exists()}
        for report in library.reports():
            if report.source not in present:
                summary.pruned.append(delete_report(library, report.id))
    library.save_index()  # a large library starts from the saved index next time instead of building it
    return summary


def same_folder(a: Path, b: Path) -> bool:
    """Whether two paths name the same folder (however they are spelled)."""
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def ingest_at_start(library: Library, reports_dir: Path | None, bundled: Path) -> IngestSummary | None:
    """What a start ingests before serving, None when nothing.

    The operator's folder (REPORTBOT_REPORTS_DIR, `reports_dir`) is ingested at every start, new and changed
    files only. Without one, the bundled reports seed a new, empty library and are kept up to date while the
    library holds only them; once the operator has ingested, uploaded, pruned or deleted reports of their own
    (Library.owner), no start loads them again. A library from before this rule is decided by its contents.
    """
    if reports_dir is not None:
        return ingest_paths(library, [reports_dir], claim=not same_folder(reports_dir, bundled))
    owner = library.owner()
    if owner is None:
        owner = library.decide_owner({f.name for f in collect_files([bundled])} if bundled.is_dir() else set())
    if owner == "operator" or not bundled.is_dir():
        return None
    return ingest_paths(library, [bundled], claim=False)
