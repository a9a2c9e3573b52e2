"""The BM25 index: documents added and removed as term lists, corpus statistics kept for rank-bm25's formula,
questions answered by the top-k strategies (`topk`) over a snapshot of the postings, saved to and loaded from one
.npz file that records its format and BM25 parameters."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..arrays import FloatArray, IntArray, decode_strings, encode_strings, replace
from . import scoring, topk
from .params import Bm25Params, Tuning
from .segments import EMPTY_DOCS, Postings, Segment, segment_from_triples
from .topk import Scratch

# 2: the format and the BM25 parameters recorded (an index saved before them has neither and is rebuilt)
FORMAT_VERSION = 2


class SavedIndexMismatch(ValueError):
    """A saved index of another format, or built with other BM25 parameters: it must be rebuilt."""


@dataclass
class Bm25Index:
    """BM25 Okapi over documents given as term lists; documents are addressed by position (0, 1, 2, …)."""

    params: Bm25Params = field(default_factory=Bm25Params)
    tuning: Tuning = field(default_factory=Tuning)
    vocabulary: dict[str, int] = field(default_factory=dict)
    _segments: list[Segment] = field(default_factory=list)
    _doc_len: FloatArray = field(default_factory=lambda: np.empty(0, dtype=np.float64))
    _alive: npt.NDArray[np.bool_] = field(default_factory=lambda: np.empty(0, dtype=np.bool_))
    _df: IntArray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    _live: int = 0  # documents not deleted
    _live_length: int = 0  # their total length
    _norm: FloatArray | None = None  # k1 * (1 - b + b * dl / avgdl) per position
    _average_idf: float | None = None
    scratch: Scratch = field(default_factory=Scratch)

    @classmethod
    def build(
        cls, documents: Sequence[Sequence[str]], params: Bm25Params | None = None, tuning: Tuning | None = None
    ) -> Bm25Index:
        """An index of `documents` (each a list of terms), positions 0..len-1."""
        index = cls(params or Bm25Params(), tuning or Tuning())
        index.add(documents)
        return index

    @property
    def size(self) -> int:
        """Positions allocated, deleted ones included."""
        return int(self._doc_len.size)

    @property
    def alive(self) -> npt.NDArray[np.bool_]:
        """Whether each position's document is still there (not removed)."""
        return self._alive

    @property
    def live_count(self) -> int:
        """Documents not deleted: rank-bm25's corpus_size."""
        return self._live

    def posting_count(self) -> int:
        """Postings stored (deleted documents included), impact copies not counted."""
        return sum(int(s.docs.size) for s in self._segments)

    def nbytes(self) -> int:
        """Bytes held in arrays (the vocabulary dict not included)."""
        arrays = (self._doc_len, self._alive, self._df, self.scratch.mark)
        norm = 0 if self._norm is None else int(self._norm.nbytes)
        return sum(s.nbytes() for s in self._segments) + sum(int(a.nbytes) for a in arrays) + norm

    # --- building -----------------------------------------------------------------------------------------

    def _term_ids(self, documents: Sequence[Sequence[str]], total: int) -> npt.NDArray[np.int32]:
        """Term ids of every token, new terms numbered in order of first appearance (rank-bm25's order)."""
        vocab = self.vocabulary
        for term in dict.fromkeys(itertools.chain.from_iterable(documents)):
            if term not in vocab:
                vocab[term] = len(vocab)
        return np.fromiter(
            map(vocab.__getitem__, itertools.chain.from_iterable(documents)), dtype=np.int32, count=total
        )

    def add(self, documents: Sequence[Sequence[str]]) -> range:
        """Append documents; returns their positions. Visible to the next query."""
        start = self.size
        n = len(documents)
        if n == 0:
            return range(start, start)
        lengths = np.fromiter((len(d) for d in documents), dtype=np.int64, count=n)
        total = int(lengths.sum())
        term_ids = self._term_ids(documents, total)
        vocab_size = len(self.vocabulary)
        self._doc_len = np.concatenate([self._doc_len, lengths.astype(np.float64)])
        self._alive = np.concatenate([self._alive, np.ones(n, dtype=np.bool_)])
        self._live += n
        self._live_length += total
        self._invalidate()
        local = np.repeat(np.arange(n, dtype=np.int64), lengths)
        key = term_ids.astype(np.int64) * n + local
        del local, term_ids
        key.sort()
        if key.size:
            heads = np.flatnonzero(np.diff(key)) + 1
            heads = np.concatenate([np.zeros(1, dtype=np.int64), heads])
            tfs = np.diff(np.append(heads, key.size))
            unique = key[heads]
            del key, heads
            terms = unique // n
            docs = (unique % n + start).astype(np.int32)
            del unique
        else:
            terms, docs, tfs = (np.empty(0, dtype=np.int64), EMPTY_DOCS, np.empty(0, dtype=np.int64))
        segment = segment_from_triples(
            start, start + n, terms, docs, tfs, vocab_size, self._doc_len, self._avgdl(), self.params, self.tuning
        )
        self._segments.append(segment)
        df = np.zeros(vocab_size, dtype=np.int64)
        df[: self._df.size] = self._df
        df += np.diff(segment.indptr)
        self._df = df
        if len(self._segments) > self.tuning.merge_segments + 1:
            self._merge_tail()
        return range(start, self.size)

    def remove(self, positions: Sequence[int]) -> None:
        """Delete documents: they stop counting in N, avgdl and document frequencies, and never match."""
        if not len(positions):
            return
        pos = np.unique(np.asarray(positions, dtype=np.int64))
        pos = pos[self._alive[pos]]
        if pos.size == 0:
            return
        self._alive[pos] = False
        self._live -= int(pos.size)
        self._live_length -= int(self._doc_len[pos].sum())
        dead = np.zeros(self.size, dtype=np.bool_)
        dead[pos] = True
        lowest, highest = int(pos[0]), int(pos[-1])
        for segment in self._segments:
            if segment.stop <= lowest or segment.start > highest or segment.docs.size == 0:
                continue
            hit = np.flatnonzero(dead[segment.docs])
            if hit.size:
                term_of_hit = np.searchsorted(segment.indptr, hit, side="right") - 1
                counts = np.bincount(term_of_hit, minlength=segment.indptr.size - 1)
                self._df[: counts.size] -= counts
        self._invalidate()

    def _merge_tail(self) -> None:
        """Fold the segments after the first into one (with impact copies) so a query visits few segments."""
        tail = self._segments[1:]
        vocab_size = len(self.vocabulary)
        terms = np.concatenate([np.repeat(np.arange(s.indptr.size - 1), np.diff(s.indptr)) for s in tail])
        docs = np.concatenate([s.docs for s in tail])
        tfs = np.concatenate([s.tfs.astype(np.int64) for s in tail])
        order = np.lexsort((docs, terms))
        merged = segment_from_triples(
            tail[0].start,
            tail[-1].stop,
            terms[order],
            docs[order],
            tfs[order],
            vocab_size,
            self._doc_len,
            self._avgdl(),
            self.params,
            self.tuning,
        )
        self._segments = [self._segments[0], merged]

    # --- statistics ---------------------------------------------------------------------------------------

    def _invalidate(self) -> None:
        self._norm = None
        self._average_idf = None

    def _avgdl(self) -> float:
        """rank-bm25's avgdl, or 1.0 when the live documents hold no term (none, or only empty ones: rank-bm25
        cannot index such a corpus, and no live document can score). Never 0: norms divide by it, and so do the
        impact bounds of a segment built at it (`topk.top`'s drift)."""
        return self._live_length / self._live if self._live_length else 1.0

    def _norms(self) -> FloatArray:
        """k1 * (1 - b + b * dl / avgdl) per position, as rank-bm25 computes it."""
        if self._norm is None:
            self._norm = scoring.norms(self._doc_len, self._avgdl(), self.params)
        return self._norm

    def _mean_idf(self) -> float:
        """rank-bm25's average_idf: the mean raw idf of every term of the live corpus, summed in order."""
        if self._average_idf is None:
            self._average_idf = scoring.mean_idf(self._df[self._df > 0].astype(np.float64), self._live)
        return self._average_idf

    def _term_idf(self, term_id: int) -> float | None:
        """rank-bm25's idf of a term id, None when no live document contains it."""
        df = int(self._df[term_id])
        if df == 0:
            return None
        return scoring.idf(df, self._live, self._mean_idf, self.params)

    def idf(self, term: str) -> float:
        """The idf rank-bm25 would give `term` (0 when the corpus does not contain it)."""
        tid = self.vocabulary.get(term)
        value = None if tid is None else self._term_idf(tid)
        return 0.0 if value is None else value

    def _plan(self, query: Sequence[str]) -> tuple[list[int], dict[int, float]]:
        """Term ids of the query in order (unknown terms dropped) and the idf of each."""
        vocab = self.vocabulary
        idf: dict[int, float] = {}
        missing: set[int] = set()
        order: list[int] = []
        for term in query:
            tid = vocab.get(term)
            if tid is None or tid in missing:
                continue
            if tid not in idf:
                value = self._term_idf(tid)
                if value is None:
                    missing.add(tid)
                    continue
                idf[tid] = value
            order.append(tid)
        return order, idf

    # --- questions ----------------------------------------------------------------------------------------

    def postings(self) -> Postings:
        """The postings and statistics as they are now, for the top-k strategies."""
        return Postings(
            self._segments, self.size, self._live, self._avgdl(), self._norms(), self._alive, self.params, self.tuning
        )

    def top(self, query: Sequence[str], k: int, within: IntArray | None = None) -> list[tuple[int, float]]:
        """The `k` best positions by score, ties broken by position (as a stable sort of rank-bm25's scores);
        `within` (ascending positions) restricts the answer to those documents, scored as in the whole index (see
        `topk.top`). Not for concurrent calls: the questions share the index's scratch arrays."""
        order, idf = self._plan(query)
        return topk.top(self.postings(), self.scratch, order, idf, k, within)

    def warm(self) -> None:
        """For a large index, load the compiled loops and write the scratch array once (see `topk.warm`)."""
        topk.warm(self.postings(), self.scratch)

    def score(self, query: Sequence[str]) -> tuple[IntArray, FloatArray]:
        """Positions with a positive score for `query` and their scores, in position order."""
        order, idf = self._plan(query)
        if not order:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        scores = topk.every_score(self.postings(), order, idf)
        positions = np.flatnonzero((scores > 0) & self._alive)
        return positions, scores[positions]

    def dense_scores(self, query: Sequence[str]) -> FloatArray:
        """Scores of every live position (0 for no match), in position order: for comparing with rank-bm25."""
        order, idf = self._plan(query)
        if not order:
            return np.zeros(self.live_count, dtype=np.float64)
        return topk.every_score(self.postings(), order, idf)[self._alive]

    # --- persistence --------------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the index to one .npz file (uncompressed, loads with a few large reads), with its format version
        and BM25 parameters."""
        path.parent.mkdir(parents=True, exist_ok=True)
        terms = list(self.vocabulary)
        meta = {
            "format": FORMAT_VERSION,
            "params": asdict(self.params),
            "segments": len(self._segments),
            "live": self._live,
            "live_length": self._live_length,
        }
        arrays: dict[str, npt.NDArray[Any]] = {
            "doc_len": self._doc_len,
            "alive": self._alive,
            "df": self._df,
            "meta": np.array([json.dumps(meta)]),
        }
        for key, value in encode_strings(terms).items():
            arrays[f"vocab_{key}"] = value
        for i, segment in enumerate(self._segments):
            for key, value in segment.arrays().items():
                arrays[f"seg{i}_{key}"] = value
        replace(path, arrays)

    @classmethod
    def load(cls, path: Path, params: Bm25Params | None = None, tuning: Tuning | None = None) -> Bm25Index:
        """An index written by `save`, of this format and with these parameters (else `SavedIndexMismatch`)."""
        params = params or Bm25Params()
        tuning = tuning or Tuning()
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        meta = json.loads(str(arrays["meta"][0]))
        saved = (meta.get("format"), meta.get("params"))
        if saved != (FORMAT_VERSION, asdict(params)):
            raise SavedIndexMismatch(
                f"format {saved[0]} with {saved[1]}, this version reads format {FORMAT_VERSION} with {asdict(params)}"
            )
        terms = decode_strings(arrays["vocab_blob"], arrays["vocab_lengths"])
        segments = [
            Segment.from_arrays(
                {k.split("_", 1)[1]: v for k, v in arrays.items() if k.startswith(f"seg{i}_")}
            ).add_rows(tuning.row_share)
            for i in range(meta["segments"])
        ]
        return cls(
            params=params,
            tuning=tuning,
            vocabulary={term: i for i, term in enumerate(terms)},
            _segments=segments,
            _doc_len=arrays["doc_len"],
            _alive=arrays["alive"],
            _df=arrays["df"],
            _live=int(meta["live"]),
            _live_length=int(meta["live_length"]),
        )
