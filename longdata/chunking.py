"""Cut text into consecutive slices within a token budget, at paragraph boundaries
(a longer paragraph at sentence boundaries, a longer sentence at characters).

Slices are exact: joined in order they give back the text. Shared by longdata-corpus
(chunks for pre-training) and multidoc-paraphrase (passages of over-long documents).
"""
from __future__ import annotations

import re

from .text import sentence_spans

_PARAGRAPH_END = re.compile(r"\n\n+")


def pieces(text: str, lang: str, budget: int, counter) -> list[tuple[str, int]]:
    """The text as consecutive slices of at most `budget` tokens each (with their counts):
    paragraphs with the blank lines after them; a longer paragraph by sentences; a longer
    sentence by characters."""
    out: list[tuple[str, int]] = []
    start = 0
    bounds = [m.end() for m in _PARAGRAPH_END.finditer(text)] + [len(text)]
    for end in bounds:
        if end <= start:
            continue
        para = text[start:end]
        n = counter.count(para)
        if n <= budget:
            out.append((para, n))
        else:
            out.extend(_sentences(para, lang, budget, counter))
        start = end
    return out


def _sentences(para: str, lang: str, budget: int, counter) -> list[tuple[str, int]]:
    cuts = [e for _, e in sentence_spans(para, lang)][:-1] + [len(para)]
    out, start = [], 0
    for end in cuts:
        if end <= start:
            continue
        piece = para[start:end]
        n = counter.count(piece)
        out.extend([(piece, n)] if n <= budget else _characters(piece, budget, counter))
        start = end
    return out


def _characters(text: str, budget: int, counter) -> list[tuple[str, int]]:
    """Longest prefixes within the budget, found by bisection (a sentence longer than a chunk)."""
    out = []
    while text:
        lo, hi = 1, len(text)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            lo, hi = (mid, hi) if counter.count(text[:mid]) <= budget else (lo, mid - 1)
        out.append((text[:lo], counter.count(text[:lo])))
        text = text[lo:]
    return out


def chunk(text: str, lang: str, budget: int, counter) -> list[tuple[str, int]]:
    """Consecutive pieces packed into chunks of at most `budget` tokens (each chunk counted
    exactly; token counts of pieces do not quite add up at their seams)."""
    chunks: list[tuple[str, int]] = []
    todo = pieces(text, lang, budget, counter)
    i = 0
    while i < len(todo):
        j, total = i, 0
        while j < len(todo) and (j == i or total + todo[j][1] <= budget):
            total += todo[j][1]
            j += 1
        while True:
            body = "".join(p for p, _ in todo[i:j])
            n = counter.count(body)
            if n <= budget or j == i + 1:
                break
            j -= 1  # the seams added a token or two: give the last piece to the next chunk
        chunks.append((body, n))
        i = j
    return chunks
