"""How fast and how faithfully are the formats read that need a converter: OCR pages/s (rapidocr, and tesseract
with chi_sim when installed, for comparison), .doc files/s (LibreOffice, and antiword when installed), the three
main-text extractors on government-style web pages, and the plain-text path's characters/s.

Inputs are made from the bundled and provincial reports the way offices make files (officefiles/). Writes
formats.md and formats.json to --out (default docs/benchmarks).

    .venv/bin/python bench/formats.py                 # ~2-4 minutes on 2 cores
    .venv/bin/python bench/formats.py --pages 2 --docs 2 --out /tmp/f
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import difflib
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from officefiles import (  # noqa: E402
    government_page,
    libreoffice_export,
    mention_counts,
    rendered_pages,
    sample_terms,
    scanned_pdf,
    source_paragraphs,
    word_document,
)
from retrieval.convert import DEFAULT_LIMITS  # noqa: E402
from retrieval.extract import extract  # noqa: E402

REPORTS = sorted((ROOT / "data" / "reports").glob("*.txt"))
PROVINCIAL = sorted((ROOT / "tests" / "corpora" / "provincial-2026").glob("*.txt"))
FURNITURE = ["首页", "当前位置", "来源：", "浏览次数", "字号", "打印", "分享到", "相关链接", "版权所有", "主办单位"]


def similarity(got: str, want: str) -> float:
    squeeze = re.compile(r"\s+")
    return difflib.SequenceMatcher(None, squeeze.sub("", got), squeeze.sub("", want), autojunk=False).ratio()


def term_share(lines: list[str], paragraphs: list[str]) -> float:
    """The share of sampled terms whose mention count equals the source's."""
    terms = sample_terms(paragraphs, every=11)
    found, wanted = mention_counts(lines, terms), mention_counts(paragraphs, terms)
    return sum(found[t] == wanted[t] for t in terms) / len(terms)


def bench_ocr(pages_wanted: int) -> dict[str, Any]:
    shown: list[str] = []  # whole paragraphs, as many as fill the pages
    candidates = [p for path in REPORTS for p in source_paragraphs(path)]
    for paragraph in candidates:
        if len(rendered_pages("工作总结", [*shown, paragraph], rows=30)) > pages_wanted:
            break
        shown.append(paragraph)
    pages = rendered_pages("工作总结", shown, rows=30)
    pdf = scanned_pdf(pages)
    out: dict[str, Any] = {"pages": len(pages), "chars": sum(map(len, shown))}
    for threads in (1, 2):
        limits = dataclasses.replace(DEFAULT_LIMITS, ocr_threads=threads, ocr_timeout_s_per_page=600.0)
        started = time.perf_counter()
        result = extract("scan.pdf", pdf, limits=limits)
        seconds = time.perf_counter() - started
        lines = [line for line in result.lines if line != "工作总结"]
        out[f"rapidocr_{threads}t"] = {
            "seconds": round(seconds, 2),
            "pages_per_s": round(len(pages) / seconds, 3),
            "similarity": round(similarity("".join(lines), "".join(shown)), 4),
            "exact_terms": round(term_share(lines, shown), 4),
            "paragraphs": len(lines),
            "source_paragraphs": len(shown),
        }
    if shutil.which("tesseract"):
        langs = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True).stdout
        if "chi_sim" in langs:
            texts = []
            started = time.perf_counter()
            for page in pages:
                buffer = io.BytesIO()
                page.save(buffer, format="PNG")
                done = subprocess.run(
                    ["tesseract", "stdin", "stdout", "-l", "chi_sim", "--dpi", "150"],
                    input=buffer.getvalue(),
                    capture_output=True,
                    env={**os.environ, "OMP_THREAD_LIMIT": "1"},
                )
                texts.append(done.stdout.decode("utf-8", "replace"))
            seconds = time.perf_counter() - started
            text = "".join(texts)
            out["tesseract_chi_sim_1t"] = {
                "seconds": round(seconds, 2),
                "pages_per_s": round(len(pages) / seconds, 3),
                "similarity": round(similarity(text, "".join(shown)), 4),
                "exact_terms": round(term_share(["".join(text.split())], shown), 4),
            }
    return out


def bench_doc(count: int) -> dict[str, Any]:
    files = []
    for path in REPORTS[:count]:
        paragraphs = source_paragraphs(path)
        files.append((paragraphs, libreoffice_export(word_document("工作总结", paragraphs), ["doc"])["doc"]))
    out: dict[str, Any] = {"files": len(files)}
    started = time.perf_counter()
    exact = 0
    headings = 0
    for paragraphs, data in files:
        result = extract("a.doc", data)
        exact += list(result.lines) == ["工作总结", *paragraphs]
        headings += len(result.heading_levels)
    seconds = time.perf_counter() - started
    out["libreoffice"] = {
        "seconds": round(seconds, 2),
        "files_per_s": round(len(files) / seconds, 3),
        "exact_paragraphs": f"{exact}/{len(files)}",
        "headings_kept": headings,
    }
    if shutil.which("antiword"):
        started = time.perf_counter()
        shares = []
        for paragraphs, data in files:
            done = subprocess.run(["antiword", "-w", "0", "-m", "UTF-8.txt", "-"], input=data, capture_output=True)
            lines = [line.strip() for line in done.stdout.decode("utf-8", "replace").splitlines() if line.strip()]
            shares.append(term_share(lines, paragraphs))
        seconds = time.perf_counter() - started
        out["antiword"] = {
            "seconds": round(seconds, 3),
            "files_per_s": round(len(files) / seconds, 1),
            "exact_terms": round(sum(shares) / len(shares), 4),
            "headings_kept": 0,
        }
    return out


