"""Turn an uploaded or on-disk report file into clean paragraph lines.

Reports arrive as plain text (in whatever encoding the author's editor used), Markdown, Word
(.docx; .doc, .wps, .rtf and .odt through LibreOffice, see convert.py) or PDF.  Everything
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
import hashlib
import io
import itertools
import os
import pathlib
import re
import types
import unicodedata
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from .convert import DEFAULT_LIMITS, ConversionFailed, ConvertLimits, office_to_docx
from .errors import UnreadableReport
from .normalize import valid_text

if TYPE_CHECKING:  # imported lazily at run time: python-docx and pypdf are slow to import
    from docx.oxml.xmlchemy import BaseOxmlElement as _Element

__all__ = [
    "DEFAULT_MAX_BYTES",
    "ERROR_CODES",
    "MESSAGES",
    "SUPPORTED_SUFFIXES",
    "ExtractedText",
    "clean_line",
    "extract",
    "read_report_file",
]

# Office formats LibreOffice converts to .docx (.wps is Kingsoft WPS: a Word binary or an OOXML zip under that name).
OFFICE_SUFFIXES: frozenset[str] = frozenset({".doc", ".wps", ".rtf", ".odt"})
SUPPORTED_SUFFIXES: frozenset[str] = frozenset({".txt", ".md", ".docx", ".pdf", *OFFICE_SUFFIXES})
DEFAULT_MAX_BYTES: Final = 20 * 1024 * 1024

# All failure reasons in one place so the wording stays consistent and is easy to review.
# reason -> (code, zh, en).  Several reasons share a code: callers branch on the code, people
# read the message, which says more precisely what is wrong.
MESSAGES: Final[Mapping[str, tuple[str, str, str]]] = types.MappingProxyType(
    {
        "unsupported": (
            "unsupported",
            "不支持的文件类型（{suffix}），支持 .txt、.md、.docx、.doc、.wps、.rtf、.odt、.pdf",
            "unsupported file type ({suffix}); supported are .txt, .md, .docx, .doc, .wps, .rtf, .odt and .pdf",
        ),
        "needs_libreoffice": (
            "missing_program",
            "需要 LibreOffice 才能读取 {suffix}；也可以另存为 .docx 再发送",
            "LibreOffice is needed to read {suffix} files; you can also save it as .docx and send that",
        ),
        "needs_ocr": (
            "missing_program",
            "需要文字识别组件（rapidocr-onnxruntime）才能读取扫描件和图片；也可以发送可以复制文字的版本",
            "the OCR component (rapidocr-onnxruntime) is needed to read scans and photos; you can also send a version"
            " with selectable text",
        ),
        "office_encrypted": (
            "encrypted",
            "文件有密码保护，无法读取；请提供未加密的版本",
            "the file is password-protected; please provide an unencrypted version",
        ),
        "broken_office": (
            "broken_office",
            "文件已损坏或不是有效的 {suffix} 文件（LibreOffice 无法打开）",
            "the file is damaged or not a valid {suffix} file (LibreOffice cannot open it)",
        ),
        "convert_timeout": (
            "timeout",
            "处理超时（超过 {seconds} 秒），文件可能已损坏或过于复杂",
            "processing took too long (over {seconds} s); the file may be damaged or too complex",
        ),
        "scan_too_long": (
            "too_large",
            "扫描件有 {pages} 页，超过文字识别的上限（{limit} 页）；请拆分后分别发送，或提供可以复制文字的版本",
            "the scan has {pages} pages, more than OCR reads in one file ({limit}); please split it, or send a"
            " version with selectable text",
        ),
        "broken_image": (
            "broken_image",
            "图片已损坏或格式无法识别",
            "the image is damaged or in a format that cannot be read",
        ),
        "no_text_image": (
            "no_text",
            "图片中没有识别出文字",
            "no text was recognised in the image",
        ),
        "no_html_text": (
            "empty",
            "网页中没有找到正文",
            "no main text was found in the web page",
        ),
        "too_large": (
            "too_large",
            "文件太大（{size}，上限为 {limit}）",
            "the file is too large ({size}; the limit is {limit})",
        ),
        "docx_too_large": (
            "too_large",
            "Word 文档解压后太大（{size}），无法处理",
            "the Word document is too large once unpacked ({size})",
        ),
        "empty": (
            "empty",
            "文件是空的（没有可读的文字）",
            "the file is empty (no readable text)",
        ),
        "binary": (
            "binary",
            "不是文本文件（看起来是二进制数据）",
            "not a text file (looks like binary data)",
        ),
        "undecodable": (
            "undecodable",
            "无法识别文件的文字编码（请另存为 UTF-8 编码的文本）",
            "cannot determine the text encoding of the file (please save it as UTF-8 text)",
        ),
        "broken_docx": (
            "broken_docx",
            "Word 文档已损坏或不是有效的 .docx 文件，无法打开",
            "the Word document is damaged or not a valid .docx file and cannot be opened",
        ),
        "docx_not_word": (
            "broken_docx",
            "不是有效的 Word 文档（压缩包中没有 word/document.xml）",
            "not a valid Word document (the zip archive has no word/document.xml)",
        ),
        "broken_pdf": (
            "broken_pdf",
            "PDF 文件已损坏，无法打开",
            "the PDF file is damaged and cannot be opened",
        ),
        "pdf_truncated": (
            "broken_pdf",
            "PDF 文件不完整（缺少结尾，可能是上传或复制中断）",
            "the PDF file is incomplete (its end is missing; the upload or copy was probably interrupted)",
        ),
        "pdf_encrypted": (
            "broken_pdf",
            "PDF 文件有密码保护，无法读取；请提供未加密的版本",
            "the PDF file is password-protected; please provide an unencrypted version",
        ),
        "no_text": (
            "no_text",
            "PDF 中没有文字层（可能是扫描件或图片），请提供可以复制文字的版本",
            "the PDF has no text layer (probably a scan or images); please provide a version with selectable text",
        ),
        "io_error": (
            "io_error",
            "无法读取文件：{detail}",
            "cannot read the file: {detail}",
        ),
    }
)
ERROR_CODES: frozenset[str] = frozenset(code for code, _, _ in MESSAGES.values())


@dataclass(frozen=True)
class ExtractedText:
    """The cleaned paragraphs of one report file, plus what the format itself says about them."""

    source: str
    """The file name (no directories), as given."""
    kind: str
    """"txt", "md", "docx", "pdf", or "doc"/"wps"/"rtf"/"odt" (converted) -- detected from the content, not the
    suffix (an OLE Word binary is "wps" when named so, "doc" otherwise)."""
    encoding: str | None
    """The detected text encoding for txt/md (e.g. "utf-8", "gb18030"); None for docx/pdf."""
    lines: tuple[str, ...]
    """Cleaned paragraphs in document order; never empty strings."""
    heading_levels: Mapping[int, int] = field(hash=False)
    """Index into `lines` -> heading level (1 = top) where the format declares a heading."""
    title: str | None
    """A title declared by the format (docx Title style/properties, markdown '# ', pdf metadata)."""
    sha256: str
    """Hex digest of the raw bytes, so re-uploads of the same file can be recognised."""


# --------------------------------------------------------------------------------------------
# Line cleaning

# Scraping artefacts of the site the reports were collected from; they carry no text.
_ARTEFACT = re.compile(r"##paid(?:begin|end)##", re.IGNORECASE)
# `\s` covers Unicode whitespace (U+3000 ideographic space used for paragraph indents, NBSP);
# zero-width characters and the BOM are invisible but not whitespace to Python, and stray
# control characters at the edges are leftovers of conversions.
_EDGE_JUNK = r"[\s\u200b\u200c\u200d\u2060\ufeff\u180e\x00-\x1f\x7f-\x9f]+"
_EDGES = re.compile(rf"^{_EDGE_JUNK}|{_EDGE_JUNK}$")
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
    return _EDGES.sub("", line)


def _split_lines(text: str) -> list[str]:
    return _NEWLINES.split(text)


def _clean_lines(text: str) -> list[str]:
    """`clean_line` on every line: what is done character by character (lone surrogates, artefact markers, which
    never hold a line break, invisible characters) once for the whole text, the edges line by line."""
    text = _INNER_INVISIBLE.sub("", _ARTEFACT.sub("", valid_text(text)))
    return [cleaned for cleaned in (_EDGES.sub("", line) for line in _split_lines(text)) if cleaned]


# --------------------------------------------------------------------------------------------
# Errors


def _error(source: str, reason: str, **details: str | tuple[str, str]) -> UnreadableReport:
    """Build the exception for `reason`; a detail may be a (zh, en) pair when it needs translating."""
    code, zh, en = MESSAGES[reason]
    zh_details = {key: value[0] if isinstance(value, tuple) else value for key, value in details.items()}
    en_details = {key: value[1] if isinstance(value, tuple) else value for key, value in details.items()}
    return UnreadableReport(source, code, zh.format(**zh_details), en.format(**en_details))


def _human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n} B"


def _file_name(source: str) -> str:
    # Uploads from Windows clients may carry backslash paths; only the name is kept.
    return valid_text(source.replace("\\", "/").rsplit("/", 1)[-1])


def _suffix(name: str) -> str:
    return pathlib.PurePosixPath(name).suffix.lower()


def _check_suffix(name: str) -> str:
    suffix = _suffix(name)
    if suffix not in SUPPORTED_SUFFIXES:
        raise _error(name, "unsupported", suffix=(suffix, suffix) if suffix else ("无扩展名", "no extension"))
    return suffix


# --------------------------------------------------------------------------------------------
# Entry points


def read_report_file(path: pathlib.Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ExtractedText:
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
        raise _error(name, "io_error", detail=_os_error_detail(exc)) from exc
    return extract(name, data, max_bytes=max_bytes)


def _os_error_detail(exc: OSError) -> tuple[str, str]:
    if isinstance(exc, FileNotFoundError):
        return "文件不存在", "file not found"
    if isinstance(exc, IsADirectoryError):
        return "这是一个文件夹，不是文件", "it is a directory, not a file"
    if isinstance(exc, PermissionError):
        return "没有读取权限", "permission denied"
    detail = exc.strerror or type(exc).__name__
    return detail, detail


def _file_size(handle: io.BufferedReader) -> int | None:
    try:
        return os.fstat(handle.fileno()).st_size
    except OSError:
        return None


def extract(
    source: str, data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, limits: ConvertLimits = DEFAULT_LIMITS
) -> ExtractedText:
    """Detect the format of `data` and return its cleaned paragraphs.

    `source` is the file name as uploaded (directories are dropped); its suffix must be one of
    SUPPORTED_SUFFIXES and decides Markdown vs plain text, but the format itself is detected
    from the content.  Raises UnreadableReport for anything that cannot be turned into at
    least one line of text.
    """
    if max_bytes <= 0:
        raise ValueError("max_bytes must be positive")
    name = _file_name(source)
    suffix = _check_suffix(name)
    if len(data) > max_bytes:
        raise _error(name, "too_large", size=_human_size(len(data)), limit=_human_size(max_bytes))
    if not data:
        raise _error(name, "empty")
    digest = hashlib.sha256(data).hexdigest()

    kind = sniff(data)
    if kind == "docx":
        lines, levels, title = _extract_docx(name, data)
        return _result(name, "docx", None, lines, levels, title, digest)
    if kind == "pdf":
        lines, title = _extract_pdf(name, data)
        return _result(name, "pdf", None, lines, {}, title, digest)
    if kind in ("ole", "rtf", "odt"):
        return _extract_office(name, suffix, kind, data, digest, limits)
    if kind == "zip":
        raise _error(name, "docx_not_word")
    if kind in ("image", "binary"):
        raise _error(name, "binary")

    text, encoding = _decode(name, data)
    if suffix == ".md":
        lines, levels = _parse_markdown(text)
        title = lines[0] if lines and levels.get(0) == 1 else None
        return _result(name, "md", encoding, lines, levels, title, digest)
    return _result(name, "txt", encoding, _clean_lines(text), {}, None, digest)


def _result(
    name: str,
    kind: str,
    encoding: str | None,
    lines: Sequence[str],
    levels: Mapping[int, int],
    title: str | None,
    digest: str,
) -> ExtractedText:
    if not lines:
        raise _error(name, "no_text" if kind == "pdf" else "empty")
    return ExtractedText(
        source=name,
        kind=kind,
        encoding=encoding,
        lines=tuple(lines),
        heading_levels=types.MappingProxyType(dict(levels)),
        title=valid_text(title) if title is not None else None,
        sha256=digest,
    )


# --------------------------------------------------------------------------------------------
# The kind of a file, from its first bytes

_ZIP_MAGIC: Final = (b"PK\x03\x04", b"PK\x05\x06")
_IMAGE_MAGIC: Final = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",  # JPEG
    b"II*\x00",  # TIFF, the usual format of office scanners
    b"MM\x00*",
    b"BM",
    b"GIF87a",
    b"GIF89a",
)
_ODT_MIMETYPE: Final = b"application/vnd.oasis.opendocument.text"
_RTF_MAGIC: Final = b"{\\rtf"


def sniff(data: bytes) -> str:
    """The kind of a file from its bytes, whatever its name says: "docx", "odt", "zip" (another archive),
    "ole" (a Word/WPS binary, or an encrypted Office file), "rtf", "pdf", "image", "binary" or "text".

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
    if data.startswith(_IMAGE_MAGIC) or (data.startswith(b"RIFF") and data[8:12] == b"WEBP"):
        return "image"
    if data.startswith(_BINARY_MAGIC):
        return "binary"
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
# Office formats through LibreOffice (.doc, .wps, .rtf, .odt)

