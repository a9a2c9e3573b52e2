"""The OCR child process: `python -m retrieval.ocr KIND OUT THREADS PAGES` reads a PDF or an image on stdin,
writes the text lines it recognises on the pages PAGES (0-based, comma-separated), with their boxes, to OUT as
JSON.

It runs apart from the caller (retrieval/convert.py starts it with a time limit) because recognition is seconds
of CPU per page and a hostile file must not hang or crash the process that serves questions. The models are
PP-OCR's Chinese detection and recognition models that ship inside the rapidocr-onnxruntime wheel: nothing is
downloaded.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from typing import Any, Final

# Pages are rendered at this resolution: body text of 12 pt is then about 25 px high, which the recognition
# model (48 px line height) reads reliably; more costs time without adding accuracy.
RENDER_DPI: Final = 150
_MISSING_EXIT: Final = 3  # convert.OCR_MISSING_EXIT (not imported: the child starts lean)


def _pages(kind: str, data: bytes, numbers: list[int]) -> Iterator[Any]:
    from PIL import Image, ImageOps, ImageSequence

    if kind == "pdf":
        import pypdfium2 as pdfium

        document = pdfium.PdfDocument(data)
        try:
            for index in numbers:
                page = document[index]
                yield page.render(scale=RENDER_DPI / 72, grayscale=True).to_pil().convert("RGB")
                page.close()
        finally:
            document.close()
        return
    wanted = set(numbers)
    with Image.open(io.BytesIO(data)) as image:
        for index, frame in enumerate(ImageSequence.Iterator(image)):
            if index in wanted:
                # Phones store the camera's orientation in EXIF instead of rotating the pixels.
                yield ImageOps.exif_transpose(frame).convert("RGB")


def main(argv: list[str]) -> int:
    """Recognise every page; write [{width, height, boxes: [[text, x0, y0, x1, y1], ...]}, ...]."""
    kind, out, threads = argv[0], argv[1], int(argv[2])
    numbers = [int(n) for n in argv[3].split(",") if n]
    try:
        import numpy as np
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as exc:
        print(f"OCR is not installed: {exc}", file=sys.stderr)
        return _MISSING_EXIT
    # Line orientation classification off: pages and photos of reports are upright, and it costs time.
    engine = RapidOCR(use_cls=False, intra_op_num_threads=threads, inter_op_num_threads=1)
    data = sys.stdin.buffer.read()
    pages: list[dict[str, Any]] = []
    for image in _pages(kind, data, numbers):
        result, _ = engine(np.asarray(image))
        boxes = []
        for points, text, _score in result or []:
            xs = [float(p[0]) for p in points]
            ys = [float(p[1]) for p in points]
            boxes.append([str(text), min(xs), min(ys), max(xs), max(ys)])
        pages.append({"width": image.width, "height": image.height, "boxes": boxes})
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(pages, handle, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
