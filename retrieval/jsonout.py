"""Every `--json` shape of the `reportbot` commands, in one place (as sqlite-utils formats its output once): the
library returns typed results, and only the command line turns them into JSON."""

from __future__ import annotations

import json
from typing import Any, Literal, assert_never

from .answers import (
    Answer,
    IngestResult,
    MentionAnswer,
    NoMentionAnswer,
    Outline,
    OutOfScopeAnswer,
    PartAnswer,
    PartBlock,
    Quote,
    RankedAnswer,
    Refusal,
    ReportMentions,
    mention_groups,
    question_kind,
    report_unit,
)
from .compare import block_text, points
from .copies import Copies
from .errors import UnreadableReport
from .scope import InScope, OutOfScope, Scope
from .store import Report, StoredParagraph
from .trend import Trend


def answer_json(answer: Answer) -> dict[str, Any]:
    """The object `reportbot ask --json` prints for one question."""
    reports: list[dict[str, Any]] = []
    passages: tuple[Quote, ...] = ()
    term: str | None = None
    nearest = False
    refusal: str | None = None
    scope: InScope | OutOfScope | None = None
    group = None
    mentioned: list[ReportMentions] = []
    match answer:
        case PartAnswer():
            return {
                "query": answer.query,
                "intent": "part",
                "part": answer.part,
                "reports": [_part_block_json(block) for block in answer.blocks],
                "scope": _scope_or_none(answer.scope),
            }
        case RankedAnswer():
            passages, scope = answer.passages, answer.scope
        case MentionAnswer():
            term, passages, scope, group = answer.term, answer.quotes, answer.scope, answer.group
            mentioned = list(answer.reports)
            reports = [_mentioned_json(m) for m in mentioned]
        case NoMentionAnswer():
            term, passages, scope, group = answer.term, answer.nearest, answer.scope, answer.group
            nearest = bool(answer.nearest)
        case OutOfScopeAnswer():
            term, scope, group = answer.term, answer.scope, answer.group
        case Refusal():
            term, refusal = answer.term, answer.reason
        case _:
            assert_never(answer)
    payload: dict[str, Any] = {
        "query": answer.query,
        "intent": question_kind(answer),
        "term": term,
        "reports": reports,
        "passages": [quote_json(q) for q in passages],
        "nearest": nearest,
        "refusal": refusal,
        "scope": _scope_or_none(scope),
    }
    if group is not None:
        payload["group"] = group
        payload["groups"] = [
            {"key": g.key, "mentions": g.mentions, "reports": [m.report.id for m in g.reports]}
            for g in mention_groups(mentioned, group)
        ]
    return payload


def quote_json(quote: Quote) -> dict[str, Any]:
    """A quoted passage in `reportbot ask --json`."""
    return {
        "report_id": quote.report_id,
        "title": quote.title,
        "source": quote.source,
        "section": quote.section,
        "paragraph": quote.paragraph,
        "text": quote.text,
        "score": round(quote.score, 6),
        "highlights": [list(span) for span in quote.highlights],  # [start, end) in text: terms, numbers
    }


def _mentioned_json(m: ReportMentions) -> dict[str, Any]:
    return {"id": m.report.id, "title": m.report.title, "source": m.report.source, "mentions": m.mentions}


def _part_block_json(block: PartBlock) -> dict[str, Any]:
    """One report's part in `reportbot ask --json`."""
    return {
        "report_id": block.report.id,
        "title": block.report.title,
        "source": block.report.source,
        "heading": block.heading,
        "paragraphs": [
            {"number": p.number, "kind": p.kind, "section": p.section, "text": p.text} for p in block.paragraphs
        ],
    }


def named_scope_json(scope: Scope) -> dict[str, list[int] | list[str]]:
    """A scope as the question named it."""
    return {
        "years": list(scope.years),
        "units": list(scope.units),
        "numbers": list(scope.numbers),
        "ids": list(scope.ids),
        "titles": list(scope.titles),
    }


def scope_json(resolution: InScope | OutOfScope) -> dict[str, Any]:
    """A scope as `reportbot ask --json` shows it: as named, the report ids it means or why there are none."""
    if isinstance(resolution, InScope):
        return {
            **named_scope_json(resolution.scope),
            "report_ids": sorted(resolution.report_ids),
            "everything": resolution.everything,
        }
    return {**named_scope_json(resolution.scope), "report_ids": [], "problem": type(resolution.problem).__name__}


