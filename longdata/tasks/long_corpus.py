"""longdata-corpus: long documents for continued pre-training, cleaned and cut into chunks.

A document is kept when it has more than `--min-words` words (jieba words for zh,
whitespace words for en). Its cleaned text (see `clean.normalize`) is cut into chunks of
at most `--max-tokens` Qwen tokens at paragraph boundaries, a longer paragraph at
sentence boundaries (a longer sentence at characters). Chunks are exact slices:
joined in order they give back the cleaned text.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator


from ..chunking import chunk
from ..clean.normalize import clean_text
from ..config import TaskConfig, option
from ..counts import Counts
from ..data import demo_books
from ..documents import Document, RejectLog, split_source
from ..seeding import stable_hash
from ..text import word_count
from ..tokens import get_counter
from .base import Result, Task

NAME = "longdata-corpus"
DEFAULT_MIN_WORDS = 16000
DEMO_MIN_WORDS = 5000  # the bundled demo books are about 10k words long

COLUMNS = {
    "id": "string",
    "text": "string",
    "lang": "string",
    "doc_id": "string",
    "chunk": "int32",
    "num_chunks": "int32",
    "num_tokens": "int32",
    "num_words": "int32",
    "source": "string",
}


@dataclass
class LongCorpusConfig(TaskConfig):
    """One language and chunk budget of longdata-corpus; named `<lang>-<budget>k`."""

    min_words: int | None = option(None, f"keep documents with more words than this (default {DEFAULT_MIN_WORDS}; "
                                         f"{DEMO_MIN_WORDS} for the bundled demo books)")
    max_repeats: int = option(4, "a character or short string repeated more often is cut to this many copies")

    def threshold(self) -> int:
        if self.min_words is not None:
            return self.min_words
        return DEFAULT_MIN_WORDS if self.corpus else DEMO_MIN_WORDS


class LongCorpusTask(Task):
    """Documents -> cleaned chunks of long documents (a `text` column, for `--phase pretrain`)."""

    name = NAME
    Config = LongCorpusConfig
    columns = COLUMNS
    source_columns = ("doc_id",)
    description = "Long documents (over 16k words) for continued pre-training, cleaned and cut at paragraphs."
    stats_columns = ("lang", "num_tokens", "num_words", "num_chunks", "doc_id")

    def demo_corpus(self, lang: str) -> list[Path]:
        return [demo_books(lang)]

    def units(self, docs: Iterable[Document], cfg: LongCorpusConfig, rejects: RejectLog) -> Iterator[Document]:
        for doc in docs:
            if doc.lang != cfg.lang:
                rejects.add_doc(doc, f"language: detected {doc.lang}, building {cfg.lang}")
            elif len(doc.text if doc.lang == "zh" else doc.text.split()) <= cfg.threshold():
                # a Chinese word has at least one character: too few characters, too few words
                rejects.add_doc(doc, f"too short: at most {cfg.threshold()} words (--min-words)")
            else:
                yield doc

    def prepare(self, doc: Document, cfg: LongCorpusConfig) -> Result:
        counter = get_counter(cfg.tokenizer)
        text, counts = clean_text(doc.text, cfg.max_repeats)
        chunks = chunk(text, doc.lang, cfg.max_tokens, counter)
        words = [word_count(body, doc.lang) for body, _ in chunks]
        if sum(words) <= cfg.threshold():
            return Result([], counts, [(doc, f"too short: {sum(words)} words <= {cfg.threshold()} (--min-words)")])
        file = split_source(doc.source)[0]
        samples = [{"id": stable_hash(doc.id, i)[:16], "text": body, "lang": doc.lang, "doc_id": doc.id, "chunk": i,
                    "num_chunks": len(chunks), "num_tokens": n, "num_words": w, "source": Path(file).name}
                   for i, ((body, n), w) in enumerate(zip(chunks, words))]
        counts.add("documents", "kept")
        return Result(samples, counts)

    def assemble(self, prep: Result, answers: dict, cfg: LongCorpusConfig) -> Result:
        return prep

    def not_enough(self, cfg: LongCorpusConfig, rejects: RejectLog) -> str:
        return (f"no {cfg.lang} document has more than {cfg.threshold()} words ({rejects.total} rejected: "
                f"{dict(rejects.counts)}); give longer documents with --corpus or lower --min-words")

    def split_stats(self, table):
        from ..stats import base_stats, column, spread

        return {**base_stats(table), "num_words": spread(column(table, "num_words")),
                "documents": len(set(table.column("doc_id").to_pylist()))}

    def stats_markdown(self, config: str, by_split: dict) -> str:
        from ..stats import tokens_markdown

        return tokens_markdown(config, by_split, [("documents", "documents"), ("words per chunk (mean)", "num_words")])

    def plots(self, table, title: str) -> dict[str, bytes]:
        from ..stats import token_plot

        return {"tokens": token_plot(table, title, what="chunk")}

    def summary_lines(self, train: dict, counts: Counts) -> list[str]:
        return [f"documents:        {train['documents']} (words per chunk: mean {train['num_words']['mean']:.0f})"]
