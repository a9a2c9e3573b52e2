"""Every format an office sends, read faithfully: the same report as .docx, .doc, .wps, .rtf, .odt (real
LibreOffice), and what is indexed is the source's text, term for term. Bad files get one clear reason each."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import msoffcrypto.format.ooxml
import pytest

from retrieval.errors import UnreadableReport
from retrieval.extract import SUPPORTED_SUFFIXES, extract, read_report_file, sniff

from .formats import HEADER, libreoffice_export, mention_counts, sample_terms, source_paragraphs, word_document
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
    return {"docx": original, **libreoffice_export(original, ["doc", "odt", "rtf"])}


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
    assert extract("报告.pdf", files["doc"]).lines == extract("报告.doc", files["doc"]).lines


def test_supported_suffixes() -> None:
    assert {".doc", ".wps", ".rtf", ".odt"} <= SUPPORTED_SUFFIXES


def test_password_protected_word_file(files: dict[str, bytes]) -> None:
    encrypted = io.BytesIO()
    msoffcrypto.format.ooxml.OOXMLFile(io.BytesIO(files["docx"])).encrypt("secret", encrypted)
    for name in ("报告.docx", "报告.wps", "报告.doc"):
        with pytest.raises(UnreadableReport) as caught:
            extract(name, encrypted.getvalue())
        assert caught.value.code == "encrypted"
        assert "密码" in caught.value.zh


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
        assert "损坏" in caught.value.zh


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
    assert caught.value.zh == "需要 LibreOffice 才能读取 .doc；也可以另存为 .docx 再发送"
    # everything else still works
    assert extract("总结.docx", files["docx"]).lines[0] == TITLE


def test_file_on_disk(files: dict[str, bytes], tmp_path: Path) -> None:
    path = tmp_path / "总结.rtf"
    path.write_bytes(files["rtf"])
    assert read_report_file(path).kind == "rtf"
