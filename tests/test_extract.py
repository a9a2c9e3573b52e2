"""Tests of retrieval.extract: every supported format, every encoding, every failure mode.

Fixtures are generated in memory (python-docx, reportlab, hand-written PDF objects) so the
tests document exactly what each input looks like.
"""

from __future__ import annotations

import codecs
import io
import pathlib
import random
import re
import zipfile
from collections.abc import Callable, Iterable

import docx
import pypdf
import pypdfium2
import pytest
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reportlab.lib.pagesizes import A4
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from bot.texts import EN, UNREADABLE_TEXTS, ZH, unreadable_reason
from retrieval import extract as extract_module
from retrieval.errors import UNREADABLE_CODES, UnreadableReport
from retrieval.extract import (
    SUPPORTED_SUFFIXES,
    ExtractedText,
    clean_line,
    extract,
    read_report_file,
)

REPORTS_DIR = pathlib.Path(__file__).resolve().parent.parent / "data" / "reports"
REPORTS = sorted(REPORTS_DIR.glob("*.txt"))
MARKERS = ("##paidbegin##", "##paidend##")
CJK_FONT = "STSong-Light"  # one of reportlab's built-in CID fonts: no font file needed
pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


def expected_lines(text: str) -> list[str]:
    """The cleaning rule restated independently of the implementation."""
    out = []
    for line in text.splitlines():
        for marker in MARKERS:
            line = line.replace(marker, "")
        line = line.strip()
        if line:
            out.append(line)
    return out


def report_text(path: pathlib.Path) -> str:
    return path.read_text(encoding="utf-8")


def assert_unreadable(code: str, func: Callable[[], object]) -> UnreadableReport:
    with pytest.raises(UnreadableReport) as info:
        func()
    error = info.value
    assert error.code == code, (error.code, unreadable_reason(error, EN))
    assert unreadable_reason(error, ZH).strip() and unreadable_reason(error, EN).strip()
    assert "/" not in error.source and "\\" not in error.source
    return error


# ------------------------------------------------------------------------------------------
# fixture builders


def build_docx(
    paragraphs: Iterable[tuple[str, str | int | None]] = (),
    *,
    core_title: str | None = None,
    table: list[list[str]] | None = None,
) -> bytes:
    """A .docx from (text, style) pairs: style None = body, int = Heading N (0 = Title), str = name."""
    document = docx.Document()
    if core_title is not None:
        document.core_properties.title = core_title
    for text, style in paragraphs:
        if isinstance(style, int):
            document.add_heading(text, style)
        else:
            document.add_paragraph(text, style=style)
    if table is not None:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def build_pdf(
    paragraphs: Iterable[str],
    *,
    title: str | None = None,
    encrypt: StandardEncryption | str | None = None,
    page_numbers: bool = True,
    created: str | None = None,
) -> bytes:
    """A text PDF: each paragraph wrapped at the measured column width, like a word processor. `created` is the
    CreationDate (and ModDate) written as given ("D:20240305093000+08'00'"); by default the time of the run."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, encrypt=encrypt)
    if title is not None:
        pdf.setTitle(title)
    if created is not None:
        pdf.setDateFormatter(lambda *_: created)
    width, height = A4
    margin, size, leading = 56.0, 11.0, 16.0
    column = width - 2 * margin
    page = 1
    y = height - margin

    def new_page() -> None:
        nonlocal page, y
        if page_numbers:
            pdf.setFont(CJK_FONT, 9)
            pdf.drawCentredString(width / 2, margin / 2, f"- {page} -")
        pdf.showPage()
        page += 1
        y = height - margin

    for paragraph in paragraphs:
        for line in wrap(paragraph, column, size):
            if y < margin:
                new_page()
            pdf.setFont(CJK_FONT, size)
            pdf.drawString(margin, y, line)
            y -= leading
    new_page()
    pdf.save()
    return buffer.getvalue()


def wrap(text: str, column: float, size: float) -> list[str]:
    """Break wherever the column is full, except inside a run of Latin letters and digits
    (word processors keep "APP" or "1875" together, as they do in the real reports)."""
    tokens = re.findall(r"[A-Za-z0-9]+|.", text)
    lines, current = [], ""
    for token in tokens:
        if current and pdfmetrics.stringWidth(current + token, CJK_FONT, size) > column:
            lines.append(current)
            current = ""
        current += token
    return [*lines, current] if current else lines


def hand_made_pdf(objects: list[bytes]) -> bytes:
    """Serialise numbered PDF objects (1-based, object 1 = catalog) with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def image_only_pdf() -> bytes:
    """One page showing a grey-scale image and nothing else, like a scanned document."""
    pixels = bytes(random.Random(7).randrange(256) for _ in range(64 * 64))
    content = b"q 480 0 0 680 56 80 cm /Im1 Do Q"
    return hand_made_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /XObject << /Im1 4 0 R >> >> /Contents 5 0 R >>",
            b"<< /Type /XObject /Subtype /Image /Width 64 /Height 64 /ColorSpace /DeviceGray "
            b"/BitsPerComponent 8 /Length %d >>\nstream\n" % len(pixels) + pixels + b"\nendstream",
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        ]
    )


