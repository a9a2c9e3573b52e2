"""BM25 Okapi over the passages' terms, in a package by job: `params` (BM25's parameters and the tuning of the
structures), `scoring` (rank-bm25's arithmetic, written once), `segments` (the postings), `topk` (the strategies
that answer a question from a snapshot of the postings) and `index` (the facade: add, remove, ask, save, load).

Scores equal rank-bm25's `BM25Okapi` (k1=1.5, b=0.75, epsilon=0.25 unless `Bm25Params` say otherwise) on the same
tokens, bit for bit in the usual case: a document's score is summed term by term in query order with rank-bm25's own
expression. Postings live in CSR segments (one large segment from the initial build, small ones appended by each new
report, folded into one tail segment now and then); deleted passages are masked out and subtracted from the corpus
statistics, so adding or replacing a report never rebuilds the index.

`top` is exact but does not score every posting. A term with many postings in a segment also has an impact-ordered
copy of the top of them (documents by decreasing tf weight `tf*(k1+1)/(tf+k1*(1-b+b*dl/avgdl))` computed when the
segment was built; at least 8192 entries or a quarter of the list) with an upper bound per block of 64 entries. A
query walks these copies from the top, deeper each round (threshold algorithm): every document met is scored exactly
(binary searches into the document-ordered postings, or a dense array of a term's frequencies once that is cheaper;
a term in at least 1/6 of a segment's documents has a row of its frequencies, a byte per document built with the
segment or on load, so its lookup is one gather), candidates are dropped as soon as their partial score plus the
most the remaining terms could add falls below the k-th best score, and the walk stops once no document not met yet
could reach it. When walking on would cost more, or would pass the end of an impact copy, the query finishes with a
MaxScore pass: terms whose maxima together stay below the k-th best score cannot lift a document alone, so only the
postings of the other (essential) terms are read in full. In an index of 100k positions or more, such a query is
instead scored term at a time by compiled loops (retrieval/kernels.py): every posting of every query term added in
query order into a dense array with rank-bm25's expression, one pass keeping the k best; when most documents stay
candidates (long questions of common terms) that is several times cheaper than pruning through numpy, and the
walk hands over once (documents met) x (terms) passes a quarter of those postings (`Tuning.term_at_a_time`). A later
change of the average length moves a weight by at most the ratio of the averages, so the bounds stay valid with
that factor and an impact order never has to be rebuilt. Terms with few postings are read whole. `top` uses
scratch arrays of the index: calls must not run concurrently (Library holds its lock around them).
"""

from .index import FORMAT_VERSION, Bm25Index, SavedIndexMismatch
from .params import Bm25Params, Tuning

__all__ = ["FORMAT_VERSION", "Bm25Index", "Bm25Params", "SavedIndexMismatch", "Tuning"]
