"""Ingest and storage: structure, idempotence, replacement, duplicates, transactions of a few reports."""

from __future__ import annotations

import itertools
import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.texts import ZH, unreadable
from retrieval import Library, Segmenter, StorageError, Store, UnknownReport
from retrieval.arrays import replace
from retrieval.bm25 import FORMAT_VERSION, Bm25Index, Bm25Params
from retrieval.extract import read_report_file
from retrieval.ingest import delete_report, ingest_bytes, ingest_group
from retrieval.jsonout import answer_json
from retrieval.mentions import MentionTuning
from retrieval.store import SCHEMA_VERSION
from retrieval.structure import build_structure, cut_passages, derive_title
from tests.support import REPORTS

TITLES = {
    "000_201c88f9c3d4f927.txt": "主题教育工作开展情况",
    "001_21f5e1b268e4dc66.txt": "主题教育开展情况",
    "002_c09105e2aec2ab18.txt": "2023年主题教育开展情况汇报",
    "003_76e823c6e0fb73eb.txt": "第二批主题教育10月份阶段性总结",
    "004_50575b0fd58a1697.txt": "学习贯彻习近平新时代中国特色社会主义思想主题教育开展情况",
}


def test_titles_ids_and_sections(corpus_library: Library) -> None:
    reports = corpus_library.reports()
    assert {r.source: r.title for r in reports} == TITLES
    assert [r.id for r in reports] == [1, 2, 3, 4, 5]
    outline = corpus_library.outline("1")
    assert [(s.level, s.heading) for s in outline.sections][:2] == [
        (1, "一、主要做法及成效"),
        (2, "（一）精心组织，学思践悟，推动理论学习走深走实"),
    ]


def test_no_artefact_reaches_the_store(corpus_library: Library) -> None:
    texts = corpus_library.store.paragraph_texts()
    assert texts and not any("##paid" in t or t != t.strip() or not t for t in texts.values())


def test_passages_cover_each_paragraph_exactly(corpus_library: Library) -> None:
    texts = corpus_library.store.paragraph_texts()
    by_paragraph: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for p in corpus_library.store.passages():
        by_paragraph.setdefault((p.report_id, p.paragraph), []).append((p.start, p.end))
        assert p.end - p.start <= 400
    assert set(by_paragraph) == set(texts)
    for key, spans in by_paragraph.items():
        assert spans[0][0] == 0 and spans[-1][1] == len(texts[key])
        assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))


def test_derived_titles_are_cut_at_word_boundaries(segmenter: Segmenter) -> None:
    long_opening = "在县委县政府的坚强领导下全县上下深入学习贯彻党的二十大精神扎实推进各项工作取得明显成效，现汇报如下"
    title = derive_title(long_opening, segmenter)
    assert title.endswith("…") and len(title) <= 33
    assert long_opening.startswith(title[:-1])
    cut = len(title) - 1
    assert any(sum(map(len, segmenter.words(long_opening)[:i])) == cut for i in range(40))


def test_docx_heading_levels_become_sections(segmenter: Segmenter) -> None:
    structure = build_structure(
        ["标题", "总体情况", "正文一。", "具体做法", "正文二。"],
        segmenter,
        declared_title="标题",
        heading_levels={0: 1, 1: 1, 3: 2},
    )
    assert [(s.level, s.heading) for s in structure.sections] == [(1, "总体情况"), (2, "具体做法")]
    assert structure.paragraphs[4].section_index == 1


def test_long_sentences_are_split_to_fit_a_quote() -> None:
    text = "甲" * 1000 + "。" + "乙，" * 300 + "丙。"
    spans = cut_passages(1, text)
    assert spans[0].start == 0 and spans[-1].end == len(text)
    assert all(s.end - s.start <= 220 for s in spans)


