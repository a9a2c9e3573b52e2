"""The CPU-bound half of ingest: extracted text -> structure and passages with their terms. No database, so it
can run in worker processes while the main process writes what they prepared."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import UnreadableReport
from .extract import ExtractedText, ReportLimits, read_report_file
from .metadata import ReportMetadata, read_metadata
from .normalize import normalize, text_fingerprint
from .segment import Segmenter
from .store import NewPassage
from .structure import ReportStructure, build_structure, cut_passages, section_path


@dataclass(frozen=True)
class PreparedReport:
    """Everything needed to write one report: where it came from, its structure and its passages."""

    source: str
    sha256: str
    kind: str
    encoding: str | None
    structure: ReportStructure
    passages: tuple[NewPassage, ...]
    text_fingerprint: str  # of the normalised text: the same report in another format or file name has it too
    metadata: ReportMetadata
    declared_title: str | None  # what the file format declared, kept to read the metadata again later
    declared_date: str | None = None  # the same for the day the file's properties give

    def __reduce__(self) -> tuple[Any, ...]:
        # Workers send passages as plain tuples: pickling thousands of dataclasses (a state dict each) cost the
        # writing process more than all its SQL.
        rows = [(p.paragraph, p.kind, p.start, p.end, p.section, p.terms, p.norm) for p in self.passages]
        return _unpickle, (
            self.source,
            self.sha256,
            self.kind,
            self.encoding,
            self.structure,
            rows,
            self.text_fingerprint,
            self.metadata,
            self.declared_title,
            self.declared_date,
        )


def _unpickle(
    source: str,
    sha256: str,
    kind: str,
    encoding: str | None,
    structure: ReportStructure,
    rows: list[tuple[int, str, int, int, str, str, str]],
    fingerprint: str,
    metadata: ReportMetadata,
    declared_title: str | None,
    declared_date: str | None,
) -> PreparedReport:
    passages = tuple(NewPassage(*row) for row in rows)
    return PreparedReport(
        source, sha256, kind, encoding, structure, passages, fingerprint, metadata, declared_title, declared_date
    )


def prepare_report(extracted: ExtractedText, segmenter: Segmenter) -> PreparedReport:
    """Structure, passages, normalised text and index terms (headings' terms added to the passages below them)."""
    metadata = read_metadata(
        extracted.lines, extracted.source, declared_title=extracted.title, declared_date=extracted.declared_date
    )
    structure = build_structure(
        extracted.lines,
        segmenter,
        declared_title=metadata.title,
        heading_levels=extracted.heading_levels,
        title_lines=metadata.title_lines,
    )
    passages: list[NewPassage] = []
    headings: dict[int | None, tuple[list[str], str]] = {None: ([], "")}
    for paragraph in structure.paragraphs:
        if paragraph.section_index not in headings:
            path = section_path(structure, paragraph)
            headings[paragraph.section_index] = (segmenter.terms(" ".join(s.heading for s in path)), path[-1].heading)
        heading_terms, label = headings[paragraph.section_index]
        for span in cut_passages(paragraph.number, paragraph.text):
            norm = normalize(paragraph.text[span.start : span.end])
            terms = segmenter.terms(norm, normalized=True)
            if paragraph.kind == "body":
                terms += heading_terms
            passages.append(
                NewPassage(paragraph.number, paragraph.kind, span.start, span.end, label, " ".join(terms), norm)
            )
    return PreparedReport(
        extracted.source,
        extracted.sha256,
        extracted.kind,
        extracted.encoding,
        structure,
        tuple(passages),
        text_fingerprint(p.norm for p in passages),
        metadata,
        extracted.title,
        extracted.declared_date,
    )


# Worker processes: each owns one segmenter, created once by the pool's initializer.
_worker: dict[str, Segmenter] = {}


def init_worker(dictionary: Path | None) -> None:
    """Pool initializer of a spawned worker: load the segmenter once per worker process."""
    _worker["segmenter"] = Segmenter(dictionary)


def init_forked_worker(segmenter: Segmenter) -> None:
    """Pool initializer of a forked worker: use the segmenter it inherited, already loaded."""
    _worker["segmenter"] = segmenter


def prepare_file(path: Path, max_bytes: int, limits: ReportLimits) -> PreparedReport | UnreadableReport:
    """Read and prepare one file in a worker; a bad file comes back as its error (raised by the caller)."""
    try:
        return prepare_report(read_report_file(path, max_bytes=max_bytes, report_limits=limits), _worker["segmenter"])
    except UnreadableReport as exc:
        return exc
