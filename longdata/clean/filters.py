"""Per-document quality rules for zh and en, in the style of Gopher, C4 and FineWeb-2.

Each rule answers None (keep) or a named reason (`"symbol ratio: 0.21 > 0.1"`), like
datatrove's filters; `first_failure` runs them in order and the caller logs the reason.
Thresholds live in one documented config with per-language defaults (FineWeb-2's
Chinese settings count Chinese marks as terminal punctuation and measure "words" with
jieba, which only the rules that need words call).
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from itertools import compress
from typing import Callable

import numpy as np

from ..codepoints import classify, codepoints
from ..text import cjk_ratio_of

TERMINAL = tuple(".!?\"'”’。．！？…；;」』）)")
MIN_LINES_FOR_PUNCTUATION = 3  # a one-line news article ending in its byline is not boilerplate
_SYMBOLS = re.compile(r"#|\.\.\.|…")
_HAS_ALNUM = re.compile(r"[^\W_]")  # a letter or a digit
# ASCII characters that jieba segments together with Chinese (its `re_han_default`)
LONGEST_DICTIONARY_WORD = 16  # characters, in jieba's dict.txt (jieba-rs ships the same; a test checks)
_JIEBA_BLOCK = np.array([chr(i).isascii() and (chr(i).isalnum() or chr(i) in "+#&._%-") for i in range(128)])


@dataclass(frozen=True)
class FilterConfig:
    """Thresholds of the quality rules; `for_lang` gives the defaults of a language."""

    min_words: int = 50               # Gopher: 50 words
    max_words: int = 1_000_000        # Gopher: 100k for web pages; books are longer
    min_mean_word_length: float = 3.0  # Gopher (en only): 3-10 characters
    max_mean_word_length: float = 10.0
    max_symbol_ratio: float = 0.1     # Gopher: `#` and ellipses per word
    max_digit_ratio: float = 0.3      # digits among non-space characters
    max_duplicate_line_share: float = 0.3       # Gopher: lines duplicated elsewhere in the document
    max_duplicate_paragraph_share: float = 0.3  # Gopher: paragraphs likewise
    max_top_ngram_share: dict = field(default_factory=lambda: {2: 0.20, 3: 0.18, 4: 0.16})  # Gopher, words
    min_terminal_line_share: float = 0.12  # FineWeb: share of lines ending in terminal punctuation
    max_char_run: int = 30            # a character repeated this often in a row
    min_cjk_share: float = 0.0        # zh: share of CJK among CJK and Latin letters

    @classmethod
    def for_lang(cls, lang: str) -> "FilterConfig":
        if lang == "zh":
            # FineWeb-2 cmn_Hani-like: n-gram shares over characters run higher in Chinese
            return cls(min_words=50, max_top_ngram_share={2: 0.30, 3: 0.25, 4: 0.20}, min_cjk_share=0.3,
                       min_mean_word_length=0.0, max_mean_word_length=100.0)
        return cls()


@dataclass
class Stats:
    """What the rules look at, each computed once per document and only when a rule asks."""

    text: str
    lang: str

    @cached_property
    def cps(self) -> np.ndarray:
        return codepoints(self.text)

    @cached_property
    def spaces(self) -> np.ndarray:
        return classify(self.cps, "space")

    @cached_property
    def alnum(self) -> np.ndarray:
        return classify(self.cps, "alnum")

    @cached_property
    def words(self) -> list[str]:
        """Words holding a letter or digit: jieba's segmentation (dictionary only) for zh,
        from `rjieba` (jieba-rs: the same dictionary and route, identical words, ~20x
        faster than jieba's Python), whitespace tokens otherwise."""
        if self.lang == "zh":
            import rjieba

            return [w for w in rjieba.cut(self.text, hmm=False) if w.strip() and _HAS_ALNUM.search(w)]
        tokens = self.text.split()
        if not tokens:
            return []
        visible = ~self.spaces  # the tokens are the runs of visible characters
        starts = np.flatnonzero(visible & ~np.concatenate([[False], visible[:-1]]))
        return list(compress(tokens, np.logical_or.reduceat(self.alnum, starts).tolist()))

    def has_words(self, k: int) -> bool:
        """Whether the text has at least k words, segmenting only when the bound cannot tell."""
        return k <= self.fewest_words or len(self.words) >= k

    @cached_property
    def fewest_words(self) -> int:
        """A lower bound on `len(words)` that needs no segmenting. jieba cuts runs of
        `_JIEBA_BLOCK` characters apart and each alone; in a run, every word holding a CJK
        character is at most the dictionary's longest word; outside the runs, every letter
        or digit is a word of its own. Most documents then never need segmenting."""
        if self.lang != "zh":
            return 0
        c = self.cps
        han = (c >= 0x4E00) & (c <= 0x9FD5)
        block = han | (_JIEBA_BLOCK.take(np.minimum(c, 127)) & (c < 128))
        starts = block.copy()
        starts[1:] &= ~block[:-1]
        per_block = np.bincount(np.cumsum(starts)[han]) if han.any() else np.zeros(0, dtype=np.int64)
        alone = np.count_nonzero(self.alnum & ~block)
        return int((-(-per_block // LONGEST_DICTIONARY_WORD)).sum() + alone)

    @cached_property
    def most_words(self) -> int:
        """An upper bound on `len(words)`: every word holds a letter or a digit."""
        return int(np.count_nonzero(self.alnum))

    @property
    def lines(self) -> list[str]:
        return [line.strip() for line in self.text.split("\n") if line.strip()]


def word_count(s: Stats, c: FilterConfig) -> str | None:
    if s.has_words(c.min_words) and s.most_words <= c.max_words:
        return None
    n = len(s.words)
    if n < c.min_words:
        return f"too few words: {n} < {c.min_words}"
    if n > c.max_words:
        return f"too many words: {n} > {c.max_words}"
    return None


def mean_word_length(s: Stats, c: FilterConfig) -> str | None:
    if s.lang == "zh" or not s.words:
        return None
    mean = sum(map(len, s.words)) / len(s.words)
    if not c.min_mean_word_length <= mean <= c.max_mean_word_length:
        return f"mean word length: {mean:.1f} outside [{c.min_mean_word_length}, {c.max_mean_word_length}]"
    return None


def symbol_ratio(s: Stats, c: FilterConfig) -> str | None:
    symbols = len(_SYMBOLS.findall(s.text))
    if not symbols or s.has_words(math.ceil(symbols / c.max_symbol_ratio)):
        return None  # enough words that the ratio is within the limit
    ratio = symbols / max(1, len(s.words))
    return f"symbol ratio: {ratio:.2f} > {c.max_symbol_ratio}" if ratio > c.max_symbol_ratio else None


def digit_ratio(s: Stats, c: FilterConfig) -> str | None:
    visible = len(s.cps) - int(np.count_nonzero(s.spaces))
    ratio = int(np.count_nonzero(classify(s.cps, "digit"))) / max(1, visible)  # digits are never spaces
    return f"digit ratio: {ratio:.2f} > {c.max_digit_ratio}" if ratio > c.max_digit_ratio else None


def duplicate_lines(s: Stats, c: FilterConfig) -> str | None:
    lines = s.lines
    counts = Counter(lines)
    share = sum(n for n in counts.values() if n > 1) / max(1, len(lines))
    return f"duplicated lines: {share:.2f} > {c.max_duplicate_line_share}" if share > c.max_duplicate_line_share else None


def duplicate_paragraphs(s: Stats, c: FilterConfig) -> str | None:
    paras = [p.strip() for p in re.split(r"\n\s*\n", s.text) if p.strip()]
    counts = Counter(paras)
    share = sum(n for n in counts.values() if n > 1) / max(1, len(paras))
    limit = c.max_duplicate_paragraph_share
    return f"duplicated paragraphs: {share:.2f} > {limit}" if share > limit else None


def top_ngram_share(s: Stats, c: FilterConfig) -> str | None:
    """Characters covered by the most frequent word n-gram (characters for zh); of equally
    frequent n-grams the first in the text counts, as with `Counter.most_common`. Each
    n-gram is an integer id (the rank of its (n-1)-gram and its last unit), so counting is
    a sort. An n-gram is never more frequent than its (n-1)-gram prefix, so once no
    longer n-gram could pass a limit the rest is not counted: most documents stop at one."""
    if s.lang == "zh":
        ids = s.cps[~s.spaces].astype(np.int64)
        sizes = np.ones(len(ids), dtype=np.int64)
    else:
        index: dict[str, int] = {}
        ids = np.fromiter((index.setdefault(w, len(index)) for w in s.words), dtype=np.int64, count=len(s.words))
        sizes = np.fromiter(map(len, s.words), dtype=np.int64, count=len(s.words))
    if not len(ids):
        return None
    total = int(sizes.sum()) or 1
    ends = np.concatenate([[0], np.cumsum(sizes)])
    widest = {k: int((ends[k:] - ends[:-k]).max()) for k in c.max_top_ngram_share if k <= len(ids)}  # characters
    key, span = ids, sizes  # the n-gram starting at each position: its id, its characters
    top = int(np.max(np.unique(ids, return_counts=True)[1]))
    for n in range(2, max(c.max_top_ngram_share, default=1) + 1):
        m = len(ids) - n + 1
        if m <= 0 or all(top * chars <= c.max_top_ngram_share[k] * total for k, chars in widest.items() if k >= n):
            return None
        _, key = np.unique(key[:m] * (int(ids.max()) + 1) + ids[n - 1:], return_inverse=True)
        span = span[:m] + sizes[n - 1:]
        counts = np.bincount(key)
        top = int(counts.max())
        limit = c.max_top_ngram_share.get(n)
        if limit is not None:
            share = top * int(span[np.argmax(counts[key] == top)]) / total
            if share > limit and top > 1:
                return f"top {n}-gram share: {share:.2f} > {limit}"
    return None


def terminal_punctuation(s: Stats, c: FilterConfig) -> str | None:
    lines = s.lines
    if len(lines) < MIN_LINES_FOR_PUNCTUATION:
        return None
    share = sum(line.endswith(TERMINAL) for line in lines) / max(1, len(lines))
    limit = c.min_terminal_line_share
    return f"lines without terminal punctuation: {share:.2f} ending in it < {limit}" if share < limit else None


def char_runs(s: Stats, c: FilterConfig) -> str | None:
    """The first run of one non-space character `max_char_run` or more times in a row."""
    cps = s.cps
    if len(cps) < c.max_char_run:
        return None
    starts = np.flatnonzero(np.concatenate([[True], cps[1:] != cps[:-1]]))
    lengths = np.diff(np.append(starts, len(cps)))
    long = np.flatnonzero((lengths >= c.max_char_run) & ~s.spaces[starts])
    if not len(long):
        return None
    return f"repeated character: {chr(cps[starts[long[0]]])!r} {lengths[long[0]]} times in a row"


def cjk_share(s: Stats, c: FilterConfig) -> str | None:
    if s.lang != "zh":
        return None
    share = cjk_ratio_of(s.cps)
    return f"CJK share: {share:.2f} < {c.min_cjk_share}" if share < c.min_cjk_share else None


# Cheap rules first: most rejects never need jieba.
RULES: tuple[Callable[[Stats, FilterConfig], str | None], ...] = (
    cjk_share, char_runs, digit_ratio, duplicate_lines, duplicate_paragraphs, terminal_punctuation,
    top_ngram_share, word_count, mean_word_length, symbol_ratio)


def first_failure(text: str, lang: str, config: FilterConfig | None = None) -> str | None:
    """The first rule the document fails, or None to keep it."""
    stats = Stats(text, lang)
    config = config or FilterConfig.for_lang(lang)
    for rule in RULES:
        reason = rule(stats, config)
        if reason:
            return reason
    return None
