"""Properties over any input: the question parser, the retriever on the bundled corpus, the Telegram renderer, the
`reportbot ask` command and file ingest. Any Unicode (control characters, RTL marks, lone surrogates, emoji
sequences, HTML/Markdown/SQL/format syntax, 100,000 characters) gives an answer or a clear refusal, never an
exception; every message the bot would send is Telegram HTML that Telegram accepts, within its limits.
"""

from __future__ import annotations

import dataclasses
import html
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot import render
from bot.cli import cli
from bot.texts import EN, ZH, unreadable, unreadable_reason
from fakebotapi import MAX_CALLBACK_DATA_BYTES, MAX_MESSAGE_LENGTH, FakeBotApi, utf16_len
from retrieval import (
    Answer,
    Library,
    MentionAnswer,
    NoMentionAnswer,
    Outline,
    Quote,
    RankedAnswer,
    Report,
    ReportMentions,
    Segmenter,
    Store,
    UnreadableReport,
)
from retrieval.answers import quoted
from retrieval.digest import Digest, NewReport
from retrieval.extract import SUPPORTED_SUFFIXES, clean_line
from retrieval.ingest import ingest_bytes
from retrieval.jsonout import answer_json
from retrieval.query import MAX_QUERY_CHARS, parse_question
from retrieval.store import StoredParagraph, StoredSection
from retrieval.structure import PASSAGE_MAX_CHARS
from tests.support import ROOT
from tests.test_extract import SAMPLE_DOCX, SAMPLE_PDF, build_docx

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
THOROUGH = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RENDER = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])  # big messages

# --- inputs --------------------------------------------------------------------------------------------------

