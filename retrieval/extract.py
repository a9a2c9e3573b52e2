"""Turn an uploaded or on-disk report file into clean paragraph lines.

Reports arrive as plain text (in whatever encoding the author's editor used), Markdown, Word
(.docx; .doc, .wps, .rtf and .odt through LibreOffice, see convert.py), PDF or saved web pages.  Everything
downstream (indexing, quoting, citing paragraph numbers) works on one cleaned paragraph per
line, so this module is the only place that knows about file formats.

Design rules:

* The kind of file is detected from its content, not its name: people rename files, and a
  ``.txt`` that is really a Word document should still be read.  The suffix only decides
  Markdown vs plain text and rejects file types we do not support at all.
* Text encodings are detected from evidence (BOMs, NUL-byte patterns, strict decoding with a
  sanity check) before falling back to statistical guessing, because a wrong guess silently
  produces mojibake that then gets indexed and quoted back to users.
* The text is kept exactly as written apart from removing format syntax and scraping
  artefacts: the reports are anonymised (``**区``, ``*县``, ``X名``) and those markers must
  survive.
* Every failure is an :class:`UnreadableReport` with a stable code and a message in Chinese and
  English; exceptions from the parsing libraries never escape.
"""

from __future__ import annotations

import codecs
import datetime
import hashlib
import io
import itertools
import math
import os
import pathlib
import re
import types
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from .convert import DEFAULT_LIMITS, ConversionFailed, ConvertLimits, OcrBox, OcrPage, office_to_docx, run_ocr
from .errors import UNREADABLE_CODES, UnreadableReport
from .normalize import valid_text

if TYPE_CHECKING:  # imported lazily at run time: python-docx is slow to import
    from docx.oxml.xmlchemy import BaseOxmlElement as _Element

__all__ = [
    "DEFAULT_MAX_BYTES",
    "ERROR_CODES",
    "SUPPORTED_SUFFIXES",
    "ExtractedText",
    "ReportLimits",
    "clean_line",
    "extract",
    "read_report_file",
]

# Office formats LibreOffice converts to .docx (.wps is Kingsoft WPS: a Word binary or an OOXML zip under that name).
OFFICE_SUFFIXES: frozenset[str] = frozenset({".doc", ".wps", ".rtf", ".odt"})
HTML_SUFFIXES: frozenset[str] = frozenset({".html", ".htm"})
# Photos and scans, read by OCR.
IMAGE_SUFFIXES: frozenset[str] = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(
    {".txt", ".md", ".docx", ".pdf", *OFFICE_SUFFIXES, *HTML_SUFFIXES, *IMAGE_SUFFIXES}
)
DEFAULT_MAX_BYTES: Final = 20 * 1024 * 1024

ERROR_CODES: frozenset[str] = frozenset(UNREADABLE_CODES.values())  # the reasons and their words: errors.py, texts


@dataclass(frozen=True)
class ExtractedText:
    """The cleaned paragraphs of one report file, plus what the format itself says about them."""

    source: str
    """The file name (no directories), as given."""
    kind: str
    """"txt", "md", "docx", "pdf", "html", "image" (OCR), or "doc"/"wps"/"rtf"/"odt" (converted) -- detected from
    the content, not the suffix (an OLE Word binary is "wps" when named so, "doc" otherwise)."""
    encoding: str | None
    """The detected text encoding for txt/md (e.g. "utf-8", "gb18030"); None for docx/pdf."""
    lines: tuple[str, ...]
    """Cleaned paragraphs in document order; never empty strings."""
    heading_levels: Mapping[int, int] = field(hash=False)
    """Index into `lines` -> heading level (1 = top) where the format declares a heading."""
    title: str | None
    """A title declared by the format (docx Title style/properties, markdown '# ', pdf metadata)."""
    sha256: str
    """The fingerprint of the raw bytes (SHA-256, hex), so re-uploads of the same file can be recognised."""
    declared_date: str | None = None
    """The day the format declares the file was made ("YYYY-MM-DD"): a .docx's core properties (created, else
    modified), a PDF's CreationDate; None when missing or meaningless (before 1980, in the future)."""


@dataclass(frozen=True)
class ReportLimits:
    """What one report may expand to. A few kilobytes of compressed Word XML or of blank-line-separated
    characters can unpack into millions of paragraphs (a 300 KB .docx: 2 million, 3.7 GB at its peak), so the
    limits are checked while a file is read, line by line, never after everything was built."""

    max_chars: int = 2_000_000
    """Characters of text in all paragraphs (the largest provincial report has about 40,000)."""
    max_paragraphs: int = 20_000
    """Paragraphs (non-empty lines)."""


_LINES_PER_PARAGRAPH: Final = 8


class _Budget:
    """Counts the lines a file expands to and refuses the file as soon as it goes over its limits."""

    def __init__(self, name: str, limits: ReportLimits, lines_per_paragraph: int = 1) -> None:
        self.name = name
        self.limits = limits
        self.max_lines = limits.max_paragraphs * lines_per_paragraph
        self.chars = 0
        self.paragraphs = 0

    def add_chars(self, count: int) -> None:
        self.chars += count
        if self.chars > self.limits.max_chars:
            raise _error(self.name, "too_many_chars", limit=f"{self.limits.max_chars:,}")

    def add_paragraph(self) -> None:
        self.paragraphs += 1
        if self.paragraphs > self.max_lines:
            raise _error(self.name, "too_many_paragraphs", limit=f"{self.limits.max_paragraphs:,}")

    def for_lines(self) -> _Budget:
        """A budget for the printed lines that become paragraphs later (hard-wrapped text joins several into one):
        the same characters, a few times the paragraphs, so memory stays bounded and no real report is refused."""
        return _Budget(self.name, self.limits, _LINES_PER_PARAGRAPH)

    def add(self, line: str) -> str:
        """Count one paragraph line; returns it."""
        self.add_paragraph()
        self.add_chars(len(line))
        return line


# --------------------------------------------------------------------------------------------
# Line cleaning

# Scraping artefacts of the site the reports were collected from; they carry no text.
_ARTEFACT = re.compile(r"##paid(?:begin|end)##", re.IGNORECASE)
# `\s` covers Unicode whitespace (U+3000 ideographic space used for paragraph indents, NBSP);
# zero-width characters and the BOM are invisible but not whitespace to Python, and stray
# control characters at the edges are leftovers of conversions.
# They are trimmed with str.strip, which is linear: the pattern `^X+|X+$` rescans a run of X inside a line from
# each of its characters (60,000 tabs in one paragraph of a 2 KB .docx took 9 s).
_EDGE_CHARS: Final = (
    "".join(chr(c) for c in range(0x3001) if chr(c).isspace())  # what `\s` matches; none lies above U+3000
    + "\u200b\u200c\u200d\u2060\ufeff\u180e"
    + "".join(chr(c) for c in (*range(0x00, 0x20), *range(0x7F, 0xA0)))
)
# A BOM or zero-width space inside a line is always an artefact (concatenated files, copy and
# paste from web pages) and would break exact quoting and tokenisation, so it goes too.
# ZWJ/ZWNJ are left alone inside lines: they are meaningful in emoji and some scripts.
_INNER_INVISIBLE = re.compile(r"[\u200b\ufeff]")
# Paragraph separators besides "\n": old Mac "\r", Unicode line/paragraph separators, and the
# vertical tab / form feed / NEL that converters emit for line and page breaks.
_NEWLINES = re.compile(r"\r\n|[\r\n\u2028\u2029\x0b\x0c\x85]")


def clean_line(line: str) -> str:
    """Remove artefact markers and surrounding whitespace/invisible characters from one line.

    Everything else is kept exactly as written; in particular the anonymisation markers of the
    reports (``**区``, ``*县``, ``X名``) are text, not formatting.
    """
    line = _ARTEFACT.sub("", valid_text(line))  # a PDF's ToUnicode map can yield lone surrogates
    line = _INNER_INVISIBLE.sub("", line)
    return line.strip(_EDGE_CHARS)


def _split_lines(text: str) -> list[str]:
    return _NEWLINES.split(text)


def _iter_lines(text: str) -> Iterator[str]:
    """The lines of `_split_lines`, one at a time: 20 MB of one-character lines are millions of strings, made
    only as far as a budget lets them."""
    start = 0
    for separator in _NEWLINES.finditer(text):
        yield text[start : separator.start()]
        start = separator.end()
    yield text[start:]


def _clean_lines(text: str, budget: _Budget | None = None) -> list[str]:
    """`clean_line` on every line: what is done character by character (lone surrogates, artefact markers, which
    never hold a line break, invisible characters) once for the whole text, the edges line by line."""
    text = _INNER_INVISIBLE.sub("", _ARTEFACT.sub("", valid_text(text)))
    if budget is None:
        return [cleaned for cleaned in (line.strip(_EDGE_CHARS) for line in _split_lines(text)) if cleaned]
    return [budget.add(cleaned) for cleaned in (line.strip(_EDGE_CHARS) for line in _iter_lines(text)) if cleaned]


# --------------------------------------------------------------------------------------------
# Errors


def _error(source: str, reason: str, **details: str) -> UnreadableReport:
    """The exception for `reason` (one of errors.UNREADABLE_CODES), with the details its message names."""
    return UnreadableReport(source, reason, details)


