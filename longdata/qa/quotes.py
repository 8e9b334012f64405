"""Verbatim quotes: find the quote in a model's answer and pin it to the gold document.

A quote that is not really in the document teaches a model to invent evidence, so every
quote is located in the gold text (exact, then ignoring whitespace, punctuation, case and
full/half width, then fuzzy) and replaced by the document's own characters; a quote that
cannot be found well enough is rejected with a reason.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.distance import Indel

DEFAULT_THRESHOLD = 90.0  # rapidfuzz similarity (0-100) on normalised text
MIN_QUOTE_CHARS = 8       # normalised characters; shorter quotes carry no evidence

_WORD = re.compile(r"[^\W_]+")  # letters and digits (CJK included); everything else is ignored
_CLOSERS = set(".!?;。！？；…”’」』)）\"'")  # what may close a sentence after its last word
# Quoted passages in free text: “…”, "…", 「…」, 『…』, ‘…’.
_QUOTED = re.compile(r"“([^”]+)”|\"([^\"]+)\"|「([^」]+)」|『([^』]+)』|‘([^’]+)’")


@dataclass(frozen=True)
class QuoteMatch:
    """Where a quote sits in the document; `text` is the verbatim slice doc[start:end]."""

    start: int
    end: int
    text: str
    method: str   # exact | normalized | fuzzy
    score: float  # 100 for exact and normalized


@dataclass(frozen=True)
class QuoteMiss:
    """Why a quote could not be pinned to the document (reason is a stable count key)."""

    reason: str   # quote_empty | quote_too_short | quote_not_found
    detail: str
    score: float = 0.0


def canonical(text: str) -> str:
    """Letters and digits only, NFKC-folded and casefolded: what survives re-typing."""
    return "".join(_WORD.findall(unicodedata.normalize("NFKC", text).casefold()))


class NormalizedText:
    """`canonical(text)` plus, for each of its characters, the offset it came from."""

    def __init__(self, text: str):
        chars: list[str] = []
        index: list[int] = []
        for m in _WORD.finditer(text):
            seg, base = m.group(), m.start()
            if seg.isascii():
                chars.append(seg.lower())
                index.extend(range(base, m.end()))
                continue
            for i, ch in enumerate(seg):
                folded = canonical(ch)
                chars.append(folded)
                index.extend([base + i] * len(folded))
        self.text = "".join(chars)
        self.index = index

    def span(self, nstart: int, nend: int) -> tuple[int, int]:
        """Original (start, end) covering normalised characters [nstart, nend)."""
        return self.index[nstart], self.index[nend - 1] + 1


def extract_quote(answer: str) -> str | None:
    """The longest quoted passage in a free-text answer (for answers without a quote field)."""
    found = [next(g for g in m.groups() if g is not None) for m in _QUOTED.finditer(answer)]
    return max(found, key=len).strip() if found else None


def locate_quote(quote: str, doc: str, threshold: float = DEFAULT_THRESHOLD) -> QuoteMatch | QuoteMiss:
    """Pin `quote` to a verbatim span of `doc`: exact, normalised, then fuzzy above `threshold`."""
    stripped = quote.strip().strip("\"'“”‘’「」『』").strip()
    if not stripped:
        return QuoteMiss("quote_empty", "the answer has no quote")
    pos = doc.find(stripped)
    if pos >= 0:
        return QuoteMatch(pos, pos + len(stripped), stripped, "exact", 100.0)
    nquote = canonical(stripped)
    if len(nquote) < MIN_QUOTE_CHARS:
        return QuoteMiss("quote_too_short", f"{len(nquote)} letters/digits, need {MIN_QUOTE_CHARS}")
    ndoc = NormalizedText(doc)
    npos = ndoc.text.find(nquote)
    if npos >= 0:
        start, end = ndoc.span(npos, npos + len(nquote))
        end = _closing_punct(doc, end, stripped)
        return QuoteMatch(start, end, doc[start:end], "normalized", 100.0)
    return _fuzzy(nquote, stripped, ndoc, doc, threshold)


def _fuzzy(nquote: str, quote: str, ndoc: NormalizedText, doc: str, threshold: float) -> QuoteMatch | QuoteMiss:
    """Best window by partial-ratio alignment, then the best-scoring span around it.

    Windows of twice the quote length with a stride of one quote length contain every
    candidate span, and keep the cost linear in the document length.
    """
    n, text = len(nquote), ndoc.text
    if not text:
        return QuoteMiss("quote_not_found", "the document has no letters or digits")
    best, best_at = None, 0
    for wstart in range(0, max(1, len(text) - n + 1), n):
        cand = fuzz.partial_ratio_alignment(nquote, text[wstart:wstart + 2 * n])
        if cand is not None and (best is None or cand.score > best.score):
            best, best_at = cand, wstart
    if best is None or best.score < threshold:
        score = best.score if best is not None else 0.0
        return QuoteMiss("quote_not_found", f"best fuzzy score {score:.1f} < {threshold:g}", score)
    # Re-align against the match plus slack on both sides so that words the model dropped
    # or added at either end neither cut the span short nor pad it.
    slack = n // 4 + 1
    lo = max(0, best_at + best.dest_start - slack)
    hi = min(len(text), best_at + best.dest_end + slack)
    score, nstart, nend = _best_span(nquote, text[lo:hi])
    nstart, nend = lo + nstart, lo + nend
    if score < threshold:
        return QuoteMiss("quote_not_found", f"fuzzy score {score:.1f} < {threshold:g}", score)
    start, end = _word_bounds(doc, *ndoc.span(nstart, nend))
    end = _closing_punct(doc, end, quote)
    return QuoteMatch(start, end, doc[start:end], "fuzzy", round(score, 1))


def _best_span(nquote: str, region: str, edge_blocks: int = 12) -> tuple[float, int, int]:
    """The region slice most similar to the quote, cut at the boundaries of aligned blocks.

    The global alignment can pin stray characters to the slack text at either end; trying
    the starts of the first blocks against the ends of the last ones drops them.
    """
    blocks = [op for op in Indel.opcodes(nquote, region) if op.tag == "equal"]
    starts = [b.dest_start for b in blocks[:edge_blocks]]
    ends = [b.dest_end for b in blocks[-edge_blocks:]]
    spans = [(i, j) for i in starts for j in ends if j > i]
    i, j = max(spans, key=lambda ij: fuzz.ratio(nquote, region[ij[0]:ij[1]]))
    return fuzz.ratio(nquote, region[i:j]), i, j


def _word_bounds(doc: str, start: int, end: int) -> tuple[int, int]:
    """Widen a span so it neither starts nor ends inside a Latin word (CJK has no words to cut)."""
    def inner(ch: str) -> bool:
        return ch.isascii() and ch.isalnum()

    while start > 0 and inner(doc[start - 1]) and inner(doc[start]):
        start -= 1
    while end < len(doc) and inner(doc[end - 1]) and inner(doc[end]):
        end += 1
    return start, end


def _closing_punct(doc: str, end: int, quote: str) -> int:
    """Keep the sentence's closing punctuation when the quote ended with punctuation too."""
    if quote and not quote[-1].isalnum():
        while end < len(doc) and doc[end] in _CLOSERS:
            end += 1
    return end


def contains_passage(text: str, passage: str) -> bool:
    """Whether `text` holds `passage` up to whitespace, punctuation, case and width.

    Used to check that no non-gold document in a context also contains the quote (an
    unanswerable turn must really be unanswerable).
    """
    needle = canonical(passage)
    return bool(needle) and needle in canonical(text)


def effective_ratio(quote_tokens: int, answer_tokens: int) -> float:
    """Share of assistant tokens that are verbatim quotes (0 when there are no tokens)."""
    if answer_tokens <= 0:
        return 0.0
    return min(1.0, max(0, quote_tokens) / answer_tokens)

