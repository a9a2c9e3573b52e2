"""The library: the one object the CLI and the bot talk to. It answers questions and browses the reports.

It owns the store (SQLite), the segmenter and the passage index (retrieval/passages.py), and keeps them
consistent: ingest (retrieval/ingest.py) writes a report to SQLite in one transaction, then commits it to the
passage index through the library's `writer()`.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from .answers import (
    Answer,
    MentionAnswer,
    MentionedReports,
    MentionsAnswer,
    NoMentionAnswer,
    Outline,
    OutOfScopeAnswer,
    PartAnswer,
    PartBlock,
    Quote,
    RankedAnswer,
    Refusal,
)
from .bm25 import Bm25Params, Tuning
from .errors import InvalidCorrection, StorageError, UnknownParagraph, UnknownReport
from .extract import ReportLimits
from .mentions import MentionTuning
from .metadata import HEAD_MAX_LINES, METADATA_VERSION, TAIL_LINES, distinctions, parse_date_input, read_metadata
from .normalize import normalize, normalize_with_offsets, original_span, valid_text
from .parts import Part
from .passages import PassageIndex, PassageWriter
from .quantity import QuantityQuestion, answer_tier, numbers_beside, quantity_question, quantity_terms
from .query import MAX_QUERY_CHARS, QUESTION_WORDS, parse_question, part_question
from .scope import Catalogue, OutOfScope, ReportFacts, Resolution
from .segment import Segmenter
from .store import CORRECTABLE, Report, Store, StoredParagraph, StoredSection
from .structure import build_structure

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 5
_OWN_YEAR = re.compile("今年|去年|明年|上年|本年|过去")
# Whose reports the library holds, in the meta table: "bundled" while it holds only the bundled reports it was
# seeded with (start-up keeps them up to date), "operator" once the operator ingested, uploaded, pruned or deleted
# reports (start-up never loads the bundled ones again). Absent: not decided yet (a new library, or one older than
# this record; see retrieval.ingest.ingest_at_start).
OWNER_KEY = "library_owner"
Owner = Literal["bundled", "operator"]
SAVE_INDEX_MIN_PASSAGES = 20_000  # below this, building is faster than loading
PER_REPORT_CAP = 2


def report_facts(report: Report) -> ReportFacts:
    """What scoping knows of a report."""
    return ReportFacts(report.id, report.title, report.source, report.year, report.unit)


class Library:
    """Reports in, cited passages out."""

    def __init__(
        self,
        store: Store,
        segmenter: Segmenter,
        *,
        index_dir: Path | None = None,
        limits: ReportLimits | None = None,
        params: Bm25Params | None = None,
        tuning: Tuning | None = None,
        mention_tuning: MentionTuning | None = None,
    ) -> None:
        self.store = store
        self.segmenter = segmenter
        self.limits = limits or ReportLimits()  # what one report may expand to; a file beyond it is refused
        self.index_dir = index_dir  # where built indexes are saved for the next start (large corpora only)
        self._passages = PassageIndex(params, tuning, mention_tuning)
        self._lock = self._passages.lock  # one lock: the report map changes with the passages it names
        self._reports: dict[int, Report] = {}
        self._catalogue: tuple[dict[int, Report], Catalogue] | None = None  # scopes' words, for one report map
        self.refresh_metadata()
        self.load_index()

    # --- metadata -----------------------------------------------------------------------------------------

    def edit(self, report_id: int | str, changes: Mapping[str, str | None]) -> Report:
        """Correct a report's title, date or unit (an admin's word over what ingest read). A date is typed as
        2024-03-05, 2024-03, 2024 or 2024年3月5日; None (or an empty text) for date or unit means "not known".
        The correction is kept by file name: it outlives re-ingesting the file, changed or not."""
        values: dict[str, str | None] = {}
        for name, raw in changes.items():
            if name not in CORRECTABLE:
                raise InvalidCorrection(name, raw or "")
            value = valid_text(raw).strip() if raw is not None else ""
            if name == "title":
                if not value:
                    raise InvalidCorrection(name, raw or "")
                values[name] = value
            elif name == "date":
                try:
                    values[name] = parse_date_input(value) if value else None
                except ValueError:
                    raise InvalidCorrection(name, raw or "") from None
            else:
                values[name] = value or None
        report = self.store.correct(self.find_report(report_id).id, values)
        self._remember(report)
        return report

    def uncorrect(self, report_id: int | str, fields: Sequence[str]) -> Report:
        """Drop an admin's corrections of these fields: back to what ingest read."""
        for name in fields:
            if name not in CORRECTABLE:
                raise InvalidCorrection(name, name)
        report = self.store.uncorrect(self.find_report(report_id).id, fields)
        self._remember(report)
        return report

    def _remember(self, report: Report) -> None:
        # the map is replaced, never changed: an answer being built keeps the map it started with
        with self._lock:
            old = self._reports.get(report.id)
            if old is not None:
                self._reports = _told_apart({**self._reports, report.id: report}, {old.title, report.title})

    def refresh_metadata(self, *, force: bool = False) -> int:
        """Read every report's title, date and unit again from its stored text when the library was written by an
        older reader (or `force`); returns how many reports were read. A read-only file is served as it is."""
        if not force and self.store.meta("metadata_version") == METADATA_VERSION:
            return 0
        count = 0
        try:
            with self.store.write():
                for report, lines in self.store.report_ends(HEAD_MAX_LINES, TAIL_LINES):
                    extracted = self.store.extracted(report.id)
                    declared, declared_date = extracted.get("declared"), extracted.get("declared_date")
                    metadata = read_metadata(lines, report.source, declared_title=declared, declared_date=declared_date)
                    title = build_structure(
                        lines, self.segmenter, declared_title=metadata.title, title_lines=metadata.title_lines
                    ).title
                    self.store.set_extracted(report.id, title, metadata, declared, declared_date)
                    count += 1
                self.store.set_meta("metadata_version", METADATA_VERSION)
        except StorageError as exc:
            log.warning("report metadata not refreshed: %s", exc)
            return 0
        return count

    # --- index maintenance --------------------------------------------------------------------------------

    def load_index(self) -> None:
        """Load the indexes saved for exactly these passages, or build them from the store (and save them)."""
        with self._lock:
            if not self._load_saved(self.store.passage_key()):
                self._passages.build(self.store.passages())
                self.save_index()
            self._reports = _told_apart({r.id: r for r in self.store.reports()}, None)

    def _load_saved(self, key: str) -> bool:
        if self.index_dir is None or not (self.index_dir / "key").is_file():
            return False
        try:
            if (self.index_dir / "key").read_text(encoding="utf-8") != key:
                return False
            self._passages.load(self.index_dir, self.store.passage_places())
            return True
        except Exception as exc:  # the saved index is only a shortcut: anything wrong with it means a rebuild
            log.warning("saved index in %s not usable (%s); rebuilding", self.index_dir, exc)
            with contextlib.suppress(OSError):  # forgotten, so that the rebuilt index is saved in its place
                (self.index_dir / "key").unlink()
            return False

    def save_index(self) -> bool:
        """Save the indexes for the next start when they are large, not saved as they are, and hold no deleted
        passages (a loaded index maps its positions to the stored passages in id order). True when written."""
        with self._lock:
            if (
                self.index_dir is None
                or self._passages.writing
                or self._passages.size < SAVE_INDEX_MIN_PASSAGES
                or self._passages.has_deleted
            ):
                return False
            key = self.store.passage_key()
            saved = self.index_dir / "key"
            if saved.is_file() and saved.read_text(encoding="utf-8") == key:
                return False
            try:
                saved.unlink(missing_ok=True)  # written last: a half-saved index is never used
                # the files it replaces go before the key is written: a folder with a key holds that index alone
                _remove_all_but(self.index_dir, {saved, *self._passages.save(self.index_dir)})
                saved.write_text(key, encoding="utf-8")
            except OSError as exc:  # a read-only or full disk only costs the next start its speed
                log.warning("could not save the index to %s: %s", self.index_dir, exc)
                return False
            return True

    def writer(self) -> PassageWriter:
        """What ingest and deletion write to: reports written to or deleted from the store go into the passage
        index at its `commit` (a `with` block commits when it ends)."""
        return self._passages.writer(self._committed)

    def _committed(self, reports: Mapping[int, Report | None]) -> None:
        # under the passage index's lock, as the reports' passages become visible; a new map, not changed in
        # place: answers keep the one they were made with (MentionedReports)
        merged = {**self._reports, **reports}
        titles = {r.title for r in reports.values() if r is not None}
        titles |= {self._reports[rid].title for rid in reports if rid in self._reports}
        self._reports = _told_apart({rid: r for rid, r in merged.items() if r is not None}, titles)

    def owner(self) -> Owner | None:
        """Whose reports the library holds (OWNER_KEY), or None while that is not decided."""
        value = self.store.meta(OWNER_KEY)
        return "bundled" if value == "bundled" else "operator" if value == "operator" else None

    def decide_owner(self, bundled_sources: set[str]) -> Owner:
        """Record whose the library is, the first time a start asks: the bundled reports' while it holds nothing
        else (empty, or only files named like the bundled ones), the operator's otherwise."""
        owner: Owner = "bundled" if all(r.source in bundled_sources for r in self.reports()) else "operator"
        self.store.set_meta(OWNER_KEY, owner)
        return owner

    # --- answering ----------------------------------------------------------------------------------------

    def ask(
        self,
        text: str,
        *,
        limit: int = DEFAULT_LIMIT,
        quoted: int | None = None,
        report_ids: frozenset[int] | None = None,
    ) -> Answer:
        """Answer a question: mention questions exactly and completely (`quoted`: see `mentions`), questions about
        a part of the reports with that part of each (`part`), others by BM25; from the reports the question names
        (its scope, see retrieval.scope) and `report_ids` when given."""
        text = valid_text(text)
        question = text.strip()
        if not question:
            return Refusal(text, "empty")
        if len(question) > MAX_QUERY_CHARS:
            return Refusal(question[:MAX_QUERY_CHARS], "too_long")
        parsed = parse_question(question)
        catalogue = self.catalogue()
        if parsed.intent == "mention" and parsed.term:
            # the term is never a scope (哪些报告提到广东): only the words around it are
            scope, rest = catalogue.parse(parsed.text.replace(parsed.term, " ", 1))
        else:
            scope, rest = catalogue.parse(parsed.text)
            if scope and (unscoped := parse_question(rest)).intent == "mention":  # 2024年哪些报告提到X
                parsed = replace(unscoped, text=parsed.text)
        resolution = catalogue.resolve(scope) if scope else None
        if isinstance(resolution, OutOfScope):
            return OutOfScopeAnswer(parsed.text, resolution, parsed.intent, parsed.term, parsed.group)
        if resolution is not None and not resolution.everything:
            report_ids = resolution.report_ids if report_ids is None else report_ids & resolution.report_ids
        if parsed.intent == "mention" and parsed.term:
            found = self.mentions(parsed.term, question=parsed.text, limit=limit, quoted=quoted, report_ids=report_ids)
            if isinstance(found, Refusal):
                return found
            return replace(found, scope=resolution, group=parsed.group)
        part = part_question(rest if scope else parsed.text)
        if part is not None and (blocks := self.part(part, question=parsed.text, report_ids=report_ids)).blocks:
            return replace(blocks, scope=resolution)
        words = rest if scope and self.segmenter.terms(rest) else parsed.text
        if scope.years and not _OWN_YEAR.search(words):
            # a report speaks of its own year as 今年 (2024年赤字率 -> "今年赤字率拟按3%左右安排")
            words = f"{words} 今年"
        ranked = self.search(words, limit=limit, report_ids=report_ids)
        if isinstance(ranked, Refusal):
            return ranked
        return replace(ranked, query=parsed.text, scope=resolution)

    def catalogue(self) -> Catalogue:
        """The library's reports as scopes name them (built again after reports change)."""
        reports = self._reports
        cached = self._catalogue
        if cached is None or cached[0] is not reports:
            cached = (reports, Catalogue(tuple(map(report_facts, reports.values())), datetime.date.today().year))
            self._catalogue = cached
        return cached[1]

    def part(self, part: Part, *, question: str | None = None, report_ids: frozenset[int] | None = None) -> PartAnswer:
        """That part of every report (or of the given ones) that has it: one block per report, the newest report
        first (by date where reports have one, undated ones after them, then by id)."""
        rows = self.store.part_paragraphs(part, None if report_ids is None else sorted(report_ids))
        by_report: dict[int, list[StoredParagraph]] = defaultdict(list)
        for row in rows:
            by_report[row.report_id].append(row)
        reports = self._reports
        blocks = []
        for report_id, paragraphs in by_report.items():
            report = reports.get(report_id)
            if report is None:  # deleted since the rows were read
                continue
            first = paragraphs[0]
            heading = first.text if first.kind == "heading" else first.section
            blocks.append(PartBlock(report, heading, tuple(paragraphs)))
        blocks.sort(key=lambda b: b.report.id)
        blocks.sort(key=lambda b: _report_date(b.report), reverse=True)  # stable: ids ascending among equals
        return PartAnswer(question or part, part, tuple(blocks))

    def scoped_part(
        self, part: Part, resolution: Resolution | None, *, question: str | None = None
    ) -> PartAnswer | OutOfScopeAnswer:
        """`part` of the reports a resolved scope means (None: every report), under that scope; an
        `OutOfScopeAnswer` when it means none."""
        query = question or part
        if isinstance(resolution, OutOfScope):
            return OutOfScopeAnswer(query, resolution, "part")
        ids = None if resolution is None or resolution.everything else resolution.report_ids
        return replace(self.part(part, question=query, report_ids=ids), scope=resolution)

    def search(
        self,
        text: str,
        *,
        limit: int = DEFAULT_LIMIT,
        per_report: int = PER_REPORT_CAP,
        report_ids: frozenset[int] | None = None,
    ) -> RankedAnswer | Refusal:
        """The best passages for `text` by BM25, at most `per_report` from one report while others remain; only from
        `report_ids` when given (scores stay those of the whole library)."""
        text = valid_text(text)
        query = text.strip()
        if not query:
            return Refusal(text, "empty")
        if len(query) > MAX_QUERY_CHARS:
            return Refusal(query[:MAX_QUERY_CHARS], "too_long")
        terms = self.query_terms(query)
        with self._lock:
            passages = self._passages
            within = None if report_ids is None else passages.of_reports(report_ids)
            ranked = passages.bm25.top(terms, max(limit * 4, 20), within)
            # headings and titles count for ranking but make poor quotes on their own
            passage_ids, report_of, is_body = passages.passage_ids, passages.report_ids, passages.is_body
            hits = [(int(passage_ids[pos]), int(report_of[pos]), score) for pos, score in ranked if is_body[pos]]
        quantity = quantity_question(query)
        beside = quantity_terms(terms) if quantity is not None else []
        if quantity is not None and beside:
            hits = self._numbers_first(hits, beside, quantity)
        chosen = _diversify(hits, limit, per_report)
        marks = [t for t in dict.fromkeys(terms) if len(t) > 1] or list(dict.fromkeys(terms))
        quotes = tuple(self._quotes([(passage_id, score) for passage_id, _, score in chosen], marks))
        if beside:
            quotes = tuple(_numbers_marked(quote, beside) for quote in quotes)
        return RankedAnswer(query, quotes)

    def _numbers_first(
        self, hits: list[tuple[int, int, float]], terms: Sequence[str], question: QuantityQuestion
    ) -> list[tuple[int, int, float]]:
        """A quantity question's candidates, those stating a number beside its terms first (in the unit it asks
        in before any other), each group in BM25's order: the scores and the candidates stay rank-bm25's."""
        texts = self.store.passage_texts([passage_id for passage_id, _, _ in hits])
        tiers = {passage_id: answer_tier(record.text, terms, question) for passage_id, record in texts.items()}
        return sorted(hits, key=lambda hit: -tiers.get(hit[0], 0))  # stable

    def query_terms(self, text: str) -> list[str]:
        """The ranking terms of a question: its segmented terms without the question's own wording."""
        terms = self.segmenter.terms(text)
        content = [t for t in terms if t not in QUESTION_WORDS]
        return content or terms

    def mentions(
        self,
        term: str,
        *,
        question: str | None = None,
        limit: int = DEFAULT_LIMIT,
        quoted: int | None = None,
        report_ids: frozenset[int] | None = None,
    ) -> MentionsAnswer:
        """Every report whose text contains `term` (normalised, exact), with counts and a quote for each: for all
        of them (of `report_ids` when given), or for the first `quoted` (the rest on demand, `with_quotes`).
        `limit` bounds the nearest passages shown when nothing matches."""
        term = valid_text(term)
        query = valid_text(question) if question else term
        if len(term.strip()) > MAX_QUERY_CHARS:  # /mentions takes up to 4,096 characters; its answer could not
            return Refusal(query[:MAX_QUERY_CHARS], "too_long", "mention")
        needle = normalize(term)
        if not needle:
            return Refusal(query, "empty", "mention", term)
        with self._lock:
            positions, counts = self._passages.containing(needle)
            report_of = self._passages.report_ids[positions]
            if report_ids is not None:
                wanted = np.zeros(int(report_of.max(initial=0)) + 1, dtype=np.bool_)
                wanted[[r for r in report_ids if r < wanted.size]] = True
                keep = wanted[report_of]
                positions, counts, report_of = positions[keep], counts[keep], report_of[keep]
            passage_ids = self._passages.passage_ids[positions]
            reports = self._reports
        if not positions.size:
            nearest = self.search(term, limit=limit, report_ids=report_ids)
            return NoMentionAnswer(query, term, nearest.passages if isinstance(nearest, RankedAnswer) else ())
        found, totals, first = _per_report(report_of, passage_ids, counts)
        quotes = self._mention_quotes((first[:quoted] if quoted is not None else first).tolist(), needle)
        table = MentionedReports(reports, found, totals, first, {q.passage_id: q for q in quotes})
        return MentionAnswer(query, term, table, tuple(quotes))

    def passages_containing(self, needle: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """The passages whose normalised text contains `needle` (normalised), exactly: their ids and report ids,
        from the mention finder's index. For copies (many phrases of common words): candidates are compared with
        the text, whose pages this reads."""
        with self._lock:
            positions, _ = self._passages.containing(needle, read_text=True)
            return self._passages.passage_ids[positions], self._passages.report_ids[positions]

    def with_quotes(self, answer: Answer, start: int, stop: int) -> Answer:
        """The answer with quotes for its mentioned reports [start, stop) (a page the reader turned to); other
        kinds of answer hold all they show."""
        if (
            not isinstance(answer, MentionAnswer)
            or answer.group is not None  # a grouped answer names its reports without quoting them
            or not isinstance(answer.reports, MentionedReports)
            or not (missing := answer.reports.unquoted(start, stop))
        ):
            return answer
        quotes = self._mention_quotes(missing, normalize(answer.term))
        return replace(answer, reports=answer.reports.with_quotes({q.passage_id: q for q in quotes}))

    def warm(self) -> None:
        """Get ready for the first question (a large library's indexes load their compiled loops); the bot calls
        this in the background as it starts."""
        self._passages.warm()

    def idf(self, term: str) -> float:
        """How distinctive a term is in the corpus (BM25 idf; 0 for unknown terms)."""
        with self._lock:
            return self._passages.bm25.idf(term)

    def new_mentions(self, needle: str, *, after_passage_id: int, limit: int) -> list[Quote]:
        """Quotes of passages newer than `after_passage_id` that contain the normalised `needle`."""
        if not needle:
            return []
        with self._lock:
            positions, _ = self._passages.containing(needle)
            ids = np.sort(self._passages.passage_ids[positions])
        return self._mention_quotes(ids[ids > after_passage_id][:limit].tolist(), needle)

    def passage_of_the_day(self, seed: int, *, min_chars: int = 40) -> Quote | None:
        """A passage chosen by `seed` (the bot derives it from the date), skipping headings and scraps."""
        with self._lock:
            alive = self._passages.live_positions()
            if alive.size == 0:
                return None
            for step in range(min(alive.size, 50)):
                pos = int(alive[(seed + step) % alive.size])
                if self._passages.is_body[pos] and len(self._passages.mentions.text(pos)) >= min_chars:
                    break
            passage_id = int(self._passages.passage_ids[pos])
        return self._quote(passage_id, 0.0, [])

    def _quote(self, passage_id: int, score: float, marks: Sequence[str]) -> Quote | None:
        quotes = self._quotes([(passage_id, score)], marks)
        return quotes[0] if quotes else None

    def _mention_quotes(self, passage_ids: Sequence[int], needle: str) -> list[Quote]:
        """Quotes of passages found by a mention, the term marked (no score)."""
        return self._quotes([(passage_id, 0.0) for passage_id in passage_ids], [needle])

    def _quotes(self, hits: Sequence[tuple[int, float]], marks: Sequence[str]) -> list[Quote]:
        """Quotes for (passage id, score) pairs, read from the store in one go."""
        texts = self.store.passage_texts([passage_id for passage_id, _ in hits])
        quotes = []
        for passage_id, score in hits:
            record = texts.get(passage_id)
            if record is None:  # its report was replaced or deleted after the index was read
                continue
            text = record.text
            report = self._reports.get(record.report_id) or self.store.report(record.report_id)
            quotes.append(
                Quote(
                    passage_id,
                    record.report_id,
                    report.title,
                    report.source,
                    record.section,
                    record.paragraph,
                    text,
                    highlight_spans(text, marks),
                    score,
                    report.distinction,
                )
            )
        return quotes

    # --- browsing -----------------------------------------------------------------------------------------

    def reports(self) -> list[Report]:
        """Every report, by id."""
        return self.store.reports()

    def report(self, report_id: int | str) -> Report:
        """A report by id (`3`, `#3`); UnknownReport if there is none."""
        return self.store.report(report_id)

    def find_report(self, key: int | str) -> Report:
        """A report by id (`3`, `#3`) or by the name of its file; UnknownReport if there is none."""
        try:
            return self.store.report(key)
        except UnknownReport:
            found = self.store.report_by_source(key) if isinstance(key, str) else None
            if found is None:
                raise
            return found

    def browse(self, query: str | None = None) -> list[Report]:
        """Reports newest first (by the date they were made; undated ones last, by id), optionally only those of a
        year ("2024", "2024年", "二〇二四年") or whose unit, title or file name holds `query` ("广东")."""
        tags = distinctions(reports := self.store.reports())
        reports = [replace(r, distinction=tags.get(r.id)) for r in reports]
        if query and query.strip():
            reports = [r for r in reports if _matches(r, query.strip())]
        dated = sorted((r for r in reports if r.date), key=lambda r: (r.date or "", r.id), reverse=True)
        return dated + [r for r in reports if not r.date]

    def reports_by_id(self) -> Mapping[int, Report]:
        """Every report by id, told apart from others of its title: the library's map, nothing read (the map is
        replaced on writes, never changed, so a caller may keep it for an answer)."""
        return self._reports

    def told_apart(self, report: Report) -> Report:
        """The report with what tells it apart from others of its title (as the library's map has it)."""
        known = self._reports.get(report.id)
        return report if known is None else replace(report, distinction=known.distinction)

    def outline(self, report_id: int | str) -> Outline:
        """A report, its headings and its parts; UnknownReport if there is no such id."""
        report = self.told_apart(self.store.report(report_id))
        return Outline(report, tuple(self.store.sections(report.id)), tuple(self.store.part_runs(report.id)))

    def paragraph(self, report_id: int | str, number: int) -> tuple[Report, StoredParagraph]:
        """One paragraph in full; UnknownReport / UnknownParagraph when it does not exist."""
        report = self.store.report(report_id)
        return report, self.store.paragraph(report.id, number)

    def section(self, report_id: int | str, index: int) -> tuple[Report, StoredSection, list[StoredParagraph]]:
        """A section with its paragraphs, up to the next heading of the same or a higher level."""
        report = self.store.report(report_id)
        sections = self.store.sections(report.id)
        if not 0 <= index < len(sections):
            raise UnknownParagraph(str(report.id), index)
        section = sections[index]
        following = (s.paragraph for s in sections[index + 1 :] if s.level <= section.level)
        last = next(following, report.paragraph_count + 1) - 1
        return report, section, self.store.paragraphs(report.id, section.paragraph, max(last, section.paragraph))

    def stats(self) -> dict[str, Any]:
        """Counts and the time of the last ingest."""
        return {**self.store.counts(), "last_ingest": self.store.meta("last_ingest")}


def _remove_all_but(directory: Path, kept: set[Path]) -> None:
    """Remove the files of the saved index's folder that the index just saved does not use: those of a saved index
    it replaces with fewer files (a rebuild folds many mention chunks into one) and those a save killed half-way
    left aside. A process still mapping a removed file keeps reading it (POSIX); another process saving at the same
    moment may lose a file it writes, and its index then fails to load and is rebuilt. What cannot be removed costs
    only disk space."""
    names = {path.name for path in kept}
    for entry in directory.iterdir():
        if entry.name not in names and entry.is_file():
            try:
                entry.unlink()
            except OSError as exc:
                log.warning("could not remove %s, left over from an earlier saved index: %s", entry, exc)


def _report_date(report: Report) -> str:
    """A report's date for ordering, newest first ("" for an undated report, which sorts after dated ones)."""
    return report.date or ""


def _told_apart(reports: dict[int, Report], titles: set[str] | None) -> dict[int, Report]:
    """A new map with the reports of these titles (every title for None) told apart from others of their title."""
    group = [r for r in reports.values() if titles is None or r.title in titles]
    tags = distinctions(group)
    for report in group:
        if report.distinction != tags.get(report.id):
            reports[report.id] = replace(report, distinction=tags.get(report.id))
    return reports


def _matches(report: Report, query: str) -> bool:
    """Whether a report is of the year `query` names, or its unit, title or file name holds `query`."""
    try:
        date = parse_date_input(query)
    except ValueError:
        date = None
    if date is not None:
        return report.date is not None and report.date.startswith(date)
    needle = normalize(query)
    return any(needle in normalize(text) for text in (report.unit or "", report.title, report.source))


def _per_report(
    report_of: npt.NDArray[np.int64], passage_ids: npt.NDArray[np.int64], counts: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Matching passages (ascending) grouped by report: report ids, mentions and first passage of each, most
    mentions first, then by id. Linear: a common term is in most of a million passages."""
    totals = np.bincount(report_of, weights=counts)  # report ids are small integers
    report_ids = np.flatnonzero(totals)
    mentions = totals[report_ids].astype(np.int64)
    # a report's passages sit together: the head of each run, then the smallest head per report
    heads = np.flatnonzero(np.r_[True, report_of[1:] != report_of[:-1]])
    first = np.full(totals.size, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, report_of[heads], passage_ids[heads])
    order = np.lexsort((report_ids, -mentions))
    return report_ids[order], mentions[order], first[report_ids[order]]


def _diversify(hits: Sequence[tuple[int, int, float]], limit: int, per_report: int) -> list[tuple[int, int, float]]:
    """Keep the ranking but let no report take more than `per_report` places while other reports have hits."""
    chosen: list[tuple[int, int, float]] = []
    spill: list[tuple[int, int, float]] = []
    taken: dict[int, int] = defaultdict(int)
    for hit in hits:
        if taken[hit[1]] < per_report:
            chosen.append(hit)
            taken[hit[1]] += 1
        else:
            spill.append(hit)
        if len(chosen) == limit:
            return chosen
    return (chosen + spill)[:limit] if len(chosen) < limit else chosen


def _numbers_marked(quote: Quote, terms: Sequence[str]) -> Quote:
    """The quote with the numbers that stand beside the question's terms marked as well as the terms."""
    numbers = [(start, end) for start, end, _ in numbers_beside(quote.text, terms)]
    if not numbers:
        return quote
    return replace(quote, highlights=_merged([*quote.highlights, *numbers]))


def highlight_spans(text: str, marks: Iterable[str]) -> tuple[tuple[int, int], ...]:
    """Spans of `text` (original characters) where any normalised mark occurs, merged and sorted."""
    norm, origin = normalize_with_offsets(text)
    spans: list[tuple[int, int]] = []
    for mark in marks:
        if not mark:
            continue
        at = norm.find(mark)
        while at != -1:
            spans.append(original_span(origin, at, at + len(mark)))
            at = norm.find(mark, at + len(mark))
    return _merged(spans)


def _merged(spans: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Spans sorted, overlapping or touching ones merged."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)