def _human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n} B"


_NAME_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _file_name(source: str) -> str:
    # Uploads from Windows clients may carry backslash paths; only the name is kept. Line breaks and other
    # control characters in a name would break every one-line listing of it (the outline, `reportbot reports`).
    return _NAME_CONTROLS.sub(" ", valid_text(source.replace("\\", "/").rsplit("/", 1)[-1]))


def _suffix(name: str) -> str:
    return pathlib.PurePosixPath(name).suffix.lower()


def _check_suffix(name: str) -> str:
    suffix = _suffix(name)
    if suffix not in SUPPORTED_SUFFIXES:
        raise _error(name, "unsupported", suffix=suffix) if suffix else _error(name, "no_suffix")
    return suffix


# --------------------------------------------------------------------------------------------
# Entry points


def read_report_file(
    path: pathlib.Path, *, max_bytes: int = DEFAULT_MAX_BYTES, report_limits: ReportLimits | None = None
) -> ExtractedText:
    """Read a report from disk and extract it; see :func:`extract`.

    The suffix and size are checked before reading so a huge or unsupported file is rejected
    without loading it into memory.
    """
    name = path.name
    _check_suffix(name)
    try:
        with path.open("rb") as handle:
            size = _file_size(handle)
            if size is not None and size > max_bytes:
                raise _error(name, "too_large", size=_human_size(size), limit=_human_size(max_bytes))
            # Read one byte more than allowed so that a file that grew since stat() is caught.
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise _os_error(name, exc) from exc
    return extract(name, data, max_bytes=max_bytes, report_limits=report_limits)


def _os_error(name: str, exc: OSError) -> UnreadableReport:
    if isinstance(exc, FileNotFoundError):
        return _error(name, "not_found")
    if isinstance(exc, IsADirectoryError):
        return _error(name, "is_directory")
    if isinstance(exc, PermissionError):
        return _error(name, "permission_denied")
    return _error(name, "io_error", detail=exc.strerror or type(exc).__name__)


def _file_size(handle: io.BufferedReader) -> int | None:
    try:
        return os.fstat(handle.fileno()).st_size
    except OSError:
        return None


def extract(
    source: str,
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    limits: ConvertLimits = DEFAULT_LIMITS,
    report_limits: ReportLimits | None = None,
) -> ExtractedText:
    """Detect the format of `data` and return its cleaned paragraphs.

    `source` is the file name as uploaded (directories are dropped); its suffix must be one of
    SUPPORTED_SUFFIXES and decides Markdown vs plain text, but the format itself is detected
    from the content.  Raises UnreadableReport for anything that cannot be turned into at
    least one line of text, and for a file that expands beyond `report_limits` (checked while reading).
    """
    if max_bytes <= 0:
        raise ValueError("max_bytes must be positive")
    name = _file_name(source)
    suffix = _check_suffix(name)
    if len(data) > max_bytes:
        raise _error(name, "too_large", size=_human_size(len(data)), limit=_human_size(max_bytes))
    if not data:
        raise _error(name, "empty")
    fingerprint = hashlib.sha256(data).hexdigest()
    budget = _Budget(name, report_limits or ReportLimits())

    kind = sniff(data)
    if kind == "docx":
        lines, levels, title, day = _extract_docx(name, data, budget)
        return _result(name, "docx", None, lines, levels, title, fingerprint, day)
    if kind == "pdf":
        lines, levels, title, day = _extract_pdf(name, data, budget, limits)
        return _result(name, "pdf", None, lines, levels, title, fingerprint, day)
    if kind == "image":
        lines, levels, title = _extract_image(name, data, limits)
        return _result(name, "image", None, [budget.add(line) for line in lines], levels, title, fingerprint)
    if kind in ("ole", "rtf", "odt"):
        return _extract_office(name, suffix, kind, data, fingerprint, limits, budget)
    if kind == "html":
        lines, levels, title = _extract_html(name, data)
        lines = [budget.add(line) for line in lines]
        return _result(name, "html", None, lines, levels, title, fingerprint)
    if kind == "zip":
        raise _error(name, "docx_not_word")
    if kind == "binary":
        raise _error(name, "binary")

    text, encoding = _decode(name, data)
    if suffix == ".md":
        lines, levels = _parse_markdown(text, budget)
        title = lines[0] if lines and levels.get(0) == 1 else None
        return _result(name, "md", encoding, lines, levels, title, fingerprint)
    return _result(name, "txt", encoding, _plain_text_paragraphs(text, budget), {}, None, fingerprint)


def _result(
    name: str,
    kind: str,
    encoding: str | None,
    lines: Sequence[str],
    levels: Mapping[int, int],
    title: str | None,
    fingerprint: str,
    declared_date: str | None = None,
) -> ExtractedText:
    if not lines:
        raise _error(name, {"pdf": "no_text", "image": "no_text_image"}.get(kind, "empty"))
    return ExtractedText(
        source=name,
        kind=kind,
        encoding=encoding,
        lines=tuple(lines),
        heading_levels=types.MappingProxyType(dict(levels)),
        title=valid_text(title) if title is not None else None,
        sha256=fingerprint,
        declared_date=declared_date,
    )


# --------------------------------------------------------------------------------------------
# The kind of a file, from its first bytes

_ZIP_MAGIC: Final = (b"PK\x03\x04", b"PK\x05\x06")
_IMAGE_MAGIC: Final = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",  # JPEG
    b"II*\x00",  # TIFF, the usual format of office scanners
    b"MM\x00*",
    b"GIF87a",
    b"GIF89a",
)
_ODT_MIMETYPE: Final = b"application/vnd.oasis.opendocument.text"
_RTF_MAGIC: Final = b"{\\rtf"


def sniff(data: bytes) -> str:
    """The kind of a file from its bytes, whatever its name says: "docx", "odt", "zip" (another archive),
    "ole" (a Word/WPS binary, or an encrypted Office file), "rtf", "pdf", "image", "binary", "html" or "text".

    Looks at a few bytes only (and at a zip's directory, not its content), so the text path stays as fast as it was.
    """
    if data.startswith(_ZIP_MAGIC):
        return _zip_kind(data)
    if data.startswith(_OLE2_MAGIC):
        return "ole"
    head = data[:1024].lstrip(b" \t\r\n\x00\x0c")
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.removeprefix(codecs.BOM_UTF8).startswith(_RTF_MAGIC):
        return "rtf"
    if (
        data.startswith(_IMAGE_MAGIC)
        or (data.startswith(b"RIFF") and data[8:12] == b"WEBP")
        # BMP's "BM" also opens text ("BMW ..."): its header's reserved bytes must be zero too
        or (data.startswith(b"BM") and len(data) > 26 and data[6:10] == b"\0\0\0\0")
    ):
        return "image"
    if data.startswith(_BINARY_MAGIC):
        return "binary"
    if _looks_like_html(head.removeprefix(codecs.BOM_UTF8).lstrip()):
        return "html"
    return "text"


def _zip_kind(data: bytes) -> str:
    """OOXML has word/document.xml; ODF names its type in a "mimetype" member."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if any(_DOCUMENT_PART.match(name) for name in names):
                return "docx"
            mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
    except Exception:  # a damaged archive: the docx reader names the damage
        return "docx"
    return "odt" if mimetype.strip() == _ODT_MIMETYPE else "zip"


# --------------------------------------------------------------------------------------------
# Web pages (.html, .htm)

_HTML_START = re.compile(rb"<(?:!doctype\s+html|html|head|body|meta|title)[\s>]", re.IGNORECASE)
# Block elements of trafilatura's output tree that hold a paragraph of their own.
_HTML_BLOCKS: Final = frozenset({"head", "p", "item", "quote", "code", "row"})
_HTML_HEADING = re.compile(r"^h([1-6])$")


def _looks_like_html(head: bytes) -> bool:
    return head.startswith(b"<") and _HTML_START.search(head[:4096]) is not None


def _extract_html(name: str, data: bytes) -> tuple[list[str], dict[int, int], str | None]:
    """The main text of a saved web page (trafilatura: the article without navigation, sidebars and footers), with
    its headings as headings and the page's title (its headline) as the first line."""
    try:
        import trafilatura

        document = trafilatura.bare_extraction(
            data, with_metadata=True, include_comments=False, include_tables=True, include_images=False
        )
    except Exception as exc:  # a parser failure on hostile markup
        raise _error(name, "no_html_text") from exc
    body = getattr(document, "body", None)
    if body is None:
        raise _error(name, "no_html_text")
    lines: list[str] = []
    levels: dict[int, int] = {}
    for element in body.iter(*_HTML_BLOCKS):
        if any(parent.tag in _HTML_BLOCKS for parent in element.iterancestors()):
            continue  # its text is part of the enclosing block's
        if element.tag == "row":
            text = " ".join(clean_line(_html_text(cell)) for cell in element.iter("cell"))
        else:
            text = _html_text(element)
        heading = _HTML_HEADING.match(element.get("rend") or "") if element.tag == "head" else None
        if heading is not None:
            line = clean_line(" ".join(_clean_lines(text)))
            if line:
                levels[len(lines)] = int(heading.group(1))
                lines.append(line)
        else:
            lines.extend(_clean_lines(text))
    if not lines:
        raise _error(name, "no_html_text")
    title = _declared_title(getattr(document, "title", None))
    if title is not None and lines[0] != title:
        # The headline is outside the article body trafilatura returns; the report starts with it.
        levels = {i + 1: level for i, level in levels.items()}
        levels[0] = 1
        lines.insert(0, title)
    kept = [i for i, line in enumerate(lines) if not _is_furniture(line)]
    new_index = {old: new for new, old in enumerate(kept)}
    lines = [lines[i] for i in kept]
    levels = {new_index[i]: level for i, level in levels.items() if i in new_index}
    return lines, levels, title


