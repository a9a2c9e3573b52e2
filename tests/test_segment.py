"""Segmentation: rjieba gives jieba's tokens, the domain dictionary keeps its terms whole."""

from __future__ import annotations

import logging

import jieba

from retrieval import Segmenter
from retrieval.extract import read_report_file
from retrieval.normalize import normalize
from retrieval.segment import read_dictionary
from tests.support import DICTIONARY, REPORTS


def _jieba_reference() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    for word, freq, tag in read_dictionary(DICTIONARY):
        tokenizer.add_word(word, freq, tag)
    return tokenizer


def test_rjieba_tokens_equal_jieba_on_the_whole_corpus(segmenter: Segmenter) -> None:
    reference = _jieba_reference()
    lines = [line for path in sorted(REPORTS.glob("*.txt")) for line in read_report_file(path).lines]
    assert len(lines) > 50
    for line in lines:
        norm = normalize(line)
        assert segmenter.raw_tokens(norm) == list(reference.cut_for_search(norm, HMM=True))
        assert segmenter.words(norm) == reference.lcut(norm, HMM=True)


def test_domain_terms_survive_segmentation(segmenter: Segmenter) -> None:
    for term in ("四下基层", "三会一课", "两个维护", "四个自信", "主题党日", "双报到", "我为群众办实事", "调查研究"):
        assert term in segmenter.terms(f"认真落实{term}的要求"), term


def test_documents_and_queries_use_the_same_function(segmenter: Segmenter) -> None:
    assert segmenter.terms("全县生产总值达到多少？") == segmenter.terms("全縣生產總值達到多少?")
    assert "的" not in segmenter.terms("我们的工作")
    assert segmenter.terms("，。！？、") == []