# The sniffed kind -> the file type LibreOffice is told (the name only guides its own detection).
_OFFICE_TYPES: Final = {"ole": "doc", "rtf": "rtf", "odt": "odt"}
# An OOXML file saved with a password is an OLE2 container holding the encrypted zip under this stream name.
_ENCRYPTED_PACKAGE: Final = "EncryptedPackage".encode("utf-16-le")
# The stream every Word 97-2003 document has (Kingsoft WPS writes the same format); its name is in the directory.
_WORD_STREAM: Final = "WordDocument".encode("utf-16-le")


def _extract_office(
    name: str, suffix: str, kind: str, data: bytes, digest: str, limits: ConvertLimits
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
        lines, levels, title = _extract_docx(name, converted)
    except UnreadableReport as exc:
        raise _error(name, "broken_office", suffix=shown) from exc
    if not _looks_like_text("".join(lines)):
        # LibreOffice falls back to importing a damaged file's bytes as text: that is not the report.
        raise _error(name, "broken_office", suffix=shown)
    report_kind = shown.removeprefix(".") if shown in OFFICE_SUFFIXES else _OFFICE_TYPES[kind]
    return _result(name, report_kind, None, lines, levels, title, digest)


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
# Markdown

_MD_FENCE = re.compile(r"^\s{0,3}(?:```|~~~)")
_MD_HRULE = re.compile(r"^\s{0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_MD_ATX = re.compile(r"^\s{0,3}(#{1,6})(?:[ \t]+(.*?))??(?:[ \t]+#+)?[ \t]*$")
_MD_SETEXT = re.compile(r"^\s{0,3}(={2,}|-{2,})[ \t]*$")
_MD_QUOTE = re.compile(r"^\s{0,3}(?:>[ \t]?)+")
_MD_LIST = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])[ \t]+")
_MD_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)+\|?\s*$")
_MD_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_MD_CODE = re.compile(r"`([^`]+)`")
_MD_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\s]*(?:\s+[\"'][^\"']*[\"'])?\)")
# In these reports `**区`, `*县` are anonymised place names, so `**` next to an administrative
# unit is never taken as a bold delimiter (better to leave `**` than to destroy a name).
_ADMIN_UNITS: Final = "区县市镇乡村省州旗盟"
_MD_STRONG_STAR = re.compile(rf"(?<![\\*])\*\*(?![\s*{_ADMIN_UNITS}])(.+?)(?<![\s*\\])\*\*(?![*{_ADMIN_UNITS}])")
_MD_STRONG_UNDERSCORE = re.compile(r"(?<![\\_\w])__(?![\s_])(.+?)(?<![\s_\\])__(?![_\w])")
_PLACEHOLDER = re.compile(r"\x00(\d+)\x00")


def _parse_markdown(text: str) -> tuple[list[str], dict[int, int]]:
    """Strip Markdown block and inline syntax, recording ATX/setext heading levels."""
    lines: list[str] = []
    levels: dict[int, int] = {}
    in_fence = False
    # Index of the previous output line if it came from a plain paragraph line directly above;
    # a following "===" or "---" turns it into a setext heading.
    paragraph_above: int | None = None
    for raw in _split_lines(text):
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
            if _append(lines, clean_line(_md_inline(atx.group(2) or ""))):
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
    return lines, levels


def _append(lines: list[str], line: str) -> bool:
    if line:
        lines.append(line)
        return True
    return False


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
    text = _MD_STRONG_STAR.sub(lambda m: m.group(1), text)
    text = _MD_STRONG_UNDERSCORE.sub(lambda m: m.group(1), text)
    return _PLACEHOLDER.sub(lambda m: protected[int(m.group(1))], text)


# --------------------------------------------------------------------------------------------
# Word (.docx)

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_DOCUMENT_PART = re.compile(r"^word/document\d*\.xml$", re.IGNORECASE)
# python-docx keeps every part in memory; a zip bomb must be refused before opening it.
_MAX_UNPACKED_BYTES: Final = 512 * 1024 * 1024
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


def _extract_docx(name: str, data: bytes) -> tuple[list[str], dict[int, int], str | None]:
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
                lines.extend(_clean_lines(text))
                continue
            # A heading is one line even if the author broke it visually with Shift+Enter.
            heading = clean_line(_join_parts(_clean_lines(text)))
            if heading:
                levels[len(lines)] = level
                lines.append(heading)
                if is_title and title is None:
                    title = heading
    except Exception as exc:  # anything python-docx/lxml/zipfile raise means a damaged file
        raise _error(name, "broken_docx") from exc
    if title is None:
        title = _docx_core_title(document)
    return lines, levels, title


def _docx_core_title(document: Any) -> str | None:
    try:
        value = document.core_properties.title
    except Exception:  # metadata is optional: a damaged core.xml must not cost us the text
        return None
    return _declared_title(value if isinstance(value, str) else None)


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
_FULL_LINE_FRACTION: Final = 0.8
_PLACEHOLDER_TITLES: Final = frozenset({"untitled", "word document", "无标题", "anonymous"})


def _extract_pdf(name: str, data: bytes) -> tuple[list[str], str | None]:
    # Without an end-of-file marker the file was cut off; pypdf would try to reconstruct it
    # and silently return only part of the text.  (An incremental update may leave an older
    # complete revision in a truncated file; that revision is still a valid document.)
    if b"%%EOF" not in data:
        raise _error(name, "pdf_truncated")
    try:
        from pypdf import PasswordType, PdfReader

        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
        if encrypted:
            # Many PDFs are encrypted only to restrict printing/editing, with an empty user
            # password; those open normally in every viewer and should open here too.
            encrypted = reader.decrypt("") == PasswordType.NOT_DECRYPTED
    except Exception as exc:
        # DependencyError (AES needs the optional `cryptography` package) is a form of
        # "cannot decrypt"; everything else means the file structure is damaged.
        reason = "pdf_encrypted" if type(exc).__name__ == "DependencyError" else "broken_pdf"
        raise _error(name, reason) from exc
    if encrypted:
        raise _error(name, "pdf_encrypted")
    try:
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:
        if type(exc).__name__ == "DependencyError" or "decrypt" in str(exc).lower():
            raise _error(name, "pdf_encrypted") from exc
        raise _error(name, "broken_pdf") from exc
    if not pages:
        # The PDF format requires at least one page: a page tree without pages is damage.
        raise _error(name, "broken_pdf")
    return _reflow_pdf(pages), _pdf_title(reader)


def _pdf_title(reader: Any) -> str | None:
    try:
        metadata = reader.metadata
        value = metadata.title if metadata is not None else None
    except Exception:  # metadata is optional: damaged metadata must not cost us the text
        return None
    return _declared_title(str(value) if value is not None else None)


def _declared_title(value: str | None) -> str | None:
    """A title from document metadata, minus the placeholders tools write by default."""
    if value is None:
        return None
    title = clean_line(value)
    title = title.removeprefix("Microsoft Word - ")
    if not title or title.lower() in _PLACEHOLDER_TITLES:
        return None
    return title


def _reflow_pdf(pages: Sequence[str]) -> list[str]:
    """Rebuild paragraphs from pypdf's visual lines.

    PDF has no paragraphs, only positioned lines.  A line continues into the next one when it
    does not end a sentence and fills the column (its width is close to that of typical full
    lines): short lines are headings or the last line of a paragraph.
    """
    lines: list[str] = []
    for text in pages:
        page_lines = _clean_lines(text)
        while page_lines and _PAGE_NUMBER.match(page_lines[-1]):
            page_lines.pop()
        while page_lines and _PAGE_NUMBER.match(page_lines[0]):
            page_lines.pop(0)
        lines.extend(page_lines)
    if not lines:
        return []
    widths = sorted(_display_width(line) for line in lines)
    # A high percentile rather than the maximum, so that one over-long line (a URL, a table
    # row in a small font) does not make every normal full line look short.
    full_width = widths[round(_FULL_LINE_PERCENTILE * (len(widths) - 1))]
    paragraphs: list[str] = []
    current = lines[0]
    for previous, line in itertools.pairwise(lines):
        continues = line[0] in _NO_LINE_START or (
            previous[-1] not in _TERMINAL
            and _display_width(previous) >= _FULL_LINE_FRACTION * full_width
            and not _BLOCK_START.match(line)
        )
        if continues:
            current = _join_parts([current, line])
        else:
            paragraphs.append(current)
            current = line
    paragraphs.append(current)
    return paragraphs


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