def _html_text(element: Any) -> str:
    """An element's text in document order, its line breaks (<lb/>) as newlines."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if node.tag == "lb":
            parts.append("\n")
        elif node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(element)
    return "".join(parts)


# --------------------------------------------------------------------------------------------
# Office formats through LibreOffice (.doc, .wps, .rtf, .odt)

# The sniffed kind -> the file type LibreOffice is told (the name only guides its own detection).
_OFFICE_TYPES: Final = {"ole": "doc", "rtf": "rtf", "odt": "odt"}
# An OOXML file saved with a password is an OLE2 container holding the encrypted zip under this stream name.
_ENCRYPTED_PACKAGE: Final = "EncryptedPackage".encode("utf-16-le")
# The stream every Word 97-2003 document has (Kingsoft WPS writes the same format); its name is in the directory.
_WORD_STREAM: Final = "WordDocument".encode("utf-16-le")


def _extract_office(
    name: str, suffix: str, kind: str, data: bytes, fingerprint: str, limits: ConvertLimits, budget: _Budget
) -> ExtractedText:
    """Convert with LibreOffice and read the result as .docx; the report's kind is its own format."""
    shown = suffix if suffix in OFFICE_SUFFIXES else f".{_OFFICE_TYPES[kind]}"
    if kind == "ole":
        if _ENCRYPTED_PACKAGE in data:
            raise _error(name, "office_encrypted")
        if _WORD_STREAM not in data:
            # An Excel or PowerPoint file, or damage: LibreOffice would import the bytes as text.
            raise _error(name, "broken_office", suffix=shown)
    try:
        converted = office_to_docx(data, _OFFICE_TYPES[kind], limits=limits)
    except ConversionFailed as exc:
        raise _conversion_error(name, shown, exc) from exc
    try:
        # The converted file's properties are not the original's (LibreOffice stamps its own times): not read.
        lines, levels, title, _ = _extract_docx(name, converted, budget)
    except UnreadableReport as exc:
        if exc.code == "too_large":  # the converted document expands beyond what one report may be
            raise
        raise _error(name, "broken_office", suffix=shown) from exc
    if not _looks_like_text("".join(lines)):
        # LibreOffice falls back to importing a damaged file's bytes as text: that is not the report.
        raise _error(name, "broken_office", suffix=shown)
    report_kind = shown.removeprefix(".") if shown in OFFICE_SUFFIXES else _OFFICE_TYPES[kind]
    return _result(name, report_kind, None, lines, levels, title, fingerprint)


def _conversion_error(name: str, suffix: str, exc: ConversionFailed) -> UnreadableReport:
    if exc.reason == "missing_libreoffice":
        return _error(name, "needs_libreoffice", suffix=suffix)
    if exc.reason == "missing_ocr":
        return _error(name, "needs_ocr")
    if exc.reason == "timeout":
        return _error(name, "convert_timeout", seconds=exc.detail.removesuffix(" s"))
    if exc.reason == "encrypted":
        return _error(name, "office_encrypted")
    return _error(name, "broken_office", suffix=suffix)


# --------------------------------------------------------------------------------------------
# Plain text decoding

