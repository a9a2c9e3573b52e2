"""Shared fixtures: the bundled corpus ingested into a real SQLite file (once per session) and fresh libraries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from retrieval import Library, Segmenter, Store
from retrieval.ingest import ingest_paths
from tests.support import DICTIONARY, PROVINCIAL, REPORTS


@pytest.fixture(scope="session")
def segmenter() -> Segmenter:
    """One segmenter for the whole run: the dictionary load is the slow part."""
    return Segmenter(DICTIONARY)


@pytest.fixture(scope="session")
def corpus_library(tmp_path_factory: pytest.TempPathFactory, segmenter: Segmenter) -> Iterator[Library]:
    """The bundled reports in a real SQLite file; shared, so tests must not modify it."""
    db = tmp_path_factory.mktemp("corpus") / "reports.db"
    library = Library(Store(db), segmenter)
    summary = ingest_paths(library, [REPORTS])
    assert summary.ok and len(summary.results) == 5
    yield library
    library.store.close()


@pytest.fixture
def empty_library(tmp_path: Path, segmenter: Segmenter) -> Iterator[Library]:
    """A library of its own on a fresh SQLite file."""
    library = Library(Store(tmp_path / "reports.db"), segmenter)
    yield library
    library.store.close()


@pytest.fixture
def library(tmp_path: Path, segmenter: Segmenter) -> Iterator[Library]:
    """A library of its own holding the bundled reports (safe to modify)."""
    library = Library(Store(tmp_path / "reports.db"), segmenter)
    assert ingest_paths(library, [REPORTS]).ok
    yield library
    library.store.close()


@pytest.fixture(scope="session")
def provincial_library(tmp_path_factory: pytest.TempPathFactory, segmenter: Segmenter) -> Iterator[Library]:
    """The 31 provincial government work reports of 2026 in a real SQLite file; shared, so tests must not modify it."""
    db = tmp_path_factory.mktemp("provincial") / "reports.db"
    library = Library(Store(db), segmenter)
    summary = ingest_paths(library, [PROVINCIAL])
    assert summary.ok and len(summary.results) == 31
    yield library
    library.store.close()
