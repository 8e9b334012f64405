"""Papers: title, abstract and body (sections kept), from structured records or raw text.

A record with an `abstract` field (and the body in the text field, `body` by default) is
taken as it is. Raw text (a `.txt` file, or a record without `abstract`) is split: the
abstract after `摘要`/`Abstract`, the keywords line (`关键词`/`Keywords`/`Key words`), and
the reference list from `参考文献`/`References`/`Bibliography` on are found and taken out
of the body. Section headings (`## 2 Methods`, `2 Methods`, `二、方法`) stay in the body.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .documents import Document

_ABSTRACT = re.compile(r"^\s*(?:摘\s*要|abstract)\s*[:：.]?\s*(.*)$", re.I)
_KEYWORDS = re.compile(r"^\s*(?:关键词|关键字|key\s*words?)\s*[:：]", re.I)
_REFERENCES = re.compile(r"^\s*(?:#+\s*)?(?:\d+\s*)?(?:参考文献|references|bibliography)\s*[:：]?\s*$", re.I)
_HEADING = re.compile(r"^\s*(?:#{1,4}\s+\S.*|\d+(?:\.\d+)*\.?\s+\S.{0,80}|[一二三四五六七八九十]+、\S.{0,40})$")


@dataclass(frozen=True)
class Paper:
    id: str
    lang: str
    title: str
    abstract: str
    body: str
    source: str
    parsed_from: str  # "fields" or "raw text"


def sections(body: str) -> list[str]:
    """The body cut before each heading line (each section keeps its heading)."""
    out, current = [], []
    for line in body.split("\n"):
        if _HEADING.match(line) and any(x.strip() for x in current):
            out.append("\n".join(current).strip("\n"))
            current = []
        current.append(line)
    if any(x.strip() for x in current):
        out.append("\n".join(current).strip("\n"))
    return out


def from_document(doc: Document, title_field: str = "title", abstract_field: str = "abstract") -> Paper | str:
    """The paper of a record, or the reason it is not one (`no body`, `no abstract`)."""
    title = str(doc.meta.get(title_field, "")).strip()
    if abstract_field in doc.meta:
        abstract = str(doc.meta.get(abstract_field) or "").strip()
        body, _ = _drop_references(doc.text)
        parsed = "fields"
    else:
        title_line, abstract, body = _split_raw(doc.text)
        title = title or title_line
        parsed = "raw text"
    if not abstract:
        return "no abstract: no `abstract` field and no 摘要/Abstract section"
    if len(body.strip()) < 200:
        return "no body: the paper has no text besides its abstract"
    return Paper(doc.id, doc.lang, title, abstract, body.strip(), doc.source, parsed)


def _drop_references(text: str) -> tuple[str, str]:
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if _REFERENCES.match(line) and i > len(lines) // 3:
            return "\n".join(lines[:i]).rstrip(), "\n".join(lines[i + 1:])
    return text, ""


def _split_raw(text: str) -> tuple[str, str, str]:
    """(title, abstract, body) of a paper in plain text."""
    text, _ = _drop_references(text)
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if _ABSTRACT.match(line)), None)
    if start is None:
        return (lines[0].strip() if lines else ""), "", text
    title = next((line.strip() for line in lines[:start] if line.strip()), "")
    first = _ABSTRACT.match(lines[start]).group(1).strip()
    abstract_lines, i = ([first] if first else []), start + 1
    while i < len(lines):
        line = lines[i]
        if _KEYWORDS.match(line) or _HEADING.match(line) or (not line.strip() and abstract_lines):
            break
        if line.strip():
            abstract_lines.append(line.strip())
        i += 1
    while i < len(lines) and (not lines[i].strip() or _KEYWORDS.match(lines[i])):
        i += 1
    joiner = "" if abstract_lines and re.search(r"[\u4e00-\u9fff]$", abstract_lines[0]) else " "
    return title, joiner.join(abstract_lines), "\n".join(lines[i:])