# Formats that are obviously not text; recognising them gives a clear answer at once instead of
# relying on the statistical checks below.
_OLE2_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc/.xls and encrypted .docx
_BINARY_MAGIC: Final = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",  # JPEG
    b"GIF87a",
    b"GIF89a",
    b"\x1f\x8b",  # gzip
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!\x1a\x07",
    b"\x7fELF",
    b"II*\x00",  # TIFF
    b"MM\x00*",
)
_BOMS: Final = (
    # UTF-32 LE must come before UTF-16 LE: its BOM starts with the UTF-16 LE BOM.
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Control characters that do not occur in text files (tab, newlines, vertical tab and form feed
# do; so does ESC in ISO-2022 encodings and SUB as the old DOS end-of-file mark).
_CONTROL_BYTES: Final = bytes([*range(0x00, 0x09), *range(0x0E, 0x1A), 0x1C, 0x1D, 0x1E, 0x1F, 0x7F])
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x19\x1c-\x1f\x7f-\x84\x86-\x9f]")
_MAX_CONTROL_RATIO: Final = 0.01
# Characters expected in (Chinese) report text.  Used only to reject a *heuristic* decoding
# (UTF-16 without BOM, GB18030, charset-normalizer): a wrong decoding spreads characters
# uniformly over Unicode, roughly half of which is outside these ranges.
_PLAUSIBLE_RANGES: Final = (
    "\t\n\r\x0b\x0c\x20-\x7e"
    "\xa0-\u024f"  # Latin-1 supplement, Latin extended A/B
    "\u0370-\u04ff"  # Greek, Cyrillic
    "\u2000-\u20cf"  # general punctuation (“”…—, zero-width), super/subscripts, currency
    "\u2100-\u23ff"  # letterlike symbols, number forms (Ⅰ Ⅱ), arrows, maths, technical
    "\u2460-\u27bf"  # enclosed alphanumerics (①), box drawing, shapes, symbols, dingbats
    "\u2e80-\u2fdf"  # CJK and Kangxi radicals
    "\u3000-\u312f"  # CJK symbols and punctuation, kana, bopomofo
    "\u3200-\u4dbf"  # enclosed CJK (㈠), CJK compatibility (㎡), extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\ufe10-\ufe1f\ufe30-\ufe6f"  # vertical, compatibility and small forms
    "\ufeff\uff00-\uffef"  # BOM, half-width and full-width forms
    "\U0001f300-\U0001faff"  # emoji
    "\U00020000-\U0003134f"  # CJK extensions B-G
)
_IMPLAUSIBLE = re.compile(f"[^{_PLAUSIBLE_RANGES}]")
_MIN_PLAUSIBLE: Final = 0.95
_HAN = re.compile(r"[\u4e00-\u9fff]")
# Real simplified-Chinese text uses almost only the 6763 GB2312 hanzi; GB18030 mojibake of
# other data lands uniformly in the ~21000 GBK hanzi, of which only a third are in GB2312.
_MIN_COMMON_HAN: Final = 0.8
_SAMPLE_CHARS: Final = 1_000_000
# Decoder complaints that only mean "the data stops in the middle of a character".
_TRUNCATION_REASONS: Final = ("unexpected end of data", "truncated data", "incomplete multibyte sequence")


def _decode(name: str, data: bytes) -> tuple[str, str]:
    """Return (text, encoding) or raise binary/undecodable/empty."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            # A BOM is a declaration by the writer: trust it, and do not guess further.
            text = _decode_strict(data[len(bom) :], encoding.removesuffix("-sig"))
            if text is None:
                raise _error(name, "undecodable")
            _check_controls(name, text)
            return text, encoding

    if b"\x00" in data:
        # Text in single-byte or multi-byte encodings never contains NUL; UTF-16 has one in
        # every ASCII character (newlines, digits).  Anything else with NULs is binary.
        found = _sniff_utf16(data)
        if found is None:
            raise _error(name, "binary")
        return found

    controls = len(data) - len(data.translate(None, _CONTROL_BYTES))
    if controls > _MAX_CONTROL_RATIO * len(data):
        raise _error(name, "binary")

    # Strict UTF-8 almost never succeeds on text in another encoding, so success is evidence.
    text = _decode_strict(data, "utf-8")
    if text is not None:
        _check_controls(name, text)
        return text, "utf-8"

    # GB18030 is a superset of GB2312 and GBK, the usual legacy encodings of Chinese files.
    text = _decode_strict(data, "gb18030")
    if text is not None and _looks_like_text(text) and _common_han_ratio(text) >= _MIN_COMMON_HAN:
        _check_controls(name, text)
        return text, "gb18030"

    guessed = _charset_normalizer_guess(data)
    if guessed is not None:
        _check_controls(name, guessed[0])
        return guessed
    raise _error(name, "undecodable")


def _decode_strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        # A file cut off in the middle of a multi-byte character (interrupted upload or copy)
        # loses only that character; everything before it is still valid evidence.
        if exc.reason in _TRUNCATION_REASONS and exc.end == len(data) and exc.start >= len(data) - 3:
            try:
                return data[: exc.start].decode(encoding)
            except UnicodeDecodeError:
                return None
        return None


def _sniff_utf16(data: bytes) -> tuple[str, str] | None:
    """Recognise UTF-16 without BOM (Windows "Unicode" text) from its decodability.

    The NUL parity alone is not enough: in Chinese text many ideographs such as 一 (U+4E00)
    have a zero low byte and can outnumber the ASCII characters.  The wrong byte order turns
    ideographs into random code points, which the plausibility check rejects.
    """
    candidates: list[tuple[float, str, str]] = []
    for encoding in ("utf-16-le", "utf-16-be"):
        text = _decode_strict(data, encoding)
        if text is None or "\x00" in text or _control_ratio(text) > _MAX_CONTROL_RATIO:
            continue
        score = _plausible_ratio(text)
        if score >= _MIN_PLAUSIBLE:
            candidates.append((score, encoding, text))
    if not candidates:
        return None
    if len(candidates) == 2 and candidates[0][0] == candidates[1][0]:
        # Both byte orders plausible (mostly-ASCII text read backwards lands in CJK ranges):
        # the NUL bytes are the high bytes of ASCII characters, so their position decides.
        even = data[0::2].count(0)
        odd = data[1::2].count(0)
        _, encoding, text = candidates[0] if odd >= even else candidates[1]
        return text, encoding
    _, encoding, text = max(candidates)
    return text, encoding


def _control_ratio(text: str) -> float:
    sample = text[:_SAMPLE_CHARS]
    return len(_CONTROL_CHARS.findall(sample)) / max(1, len(sample))


def _check_controls(name: str, text: str) -> None:
    if "\x00" in text or _control_ratio(text) > _MAX_CONTROL_RATIO:
        raise _error(name, "binary")


def _plausible_ratio(text: str) -> float:
    sample = text[:_SAMPLE_CHARS]
    if not sample:
        return 1.0
    return 1.0 - len(_IMPLAUSIBLE.findall(sample)) / len(sample)


def _looks_like_text(text: str) -> bool:
    return _plausible_ratio(text) >= _MIN_PLAUSIBLE and _control_ratio(text) <= _MAX_CONTROL_RATIO


def _common_han_ratio(text: str) -> float:
    han = "".join(_HAN.findall(text[:_SAMPLE_CHARS]))
    if not han:
        return 1.0
    missing = han.encode("gb2312", errors="replace").count(b"?")
    return 1.0 - missing / len(han)


def _charset_normalizer_guess(data: bytes) -> tuple[str, str] | None:
    """Last resort for other legacy encodings (Big5, other code pages)."""
    try:
        import charset_normalizer

        best = charset_normalizer.from_bytes(data).best()
        if best is None:
            return None
        text = str(best)
        encoding = codecs.lookup(best.encoding).name
    except Exception:  # the guesser is best-effort; its failure just means "no guess"
        return None
    if not _looks_like_text(text):
        return None
    return text, encoding


# --------------------------------------------------------------------------------------------
# Plain text: hard-wrapped lines and web-page furniture


def _plain_text_paragraphs(text: str, budget: _Budget) -> list[str]:
    """A text file's paragraphs: one per line, unless the text is hard-wrapped (copied out of a PDF viewer or a
    web page), when its lines are joined back into paragraphs; minus the furniture of the web page it came from."""
    # Furniture goes first: its short lines would otherwise look like the ends of wrapped paragraphs.
    lines = _drop_web_furniture(_clean_lines(text, budget.for_lines()))
    if _looks_hard_wrapped(lines):
        kept = set(lines)
        lines = _rebuild_paragraphs([line for line in _text_lines([text])[0] if line.text in kept], em=2.0)
    return [budget.add(line) for line in lines]


# Hard wrapping shows as many lines of about the same, greatest length that stop in the middle of a sentence;
# text written one paragraph per line has lines of every length, nearly all ending a sentence.
_WRAP_MIN_LINES: Final = 6
_WRAP_MIN_WIDTH: Final = 12
_WRAP_SLACK: Final = 4
_WRAP_SHARE: Final = 0.3
_WRAP_MIN_CUT: Final = 4


def _looks_hard_wrapped(lines: Sequence[str]) -> bool:
    if len(lines) < _WRAP_MIN_LINES:
        return False
    lengths = sorted(len(line) for line in lines)
    width = lengths[round(_FULL_LINE_PERCENTILE * (len(lengths) - 1))]
    if width < _WRAP_MIN_WIDTH:
        return False
    cut = sum(1 for line in lines if len(line) >= width - _WRAP_SLACK and line[-1] not in _TERMINAL)
    return cut >= max(_WRAP_MIN_CUT, _WRAP_SHARE * len(lines))


# Web-page furniture: buttons, font-size switches, navigation, the source/time line, photo captions, related
# links and copyright footers that scraping or copying a government page brings along. Only short lines are
# candidates, and each rule matches a whole line.
_FURNITURE_MAX_CHARS: Final = 150
_FURNITURE_WORDS: Final = frozenset(
    [
        *("下载", "打印", "全屏", "收藏", "分享", "分享到", "分享到微信", "关闭", "关闭窗口", "打印本页", "打印本文"),
        *("关闭本页", "返回顶部", "返回", "首页", "字号", "字体", "加大", "还原", "减小", "默认", "大", "中", "小"),
        *("上一篇", "下一篇", "扫一扫在手机打开当前页", "扫一扫", "微信", "微博", "QQ空间", "相关报道", "相关文档"),
        *("相关链接", "相关新闻", "相关阅读", "阅读量", "浏览次数", "视力保护色", "政务信息", "政府信息公开", "×"),
        *(">", "＞", "»"),
    ]
)
_FURNITURE_SPLIT = re.compile(r"[\s【】\[\]|｜/：:（）()]+")
_FURNITURE_LINE = re.compile(
    r"^[（(【\[]?(?:来源|稿源|文章来源|信息来源|作者|编辑|责任编辑|审核|发布机构|浏览次数|阅读量|访问量|点击数|点击量"
    r"|您的位置|当前位置|所在位置|索引号|主题分类|发文字号|公开方式|公开范围)[：:]"
    r"|^[（(【\[]?(?:发布|发表|更新)?(?:时间|日期)[：:]\s*(?:\d{4}\s*[-年/.]|$)"
    r"|^\d{4}[-年/.]\d{1,2}[-月/.]\d{1,2}日?\s*\d{1,2}[:：时]\d{2}(?:[:：分]\d{2}秒?)?分?$"
    r"|^\S{2,6}要闻$|点击(?:图片|这里|此处)进入"
    r"|(?:记者|通讯员|摄影|图[／/]|图片)[^。！？]{0,24}摄\s*[)）]?$"
    r"|版权所有|Copyright|©|ICP备|网站标识码|公网安备|主办单位[：:]|承办单位[：:]|技术支持[：:]"
    r"|^(?:[^>＞»。，]{1,15}[>＞»]){2,}[^>＞»。，]{0,20}$",
    re.IGNORECASE,
)
# A "related reports" heading near the end: it and the short link lines after it are furniture.
_RELATED = re.compile(r"^(?:相关报道|相关文档|相关链接|相关新闻|相关阅读|延伸阅读)[：:]?$")


def _drop_web_furniture(lines: list[str]) -> list[str]:
    kept = [line for line in lines if not _is_furniture(line)]
    for i in range(len(kept) - 1, max(-1, len(kept) - 30), -1):
        if _RELATED.match(kept[i]):
            tail = kept[i + 1 :]
            if all(len(line) < 60 and line[-1] not in "。！？" for line in tail):
                del kept[i:]
            break
    return kept


def _is_furniture(line: str) -> bool:
    if len(line) > _FURNITURE_MAX_CHARS:
        return False
    tokens = [token for token in _FURNITURE_SPLIT.split(line) if token]
    if all(token in _FURNITURE_WORDS for token in tokens):  # also a line of brackets alone: "】"
        return True
    return _FURNITURE_LINE.search(line) is not None and not _RELATED.match(line)


# --------------------------------------------------------------------------------------------
# Markdown

# Every pattern here runs on untrusted text, so each is linear in the length of the line: no two adjacent
# quantifiers that can match the same characters (`\s*\|?\s*` is quadratic on a run of spaces), and a search that
# may fail at many starting points never scans past the next possible start (a link's text and target stop at
# the next bracket). Checked by tests/test_abuse.py on adversarial lines.
_MD_FENCE = re.compile(r"^\s{0,3}(?:```|~~~)")
_MD_HRULE = re.compile(r"^\s{0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
# An ATX heading's text is everything after the marker; its closing `#`s are removed in code (_atx_text).
_MD_ATX = re.compile(r"^\s{0,3}(#{1,6})(?:[ \t]+(.*)|$)")
_MD_SETEXT = re.compile(r"^\s{0,3}(={2,}|-{2,})[ \t]*$")
_MD_QUOTE = re.compile(r"^\s{0,3}(?:>[ \t]?)+")
_MD_LIST = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])[ \t]+")
_MD_TABLE_RULE = re.compile(r"^\s*(?:\|\s*)?:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)+(?:\|\s*)?$")
_MD_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_MD_CODE = re.compile(r"`([^`]+)`")
_MD_LINK = re.compile(r"!?\[([^\[\]\n]*)\]\([^()\[\]\s]*(?:\s+[\"'][^\"'\[\]]*[\"'])?\)")
# In these reports `**区`, `*县` are anonymised place names, so `**` next to an administrative
# unit is never taken as a bold delimiter (better to leave `**` than to destroy a name).
_ADMIN_UNITS: Final = "区县市镇乡村省州旗盟"
_MD_STRONG_STAR = re.compile(rf"(?<![\\*])\*\*(?![\s*{_ADMIN_UNITS}])(.+?)(?<![\s*\\])\*\*(?![*{_ADMIN_UNITS}])")
_MD_STRONG_STAR_CLOSE = re.compile(rf"(?<![\s*\\])\*\*(?![*{_ADMIN_UNITS}])")
_MD_STRONG_UNDERSCORE = re.compile(r"(?<![\\_\w])__(?![\s_])(.+?)(?<![\s_\\])__(?![_\w])")
_MD_STRONG_UNDERSCORE_CLOSE = re.compile(r"(?<![\s_\\])__(?![_\w])")
_PLACEHOLDER = re.compile(r"\x00(\d+)\x00")


def _parse_markdown(text: str, budget: _Budget | None = None) -> tuple[list[str], dict[int, int]]:
    """Strip Markdown block and inline syntax, recording ATX/setext heading levels."""
    lines: list[str] = []
    levels: dict[int, int] = {}
    in_fence = False
    # Index of the previous output line if it came from a plain paragraph line directly above;
    # a following "===" or "---" turns it into a setext heading.
    paragraph_above: int | None = None
    for raw in _iter_lines(text):
        if budget is not None and len(lines) > budget.paragraphs:
            budget.add(lines[-1])
        raw = _ARTEFACT.sub("", raw)
        if _MD_FENCE.match(raw):
            in_fence = not in_fence
            paragraph_above = None
            continue
        if in_fence:
            # Code blocks are kept verbatim: no Markdown syntax applies inside them.
            _append(lines, clean_line(raw))
            paragraph_above = None
            continue
        setext = _MD_SETEXT.match(raw)
        if setext and paragraph_above is not None:
            levels[paragraph_above] = 1 if setext.group(1).startswith("=") else 2
            paragraph_above = None
            continue
        if _MD_HRULE.match(raw) or _MD_TABLE_RULE.match(raw):
            paragraph_above = None
            continue
        body = _MD_QUOTE.sub("", raw)
        atx = _MD_ATX.match(body)
        if atx:
            if _append(lines, clean_line(_md_inline(_atx_text(atx.group(2) or "")))):
                levels[len(lines) - 1] = len(atx.group(1))
            paragraph_above = None
            continue
        # Only a plain paragraph line can be underlined into a heading; after a list item or
        # a quote, "---" is a horizontal rule.
        plain = body == raw
        body = _MD_LIST.sub("", body, count=1)
        plain = plain and body == raw
        index = len(lines)
        appended = _append(lines, clean_line(_md_inline(body)))
        paragraph_above = index if appended and plain else None
    if budget is not None and len(lines) > budget.paragraphs:
        budget.add(lines[-1])
    return lines, levels


def _append(lines: list[str], line: str) -> bool:
    if line:
        lines.append(line)
        return True
    return False


def _atx_text(text: str) -> str:
    """An ATX heading's text without its optional closing sequence (`## 标题 ##`); `#` glued to a word stays."""
    text = text.rstrip(" \t")
    bare = text.rstrip("#")
    return bare.rstrip(" \t") if bare != text and (not bare or bare[-1] in " \t") else text


