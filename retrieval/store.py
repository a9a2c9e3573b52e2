"""The one SQLite file: reports, sections, paragraphs, passages, and the bot's subscribers and watches.

Written through sqlite-utils; every report is written inside one transaction (ingest puts a few in each) so a
half-written report is never visible. `schema_version` in `meta` lets later versions migrate the file in place.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from .errors import DatabaseReplaced, StorageError, UnknownParagraph, UnknownReport
from .metadata import ReportMetadata, year_of
from .normalize import text_fingerprint
from .parts import Part, PartLine, label_parts
from .structure import ReportStructure

# 2: indexes on reports.sha256 and reports.seq (ingest looks both up for every file)
# 3: paragraphs.part, the standard part of the report each paragraph is in (retrieval.parts)
# 4: reports.text_fingerprint, of the normalised text (the same report in another format is a duplicate)
# 5: reports.date, reports.unit and reports.extracted (what ingest read, under admins' corrections); corrections
# 6: feedback, the 👍/👎 readers give answers (a new table: made by the schema statements, nothing to convert)
SCHEMA_VERSION = 6
BUSY_TIMEOUT_S = 5.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    kind TEXT NOT NULL,
    encoding TEXT,
    chars INTEGER NOT NULL,
    paragraph_count INTEGER NOT NULL,
    passage_count INTEGER NOT NULL,
    ingested_at TEXT NOT NULL,
    seq INTEGER NOT NULL,
    text_fingerprint TEXT NOT NULL DEFAULT '',
    date TEXT,
    unit TEXT,
    extracted TEXT
);
CREATE TABLE IF NOT EXISTS sections (
    report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    level INTEGER NOT NULL,
    heading TEXT NOT NULL,
    paragraph INTEGER NOT NULL,
    PRIMARY KEY (report_id, idx)
);
CREATE TABLE IF NOT EXISTS paragraphs (
    report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    kind TEXT NOT NULL,
    section_idx INTEGER,
    text TEXT NOT NULL,
    part TEXT,
    PRIMARY KEY (report_id, number)
);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    paragraph INTEGER NOT NULL,
    kind TEXT NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    section TEXT NOT NULL,
    terms TEXT NOT NULL,
    norm TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_report ON passages(report_id, paragraph);
CREATE INDEX IF NOT EXISTS reports_sha256 ON reports(sha256);
CREATE INDEX IF NOT EXISTS reports_seq ON reports(seq);
CREATE INDEX IF NOT EXISTS reports_text_fingerprint ON reports(text_fingerprint);
CREATE INDEX IF NOT EXISTS paragraphs_part ON paragraphs(part, report_id, number) WHERE part IS NOT NULL;
CREATE TABLE IF NOT EXISTS subscribers (
    chat_id INTEGER PRIMARY KEY,
    language TEXT NOT NULL DEFAULT 'zh',
    subscribed_at TEXT NOT NULL,
    last_digest_day TEXT,
    last_report_seq INTEGER NOT NULL DEFAULT 0,
    last_passage_id INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS corrections (
    source TEXT NOT NULL,
    field TEXT NOT NULL,
    value TEXT,
    corrected_at TEXT NOT NULL,
    PRIMARY KEY (source, field)
);
CREATE TABLE IF NOT EXISTS watches (
    chat_id INTEGER NOT NULL,
    term TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (chat_id, term)
);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    answer_key TEXT NOT NULL,
    at TEXT NOT NULL,
    chat_id INTEGER,
    user_id INTEGER,
    vote TEXT NOT NULL,
    question TEXT NOT NULL,
    intent TEXT NOT NULL,
    shown TEXT NOT NULL,
    comment TEXT,
    UNIQUE (answer_key, user_id)
);
CREATE INDEX IF NOT EXISTS feedback_at ON feedback(at);
"""

# Version 4 for a file of an earlier version; the values are read from the stored text by the library when it opens
# (`Library.refresh_metadata`: reading needs the segmenter for a title derived from the opening sentence).
_ADD_REPORT_COLUMN = {
    "date": "ALTER TABLE reports ADD COLUMN date TEXT",
    "unit": "ALTER TABLE reports ADD COLUMN unit TEXT",
    "extracted": "ALTER TABLE reports ADD COLUMN extracted TEXT",
}
# The metadata fields an admin can correct, as the columns of `reports` they override.
CORRECTABLE = ("title", "date", "unit")
_SET_FIELD = {
    "title": "UPDATE reports SET title = ? WHERE id = ?",
    "date": "UPDATE reports SET date = ? WHERE id = ?",
    "unit": "UPDATE reports SET unit = ? WHERE id = ?",
}


