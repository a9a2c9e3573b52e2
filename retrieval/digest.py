"""The daily digest for one subscriber: new reports with an extractive summary, watched terms, or a passage
of the day. Plain data; the bot renders and sends it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .answers import Quote
from .library import Library
from .normalize import normalize
from .store import Report
from .structure import split_sentences

SUMMARY_SENTENCES = 3
KEY_TERMS = 6
WATCH_QUOTES = 3
_DAY_STEP = 7919  # a prime: consecutive days land on different passages


@dataclass(frozen=True)
class NewReport:
    """A report added since the subscriber's last digest."""

    report: Report
    summary: tuple[str, ...]
    key_terms: tuple[str, ...]


@dataclass(frozen=True)
class Digest:
    """What one subscriber gets today, and the cursors to store once it was delivered."""

    day: str
    new_reports: tuple[NewReport, ...]
    watch_hits: tuple[tuple[str, tuple[Quote, ...]], ...]
    passage_of_the_day: Quote | None
    report_seq: int
    passage_id: int


def summarize(library: Library, report: Report) -> NewReport:
    """Two or three sentences that carry the report's most distinctive terms, in document order."""
    texts = library.store.paragraph_texts([report.id])
    scored: list[tuple[float, int, str]] = []
    term_weights: dict[str, float] = {}
    order = 0
    for (_, number), text in sorted(texts.items()):
        for start, end in split_sentences(text):
            sentence = text[start:end].strip()
            if len(sentence) < 15:
                continue
            terms = [term for term in library.segmenter.terms(sentence) if len(term) > 1 and not term.isdigit()]
            weights = [library.idf(term) for term in set(terms)]
            for term in set(terms):
                term_weights[term] = term_weights.get(term, 0.0) + library.idf(term)
            # favour early sentences a little: openings state what a report is about
            score = sum(weights) / (len(terms) ** 0.5 + 1) + (1.0 if number <= 2 else 0.0)
            scored.append((score, order, sentence))
            order += 1
    best = sorted(sorted(scored, reverse=True)[:SUMMARY_SENTENCES], key=lambda item: item[1])
    key_terms = tuple(sorted(term_weights, key=lambda term: (-term_weights[term], term))[:KEY_TERMS])
    return NewReport(report, tuple(sentence for _, _, sentence in best), key_terms)


def build_digest(
    library: Library, *, day: date, last_report_seq: int, last_passage_id: int, watches: list[str]
) -> Digest:
    """The digest for one subscriber as of `day`."""
    new_reports = tuple(summarize(library, library.told_apart(r)) for r in library.store.reports_since(last_report_seq))
    hits: list[tuple[str, tuple[Quote, ...]]] = []
    for term in watches:
        quotes = library.new_mentions(normalize(term), after_passage_id=last_passage_id, limit=WATCH_QUOTES)
        if quotes:
            hits.append((term, tuple(quotes)))
    of_the_day = None
    if not new_reports and not hits:
        of_the_day = library.passage_of_the_day(day.toordinal() * _DAY_STEP)
    return Digest(
        day.isoformat(),
        new_reports,
        tuple(hits),
        of_the_day,
        report_seq=library.store.max_report_seq(),
        passage_id=library.store.max_passage_id(),
    )