def _strip_emphasis(pattern: re.Pattern[str], closer: re.Pattern[str], text: str) -> str:
    """`pattern.sub(group 1)` in linear time: an opener without a closer after it would make the lazy search scan
    to the end of the line from every opener (`**a ` 20,000 times took 17 s), so the search stops at the last
    closer. Every opener before it then finds a closer; nothing after it can match."""
    last = None
    for match in closer.finditer(text):
        last = match
    if last is None:
        return text
    end = last.end()
    return pattern.sub(lambda m: m.group(1), text[:end]) + text[end:]


def _md_inline(text: str) -> str:
    """Remove inline Markdown syntax that is unambiguous; leave everything else as written."""
    protected: list[str] = []

    def protect(value: str) -> str:
        protected.append(value)
        return f"\x00{len(protected) - 1}\x00"

    # Escaped characters and code spans are literal text: hide them from the emphasis rules.
    text = _MD_ESCAPE.sub(lambda m: protect(m.group(1)), text)
    text = _MD_CODE.sub(lambda m: protect(m.group(1)), text)
    text = _MD_LINK.sub(lambda m: m.group(1), text)
    text = _strip_emphasis(_MD_STRONG_STAR, _MD_STRONG_STAR_CLOSE, text)
    text = _strip_emphasis(_MD_STRONG_UNDERSCORE, _MD_STRONG_UNDERSCORE_CLOSE, text)
    return _PLACEHOLDER.sub(lambda m: protected[int(m.group(1))], text)


# --------------------------------------------------------------------------------------------
# Word (.docx)

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_DOCUMENT_PART = re.compile(r"^word/document\d*\.xml$", re.IGNORECASE)
# python-docx keeps every part in memory; a zip bomb must be refused before opening it.
_MAX_UNPACKED_BYTES: Final = 512 * 1024 * 1024
# Elements in all XML parts together: a long report with heavy formatting has a few hundred thousand.
_MAX_DOCX_ELEMENTS: Final = 1_000_000
_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*([1-9])$", re.IGNORECASE)
_TITLE_STYLE = re.compile(r"^(?:title|标题)$", re.IGNORECASE)
# Inline containers whose runs are visible text (tracked insertions, links, fields, controls).
_INLINE_CONTAINERS: Final = frozenset(
    _W + tag for tag in ("hyperlink", "ins", "smartTag", "fldSimple", "customXml", "moveTo", "bdo", "dir")
)
_TITLE_LEVEL: Final = 1


@dataclass(frozen=True)
class _StyleInfo:
    name: str
    based_on: str | None
    outline_level: int | None


def _check_docx_size(name: str, archive: zipfile.ZipFile, budget: _Budget) -> None:
    """Stream every XML part once, counting elements, paragraphs and characters, and refuse the file before
    python-docx builds its trees: those cost about 500 bytes an element (1 GB for the 2 million tiny paragraphs
    of a 244 KB file). Memory here stays that of one element at a time."""
    from lxml import etree

    scan = _Budget(name, budget.limits)
    elements = 0
    for info in archive.infolist():
        if not info.filename.lower().endswith(".xml"):
            continue
        with archive.open(info) as stream:
            for _, element in etree.iterparse(stream, events=("end",), resolve_entities=False, no_network=True):
                elements += 1
                if elements > _MAX_DOCX_ELEMENTS:
                    raise _error(name, "docx_too_complex", limit=f"{_MAX_DOCX_ELEMENTS:,}")
                tag = element.tag
                if tag == _W + "t":
                    scan.add_chars(len(element.text or ""))
                elif tag == _W + "p":
                    scan.add_paragraph()
                element.clear()
                parent = element.getparent()
                if parent is not None:  # drop the finished siblings too, not only their content
                    while element.getprevious() is not None:
                        del parent[0]


def _extract_docx(name: str, data: bytes, budget: _Budget) -> tuple[list[str], dict[int, int], str | None, str | None]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except Exception as exc:  # BadZipFile, truncated central directory, bogus headers, ...
        raise _error(name, "broken_docx") from exc
    if not any(_DOCUMENT_PART.match(info.filename) for info in infos):
        raise _error(name, "docx_not_word")
    unpacked = sum(info.file_size for info in infos)
    if unpacked > _MAX_UNPACKED_BYTES:
        raise _error(name, "docx_too_large", size=_human_size(unpacked))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_docx_size(name, archive, budget)
    except UnreadableReport:
        raise
    except Exception as exc:  # damaged XML or zip members: the same answer python-docx would lead to
        raise _error(name, "broken_docx") from exc

    try:
        import docx

        document = docx.Document(io.BytesIO(data))
        styles = _docx_styles(document.styles.element)
        lines: list[str] = []
        levels: dict[int, int] = {}
        title: str | None = None
        for paragraph in _docx_blocks(document.element.body):
            level, is_title = _docx_paragraph_level(paragraph, styles)
            text = _docx_paragraph_text(paragraph)
            if level is None:
                lines.extend(_clean_lines(text, budget))
                continue
            # A heading is one line even if the author broke it visually with Shift+Enter.
            heading = clean_line(_join_parts(_clean_lines(text)))
            if heading:
                levels[len(lines)] = level
                lines.append(budget.add(heading))
                if is_title and title is None:
                    title = heading
    except UnreadableReport:
        raise
    except Exception as exc:  # anything python-docx/lxml/zipfile raise means a damaged file
        raise _error(name, "broken_docx") from exc
    if title is None:
        title = _docx_core_title(document)
    return lines, levels, title, _docx_core_date(document)


def _docx_core_title(document: Any) -> str | None:
    try:
        value = document.core_properties.title
    except Exception:  # metadata is optional: a damaged core.xml must not cost us the text
        return None
    return _declared_title(value if isinstance(value, str) else None)


# Times that a template, not an author, wrote into core.xml: python-docx's default document (what scripts that make
# reports start from) says it was created and modified 2013-12-23 23:15 UTC.
_TEMPLATE_STAMPS: Final = frozenset({datetime.datetime(2013, 12, 23, 23, 15)})
_CHINA: Final = datetime.timezone(datetime.timedelta(hours=8))