def now_iso() -> str:
    """The current time, UTC, ISO 8601 to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class Report:
    """A stored report: its id is the short number users type."""

    id: int
    source: str
    title: str
    sha256: str
    kind: str
    encoding: str | None
    chars: int
    paragraph_count: int
    passage_count: int
    ingested_at: str
    seq: int
    text_fingerprint: str  # see normalize.text_fingerprint; `sha256` is the file's fingerprint
    date: str | None = None
    """The day (or month, or year) the report was made, as an ISO prefix: "2024", "2024-03", "2024-03-05"."""
    unit: str | None = None
    """The body that reports ("广东省人民政府", "**区", "县政府办公室")."""
    distinction: str | None = field(default=None, compare=False)
    """What tells the report apart from others of the same title in its library (its date, unit or both; see
    `metadata.distinctions`): set by the library on the reports it hands out, never stored."""

    @property
    def year(self) -> int | None:
        """The year the report was made."""
        return year_of(self.date)


@dataclass(frozen=True)
class StoredSection:
    """A heading of a stored report."""

    index: int
    level: int
    heading: str
    paragraph: int


@dataclass(frozen=True)
class StoredParagraph:
    """One numbered paragraph of a stored report, with the standard part of the report it is in."""

    report_id: int
    number: int
    kind: str
    section: str
    text: str
    part: Part | None = None


@dataclass(frozen=True)
class PartRun:
    """Consecutive paragraphs of a report in one part: the part, its first and last paragraph numbers."""

    part: Part
    first: int
    last: int


@dataclass(frozen=True)
class PassageRecord:
    """A passage as the index needs it: where it is and its terms."""

    id: int
    report_id: int
    paragraph: int
    kind: str
    start: int
    end: int
    section: str
    terms: tuple[str, ...]
    norm: str


@dataclass(frozen=True)
class QuotedPassage:
    """What a quote needs of a passage: where it is, and its text."""

    id: int
    report_id: int
    paragraph: int
    section: str
    text: str


@dataclass(frozen=True)
class SavedReport:
    """What writing a report did: the stored report, whether it replaced an earlier version from the same file,
    the ids of that version's passages (now gone) and the ids given to the new passages, in order."""

    report: Report
    replaced: bool
    removed: list[int]
    passage_ids: range


@dataclass(frozen=True)
class NewPassage:
    """A passage about to be written: its place, its section label and its index terms."""

    paragraph: int
    kind: str
    start: int
    end: int
    section: str
    terms: str  # space-separated, as stored: prepared once in a worker, written and indexed as they are
    norm: str


def _marks(values: Sequence[object]) -> str:
    """`?,?,?`: one SQL parameter per value, for IN lists (values always travel as parameters)."""
    return ",".join("?" * len(values))


_REPORT_COLUMNS = (
    "source",
    "title",
    "sha256",
    "kind",
    "encoding",
    "chars",
    "paragraph_count",
    "passage_count",
    "ingested_at",
    "seq",
    "text_fingerprint",
    "date",
    "unit",
    "extracted",
)
_INSERT_REPORT = "INSERT INTO reports (" + ", ".join(_REPORT_COLUMNS) + ") VALUES (" + _marks(_REPORT_COLUMNS) + ")"
_UPDATE_REPORT = "UPDATE reports SET " + ", ".join(c + " = ?" for c in _REPORT_COLUMNS) + " WHERE id = ?"


# Report sequence numbers and passage ids are the digest's cursors (subscribers.last_report_seq/_passage_id):
# neither is ever given twice, also after the newest report was deleted, or a subscriber whose cursor had passed
# the deleted one would never be told of the report given its number next. Passage ids: AUTOINCREMENT's
# sqlite_sequence; sequence numbers: the last one given, kept in meta (libraries from before it: max(seq)).
_LAST_SEQ = (
    "SELECT max(coalesce((SELECT max(seq) FROM reports), 0),"
    " coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'report_seq'), 0))"
)
_NEXT_SEQ = _LAST_SEQ + " + 1"
_LAST_PASSAGE_ID = (
    "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'passages'), 0),"
    " coalesce((SELECT max(id) FROM passages), 0))"
)


_STORED_FIELDS = tuple(name for name in Report.__dataclass_fields__ if name != "distinction")


def _extracted_json(read: dict[str, str | None], declared: str | None, declared_date: str | None) -> str:
    """What ingest read, with what the file format declared (its title and day): kept in `reports.extracted` so a
    newer reader of the stored text reads the metadata again without the file."""
    kept = {**read, "declared": declared}
    if declared_date is not None:
        kept["declared_date"] = declared_date
    return json.dumps(kept, ensure_ascii=False)


def _report(row: dict[str, Any]) -> Report:
    return Report(**{k: row[k] for k in _STORED_FIELDS})


_SELECT_PARAGRAPHS = (
    "SELECT p.report_id, p.number, p.kind, p.text, p.part, coalesce(s.heading, '') AS section FROM paragraphs p"
    " LEFT JOIN sections s ON s.report_id = p.report_id AND s.idx = p.section_idx"
)


def _paragraph(row: dict[str, Any]) -> StoredParagraph:
    return StoredParagraph(row["report_id"], row["number"], row["kind"], row["section"], row["text"], row["part"])


def _passage(row: dict[str, Any]) -> PassageRecord:
    return PassageRecord(
        row["id"],
        row["report_id"],
        row["paragraph"],
        row["kind"],
        row["start"],
        row["end"],
        row["section"],
        tuple(row["terms"].split()),
        row["norm"],
    )


