"""How findable a gold document is by words alone: its BM25 rank among the documents of
the context for the question (1 = the best match). A lexical baseline a user can read as
"how hard is this question"; the card shows it as a histogram."""
from __future__ import annotations

import math
import re
from collections import Counter
from typing import Sequence

K1, B = 1.5, 0.75
_HAN = re.compile(r"[\u4e00-\u9fff]+")
_WORD = re.compile(r"[^\W_]+")
_LATIN = re.compile(r"[a-z0-9]+")


def terms(text: str, lang: str) -> Counter:
    """Character bigrams of Han runs (and whole Latin/digit words) for zh; lower-cased
    words otherwise."""
    if lang != "zh":
        return Counter(_WORD.findall(text.lower()))
    out: Counter = Counter()
    for run in _HAN.findall(text):
        out.update(map(str.__add__, run, run[1:]) if len(run) > 1 else (run,))  # bigrams, built in C
    out.update(_LATIN.findall(text.lower()))
    return out


def bm25_rank(query: Counter, docs: Sequence[Counter], gold: int) -> int:
    """1 + the number of documents that score strictly higher than `docs[gold]`."""
    n = len(docs)
    lengths = [sum(d.values()) for d in docs]
    avg = sum(lengths) / n if n else 0.0
    df = Counter(t for d in docs for t in query if t in d)

    def score(i: int) -> float:
        d, total = docs[i], 0.0
        for t in query:
            f = d.get(t, 0)
            if f:
                idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
                total += idf * f * (K1 + 1) / (f + K1 * (1 - B + B * lengths[i] / (avg or 1)))
        return total

    target = score(gold)
    return 1 + sum(1 for i in range(n) if i != gold and score(i) > target)
