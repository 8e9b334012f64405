"""paper-summary: a paper's body in (no abstract, keywords or references), its abstract out.

Authors often repeat abstract sentences in the introduction: every sentence of the
target abstract found verbatim in the body is removed from it (counted), so the answer
cannot be copied from the prompt. A body over the budget is cut at section boundaries,
keeping the start (recorded in `truncated`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator


from ..config import TaskConfig, option
from ..counts import Counts
from ..data import demo_papers
from ..documents import Document, ReadOptions, RejectLog, split_source
from ..papers import Paper, from_document, sections
from ..prompts import load_template, prompt_hashes
from ..seeding import stable_hash
from ..text import split_sentences
from ..tokens import get_counter
from .base import CHAT_COLUMNS, Result, Task

NAME = "paper-summary"
MIN_SENTENCE_CHARS = 8  # shorter "sentences" (a number, a label) are not evidence of copying

COLUMNS = {
    **CHAT_COLUMNS,
    "paper_id": "string",
    "title": "string",
    "num_tokens": "int32",
    "removed_sentences": "int32",
    "truncated": "bool",
    "source": "string",
}


@dataclass
class PaperConfig(TaskConfig):
    """Papers as records (`title`, `abstract`, body in the text field) or raw text."""

    text_field: str = option("body", "field holding the paper body (or the whole raw text)")
    title_field: str = option("title", "field holding the title")
    abstract_field: str = option("abstract", "field holding the abstract (absent: parse the raw text)")


class PaperTask(Task):
    """What both paper datasets share: the reader, the demo papers, splits by paper."""

    def demo_corpus(self, lang: str) -> list[Path]:
        return [demo_papers(lang)]

    def read_options(self, cfg: PaperConfig) -> ReadOptions:
        return ReadOptions(cfg.text_field, cfg.id_field, empty_reason="no body: the record has an empty paper body")

    def units(self, docs: Iterable[Document], cfg: PaperConfig, rejects: RejectLog) -> Iterator[Paper]:
        for doc in docs:
            if doc.lang != cfg.lang:
                rejects.add_doc(doc, f"language: detected {doc.lang}, building {cfg.lang}")
                continue
            paper = from_document(doc, cfg.title_field, cfg.abstract_field)
            if isinstance(paper, str):
                rejects.add_doc(doc, paper)
            else:
                yield paper

    def prompt_hashes(self, lang: str) -> dict[str, str]:
        return prompt_hashes(lang, ("paper.json",) + self.extra_prompts)

    extra_prompts: tuple[str, ...] = ()


def fit_sections(parts: list[str], room: int, counter) -> tuple[list[str], bool]:
    """The leading sections that fit `room` tokens (each section counted once)."""
    kept, used = [], 0
    for part, n in zip(parts, counter.count_batch(parts)):
        if used + n + 2 > room:
            return kept, True
        kept.append(part)
        used += n + 2
    return kept, False


def without_abstract_sentences(body: str, abstract: str, lang: str) -> tuple[str, int]:
    """The body with every verbatim occurrence of an abstract sentence removed."""
    removed = 0
    for sentence in split_sentences(abstract, lang):
        if len(sentence) >= MIN_SENTENCE_CHARS and sentence in body:
            removed += body.count(sentence)
            body = body.replace(sentence, "")
    return body, removed


class PaperSummaryTask(PaperTask):
    """Papers -> body in, abstract out."""

    name = NAME
    Config = PaperConfig
    columns = COLUMNS
    source_columns = ("paper_id",)
    description = "Paper bodies with their abstracts as targets; abstract sentences repeated in the body removed."
    stats_columns = ("lang", "num_tokens", "removed_sentences", "truncated")

    def prepare(self, paper: Paper, cfg: PaperConfig) -> Result:
        counter = get_counter(cfg.tokenizer)
        tpl = load_template(cfg.lang, "paper")
        counts = Counts()
        body, removed = without_abstract_sentences(paper.body, paper.abstract, paper.lang)
        counts.add("removed", "abstract sentences found in the body", removed)
        instruction = tpl["summary_instruction"].format(title=paper.title)
        fixed = counter.count_chat([{"role": "user", "content": instruction},
                                    {"role": "assistant", "content": paper.abstract}])
        kept, truncated = fit_sections(sections(body), cfg.max_tokens - fixed - 8, counter)
        while kept:
            messages = [{"role": "user", "content": instruction + "\n\n" + "\n\n".join(kept)},
                        {"role": "assistant", "content": paper.abstract}]
            num_tokens = counter.count_chat(messages)
            if num_tokens <= cfg.max_tokens:
                break
            kept, truncated = kept[:-1], True
        if not kept:
            return Result([], counts.add("paper_rejects", "first section longer than the budget"))
        counts.add("papers", "truncated at a section boundary" if truncated else "whole body")
        sample = {"id": stable_hash(cfg.seed, paper.id)[:16], "messages": messages, "lang": paper.lang,
                  "paper_id": paper.id, "title": paper.title, "num_tokens": num_tokens, "removed_sentences": removed,
                  "truncated": truncated, "source": Path(split_source(paper.source)[0]).name}
        return Result([sample], counts)

    def assemble(self, prep: Result, answers: dict, cfg: PaperConfig) -> Result:
        return prep

    def split_stats(self, table):
        from ..stats import base_stats

        truncated = table.column("truncated").to_pylist()
        removed = table.column("removed_sentences").to_pylist()
        return {**base_stats(table), "truncated": sum(truncated) / max(1, len(truncated)),
                "removed_sentences": sum(removed)}

    def stats_markdown(self, config: str, by_split: dict) -> str:
        from ..stats import tokens_markdown

        return tokens_markdown(config, by_split, [("truncated", "truncated"),
                                                  ("abstract sentences removed from bodies", "removed_sentences")])

    def summary_lines(self, train: dict, counts: Counts) -> list[str]:
        return [f"papers:           {train['truncated']:.0%} truncated; {train['removed_sentences']} abstract "
                "sentences removed from bodies"]