def test_changed_file_replaces_and_duplicates_are_refused(library: Library) -> None:
    original = (REPORTS / "000_201c88f9c3d4f927.txt").read_bytes()
    changed = original.replace("四下基层".encode(), "四上基层".encode())
    result = ingest_bytes(library, "000_201c88f9c3d4f927.txt", changed)
    assert result.status == "replaced" and result.report.id == 1
    assert {m.report.id for m in library.mentions("四下基层").reports} == {2}
    assert {m.report.id for m in library.mentions("四上基层").reports} == {1}
    duplicate = ingest_bytes(library, "copy-of-001.txt", (REPORTS / "001_21f5e1b268e4dc66.txt").read_bytes())
    assert duplicate.status == "duplicate" and duplicate.report.id == 2
    assert library.stats()["reports"] == 5


def test_a_failed_write_leaves_the_old_version_whole(library: Library) -> None:
    before = answer_json(library.ask("哪些报告提到四下基层"))
    library.store.db.execute(
        "CREATE TRIGGER fail_midway BEFORE INSERT ON passages WHEN NEW.norm LIKE '%四上基层%'"
        " BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    changed = (REPORTS / "000_201c88f9c3d4f927.txt").read_bytes().replace("四下基层".encode(), "四上基层".encode())
    with pytest.raises(StorageError):
        ingest_bytes(library, "000_201c88f9c3d4f927.txt", changed)
    assert answer_json(library.ask("哪些报告提到四下基层")) == before
    fresh = Library(Store(library.store.path), library.segmenter)  # what a restarted process would see
    assert answer_json(fresh.ask("哪些报告提到四下基层")) == before
    assert fresh.store.counts() == library.store.counts()


def test_schema_version_and_read_only_database(library: Library) -> None:
    assert library.store.meta("schema_version") == str(SCHEMA_VERSION)
    # SQLite's own read-only switch: the same refusal a read-only file gives (chmod means nothing to root)
    library.store.db.execute("PRAGMA query_only = ON")
    assert library.ask("哪些报告提到四下基层").reports
    with pytest.raises(StorageError, match="readonly"):
        ingest_bytes(library, "new.txt", "新报告\n内容。\n".encode())
    assert library.ask("哪些报告提到四下基层").reports
    assert library.stats()["reports"] == 5


def test_unknown_ids(corpus_library: Library) -> None:
    for bad in ("99", "abc", "", "1; DROP TABLE reports", "-1", "9" * 30):
        with pytest.raises(UnknownReport):
            corpus_library.outline(bad)


def test_read_report_file_matches_raw_lines() -> None:
    for path in REPORTS.glob("*.txt"):
        lines = [
            line.replace("##paidbegin##", "").replace("##paidend##", "").strip()
            for line in path.read_text(encoding="utf-8").splitlines()
        ]
        assert list(read_report_file(path).lines) == [line for line in lines if line]


def test_sqlite_file_is_a_plain_database(corpus_library: Library) -> None:
    conn = sqlite3.connect(corpus_library.store.path)
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"reports", "sections", "paragraphs", "passages", "subscribers", "watches", "meta"} <= tables
    conn.close()


def _ingested_with_saved_index(
    tmp_path: Path, segmenter: Segmenter, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path, Library]:
    """The bundled reports ingested into a library that saves its index at any size (ingest saves it)."""
    import retrieval.library as library_module
    from retrieval.ingest import ingest_paths

    monkeypatch.setattr(library_module, "SAVE_INDEX_MIN_PASSAGES", 0)
    db, index_dir = tmp_path / "reports.db", tmp_path / "reports.db.index"
    library = Library(Store(db), segmenter, index_dir=index_dir)
    assert ingest_paths(library, [REPORTS]).ok
    return db, index_dir, library


