"""Paths of the bundled data, for tests."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
REPORTS = DATA / "reports"
DICTIONARY = DATA / "dict.txt"
PROVINCIAL = ROOT / "tests" / "corpora" / "provincial-2026"