class Store:
    """All reads and writes of the SQLite file. Safe to share between threads (one lock, one connection)."""

    def __init__(self, path: Path | str = ":memory:", *, read_only: bool = False) -> None:
        self.path = str(path)
        self._identity: tuple[int, int] | None = None
        if read_only:
            self._open_read_only()
            return
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, check_same_thread=False, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            self.db = sqlite_utils.Database(conn)
            self._lock = threading.RLock()
            self.db.execute("PRAGMA foreign_keys = ON")
            if self.path != ":memory:":
                self._try_wal()
            self._migrate()
            # Reads get a connection and a lock of their own: in WAL mode they see the last commit and never
            # wait behind a write that is waiting for another process's lock.
            self._reader = self.db
            self._read_lock = self._lock
            if self.path != ":memory:":
                reader = sqlite3.connect(
                    self.path, check_same_thread=False, timeout=BUSY_TIMEOUT_S, isolation_level=None
                )
                self._reader = sqlite_utils.Database(reader)
                self._read_lock = threading.RLock()
                self._identity = _file_identity(self.path)
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"cannot open database {self.path}: {exc}") from exc

    def _open_read_only(self) -> None:
        """For the health check and other readers that must change nothing: a missing, empty or foreign file is an
        error (opening it for writing would create an empty database and report success)."""
        file = Path(self.path)
        if not file.is_file():
            raise StorageError(f"no database at {self.path}")
        if file.stat().st_size == 0:
            raise StorageError(f"{self.path} is empty, not a reportbot database")
        try:
            conn = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
            self.db = sqlite_utils.Database(conn)
            version = self._schema_version()
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"{self.path} is not a reportbot database ({exc})") from exc
        if version == 0:
            raise StorageError(f"{self.path} is not a reportbot database (no schema version)")
        if version != SCHEMA_VERSION:
            raise StorageError(f"{self.path} has schema {version}; this program reads schema {SCHEMA_VERSION}")
        self._lock = self._read_lock = threading.RLock()
        self._reader = self.db

    def check_file(self) -> None:
        """Raise DatabaseReplaced when the file this store opened was deleted or another file moved in its place:
        writes would go to the unlinked file and vanish, so none may be confirmed."""
        if self._identity is not None and _file_identity(self.path) != self._identity:
            raise DatabaseReplaced(
                f"the database file {self.path} was deleted or replaced while the bot ran; restart the bot"
            )

    def _try_wal(self) -> None:
        # a read-only file still serves questions in its current journal mode
        with contextlib.suppress(sqlite3.OperationalError):
            self.db.execute("PRAGMA journal_mode = WAL")
            # WAL with synchronous=NORMAL never corrupts and survives any process crash; only a power cut can
            # lose the last commits. It saves an fsync per report on ingest.
            self.db.execute("PRAGMA synchronous = NORMAL")

    def _migrate(self) -> None:
        version = self._schema_version()
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise StorageError(f"database schema {version} is newer than this program ({SCHEMA_VERSION})")
        with self.write():
            # Steps for files made by earlier versions, in order, before the statements that need their columns.
            if 0 < version < 3:
                self._add_paragraph_parts()
            if 0 < version < 4:
                self._add_text_fingerprints()
            if 0 < version < 5:
                self._add_report_metadata()
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self.db.execute(statement)
            self.db.table("meta").upsert({"key": "schema_version", "value": str(SCHEMA_VERSION)}, pk="key")

    def _add_report_metadata(self) -> None:
        """Version 4: the columns of a report's date, unit and what was read (filled when the library opens)."""
        present = {row[1] for row in self.db.conn.execute("PRAGMA table_info(reports)")}
        for column in ("date", "unit", "extracted"):
            if column not in present:
                self.db.execute(_ADD_REPORT_COLUMN[column])

    def _add_paragraph_parts(self) -> None:
        """Version 3: label the paragraphs already stored with their part, from their text and their headings."""
        conn = self.db.conn
        conn.execute("ALTER TABLE paragraphs ADD COLUMN part TEXT")
        report_ids = [int(r[0]) for r in conn.execute("SELECT id FROM reports ORDER BY id")]
        for report_id in report_ids:
            levels = dict(conn.execute("SELECT paragraph, level FROM sections WHERE report_id = ?", (report_id,)))
            rows = conn.execute(
                "SELECT number, kind, text FROM paragraphs WHERE report_id = ? ORDER BY number", (report_id,)
            ).fetchall()
            parts = label_parts([PartLine(kind, text, levels.get(number)) for number, kind, text in rows])
            conn.executemany(
                "UPDATE paragraphs SET part = ? WHERE report_id = ? AND number = ?",
                [(part, report_id, row[0]) for row, part in zip(rows, parts, strict=True) if part is not None],
            )

    def _add_text_fingerprints(self) -> None:
        """Version 4: every stored report gets the fingerprint of its text, from its passages as ingest computes it
        (so a library of two copies of one text keeps both; the next copy is refused)."""
        conn = self.db.conn
        conn.execute("ALTER TABLE reports ADD COLUMN text_fingerprint TEXT NOT NULL DEFAULT ''")
        for (report_id,) in conn.execute("SELECT id FROM reports ORDER BY id").fetchall():
            norms = conn.execute(
                "SELECT norm FROM passages WHERE report_id = ? ORDER BY paragraph, start", (report_id,)
            )
            conn.execute(
                "UPDATE reports SET text_fingerprint = ? WHERE id = ?",
                (text_fingerprint(row[0] for row in norms), report_id),
            )

    def _schema_version(self) -> int:
        if "meta" not in self.db.table_names():
            return 0
        rows = list(self.db.query("SELECT value FROM meta WHERE key = 'schema_version'"))
        return int(rows[0]["value"]) if rows else 0

    def close(self) -> None:
        """Close the connections."""
        if self._reader is not self.db:
            self._reader.close()
        self.db.close()

    @contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """One transaction under the lock; storage failures become StorageError.

        BEGIN IMMEDIATE takes SQLite's write lock up front, so a writer in another process makes this wait (up to
        the busy timeout) instead of failing at the first write.
        """
        self.check_file()
        with self._lock:
            try:
                if self.db.conn.in_transaction:  # nested: a savepoint inside the open transaction
                    with self.db.atomic() as db:
                        yield db
                    return
                self.db.execute("BEGIN IMMEDIATE")
                try:
                    yield self.db
                except BaseException:
                    if self.db.conn.in_transaction:
                        self.db.execute("ROLLBACK")
                    raise
                try:
                    self.db.execute("COMMIT")
                except BaseException:
                    if self.db.conn.in_transaction:
                        self.db.execute("ROLLBACK")
                    raise
            except sqlite3.DatabaseError as exc:  # read-only, full, locked, or a constraint: nothing was written
                raise StorageError(str(exc)) from exc

    def _rows(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        with self._read_lock:
            return list(self._reader.query(sql, params))

    # --- meta ---------------------------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        """A value from the meta table."""
        rows = self._rows("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0]["value"]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        """Set a value of the meta table (inside the caller's transaction when there is one)."""
        with self.write():
            self.db.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # --- reports ------------------------------------------------------------------------------------------

    def reports(self) -> list[Report]:
        """Every report, by id."""
        return [_report(r) for r in self._rows("SELECT * FROM reports ORDER BY id")]

    def report(self, report_id: int | str) -> Report:
        """One report by id; UnknownReport if there is none."""
        key = _report_key(report_id)
        rows = self._rows("SELECT * FROM reports WHERE id = ?", (key,)) if key is not None else []
        if not rows:
            raise UnknownReport(str(report_id))
        return _report(rows[0])

    def report_by_source(self, source: str) -> Report | None:
        """The report ingested from the file named `source`, if any."""
        rows = self._rows("SELECT * FROM reports WHERE source = ?", (source,))
        return _report(rows[0]) if rows else None

    def report_by_sha256(self, sha256: str) -> Report | None:
        """A report with exactly this content, if any."""
        rows = self._rows("SELECT * FROM reports WHERE sha256 = ? ORDER BY id LIMIT 1", (sha256,))
        return _report(rows[0]) if rows else None

    def report_by_text(self, fingerprint: str) -> Report | None:
        """A report with exactly this text (normalised; see normalize.text_fingerprint), if any."""
        rows = self._rows("SELECT * FROM reports WHERE text_fingerprint = ? ORDER BY id LIMIT 1", (fingerprint,))
        return _report(rows[0]) if rows else None

    def sections(self, report_id: int) -> list[StoredSection]:
        """A report's headings in order."""
        rows = self._rows(
            "SELECT idx, level, heading, paragraph FROM sections WHERE report_id = ? ORDER BY idx",
            (report_id,),
        )
        return [StoredSection(r["idx"], r["level"], r["heading"], r["paragraph"]) for r in rows]

    def paragraph(self, report_id: int, number: int) -> StoredParagraph:
        """One paragraph; UnknownParagraph if the report has no such number."""
        found = self.paragraphs(report_id, number, number)
        if not found:
            raise UnknownParagraph(str(report_id), number)
        return found[0]

    def paragraphs(self, report_id: int, first: int, last: int) -> list[StoredParagraph]:
        """Paragraphs `first`..`last` (inclusive) of a report, with their innermost heading."""
        first, last = max(first, 0), min(last, SQLITE_MAX_INTEGER)  # beyond SQLite's range nothing is stored
        if first > last:
            return []
        rows = self._rows(
            _SELECT_PARAGRAPHS + " WHERE p.report_id = ? AND p.number BETWEEN ? AND ? ORDER BY p.number",
            (report_id, first, last),
        )
        return [_paragraph(r) for r in rows]

    def part_runs(self, report_id: int) -> list[PartRun]:
        """A report's parts in order: each run of consecutive paragraphs in one part, first and last numbers."""
        rows = self._rows("SELECT number, part FROM paragraphs WHERE report_id = ? ORDER BY number", (report_id,))
        runs: list[PartRun] = []
        previous: str | None = None
        for row in rows:
            part = row["part"]
            if part is not None and part == previous:
                runs[-1] = PartRun(runs[-1].part, runs[-1].first, row["number"])
            elif part is not None:
                runs.append(PartRun(part, row["number"], row["number"]))
            previous = part
        return runs

    def part_paragraphs(self, part: Part, report_ids: Sequence[int] | None = None) -> list[StoredParagraph]:
        """The paragraphs in `part` of every report (or of the given ones), by report id and number."""
        sql = _SELECT_PARAGRAPHS + " WHERE p.part = ?"
        params: list[Any] = [part]
        if report_ids is not None:
            marks = _marks(report_ids)
            sql += f" AND p.report_id IN ({marks})"
            params.extend(report_ids)
        return [_paragraph(r) for r in self._rows(sql + " ORDER BY p.report_id, p.number", tuple(params))]

    def paragraph_texts(self, report_ids: list[int] | None = None) -> dict[tuple[int, int], str]:
        """Paragraph texts keyed by (report id, number), for all reports or the given ones."""
        if report_ids is None:
            rows = self._rows("SELECT report_id, number, text FROM paragraphs")
        else:
            marks = _marks(report_ids)
            rows = self._rows(
                f"SELECT report_id, number, text FROM paragraphs WHERE report_id IN ({marks})",
                tuple(report_ids),
            )
        return {(r["report_id"], r["number"]): r["text"] for r in rows}

    def passages(self, report_ids: list[int] | None = None, *, after_id: int = 0) -> list[PassageRecord]:
        """Passages in id order (all, those of some reports, or those newer than `after_id`)."""
        sql = 'SELECT id, report_id, paragraph, kind, start, "end", section, terms, norm FROM passages WHERE id > ?'
        params: list[Any] = [after_id]
        if report_ids is not None:
            marks = _marks(report_ids)
            sql += f" AND report_id IN ({marks})"
            params.extend(report_ids)
        return [_passage(r) for r in self._rows(sql + " ORDER BY id", tuple(params))]

    def passage(self, passage_id: int) -> PassageRecord:
        """One passage by id."""
        rows = self._rows(
            'SELECT id, report_id, paragraph, kind, start, "end", section, terms, norm FROM passages WHERE id = ?',
            (passage_id,),
        )
        if not rows:
            raise KeyError(passage_id)
        return _passage(rows[0])

    def passage_key(self) -> str:
        """Changes whenever the set of passages does: names a saved index that still fits the database."""
        row = self._rows("SELECT count(*) AS n, coalesce(max(id), 0) AS last, total(id) AS total FROM passages")[0]
        return f"{SCHEMA_VERSION}:{row['n']}:{row['last']}:{int(row['total'])}"

    def passage_places(self) -> list[tuple[int, int, int]]:
        """(id, report id, 1 for body text) of every passage in id order: what the index positions map to.

        Plain tuples from the connection: a start with a saved index reads a million of them."""
        with self._read_lock:
            rows: list[tuple[int, int, int]] = self._reader.conn.execute(
                "SELECT id, report_id, kind = 'body' FROM passages ORDER BY id"
            ).fetchall()
        return rows

    def passage_texts(self, passage_ids: Sequence[int]) -> dict[int, QuotedPassage]:
        """Where each passage is and the text it quotes (its slice of the paragraph), one query per 500 ids.

        Plain tuples from the connection: a mention answer can quote thousands of passages."""
        found: dict[int, QuotedPassage] = {}
        ids = list(dict.fromkeys(passage_ids))
        for at in range(0, len(ids), 500):
            chunk = ids[at : at + 500]
            marks = _marks(chunk)
            with self._read_lock:
                rows = self._reader.conn.execute(
                    'SELECT q.id, q.report_id, q.paragraph, q.section, substr(p.text, q.start + 1, q."end" - q.start)'
                    " FROM passages q JOIN paragraphs p ON p.report_id = q.report_id AND p.number = q.paragraph"
                    f" WHERE q.id IN ({marks})",
                    chunk,
                ).fetchall()
            found.update((int(row[0]), QuotedPassage(*row)) for row in rows)
        return found

    def texts_at(self, places: Sequence[tuple[int, int]]) -> dict[tuple[int, int], str]:
        """The text of each (report id, paragraph number) given, one query per 400 places (joined with the places
        as a table: `(report_id, number) IN (VALUES …)` is answered by scanning every paragraph)."""
        found: dict[tuple[int, int], str] = {}
        for at in range(0, len(places), 400):
            chunk = places[at : at + 400]
            marks = ",".join(["(?, ?)"] * len(chunk))
            with self._read_lock:
                rows = self._reader.conn.execute(
                    f"WITH wanted(report_id, number) AS (VALUES {marks}) SELECT p.report_id, p.number, p.text"
                    " FROM wanted JOIN paragraphs p ON p.report_id = wanted.report_id AND p.number = wanted.number",
                    [value for place in chunk for value in place],
                ).fetchall()
            found.update(((int(r[0]), int(r[1])), str(r[2])) for r in rows)
        return found

    def counts(self) -> dict[str, int]:
        """How many reports, paragraphs and passages are stored."""
        row = self._rows(
            "SELECT (SELECT count(*) FROM reports) AS reports, (SELECT count(*) FROM paragraphs) AS paragraphs,"
            " (SELECT count(*) FROM passages) AS passages"
        )[0]
        return {k: int(v) for k, v in row.items()}

    def save_report(
        self,
        *,
        source: str,
        sha256: str,
        kind: str,
        encoding: str | None,
        structure: ReportStructure,
        passages: Sequence[NewPassage],
        text_fingerprint: str,
        metadata: ReportMetadata | None = None,
        declared_title: str | None = None,
        declared_date: str | None = None,
    ) -> SavedReport:
        """Write a report in one transaction (or a savepoint of the caller's), replacing an earlier version from
        the same source file.

        The title is the structure's; date and unit come from `metadata`. An admin's corrections of the same file
        name are applied over them (and what was read is kept beside them, for `uncorrect`)."""
        chars = sum(len(p.text) for p in structure.paragraphs)
        conn = self.db.conn
        with self.write():
            # Plain cursor calls throughout: sqlite-utils' query() and insert() cost more than these statements.
            old = conn.execute("SELECT id FROM reports WHERE source = ?", (source,)).fetchone()
            removed: list[int] = []
            seq = int(conn.execute(_NEXT_SEQ).fetchone()[0])
            ingested_at = now_iso()
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('report_seq', ?)", (str(seq),))
            read = {
                "title": structure.title,
                "date": metadata.date if metadata else None,
                "unit": metadata.unit if metadata else None,
            }
            card = {**read, **self._corrections(source)}
            ingested_at = now_iso()
            values = (
                source,
                card["title"] or structure.title,
                sha256,
                kind,
                encoding,
                chars,
                len(structure.paragraphs),
                len(passages),
                ingested_at,
                seq,
                text_fingerprint,
                card["date"],
                card["unit"],
                _extracted_json(read, declared_title, declared_date),
            )
            if old:
                report_id = int(old[0])
                removed = [r[0] for r in conn.execute("SELECT id FROM passages WHERE report_id = ?", (report_id,))]
                for table in ("passages", "paragraphs", "sections"):
                    conn.execute(f"DELETE FROM {table} WHERE report_id = ?", (report_id,))
                conn.execute(_UPDATE_REPORT, (*values, report_id))
            else:
                report_id = int(conn.execute(_INSERT_REPORT, values).lastrowid or 0)
            # Passage ids are given here rather than by SQLite so the caller learns them without reading the rows
            # back. Above both the largest id ever given (sqlite_sequence, which AUTOINCREMENT keeps) and the
            # largest present: ids are never reused, as with AUTOINCREMENT itself.
            first = int(conn.execute(_LAST_PASSAGE_ID + " + 1").fetchone()[0])
            conn.executemany(
                "INSERT INTO sections (report_id, idx, level, heading, paragraph) VALUES (?, ?, ?, ?, ?)",
                [(report_id, s.index, s.level, s.heading, s.paragraph) for s in structure.sections],
            )
            conn.executemany(
                "INSERT INTO paragraphs (report_id, number, kind, section_idx, text, part) VALUES (?, ?, ?, ?, ?, ?)",
                [(report_id, p.number, p.kind, p.section_index, p.text, p.part) for p in structure.paragraphs],
            )
            conn.executemany(
                'INSERT INTO passages (id, report_id, paragraph, kind, start, "end", section, terms, norm)'
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (first + i, report_id, p.paragraph, p.kind, p.start, p.end, p.section, p.terms, p.norm)
                    for i, p in enumerate(passages)
                ],
            )
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('last_ingest', ?)", (ingested_at,))
        return SavedReport(
            Report(report_id, *values[:-1]), old is not None, removed, range(first, first + len(passages))
        )

    def delete_report(self, report_id: int) -> list[int]:
        """Remove a report; returns the ids of its passages."""
        with self.write() as db:
            removed = [int(r["id"]) for r in db.query("SELECT id FROM passages WHERE report_id = ?", (report_id,))]
            for table in ("passages", "paragraphs", "sections"):
                db.execute(f"DELETE FROM {table} WHERE report_id = ?", (report_id,))
            db.execute("DELETE FROM reports WHERE id = ?", (report_id,))
        return removed

    # --- corrections of metadata ---------------------------------------------------------------------------

    def _written_report(self, report_id: int | str) -> Report:
        """A report as the writing connection sees it (inside a transaction the reading one sees the last commit)."""
        key = _report_key(report_id)
        cursor = self.db.conn.execute("SELECT * FROM reports WHERE id = ?", (key,))
        row = cursor.fetchone() if key is not None else None
        if row is None:
            raise UnknownReport(str(report_id))
        return _report(dict(zip([c[0] for c in cursor.description], row, strict=True)))

    def _corrections(self, source: str) -> dict[str, str | None]:
        rows = self.db.conn.execute("SELECT field, value FROM corrections WHERE source = ?", (source,)).fetchall()
        return {str(name): value for name, value in rows if name in CORRECTABLE}

    def corrections(self, report_id: int) -> dict[str, str | None]:
        """An admin's corrections of a report's title, date or unit (a value of None: "not known")."""
        report = self.report(report_id)
        with self._lock:
            return self._corrections(report.source)

    def correct(self, report_id: int, values: dict[str, str | None]) -> Report:
        """Correct a report's title, date or unit. Kept by file name apart from what ingest reads, so the
        correction outlives a new version of the file."""
        unknown = set(values) - set(CORRECTABLE)
        if unknown:
            raise ValueError(f"not a correctable field: {', '.join(sorted(unknown))}")
        if values.get("title", "") is None:
            raise ValueError("a report always has a title")
        with self.write() as db:
            report = self._written_report(report_id)
            when = now_iso()
            for name, value in values.items():
                db.execute(
                    "INSERT OR REPLACE INTO corrections (source, field, value, corrected_at) VALUES (?, ?, ?, ?)",
                    (report.source, name, value, when),
                )
                db.execute(_SET_FIELD[name], (value, report.id))
            return self._written_report(report.id)

    def uncorrect(self, report_id: int, fields: Sequence[str]) -> Report:
        """Drop corrections: the fields go back to what ingest read from the file."""
        with self.write() as db:
            report = self._written_report(report_id)
            row = db.conn.execute("SELECT extracted FROM reports WHERE id = ?", (report.id,)).fetchone()
            read = json.loads(row[0]) if row and row[0] else {}
            for name in fields:
                if name not in CORRECTABLE:
                    raise ValueError(f"not a correctable field: {name}")
                db.execute("DELETE FROM corrections WHERE source = ? AND field = ?", (report.source, name))
                if name in read and (read[name] is not None or name != "title"):
                    db.execute(_SET_FIELD[name], (read[name], report.id))
            return self._written_report(report.id)

    def extracted(self, report_id: int) -> dict[str, str | None]:
        """What ingest read (title, date, unit, and the title and day the file format declared), before
        corrections."""
        rows = self._rows("SELECT extracted FROM reports WHERE id = ?", (report_id,))
        if not rows:
            raise UnknownReport(str(report_id))
        value = rows[0]["extracted"]
        return dict(json.loads(value)) if value else {}

    def set_extracted(
        self,
        report_id: int,
        title: str,
        metadata: ReportMetadata,
        declared: str | None,
        declared_date: str | None = None,
    ) -> None:
        """Replace what was read of a report's metadata (a newer reader of the same stored text), corrections
        still applied over it."""
        with self.write() as db:
            report = self._written_report(report_id)
            read = {"title": title, "date": metadata.date, "unit": metadata.unit}
            card = {**read, **self._corrections(report.source)}
            db.execute(
                "UPDATE reports SET title = ?, date = ?, unit = ?, extracted = ? WHERE id = ?",
                (
                    card["title"] or title,
                    card["date"],
                    card["unit"],
                    _extracted_json(read, declared, declared_date),
                    report.id,
                ),
            )

    def report_ends(self, head: int, tail: int) -> Iterator[tuple[Report, list[str]]]:
        """Each report with the texts of its first `head` and last `tail` paragraphs (what metadata is read from),
        in order, without the paragraphs between."""
        for report in self.reports():
            rows = self._rows(
                "SELECT text FROM paragraphs WHERE report_id = ? AND (number <= ? OR number > ?) ORDER BY number",
                (report.id, head, report.paragraph_count - tail),
            )
            yield report, [r["text"] for r in rows]

    # --- subscribers and watches --------------------------------------------------------------------------

    def subscribe(
        self, chat_id: int, language: str, *, last_report_seq: int | None = None, last_passage_id: int | None = None
    ) -> bool:
        """Add a subscriber whose digests start from what is in the store now (unless told otherwise);
        False if the chat already was one."""
        with self.write() as db:
            if list(db.query("SELECT 1 FROM subscribers WHERE chat_id = ?", (chat_id,))):
                return False
            db.table("subscribers").insert(
                {
                    "chat_id": chat_id,
                    "language": language,
                    "subscribed_at": now_iso(),
                    "last_report_seq": _one(db, _LAST_SEQ) if last_report_seq is None else last_report_seq,
                    "last_passage_id": _one(db, _LAST_PASSAGE_ID) if last_passage_id is None else last_passage_id,
                }
            )
            return True

    def unsubscribe(self, chat_id: int) -> bool:
        """Remove a subscriber; False if the chat was not one."""
        with self.write() as db:
            cursor = db.execute("DELETE FROM subscribers WHERE chat_id = ?", (chat_id,))
            return cursor.rowcount > 0

    def subscribers(self) -> list[dict[str, Any]]:
        """Every subscriber row."""
        return self._rows("SELECT * FROM subscribers ORDER BY chat_id")

    def subscriber(self, chat_id: int) -> dict[str, Any] | None:
        """One subscriber row, if the chat is subscribed."""
        rows = self._rows("SELECT * FROM subscribers WHERE chat_id = ?", (chat_id,))
        return rows[0] if rows else None

    def mark_digest_sent(self, chat_id: int, day: str, *, report_seq: int, passage_id: int) -> None:
        """Remember that `day`'s digest reached the chat and what it covered."""
        with self.write() as db:
            db.execute(
                "UPDATE subscribers SET last_digest_day = ?, last_report_seq = ?, last_passage_id = ?"
                " WHERE chat_id = ?",
                (day, report_seq, passage_id, chat_id),
            )

    # --- feedback -----------------------------------------------------------------------------------------

    def add_feedback(
        self,
        *,
        answer_key: str,
        chat_id: int | None,
        user_id: int | None,
        vote: str,
        question: str,
        intent: str,
        shown: str,
    ) -> int:
        """A reader's vote on an answer (`shown`: JSON of what the answer showed); a second press by the same
        reader on the same answer changes the vote. Returns the feedback's id."""
        with self.write() as db:
            db.execute(
                "INSERT INTO feedback (answer_key, at, chat_id, user_id, vote, question, intent, shown)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (answer_key, user_id) DO UPDATE SET vote = excluded.vote, at = excluded.at",
                (answer_key, now_iso(), chat_id, user_id, vote, question, intent, shown),
            )
            row = db.execute(
                "SELECT id FROM feedback WHERE answer_key = ? AND user_id IS ?", (answer_key, user_id)
            ).fetchone()
            return int(row[0])

    def add_feedback_comment(self, feedback_id: int, comment: str) -> bool:
        """What the reader expected, after a 👎; False when that feedback is gone."""
        with self.write() as db:
            return db.execute("UPDATE feedback SET comment = ? WHERE id = ?", (comment, feedback_id)).rowcount > 0

    def feedback(self, since: str | None = None) -> list[dict[str, Any]]:
        """Every feedback (from `since`, an ISO date or time, when given), oldest first."""
        return self._rows(
            "SELECT id, at, chat_id, user_id, vote, question, intent, shown, comment FROM feedback"
            " WHERE at >= ? ORDER BY at, id",
            (since or "",),
        )

    def feedback_counts(self) -> dict[str, int]:
        """👍, 👎 and the comments given with them."""
        row = self._rows(
            "SELECT coalesce(sum(vote = 'up'), 0) AS up, coalesce(sum(vote = 'down'), 0) AS down,"
            " count(comment) AS comments FROM feedback"
        )[0]
        return {k: int(v) for k, v in row.items()}

    def add_watch(self, chat_id: int, term: str) -> bool:
        """Watch a term; False if it already was watched."""
        with self.write() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO watches (chat_id, term, created_at) VALUES (?, ?, ?)",
                (chat_id, term, now_iso()),
            )
            return cursor.rowcount > 0

    def remove_watch(self, chat_id: int, term: str) -> bool:
        """Stop watching a term; False if it was not watched."""
        with self.write() as db:
            return db.execute("DELETE FROM watches WHERE chat_id = ? AND term = ?", (chat_id, term)).rowcount > 0

    def watches(self, chat_id: int) -> list[str]:
        """A chat's watched terms, oldest first."""
        return [
            r["term"]
            for r in self._rows("SELECT term FROM watches WHERE chat_id = ? ORDER BY created_at, term", (chat_id,))
        ]

    def backup(self, destination: Path) -> None:
        """An online backup (sqlite3's backup API): consistent even while the bot is writing."""
        destination.parent.mkdir(parents=True, exist_ok=True)
        target = sqlite3.connect(str(destination))
        try:
            with self._lock:
                self.db.conn.backup(target)
        finally:
            target.close()

    def max_report_seq(self) -> int:
        """The sequence number of the newest ingest (of a report that may have been deleted since)."""
        return int(self._rows(_LAST_SEQ + " AS s")[0]["s"])

    def max_passage_id(self) -> int:
        """The largest passage id ever given (its report may have been deleted since)."""
        return int(self._rows(_LAST_PASSAGE_ID + " AS s")[0]["s"])

    def reports_since(self, seq: int) -> list[Report]:
        """Reports ingested (or replaced) after sequence number `seq`."""
        return [_report(r) for r in self._rows("SELECT * FROM reports WHERE seq > ? ORDER BY seq", (seq,))]


def _file_identity(path: str) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


class InstanceLock:
    """An exclusive lock on `{db}.lock` for as long as a bot process runs on the database (and while `restore`
    replaces it): two bots on one database would send every digest twice, and a restore under a running bot
    leaves it answering with the wrong report's passages."""

    def __init__(self, db: Path | str) -> None:
        self.path = Path(f"{db}.lock")
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock without waiting; False when another process holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def holder(self) -> str:
        """The process id the lock file names (for the message), or "?"."""
        try:
            return self.path.read_text().strip() or "?"
        except OSError:
            return "?"

    def release(self) -> None:
        """Let go (the process's exit does the same)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _one(db: sqlite_utils.Database, sql: str) -> int:
    """The one number a query returns, read inside the caller's transaction."""
    return int(db.execute(sql).fetchone()[0])


SQLITE_MAX_INTEGER = 2**63 - 1


def parse_number(text: str) -> int | None:
    """A number typed by a person or carried in button data: ASCII decimal digits only (`str.isdigit` also takes
    "²", which `int` refuses), and within SQLite's integer range (a longer one raises OverflowError there)."""
    text = text.strip()
    if not text or not text.isascii() or not text.isdecimal() or len(text) > 19:
        return None
    value = int(text)
    return value if value <= SQLITE_MAX_INTEGER else None


def _report_key(report_id: int | str) -> int | None:
    if isinstance(report_id, int):
        return report_id if 0 <= report_id <= SQLITE_MAX_INTEGER else None
    return parse_number(report_id.strip().lstrip("#"))