def rezip(data: bytes, replace: dict[str, bytes | None]) -> bytes:
    """Copy a zip archive, replacing (bytes) or dropping (None) some members."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename in replace:
                content = replace[info.filename]
                if content is not None:
                    target.writestr(info.filename, content)
            else:
                target.writestr(info, source.read(info))
    return out.getvalue()


SAMPLE_DOCX = build_docx(
    [("2023年主题教育开展情况汇报", 0), ("一、主要做法及成效", 1), ("正文段落。", None)],
    table=[["单位", "人数"], ["*县", "X名"]],
)
SAMPLE_PDF = build_pdf(["一、主要做法及成效", "主题教育开展以来，**区严格按照部署，取得了阶段性成效。"])


# ------------------------------------------------------------------------------------------
# clean_line


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("##paidbegin##坚持把学习", "坚持把学习"),
        ("##paidend##", ""),
        ("正文##paidend##", "正文"),
        ("前##paidbegin##后", "前后"),
        ("\u3000\u3000（一）精心组织，学思践悟。正文\u3000", "（一）精心组织，学思践悟。正文"),
        ("\xa0", ""),
        ("\ufeff\u200b 一、主要做法及成效 \t\r", "一、主要做法及成效"),
        ("**区严格按照，*县委，X名，A新时代", "**区严格按照，*县委，X名，A新时代"),
        ("中\u200b文\ufeff字", "中文字"),
        ("内部  空格\t保留", "内部  空格\t保留"),
    ],
)
def test_clean_line(raw: str, clean: str) -> None:
    assert clean_line(raw) == clean


_LINE_PARTS = [
    "##paid",
    "begin##",
    "##PAIDEND##",
    "\u200b",
    "\ufeff",
    "\u200d",
    "\ud800",
    "\r\n",
    "\n",
    "\r",
    "\u2028",
    "\x0b",
    "\x85",
    " ",
    "\u3000",
    "\x01",
    "主题教育",
    "a",
]


@given(st.lists(st.sampled_from(_LINE_PARTS), max_size=40).map("".join))
def test_clean_lines_equals_clean_line_on_every_line(text: str) -> None:
    """The whole-text cleaning used for plain text files gives what cleaning each line does."""
    expected = [cleaned for cleaned in map(clean_line, extract_module._split_lines(text)) if cleaned]
    assert extract_module._clean_lines(text) == expected


# ------------------------------------------------------------------------------------------
# the bundled reports and text encodings


def test_bundled_reports_exist() -> None:
    assert len(REPORTS) >= 5


@pytest.mark.parametrize("path", REPORTS, ids=lambda p: p.name)
def test_bundled_report(path: pathlib.Path) -> None:
    result = read_report_file(path)
    text = report_text(path)
    assert result.source == path.name
    assert result.kind == "txt"
    assert result.encoding == "utf-8"
    assert result.title is None
    assert dict(result.heading_levels) == {}
    assert all(line and line == line.strip() for line in result.lines)
    assert not any(marker in line for line in result.lines for marker in MARKERS)
    assert list(result.lines) == expected_lines(text)
    assert result.sha256 == __import__("hashlib").sha256(path.read_bytes()).hexdigest()


def test_report_details_survive() -> None:
    lines = {line for path in REPORTS for line in read_report_file(path).lines}
    assert "一、主要做法及成效" in lines
    assert "2023年主题教育开展情况汇报" in lines
    assert any(line.startswith("主题教育启动以来，**区严格按照") for line in lines)
    assert any(line.startswith("第二批主题教育开展以来，*县委") for line in lines)
    assert any(line.startswith("坚持把学习A新时代中国特色社会主义思想") for line in lines)


ENCODINGS = [
    ("utf-8-sig", lambda t: t.encode("utf-8-sig"), "utf-8-sig"),
    ("gb18030", lambda t: t.encode("gb18030"), "gb18030"),
    # GBK cannot encode NBSP (one report has an NBSP-only line, which is dropped anyway).
    ("gbk", lambda t: t.replace("\xa0", "").encode("gbk"), "gb18030"),
    ("utf-16-le-bom", lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le"), "utf-16-le"),
    ("utf-16-be-bom", lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be"), "utf-16-be"),
    ("utf-16-le", lambda t: t.encode("utf-16-le"), "utf-16-le"),
    ("utf-16-be", lambda t: t.encode("utf-16-be"), "utf-16-be"),
    ("utf-32-le-bom", lambda t: codecs.BOM_UTF32_LE + t.encode("utf-32-le"), "utf-32-le"),
]


@pytest.mark.parametrize("path", REPORTS, ids=lambda p: p.name)
@pytest.mark.parametrize(("label", "encode", "encoding"), ENCODINGS, ids=[e[0] for e in ENCODINGS])
def test_encodings_give_identical_lines(
    path: pathlib.Path, label: str, encode: Callable[[str], bytes], encoding: str
) -> None:
    text = report_text(path)
    reference = read_report_file(path)
    result = extract(path.name, encode(text))
    assert result.encoding == encoding
    assert result.lines == reference.lines


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\u2028", "\u2029", "\n\n\n"])
def test_newline_styles(newline: str) -> None:
    path = REPORTS[2]
    lines = report_text(path).split("\n")
    result = extract("a.txt", newline.join(lines).encode("utf-8"))
    assert result.lines == read_report_file(path).lines


def test_gb18030_four_byte_characters() -> None:
    text = "生僻字𠀀（扩展B）和\xa0不间断空格不在 GBK 中。\n第二段。"
    result = extract("a.txt", text.encode("gb18030"))
    assert result.encoding == "gb18030"
    assert result.lines == ("生僻字𠀀（扩展B）和\xa0不间断空格不在 GBK 中。", "第二段。")


def test_utf8_cut_off_mid_character_keeps_the_rest() -> None:
    data = "第一段。\n第二段内容".encode()[:-1]
    result = extract("a.txt", data)
    assert result.encoding == "utf-8"
    assert result.lines == ("第一段。", "第二段内")


def test_latin1_is_not_mistaken_for_gb18030() -> None:
    text = "Résumé définitif élaboré à Genève, café crème.\nÇa va très bien, merci.\n" * 3
    result = extract("a.txt", text.encode("latin-1"))
    assert result.encoding != "gb18030"
    assert result.lines[0].startswith("Résumé définitif")


def test_big5_falls_back_to_charset_normalizer() -> None:
    text = (
        "主題教育開展以來，縣政府辦公室按照縣委主題辦統一部署，圍繞「學思想、強黨性、重實踐、建新功」"
        "目標要求，嚴格將學習教育、推動發展、檢視整改貫穿始終。\n一、主要做法及成效\n"
    )
    result = extract("a.txt", text.encode("big5"))
    assert result.encoding in {"big5", "cp950", "big5hkscs"}
    assert result.lines == tuple(expected_lines(text))


def test_txt_keeps_markdown_like_text() -> None:
    text = "# 不是标题\n**区和**县\n- 一项\n"
    assert extract("a.txt", text.encode()).lines == ("# 不是标题", "**区和**县", "- 一项")


# ------------------------------------------------------------------------------------------
# markdown

MARKDOWN = """\
# 2023年主题教育开展情况汇报

