"""The passage index: everything kept in memory per passage, with one owner. At each position: the passage id, its
report id, whether it is body text, and whether it is deleted (one mask, the BM25 index's); over the same positions
the BM25 index and the mention finder. Questions read it under its lock; changes go through a `PassageWriter`
(`PassageIndex.writer()`, as tantivy's `Index.writer()`), applied by `commit`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import numpy as np
import numpy.typing as npt

from .arrays import IntArray
from .bm25 import Bm25Index, Bm25Params, Tuning
from .mentions import MentionFinder, MentionTuning
from .store import NewPassage, PassageRecord, Report

# While a writer holds many changes (a folder being ingested), it applies them in steps: whenever the held passages
# reach half the index, or this many. Few steps because each costs the BM25 index a new segment; steps at all so
# that the work overlaps with preparing the files that follow.
STEP_MIN_PASSAGES = 4096


@dataclass
class _Changes:
    """Changes held by a writer: passages written to the store and not yet in the index, passages deleted."""

    removed: list[int] = field(default_factory=list)  # ids of passages deleted from the store
    passage_ids: list[int] = field(default_factory=list)
    report_ids: list[int] = field(default_factory=list)
    passages: list[NewPassage] = field(default_factory=list)
    reports: dict[int, Report | None] = field(default_factory=dict)  # as written; None: deleted


class Places:
    """Position -> passage id, report id and whether it is body text: parallel numpy arrays (compact at a million
    passages) with spare room, so adding a report costs its own passages, not the whole corpus."""

    def __init__(self) -> None:
        self._passage_ids = np.empty(0, dtype=np.int64)
        self._report_ids = np.empty(0, dtype=np.int64)
        self._is_body = np.empty(0, dtype=np.bool_)
        self.size = 0
        # runs of equal report ids (report id, first position, end): a report's passages are added together, so a
        # scope of a few reports is a few ranges; computed with the first scoped question after a change
        self._runs: tuple[IntArray, IntArray, IntArray] | None = None

    @property
    def passage_ids(self) -> IntArray:
        """Passage id at each position: ascending, since passages are added in id order."""
        return self._passage_ids[: self.size]

    @property
    def report_ids(self) -> IntArray:
        return self._report_ids[: self.size]

    @property
    def is_body(self) -> npt.NDArray[np.bool_]:
        return self._is_body[: self.size]

    def extend(self, passage_ids: npt.ArrayLike, report_ids: npt.ArrayLike, is_body: npt.ArrayLike) -> None:
        passage_ids = np.asarray(passage_ids, dtype=np.int64)
        end = self.size + passage_ids.size
        if end > self._passage_ids.size:
            room = max(end, 2 * self._passage_ids.size)
            self._passage_ids = np.resize(self._passage_ids, room)
            self._report_ids = np.resize(self._report_ids, room)
            self._is_body = np.resize(self._is_body, room)
        self._passage_ids[self.size : end] = passage_ids
        self._report_ids[self.size : end] = report_ids
        self._is_body[self.size : end] = is_body
        self.size = end
        self._runs = None

    def of_reports(self, report_ids: Iterable[int]) -> IntArray:
        """The positions (ascending) of the passages of these reports, deleted ones included."""
        if self._runs is None:
            ids = self.report_ids
            heads = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]) if self.size else np.empty(0, dtype=np.int64)
            self._runs = ids[heads], heads, np.append(heads[1:], self.size).astype(np.int64)
        run_ids, starts, stops = self._runs
        wanted = np.isin(run_ids, np.fromiter(report_ids, dtype=np.int64))
        starts, lengths = starts[wanted], stops[wanted] - starts[wanted]
        if not lengths.size:
            return np.empty(0, dtype=np.int64)
        # the ranges laid end to end: each run's start, shifted by where it begins in the output, plus 0..total
        offsets = np.repeat(starts - np.r_[0, np.cumsum(lengths)[:-1]], lengths)
        return offsets + np.arange(int(lengths.sum()), dtype=np.int64)


class PassageIndex:
    """Passages by position (see the module docstring). Passages are added in id order, so positions ascend with
    passage ids; a deleted passage keeps its position (masked) until the index is built again."""

    def __init__(
        self,
        params: Bm25Params | None = None,
        tuning: Tuning | None = None,
        mention_tuning: MentionTuning | None = None,
    ) -> None:
        self.params = params or Bm25Params()  # rank-bm25's k1, b, epsilon: they change scores
        self.tuning = tuning or Tuning()  # the BM25 index's thresholds: they change only speed and memory
        self.mention_tuning = mention_tuning or MentionTuning()
        self.lock = threading.RLock()  # questions and commits; the library's report map changes under it too
        self.bm25 = Bm25Index(self.params, self.tuning)
        self.mentions = MentionFinder(self.mention_tuning)
        self.places = Places()
        self._writers = 0  # writers inside their `with` block

    # --- building, saving, loading ------------------------------------------------------------------------

    def build(self, records: Sequence[PassageRecord]) -> None:
        """Index these stored passages (in id order) from scratch."""
        with self.lock:
            self.bm25 = Bm25Index.build([r.terms for r in records], self.params, self.tuning)
            self.mentions = MentionFinder(self.mention_tuning)
            self.mentions.add([r.norm for r in records])
            self.places = Places()
            self.places.extend(
                [r.id for r in records], [r.report_id for r in records], [r.kind == "body" for r in records]
            )

    def load(self, directory: Path, places: Sequence[tuple[int, int, int]]) -> None:
        """The indexes saved in `directory` by `save`, for the stored passages' (id, report id, is body) `places`
        in id order. Raises what loading raises (bm25.SavedIndexMismatch for another format or parameters)."""
        bm25 = Bm25Index.load(directory / "bm25.npz", self.params, self.tuning)
        mentions = MentionFinder.load(directory / "mentions.npz", self.mention_tuning)
        rows = np.array(places, dtype=np.int64).reshape(-1, 3)
        with self.lock:
            self.bm25, self.mentions = bm25, mentions
            self.places = Places()
            self.places.extend(rows[:, 0], rows[:, 1], rows[:, 2].astype(np.bool_))

    def save(self, directory: Path) -> list[Path]:
        """Write the indexes to `directory` (only an index without deleted passages lines up with the store when
        loaded: see `has_deleted`); returns the files written, all that `load` reads."""
        with self.lock:
            self.bm25.save(directory / "bm25.npz")
            return [directory / "bm25.npz", *self.mentions.save(directory / "mentions.npz")]

    @property
    def writing(self) -> bool:
        """Whether a writer's `with` block is open: changes may be held back from the index."""
        return self._writers > 0

    @property
    def has_deleted(self) -> bool:
        """Whether some positions hold deleted passages."""
        return self.bm25.live_count != self.size

    # --- per position -------------------------------------------------------------------------------------

    @property
    def passage_ids(self) -> IntArray:
        """Passage id at each position: ascending, since passages are added in id order."""
        return self.places.passage_ids

    @property
    def report_ids(self) -> IntArray:
        return self.places.report_ids

    @property
    def is_body(self) -> npt.NDArray[np.bool_]:
        return self.places.is_body

    @property
    def size(self) -> int:
        return self.places.size

    @property
    def alive(self) -> npt.NDArray[np.bool_]:
        """Whether each position's passage is still there (the deletion mask)."""
        return self.bm25.alive

    def of_reports(self, report_ids: Iterable[int]) -> IntArray:
        """The positions (ascending) of the passages of these reports, deleted ones included."""
        return self.places.of_reports(report_ids)

    def containing(self, needle: str, *, read_text: bool = False) -> tuple[IntArray, IntArray]:
        """Positions of the live passages whose normalised text contains `needle`, ascending, and the number of
        occurrences in each (`read_text`: see MentionFinder.find_counts)."""
        positions, counts = self.mentions.find_counts(needle, read_text=read_text)
        if self.has_deleted:
            live = self.alive[positions]
            positions, counts = positions[live], counts[live]
        return positions, counts

    def live_positions(self) -> IntArray:
        """Positions of the passages not deleted."""
        return np.flatnonzero(self.alive)

    def warm(self) -> None:
        """Load a large index's compiled loops before the first question waits for them."""
        with self.lock:
            self.bm25.warm()
            self.mentions.warm()

    # --- writing ------------------------------------------------------------------------------------------

    def writer(self, on_commit: Callable[[Mapping[int, Report | None]], None] | None = None) -> PassageWriter:
        """A writer for reports written to or deleted from the store; `on_commit` is told which reports each
        commit brought in (None: deleted), under the index's lock, as their passages become visible."""
        return PassageWriter(self, on_commit)

    def _apply(self, changes: _Changes, on_commit: Callable[[Mapping[int, Report | None]], None] | None) -> None:
        """Bring the index up to date with changes written to the store. New passages come from what was
        written, not from reading the store back: the same terms, split the same way (`PassageRecord` splits the
        stored string too)."""
        added = changes.passages
        passage_ids = np.asarray(changes.passage_ids, dtype=np.int64)
        report_ids = changes.report_ids
        if changes.removed and added:
            # passages written and replaced before one commit never reach the index
            keep = np.isin(passage_ids, np.asarray(changes.removed, dtype=np.int64), invert=True)
            if not keep.all():
                added = [p for p, k in zip(added, keep.tolist(), strict=True) if k]
                report_ids = np.asarray(report_ids, dtype=np.int64)[keep].tolist()
                passage_ids = passage_ids[keep]
        with self.lock:
            if changes.removed:
                known_ids = self.passage_ids
                wanted = np.asarray(changes.removed, dtype=np.int64)
                positions = np.searchsorted(known_ids, wanted)
                known = positions < known_ids.size
                known[known] = known_ids[positions[known]] == wanted[known]
                self.bm25.remove(positions[known].tolist())
            if added:
                self.bm25.add([p.terms.split() for p in added])
                self.mentions.add([p.norm for p in added])
                self.places.extend(passage_ids, report_ids, [p.kind == "body" for p in added])
            if changes.reports and on_commit is not None:
                on_commit(changes.reports)


