"""Report files made the way offices make them, from one source text: python-docx writes the Word file (title,
numbered headings, first-line indents, a running header and a page-number footer), LibreOffice exports it to .doc,
.odt, .rtf and .pdf, Pillow renders pages as a scanner or a phone would see them. Used by the format tests and the
benchmark."""

from __future__ import annotations

import html
import io
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import docx
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Pt
from PIL import Image, ImageDraw, ImageFont, ImageOps

from retrieval.normalize import normalize

HEADER = "**县人民政府办公室"
CJK_FONT_NAME = "Noto Serif CJK SC"
_LEVEL1 = re.compile(r"^[一二三四五六七八九十]+、")
_LEVEL2 = re.compile(r"^（[一二三四五六七八九十]+）")


def source_paragraphs(path: Path) -> list[str]:
    """A report's paragraphs as its author wrote them: one per non-empty line, without the markers the site they
    were collected from left in some (##paidbegin##)."""
    text = re.sub(r"##paid(?:begin|end)##", "", path.read_text(encoding="utf-8"))
    return [line.strip() for line in text.splitlines() if line.strip()]


def word_document(title: str, paragraphs: Sequence[str], *, header: str = HEADER) -> bytes:
    """A .docx as an office writes one: a Title, numbered headings as Heading 1/2, body paragraphs indented by two
    characters, a running header and a centred page number in the footer."""
    document = docx.Document()
    for style_name in ("Normal", "Title", "Heading 1", "Heading 2"):
        style = document.styles[style_name]
        style.font.name = CJK_FONT_NAME
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), CJK_FONT_NAME)
    document.styles["Normal"].font.size = Pt(12)
    section = document.sections[0]
    section.header.paragraphs[0].text = header
    footer = section.footer.paragraphs[0]
    footer.alignment = 1
    footer._p.append(parse_xml(f'<w:fldSimple {nsdecls("w")} w:instr="PAGE"><w:r><w:t>1</w:t></w:r></w:fldSimple>'))
    document.add_paragraph(title, style="Title")
    for text in paragraphs:
        if _LEVEL1.match(text) and len(text) < 40:
            document.add_paragraph(text, style="Heading 1")
        elif _LEVEL2.match(text) and len(text) < 40:
            document.add_paragraph(text, style="Heading 2")
        else:
            paragraph = document.add_paragraph(text)
            paragraph.paragraph_format.first_line_indent = Pt(24)
    with tempfile.SpooledTemporaryFile() as buffer:
        document.save(buffer)
        buffer.seek(0)
        return buffer.read()


def libreoffice_export(docx_bytes: bytes, targets: Sequence[str]) -> dict[str, bytes]:
    """Export a .docx with LibreOffice to each target format ("doc", "odt", "rtf", "pdf"), as a user's "Save as"."""
    program = shutil.which("soffice") or shutil.which("libreoffice")
    assert program is not None, "LibreOffice is needed for these tests (see .ci/run)"
    out: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "report.docx").write_bytes(docx_bytes)
        for target in targets:
            subprocess.run(
                [program, f"-env:UserInstallation={(work / 'profile').as_uri()}", "--headless", "--convert-to",
                 target, "--outdir", str(work / "out"), str(work / "report.docx")],
                check=True, capture_output=True, timeout=180,
            )  # fmt: skip
            out[target] = (work / "out" / f"report.{target}").read_bytes()
    return out


def sample_terms(paragraphs: Sequence[str], *, every: int = 37, length: int = 4) -> list[str]:
    """Many terms to count: a substring of `length` characters every `every` characters of the text (so some
    straddle wherever a page or a line happens to break), plus mixed Chinese-digit terms such as "2023年"."""
    text = "".join(paragraphs)
    terms = {text[i : i + length] for i in range(0, len(text) - length, every)}
    terms |= set(re.findall(r"\d+[年月日个项名次%]", text))
    return sorted(t for t in terms if t.strip() and "\n" not in t)


def mention_counts(lines: Sequence[str], terms: Sequence[str]) -> dict[str, int]:
    """How often each term occurs, counted as the library counts mentions: over normalised paragraphs."""
    paragraphs = [normalize(line) for line in lines]
    return {term: sum(p.count(normalize(term)) for p in paragraphs) for term in terms}


