"""Every format an office sends, read faithfully: the same report as .docx, .doc, .wps, .rtf, .odt (real
LibreOffice), and what is indexed is the source's text, term for term. Bad files get one clear reason each."""

from __future__ import annotations

import dataclasses
import difflib
import io
import random
import re
import zipfile
from pathlib import Path

import msoffcrypto.format.ooxml
import pytest
from PIL import Image

from bot.texts import ZH, unreadable_reason
from officefiles import (
    HEADER,
    government_page,
    libreoffice_export,
    mention_counts,
    photo_jpeg,
    rendered_pages,
    sample_terms,
    scanned_pdf,
    source_paragraphs,
    word_document,
)
from retrieval.convert import DEFAULT_LIMITS
from retrieval.errors import UnreadableReport
from retrieval.extract import SUPPORTED_SUFFIXES, extract, read_report_file, sniff

from .support import REPORTS

SOURCE = REPORTS / "001_21f5e1b268e4dc66.txt"
TITLE = "主题教育开展情况汇报"


@pytest.fixture(scope="module")
def paragraphs() -> list[str]:
    return source_paragraphs(SOURCE)


@pytest.fixture(scope="module")
def files(paragraphs: list[str]) -> dict[str, bytes]:
    """The report as .docx and as LibreOffice's .doc, .odt and .rtf exports of it."""
    original = word_document(TITLE, paragraphs)
    return {"docx": original, **libreoffice_export(original, ["doc", "odt", "rtf", "pdf"])}


@pytest.mark.parametrize(("kind", "name"), [("doc", "a.doc"), ("odt", "a.odt"), ("rtf", "a.rtf"), ("doc", "a.wps")])
def test_office_formats_read_like_the_word_original(
    files: dict[str, bytes], paragraphs: list[str], kind: str, name: str
) -> None:
    result = extract(name, files[kind])
    assert result.kind == name.rsplit(".", 1)[1]
    # every paragraph exactly as written, in order; the running header and the page numbers are not text
    assert list(result.lines) == [TITLE, *paragraphs]
    assert HEADER not in result.lines
    assert result.title == TITLE
    # headings stay headings (Word's heading styles survive the conversion)
    headings = {result.lines[i] for i, level in result.heading_levels.items() if level <= 2}
    assert "一、进展情况" in headings or any(line.startswith("一、") for line in headings)
    terms = sample_terms(paragraphs)
    assert len(terms) > 100
    assert mention_counts(result.lines, terms) == mention_counts([TITLE, *paragraphs], terms)


def test_pdf_exported_from_word_reads_as_the_source(files: dict[str, bytes], paragraphs: list[str]) -> None:
    result = extract("总结.pdf", files["pdf"])
    # no space between Chinese and digits ("2024 年"), no running header, no page numbers, and every paragraph
    # whole again across line and page breaks: exactly the source's paragraphs
    assert list(result.lines) == [TITLE, *paragraphs]
    terms = sample_terms(paragraphs)
    assert sum(bool(re.fullmatch(r"\d+[年月日个项名次%]", term)) for term in terms) > 10  # "93名", not "93 名"
    assert mention_counts(result.lines, terms) == mention_counts([TITLE, *paragraphs], terms)
    # the title is the large line that opens the first page, never the running header; headings by type size
    assert result.title == TITLE
    headings = [result.lines[i] for i, level in sorted(result.heading_levels.items()) if level == 2]
    assert headings == [p for p in paragraphs if re.match("[一二三四五六七八九十]+、", p) and len(p) < 40]


def test_kind_is_read_from_the_bytes(files: dict[str, bytes]) -> None:
    assert sniff(files["docx"]) == "docx"
    assert sniff(files["doc"]) == "ole"
    assert sniff(files["odt"]) == "odt"
    assert sniff(files["rtf"]) == "rtf"
    assert sniff(b"%PDF-1.7\n") == "pdf"
    assert sniff(b"\x89PNG\r\n\x1a\n....") == "image"
    assert sniff(b"\xff\xd8\xff\xe0....") == "image"
    assert sniff("各位代表：".encode()) == "text"
    # a WPS file in the OOXML format under its own name is read as the Word file it is
    assert extract("报告.wps", files["docx"]).kind == "docx"
    # a .doc renamed .pdf is read as the .doc it is
    assert extract("报告.pdf", files["doc"]).lines == (TITLE, *source_paragraphs(SOURCE))


