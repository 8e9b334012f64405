"""Books: chapters found in plain text, or read from chapter files.

A `.txt` book is one document; its chapter headings are found by line patterns
(`第X回/章/节/卷` with Chinese or Arabic numerals, `楔子`/`序章`/`尾声`, `Chapter N`,
`CHAPTER IV`, a roman numeral line such as `IV. THE RED-HEADED LEAGUE`). A table of
contents (headings with no text under them) is dropped, and lends its titles to
chapters whose heading is a bare number when it names as many chapters. A chapter file is `.jsonl` with
`chapter, title, text` per line, one book per file or a `book` field.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Iterable, Iterator

from .documents import Document, split_source

_ZH_NUM = "一二三四五六七八九十百千零〇两"
ZH_HEADING = re.compile(rf"^(第[{_ZH_NUM}\d]+[回章节卷]|楔子|序章|序幕|引子|尾声)(?:[\s　:：、.]+(.*))?$")
EN_HEADING = re.compile(r"^((?:CHAPTER|Chapter|BOOK|Book|PART|Part)\s+(?:\d+|[IVXLCDM]+|[A-Za-z]+-?[A-Za-z]*)"
                        r"|[IVXLC]+)[.:\]]*(?:\s+(.*))?$")
MAX_HEADING_CHARS = 120
MIN_FRONT_MATTER_CHARS = 2000  # shorter text before the first heading (title, contents) is not a chapter
_ROMAN = re.compile(r"^[IVXLC]+$")


@dataclass(frozen=True)
class Chapter:
    """`number` counts from 1 (0: front matter long enough to keep); `heading` is the line
    as written (`第一回 甄士隐梦幻识通灵 贾雨村风尘怀闺秀`), `title` its informative part."""

    number: int
    heading: str
    title: str
    text: str


@dataclass(frozen=True)
class Book:
    id: str
    lang: str
    source: str
    chapters: tuple[Chapter, ...]
    found_by: str  # "headings", "chapter file" or "none" (no headings: the caller cuts it)
    dropped_headings: int = 0  # contents lines and other headings without text

    @property
    def text(self) -> str:
        return "\n\n".join(f"{c.heading}\n\n{c.text}" if c.heading else c.text for c in self.chapters)


def _heading(line: str, lang: str) -> tuple[str, str] | None:
    """(heading, informative title) when the line is a chapter heading."""
    line = line.strip()
    if not line or len(line) > MAX_HEADING_CHARS:
        return None
    m = (ZH_HEADING if lang == "zh" else EN_HEADING).match(line)
    if not m:
        return None
    title = (m.group(2) or "").strip(" 　.:：]")
    if lang != "zh" and _ROMAN.match(m.group(1)) and title and not title[:1].isupper():
        return None  # "I think so." is prose, not a heading
    return " ".join(line.split()), title


def split_chapters(text: str, lang: str) -> tuple[list[Chapter], int]:
    """Chapters of a plain-text book and how many headings were dropped (contents lines)."""
    lines = text.split("\n")
    marks: list[tuple[int, str, str]] = []  # (line index, heading, title)
    for i, line in enumerate(lines):
        found = _heading(line, lang)
        if found:
            marks.append((i, *found))
    chapters: list[Chapter] = []
    dropped = 0
    if not marks:
        return [], 0
    front = ["\n".join(lines[:marks[0][0]]).strip()]
    labels = [_label(h, t) for _, h, t in marks]
    has_body = [bool("\n".join(lines[i + 1:(marks[k + 1][0] if k + 1 < len(marks) else len(lines))]).strip())
                for k, (i, _, _) in enumerate(marks)]
    contents: dict[str, str] = {}  # label -> title, from headings without text (a table of contents)
    run_start = None  # first heading of the current run of headings without text
    for k, (i, heading, title) in enumerate(marks):
        end = marks[k + 1][0] if k + 1 < len(marks) else len(lines)
        body = "\n".join(lines[i + 1:end]).strip()
        if not body:
            dropped += 1
            contents[labels[k]] = title or contents.get(labels[k], "")
            run_start = k if run_start is None else run_start
            continue
        nxt = next((j for j in range(k + 1, len(marks)) if has_body[j]), None)
        if run_start is not None and k - run_start >= 3 and nxt is not None and labels[nxt] == labels[run_start]:
            # the last line of a table of contents: its "text" is what precedes the real chapter 1
            dropped += 1
            front.append(f"{heading}\n{body}")
        else:
            chapters.append(Chapter(len(chapters) + 1, heading, title, body))
        run_start = None
    if contents and len(contents) >= len(chapters) - 1:  # contents lines name the chapters: lend their titles
        chapters = [c if c.title or not contents.get(_label(c.heading, "")) else
                    Chapter(c.number, f"{c.heading} {contents[_label(c.heading, '')]}", contents[_label(c.heading, "")],
                            c.text) for c in chapters]
    front_text = "\n\n".join(f for f in front if f)
    if len(front_text) >= MIN_FRONT_MATTER_CHARS:
        chapters.insert(0, Chapter(0, "", "", front_text))
    return chapters, dropped


def _label(heading: str, title: str) -> str:
    """The number part of a heading (`CHAPTER IV`), to tell a contents line from its chapter."""
    return " ".join((heading[: len(heading) - len(title)] if title else heading).strip(" 　.:：]").upper().split())


def book_key(doc: Document) -> str:
    """The book a document belongs to: its `book` field, else its file (without `.chapters`)."""
    if "book" in doc.meta:
        return str(doc.meta["book"])
    file = split_source(doc.source)[0]
    name = PurePosixPath(file).name
    for suffix in (".jsonl.gz", ".jsonl", ".parquet", ".txt"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name.removesuffix(".chapters")


def is_chapter_record(doc: Document) -> bool:
    return "chapter" in doc.meta or "title" in doc.meta


def read_books(docs: Iterable[Document]) -> Iterator[tuple[Book, list[Document]]]:
    """Books from a document stream, one at a time (with the documents they came from):
    a `.txt` document is a book; consecutive chapter records of one book are a book."""
    pending: list[Document] = []

    def flush() -> Iterator[tuple[Book, list[Document]]]:
        if pending:
            yield _from_chapter_records(pending), list(pending)
            pending.clear()

    for doc in docs:
        if not is_chapter_record(doc):
            yield from flush()
            chapters, dropped = split_chapters(doc.text, doc.lang)
            found = "headings" if chapters else "none"  # "none": the whole text as one chapter, to be cut
            yield Book(book_key(doc), doc.lang, doc.source, tuple(chapters or [Chapter(1, "", "", doc.text)]), found,
                       dropped), [doc]
            continue
        if pending and book_key(pending[-1]) != book_key(doc):
            yield from flush()
        pending.append(doc)
    yield from flush()


def _from_chapter_records(docs: list[Document]) -> Book:
    lang = Counter(d.lang for d in docs).most_common(1)[0][0]
    chapters = []
    for i, d in enumerate(docs):
        heading = str(d.meta.get("title", "")).strip()
        found = _heading(heading, lang) if heading else None
        title = found[1] if found else heading
        number = int(d.meta["chapter"]) if str(d.meta.get("chapter", "")).isdigit() else i + 1
        chapters.append(Chapter(number, heading, title, d.text))
    return Book(book_key(docs[0]), lang, split_source(docs[0].source)[0], tuple(chapters),
                "chapter file")


def informative(title: str, lang: str) -> bool:
    """A title says what happens (a 回目, `A Scandal in Bohemia`), not just a number."""
    if lang == "zh":
        return len(re.findall(r"[\u4e00-\u9fff]", title)) >= 4
    return len(re.findall(r"[A-Za-z]{2,}", title)) >= 2
