"""Answers as files to keep and pass on: a Word document (.docx: the question, each quote with its source line, a
table of counts for mention answers) and, for mention answers, a spreadsheet of report × count (.xlsx or .csv)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from typing import Any, assert_never

from .answers import (
    Answer,
    MentionAnswer,
    NoMentionAnswer,
    OutOfScopeAnswer,
    PartAnswer,
    Quote,
    RankedAnswer,
    Refusal,
    question_kind,
    report_unit,
)
from .copies import Copies
from .library import Library
from .metadata import titled
from .parts import PART_LABELS
from .store import Report

COUNT_COLUMNS = ("报告编号", "标题", "文件", "日期", "单位", "提及次数")
_UNSAFE = re.compile(r'[\\/:*?"<>|\s\x00-\x1f]+')


def complete(library: Library, answer: Answer) -> Answer:
    """The answer with a quote for every mentioned report (a chat quotes only the pages it showed)."""
    if isinstance(answer, MentionAnswer):
        return library.with_quotes(answer, 0, len(answer.reports))
    return answer


def file_stem(answer: Answer) -> str:
    """A file name for an answer: 提及-四下基层, 存在问题, 检索-全县生产总值…"""
    if isinstance(answer, PartAnswer):
        stem = PART_LABELS[answer.part]
    elif question_kind(answer) == "mention" and (term := _term(answer)):
        stem = f"提及-{term}"
    else:
        stem = f"检索-{answer.query}"
    return _UNSAFE.sub("_", stem)[:40].strip("_") or "回答"


def _source_line(quote: Quote) -> str:
    return f"——{titled(quote.title, quote.distinction)} · {quote.section or '正文'} · 第{quote.paragraph}段"


def _term(answer: Answer) -> str | None:
    """The mention term a mention question asked about (None for other questions)."""
    match answer:
        case MentionAnswer() | NoMentionAnswer() | OutOfScopeAnswer() | Refusal():
            return answer.term
        case RankedAnswer() | PartAnswer():
            return None
        case _:
            assert_never(answer)


def count_rows(answer: MentionAnswer) -> list[tuple[Any, ...]]:
    """Report × count: one row per mentioned report, most mentions first."""
    return [_count_row(m.report, m.mentions) for m in answer.reports]


def _count_row(report: Report, mentions: int) -> tuple[Any, ...]:
    return (report.id, report.title, report.source, report.date or "", report_unit(report) or "", mentions)


def answer_docx(answer: Answer) -> bytes:
    """The answer as a Word document."""
    return answers_docx([answer])


def answers_docx(answers: Sequence[Answer]) -> bytes:
    """Answers as one Word document, each under its question."""
    from docx import Document

    document = Document()
    for answer in answers:
        _add_answer(document, answer)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _add_answer(document: Any, answer: Answer) -> None:
    from docx.shared import Pt, RGBColor

    document.add_heading(answer.query, level=1)
    grey = RGBColor(0x66, 0x66, 0x66)

    def quote_paragraphs(quote: Quote) -> None:
        body = document.add_paragraph()
        body.paragraph_format.left_indent = Pt(18)
        last = 0
        for start, end in quote.highlights:
            body.add_run(quote.text[last:start])
            body.add_run(quote.text[start:end]).bold = True
            last = end
        body.add_run(quote.text[last:])
        source = document.add_paragraph().add_run(_source_line(quote))
        source.font.size, source.font.color.rgb = Pt(9), grey

    match answer:
        case PartAnswer():
            document.add_paragraph(f"共有{len(answer.blocks)}份报告有“{PART_LABELS[answer.part]}”部分。")
            for block in answer.blocks:
                document.add_heading(
                    f"#{block.report.id} {titled(*_names(block.report))} {block.heading}".strip(),
                    level=2,
                )
                for paragraph in block.paragraphs:
                    if paragraph.kind == "heading" and paragraph.text == block.heading:
                        continue  # in the block's own heading
                    if paragraph.kind == "heading":
                        document.add_paragraph().add_run(paragraph.text).bold = True
                    else:
                        document.add_paragraph(paragraph.text)
        case MentionAnswer():
            document.add_paragraph(f"共有{len(answer.reports)}份报告提到“{answer.term}”。")
            table = document.add_table(rows=1, cols=len(COUNT_COLUMNS))
            table.style = "Table Grid"
            for cell, name in zip(table.rows[0].cells, COUNT_COLUMNS, strict=True):
                cell.text = name
            for row in count_rows(answer):
                for cell, value in zip(table.add_row().cells, row, strict=True):
                    cell.text = str(value)
            for entry in answer.reports:
                document.add_heading(
                    f"#{entry.report.id} {titled(*_names(entry.report))} · {entry.mentions}处",
                    level=2,
                )
                if entry.quote is not None:
                    quote_paragraphs(entry.quote)
        case NoMentionAnswer():
            document.add_paragraph(f"没有报告提到“{answer.term}”。")
            for quote in answer.nearest:
                quote_paragraphs(quote)
        case RankedAnswer():
            if not answer.passages:
                document.add_paragraph("没有找到相关内容。")
            for quote in answer.passages:
                quote_paragraphs(quote)
        case OutOfScopeAnswer():
            if answer.asked == "mention":
                document.add_paragraph(f"没有报告提到“{answer.term}”。")
            else:
                document.add_paragraph("没有找到相关内容。")
        case Refusal():
            document.add_paragraph("（问题为空或太长，没有回答）")
        case _:
            assert_never(answer)


def _names(report: Report) -> tuple[str, str | None]:
    return report.title, report.distinction


def copies_docx(found: Copies) -> bytes:
    """The copies answer as a Word document: the share, each other report with the shared text, then the common
    phrasing apart."""
    from docx import Document

    document = Document()
    report = found.report
    document.add_heading(f"#{report.id} {titled(*_names(report))}与其他报告相同的文字", level=1)
    document.add_paragraph(
        f"连续 {found.min_chars} 字以上相同（规范化后）：共 {len(found.shared)} 处，占全文 {found.share:.1%}。"
    )
    for other, runs in found.by_report():
        document.add_heading(f"#{other.id} {titled(*_names(other))} · {len(runs)} 处", level=2)
        for run in runs:
            document.add_paragraph(run.text)
            document.add_paragraph(f"——本报告第{run.paragraph}段 ↔ #{other.id} 第{run.other_paragraph}段")
    if found.common:
        document.add_heading("常见表述（多份报告都有，不算重复）", level=2)
        for phrase in found.common:
            document.add_paragraph(f"{phrase.text}（第{phrase.paragraph}段；{phrase.reports} 份其他报告）")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def counts_xlsx(answers: Sequence[MentionAnswer]) -> bytes:
    """Report × count of mention answers as a spreadsheet: one sheet per answer, named by its term."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    for blank in workbook.worksheets:  # a new workbook has one empty sheet; each answer gets its own
        workbook.remove(blank)
    for number, answer in enumerate(answers, 1):
        name = _UNSAFE.sub("_", answer.term)[:28] or "sheet"
        sheet = workbook.create_sheet(f"{number}-{name}"[:31])
        sheet.append(list(COUNT_COLUMNS))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in count_rows(answer):
            sheet.append(list(row))
        sheet.column_dimensions["B"].width = 48
        sheet.column_dimensions["C"].width = 36
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def counts_csv(answers: Sequence[MentionAnswer]) -> str:
    """Report × count of mention answers as CSV (UTF-8 with a BOM, so Excel reads the Chinese): the term first."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["词语", *COUNT_COLUMNS])
    for answer in answers:
        for row in count_rows(answer):
            writer.writerow([answer.term, *row])
    return "\ufeff" + out.getvalue()


def export_files(library: Library, answer: Answer) -> list[tuple[str, bytes]]:
    """The files 导出 sends for an answer: (file name, bytes) of the .docx and, for a mention answer, the .xlsx."""
    answer = complete(library, answer)
    stem = file_stem(answer)
    files = [(f"{stem}.docx", answer_docx(answer))]
    if isinstance(answer, MentionAnswer):  # a report × count table
        files.append((f"{stem}.xlsx", counts_xlsx([answer])))
    return files
