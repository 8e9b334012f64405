"""Character classes of whole texts on numpy: one table lookup per code point instead of a
Python call or a regular-expression step per character (10-50x faster on a document).

The tables cover the Basic Multilingual Plane (built once per process, ~10 ms each);
the rare code points above it are asked one by one, so every answer is the `str`
method's own.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

_BMP = 0x10000
_TESTS = {"alnum": str.isalnum, "space": str.isspace, "digit": str.isdigit}


def codepoints(text: str) -> np.ndarray:
    """The text as uint32 code points (lone surrogates included, as JSON can hold them)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


@lru_cache(maxsize=None)
def _table(kind: str) -> np.ndarray:
    test = _TESTS[kind]
    return np.fromiter((test(chr(c)) for c in range(_BMP)), dtype=bool, count=_BMP)


def classify(cps: np.ndarray, kind: str) -> np.ndarray:
    """`str.is<kind>()` of each code point: kind is alnum, space or digit. `alnum` is what
    the regular expression `\\w` matches, less `_`."""
    out = _table(kind).take(np.minimum(cps, _BMP - 1))
    astral = np.flatnonzero(cps >= _BMP)
    if len(astral):
        test = _TESTS[kind]
        out[astral] = [test(chr(c)) for c in cps[astral].tolist()]
    return out


def cjk(cps: np.ndarray) -> np.ndarray:
    """CJK unified ideographs (extension A, the main block, compatibility ideographs)."""
    return ((cps >= 0x3400) & (cps <= 0x4DBF)) | ((cps >= 0x4E00) & (cps <= 0x9FFF)) | \
        ((cps >= 0xF900) & (cps <= 0xFAFF))


def latin(cps: np.ndarray) -> np.ndarray:
    """ASCII letters."""
    low = cps | 0x20  # A-Z onto a-z; nothing else lands in a-z
    return (low >= 0x61) & (low <= 0x7A)
