"""Array types and helpers shared by the BM25 index and the mention finder: CSR offsets, strings packed into
arrays, and .npz/.npy files written aside and moved into place."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
DocArray = npt.NDArray[np.int32]
UIntArray = npt.NDArray[np.unsignedinteger[Any]]


def ptr(counts: IntArray) -> IntArray:
    """CSR offsets: 0 and the running sums of `counts`."""
    out = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=out[1:])
    return out


def encode_strings(strings: Sequence[str]) -> dict[str, npt.NDArray[Any]]:
    joined = "".join(strings)
    lengths = np.fromiter((len(s) for s in strings), dtype=np.int64, count=len(strings))
    return {"blob": np.frombuffer(joined.encode("utf-8", "surrogatepass"), dtype=np.uint8), "lengths": lengths}


def decode_strings(blob: npt.NDArray[Any], lengths: IntArray) -> list[str]:
    text = blob.tobytes().decode("utf-8", "surrogatepass")
    ends = np.cumsum(lengths).tolist()
    return [text[a:b] for a, b in zip([0, *ends[:-1]], ends, strict=True)]


def replace(path: Path, arrays: npt.NDArray[Any] | dict[str, npt.NDArray[Any]]) -> None:
    """Write one array (.npy) or several (.npz) aside and move the file into place (a reader mapping the old file
    keeps it)."""
    aside = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    try:
        with aside.open("wb") as handle:
            if isinstance(arrays, dict):
                np.savez(handle, **arrays)  # type: ignore[arg-type]
            else:
                np.save(handle, arrays)
        os.replace(aside, path)
    finally:
        aside.unlink(missing_ok=True)
