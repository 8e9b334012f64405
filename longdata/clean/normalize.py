"""Whitespace and repetition clean-up for long documents, each change counted.

- runs of one character or a short string (up to 4 characters) repeated more than
  `max_repeats` times are cut to `max_repeats` copies (`！！！！！！！！` -> `！！！！`,
  `哈哈哈哈哈哈哈哈` -> `哈哈哈哈`, `=-=-=-=-=-=-` -> `=-=-=-=-`);
- whitespace: tabs and runs of spaces inside a line become one space, leading and
  trailing spaces of lines go (indentation of Chinese paragraphs included), full-width
  spaces count as spaces, and more than one blank line becomes one.
"""
from __future__ import annotations

import re

from ..counts import Counts

_INLINE_SPACE = re.compile(r"[ \t\u3000\u00a0]{2,}|\t")
_EDGE_SPACE = re.compile(r"^[ \t\u3000\u00a0]+|[ \t\u3000\u00a0]+$", re.M)
_BLANK_LINES = re.compile(r"\n{3,}")


def _repeats(max_repeats: int) -> re.Pattern:
    return re.compile(r"(\S{1,4}?)\1{%d,}" % max_repeats)


def clean_text(text: str, max_repeats: int = 4) -> tuple[str, Counts]:
    """The cleaned text and how many of each change were made."""
    counts = Counts()
    text, n = _repeats(max_repeats).subn(lambda m: m.group(1) * max_repeats, text)
    counts.add("cleaning", "repeated runs collapsed", n)
    text, n = _EDGE_SPACE.subn("", text)
    counts.add("cleaning", "line-edge spaces removed", n)
    text, n = _INLINE_SPACE.subn(" ", text)
    counts.add("cleaning", "space runs collapsed", n)
    text, n = _BLANK_LINES.subn("\n\n", text)
    counts.add("cleaning", "blank-line runs collapsed", n)
    return text.strip(), counts