def test_saved_index_is_used_only_while_it_fits_the_database(
    tmp_path: Path, segmenter: Segmenter, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, index_dir, first = _ingested_with_saved_index(tmp_path, segmenter, monkeypatch)
    expected = [answer_json(first.ask(q)) for q in ("哪些报告提到四下基层", "全县生产总值达到多少")]
    first.store.close()
    (index_dir / "key").unlink()
    built = Library(Store(db), segmenter, index_dir=index_dir)  # no saved index: builds from the store and saves
    assert (index_dir / "key").read_text() == built.store.passage_key()
    built.store.close()
    loaded = Library(Store(db), segmenter, index_dir=index_dir)  # loads the saved arrays
    assert [answer_json(loaded.ask(q)) for q in ("哪些报告提到四下基层", "全县生产总值达到多少")] == expected
    ingest_bytes(loaded, "new.txt", "新报告\n一、工作\n我们推进四下基层。\n".encode())
    loaded.store.close()
    assert (index_dir / "key").read_text() != Store(db).passage_key()  # stale now: the next start rebuilds
    (index_dir / "mentions.npz").write_bytes(b"damaged")
    (index_dir / "key").write_text(Store(db).passage_key())
    rebuilt = Library(Store(db), segmenter, index_dir=index_dir)
    assert len(rebuilt.ask("哪些报告提到四下基层").reports) == 3


def test_ingest_saves_the_index_for_the_next_start_unless_passages_were_deleted(
    tmp_path: Path, segmenter: Segmenter, monkeypatch: pytest.MonkeyPatch
) -> None:

    db, index_dir, first = _ingested_with_saved_index(tmp_path, segmenter, monkeypatch)
    ingest_bytes(first, "new.txt", "新报告\n一、工作\n我们推进四下基层。\n".encode())
    assert first.save_index() and not first.save_index()  # written once, then already saved as it is
    expected = _answers(first)
    first.store.close()

    def no_build(*args: object) -> None:
        raise AssertionError("the saved index should have been loaded")

    with monkeypatch.context() as patched:
        patched.setattr(Bm25Index, "build", no_build)
        loaded = Library(Store(db), segmenter, index_dir=index_dir)
    assert _answers(loaded) == expected
    delete_report(loaded, loaded.mentions("四下基层").reports[0].report.id)
    assert not loaded.save_index()  # positions of deleted passages would not line up with the store's
    assert (index_dir / "key").read_text() != loaded.store.passage_key()
    loaded.store.close()


def test_a_saved_index_of_another_format_or_other_bm25_parameters_is_rebuilt(
    tmp_path: Path, segmenter: Segmenter, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The saved BM25 index records its format version and k1, b, epsilon; a start with other parameters, or from an
    index saved before the format was recorded, rebuilds it (saying so in the log) and saves the new one."""
    db, index_dir, first = _ingested_with_saved_index(tmp_path, segmenter, monkeypatch)
    expected = _answers(first)
    first.store.close()
    saved = index_dir / "bm25.npz"
    with np.load(saved) as data:
        meta = json.loads(str(data["meta"][0]))
    assert meta["format"] == FORMAT_VERSION and meta["params"] == {"k1": 1.5, "b": 0.75, "epsilon": 0.25}

    other = Library(Store(db), segmenter, index_dir=index_dir, params=Bm25Params(k1=1.2))
    assert "not usable" in caplog.text and "rebuilding" in caplog.text and "'k1': 1.5" in caplog.text
    with np.load(saved) as data:
        assert json.loads(str(data["meta"][0]))["params"]["k1"] == 1.2  # saved again, with its own parameters
    terms = first.query_terms("四下基层")
    assert other.idf("四下基层") == first.idf("四下基层")  # idf does not depend on k1 ...
    assert other._passages.bm25.top(terms, 1)[0][1] != first._passages.bm25.top(terms, 1)[0][1]  # ... the scores do
    other.store.close()

    caplog.clear()
    back = Library(Store(db), segmenter, index_dir=index_dir)  # the default parameters again: rebuilt again
    assert "rebuilding" in caplog.text
    assert _answers(back) == expected
    back.store.close()

    with np.load(saved) as data:  # as an index saved before formats were recorded
        arrays = {key: data[key] for key in data.files}
    arrays["meta"] = np.array([json.dumps({k: v for k, v in meta.items() if k not in ("format", "params")})])
    with saved.open("wb") as handle:
        np.savez(handle, **arrays)  # type: ignore[arg-type]
    caplog.clear()
    old = Library(Store(db), segmenter, index_dir=index_dir)
    assert "format None" in caplog.text and "rebuilding" in caplog.text
    assert _answers(old) == expected
    old.store.close()

    caplog.clear()
    current = Library(Store(db), segmenter, index_dir=index_dir)  # saved by the rebuild: loaded, no word of it
    assert "rebuilding" not in caplog.text
    assert _answers(current) == expected
    current.store.close()


def _saved_in_chunks_then_deleted(
    tmp_path: Path, segmenter: Segmenter, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path, list[object]]:
    """The bundled reports ingested one at a time with the mention finder's thresholds turned down, so that each is
    a chunk with a file of its code units, as a large library grows; the index saved, then a report deleted (the
    saved index no longer fits: the next start rebuilds it as one chunk). Returns the database, the index folder
    and the answers the library gives now."""
    import retrieval.library as library_module

    monkeypatch.setattr(library_module, "SAVE_INDEX_MIN_PASSAGES", 0)
    db, index_dir = tmp_path / "reports.db", tmp_path / "reports.db.index"
    library = Library(Store(db), segmenter, index_dir=index_dir, mention_tuning=_ONE_CHUNK_A_REPORT)
    for path in sorted(REPORTS.iterdir()):
        ingest_bytes(library, path.name, path.read_bytes())
    assert library.save_index()
    assert len(list(index_dir.glob("mentions.npz.c*.units.npy"))) == 5
    delete_report(library, library.mentions("四下基层").reports[0].report.id)
    expected = _answers(library)
    library.store.close()
    return db, index_dir, expected


_ONE_CHUNK_A_REPORT = MentionTuning(index_min_units=1)
_REBUILT = ["bm25.npz", "key", "mentions.npz", "mentions.npz.c0.units.npy"]


def test_a_rebuilt_index_leaves_no_file_of_the_one_it_replaces(
    tmp_path: Path, segmenter: Segmenter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a save the folder holds what that index loads and nothing else: not the code units of the mention
    chunks of the index it replaced (a rebuild folds them into one; 12 such files were left at 1M passages, and an
    operator's disk filled up over time), nor a file a killed save left aside."""
    db, index_dir, expected = _saved_in_chunks_then_deleted(tmp_path, segmenter, monkeypatch)
    (index_dir / "mentions.npz.c2.units.npy.tmp-4194305").write_bytes(b"\x93NUMPY" + bytes(100))  # killed mid-save
    rebuilt = Library(Store(db), segmenter, index_dir=index_dir, mention_tuning=_ONE_CHUNK_A_REPORT)
    assert _answers(rebuilt) == expected
    rebuilt.store.close()
    assert sorted(p.name for p in index_dir.iterdir()) == _REBUILT
    with monkeypatch.context() as patched:
        patched.setattr(Bm25Index, "build", _no_build)
        loaded = Library(Store(db), segmenter, index_dir=index_dir, mention_tuning=_ONE_CHUNK_A_REPORT)
    assert _answers(loaded) == expected
    loaded.store.close()


def test_a_save_stopped_half_way_is_never_loaded_and_the_next_one_clears_it(
    tmp_path: Path, segmenter: Segmenter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A save stopped after any of its files (a full disk; a kill, which also leaves the file it was writing aside)
    has removed the key first, so the next start rebuilds from the database instead of loading a mix of the old and
    the new index; that start's save leaves the folder as a whole save does."""
    import retrieval.bm25.index as bm25_module
    import retrieval.mentions as mentions_module

    db, index_dir, expected = _saved_in_chunks_then_deleted(tmp_path, segmenter, monkeypatch)
    shutil.copytree(index_dir, tmp_path / "old")
    for stop_at in range(3):  # bm25.npz, the one chunk's code units, mentions.npz
        shutil.rmtree(index_dir)
        shutil.copytree(tmp_path / "old", index_dir)
        stopping = _writes_stopped_after(stop_at)
        with monkeypatch.context() as patched:
            patched.setattr(bm25_module, "replace", stopping)
            patched.setattr(mentions_module, "replace", stopping)
            stopped = Library(Store(db), segmenter, index_dir=index_dir, mention_tuning=_ONE_CHUNK_A_REPORT)
        assert _answers(stopped) == expected and not (index_dir / "key").exists(), stop_at
        stopped.store.close()
        restarted = Library(Store(db), segmenter, index_dir=index_dir, mention_tuning=_ONE_CHUNK_A_REPORT)
        assert _answers(restarted) == expected, stop_at
        restarted.store.close()
        assert sorted(p.name for p in index_dir.iterdir()) == _REBUILT, stop_at


def _writes_stopped_after(count: int) -> Callable[[Path, Any], None]:
    """`arrays.replace` that writes `count` files, then fails as a full disk does, leaving what a kill would."""
    written: list[Path] = []

    def stopping(path: Path, arrays: Any) -> None:
        if len(written) == count:
            path.with_name(f"{path.name}.tmp-4194305").write_bytes(b"half")
            raise OSError(28, "No space left on device")
        written.append(path)
        replace(path, arrays)

    return stopping


def _no_build(*args: object) -> None:
    raise AssertionError("the saved index should have been loaded")


def _answers(library: Library) -> list[object]:
    questions = ("哪些报告提到四下基层", "哪些报告提到主题教育", "全县生产总值达到多少", "调查研究")
    return [answer_json(library.ask(q)) for q in questions]


def test_a_failure_mid_group_loses_nothing_reported_and_a_rerun_completes(
    tmp_path: Path, segmenter: Segmenter, monkeypatch: pytest.MonkeyPatch
) -> None:
    import retrieval.ingest as ingest_module
    from retrieval.ingest import ingest_paths

    monkeypatch.setattr(ingest_module, "GROUP_REPORTS", 2)  # groups of two: the third report opens the second group
    library = Library(Store(tmp_path / "reports.db"), segmenter)
    assert sorted(REPORTS.glob("*.txt"))[3].name == "003_76e823c6e0fb73eb.txt"
    library.store.db.execute(
        "CREATE TRIGGER fail_midway BEFORE INSERT ON reports WHEN NEW.source = '003_76e823c6e0fb73eb.txt'"
        " BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    reported: list[str] = []
    with pytest.raises(StorageError):
        ingest_paths(library, [REPORTS], on_file=lambda f: reported.append(f.name))
    stored = {r.source for r in library.store.reports()}
    # the first group was committed and reported; the second (the 3rd and 4th files) rolled back, unreported
    assert reported == [p.name for p in sorted(REPORTS.glob("*.txt"))[:2]]
    assert set(reported) == stored
    assert _answers(library) == _answers(Library(Store(library.store.path), segmenter))  # index == store
    library.store.db.execute("DROP TRIGGER fail_midway")
    summary = ingest_paths(library, [REPORTS])
    assert summary.ok and [r.status for r in summary.results] == ["unchanged"] * 2 + ["added"] * 3
    fresh = Library(Store(tmp_path / "fresh.db"), segmenter)
    assert ingest_paths(fresh, [REPORTS]).ok
    assert _answers(library) == _answers(fresh)


def test_one_group_with_a_replacement_and_a_duplicate_inside(tmp_path: Path, segmenter: Segmenter) -> None:
    first, second = (read_report_file(p) for p in sorted(REPORTS.glob("*.txt"))[:2])
    from retrieval.extract import extract
    from retrieval.prepare import prepare_report

    changed = (REPORTS / first.source).read_bytes().replace("四下基层".encode(), "四上基层".encode())
    group = [
        prepare_report(first, segmenter),
        prepare_report(second, segmenter),
        prepare_report(extract(first.source, changed), segmenter),  # the same file again, changed: replaces
        prepare_report(extract("copy.txt", (REPORTS / second.source).read_bytes()), segmenter),  # a duplicate
        prepare_report(extract(first.source, changed), segmenter),  # and once more: unchanged
    ]
    library = Library(Store(tmp_path / "reports.db"), segmenter)
    results = ingest_group(library, group)
    assert [r.status for r in results] == ["added", "added", "replaced", "duplicate", "unchanged"]
    assert [r.report.id for r in results] == [1, 2, 1, 2, 1]
    assert {m.report.id for m in library.mentions("四上基层").reports} == {1}
    assert {m.report.id for m in library.mentions("四下基层").reports} == {2}
    assert library.stats()["reports"] == 2
    assert _answers(library) == _answers(Library(Store(library.store.path), segmenter))


def test_index_steps_inside_a_writer_match_a_fresh_build(
    tmp_path: Path, segmenter: Segmenter, monkeypatch: pytest.MonkeyPatch
) -> None:
    import retrieval.passages as passages_module
    from retrieval.ingest import ingest_paths

    monkeypatch.setattr(passages_module, "STEP_MIN_PASSAGES", 1)  # a step after every transaction
    library = Library(Store(tmp_path / "reports.db"), segmenter)
    assert ingest_paths(library, [REPORTS]).ok
    changed = (REPORTS / "000_201c88f9c3d4f927.txt").read_bytes().replace("四下基层".encode(), "四上基层".encode())
    with library.writer() as writer:
        ingest_bytes(library, "000_201c88f9c3d4f927.txt", changed, writer=writer)
        ingest_bytes(library, "new.txt", "新报告\n一、工作\n我们推进四下基层。\n".encode(), writer=writer)
        delete_report(library, 2, writer=writer)
    assert _answers(library) == _answers(Library(Store(library.store.path), segmenter))


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_workers_prepare_what_this_process_would(
    tmp_path: Path, segmenter: Segmenter, monkeypatch: pytest.MonkeyPatch, start: str
) -> None:
    import retrieval.ingest as ingest_module

    monkeypatch.setattr(ingest_module, "FORK_MIN_BYTES", 0)
    monkeypatch.setattr(ingest_module, "PARALLEL_MIN_BYTES", 0)
    if start == "spawn":  # what a process with other threads gets
        monkeypatch.setattr(ingest_module.threading, "active_count", lambda: 2)
    else:
        monkeypatch.setattr(ingest_module.threading, "active_count", lambda: 1)
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\x00")
    shutil.copytree(REPORTS, tmp_path / "reports")
    serial = Library(Store(tmp_path / "serial.db"), segmenter)
    parallel = Library(Store(tmp_path / "parallel.db"), segmenter)
    expected = ingest_module.ingest_paths(serial, [tmp_path / "reports", tmp_path / "bad.txt"], workers=1)
    got = ingest_module.ingest_paths(parallel, [tmp_path / "reports", tmp_path / "bad.txt"], workers=2)
    assert [(r.source, r.status, r.report.id) for r in got.results] == [
        (r.source, r.status, r.report.id) for r in expected.results
    ]
    assert len(expected.failures) == 1
    assert [unreadable(f, ZH) for f in got.failures] == [unreadable(f, ZH) for f in expected.failures]
    assert _answers(parallel) == _answers(serial)
    assert parallel.store.counts() == serial.store.counts()


def test_reports_known_to_the_library_follow_every_write(library: Library) -> None:
    def in_store() -> dict[int, object]:
        return {r.id: r for r in library.store.reports()}

    assert library._reports == in_store()
    added = ingest_bytes(library, "new.txt", "新报告\n一、工作\n我们推进四下基层。\n".encode()).report
    assert library._reports == in_store()
    replaced = ingest_bytes(library, "new.txt", "改过的新报告\n一、工作\n我们推进四下基层和调查研究。\n".encode())
    assert replaced.status == "replaced" and library._reports[added.id].title == "改过的新报告"
    assert library._reports == in_store()
    with library.writer() as writer:
        ingest_bytes(library, "other.txt", "另一份报告\n一、工作\n我们开展主题教育。\n".encode(), writer=writer)
        delete_report(library, added.id, writer=writer)
    assert library._reports == in_store() and added.id not in library._reports
    answer = library.ask("哪些报告提到主题教育")
    assert {m.report.source for m in answer.reports} >= {"other.txt"}
