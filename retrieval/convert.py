"""Running the programs some formats need, each in a child process with a time limit.

LibreOffice (headless) turns .doc/.wps/.rtf/.odt into .docx, which extract.py then reads like any Word file; OCR
(retrieval/ocr.py: rapidocr with the PP-OCR Chinese models shipped inside its wheel) reads scans and photos. A hung
or crashing converter costs one file, never the caller: the child is killed at its time limit and the file gets a
clear reason. Nothing here downloads anything.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = [
    "DEFAULT_LIMITS",
    "ConversionFailed",
    "ConvertLimits",
    "OcrBox",
    "OcrPage",
    "find_libreoffice",
    "office_to_docx",
    "run_ocr",
]


@dataclass(frozen=True)
class ConvertLimits:
    """How long a converter may take and how much OCR one file may ask for."""

    office_timeout_s: float = 120.0
    """LibreOffice converts a report in about a second; a file that takes minutes is hostile or broken."""
    ocr_max_pages: int = 20
    """A scan with more pages is refused before any OCR: a 200-page scan would hold a worker for many minutes."""
    ocr_timeout_s: float = 30.0
    ocr_timeout_s_per_page: float = 60.0
    """OCR takes about 3-10 s for a full page on one core; the limit leaves room for a busy machine."""
    ocr_threads: int = 1
    """Threads per OCR run: one leaves the other core to the bot (and to a second ingest worker)."""


DEFAULT_LIMITS: Final = ConvertLimits()


class ConversionFailed(Exception):
    """A converter could not turn the file into text; `reason` is one of REASONS."""

    REASONS: Final = frozenset({"missing_libreoffice", "missing_ocr", "timeout", "failed", "encrypted"})

    def __init__(self, reason: str, detail: str = "") -> None:
        assert reason in self.REASONS, reason
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


# --------------------------------------------------------------------------------------------
# LibreOffice

# LibreOffice reports most load failures on stderr with exit status 0, so success is judged by the output file.
_SOFFICE_NAMES: Final = ("soffice", "libreoffice")
_PASSWORD_HINTS: Final = ("password", "encrypt")


def find_libreoffice() -> str | None:
    """The LibreOffice executable on PATH, or None."""
    for name in _SOFFICE_NAMES:
        found = shutil.which(name)
        if found is not None:
            return found
    return None


def office_to_docx(data: bytes, kind: str, *, limits: ConvertLimits = DEFAULT_LIMITS) -> bytes:
    """Convert a .doc/.wps (kind "doc"), .rtf ("rtf") or .odt ("odt") file's bytes to .docx bytes.

    Each conversion gets its own temporary directory and LibreOffice profile (-env:UserInstallation), so
    conversions in parallel threads or processes never share a profile lock; the file is named by its kind, not
    by its upload name, so LibreOffice's type detection is not misled by a ".wps" or a renamed file.
    """
    program = find_libreoffice()
    if program is None:
        raise ConversionFailed("missing_libreoffice")
    with tempfile.TemporaryDirectory(prefix="reportbot-office-") as tmp:
        work = Path(tmp)
        source = work / f"report.{kind}"
        source.write_bytes(data)
        argv = [
            program,
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--nodefault",
            "--nologo",
            "--convert-to",
            "docx:MS Word 2007 XML",
            "--outdir",
            str(work / "out"),
            str(source),
        ]
        # HOME inside the work directory: a service user's home may be read-only, and LibreOffice writes there.
        env = {**os.environ, "HOME": str(work)}
        _, detail = _run(argv, env=env, timeout=limits.office_timeout_s, stdin=None)
        result = work / "out" / "report.docx"
        if not result.exists():
            if any(hint in detail.lower() for hint in _PASSWORD_HINTS):
                raise ConversionFailed("encrypted", detail)
            raise ConversionFailed("failed", detail)
        return result.read_bytes()


def _run(argv: list[str], *, env: dict[str, str], timeout: float, stdin: bytes | None) -> tuple[int, str]:
    """Run a child in its own process group; at the time limit the whole group is killed (LibreOffice starts
    helper processes). Returns its exit status and the end of its stderr."""
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )
    except OSError as exc:
        raise ConversionFailed("failed", str(exc)) from exc
    try:
        _, stderr = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        _kill_group(proc)
        raise ConversionFailed("timeout", f"{timeout:.0f} s") from exc
    except BaseException:
        _kill_group(proc)
        raise
    return proc.returncode, stderr.decode("utf-8", "replace").strip()[-300:]


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):  # it may have exited at the last moment
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()


# --------------------------------------------------------------------------------------------
# OCR


@dataclass(frozen=True)
class OcrBox:
    """One text line found by OCR: its text and its box in pixels (x grows right, y grows down)."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class OcrPage:
    """What OCR found on one page or photo."""

    width: int
    height: int
    boxes: tuple[OcrBox, ...]


# The OCR child's exit status when rapidocr (or its onnxruntime) cannot be imported.
OCR_MISSING_EXIT: Final = 3


def run_ocr(kind: str, data: bytes, numbers: Sequence[int], *, limits: ConvertLimits = DEFAULT_LIMITS) -> list[OcrPage]:
    """OCR the pages `numbers` (0-based) of a PDF (kind "pdf") or the frames of an image ("image") in a child
    process, one OcrPage each, in that order.

    The child renders and recognises; the caller has counted the pages and checked them against the limit.
    """
    package_root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ)
    # The child imports this very package, wherever it was imported from (a checkout or site-packages).
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    # onnxruntime and OpenCV would otherwise start a thread per core in every OCR run.
    threads = str(limits.ocr_threads)
    env.update(OMP_NUM_THREADS=threads, OPENCV_FOR_THREADS_NUM=threads)
    timeout = limits.ocr_timeout_s + limits.ocr_timeout_s_per_page * len(numbers)
    with tempfile.TemporaryDirectory(prefix="reportbot-ocr-") as tmp:
        out = Path(tmp) / "pages.json"
        argv = [sys.executable, "-m", "retrieval.ocr", kind, str(out), threads, ",".join(map(str, numbers))]
        status, detail = _run(argv, env=env, timeout=timeout, stdin=data)
        if status == OCR_MISSING_EXIT:
            raise ConversionFailed("missing_ocr", detail)
        if status != 0 or not out.exists():
            raise ConversionFailed("failed", detail)
        try:
            raw = json.loads(out.read_text(encoding="utf-8"))
            return [
                OcrPage(page["width"], page["height"], tuple(OcrBox(*box) for box in page["boxes"])) for page in raw
            ]
        except (ValueError, KeyError, TypeError) as exc:  # a child that died while writing
            raise ConversionFailed("failed", str(exc)) from exc