def _docx_core_date(document: Any) -> str | None:
    """The day the core properties say the document was created, else last modified."""
    for name in ("created", "modified"):
        try:
            value = getattr(document.core_properties, name)
        except Exception:  # metadata is optional: a damaged core.xml must not cost us the text
            return None
        if not isinstance(value, datetime.datetime) or value.replace(tzinfo=None) in _TEMPLATE_STAMPS:
            continue
        if value.tzinfo is not None:
            # core.xml keeps UTC; the day the office saw is China's (a report saved at 07:00 was made that day)
            value = value.astimezone(_CHINA)
        day = _declared_day(value.year, value.month, value.day)
        if day is not None:
            return day
    return None


def _docx_styles(styles_element: _Element) -> dict[str, _StyleInfo]:
    styles: dict[str, _StyleInfo] = {}
    for style in styles_element.iterchildren(_W + "style"):
        style_id = style.get(_W + "styleId")
        if style_id is None:
            continue
        name_el = style.find(_W + "name")
        based_el = style.find(_W + "basedOn")
        styles[style_id] = _StyleInfo(
            name=(name_el.get(_W + "val") or "") if name_el is not None else "",
            based_on=based_el.get(_W + "val") if based_el is not None else None,
            outline_level=_outline_level(style.find(_W + "pPr")),
        )
        if style.get(_W + "type") == "paragraph" and style.get(_W + "default") in ("1", "true", "on"):
            styles.setdefault("", styles[style_id])  # "" = paragraphs without an explicit style
    return styles


def _outline_level(ppr: _Element | None) -> int | None:
    if ppr is None:
        return None
    element = ppr.find(_W + "outlineLvl")
    if element is None:
        return None
    try:
        return int(element.get(_W + "val") or "")
    except ValueError:
        return None


def _docx_paragraph_level(paragraph: _Element, styles: Mapping[str, _StyleInfo]) -> tuple[int | None, bool]:
    """Heading level declared by the paragraph's style (Heading N / 标题 N / Title) or outline level."""
    ppr = paragraph.find(_W + "pPr")
    direct = _outline_level(ppr)
    style_el = ppr.find(_W + "pStyle") if ppr is not None else None
    style_id = (style_el.get(_W + "val") or "") if style_el is not None else ""
    # Word's outline levels are 0-8 for headings and 9 for body text.
    if direct is not None:
        return (direct + 1, False) if 0 <= direct <= 8 else (None, False)
    seen: set[str] = set()
    current: str | None = style_id
    while current is not None and current not in seen and len(seen) < 20:
        seen.add(current)
        info = styles.get(current)
        if info is None:
            break
        name = info.name.strip()
        if _TITLE_STYLE.match(name):
            return _TITLE_LEVEL, True
        heading = _HEADING_STYLE.match(name)
        if heading:
            return int(heading.group(1)), False
        if info.outline_level is not None:
            level = info.outline_level
            return (level + 1, False) if 0 <= level <= 8 else (None, False)
        current = info.based_on
    return None, False


def _docx_blocks(container: _Element) -> Iterator[_Element]:
    """Paragraph elements in body order, descending into tables and content controls."""
    for child in container.iterchildren():
        tag = child.tag
        if tag == _W + "p":
            yield child
        elif tag == _W + "tbl":
            yield from _docx_table_blocks(child)
        elif tag == _W + "sdt":
            content = child.find(_W + "sdtContent")
            if content is not None:
                yield from _docx_blocks(content)
        elif tag == _W + "customXml":
            yield from _docx_blocks(child)


def _docx_table_blocks(element: _Element) -> Iterator[_Element]:
    # Walking the XML (not python-docx's row.cells) visits each merged cell once.
    for child in element.iterchildren():
        tag = child.tag
        if tag == _W + "tr":
            yield from _docx_table_blocks(child)
        elif tag == _W + "tc":
            yield from _docx_blocks(child)
        elif tag == _W + "sdt":
            content = child.find(_W + "sdtContent")
            if content is not None:
                yield from _docx_table_blocks(content)
        elif tag == _W + "customXml":
            yield from _docx_table_blocks(child)


def _docx_paragraph_text(paragraph: _Element) -> str:
    """Visible text of a paragraph, including tracked insertions, links and field results.

    Deleted text (w:del/w:delText) and text boxes anchored in the paragraph are skipped; text
    box content would otherwise appear twice (Word stores a fallback copy).
    """
    parts: list[str] = []
    _collect_inline(paragraph, parts)
    return "".join(parts)


def _collect_inline(element: _Element, parts: list[str]) -> None:
    for child in element.iterchildren():
        tag = child.tag
        if tag == _W + "r":
            _collect_run(child, parts)
        elif tag in _INLINE_CONTAINERS:
            _collect_inline(child, parts)
        elif tag == _W + "sdt":
            content = child.find(_W + "sdtContent")
            if content is not None:
                _collect_inline(content, parts)


def _collect_run(run: _Element, parts: list[str]) -> None:
    for child in run.iterchildren():
        tag = child.tag
        if tag == _W + "t":
            parts.append(child.text or "")
        elif tag == _W + "tab":
            parts.append("\t")
        elif tag in (_W + "br", _W + "cr"):
            parts.append("\n")
        elif tag == _W + "noBreakHyphen":
            parts.append("-")


# --------------------------------------------------------------------------------------------
# Scans and photos (OCR)

# A space OCR put next to a Chinese character is not in the text ("2024 年" -> "2024年"); ASCII punctuation it
# read after a Chinese character is the full-width mark a Chinese text uses ("，" rather than ",").
_CJK_SPACE = re.compile(r"(?<=[^\x00-\u2e7f]) +| +(?=[^\x00-\u2e7f])")
_CJK_PUNCT = re.compile(r"(?<=[\u4e00-\u9fff])[,;:?!]")
_FULL_WIDTH: Final = str.maketrans(",;:?!", "，；：？！")
# Pages with fewer characters than this in their text layer are scans (a page number or a stray mark is not text).
_MIN_TEXT_CHARS: Final = 10
# A picture smaller than this (in pixels, either side) holds no readable page of text: a logo, a stamp, a rule.
_MIN_SCAN_PX: Final = 200


def _ocr_text(text: str) -> str:
    text = _CJK_SPACE.sub("", text)
    return _CJK_PUNCT.sub(lambda m: m.group(0).translate(_FULL_WIDTH), text)


def _extract_image(name: str, data: bytes, limits: ConvertLimits) -> tuple[list[str], dict[int, int], str | None]:
    """A photo or a scanned image (each frame of a multi-page TIFF a page) through OCR."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            frames = int(getattr(image, "n_frames", 1))
    except Exception as exc:  # not an image Pillow knows, damaged, or a decompression bomb
        raise _error(name, "broken_image") from exc
    if frames > limits.ocr_max_pages:
        raise _error(name, "scan_too_long", pages=str(frames), limit=str(limits.ocr_max_pages))
    numbers = list(range(frames))
    pages = _ocr_lines(_ocr(name, "image", data, numbers, limits), numbers)
    return _paragraphs_and_headings(_drop_running_lines(pages))


def _ocr(name: str, kind: str, data: bytes, numbers: Sequence[int], limits: ConvertLimits) -> list[OcrPage]:
    try:
        return run_ocr(kind, data, numbers, limits=limits)
    except ConversionFailed as exc:
        if exc.reason == "failed":
            raise _error(name, "broken_image" if kind == "image" else "broken_pdf") from exc
        raise _conversion_error(name, f".{kind}", exc) from exc


def _ocr_lines(
    pages: Sequence[OcrPage], numbers: Sequence[int], widths: Sequence[float] | None = None
) -> list[list[_VisualLine]]:
    """OCR's text boxes -> printed lines, top to bottom: boxes whose middles share a band are one line, left to
    right (OCR splits a line where a wide gap or a change of type interrupts it). With `widths` (the pages' widths
    in points), positions are scaled from pixels to points."""
    result: list[list[_VisualLine]] = []
    for k, (number, page) in enumerate(zip(numbers, pages, strict=True)):
        scale = widths[k] / page.width if widths is not None and page.width else 1.0
        rows: list[list[OcrBox]] = []
        for box in sorted(page.boxes, key=lambda b: (b.y0 + b.y1) / 2):
            middle = (box.y0 + box.y1) / 2
            if rows and min(b.y0 for b in rows[-1]) <= middle <= max(b.y1 for b in rows[-1]):
                rows[-1].append(box)
            else:
                rows.append([box])
        lines = []
        for row in rows:
            row.sort(key=lambda b: b.x0)
            text = clean_line(_join_parts([_ocr_text(b.text.strip()) for b in row if b.text.strip()]))
            if text:
                top, bottom = min(b.y0 for b in row), max(b.y1 for b in row)
                lines.append(
                    _VisualLine(text, row[0].x0 * scale, row[-1].x1 * scale, top * scale, bottom * scale, number)
                )
        result.append(lines)
    return result


# --------------------------------------------------------------------------------------------
# PDF

# Characters that end a paragraph when they end a line; any other line end is a soft wrap if
# the line also fills the column.
_TERMINAL: Final = frozenset("。！？；：…”’」』!?;:.")
# Punctuation that never starts a paragraph: a line beginning with it continues the previous
# line even if that one ended with a closing quote (…“四个自信” / ，…).
_NO_LINE_START: Final = frozenset("，、。；：！？）》」』”’,.;:!?)")
# Lines that start a new block even after a full-width line: numbered headings and items.
_BLOCK_START = re.compile(
    r"^(?:[一二三四五六七八九十百]+、|[（(][一二三四五六七八九十百\d]+[）)]|\d{1,2}[.、．](?!\d)"
    r"|第[一二三四五六七八九十百\d]+[章节部分条])"
)
# Page numbers printed in headers/footers: "3", "- 3 -", "第3页", "第 3 页 共 10 页", "3/10".
_PAGE_NUMBER = re.compile(
    r"^[-－—–\s]*(?:第\s*)?\d{1,3}(?:\s*页)?(?:\s*[/／]\s*\d{1,3}|\s*共\s*\d{1,3}\s*页)?[-－—–\s]*$"
)
_FULL_LINE_PERCENTILE: Final = 0.9
_PLACEHOLDER_TITLES: Final = frozenset({"untitled", "word document", "无标题", "anonymous"})


@dataclass(frozen=True)
class _VisualLine:
    """One printed line and where it sits on its page (y grows downwards; any unit, used as ratios)."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    page: int