# Every code point, lone surrogates (category Cs) included: Hypothesis leaves those out unless asked.
ANY_CHAR = st.characters(exclude_categories=())
FRAGMENTS = [
    "<b>", "</b>", "<blockquote>", "<a href='x'>", "<tg-spoiler>", "<", ">", "&", "&amp;", "&lt", "&#0;", "&#xD800;",
    '"', "'", "*bold*", "_it_", "`code`", "```", "[link](http://x.y)", "~~", "||", "\\", "#", "##paidbegin##",
    "{0}", "{}", "{title}", "%s", "%(x)s", "%n", "$1", ".*", "(", "[", "../../etc/passwd",
    "'; DROP TABLE reports; --", '" OR 1=1 --', "\u202e", "\u200f", "\u200b", "\u2066", "\ufeff", "\u00ad",
    "\x00", "\x07", "\x1b[31m", "\r\n", "\r", "\t", "\x0b", "\x85", "\u2028", "\u3000", " ",
    "👨‍👩‍👧", "🏳️‍🌈", "👍🏽", "\U0001f600", "\U00020000", "é", "é", "\ud800", "\udfff", "\udcff", "\ud83d",
    "四下基层", "三会一课", "全县生产总值", "哪些报告提到", "A总书记", "？", "。", "“", "”", "的", "吗",
]  # fmt: skip
NASTY = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(ANY_CHAR, max_size=12)), max_size=24).map("".join)
LONG = st.builds(
    lambda unit, n: (unit * (100_000 // len(unit) + 1))[:n],
    NASTY.filter(bool),
    st.sampled_from([MAX_QUERY_CHARS, MAX_QUERY_CHARS + 1, 4096, 100_000]),
)
TEXT = st.one_of(NASTY, st.text(ANY_CHAR, max_size=80), LONG)


def valid_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# --- what Telegram accepts -----------------------------------------------------------------------------------

TELEGRAM = FakeBotApi()  # never started: only its request validation is used


def check_message(text: str) -> None:
    """What Telegram checks for a sendMessage/editMessageText with parse_mode HTML (the fake server's rules), plus
    the raw length: valid UTF-8, well-formed HTML, 1..4096 UTF-16 units after entity parsing, 4096 raw."""
    assert valid_utf8(text), "lone surrogates cannot be sent"
    assert utf16_len(text) <= MAX_MESSAGE_LENGTH, f"{utf16_len(text)} UTF-16 units of HTML"
    plain, _ = TELEGRAM._format_text(text, "HTML", None)  # parse_html, then non-empty and <= 4096 UTF-16 units
    assert 0 < utf16_len(plain) <= MAX_MESSAGE_LENGTH and plain.strip()


def check_reply(reply: render.Reply) -> None:
    check_message(reply.text)
    for row in reply.keyboard:
        for label, data in row:
            assert label.strip() and valid_utf8(label)
            assert 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
    if reply.markup is not None:
        FakeBotApi._check_reply_markup(reply.markup.to_dict())


def check_answer(answer: Answer, lang: str) -> None:
    """Every page the bot could show for this answer (first, paging buttons, refusal) and every inline result."""
    refusal = render.refusal_reply(answer, lang)
    if refusal is not None:
        check_reply(refusal)
        return
    pages = render.page_count(answer, lang)
    for page in range(-1, pages + 1):  # out of range pages are clamped
        check_reply(render.answer_reply(answer, lang, page=page, token="k3f2a" if pages > 1 else None))
    for quote in quoted(answer):
        check_message(render.quote_block(quote, lang))  # inline mode's message text


# --- the question parser -------------------------------------------------------------------------------------


@THOROUGH
@given(text=TEXT)
@example("哪些报告提到" * 20_000)
@example("提到哪些报告" * 20_000)
@example("<b><b>哪些报告提到<b><b><b><b><b><b><b>" * 4000)  # fails the how-often patterns in quadratic time
def test_parse_question_reads_anything(text: str) -> None:
    started = time.perf_counter()
    parsed = parse_question(text)
    assert time.perf_counter() - started < 1.0
    assert parsed.text == " ".join(text.split())
    assert parsed.intent in ("mention", "search")
    if parsed.intent == "mention":
        assert parsed.term and parsed.term in parsed.text
    else:
        assert parsed.term is None


@FAST
@given(term=st.text(st.sampled_from("四下基层三会一课主题党日调研工作群众干部 AB12"), min_size=1, max_size=30))
def test_mention_questions_find_their_term(term: str) -> None:
    term = " ".join(term.split())
    if term:
        for question in (f"哪些报告提到{term}", f"哪些报告提到“{term}”？", f"{term}出现在哪些报告中"):
            assert parse_question(question).term == term


# --- the retriever on the bundled corpus ---------------------------------------------------------------------


@THOROUGH
@given(text=TEXT, lang=st.sampled_from([ZH, EN]))
@example("\ud800", ZH)
@example("哪些报告提到\udcff四下基层", ZH)
@example("哪些报告提到" + "&" * 494, ZH)
@example("四" * 100_000, EN)
def test_retriever_answers_or_refuses_anything(corpus_library: Library, text: str, lang: str) -> None:
    for answer in (
        corpus_library.ask(text, limit=render.SEARCH_LIMIT),
        corpus_library.search(text, limit=render.SEARCH_LIMIT),
        corpus_library.mentions(text, limit=render.SEARCH_LIMIT),
    ):
        assert valid_utf8(answer.query) and valid_utf8(getattr(answer, "term", None) or "")
        json.dumps(answer_json(answer), ensure_ascii=False).encode("utf-8")
        for quote in quoted(answer):
            assert all(0 <= start < end <= len(quote.text) for start, end in quote.highlights)
        check_answer(answer, lang)


# --- the renderer on anything the library can hand it --------------------------------------------------------


@pytest.fixture(scope="module")
def samples(corpus_library: Library) -> tuple[Report, Quote, Outline, StoredParagraph]:
    """Real objects, whose fields the strategies below replace (so new fields keep their real values)."""
    answer = corpus_library.ask("哪些报告提到四下基层")
    report = answer.reports[0].report
    _, paragraph = corpus_library.paragraph(report.id, 2)
    return report, quoted(answer)[0], corpus_library.outline(report.id), paragraph


# Titles, headings, file names, sections: whatever a file can declare (a .md "# " line, a .docx Title), long too.
LABELS = st.one_of(
    NASTY, st.text(ANY_CHAR, max_size=300), st.sampled_from(["&" * 5000, "𠀀" * 3000, "<b>" * 40_000, "四" * 100_000])
).map(lambda s: s.encode("utf-8", "replace").decode())
IDS = st.integers(1, 10**9)
UTF8 = NASTY.map(lambda s: s.encode("utf-8", "replace").decode())  # text that came through SQLite is valid


@st.composite
def quotes(draw: st.DrawFn, sample: Quote) -> Quote:
    """A passage as the library quotes it: at most PASSAGE_MAX_CHARS (cut_passages' bound), marked spans."""
    text = draw(st.one_of(NASTY, st.sampled_from(["&" * PASSAGE_MAX_CHARS, "<b>" * 100, "四" * PASSAGE_MAX_CHARS])))
    text = text.encode("utf-8", "replace").decode()[:PASSAGE_MAX_CHARS] or "。"
    cuts = sorted(set(draw(st.lists(st.integers(0, len(text)), max_size=20))))
    spans = tuple((a, b) for a, b in zip(cuts[::2], cuts[1::2], strict=False) if a < b)
    return dataclasses.replace(
        sample,
        passage_id=draw(IDS),
        report_id=draw(IDS),
        title=draw(LABELS),
        section=draw(LABELS),
        paragraph=draw(IDS),
        text=text,
        highlights=spans,
    )


@st.composite
def reports(draw: st.DrawFn, sample: Report) -> Report:
    return dataclasses.replace(
        sample,
        id=draw(IDS),
        title=draw(LABELS.filter(lambda s: clean_line(s) != "")),
        source=draw(LABELS),
        paragraph_count=draw(st.integers(0, 10**6)),
    )


@THOROUGH
@given(data=st.data(), lang=st.sampled_from([ZH, EN]), kind=st.sampled_from(["mention", "nearest", "search"]))
def test_answers_render_as_valid_messages(
    samples: tuple[Report, Quote, Outline, StoredParagraph], data: st.DataObject, lang: str, kind: str
) -> None:
    report, quote, _, _ = samples
    found = data.draw(st.lists(quotes(quote), max_size=render.SEARCH_LIMIT))
    query = data.draw(UTF8.map(lambda s: s[:MAX_QUERY_CHARS]))
    if kind == "mention":  # a matched term is inside a passage, so it is no longer than one
        term = data.draw(UTF8.map(lambda s: s[:PASSAGE_MAX_CHARS]))
        mentions = tuple(ReportMentions(data.draw(reports(report)), data.draw(IDS), q) for q in found)
        answer: Answer = MentionAnswer(query, term, mentions, tuple(found)) if found else NoMentionAnswer(query, term)
    elif kind == "nearest":
        answer = NoMentionAnswer(query, query, tuple(found))
    else:
        answer = RankedAnswer(query, tuple(found))
    check_answer(answer, lang)


@RENDER
@given(data=st.data(), lang=st.sampled_from([ZH, EN]))
def test_browsing_renders_as_valid_messages(
    samples: tuple[Report, Quote, Outline, StoredParagraph], data: st.DataObject, lang: str
) -> None:
    report, _, outline, paragraph = samples
    listing = data.draw(st.lists(reports(report), max_size=2 * render.REPORTS_PER_PAGE + 1))
    for page in range(-1, len(listing) // render.REPORTS_PER_PAGE + 2):
        check_reply(render.reports_reply(listing, lang, page))
    headings = st.builds(clean_line, LABELS).filter(bool)
    sections = data.draw(
        st.lists(st.builds(StoredSection, st.integers(0, 500), st.integers(1, 3), headings, IDS), max_size=60)
    )
    shown_outline = dataclasses.replace(outline, report=data.draw(reports(report)), sections=tuple(sections))
    for reply in render.outline_replies(shown_outline, lang):
        check_reply(reply)
    text = data.draw(LABELS).strip() or "。"
    shown = dataclasses.replace(paragraph, text=text, section=data.draw(LABELS), number=data.draw(IDS))
    check_paragraph(render.paragraph_replies(data.draw(reports(report)), shown, lang), text)
    check_reply(render.start_reply(lang))


def check_paragraph(replies: list[render.Reply], text: str) -> None:
    for reply in replies:
        check_reply(reply)
    # nothing lost when split: the quoted pieces put together are the paragraph
    pieces = (reply.text.split("<blockquote>", 1)[1].removesuffix("</blockquote>") for reply in replies)
    assert html.unescape("".join(pieces)) == text


@pytest.mark.parametrize(
    "text",
    ["四下基层&<b>。" * 9000, "𠀀&" * 50_000, "👍🏽" * 30_000, "A" * 100_000, ("第一句。" * 10 + "\n") * 3000],
    ids=["sentences", "wide-and-escaped", "emoji", "one-word", "lines"],
)
def test_huge_paragraphs_split_into_valid_messages(
    samples: tuple[Report, Quote, Outline, StoredParagraph], text: str
) -> None:
    report, _, _, paragraph = samples
    check_paragraph(render.paragraph_replies(report, dataclasses.replace(paragraph, text=text), ZH), text)


@RENDER
@given(data=st.data(), lang=st.sampled_from([ZH, EN]))
def test_digests_render_as_valid_messages(
    samples: tuple[Report, Quote, Outline, StoredParagraph], data: st.DataObject, lang: str
) -> None:
    report, quote, _, _ = samples
    new = data.draw(
        st.lists(
            st.builds(
                NewReport,
                reports(report),
                st.lists(LABELS, max_size=3).map(tuple),
                st.lists(UTF8.map(lambda s: s[:PASSAGE_MAX_CHARS]), max_size=6).map(tuple),  # index terms
            ),
            max_size=8,
        )
    )
    watched = st.tuples(UTF8.map(lambda s: s[:30] or "词"), st.lists(quotes(quote), min_size=1, max_size=3).map(tuple))
    digest = Digest(
        date(2026, 11, 23).isoformat(),
        tuple(new),
        tuple(data.draw(st.lists(watched, max_size=6))),
        data.draw(st.one_of(st.none(), quotes(quote))),
        report_seq=1,
        passage_id=1,
    )
    for reply in render.digest_replies(digest, lang):
        check_reply(reply)


# --- `reportbot ask` -----------------------------------------------------------------------------------------


@FAST
@given(questions=st.lists(TEXT, min_size=1, max_size=4), as_json=st.booleans())
@example(["\udcff\udcfe", "哪些报告提到\ud800"], True)
def test_cli_ask_answers_anything(corpus_library: Library, questions: list[str], as_json: bool) -> None:
    runner = CliRunner()
    args = ["ask", *(["--json"] if as_json else []), "--", *questions]
    result = runner.invoke(cli, args, obj={"library": corpus_library})
    assert result.exception is None and result.exit_code == 0, result.output
    if as_json:  # one object per "\n"-terminated line (str.splitlines would also cut at U+0085, U+2028, ...)
        lines = result.output.split("\n")[:-1]
        assert len(lines) == len(questions)
        assert all(isinstance(json.loads(line), dict) for line in lines)


def _reportbot_env(db: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPORTBOT_", "TELEGRAM_"))}
    return {**env, "REPORTBOT_DB": db, "PYTHONPATH": str(ROOT)}


@pytest.mark.timeout(60)
def test_cli_ask_survives_undecodable_bytes_and_huge_input(corpus_library: Library, tmp_path: Path) -> None:
    """A real process: argv and stdin bytes that are not UTF-8 (Python turns them into lone surrogates),
    100,000 characters on stdin, the strict stdin decoding of a UTF-8 locale."""
    command = [sys.executable, "-c", "from bot.cli import main; main()", "ask", "--json"]
    env = _reportbot_env(str(corpus_library.store.path))
    argv = [b"\xff\xfe\xe5\x9b\x9b\xe4\xb8\x8b", "哪些报告提到四下基层\udcff".encode("utf-8", "surrogateescape")]
    stdin = b"\xed\xa0\x80\xff\n" + "哪些报告提到四下基层\n".encode() + ("四" * 100_000).encode() + b"\n\x00\x1b\n"
    for extra_env in ({}, {"PYTHONIOENCODING": "utf-8:strict"}):
        done = subprocess.run(
            [*command, *argv], env={**env, **extra_env}, cwd=tmp_path, capture_output=True, timeout=30
        )
        assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
        answers = [json.loads(line) for line in done.stdout.splitlines()]
        assert len(answers) == 2 and answers[1]["intent"] == "mention" and answers[1]["reports"] == []
        done = subprocess.run(
            command, input=stdin, env={**env, **extra_env}, cwd=tmp_path, capture_output=True, timeout=30
        )
        assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
        answers = [json.loads(line) for line in done.stdout.splitlines()]
        assert [a["refusal"] for a in answers] == [None, None, "too_long", None]
        assert len(answers[1]["reports"]) == 2


# --- ingest of any bytes -------------------------------------------------------------------------------------


def pdf_with_text_map(codes: list[int], shown: bytes) -> bytes:
    """A one-page PDF whose font's ToUnicode map sends bytes 0x41.. to `codes` (UTF-16 code units, so lone
    surrogates are possible: pypdf decodes these maps with surrogatepass), showing `shown`."""
    pairs = b" ".join(b"<%02X> <%04X>" % (0x41 + i, code) for i, code in enumerate(codes))
    cmap = (
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /F def 1 begincodespacerange"
        b" <00> <FF> endcodespacerange %d beginbfchar " % len(codes) + pairs + b" endbfchar endcmap"
        b" CMapName currentdict /CMap defineresource pop end end"
    )
    shown = shown.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    content = b"BT /F1 12 Tf 72 720 Td (" + shown + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


SURROGATE_PDF = pdf_with_text_map([0xD800, 0x4E2D, 0xDFFF], b"ABCBABC BA")


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """What a .docx can hold: XML 1.0 characters only (python-docx refuses the rest)."""
    return _NOT_XML.sub("", text)


def encoded(text: str, encoding: str) -> bytes:
    return text.encode(encoding, "surrogatepass" if encoding.startswith("utf") else "replace")


FILES = st.one_of(
    st.tuples(st.binary(max_size=3000), st.sampled_from(sorted(SUPPORTED_SUFFIXES))),
    st.tuples(
        st.builds(encoded, NASTY, st.sampled_from(["utf-8", "utf-16", "utf-16-le", "gb18030", "utf-32"])),
        st.sampled_from([".txt", ".md"]),
    ),
    st.tuples(st.integers(0, len(SAMPLE_DOCX)).map(lambda n: SAMPLE_DOCX[:n]), st.just(".docx")),
    st.tuples(st.integers(0, len(SAMPLE_PDF)).map(lambda n: SAMPLE_PDF[:n]), st.just(".pdf")),
    st.tuples(
        st.builds(pdf_with_text_map, st.lists(st.integers(0, 0xFFFF), min_size=1, max_size=8), st.binary(max_size=60)),
        st.just(".pdf"),
    ),
    st.tuples(st.builds(lambda s: build_docx([(s, None)]), NASTY.map(xml_text)), st.just(".docx")),
)


@pytest.fixture(scope="module")
def fuzz_library(tmp_path_factory: pytest.TempPathFactory, segmenter: Segmenter) -> Iterator[Library]:
    """One library for the whole fuzz run (examples share it, as uploads share the bot's)."""
    library = Library(Store(tmp_path_factory.mktemp("fuzz") / "reports.db"), segmenter)
    yield library
    library.store.close()


def _state(library: Library) -> tuple[object, ...]:
    conn: sqlite3.Connection = library.store.db.conn
    return conn.total_changes, library.store.counts(), library.store.max_report_seq(), library.store.max_passage_id()


@THOROUGH
@given(file=FILES, stem=NASTY.map(lambda s: s[:40]))
@example((SURROGATE_PDF, ".pdf"), "surrogates")
@example(("第一行\ud800\n二、问题\n我们推进工作。\n".encode("utf-8", "surrogatepass"), ".txt"), "cesu")
def test_ingest_takes_any_bytes_or_says_why_not(fuzz_library: Library, file: tuple[bytes, str], stem: str) -> None:
    data, suffix = file
    before = _state(fuzz_library)
    try:
        result = ingest_bytes(fuzz_library, stem + suffix, data)
    except UnreadableReport as refusal:
        assert refusal.code and unreadable_reason(refusal, ZH) and unreadable_reason(refusal, EN)
        check_message(render.esc(unreadable(refusal, ZH)))
        assert _state(fuzz_library) == before, "a refused file changed the database"
        return
    assert result.status in ("added", "replaced", "unchanged", "duplicate")
    report = result.report
    assert valid_utf8(report.title) and valid_utf8(report.source) and "/" not in report.source
    counts = {t: fuzz_library.store.counts()[t] for t in ("paragraphs", "passages")}
    assert counts["paragraphs"] >= report.paragraph_count >= 1
    # from bytes to Telegram: the new report browses and renders like any other
    for reply in render.outline_replies(fuzz_library.outline(report.id), ZH):
        check_reply(reply)
    found, paragraph = fuzz_library.paragraph(report.id, report.paragraph_count)
    for reply in render.paragraph_replies(found, paragraph, ZH):
        check_reply(reply)
    check_answer(fuzz_library.ask(paragraph.text[:50]), ZH)


def test_folder_ingest_survives_a_pdf_that_maps_to_lone_surrogates(tmp_path: Path, segmenter: Segmenter) -> None:
    from retrieval.ingest import ingest_paths

    (tmp_path / "a.txt").write_text("好报告标题\n一、工作\n我们推进四下基层工作。\n", encoding="utf-8")
    (tmp_path / "b.pdf").write_bytes(SURROGATE_PDF)
    library = Library(Store(tmp_path / "reports.db"), segmenter)
    try:
        summary = ingest_paths(library, [tmp_path])
        assert [r.source for r in summary.results] == ["a.txt", "b.pdf"]
    finally:
        library.store.close()