def _scope_or_none(resolution: InScope | OutOfScope | None) -> dict[str, Any] | None:
    return None if resolution is None else scope_json(resolution)


def compare_json(answer: PartAnswer) -> dict[str, Any]:
    """The object `reportbot compare --json` prints: the part and one entry per report, newest first."""
    scope = answer.scope
    return {
        "part": answer.part,
        "reports": [_compared_json(block) for block in answer.blocks],
        "scope": None if scope is None else {**named_scope_json(scope.scope), "report_ids": sorted(scope.report_ids)},
    }


def _compared_json(block: PartBlock) -> dict[str, Any]:
    report = block.report
    text = block_text(block)
    return {
        "id": report.id,
        "title": report.title,
        "source": report.source,
        "date": report.date,
        "unit": report_unit(report),
        "section": block.heading,
        "text": text,
        "points": points(text),
    }


def trend_json(trend: Trend) -> dict[str, Any]:
    """The object `reportbot trend --json` prints."""
    name = {"year": "year", "unit": "unit", "report": "report_id"}[trend.by]
    return {
        "term": trend.term,
        "by": trend.by,
        "points": [{name: p.key, "mentions": p.mentions, "reports": p.reports} for p in trend.points],
    }


def copies_json(found: Copies) -> dict[str, Any]:
    """The object `reportbot copies --json` prints."""
    return {
        "report": {"id": found.report.id, "title": found.report.title, "source": found.report.source},
        "min_chars": found.min_chars,
        "share": round(found.share, 4),
        "shared": [
            {
                "id": run.other.id,
                "title": run.other.title,
                "source": run.other.source,
                "paragraph": run.paragraph,
                "other_paragraph": run.other_paragraph,
                "text": run.text,
            }
            for _, runs in found.by_report()
            for run in runs
        ],
        "common_phrases": [{"text": c.text, "reports": c.reports, "paragraph": c.paragraph} for c in found.common],
    }


def feedback_json(row: dict[str, Any]) -> dict[str, Any]:
    """One stored feedback as `reportbot feedback --json` prints it."""
    return {**row, "shown": json.loads(row["shown"])}


def report_json(r: Report) -> dict[str, Any]:
    """A report as `reports --json` and `edit --json` print it."""
    return {
        "id": r.id,
        "title": r.title,
        "date": r.date,
        "unit": r.unit,
        "source": r.source,
        "paragraphs": r.paragraph_count,
        "passages": r.passage_count,
        "ingested_at": r.ingested_at,
    }


def outline_json(outline: Outline) -> dict[str, Any]:
    """A report's outline as `show REPORT --json` prints it."""
    sections = [{"level": s.level, "heading": s.heading, "paragraph": s.paragraph} for s in outline.sections]
    parts = [{"part": run.part, "first": run.first, "last": run.last} for run in outline.parts]
    return report_json(outline.report) | {"sections": sections, "parts": parts}


def paragraph_json(r: Report, p: StoredParagraph) -> dict[str, Any]:
    """One paragraph as `show REPORT PARAGRAPH --json` prints it."""
    return {
        "report_id": r.id,
        "title": r.title,
        "source": r.source,
        "paragraph": p.number,
        "section": p.section,
        "text": p.text,
    }


def removed_json(report: Report, status: Literal["deleted", "pruned"]) -> dict[str, Any]:
    """A report `delete --json` deleted or `ingest --prune --json` pruned."""
    return {"source": report.source, "status": status, "id": report.id, "title": report.title}


def unreadable_json(error: UnreadableReport, reason: str, *, failed: bool) -> dict[str, Any]:
    """A file `ingest --json` did not read, with why in words (`reason`): of a type reports never are
    (unsupported), or failed (with the error's code)."""
    if failed:
        return {"source": error.source, "status": "failed", "code": error.code, "reason": reason}
    return {"source": error.source, "status": "unsupported", "reason": reason}


def ingest_json(result: IngestResult) -> dict[str, Any]:
    """What `ingest --json` prints for a file that was read: added, replaced, unchanged or a duplicate."""
    r = result.report
    return {
        "source": result.source,
        "status": result.status,
        "id": r.id,
        "title": r.title,
        "paragraphs": r.paragraph_count,
        "passages": r.passage_count,
        **({"same_as": r.source} if result.status == "duplicate" else {}),
    }