def _extract_pdf(
    name: str, data: bytes, budget: _Budget, limits: ConvertLimits
) -> tuple[list[str], dict[int, int], str | None, str | None]:
    # Without an end-of-file marker the file was cut off; a reader would try to reconstruct it
    # and silently return only part of the text.  (An incremental update may leave an older
    # complete revision in a truncated file; that revision is still a valid document.)
    if b"%%EOF" not in data:
        raise _error(name, "pdf_truncated")
    import pypdfium2 as pdfium

    try:
        # An empty user password opens files encrypted only against printing or editing, as every viewer does.
        document = pdfium.PdfDocument(data)
    except Exception as exc:  # PdfiumError: damaged structure, or a password needed
        reason = "pdf_encrypted" if "password" in str(exc).lower() else "broken_pdf"
        raise _error(name, reason) from exc
    try:
        if len(document) == 0:
            # The PDF format requires at least one page: a page tree without pages is damage.
            raise _error(name, "broken_pdf")
        pages = []
        extracted = _Budget(name, budget.limits)  # the paragraphs count against `budget` once they are built
        for index in range(len(document)):
            pages.append(_pdf_page_lines(document, index))
            extracted.add_chars(sum(len(line.text) for line in pages[-1]))
        title = _pdf_title(document)
        day = _pdf_date(document)
        # Pages without a text layer but with a picture are scans: OCR reads them. (A page without either is
        # blank, or its text is drawn as outlines; rendering it for OCR would cost seconds for nothing.)
        scans = [i for i, lines in enumerate(pages) if _is_scanned_page(document, i, lines)]
        widths = [document[i].get_width() for i in scans]
    except UnreadableReport:
        raise
    except Exception as exc:
        raise _error(name, "broken_pdf") from exc
    finally:
        document.close()
    if scans:
        if len(scans) > limits.ocr_max_pages:
            raise _error(name, "scan_too_long", pages=str(len(scans)), limit=str(limits.ocr_max_pages))
        recognised = _ocr(name, "pdf", data, scans, limits)
        # OCR measures in pixels of the rendered page; the text layer's pages are in points.
        for i, page_lines in zip(scans, _ocr_lines(recognised, scans, widths), strict=True):
            pages[i] = page_lines
    paragraphs, levels, shown_title = _paragraphs_and_headings(_drop_running_lines(pages))
    return [budget.add(paragraph) for paragraph in paragraphs], levels, title or shown_title, day


def _is_scanned_page(document: Any, index: int, lines: Sequence[_VisualLine]) -> bool:
    if sum(len(line.text) for line in lines) >= _MIN_TEXT_CHARS:
        return False
    import pypdfium2.raw as raw

    page = document[index]
    try:
        images = page.get_objects(filter=[raw.FPDF_PAGEOBJ_IMAGE], max_depth=2)
        return any(min(image.get_px_size()) >= _MIN_SCAN_PX for image in images)
    finally:
        page.close()


def _pdf_page_lines(document: Any, index: int) -> list[_VisualLine]:
    """The page's lines from its characters and their boxes (PDFium's own line breaks and spaces are not used:
    it puts a space wherever the font changes, as between Chinese and digits in Word's output: "2024 年")."""
    import ctypes

    import pypdfium2.raw as raw

    page = document[index]
    textpage = page.get_textpage()
    try:
        height = page.get_height()
        handle = textpage.raw
        box = raw.FS_RECTF()
        chars: list[tuple[str, float, float, float, float, bool]] = []
        space = False
        for i in range(raw.FPDFText_CountChars(handle)):
            code = raw.FPDFText_GetUnicode(handle, i)
            if code < 0x20 or chr(code).isspace() or code in (0xFFFE, 0xFFFF):
                space = True  # a word space (or PDFium's generated break): it separates Latin words
                continue
            if not raw.FPDFText_GetLooseCharBox(handle, i, ctypes.byref(box)):
                continue
            ch = chr(code) if not 0xD800 <= code <= 0xDFFF else "\ufffd"
            chars.append((ch, box.left, box.right, height - box.top, height - box.bottom, space))
            space = False
    finally:
        textpage.close()
        page.close()
    return _group_lines(chars, index)


def _group_lines(chars: Sequence[tuple[str, float, float, float, float, bool]], page: int) -> list[_VisualLine]:
    """Characters in content order -> lines top to bottom: a character whose middle lies in the current line's
    band, to the right of the previous one, continues it."""
    groups: list[list[tuple[str, float, float, float, float, bool]]] = []
    for char in chars:
        middle = (char[3] + char[4]) / 2
        if groups:
            last = groups[-1][-1]
            if last[3] <= middle <= last[4] and char[1] >= last[1] - (last[4] - last[3]) * 0.5:
                groups[-1].append(char)
                continue
        groups.append([char])
    groups.sort(key=lambda group: (group[0][3] + group[0][4]) / 2)
    # Pieces of one line drawn at different times (a footnote mark, a field) come back together.
    merged: list[list[tuple[str, float, float, float, float, bool]]] = []
    for group in groups:
        middle = (group[0][3] + group[0][4]) / 2
        if merged and merged[-1][0][3] <= middle <= merged[-1][0][4]:
            merged[-1] = sorted([*merged[-1], *group], key=lambda c: c[1])
        else:
            merged.append(group)
    lines = []
    for group in merged:
        text = clean_line(_join_chars(group))
        if text:
            top = min(c[3] for c in group)
            bottom = max(c[4] for c in group)
            lines.append(_VisualLine(text, group[0][1], group[-1][2], top, bottom, page))
    return lines


def _join_chars(chars: Sequence[tuple[str, float, float, float, float, bool]]) -> str:
    """A line's text: a space only between Latin letters or digits that a space (or a gap) separates."""
    parts: list[str] = []
    previous: tuple[str, float, float, float, float, bool] | None = None
    for char in chars:
        if previous is not None:
            gap = char[1] - previous[2]
            if (char[5] or gap > 0.25 * (char[4] - char[3])) and _is_latin(previous[0]) and _is_latin(char[0]):
                parts.append(" ")
        parts.append(char[0])
        previous = char
    return "".join(parts)


def _is_latin(ch: str) -> bool:
    # Everything before the CJK radicals block: Latin, digits, Greek, Cyrillic and their punctuation.
    return ch < "\u2e80"


def _pdf_title(document: Any) -> str | None:
    try:
        value = document.get_metadata_dict().get("Title")
    except Exception:  # metadata is optional: damaged metadata must not cost us the text
        return None
    return _declared_title(value if isinstance(value, str) else None)


_PDF_DATE: Final = re.compile(r"^(?:D:)?(\d{4})(\d{2})(\d{2})")
# Before personal computers wrote document properties a date is a tool's zero (1601, 1899, 1970), not the report's.
_FIRST_DECLARED_YEAR: Final = 1980


def _pdf_date(document: Any) -> str | None:
    """The day of a PDF's CreationDate (D:20240305120000+08'00')."""
    try:
        value = document.get_metadata_dict().get("CreationDate")
    except Exception:  # metadata is optional: damaged metadata must not cost us the text
        return None
    match = _PDF_DATE.match(value.strip()) if isinstance(value, str) else None
    return _declared_day(*(int(part) for part in match.groups())) if match else None


def _declared_day(year: int, month: int, day: int) -> str | None:
    """An ISO day from document properties, or None when it cannot be the day the report was made: not a real
    date, before 1980, or in the future (a wrong clock; a day of slack for time zones)."""
    try:
        found = datetime.date(year, month, day)
    except ValueError:
        return None
    if found.year < _FIRST_DECLARED_YEAR or found > datetime.date.today() + datetime.timedelta(days=1):
        return None
    return found.isoformat()


def _declared_title(value: str | None) -> str | None:
    """A title from document metadata, minus the placeholders tools write by default."""
    if value is None:
        return None
    title = clean_line(value)
    title = title.removeprefix("Microsoft Word - ")
    if not title or title.lower() in _PLACEHOLDER_TITLES:
        return None
    return title


# Running headers and footers are the lines at a page's top or bottom edge that recur on this share of the pages
# (at least two), with their digits ignored so that "第 3 页" and "第 4 页" count as one.
_RUNNING_SHARE: Final = 0.4
_EDGE_LINES: Final = 2
_DIGITS = re.compile(r"\d+")


