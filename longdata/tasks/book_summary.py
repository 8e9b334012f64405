"""book-summary: a whole book (or a part of it, cut at chapter boundaries) in, its summary out.

Summaries, first match wins, per part: user-given (`--summaries`, whole book or per
chapter); with an LLM, hierarchical (each chapter, then the part's chapters combined);
offline, the outline of informative chapter titles (the 回目 of a Chinese novel). A part
with none is rejected by name, never given an invented summary. A part holds whole
chapters, and instruction + text + summary fit `--max-tokens` (Qwen chat template).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator


from ..books import Book, Chapter, book_key, informative, read_books
from ..config import TaskConfig, option
from ..counts import Counts
from ..data import demo_books, demo_summaries
from ..documents import Document, RejectLog
from ..llm.requests import ChatRequest, ChatResolver
from ..prompts import load_template, prompt_hashes
from ..seeding import stable_hash
from ..tokens import get_counter
from .base import CHAT_COLUMNS, Result, Task

NAME = "book-summary"
SOURCES = ("given", "llm", "outline")

COLUMNS = {
    **CHAT_COLUMNS,
    "book_id": "string",
    "part": "int32",
    "num_parts": "int32",
    "chapters": ["int32"],
    "num_tokens": "int32",
    "summary_source": "string",
    "source": "string",
}


@dataclass
class BookSummaryConfig(TaskConfig):
    """One language and token budget of book-summary; named `<lang>-<budget>k`."""

    summaries: tuple[str, ...] = option((), "JSONL of given summaries, one book a line: `book` (the book id: "
                                            "file name or `book` field), `summary` and/or `chapter_summaries` "
                                            "(a list in chapter order, or {chapter number: text}); repeatable; "
                                            "default for the demo books: theirs", repeat=True)
    summary_tokens: int = option(1024, "tokens a part keeps free for a summary that is not given "
                                       "(LLM or outline)")
    section_tokens: int = option(4000, "a book without chapter headings is cut at paragraphs into sections "
                                       "of about this many tokens (at most a third of what a part holds)")


@dataclass(frozen=True)
class BookUnit:
    book: Book
    given: dict | None  # the book's line of a summaries file


@dataclass
class PartPlan:
    index: int
    chapters: tuple[Chapter, ...]
    given: str | None  # the target when summaries are given for every chapter (or the whole one-part book)
    given_kind: str  # "chapters", "whole" or "" (none given)
    labels: tuple[str, str]  # first and last chapter as the instruction names them


@dataclass
class PreparedBook:
    book: Book
    parts: list[PartPlan]
    counts: Counts = field(default_factory=Counts)


def label(chapter: Chapter) -> str:
    """`第一回`, `CHAPTER IV`: the heading without its title."""
    text = chapter.heading[: len(chapter.heading) - len(chapter.title)] if chapter.title else chapter.heading
    return text.strip(" 　.:：") or chapter.heading


def paragraph_sections(book: Book, cfg: BookSummaryConfig, counter) -> tuple[Chapter, ...]:
    """A book without headings, cut at paragraph boundaries into near-equal sections."""
    tpl = load_template(cfg.lang, "book_summary")
    paragraphs = [p for p in book.text.split("\n\n") if p.strip()]
    sizes = counter.count_batch(paragraphs)
    section = min(cfg.section_tokens, (cfg.max_tokens - cfg.summary_tokens) // 3)  # several fit in a part
    n = max(1, round(sum(sizes) / section))
    target = sum(sizes) / n
    sections, current, total = [], [], 0
    for para, size in zip(paragraphs, sizes):
        current.append(para)
        total += size
        if total >= target * (len(sections) + 1) and len(sections) < n - 1:
            sections.append(current)
            current = []
    sections.append(current)
    return tuple(Chapter(i + 1, tpl["section"].format(n=i + 1), "", "\n\n".join(s))
                 for i, s in enumerate(sections) if s)


def given_lines(unit: BookUnit, chapters: tuple[Chapter, ...], tpl: dict) -> dict[int, str]:
    """Chapter number -> the target line from given chapter summaries."""
    given = (unit.given or {}).get("chapter_summaries")
    if not given:
        return {}
    numbered = [c for c in chapters if c.number]
    if isinstance(given, list):
        pairs = zip(numbered, given)
    else:
        by_number = {str(k): v for k, v in given.items()}
        pairs = ((c, by_number.get(str(c.number))) for c in numbered)
    return {c.number: tpl["chapter_line"].format(heading=c.heading, summary=str(s).strip())
            for c, s in pairs if s and str(s).strip()}


def prepare_book(unit: BookUnit, cfg: BookSummaryConfig) -> PreparedBook:
    """Cut the book into parts of whole chapters that fit the budget with their summary.
    Each chapter is tokenized once here; the finished sample is counted once in `assemble`."""
    counter = get_counter(cfg.tokenizer)
    tpl = load_template(cfg.lang, "book_summary")
    counts = Counts()
    chapters = unit.book.chapters
    if unit.book.found_by == "none":
        chapters = paragraph_sections(unit.book, cfg, counter)
        counts.add("books", "no chapter headings: cut at paragraphs")
    counts.add("books", f"chapters from {unit.book.found_by}" if unit.book.found_by != "none" else "sections")
    counts.add("drops", "headings without text (contents)", unit.book.dropped_headings)
    lines = given_lines(unit, chapters, tpl)
    if chapters and chapters[0].number == 0 and 0 not in lines and not (unit.given or {}).get("summary"):
        chapters = chapters[1:]  # front matter no given summary describes
        counts.add("drops", "front matter without a summary")
    sizes = dict(zip(map(id, chapters), counter.count_batch([block(c) for c in chapters])))
    line_sizes = {n: counter.count(line) + 2 for n, line in lines.items()}
    overhead = counter.count(tpl["instruction_part"].format(book=unit.book.id, part=99, num_parts=99,
                                                            first=max((label(c) for c in chapters), key=len, default=""),
                                                            last=max((label(c) for c in chapters), key=len, default="")))
    room = cfg.max_tokens - overhead - 40 - cfg.max_tokens // 200  # chat template, separators, BPE seams

    def cost(part: list[Chapter], extra: Chapter | None = None) -> int:
        members = part + ([extra] if extra else [])
        text = sum(sizes[id(c)] + 2 for c in members)
        if all(c.number in lines for c in members):
            return text + sum(line_sizes[c.number] for c in members)
        return text + cfg.summary_tokens

    groups = _pack(list(chapters), cost, room, counts)
    whole = (unit.given or {}).get("summary")
    parts = []
    for i, group in enumerate(groups):
        target, kind = None, ""
        if all(c.number in lines for c in group):
            target, kind = "\n\n".join(lines[c.number] for c in group), "chapters"
        elif whole and len(groups) == 1 and len(group) == len(chapters):
            target, kind = str(whole).strip(), "whole"
        parts.append(PartPlan(i + 1, tuple(group), target, kind, (label(group[0]), label(group[-1]))))
    return PreparedBook(unit.book, parts, counts)


def block(chapter: Chapter) -> str:
    return f"{chapter.heading}\n\n{chapter.text}" if chapter.heading else chapter.text


def _pack(chapters: list[Chapter], cost, room: int, counts: Counts) -> list[list[Chapter]]:
    """Consecutive chapters into parts that fit `room`, near-equal in size: the greedy cut
    gives the number of parts n, then each part ends once it holds about 1/n of the book.
    A chapter that alone exceeds the room is dropped (counted); no part spans it."""
    fitting = []
    for c in chapters:
        if cost([c]) > room:
            counts.add("drops", "chapter longer than the budget")
            fitting.append(None)
        else:
            fitting.append(c)

    def greedy(limit: float | None) -> list[list[Chapter]]:
        parts: list[list[Chapter]] = []
        part: list[Chapter] = []
        done = 0.0
        for c in fitting:
            if c is None or (part and cost(part, c) > room):
                if part:
                    parts.append(part)
                part = []
                if c is None:
                    continue
            part.append(c)
            done += cost([c])
            if limit is not None and done >= limit * (len(parts) + 1) and c is not fitting[-1]:
                parts.append(part)
                part = []
        if part:
            parts.append(part)
        return parts

    first = greedy(None)
    if len(first) <= 1:
        return first
    total = sum(cost([c]) for c in fitting if c is not None)
    balanced = greedy(total / len(first))
    return balanced if len(balanced) <= len(first) else first


class BookSummaryTask(Task):
    """Books -> (part of) book text in, summary out."""

    name = NAME
    Config = BookSummaryConfig
    columns = COLUMNS
    source_columns = ("book_id",)
    description = "Whole books (or parts of whole chapters) with their summaries, for long-input summarisation."
    stats_columns = ("lang", "num_tokens", "num_parts", "summary_source")

    def demo_corpus(self, lang: str) -> list[Path]:
        return [demo_books(lang)]

    def split_key(self, doc: Document) -> str:
        return book_key(doc)

    def summary_files(self, cfg: BookSummaryConfig) -> list[str]:
        if cfg.summaries:
            return list(cfg.summaries)
        return [] if cfg.corpus else [str(demo_summaries(cfg.lang))]

    def input_paths(self, cfg: BookSummaryConfig) -> list[str]:
        return self.summary_files(cfg)

    def units(self, docs: Iterable[Document], cfg: BookSummaryConfig, rejects: RejectLog) -> Iterator[BookUnit]:
        given = load_summaries(self.summary_files(cfg), rejects)
        for book, sources in read_books(docs):
            if book.lang != cfg.lang:
                for doc in sources:
                    rejects.add_doc(doc, f"language: detected {book.lang}, building {cfg.lang}")
                continue
            yield BookUnit(book, given.get(book.id))

    def prepare(self, unit: BookUnit, cfg: BookSummaryConfig) -> PreparedBook:
        return prepare_book(unit, cfg)

    def requests(self, prep: PreparedBook, cfg: BookSummaryConfig, answers: dict) -> list[ChatRequest]:
        """Round 1: a summary of every chapter of a part without given summaries; round 2:
        each such part's chapter summaries combined."""
        tpl = load_template(cfg.lang, "book_summary")
        todo = [p for p in prep.parts if p.given is None]
        firsts = {c.number: chapter_request(c, tpl) for p in todo for c in p.chapters}
        if any(r.key not in answers for r in firsts.values()):
            return list(firsts.values())
        return [r for p in todo if (r := combine_request(p, tpl, answers)) is not None]

    def assemble(self, prep: PreparedBook, answers: dict, cfg: BookSummaryConfig) -> Result:
        counter = get_counter(cfg.tokenizer)
        tpl = load_template(cfg.lang, "book_summary")
        counts = Counts() + prep.counts
        samples = []
        for part in prep.parts:
            target, source = _target(part, prep, tpl, answers)
            if target is None:
                counts.add("part_rejects", "no summary source: none given, no LLM summary, chapter titles "
                                      "not informative")
                continue
            messages = [{"role": "user", "content": _instruction(part, prep, tpl, source) + "\n\n"
                         + "\n\n".join(block(c) for c in part.chapters)},
                        {"role": "assistant", "content": target}]
            num_tokens = counter.count_chat(messages)
            if num_tokens > cfg.max_tokens:
                counts.add("part_rejects", "over the budget after the exact count")
                continue
            counts.add("summary_sources", source)
            samples.append({
                "id": stable_hash(cfg.seed, prep.book.id, part.index, len(prep.parts))[:16],
                "messages": messages, "lang": prep.book.lang, "book_id": prep.book.id, "part": part.index,
                "num_parts": len(prep.parts), "chapters": [part.chapters[0].number, part.chapters[-1].number],
                "num_tokens": num_tokens, "summary_source": source, "source": Path(prep.book.source).name,
            })
        return Result(samples, counts)

    def resolver(self, cfg: BookSummaryConfig, options, chat):
        if chat is None:
            return None
        return ChatResolver(chat, options.llm_temperature, options.llm_max_tokens)

    def prompt_hashes(self, lang: str) -> dict[str, str]:
        return prompt_hashes(lang, ("book_summary.json",))

    def split_stats(self, table):
        from ..stats import base_stats

        sources = table.column("summary_source").to_pylist()
        return {**base_stats(table), "parts": sum(1 for n in table.column("num_parts").to_pylist() if n > 1),
                "sources": {s: sources.count(s) for s in SOURCES if s in sources}}

    def stats_markdown(self, config: str, by_split: dict) -> str:
        from ..stats import tokens_markdown

        table = tokens_markdown(config, by_split, [("samples from multi-part books", "parts")])
        sources = "\n".join(f"- {split}: " + ", ".join(f"{k} {v}" for k, v in s["sources"].items())
                            for split, s in by_split.items())
        return f"{table}\n\nSummary sources:\n\n{sources}"

    def summary_lines(self, train: dict, counts: Counts) -> list[str]:
        return ["summaries:        " + ", ".join(f"{k} {v}" for k, v in train["sources"].items())]


