"""A seeded, reproducible synthetic corpus recombined from the sentences of the bundled reports.

Only the files in data/reports are read. Each passage is 1-3 sentences drawn at random (the sentence count
follows the distribution of the bundled passages). The anonymisation placeholders (X, *, **) and digit runs
of a sentence are filled, per passage, with seeded Zipf-distributed numbers and place names, which gives the
vocabulary the long tail of rare terms a real collection has. Corpora are nested: the corpus of size N is the
first N passages of the same stream, so the sizes differ only in scale.

Tokens are produced by the project's Segmenter (normalise + rjieba cut_for_search + filter), computed once per
fixed sentence piece and once per distinct filler value and concatenated: the tokens of a passage are the
tokens of its pieces (jieba cannot join a word across a placeholder boundary here; that is the only difference
from segmenting the whole passage, and every engine gets exactly the same tokens).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.extract import read_report_file
from retrieval.normalize import normalize
from retrieval.query import QUESTION_WORDS
from retrieval.segment import Segmenter
from retrieval.structure import cut_passages, split_sentences

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "data" / "reports"
DICTIONARY = ROOT / "data" / "dict.txt"

# In normalised text: the placeholder x (from X), runs of * and numbers.
_SLOT = re.compile(r"(?<![a-z])x(?![a-z])|\*+|\d+(?:\.\d+)?")
# Characters place names are made of (a fixed list, so names are reproducible).
_NAME_CHARS = "东南西北中新安平和兴华阳山河江湖城林泉源丰庆宁泰康永长清明光荣富盛云龙凤金玉石桥溪"
NAME_POOL = 60_000
NUMBER_MAX = 100_000


def report_files() -> list[Path]:
    """The bundled report files, sorted."""
    return sorted(p for p in REPORTS.iterdir() if p.is_file() and not p.name.startswith("."))


def load_sentences() -> tuple[list[str], list[int]]:
    """Normalised sentences of the bundled reports, and the sentence counts of their passages."""
    sentences: list[str] = []
    counts: list[int] = []
    for path in report_files():
        for line in read_report_file(path).lines:
            spans = split_sentences(line)
            for start, end in spans:
                text = normalize(line[start:end])
                if text:
                    sentences.append(text)
            for passage in cut_passages(0, line):
                counts.append(sum(1 for s, e in spans if s >= passage.start and e <= passage.end) or 1)
    return sentences, counts


def name_of(index: int) -> str:
    """The place name with pool index `index`: two characters, three beyond the two-character names."""
    n = len(_NAME_CHARS)
    name = _NAME_CHARS[index % n] + _NAME_CHARS[(index // n) % n]
    if index >= n * n:
        name += _NAME_CHARS[(index // (n * n)) % n]
    return name


@dataclass(frozen=True)
class _Template:
    pieces: tuple[str, ...]  # fixed text around the slots: len(slots) + 1 pieces
    piece_terms: tuple[tuple[str, ...], ...]
    slots: tuple[str, ...]  # "num" | "name"


class CorpusGenerator:
    """Passages (normalised text and index terms) for a seed; deterministic for a given seed."""

    def __init__(self, segmenter: Segmenter, seed: int = 20240601) -> None:
        self.segmenter = segmenter
        self.seed = seed
        sentences, counts = load_sentences()
        self.sentences = sentences
        self._templates = [self._template(s) for s in sentences]
        values, freq = np.unique(np.asarray(counts), return_counts=True)
        self._count_values = values.astype(np.int64)
        self._count_p = freq / freq.sum()
        self._filler_terms: dict[str, tuple[str, ...]] = {}

    def _terms(self, text: str) -> tuple[str, ...]:
        return tuple(self.segmenter.terms(text, normalized=True)) if text else ()

    def _template(self, sentence: str) -> _Template:
        pieces: list[str] = []
        slots: list[str] = []
        at = 0
        for match in _SLOT.finditer(sentence):
            pieces.append(sentence[at : match.start()])
            slots.append("name" if match.group().startswith("*") else "num")
            at = match.end()
        pieces.append(sentence[at:])
        return _Template(tuple(pieces), tuple(self._terms(p) for p in pieces), tuple(slots))

    def _filler(self, value: str) -> tuple[str, ...]:
        terms = self._filler_terms.get(value)
        if terms is None:
            terms = self._filler_terms[value] = self._terms(value)
        return terms

    def batches(self, n: int, batch: int = 100_000) -> Iterator[tuple[list[str], list[list[str]]]]:
        """The first `n` passages of the stream, in batches of (texts, terms)."""
        rng = np.random.default_rng(self.seed)
        templates = self._templates
        done = 0
        while done < n:
            size = min(batch, n - done)
            k = rng.choice(self._count_values, size=size, p=self._count_p)
            chosen = rng.integers(0, len(templates), size=int(k.sum())).tolist()
            names = (np.minimum(rng.zipf(1.15, size=int(k.sum()) * 3), NAME_POOL) - 1).tolist()
            numbers = np.minimum(rng.zipf(1.3, size=int(k.sum()) * 3), NUMBER_MAX).tolist()
            texts: list[str] = []
            terms: list[list[str]] = []
            at = 0
            slot_at = 0
            for count in k.tolist():
                parts: list[str] = []
                words: list[str] = []
                for index in chosen[at : at + count]:
                    template = templates[index]
                    for i, slot in enumerate(template.slots):
                        parts.append(template.pieces[i])
                        words.extend(template.piece_terms[i])
                        value = name_of(names[slot_at]) if slot == "name" else str(numbers[slot_at])
                        slot_at += 1
                        parts.append(value)
                        words.extend(self._filler(value))
                    parts.append(template.pieces[-1])
                    words.extend(template.piece_terms[-1])
                at += count
                texts.append("".join(parts))
                terms.append(words)
            done += size
            yield texts, terms


def query_terms(segmenter: Segmenter, text: str) -> list[str]:
    """The ranking terms of a question, as Library.query_terms computes them."""
    terms = segmenter.terms(text)
    content = [t for t in terms if t not in QUESTION_WORDS]
    return content or terms


# The ranked query set: rare terms (filler names and numbers, terms of a single sentence), very common terms
# (the ones a naive scorer pays for), and long questions. Fixed: the same at every size.
RARE_QUERIES = [
    "吴书",
    "四下基层",
    "招商引资",
    "以学铸魂",
    "双报到",
    "生产总值",
    "中安区",
    "南西",
    "兴华区",
    "清明县",
    "4217",
    "87",
    "35",
    "吴书 事迹 实境课堂",
    "金玉区 调查研究",
    "四下基层 中安区",
]
COMMON_QUERIES = [
    "主题教育",
    "工作",
    "推进",
    "工作 推进",
    "主题教育 工作",
    "主题教育 工作 推进",
    "学习 教育",
    "调查研究",
    "问题 整改",
    "党员 干部",
    "推动 发展",
    "开展 学习",
    "主题教育 学习 工作 推进 落实",
    "群众 工作 问题",
    "工作 工作 推进",
]
LONG_QUERIES = [
    "主题教育开展以来县政府办公室在理论学习方面采取了哪些措施",
    "如何推动理论学习走深走实",
    "全县生产总值达到多少",
    "检视整改方面存在哪些问题",
    "下一步工作打算是什么",
    "调查研究成果如何转化运用",
    "怎样以学铸魂以学增智以学正风以学促干",
    "三会一课和主题党日活动开展情况",
    "领导班子成员带头开展调查研究的情况",
    "为群众办实事解难题取得了哪些成效",
    "招商引资和项目建设进展如何",
    "党员干部理想信念方面存在的问题",
    "四下基层制度是怎样落实的",
    "中安区开展主题教育的主要做法",
    "如何建立健全长效机制巩固主题教育成果",
    "习近平新时代中国特色社会主义思想学习情况",
    "政府办文稿服务工作有哪些改进",
    "离退休老党员送书学是怎么组织的",
    "整改整治任务清单完成情况和问题台账",
    "学习贯彻主题教育总要求推动高质量发展的具体举措",
]
RANKED_QUERIES = RARE_QUERIES + COMMON_QUERIES + LONG_QUERIES
QUICK_RANKED = ["吴书", "主题教育", "工作 推进", "中安区", "下一步工作打算是什么", "工作 工作 推进"]

# The mention query set: exact substrings, from rare to very common, absent ones and one character.
MENTION_QUERIES = [
    "四下基层",
    "三会一课",
    "主题党日",
    "双报到",
    "两个维护",
    "四个自信",
    "我为群众办实事",
    "调查研究",
    "主题教育",
    "存在问题",
    "吴书",
    "招商",
    "生产总值",
    "以学铸魂",
    "app",
    "习近平新时代中国特色社会主义思想",
    "中安区",
    "兴华",
    "金玉区",
    "4217",
    "量子计算机",
    "不存在的词语组合",
    "工作",
    "推进",
    "领导干部",
    "检视整改",
    "党",
    "哈哈",
    "高质量发展",
    "理论学习",
]
QUICK_MENTIONS = ["四下基层", "主题教育", "中安区", "量子计算机", "党", "工作"]


def make_segmenter() -> Segmenter:
    """The segmenter the library uses, with the bundled dictionary."""
    return Segmenter(DICTIONARY)