def bench_html() -> dict[str, Any]:
    cases = []
    for path in PROVINCIAL:
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        body = [line for line in lines if len(line) > 15 and line.endswith("。")]
        cases.append((path.stem, body, government_page(path.stem, body)))

    def score(read: Any) -> dict[str, Any]:
        started = time.perf_counter()
        exact, furniture = [], 0
        for _, body, page in cases:
            got = [line.strip() for line in read(page)]
            exact.append(sum(1 for p in body if p in set(got)) / len(body))
            text = "\n".join(got)
            furniture += sum(word in text for word in FURNITURE)
        seconds = time.perf_counter() - started
        return {
            "paragraphs_exact": round(sum(exact) / len(exact), 4),
            "furniture_left": f"{furniture}/{len(FURNITURE) * len(cases)}",
            "ms_per_page": round(1000 * seconds / len(cases), 1),
        }

    out: dict[str, Any] = {"pages": len(cases), "ours (trafilatura)": score(lambda page: extract("a.html", page).lines)}
    try:
        import lxml.html
        from readability import Document

        def readability(page: bytes) -> list[str]:
            tree = lxml.html.fromstring(Document(page.decode()).summary())
            return [e.text_content() for e in tree.iter("p", "h1", "h2", "h3") if e.text_content().strip()]

        out["readability-lxml"] = score(readability)
    except ImportError:
        pass
    try:
        import justext

        stoplist = justext.get_stoplist("Chinese") if "Chinese" in justext.get_stoplists() else frozenset()
        out["jusText"] = score(lambda page: [p.text for p in justext.justext(page, stoplist) if not p.is_boilerplate])
    except ImportError:
        pass
    return out


def bench_text() -> dict[str, Any]:
    files = [(path.name, path.read_bytes()) for path in PROVINCIAL]
    chars = sum(len(data.decode("utf-8")) for _, data in files)
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for name, data in files:
            extract(name, data)
        best = min(best, time.perf_counter() - started)
    return {"files": len(files), "chars": chars, "extract_chars_per_s": round(chars / best)}


def markdown(results: dict[str, Any]) -> str:
    ocr, doc, html, text = results["ocr"], results["doc"], results["html"], results["text"]
    rows = [
        "# Formats benchmark",
        "",
        f"{results['when']} · {results['machine']} · `python bench/formats.py`",
        "",
        f"## OCR: {ocr['pages']} scanned pages ({ocr['chars']} characters of report text, 12 pt, 150 dpi)",
        "",
        "| engine | pages/s | s | text similarity | terms counted exactly |",
        "|---|---|---|---|---|",
    ]
    for key, value in ocr.items():
        if isinstance(value, dict):
            rows.append(
                f"| {key} | {value['pages_per_s']} | {value['seconds']} | {value['similarity']} | "
                f"{value['exact_terms']} |"
            )
    rows += [
        "",
        f"## Word 97-2003 (.doc): {doc['files']} reports",
        "",
        "| converter | files/s | s | result | headings kept |",
        "|---|---|---|---|---|",
    ]
    for key, value in doc.items():
        if isinstance(value, dict):
            result = value.get("exact_paragraphs", f"terms counted exactly {value.get('exact_terms')}")
            kept = value["headings_kept"]
            rows.append(f"| {key} | {value['files_per_s']} | {value['seconds']} | {result} | {kept} |")
    rows += [
        "",
        f"## Web pages: {html['pages']} government-style pages (the provincial reports in a portal template)",
        "",
        "| extractor | paragraphs found exactly | furniture words left | ms/page |",
        "|---|---|---|---|",
    ]
    for key, value in html.items():
        if isinstance(value, dict):
            rows.append(
                f"| {key} | {value['paragraphs_exact']} | {value['furniture_left']} | {value['ms_per_page']} |"
            )
    rows += [
        "",
        f"## Plain text: {text['files']} provincial reports, {text['chars']:,} characters",
        "",
        f"extract (kind sniffing, decoding, furniture, hard-wrap check): {text['extract_chars_per_s']:,} characters/s",
        "",
    ]
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=4, help="scanned pages to OCR")
    parser.add_argument("--docs", type=int, default=5, help=".doc files to convert")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
    }
    results["text"] = bench_text()
    results["html"] = bench_html()
    results["doc"] = bench_doc(args.docs)
    results["ocr"] = bench_ocr(args.pages)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "formats.json").write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (args.out / "formats.md").write_text(markdown(results), encoding="utf-8")
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