def chapter_request(chapter: Chapter, tpl: dict) -> ChatRequest:
    return ChatRequest.make(tpl["chapter_prompt"].format(text=block(chapter)))


def combine_request(part: PartPlan, tpl: dict, answers: dict) -> ChatRequest | None:
    summaries = [answers.get(chapter_request(c, tpl).key) for c in part.chapters]
    if any(s is None for s in summaries):
        return None  # a refused chapter: the part falls back to the outline (or is rejected)
    lines = [tpl["chapter_line"].format(heading=c.heading, summary=s) for c, s in zip(part.chapters, summaries)]
    return ChatRequest.make(tpl["combine_prompt"].format(summaries="\n".join(lines)))


def _target(part: PartPlan, prep: PreparedBook, tpl: dict, answers: dict) -> tuple[str | None, str]:
    if part.given is not None:
        return part.given, "given"
    request = combine_request(part, tpl, answers) if answers else None
    if request is not None and answers.get(request.key):
        return answers[request.key], "llm"
    if all(informative(c.title, prep.book.lang) for c in part.chapters):
        return "\n".join(tpl["outline_line"].format(heading=c.heading) for c in part.chapters), "outline"
    return None, ""


def _instruction(part: PartPlan, prep: PreparedBook, tpl: dict, source: str) -> str:
    whole = len(prep.parts) == 1
    if source == "outline":
        key = "outline_instruction" if whole else "outline_instruction_part"
    elif part.given_kind == "whole":
        key = "instruction_whole"
    else:
        key = "instruction" if whole else "instruction_part"
    return tpl[key].format(book=prep.book.id, part=part.index, num_parts=len(prep.parts),
                           first=part.labels[0], last=part.labels[1])


def load_summaries(paths: list[str], rejects: RejectLog) -> dict[str, dict]:
    """book id -> {summary, chapter_summaries}; bad lines are rejected with file and line."""
    out: dict[str, dict] = {}
    for path in paths:
        with open(path, encoding="utf-8-sig") as fh:
            for line_no, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as err:
                    rejects.add(Path(path).name, line_no, f"malformed JSON: {err.msg} at column {err.colno}")
                    continue
                if not isinstance(rec, dict) or "book" not in rec or not (rec.get("summary") or rec.get("chapter_summaries")):
                    rejects.add(Path(path).name, line_no, "summary record needs `book` and `summary` or "
                                                          "`chapter_summaries`")
                    continue
                out[str(rec["book"])] = rec
    return out
