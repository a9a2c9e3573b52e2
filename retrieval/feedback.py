"""Readers' feedback on answers (👍/👎 and what they expected): what an answer showed, as it is stored with the
vote, and the export `reportbot feedback` prints."""

from __future__ import annotations

import json
from typing import Any, Literal, assert_never

from .answers import (
    Answer,
    MentionAnswer,
    NoMentionAnswer,
    OutOfScopeAnswer,
    PartAnswer,
    RankedAnswer,
    Refusal,
    question_kind,
    quoted,
)
from .store import Store

Vote = Literal["up", "down"]


def shown(answer: Answer) -> list[dict[str, Any]]:
    """What an answer showed the reader: its passages (report, paragraph, text), its mentioned reports with their
    counts, or the reports whose part it gave."""
    match answer:
        case PartAnswer():
            return [
                {"report_id": b.report.id, "paragraphs": [p.number for p in b.paragraphs], "heading": b.heading}
                for b in answer.blocks
            ]
        case MentionAnswer():
            return [{"report_id": m.report.id, "mentions": m.mentions} for m in answer.reports]
        case RankedAnswer() | NoMentionAnswer() | OutOfScopeAnswer() | Refusal():
            return [{"report_id": q.report_id, "paragraph": q.paragraph, "text": q.text} for q in quoted(answer)]
        case _:
            assert_never(answer)


class Feedback:
    """Readers' votes on answers and what they expected, kept in the library's database."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def vote(self, *, answer_key: str, chat_id: int | None, user_id: int | None, vote: Vote, answer: Answer) -> int:
        """Store a vote with the question and what the answer showed; the feedback's id (a second press by the
        same reader on the same answer changes the vote)."""
        return self._store.add_feedback(
            answer_key=answer_key,
            chat_id=chat_id,
            user_id=user_id,
            vote=vote,
            question=answer.query,
            intent=question_kind(answer),
            shown=json.dumps(shown(answer), ensure_ascii=False),
        )

    def comment(self, feedback_id: int, comment: str) -> bool:
        """What the reader expected, after a 👎; False when that feedback is gone."""
        return self._store.add_feedback_comment(feedback_id, comment)

    def counts(self) -> dict[str, int]:
        """👍, 👎 and the comments given with them."""
        return self._store.feedback_counts()

