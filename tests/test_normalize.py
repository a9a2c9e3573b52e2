"""Normalisation: what matching sees, and the way back to the original characters."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from retrieval.normalize import _FOLD, _FOLD_CHARS, _FOLDED, normalize, normalize_with_offsets, original_span


def test_traditional_full_width_quotes_and_spaces_fold() -> None:
    assert normalize("開展「主題教育」　ＡＢＣ１２３") == '开展"主题教育" abc123'
    assert normalize("  多个   空格\t\n") == "多个 空格"
    assert normalize("零\u200b宽") == "零宽"


def test_leader_placeholder_expands_only_before_chinese() -> None:
    assert normalize("学习A新时代中国特色社会主义思想") == "学习习近平新时代中国特色社会主义思想"
    assert normalize("《A著作选读》") == "《习近平著作选读》"
    assert normalize("政务服务APP") == "政务服务app"


def test_offsets_map_a_match_back_to_the_original_text() -> None:
    text = "把学习A新时代中国特色　社会主义思想"
    norm, origin = normalize_with_offsets(text)
    at = norm.index("习近平新时代")
    start, end = original_span(origin, at, at + len("习近平新时代"))
    assert text[start:end] == "A新时代"


@given(st.text(max_size=200))
def test_offsets_are_monotonic_and_in_range(text: str) -> None:
    norm, origin = normalize_with_offsets(text)
    assert len(origin) == len(norm) + 1
    assert origin == sorted(origin)
    assert all(0 <= i <= len(text) for i in origin)


@given(st.text(max_size=300))
def test_fast_and_offset_paths_agree(text: str) -> None:
    assert normalize(text) == normalize_with_offsets(text)[0]


def test_fast_and_offset_paths_agree_on_tricky_text() -> None:
    for text in ["X\u200bA新时代", " A总书记 ", "APP A新", "ＡＢ　Ａ新", "\x85a\u2028b\u3000\u3000c", "“引号”‘单’"]:
        assert normalize(text) == normalize_with_offsets(text)[0], text


def test_whitespace_table_is_complete() -> None:
    from retrieval.normalize import _WHITESPACE

    assert set(_WHITESPACE) == {chr(c) for c in range(0x110000) if chr(c).isspace()}


_FOLDED_OR_NOT = sorted({chr(code) for code in _FOLD} | set("主題教育A新ab１２ "))


@given(st.text(alphabet=st.sampled_from(_FOLDED_OR_NOT), max_size=200))
def test_the_fold_substitution_equals_the_translation_table(text: str) -> None:
    """normalize folds by substituting just the folded characters; the table's str.translate is the definition."""
    assert _FOLD_CHARS.sub(lambda m: _FOLDED[m.group()], text) == text.translate(_FOLD)
    assert normalize(text) == normalize_with_offsets(text)[0]