def test_supported_suffixes() -> None:
    assert {".doc", ".wps", ".rtf", ".odt"} <= SUPPORTED_SUFFIXES


def test_password_protected_word_file(files: dict[str, bytes]) -> None:
    encrypted = io.BytesIO()
    msoffcrypto.format.ooxml.OOXMLFile(io.BytesIO(files["docx"])).encrypt("secret", encrypted)
    for name in ("报告.docx", "报告.wps", "报告.doc"):
        with pytest.raises(UnreadableReport) as caught:
            extract(name, encrypted.getvalue())
        assert caught.value.code == "encrypted"
        assert "密码" in unreadable_reason(caught.value, ZH)


def test_broken_word_binaries(files: dict[str, bytes]) -> None:
    doc = files["doc"]
    garbage = random.Random(5).randbytes(6000)
    cases = {
        "cut.doc": doc[: len(doc) // 2],
        "garbage.wps": doc[:512] + garbage,
        "noise.doc": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + garbage + "WordDocument".encode("utf-16-le"),
        "empty-ole.doc": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
    }
    for name, data in cases.items():
        with pytest.raises(UnreadableReport) as caught:
            extract(name, data)
        assert caught.value.code == "broken_office", name
        assert "损坏" in unreadable_reason(caught.value, ZH)


def test_a_zip_that_is_not_a_document() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photos/1.txt", "x")
    with pytest.raises(UnreadableReport) as caught:
        extract("a.docx", buffer.getvalue())
    assert caught.value.code == "broken_docx"


def test_without_libreoffice_the_reason_says_so(
    files: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a machine where LibreOffice is not installed
    with pytest.raises(UnreadableReport) as caught:
        extract("总结.doc", files["doc"])
    assert caught.value.code == "missing_program"
    assert unreadable_reason(caught.value, ZH) == "需要 LibreOffice 才能读取 .doc；也可以另存为 .docx 再发送"
    # everything else still works
    assert extract("总结.docx", files["docx"]).lines[0] == TITLE


def test_file_on_disk(files: dict[str, bytes], tmp_path: Path) -> None:
    path = tmp_path / "总结.rtf"
    path.write_bytes(files["rtf"])
    assert read_report_file(path).kind == "rtf"


def hard_wrap(paragraphs: list[str], width: int, *, opening: str, between: str) -> str:
    """Text as copied out of a PDF viewer or a web page: every paragraph cut into lines of `width` characters,
    each paragraph opened with `opening` and followed by `between`."""
    out = []
    for paragraph in paragraphs:
        text = opening + paragraph
        out.append("\n".join(text[i : i + width] for i in range(0, len(text), width)) + "\n" + between)
    return "".join(out)


@pytest.mark.parametrize(("opening", "between"), [("", "\n"), ("\u3000\u3000", ""), ("    ", "")])
def test_hard_wrapped_text_is_joined_into_its_paragraphs(paragraphs: list[str], opening: str, between: str) -> None:
    text = hard_wrap(paragraphs, 36, opening=opening, between=between)
    assert len(text.splitlines()) > 3 * len(paragraphs)
    result = extract("复制的文字.txt", text.encode())
    # blank lines and indented openings start paragraphs; headings stay lines of their own
    assert list(result.lines) == paragraphs
    terms = sample_terms(paragraphs)
    assert mention_counts(result.lines, terms) == mention_counts(paragraphs, terms)


def test_hard_wrapped_text_without_indents_or_blank_lines(paragraphs: list[str]) -> None:
    result = extract("复制的文字.txt", hard_wrap(paragraphs, 36, opening="", between="").encode())
    # only a sentence end at a line end can be mistaken for a paragraph end: no term is cut anywhere else
    terms = [t for t in sample_terms(paragraphs) if not set(t) & set("。！？；：”")]
    assert mention_counts(result.lines, terms) == mention_counts(paragraphs, terms)
    assert len(paragraphs) <= len(result.lines) <= 2 * len(paragraphs)


def test_text_written_one_paragraph_per_line_is_left_alone() -> None:
    for path in sorted((REPORTS.parent.parent / "tests" / "corpora" / "provincial-2026").glob("*.txt"))[:8]:
        raw = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        lines = extract(path.name, path.read_bytes()).lines
        assert set(lines) <= set(raw), path.name  # nothing joined
        assert [line for line in raw if len(line) > 150] == [line for line in lines if len(line) > 150]


FURNITURE = ["下载", "打印", "全屏", "收藏", "【字号：", "加大", "还原", "减小", "】", "相关报道：", "来源：解放日报"]


def test_web_page_furniture_is_dropped() -> None:
    path = REPORTS.parent.parent / "tests" / "corpora" / "provincial-2026" / "2026年上海市政府工作报告.txt"
    raw = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert set(FURNITURE) <= set(raw) and "时间：2026-02-09" in raw
    lines = extract(path.name, path.read_bytes()).lines
    assert lines[0] == "2026年上海市政府工作报告"
    assert not set(FURNITURE) & set(lines) and "时间：2026-02-09" not in lines
    # every sentence of the report is still there
    assert [line for line in raw if line.endswith("。")] == [line for line in lines if line.endswith("。")]
    # photo captions, navigation, copyright footers
    page = "\n".join(
        [
            "首页 > 政务公开 > 政府工作报告",
            "2026年**县政府工作报告",
            "殷勇同志作政府工作报告。本报记者 戴冰摄",
            "各位代表：",
            "现在，我代表县人民政府向大会报告工作。",
            "（来源：青海日报）",
            "版权所有：**县人民政府办公室  网站标识码：1234567890",
        ]
    )
    assert extract("page.txt", page.encode()).lines == (
        "2026年**县政府工作报告",
        "各位代表：",
        "现在，我代表县人民政府向大会报告工作。",
    )


@pytest.mark.parametrize(("name", "encoding"), [("总结.html", "utf-8"), ("总结.htm", "gb18030")])
def test_saved_government_page(paragraphs: list[str], name: str, encoding: str) -> None:
    result = extract(name, government_page(TITLE, paragraphs, encoding=encoding))
    assert result.kind == "html"
    # the headline, then the article's paragraphs exactly: no navigation, buttons, source line, links or footer
    assert list(result.lines) == [TITLE, *paragraphs]
    assert result.title == TITLE
    headings = [result.lines[i] for i, level in sorted(result.heading_levels.items()) if level == 2]
    assert headings == [p for p in paragraphs if re.match("[一二三四五六七八九十]+、", p) and len(p) < 40]
    terms = sample_terms(paragraphs)
    assert mention_counts(result.lines, terms) == mention_counts([TITLE, *paragraphs], terms)


def test_a_web_page_without_an_article() -> None:
    page = "<!DOCTYPE html><html><head><title>首页</title></head><body><a href='/'>首页</a></body></html>".encode()
    with pytest.raises(UnreadableReport) as caught:
        extract("index.html", page)
    assert caught.value.code == "empty"
    assert sniff(page) == "html"


# ------------------------------------------------------------------------------------------
# Scans and photos: real OCR (rapidocr with the PP-OCR Chinese models of its wheel)

SCAN_TITLE = "第二批主题教育阶段性总结"


@pytest.fixture(scope="module")
def scan_paragraphs() -> list[str]:
    return source_paragraphs(REPORTS / "003_76e823c6e0fb73eb.txt")[:4]


def test_scanned_pdf_reads_as_the_source(scan_paragraphs: list[str]) -> None:
    pages = rendered_pages(SCAN_TITLE, scan_paragraphs, rows=20)
    assert len(pages) == 2  # a paragraph runs over the page break
    result = extract("扫描件.pdf", scanned_pdf(pages))
    # running header and page numbers dropped, paragraphs joined across lines and pages, the large headline is
    # the title (not the running header above it)
    assert list(result.lines) == [SCAN_TITLE, *scan_paragraphs]
    assert result.title == SCAN_TITLE
    terms = sample_terms(scan_paragraphs, every=11)
    assert len(terms) > 100
    assert mention_counts(result.lines, terms) == mention_counts([SCAN_TITLE, *scan_paragraphs], terms)


def test_photo_of_a_page(scan_paragraphs: list[str]) -> None:
    expected = scan_paragraphs[1:3]
    jpeg, _, _ = photo_jpeg(expected)
    result = extract("IMG_0001.JPG", jpeg)
    assert result.kind == "image"
    # A photo is lossy (grey paper, JPEG): the paragraphs are rebuilt exactly, a character here and there may be
    # misread, so most terms, not all, are counted as in the source.
    assert len(result.lines) == len(expected)
    for got, want in zip(result.lines, expected, strict=True):
        assert difflib.SequenceMatcher(None, got, want, autojunk=False).ratio() >= 0.98, (got, want)
    terms = sample_terms(expected, every=7)
    found, wanted = mention_counts(result.lines, terms), mention_counts(expected, terms)
    assert sum(found[t] == wanted[t] for t in terms) >= 0.9 * len(terms)


def test_image_without_text() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (240, 240, 235)).save(buffer, format="PNG")
    with pytest.raises(UnreadableReport) as caught:
        extract("空白.png", buffer.getvalue())
    assert caught.value.code == "no_text" and unreadable_reason(caught.value, ZH) == "图片中没有识别出文字"


def test_a_200_page_scan_is_refused_before_any_ocr() -> None:
    pages = [Image.new("L", (210, 297), 200) for _ in range(200)]
    with pytest.raises(UnreadableReport) as caught:
        extract("全年档案.pdf", scanned_pdf(pages, dpi=10))
    assert caught.value.code == "too_large"
    reason = unreadable_reason(caught.value, ZH)
    assert "200 页" in reason and f"{DEFAULT_LIMITS.ocr_max_pages} 页" in reason


def test_broken_image() -> None:
    with pytest.raises(UnreadableReport) as caught:
        extract("照片.png", b"\x89PNG\r\n\x1a\n" + random.Random(3).randbytes(2000))
    assert caught.value.code == "broken_image"


def test_ocr_time_limit(scan_paragraphs: list[str]) -> None:
    jpeg, _, _ = photo_jpeg(scan_paragraphs[1:2])
    hurried = dataclasses.replace(DEFAULT_LIMITS, ocr_timeout_s=0.2, ocr_timeout_s_per_page=0.0)
    with pytest.raises(UnreadableReport) as caught:
        extract("照片.jpg", jpeg, limits=hurried)
    assert caught.value.code == "timeout" and "超时" in unreadable_reason(caught.value, ZH)


def test_without_the_ocr_package_the_reason_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a machine where rapidocr cannot be imported (here: its import fails as it does without onnxruntime)
    fake = tmp_path / "rapidocr_onnxruntime"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('No module named onnxruntime')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    jpeg, _, _ = photo_jpeg(["正文。"])
    with pytest.raises(UnreadableReport) as caught:
        extract("照片.jpg", jpeg)
    assert caught.value.code == "missing_program" and "rapidocr-onnxruntime" in unreadable_reason(caught.value, ZH)


def test_a_one_page_pdf_with_a_running_header_keeps_its_title() -> None:
    paragraphs = ["我们坚持四下基层，2024年新建5G基站52处。", "下一步，我们将继续推进。"]
    pdf = libreoffice_export(word_document(TITLE, paragraphs), ["pdf"])["pdf"]
    result = extract("一页.pdf", pdf)
    assert result.title == TITLE  # not the running header above it
    assert list(result.lines) == [HEADER, TITLE, *paragraphs]  # one page: repetition cannot show it is a header


def test_text_that_starts_like_an_image_header_is_text() -> None:
    result = extract("notes.txt", "BMW 项目进展情况\n我们推进了合作。\n".encode())
    assert result.kind == "txt" and result.lines[0] == "BMW 项目进展情况"
    bmp = io.BytesIO()
    Image.new("RGB", (4, 4), (255, 255, 255)).save(bmp, format="BMP")
    assert sniff(bmp.getvalue()) == "image"
