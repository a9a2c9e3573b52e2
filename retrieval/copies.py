"""Copied text (查重): the passages of one report that also stand, word for word after normalisation, in other
reports, as runs of at least `min_chars` characters, grouped by the other report, with the share of the report's
text they cover. Phrasing that many reports share (slogans, the standard opening of a government work report) is
listed apart as common phrasing, never as copying.

How: every run of `min_chars` characters contains a probe of `PROBE` characters starting at a multiple of the
stride, so only those probes are looked up in the mention finder's positional index (which passages hold them);
each probe found in another report's paragraph is then grown both ways for as long as the two texts agree, so
the runs are exact and maximal. A probe that stands in very many passages is common phrasing at once.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .library import Library
from .normalize import normalize, normalize_with_offsets, original_span
from .store import Report

DEFAULT_MIN_CHARS = 20
MIN_CHARS_RANGE = (8, 200)
PROBE_CAP = 200  # passages of other reports a probe may stand in before it counts as common phrasing unchecked
COMMON_SHARE = 0.05  # of the library's other reports: shared with at least this many (and 3) is common phrasing
COMMON_MIN_REPORTS = 3
_EDGE_PUNCTUATION = "。，、；：！？,.;:!? \u3000"  # a run that starts or ends at a sentence's edge is shown without it


@dataclass(frozen=True)
class SharedRun:
    """Text of the report that also stands in another report: where, in both, and the text (as the report has
    it)."""

    other: Report
    paragraph: int
    other_paragraph: int
    text: str
    chars: int  # normalised characters


@dataclass(frozen=True)
class CommonPhrase:
    """Phrasing many reports share: the text as the report has it, and how many other reports have it."""

    paragraph: int
    text: str
    reports: int


@dataclass(frozen=True)
class Copies:
    """What of a report stands in other reports: the share of its text, the runs (grouped by the other report,
    most shared first), and the common phrasing left out of both."""

    report: Report
    min_chars: int
    share: float
    shared: tuple[SharedRun, ...]
    common: tuple[CommonPhrase, ...]

    def by_report(self) -> list[tuple[Report, list[SharedRun]]]:
        """The runs grouped by the other report, most shared characters first."""
        groups: dict[int, list[SharedRun]] = defaultdict(list)
        for run in self.shared:
            groups[run.other.id].append(run)
        ordered = sorted(groups.values(), key=lambda runs: (-sum(r.chars for r in runs), runs[0].other.id))
        return [(runs[0].other, runs) for runs in ordered]


@dataclass
class _Paragraph:
    number: int
    text: str
    norm: str
    origin: list[int]


def copies(
    library: Library, report_key: int | str, *, min_chars: int = DEFAULT_MIN_CHARS, common_reports: int | None = None
) -> Copies:
    """The report's text that other reports share (UnknownReport if there is no such report)."""
    report = library.told_apart(library.find_report(report_key))
    min_chars = max(MIN_CHARS_RANGE[0], min(min_chars, MIN_CHARS_RANGE[1]))
    reports = library.reports_by_id()  # told apart: same-titled reports are named so they can be told apart
    others = max(len(reports) - 1, 0)
    common_at = common_reports or max(COMMON_MIN_REPORTS, math.ceil(COMMON_SHARE * others))
    paragraphs = [
        _Paragraph(p.number, p.text, *normalize_with_offsets(p.text))
        for p in library.store.paragraphs(report.id, 1, report.paragraph_count)
        if p.kind != "heading"
    ]
    probe = max(4, min_chars // 2)
    # the same text is looked up once (a slogan repeated in a report, the pieces of overlapping runs)
    holders = functools.cache(library.passages_containing)
    stride = min_chars - probe + 1
    # (paragraph index, probe start) -> passage ids of other reports holding the probe
    hits: dict[tuple[int, int], list[int]] = {}
    probes: dict[tuple[int, int], int] = {}  # (paragraph index, probe start) -> other reports holding it
    crowded: set[tuple[int, int]] = set()
    for index, paragraph in enumerate(paragraphs):
        norm = paragraph.norm
        for start in range(0, len(norm) - probe + 1, stride):
            needle = norm[start : start + probe]
            if not needle.strip():
                continue
            passage_ids, report_ids = holders(needle)
            elsewhere = report_ids != report.id
            if not elsewhere.any():
                continue
            probes[(index, start)] = _distinct(report_ids[elsewhere])
            if int(elsewhere.sum()) > PROBE_CAP:  # crowded: common phrasing, no run is grown from it
                crowded.add((index, start))
                continue
            hits[(index, start)] = passage_ids[elsewhere].tolist()
    places = library.store.passage_texts(sorted({p for ids in hits.values() for p in ids}))
    texts = {
        place: normalize(text)
        for place, text in library.store.texts_at(sorted({(q.report_id, q.paragraph) for q in places.values()})).items()
    }
    # (paragraph index, other place) -> the runs grown so far, by alignment (start here - start there): a probe
    # met again at a known alignment inside its run would grow the same run
    grown: dict[tuple[int, int, int], dict[int, list[tuple[int, int]]]] = defaultdict(dict)
    for (index, start), ids in hits.items():  # in order of paragraph and start
        norm = paragraphs[index].norm
        needle = norm[start : start + probe]
        for place in {(places[p].report_id, places[p].paragraph) for p in ids if p in places}:
            other = texts.get(place)
            if other is None or place[0] not in reports:
                continue
            known = grown[(index, *place)]
            at = other.find(needle)
            while at != -1:
                spans = known.setdefault(start - at, [])
                if not any(a <= start and start + probe <= b for a, b in spans):
                    spans.append(_extend(norm, other, start, at, probe))
                at = other.find(needle, at + 1)
    found: list[tuple[int, int, int, int, int]] = []  # paragraph index, start, end, other report, other paragraph
    for (index, report_id, number), known in grown.items():
        long = {span for spans in known.values() for span in spans if span[1] - span[0] >= min_chars}
        # a stretch the texts share at another alignment too, inside a longer run, is not a run of its own
        found += [
            (index, a, b, report_id, number)
            for a, b in long
            if not any(c <= a and b <= d and (c, d) != (a, b) for c, d in long)
        ]
    runs = sorted(found)
    @functools.cache  # a stretch of the report shared with many reports is asked about once per report
    def common_count(index: int, a: int, b: int) -> int:
        """How many other reports share the phrasing of run [a, b) of a paragraph, when that is at least
        `common_at` for all of it but stretches shorter than `min_chars` (a slogan with a few words around it, or a
        long official formulation every report repeats: 坚持马克思列宁主义、毛泽东思想、…); else 0. Read from
        the probes inside the run, already looked up: a run that quotes a slogan inside text of its own has a
        stretch of `min_chars` whose probes few reports hold, and is copying."""
        most = 0
        reach = a  # the run up to here is common, or a stretch shorter than min_chars
        for start in range(a + (-a) % stride, b - probe + 1, stride):
            count = probes.get((index, start), 0)
            if count < common_at:
                continue
            if start - reach >= min_chars:
                return 0
            most = max(most, count)
            reach = start + probe
        return most if most and b - reach < min_chars else 0

    shared, common = _split_common(runs, common_count, probes, crowded, probe)
    covered = 0
    result: list[SharedRun] = []
    for spans in _merged_by_paragraph([(i, a, b) for i, a, b, _, _ in shared]).values():
        covered += sum(b - a for a, b in spans)
    for index, start, end, report_id, number in sorted(shared, key=lambda r: (r[3], r[0], r[1])):
        paragraph = paragraphs[index]
        result.append(
            SharedRun(reports[report_id], paragraph.number, number, _original(paragraph, start, end), end - start)
        )
    phrases: dict[str, CommonPhrase] = {}
    for index, start, end, count in common:
        text = _original(paragraphs[index], start, end)
        if text not in phrases or phrases[text].reports < count:
            phrases[text] = CommonPhrase(paragraphs[index].number, text, count)
    total = sum(len(p.norm.replace(" ", "")) for p in paragraphs)
    return Copies(
        report,
        min_chars,
        covered / total if total else 0.0,
        tuple(result),
        tuple(sorted(phrases.values(), key=lambda c: (-c.reports, c.paragraph))),
    )


def _split_common(
    runs: list[tuple[int, int, int, int, int]],
    common_count: Callable[[int, int, int], int],
    probes: dict[tuple[int, int], int],
    crowded: set[tuple[int, int]],
    probe: int,
) -> tuple[list[tuple[int, int, int, int, int]], list[tuple[int, int, int, int]]]:
    """Split runs into copying and common phrasing (`common_count` says how many other reports share a run's
    phrasing, 0 when it is not common). Crowded probes no run covers are common phrasing too. Returns the copying
    runs and the common stretches (paragraph index, start, end, other reports), merged where they overlap."""
    shared: list[tuple[int, int, int, int, int]] = []
    common: list[tuple[int, int, int, int]] = []
    for run in runs:
        index, a, b = run[0], run[1], run[2]
        count = common_count(index, a, b)
        if count:
            common.append((index, a, b, count))
        else:
            shared.append(run)
    covered = {(i, a, b) for i, a, b, _ in common} | {(i, a, b) for i, a, b, _, _ in shared}
    for index, start in sorted(crowded):
        if not any(i == index and a <= start < b for i, a, b in covered):
            common.append((index, start, start + probe, probes[(index, start)]))
    merged: list[tuple[int, int, int, int]] = []
    for index, a, b, count in sorted(common):
        if merged and merged[-1][0] == index and a <= merged[-1][2] + 1:
            last = merged[-1]
            merged[-1] = (index, last[1], max(b, last[2]), max(count, last[3]))
        else:
            merged.append((index, a, b, count))
    return shared, merged


def _extend(text: str, other: str, start: int, at: int, length: int) -> tuple[int, int]:
    """The maximal stretch of `text` around [start, start + length) that `other` has around [at, at + length) (the
    same characters there): (start, end) in `text`. Found by halving with slices compared in C."""
    end = start + length
    low, high = 0, min(start, at)
    while low < high:
        middle = (low + high + 1) // 2
        if text[start - middle : start] == other[at - middle : at]:
            low = middle
        else:
            high = middle - 1
    before = low
    low, high = 0, min(len(text) - end, len(other) - at - length)
    while low < high:
        middle = (low + high + 1) // 2
        if text[end : end + middle] == other[at + length : at + length + middle]:
            low = middle
        else:
            high = middle - 1
    return start - before, end + low


def _distinct(ids: npt.NDArray[np.int64]) -> int:
    """How many different ids (thousands of passages' report ids for a common phrase: no Python set)."""
    if ids.size < 2:
        return int(ids.size)
    ordered = np.sort(ids)
    return int(np.count_nonzero(ordered[1:] != ordered[:-1])) + 1


def _merged_by_paragraph(spans: list[tuple[int, int, int]]) -> dict[int, list[tuple[int, int]]]:
    merged: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for index, a, b in sorted(spans):
        if merged[index] and a <= merged[index][-1][1]:
            merged[index][-1] = (merged[index][-1][0], max(b, merged[index][-1][1]))
        else:
            merged[index].append((a, b))
    return merged


def _original(paragraph: _Paragraph, start: int, end: int) -> str:
    a, b = original_span(paragraph.origin, start, end)
    return paragraph.text[a:b].strip(_EDGE_PUNCTUATION)
