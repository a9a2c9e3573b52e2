"""The mention finder: exact, complete substring search over normalised passages.

The passages of a large group (added together) are kept as UTF-16 code units (NUL after
each) with a positional index of character bigrams (positions per bigram, delta-coded in 16 bits). A query
merges the position lists of bigrams covering the needle (offsets 0, 2, 4, ... and the last), rarest first; a
single character counts the lists of all bigrams starting with it. Its cost follows the number of positions of
those bigrams, not the size of the corpus; the loops are compiled (retrieval/kernels.py, numba, loaded with the
first question to an indexed chunk; numpy passes without it: retrieval/loops.py). Questions never read the text, so
a saved finder maps it from its file instead of loading it (it is read to rebuild chunks and for `text`); only
copies (`read_text`), which looks up hundreds of phrases of common words, compares the rarest bigram's positions
with the text when the other bigrams' lists are far longer, reading those pages. Small groups (a report added later) are
scanned with `str.find` until enough of them are folded into an indexed chunk. The finder knows nothing of
deletions: the passage index (retrieval/passages.py) keeps the one deletion mask and drops deleted passages.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .arrays import IntArray, decode_strings, encode_strings, ptr, replace
from .loops import loops


@dataclass(frozen=True)
class MentionTuning:
    """Thresholds of the finder's structures (they never change an answer). Tests and the benchmark turn them down
    so that small texts take the paths of a large library."""

    index_min_units: int = 1 << 16  # a group of at least this many code units gets a bigram index; smaller: scanned
    merge_chunks: int = 16  # small chunks allowed after the first before they are folded into one


_MAX_CHUNK_UNITS = (1 << 32) - 1  # positions are stored in 32 bits
_READ_TEXT_AFTER = 8  # read_text: candidates are compared with the text once the other lists hold 8 times as many
_PASSAGE_SHIFT = 6  # passage lookup: a table entry and a 64-bit word of the NUL bitmap per 64 code units


def _units(text: str) -> npt.NDArray[np.uint16]:
    return np.frombuffer(text.encode("utf-16-le", "surrogatepass"), dtype=np.uint16)


def _has_border(needle: npt.NDArray[np.uint16]) -> bool:
    """True when a proper prefix of the needle is also a suffix (occurrences can overlap)."""
    units = needle.tobytes()
    return any(units[: 2 * i] == units[-2 * i :] for i in range(1, needle.size))


def _run_counts(sorted_ids: npt.NDArray[np.integer[Any]]) -> tuple[IntArray, IntArray]:
    if sorted_ids.size == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    new = np.empty(sorted_ids.size, dtype=np.bool_)
    new[0] = True
    np.not_equal(sorted_ids[1:], sorted_ids[:-1], out=new[1:])
    heads = np.flatnonzero(new)
    return sorted_ids[heads].astype(np.int64, copy=False), np.diff(heads, append=sorted_ids.size)


class _ScanChunk:
    """A small group of passages: one string with NUL separators, scanned with str.find."""

    def __init__(self, first: int, texts: Sequence[str]) -> None:
        self.first = first
        self.count = len(texts)
        lengths = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=len(texts))
        self.starts = ptr(lengths)
        self.joined = "\x00".join(texts) + "\x00"

    def text(self, i: int) -> str:
        return self.joined[int(self.starts[i]) : int(self.starts[i + 1]) - 1]

    def find(
        self, term: str, needle: npt.NDArray[np.uint16], border: bool, read_text: bool
    ) -> tuple[IntArray, IntArray]:
        hits: list[int] = []
        text = self.joined
        step = len(term)
        at = text.find(term)
        while at != -1:
            hits.append(at)
            at = text.find(term, at + step)
        if not hits:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        local = np.searchsorted(self.starts, np.asarray(hits, dtype=np.int64), side="right") - 1
        return _run_counts(local)

    def nbytes(self) -> int:
        return len(self.joined) * 2 + int(self.starts.nbytes)


class _IndexedChunk:
    """A large group of passages: UTF-16 code units (NUL after each passage) and a positional bigram index over them."""

    def __init__(self, first: int, arrays: dict[str, npt.NDArray[Any]]) -> None:
        self.first = first
        self.units: npt.NDArray[np.uint16] = arrays["units"]  # the passages, a NUL after each
        self.starts: npt.NDArray[np.uint32] = arrays["starts"]  # count + 1 entries, the last one where the text ends
        self.count = int(self.starts.size - 1)
        self.keys: npt.NDArray[np.uint32] = arrays["keys"]  # bigram (first unit << 16 | second), sorted
        self.ptr: IntArray = arrays["ptr"]  # bigram -> range in deltas
        self.heads: npt.NDArray[np.uint32] = arrays["heads"]  # first position of each bigram
        self.deltas: npt.NDArray[np.uint16] = arrays["deltas"]  # gaps between positions; 0 where a gap is big
        self.big_at: npt.NDArray[np.uint32] = arrays["big_at"]  # indexes into deltas of the gaps of 65536 or more
        self.big: npt.NDArray[np.uint32] = arrays["big"]
        self.table: npt.NDArray[np.int32] = arrays["table"]  # passage holding code unit i << _PASSAGE_SHIFT
        self.nul_bits: npt.NDArray[np.uint64] = arrays["nul_bits"]  # bit i % 64 of word i // 64: unit i is a NUL

    @classmethod
    def build(cls, first: int, texts: Sequence[str]) -> _IndexedChunk:
        joined = "\x00".join(texts) + "\x00"
        units = _units(joined)
        if units.size == len(joined):
            lengths = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=len(texts))
        else:  # characters outside the BMP take two code units
            lengths = np.fromiter((_units(t).size + 1 for t in texts), dtype=np.int64, count=len(texts))
        del joined
        starts = ptr(lengths)
        n = int(starts[-1])
        key = units[: n - 1].astype(np.uint64)
        key <<= np.uint64(16)
        key |= units[1:n]
        key <<= np.uint64(32)
        key |= np.arange(n - 1, dtype=np.uint64)
        key.sort()
        key = key[np.searchsorted(key, np.uint64(1 << 48)) :]  # bigrams starting with NUL are not indexed
        bigram = (key >> np.uint64(32)).astype(np.uint32)
        positions = (key & np.uint64(0xFFFFFFFF)).astype(np.uint32)
        del key
        if bigram.size:
            heads = np.concatenate([np.zeros(1, dtype=np.int64), np.flatnonzero(bigram[1:] != bigram[:-1]) + 1])
        else:
            heads = np.zeros(0, dtype=np.int64)
        keys = bigram[heads]
        del bigram
        gaps = np.empty(positions.size, dtype=np.uint32)
        if positions.size:
            gaps[0] = 0
            np.subtract(positions[1:], positions[:-1], out=gaps[1:])
            gaps[heads] = 0
        big_at = np.flatnonzero(gaps > 0xFFFF)
        big = gaps[big_at]
        deltas = gaps.astype(np.uint16)
        deltas[big_at] = 0
        del gaps
        table = (np.searchsorted(starts, np.arange(0, n, 1 << _PASSAGE_SHIFT), side="right") - 1).astype(np.int32)
        nul_bits = np.packbits(units == 0, bitorder="little")
        return cls(
            first,
            {
                "units": units,
                "starts": starts.astype(np.uint32),
                "keys": keys,
                "ptr": np.append(heads, positions.size).astype(np.int64),
                "heads": positions[heads],
                "deltas": deltas,
                "big_at": big_at.astype(np.uint32),
                "big": big,
                "table": table,
                "nul_bits": np.append(nul_bits, np.zeros(-nul_bits.size % 8, dtype=np.uint8)).view("<u8"),
            },
        )

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        return {
            "units": self.units,
            "starts": self.starts,
            "keys": self.keys,
            "ptr": self.ptr,
            "heads": self.heads,
            "deltas": self.deltas,
            "big_at": self.big_at,
            "big": self.big,
            "table": self.table,
            "nul_bits": self.nul_bits,
        }

    def nbytes(self) -> int:
        return sum(int(a.nbytes) for a in self.arrays().values())

    def text(self, i: int) -> str:
        lo, hi = int(self.starts[i]), int(self.starts[i + 1]) - 1
        return self.units[lo:hi].tobytes().decode("utf-16-le", "surrogatepass")

    def find(
        self, term: str, needle: npt.NDArray[np.uint16], border: bool, read_text: bool
    ) -> tuple[IntArray, IntArray]:
        kernels = loops()  # numba loads with the first question to an indexed chunk (not while ingesting)
        empty = np.empty(0, dtype=np.int64)
        m = needle.size
        if m == 1:
            c = int(needle[0])
            lo, hi = (int(x) for x in np.searchsorted(self.keys, (c << 16, (c + 1) << 16)))
            if lo == hi:
                return empty, empty
            # Buffers come from numpy, which asks for huge pages for large ones: page faults are most of the cost
            # of a fresh 8 MB array otherwise.
            at = np.empty(int(self.ptr[hi] - self.ptr[lo]), dtype=np.int64)
            kernels.unit_positions(self.deltas, self.big_at, self.big, self.ptr, self.heads, lo, hi, at)
            if at.size * 8 < self.count:  # few: their passages, sorted
                kernels.to_passages(self.table, self.nul_bits, at, at.size)
                at.sort()
                counts = np.empty_like(at)
                r = kernels.run_lengths(at, at.size, counts)
                return at[:r], counts[:r]
            found = np.empty(self.count, dtype=np.int64)
            counts = np.empty(self.count, dtype=np.int64)
            per_passage = np.zeros(self.count, dtype=np.int32)
            r = kernels.tally(self.table, self.nul_bits, self.ptr, lo, hi, at, per_passage, found, counts)
            return found[:r], counts[:r]
        pairs = (needle[:-1].astype(np.uint32) << 16) | needle[1:]
        where = np.searchsorted(self.keys, pairs)
        if (where >= self.keys.size).any() or (self.keys[np.minimum(where, self.keys.size - 1)] != pairs).any():
            return empty, empty
        sizes = self.ptr[where + 1] - self.ptr[where]
        rarest = int(np.argmin(sizes))  # of every bigram of the needle
        if read_text and int(sizes.sum()) > (_READ_TEXT_AFTER + 1) * int(sizes[rarest]):
            # the rarest bigram's positions, each compared with the text (see kernels.verified)
            found, counts = np.empty(int(sizes[rarest]), dtype=np.int64), np.empty(int(sizes[rarest]), dtype=np.int64)
            r = kernels.verified(
                self.table,
                self.nul_bits,
                self.deltas,
                self.big_at,
                self.big,
                self.ptr,
                self.heads,
                int(where[rarest]),
                rarest,
                self.units,
                needle,
                border,
                found,
                counts,
            )
            return found[:r], counts[:r]
        # bigrams at offsets 0, 2, 4, ... and the last one cover every unit: their positions, merged, are the
        # occurrences (see kernels.occurrences)
        offsets = sorted({*range(0, m - 1, 2), m - 2}, key=lambda o: (int(sizes[o]), o))
        cover = np.array([[int(where[o]), o] for o in offsets], dtype=np.int64)
        first = int(sizes[offsets[0]])
        found, counts = np.empty(first, dtype=np.int64), np.empty(first, dtype=np.int64)
        scratch = np.empty(max((int(sizes[o]) for o in offsets[1:]), default=0), dtype=np.int64)
        r = kernels.occurrences(
            self.table,
            self.nul_bits,
            self.deltas,
            self.big_at,
            self.big,
            self.ptr,
            self.heads,
            cover,
            m,
            border,
            found,
            scratch,
            counts,
        )
        return found[:r], counts[:r]


_Chunk = _ScanChunk | _IndexedChunk


class MentionFinder:
    """Exact, complete substring search over normalised passage texts (see the module docstring)."""

    def __init__(self, tuning: MentionTuning | None = None) -> None:
        self.tuning = tuning or MentionTuning()
        self._chunks: list[_Chunk] = []
        self.size = 0

    def add(self, texts: Sequence[str]) -> None:
        """Append normalised passage texts at the next positions."""
        if not texts:
            return
        self._append(self.size, texts)
        self.size += len(texts)
        if len(self._chunks) > self.tuning.merge_chunks + 1:
            self._merge_tail()

    def _append(self, first: int, texts: Sequence[str]) -> None:
        units = sum(len(t) + 1 for t in texts)
        if units < self.tuning.index_min_units:
            self._chunks.append(_ScanChunk(first, texts))
            return
        if 2 * units > _MAX_CHUNK_UNITS and len(texts) > 1:  # keep positions within 32 bits
            half = len(texts) // 2
            self._append(first, texts[:half])
            self._append(first + half, texts[half:])
            return
        self._chunks.append(_IndexedChunk.build(first, texts))

    def _merge_tail(self) -> None:
        """Fold the chunks after the first into one (indexed once it is large enough)."""
        tail = self._chunks[1:]
        texts = [chunk.text(i) for chunk in tail for i in range(chunk.count)]
        self._chunks = self._chunks[:1]
        self._append(tail[0].first, texts)

    def _chunk_of(self, position: int) -> _Chunk:
        for chunk in reversed(self._chunks):
            if position >= chunk.first:
                if position - chunk.first >= chunk.count:
                    break
                return chunk
        raise IndexError(position)

    def text(self, position: int) -> str:
        """The normalised text of one passage."""
        chunk = self._chunk_of(position)
        return chunk.text(position - chunk.first)

    def find_counts(self, term: str, *, read_text: bool = False) -> tuple[IntArray, IntArray]:
        """Positions containing `term` (normalised) in ascending order, and the number of occurrences in each
        (non-overlapping, counted left to right like str.count). With `read_text`, candidates are compared with the
        text once that is cheaper than merging the other bigrams' lists (a phrase of common words): faster, but the
        pages of the text around them are read (a saved finder maps its text: they become resident)."""
        empty = np.empty(0, dtype=np.int64)
        if not term or "\x00" in term:
            return empty, empty
        needle = _units(term)
        border = _has_border(needle)
        positions: list[IntArray] = []
        counts: list[IntArray] = []
        for chunk in self._chunks:
            local, n = chunk.find(term, needle, border, read_text)
            if local.size:
                positions.append(local + chunk.first if chunk.first else local)
                counts.append(n)
        if len(positions) < 2:
            pos, cnt = (positions[0], counts[0]) if positions else (empty, empty)
        else:
            pos, cnt = np.concatenate(positions), np.concatenate(counts)
        return pos, cnt

    def warm(self) -> None:
        """Load the compiled loops (compiling them if numba's cache has none) before a first question waits for
        them: a few questions to the first indexed chunk. Nothing for a finder without one."""
        for chunk in self._chunks:
            if isinstance(chunk, _IndexedChunk) and chunk.keys.size:
                sizes = np.diff(chunk.ptr)
                for key in (int(chunk.keys[0]), int(chunk.keys[int(np.argmax(sizes))])):
                    chunk.find("", np.array([key >> 16], dtype=np.uint16), False, False)
                    chunk.find("", np.array([key >> 16, key & 0xFFFF], dtype=np.uint16), False, False)
                return

    def find(self, term: str) -> dict[int, int]:
        """Every passage position containing `term` (normalised), with its number of occurrences."""
        positions, counts = self.find_counts(term)
        return dict(zip(positions.tolist(), counts.tolist(), strict=True))

    def nbytes(self) -> int:
        """Bytes held by the texts and the index."""
        return sum(chunk.nbytes() for chunk in self._chunks)

    # --- persistence --------------------------------------------------------------------------------------

    def save(self, path: Path) -> list[Path]:
        """Write the texts and the index to `path` (.npz), the code units of each indexed chunk to a .npy file next
        to it (`_units_path`); returns the files written. Every file is written aside and moved into place, so a
        finder loaded from an earlier save, whose code units are mapped from those files, keeps reading the old
        ones."""
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, npt.NDArray[Any]] = {}
        kinds = []
        written = [path]
        for i, chunk in enumerate(self._chunks):
            if isinstance(chunk, _IndexedChunk):
                kinds.append(["indexed", chunk.first])
                for key, value in chunk.arrays().items():
                    if key == "units":
                        written.append(_units_path(path, i))
                        replace(written[-1], value)
                    else:
                        arrays[f"c{i}_{key}"] = value
            else:
                kinds.append(["scan", chunk.first])
                for key, value in encode_strings([chunk.text(j) for j in range(chunk.count)]).items():
                    arrays[f"c{i}_{key}"] = value
        arrays["meta"] = np.array([json.dumps({"size": self.size, "chunks": kinds})])
        replace(path, arrays)
        return written

    @classmethod
    def load(cls, path: Path, tuning: MentionTuning | None = None) -> MentionFinder:
        """A finder written by `save`. The code units of indexed chunks are mapped from their files, not read: a
        question reads none of them (see kernels.occurrences), so they take no memory until `text` or a rebuild
        needs them."""
        finder = cls(tuning)
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        meta = json.loads(str(arrays["meta"][0]))
        for i, (kind, first) in enumerate(meta["chunks"]):
            part = {k.split("_", 1)[1]: v for k, v in arrays.items() if k.startswith(f"c{i}_")}
            if kind == "indexed":
                part["units"] = np.load(_units_path(path, i), mmap_mode="r", allow_pickle=False)
                finder._chunks.append(_IndexedChunk(int(first), part))
            else:
                finder._chunks.append(_ScanChunk(int(first), decode_strings(part["blob"], part["lengths"])))
        finder.size = int(meta["size"])
        return finder


def _units_path(path: Path, chunk: int) -> Path:
    return path.with_name(f"{path.name}.c{chunk}.units.npy")