## 一、主要做法及成效

**（一）精心组织，学思践悟。**正文里**区和**县、*县委、X名保持原样。
主题教育启动以来，**区严格按照部署，**县也一样。
- 列表项一
* 列表项二
1. 有序项
> 引用的文字
---
```
# 代码里的井号不是标题
**代码不处理**
```
普通段落[链接文字](http://example.com)和`代码`以及\\*\\*转义\\*\\*。
##paidbegin##正文被标记包住##paidend##
二级标题
------
***
|a|b|
|---|---|
|1|2|
### 三级标题 ###
"""


def test_markdown() -> None:
    result = extract("report.md", MARKDOWN.encode("utf-8"))
    assert result.kind == "md"
    assert result.encoding == "utf-8"
    assert result.title == "2023年主题教育开展情况汇报"
    assert list(result.lines) == [
        "2023年主题教育开展情况汇报",
        "一、主要做法及成效",
        "（一）精心组织，学思践悟。正文里**区和**县、*县委、X名保持原样。",
        "主题教育启动以来，**区严格按照部署，**县也一样。",
        "列表项一",
        "列表项二",
        "有序项",
        "引用的文字",
        "# 代码里的井号不是标题",
        "**代码不处理**",
        "普通段落链接文字和代码以及**转义**。",
        "正文被标记包住",
        "二级标题",
        "|a|b|",
        "|1|2|",
        "三级标题",
    ]
    assert dict(result.heading_levels) == {0: 1, 1: 2, 12: 2, 15: 3}


def test_markdown_without_title() -> None:
    result = extract("a.md", "## 一、进展情况\n正文。\n".encode())
    assert result.title is None
    assert dict(result.heading_levels) == {0: 2}


def test_markdown_hashtag_is_not_a_heading() -> None:
    result = extract("a.md", "#主题教育#话题\n正文。\n".encode())
    assert result.lines == ("#主题教育#话题", "正文。")
    assert dict(result.heading_levels) == {}


# ------------------------------------------------------------------------------------------
# docx


def test_docx_lines_levels_title_and_table() -> None:
    document = docx.Document()
    document.core_properties.title = "核心属性里的标题"
    document.styles.add_style("标题 1", WD_STYLE_TYPE.PARAGRAPH)
    document.add_heading("2023年主题教育开展情况汇报", 0)
    document.add_heading("一、主要做法及成效", 1)
    document.add_heading("（一）精心组织，学思践悟", 2)
    document.add_paragraph("##paidbegin##\u3000\u3000主题教育启动以来，**区严格按照部署，*县X名。")
    broken = document.add_paragraph("第一行")
    broken.add_run().add_break()
    broken.add_run("第二行")
    document.add_paragraph("   ")
    table = document.add_table(rows=3, cols=2)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "合并的表头"
    table.cell(1, 0).text = "单位"
    table.cell(1, 1).text = "人数"
    table.cell(2, 0).text = "*县"
    document.add_paragraph("表后正文。")
    document.add_paragraph("中文样式的标题", style="标题 1")
    tracked = document.add_paragraph("原文")
    tracked._p.append(parse_xml(f'<w:ins {nsdecls("w")} w:id="1" w:author="a"><w:r><w:t>插入的</w:t></w:r></w:ins>'))
    tracked._p.append(
        parse_xml(f'<w:del {nsdecls("w")} w:id="2" w:author="a"><w:r><w:delText>删掉的</w:delText></w:r></w:del>')
    )
    buffer = io.BytesIO()
    document.save(buffer)

    result = extract("C:\\Users\\me\\汇报.docx", buffer.getvalue())
    assert result.source == "汇报.docx"
    assert result.kind == "docx"
    assert result.encoding is None
    assert result.title == "2023年主题教育开展情况汇报"  # the visible Title wins over properties
    assert list(result.lines) == [
        "2023年主题教育开展情况汇报",
        "一、主要做法及成效",
        "（一）精心组织，学思践悟",
        "主题教育启动以来，**区严格按照部署，*县X名。",
        "第一行",
        "第二行",
        "合并的表头",
        "单位",
        "人数",
        "*县",
        "表后正文。",
        "中文样式的标题",
        "原文插入的",
    ]
    assert dict(result.heading_levels) == {0: 1, 1: 1, 2: 2, 11: 1}


def test_docx_title_from_core_properties() -> None:
    data = build_docx([("一、进展情况", 1), ("正文。", None)], core_title="  第二批主题教育阶段性总结 ")
    result = extract("a.docx", data)
    assert result.title == "第二批主题教育阶段性总结"
    assert result.lines == ("一、进展情况", "正文。")


def test_docx_without_any_title() -> None:
    result = extract("a.docx", build_docx([("正文。", None)]))
    assert result.title is None
    assert dict(result.heading_levels) == {}


def test_docx_outline_level_style() -> None:
    document = docx.Document()
    style = document.styles.add_style("一级标题", WD_STYLE_TYPE.PARAGRAPH)
    style.element.get_or_add_pPr().append(parse_xml(f'<w:outlineLvl {nsdecls("w")} w:val="0"/>'))
    document.add_paragraph("一、总体情况", style="一级标题")
    document.add_paragraph("正文。")
    buffer = io.BytesIO()
    document.save(buffer)
    assert dict(extract("a.docx", buffer.getvalue()).heading_levels) == {0: 1}


def test_docx_without_text_is_empty() -> None:
    assert_unreadable("empty", lambda: extract("a.docx", build_docx([("  ", None), ("##paidend##", None)])))


def test_docx_broken_variants() -> None:
    assert_unreadable("broken_docx", lambda: extract("a.docx", SAMPLE_DOCX[: len(SAMPLE_DOCX) // 2]))
    assert_unreadable("broken_docx", lambda: extract("a.docx", SAMPLE_DOCX[:-30]))
    plain_zip = io.BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as archive:
        archive.writestr("hello.txt", "你好")
    error = assert_unreadable("broken_docx", lambda: extract("a.docx", plain_zip.getvalue()))
    assert "document.xml" in unreadable_reason(error, EN)
    bad_xml = rezip(SAMPLE_DOCX, {"word/document.xml": b"<w:document><w:body><w:p>"})
    assert_unreadable("broken_docx", lambda: extract("a.docx", bad_xml))
    no_types = rezip(SAMPLE_DOCX, {"[Content_Types].xml": None})
    assert_unreadable("broken_docx", lambda: extract("a.docx", no_types))
    assert_unreadable("broken_docx", lambda: extract("a.docx", b"PK\x05\x06" + b"\x00" * 18))


def test_docx_zip_bomb_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extract_module, "_MAX_UNPACKED_BYTES", 1000)
    assert_unreadable("too_large", lambda: extract("a.docx", SAMPLE_DOCX))


def test_docx_library_exceptions_are_converted(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("unexpected")

    monkeypatch.setattr(docx, "Document", explode)
    error = assert_unreadable("broken_docx", lambda: extract("a.docx", SAMPLE_DOCX))
    assert isinstance(error.__cause__, RuntimeError)


def test_ole_file_that_is_not_a_word_document() -> None:
    # an OLE2 container without a WordDocument stream (an Excel file, or damage) is not handed to LibreOffice
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    error = assert_unreadable("broken_office", lambda: extract("a.docx", ole2))
    assert ".doc" in unreadable_reason(error, ZH)


# ------------------------------------------------------------------------------------------
# pdf


def test_pdf_chinese_text_round_trip() -> None:
    paragraphs = ["一、主要做法及成效", "主题教育启动以来，**区严格按照部署，*县X名，A新时代。"]
    result = extract("a.pdf", build_pdf(paragraphs, title="2023年主题教育开展情况汇报"))
    assert result.kind == "pdf"
    assert result.encoding is None
    assert result.title == "2023年主题教育开展情况汇报"
    assert dict(result.heading_levels) == {}
    assert list(result.lines) == paragraphs


@pytest.mark.parametrize("path", REPORTS, ids=lambda p: p.name)
def test_pdf_rebuilds_wrapped_paragraphs(path: pathlib.Path) -> None:
    expected = expected_lines(report_text(path))
    result = extract(path.stem + ".pdf", build_pdf(expected))
    # Not a single character lost, added or reordered, and page numbers are gone ...
    assert "".join(result.lines) == "".join(expected)
    # ... every heading and short line stays a line of its own ...
    lines = set(result.lines)
    assert all(line in lines for line in expected if len(line) <= 30)
    # ... and paragraphs are rejoined.  A paragraph may still split where a wrapped line
    # happens to end with sentence punctuation (indistinguishable from a paragraph end).
    assert len(expected) <= len(result.lines) <= len(expected) + 6


def test_pdf_reflow_rules() -> None:
    reflow = extract_module._reflow_pdf
    full = "主题教育开展以来，我们坚持学思用贯通、知信行统一，推动主题教"
    assert reflow([f"{full}\n育走深走实。\n二、存在问题\n- 1 -"]) == [f"{full}育走深走实。", "二、存在问题"]
    # numbers cut by the line end stay one number; wrapped Latin words get their space back
    assert reflow([f"{full[:-3]}共3\n15项。"]) == [f"{full[:-3]}共315项。"]
    assert reflow(["This paragraph is written in English and wraps at the\nend of the line."]) == [
        "This paragraph is written in English and wraps at the end of the line."
    ]
    # a full line ending a sentence ends the paragraph; a numbered heading starts one
    assert reflow([f"{full[:-1]}。\n下一段。", f"{full}\n（二）标题"]) == [
        f"{full[:-1]}。",
        "下一段。",
        full,
        "（二）标题",
    ]
    # a line starting with a comma continues a line that ended with a closing quote
    assert reflow([f"{full}“四个自信”\n，推动发展。"]) == [f"{full}“四个自信”，推动发展。"]
    # a paragraph continues across a page break, minus the page number
    assert reflow([f"第一页\n{full}\n第 1 页 共 2 页", "续完。"]) == ["第一页", f"{full}续完。"]


def test_pdf_untitled_metadata_is_no_title() -> None:
    assert extract("a.pdf", SAMPLE_PDF).title is None  # reportlab writes "untitled"


def test_pdf_owner_password_only_is_readable() -> None:
    data = build_pdf(["正文内容。"], encrypt=StandardEncryption("", ownerPassword="owner", canPrint=0))
    assert extract("a.pdf", data).lines == ("正文内容。",)


def test_pdf_with_user_password() -> None:
    error = assert_unreadable("broken_pdf", lambda: extract("a.pdf", build_pdf(["正文。"], encrypt="secret")))
    assert "password" in unreadable_reason(error, EN)


def test_pdf_image_only() -> None:
    assert_unreadable("no_text", lambda: extract("scan.pdf", image_only_pdf()))


def test_pdf_blank_page() -> None:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(595, 842)
    buffer = io.BytesIO()
    writer.write(buffer)
    assert_unreadable("no_text", lambda: extract("a.pdf", buffer.getvalue()))


def test_pdf_broken_variants() -> None:
    garbage = random.Random(11).randbytes(4000)
    assert_unreadable("broken_pdf", lambda: extract("a.pdf", SAMPLE_PDF[: len(SAMPLE_PDF) // 2]))
    assert_unreadable("broken_pdf", lambda: extract("a.pdf", b"%PDF-1.4\n" + garbage))
    assert_unreadable("broken_pdf", lambda: extract("a.pdf", b"%PDF-1.4\n" + garbage + b"\n%%EOF\n"))
    assert_unreadable("broken_pdf", lambda: extract("a.pdf", hand_made_pdf([b"<< /Type /Catalog >>"])))


def test_pdf_library_exceptions_are_converted(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RecursionError("deeply nested objects")

    monkeypatch.setattr(pypdfium2, "PdfDocument", explode)
    assert_unreadable("broken_pdf", lambda: extract("a.pdf", SAMPLE_PDF))


# ------------------------------------------------------------------------------------------
# content decides the kind, the suffix decides md vs txt


def test_kind_comes_from_content() -> None:
    assert extract("really-docx.txt", SAMPLE_DOCX).kind == "docx"
    assert extract("really-pdf.md", SAMPLE_PDF).kind == "pdf"
    assert extract("really-text.pdf", "正文。".encode()).kind == "txt"
    assert extract("really-text.docx", "正文。".encode()).kind == "txt"
    assert extract("UPPER.MD", "# 标题".encode()).kind == "md"


# ------------------------------------------------------------------------------------------
# failures of plain input


@pytest.mark.parametrize(
    ("label", "data", "code"),
    [
        ("empty", b"", "empty"),
        ("whitespace", " \n\t\r\n\u3000\xa0\n\ufeff".encode(), "empty"),
        ("utf16-whitespace", "\ufeff \n\u3000\n".encode("utf-16-le"), "empty"),
        ("markers", b"##paidbegin##\n\n##paidend##\n", "empty"),
        ("png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00", "broken_image"),  # read by OCR
        ("jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "broken_image"),
        ("controls", b"abc\x01\x02\x03\x04def" * 20, "binary"),
        ("nul-padded", "正文。".encode() + b"\x00\x00\x00", "binary"),
        ("bom-lone-surrogate", codecs.BOM_UTF16_LE + b"a\x00\x00\xd8b\x00", "undecodable"),
        ("bom-invalid-utf8", codecs.BOM_UTF8 + b"abc\xff\xfe def", "undecodable"),
        ("high-bytes", bytes(b | 0x80 for b in random.Random(5).randbytes(3000)), "undecodable"),
    ],
)
def test_unreadable_text(label: str, data: bytes, code: str) -> None:
    assert_unreadable(code, lambda: extract(f"{label}.txt", data))


@pytest.mark.parametrize("suffix", sorted(SUPPORTED_SUFFIXES))
@pytest.mark.parametrize("seed", range(5))
def test_random_bytes_are_binary(seed: int, suffix: str) -> None:
    data = random.Random(seed).randbytes(4096)
    assert_unreadable("binary", lambda: extract(f"random{suffix}", data))


@pytest.mark.parametrize("name", ["a.xls", "a.exe", "a.txt.zip", "README", "", "a.markdown"])
def test_unsupported_suffix(name: str) -> None:
    error = assert_unreadable("unsupported", lambda: extract(name, "正文。".encode()))
    assert ".docx" in unreadable_reason(error, ZH)


def test_oversize_input() -> None:
    data = "正文。\n".encode() * 100
    assert extract("a.txt", data, max_bytes=len(data)).lines
    error = assert_unreadable("too_large", lambda: extract("a.txt", data + b"x", max_bytes=len(data)))
    assert "limit" in unreadable_reason(error, EN)


def test_messages_are_complete() -> None:
    # every reason the library gives has its words, in both languages, and the catalogue has no others
    assert set(UNREADABLE_TEXTS) == set(UNREADABLE_CODES)
    for reason, code in UNREADABLE_CODES.items():
        zh, en = UNREADABLE_TEXTS[reason]
        assert reason and code and zh.strip() and en.strip()


# ------------------------------------------------------------------------------------------
# read_report_file


def test_read_report_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "汇报.md"
    path.write_bytes("# 标题\n正文。\n".encode("gb18030"))
    result = read_report_file(path)
    assert isinstance(result, ExtractedText)
    assert (result.source, result.kind, result.title) == ("汇报.md", "md", "标题")


def test_read_report_file_failures(tmp_path: pathlib.Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * 2000)
    assert_unreadable("too_large", lambda: read_report_file(big, max_bytes=1000))
    # The suffix is checked before touching the file system.
    assert_unreadable("unsupported", lambda: read_report_file(tmp_path / "missing.exe"))
    error = assert_unreadable("io_error", lambda: read_report_file(tmp_path / "missing.txt"))
    assert "不存在" in unreadable_reason(error, ZH) and "not found" in unreadable_reason(error, EN)
    (tmp_path / "folder.txt").mkdir()
    assert_unreadable("io_error", lambda: read_report_file(tmp_path / "folder.txt"))


def test_result_is_immutable_and_hashable() -> None:
    result = extract("a.md", "# 标题\n正文。".encode())
    with pytest.raises(TypeError):
        result.heading_levels[5] = 1  # type: ignore[index]
    assert hash(result) == hash(extract("a.md", "# 标题\n正文。".encode()))


# ------------------------------------------------------------------------------------------
# properties: any input gives lines or UnreadableReport, never another exception

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_contract(name: str, data: bytes) -> None:
    try:
        result = extract(name, data)
    except UnreadableReport as error:
        assert error.code in extract_module.ERROR_CODES
        assert unreadable_reason(error, ZH) and unreadable_reason(error, EN)
        return
    assert result.lines and all(result.lines)
    assert all(line == clean_line(line) for line in result.lines)
    assert all(0 <= index < len(result.lines) for index in result.heading_levels)


@PROPERTY_SETTINGS
@given(data=st.binary(max_size=3000), suffix=st.sampled_from(sorted(SUPPORTED_SUFFIXES)))
def test_property_arbitrary_bytes(data: bytes, suffix: str) -> None:
    check_contract("x" + suffix, data)


@PROPERTY_SETTINGS
@given(text=st.text(max_size=300), encoding=st.sampled_from(["utf-8", "gb18030", "utf-16", "utf-16-le"]))
def test_property_arbitrary_text(text: str, encoding: str) -> None:
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        return
    check_contract("x.md", data)
    check_contract("x.txt", data)


@PROPERTY_SETTINGS
@given(cut=st.integers(min_value=0, max_value=len(SAMPLE_DOCX)))
def test_property_truncated_docx(cut: int) -> None:
    check_contract("x.docx", SAMPLE_DOCX[:cut])


@PROPERTY_SETTINGS
@given(cut=st.integers(min_value=0, max_value=len(SAMPLE_PDF)))
def test_property_truncated_pdf(cut: int) -> None:
    check_contract("x.pdf", SAMPLE_PDF[:cut])


@PROPERTY_SETTINGS
@given(position=st.integers(min_value=0), value=st.integers(min_value=0, max_value=255), which=st.booleans())
def test_property_corrupted_byte(position: int, value: int, which: bool) -> None:
    data = bytearray(SAMPLE_DOCX if which else SAMPLE_PDF)
    data[position % len(data)] = value
    check_contract("x.docx" if which else "x.pdf", bytes(data))
