"""Bytes to text for corpus files: BOMs, UTF-8, and the legacy encodings Chinese (and
Western) text comes in (GB18030/GBK, Big5, cp1252), found by `charset-normalizer`.

A detector always names *some* encoding, even for random bytes (cp949 decodes almost any
byte pairs), so a guess is accepted only when it is one of `LEGACY` and the text it gives
is plausible (almost no control characters); otherwise the bytes are undecodable and the
caller rejects them by name.
"""
from __future__ import annotations

import codecs
import unicodedata

BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
SNIFF_BYTES = 256 * 1024  # what the detector reads of a file
MAX_CONTROL_SHARE = 0.005
LEGACY = {"gb18030": "gb18030", "gbk": "gb18030", "gb2312": "gb18030", "big5": "big5", "big5hkscs": "big5hkscs",
          "cp950": "cp950", "cp1252": "cp1252", "cp1250": "cp1252", "latin_1": "cp1252", "iso8859_15": "cp1252"}


def bom_encoding(data: bytes) -> str | None:
    return next((enc for bom, enc in BOMS if data.startswith(bom)), None)


def plausible(text: str) -> bool:
    """Decoded text, not noise: control characters (other than tab and newlines) are rare."""
    if not text:
        return True
    control = sum(1 for ch in text if ch not in "\t\n\r" and unicodedata.category(ch) in ("Cc", "Co", "Cs"))
    return control / len(text) <= MAX_CONTROL_SHARE and "\ufffd" not in text


def detect(data: bytes) -> str | None:
    """The encoding of bytes that are not UTF-8, or None when no guess gives plausible text."""
    from charset_normalizer import from_bytes

    best = from_bytes(data[:SNIFF_BYTES]).best()
    if best is None or best.encoding not in LEGACY:
        return None
    encoding = LEGACY[best.encoding]  # GB18030 is GBK's superset: decodes every GBK text the same way
    try:
        return encoding if plausible(data[:SNIFF_BYTES].decode(encoding, errors="strict")) else None
    except (UnicodeDecodeError, LookupError):
        # the sample may end inside a multi-byte character: judge what decodes
        return encoding if plausible(data[:SNIFF_BYTES].decode(encoding, errors="ignore")) else None


def decode(data: bytes) -> tuple[str, str] | None:
    """(text, encoding) of a whole file's bytes, or None when they cannot be read as text.
    Newlines are normalised: CRLF and lone CR become LF."""
    encoding = bom_encoding(data) or "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        encoding = detect(data)
        if encoding is None:
            return None
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            return None
        if not plausible(text):
            return None
    return normalize_newlines(text), encoding.replace("-sig", "")


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