def _drop_running_lines(pages: Sequence[Sequence[_VisualLine]]) -> list[_VisualLine]:
    """The pages' lines in order, without running headers, footers and page numbers.

    A header is only looked for at the top and a footer at the bottom: a unit's name that heads every page may
    also sign the report at the end of the last one, and that line is the report's.
    """

    def key(line: _VisualLine) -> str:
        return _DIGITS.sub("#", "".join(line.text.split()))

    need = max(2, math.ceil(_RUNNING_SHARE * len(pages)))
    tops: Counter[str] = Counter()
    bottoms: Counter[str] = Counter()
    for lines in pages:
        tops.update({key(line) for line in lines[:_EDGE_LINES]})
        bottoms.update({key(line) for line in lines[-_EDGE_LINES:]})
    headers = {k for k, n in tops.items() if n >= need}
    footers = {k for k, n in bottoms.items() if n >= need}
    kept: list[_VisualLine] = []
    for page_lines in pages:
        lines = list(page_lines)
        start, end = 0, len(lines)
        while start < end and (key(lines[start]) in headers or _PAGE_NUMBER.match(lines[start].text)):
            start += 1
        while end > start and (key(lines[end - 1]) in footers or _PAGE_NUMBER.match(lines[end - 1].text)):
            end -= 1
        kept.extend(lines[start:end])
    return kept


# Geometry of paragraphs, in units of the body text's line height (em): a line reaching within this of the right
# margin is full (a wrapped Latin word or number, or characters that may not start a line, can end it short); one
# starting this far right of the left margin is indented (Chinese paragraphs open with two characters of indent);
# a line further below the previous one than this share of the usual line pitch follows a paragraph gap.
_FULL_SLACK_EM: Final = 4.0
_INDENT_EM: Final = 0.8
_GAP_PITCH: Final = 1.3
# A document marks its paragraphs when at least this share of the lines after a short line are indented (or follow
# a gap): then an unmarked line after a full one continues the paragraph even after a full stop.
_INDENT_SHARE: Final = 0.6


def _paragraph_blocks(lines: Sequence[_VisualLine], *, em: float | None = None) -> list[list[_VisualLine]]:
    """Join printed lines into paragraphs from their geometry.

    A line continues the previous one when that one fills the column and this one is not indented, does not
    follow a gap, and does not open a numbered heading or item; in a document without first-line indents, a
    sentence end at the end of a full line also ends the paragraph. A line starting with punctuation that never
    starts a line (，。、) always continues. Page breaks are not paragraph breaks.
    """
    if not lines:
        return []
    n = len(lines)
    if em is None:
        em = sorted(line.bottom - line.top for line in lines)[n // 2] or 1.0
    # Percentiles rather than extremes, so that one over-long line (a URL, a table row in a small font) does not
    # make every normal full line look short.
    left = sorted(line.x0 for line in lines)[round(0.05 * (n - 1))]
    right = sorted(line.x1 for line in lines)[round(_FULL_LINE_PERCENTILE * (n - 1))]
    full = [line.x1 >= right - _FULL_SLACK_EM * em for line in lines]
    indented = [line.x0 >= left + _INDENT_EM * em for line in lines]
    pitches = [b.top - a.top for a, b in itertools.pairwise(lines) if a.page == b.page and b.top > a.top]
    pitch = sorted(pitches)[len(pitches) // 2] if pitches else 0.0
    gaps = [False] + [
        pitch > 0 and a.page == b.page and b.top - a.top > _GAP_PITCH * pitch for a, b in itertools.pairwise(lines)
    ]
    # Lines after a short line open paragraphs: if most of them are indented, or follow a gap, the document marks
    # its paragraphs that way, and a sentence end at the end of a full line is not a paragraph end.
    starts = [i for i in range(1, n) if not full[i - 1]]
    marked = len(starts) >= 2 and (
        sum(indented[i] for i in starts) >= _INDENT_SHARE * len(starts)
        or sum(gaps[i] for i in starts) >= _INDENT_SHARE * len(starts)
    )

    paragraphs: list[list[_VisualLine]] = []
    current = [lines[0]]
    for i in range(1, n):
        previous, line = lines[i - 1], lines[i]
        if line.text[0] in _NO_LINE_START:
            continues = True
        elif gaps[i] or indented[i] or not full[i - 1] or _BLOCK_START.match(line.text):
            continues = False
        else:
            continues = marked or previous.text[-1] not in _TERMINAL
        if continues:
            current.append(line)
        else:
            paragraphs.append(current)
            current = [line]
    paragraphs.append(current)
    return paragraphs


def _rebuild_paragraphs(lines: Sequence[_VisualLine], *, em: float | None = None) -> list[str]:
    """The paragraphs of `_paragraph_blocks` as text."""
    return [_join_parts([line.text for line in block]) for block in _paragraph_blocks(lines, em=em)]


# A paragraph of one or two lines printed this much larger than the body text is a heading; the sizes in use
# rank the levels (the largest is 1), at most this many.
_HEADING_SIZE: Final = 1.1
_MAX_HEADING_LINES: Final = 2
_MAX_HEADING_LEVELS: Final = 4
_TITLE_WITHIN: Final = 3


def _paragraphs_and_headings(lines: Sequence[_VisualLine]) -> tuple[list[str], dict[int, int], str | None]:
    """Paragraphs of printed lines, with heading levels from their type size: a PDF says nothing else about its
    structure. The largest heading opening the first page is the title."""
    blocks = _paragraph_blocks(lines)
    if not blocks:
        return [], {}, None
    heights = sorted(line.bottom - line.top for line in lines)
    body = heights[len(heights) // 2]
    sizes = [max(line.bottom - line.top for line in block) for block in blocks]
    big = [
        i
        for i, (block, size) in enumerate(zip(blocks, sizes, strict=True))
        if len(block) <= _MAX_HEADING_LINES and size >= _HEADING_SIZE * body
    ]
    ranks = sorted({round(sizes[i], 1) for i in big}, reverse=True)[:_MAX_HEADING_LEVELS]
    levels = {i: ranks.index(round(sizes[i], 1)) + 1 for i in big if round(sizes[i], 1) in ranks}
    paragraphs = [_join_parts([line.text for line in block]) for block in blocks]
    # The title is the largest type near the top of the first page, even below a line in small type (a one-page
    # report's running header, which repetition cannot reveal).
    opening = [i for i, block in enumerate(blocks[:_TITLE_WITHIN]) if block[0].page == blocks[0][0].page == 0]
    title = next((paragraphs[i] for i in opening if levels.get(i) == 1), None)
    return paragraphs, levels, title


def _text_lines(pages: Sequence[str]) -> list[list[_VisualLine]]:
    """Lines of plain text as printed lines: an indent where the line starts with whitespace, a blank line as a gap
    of one line, and as width either the display columns (a Chinese character is two: text wrapped by a viewer at
    a printed width) or twice the characters (text wrapped at a count of characters), whichever makes more lines
    the same, greatest width."""
    raw: list[tuple[int, str, str]] = []
    for page, text in enumerate(pages):
        raw.extend((page, line, clean_line(line)) for line in _split_lines(text))
    texts = [line for _, _, line in raw if line]
    by_columns = [_display_width(line) for line in texts]
    by_count = [2 * len(line) for line in texts]
    widths = iter(by_columns if _wrap_sharpness(by_columns) >= _wrap_sharpness(by_count) else by_count)
    result: list[list[_VisualLine]] = [[] for _ in pages]
    row = 0
    for page, raw_line, line in raw:
        row += 1
        if not line:
            row += 1
            continue
        indent = 4 if raw_line[:1].isspace() else 0
        result[page].append(_VisualLine(line, indent, indent + next(widths), row, row + 1, page))
    return result


def _wrap_sharpness(widths: Sequence[int]) -> int:
    """How many lines reach (within a character) the width most full lines have."""
    if not widths:
        return 0
    top = sorted(widths)[round(_FULL_LINE_PERCENTILE * (len(widths) - 1))]
    return sum(1 for width in widths if top - 2 <= width <= top)


def _reflow_pdf(pages: Sequence[str]) -> list[str]:
    """Paragraphs from the text of pages whose lines are printed lines (no geometry known)."""
    return _rebuild_paragraphs(_drop_running_lines(_text_lines(pages)), em=2.0)


def _display_width(text: str) -> int:
    # Full-width (CJK) characters take two columns; this approximates the printed width well
    # enough to tell full lines from short ones without font metrics.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _join_parts(parts: Sequence[str]) -> str:
    """Join visual lines of one paragraph: Chinese needs no separator, wrapped Latin words do."""
    result = ""
    for part in parts:
        if result and part and _needs_space(result[-1], part[0]):
            result += " "
        result += part
    return result


def _needs_space(left: str, right: str) -> bool:
    # Latin words only wrap at spaces, which the line split removed.  Digits never get one:
    # in Chinese text a number cut by the line end ("共3" / "15项") is one number, and
    # hyphenated words keep their hyphen without a space.
    if not (left.isascii() and right.isascii() and right.isalnum()):
        return False
    return left.isalpha() or left in ",.;:!?)]}\"'%"