class PassageWriter:
    """Reports written to or deleted from the store, held until `commit` puts them into the passage index (in
    steps meanwhile when they are many: `step`). As a context manager it commits when the block ends, also when
    it ends with an error: what the store committed must be found."""

    def __init__(
        self, index: PassageIndex, on_commit: Callable[[Mapping[int, Report | None]], None] | None = None
    ) -> None:
        self.index = index
        self.on_commit = on_commit
        self._changes = _Changes()

    def add_report(self, report: Report, passage_ids: Sequence[int], passages: Sequence[NewPassage]) -> None:
        """A report written with these passages (ids ascending, after every id in the index)."""
        changes = self._changes
        changes.passage_ids.extend(passage_ids)
        changes.report_ids.extend([report.id] * len(passage_ids))
        changes.passages.extend(passages)
        changes.reports[report.id] = report

    def remove_passages(self, passage_ids: Sequence[int]) -> None:
        """Passages deleted from the store (those of a replaced report's old version)."""
        self._changes.removed.extend(passage_ids)

    def delete_report(self, report_id: int, passage_ids: Sequence[int]) -> None:
        """A report deleted from the store, with its passages."""
        self._changes.removed.extend(passage_ids)
        self._changes.reports[report_id] = None

    @property
    def held(self) -> int:
        """Passages written and not committed yet."""
        return len(self._changes.passages)

    def step(self) -> None:
        """Commit when the held passages reach half the index (or STEP_MIN_PASSAGES); questions meanwhile see
        the index before or part of what this writer holds."""
        if self.held >= max(STEP_MIN_PASSAGES, self.index.size // 2):
            self.commit()

    def commit(self) -> None:
        """Put everything held into the index."""
        changes, self._changes = self._changes, _Changes()
        if changes.removed or changes.passages or changes.reports:
            self.index._apply(changes, self.on_commit)

    def __enter__(self) -> PassageWriter:
        self.index._writers += 1
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.index._writers -= 1
        self.commit()