def government_page(title: str, paragraphs: Sequence[str], *, encoding: str = "utf-8") -> bytes:
    """A report as a government portal publishes it: navigation, a breadcrumb, the headline, a source/time line,
    font-size and print buttons, the article (numbered headings as <h2>, paragraphs opened with &nbsp;), share
    buttons, related links and a footer with the site's registration numbers."""
    body = []
    for text in paragraphs:
        if _LEVEL1.match(text) and len(text) < 40:
            body.append(f"<h2>{html.escape(text)}</h2>")
        else:
            body.append(f"<p>&nbsp;&nbsp;&nbsp;&nbsp;{html.escape(text)}</p>")
    page = f"""<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset={encoding}">
<title>{html.escape(title)}_**县人民政府门户网站</title></head><body>
<div class="top"><a href="/">首页</a> <a href="/zwgk">政务公开</a> <a href="/hd">互动交流</a> <a>无障碍</a></div>
<div class="nav"><ul><li><a>首页</a></li><li><a>要闻动态</a></li><li><a>政府信息公开</a></li>
<li><a>政策文件</a></li></ul></div>
<div class="crumb">当前位置：<a>首页</a> &gt; <a>政务公开</a> &gt; <a>工作总结</a></div>
<div class="article"><h1>{html.escape(title)}</h1>
<div class="info"><span>来源：县政府办公室</span> <span>时间：2026-02-09</span> <span>浏览次数：1234</span>
【字号：<a>大</a> <a>中</a> <a>小</a>】 <a>打印</a> <a>关闭</a></div>
<div class="content" id="zoom">{"".join(body)}</div>
<div class="share">分享到：<a>微信</a> <a>微博</a></div>
<div class="related"><h3>相关链接</h3><ul><li><a>2025年工作总结</a></li><li><a>2024年工作总结</a></li></ul></div>
</div>
<div class="footer"><p>主办单位：**县人民政府办公室 承办单位：**县大数据中心</p>
<p>版权所有：**县人民政府 网站标识码：1234000001 ICP备12345678号</p></div>
</body></html>"""
    return page.encode(encoding)


SERIF_CJK = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"
_SC_INDEX = 2  # the collection's simplified-Chinese face


def rendered_pages(
    title: str, paragraphs: Sequence[str], *, header: str = HEADER, dpi: int = 150, rows: int = 14
) -> list[Image.Image]:
    """Pages as a scanner sees a printed report: the title large and centred on the first page, paragraphs in
    12 pt with a two-character first-line indent, wrapped at the column, `rows` lines a page (short pages keep
    OCR in the tests quick), the running header above a rule on every page and "- N -" below."""
    size = round(12 * dpi / 72)
    font = ImageFont.truetype(SERIF_CJK, size, index=_SC_INDEX)
    large = ImageFont.truetype(SERIF_CJK, round(size * 1.6), index=_SC_INDEX)
    small = ImageFont.truetype(SERIF_CJK, round(size * 0.8), index=_SC_INDEX)
    width, margin, pitch = round(8.27 * dpi), dpi, round(size * 1.7)
    column = width - 2 * margin
    lines: list[tuple[str, int, ImageFont.FreeTypeFont]] = []  # text, x, font
    for text in paragraphs:
        current, x = "", margin + 2 * size
        for ch in text:
            if font.getlength(current + ch) > width - margin - x:
                lines.append((current, x, font))
                current, x = "", margin
            current += ch
        lines.append((current, x, font))
    pages: list[Image.Image] = []
    chunks = [lines[i : i + rows] for i in range(0, len(lines), rows)]
    for number, chunk in enumerate(chunks, start=1):
        height = 2 * margin + pitch * (rows + (3 if number == 1 else 0))
        page = Image.new("L", (width, height), 255)
        draw = ImageDraw.Draw(page)
        draw.text((margin, margin // 3), header, font=small, fill=0)
        draw.line((margin, margin // 3 + size, width - margin, margin // 3 + size), fill=0, width=2)
        y = margin
        if number == 1:
            draw.text(((width - large.getlength(title)) / 2, y), title, font=large, fill=0)
            y += 3 * pitch
        for text, x, face in chunk:
            draw.text((x, y), text, font=face, fill=0)
            y += pitch
        footer = f"- {number} -"
        draw.text(((width - small.getlength(footer)) / 2, height - margin // 2), footer, font=small, fill=0)
        pages.append(page)
    assert column > 0
    return pages


def scanned_pdf(pages: Sequence[Image.Image], *, dpi: int = 150) -> bytes:
    """A PDF of page images and nothing else, as a scanner writes one."""
    buffer = io.BytesIO()
    pages[0].save(buffer, format="PDF", save_all=True, append_images=list(pages[1:]), resolution=dpi)
    return buffer.getvalue()


def photo_jpeg(paragraphs: Sequence[str]) -> tuple[bytes, int, int]:
    """A phone photo of a few printed paragraphs: grey paper, JPEG. Returns (bytes, width, height)."""
    page = rendered_pages("", paragraphs, header="", rows=100)[0]
    left, top, right, bottom = ImageOps.invert(page).getbbox() or (0, 0, page.width, page.height)
    page = page.crop((max(0, left - 60), max(0, top - 60), right + 60, bottom + 60))  # the camera frames the text
    paper = Image.eval(page, lambda v: 30 + v * 205 // 255).convert("RGB")
    buffer = io.BytesIO()
    paper.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue(), paper.width, paper.height
