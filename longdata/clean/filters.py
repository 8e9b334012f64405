"""Per-document quality rules for zh and en, in the style of Gopher, C4 and FineWeb-2.

Each rule answers None (keep) or a named reason (`"symbol ratio: 0.21 > 0.1"`), like
datatrove's filters; `first_failure` runs them in order and the caller logs the reason.
Thresholds live in one documented config with per-language defaults (FineWeb-2's
Chinese settings count Chinese marks as terminal punctuation and measure "words" with
jieba, which only the rules that need words call).
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from ..text import cjk_ratio

TERMINAL = tuple(".!?\"'”’。．！？…；;」』）)")
MIN_LINES_FOR_PUNCTUATION = 3  # a one-line news article ending in its byline is not boilerplate
_SYMBOLS = re.compile(r"#|\.\.\.|…")


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
    """What the rules look at, computed once per document."""

    text: str
    lang: str
    _words: list[str] | None = None

    @property
    def words(self) -> list[str]:
        if self._words is None:
            if self.lang == "zh":
                from ..text import _jieba

                self._words = [w for w in _jieba().cut(self.text, HMM=False) if w.strip() and any(c.isalnum() for c in w)]
            else:
                self._words = [w for w in self.text.split() if any(c.isalnum() for c in w)]
        return self._words

    @property
    def lines(self) -> list[str]:
        return [line.strip() for line in self.text.split("\n") if line.strip()]


def word_count(s: Stats, c: FilterConfig) -> str | None:
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
    ratio = len(_SYMBOLS.findall(s.text)) / max(1, len(s.words))
    return f"symbol ratio: {ratio:.2f} > {c.max_symbol_ratio}" if ratio > c.max_symbol_ratio else None


def digit_ratio(s: Stats, c: FilterConfig) -> str | None:
    chars = [ch for ch in s.text if not ch.isspace()]
    ratio = sum(ch.isdigit() for ch in chars) / max(1, len(chars))
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
    """Characters covered by the most frequent word n-gram (characters for zh)."""
    units = list(re.sub(r"\s+", "", s.text)) if s.lang == "zh" else s.words
    total = sum(map(len, units)) or 1
    for n, limit in sorted(c.max_top_ngram_share.items()):
        grams = Counter(tuple(units[i:i + n]) for i in range(len(units) - n + 1))
        if not grams:
            continue
        gram, count = grams.most_common(1)[0]
        share = count * sum(map(len, gram)) / total
        if share > limit and count > 1:
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
    m = re.search(r"(\S)\1{%d,}" % (c.max_char_run - 1), s.text)
    return f"repeated character: {m.group(1)!r} {len(m.group())} times in a row" if m else None


def cjk_share(s: Stats, c: FilterConfig) -> str | None:
    if s.lang != "zh":
        return None
    share = cjk_ratio(s.text)
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
