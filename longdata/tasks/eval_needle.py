"""eval-needle: fictional facts hidden at set depths in a haystack of held-out text.

A grid of haystack lengths x depths x needle counts. Needles are made-up facts (invented
people, places, numbers), so no model knows them beforehand; the haystack is held-out
text cut at sentence boundaries (`。！？` as well as `.`), and each needle goes in at the
sentence boundary nearest to its asked depth. The depth actually reached (share of the
haystack's tokens before the needle) is recorded. With several needles the first is at
the asked depth and the others spread evenly after it; the question asks for all.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Iterator


from ..config import option
from ..counts import Counts
from ..documents import Document, RejectLog
from ..mixing import _tokens
from ..prompts import load_template, prompt_hashes, quote_marks
from ..seeding import rng_for, stable_hash
from ..text import split_sentences
from ..tokens import get_counter
from .base import CHAT_COLUMNS, Result
from .eval_base import EvalConfig, EvalTask

NAME = "eval-needle"

COLUMNS = {
    **CHAT_COLUMNS,
    "num_tokens": "int32",
    "length": "int32",
    "depth": "float32",
    "depths_reached": ["float32"],
    "num_needles": "int32",
    "needles": ["string"],
    "needle_sentences": ["string"],
    "question": "string",
    "source_ids": ["string"],
}


def _int_list(text: str, flag: str, parse=int) -> list[int]:
    try:
        values = [parse(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"{flag}: expected numbers separated by commas, got {text!r}") from None
    if not values:
        raise ValueError(f"{flag}: expected at least one value")
    return values


@dataclass
class NeedleConfig(EvalConfig):
    """The grid: haystack lengths x depths x needle counts, `repeats` samples per cell."""

    lengths: str = option("", "haystack lengths in tokens (whole samples, e.g. 2k,4k,8k); default: 2k, 4k, ... up "
                              "to the budget")
    depths: str = option("0,10,20,30,40,50,60,70,80,90,100", "depths in percent of the haystack")
    needles: str = option("1,3", "needle counts: 1 for single-needle, more for multi-needle samples")
    repeats: int = option(1, "samples per grid cell, each with other needles")

    def __post_init__(self) -> None:
        super().__post_init__()
        for n in self.length_list():
            if not 512 <= n <= self.max_tokens:
                raise ValueError(f"--lengths: {n} is not within 512..--max-tokens ({self.max_tokens})")
        if any(not 0 <= d <= 100 for d in self.depth_list()):
            raise ValueError("--depths must be percentages in 0..100")
        if any(not 1 <= k <= 8 for k in self.needle_counts()) or self.repeats < 1:
            raise ValueError("--needles must be 1..8 and --repeats at least 1")

    def length_list(self) -> list[int]:
        if self.lengths:
            return _int_list(self.lengths, "--lengths", _tokens)
        out = [2048]
        while out[-1] * 2 < self.max_tokens:
            out.append(out[-1] * 2)
        return sorted({*out, self.max_tokens})

    def depth_list(self) -> list[float]:
        return _int_list(self.depths, "--depths", float)

    def needle_counts(self) -> list[int]:
        return _int_list(self.needles, "--needles")


@dataclass(frozen=True)
class Haystack:
    """Held-out sentences (each with its token count and document) long enough for the grid."""

    sentences: tuple[str, ...]
    tokens: tuple[int, ...]
    doc_ids: tuple[str, ...]


@dataclass(frozen=True)
class Cell:
    haystack: Haystack
    length: int
    depth: float
    num_needles: int
    repeat: int


def make_needles(lang: str, k: int, rng) -> list[tuple[str, str, str]]:
    """k (fact sentence, question, key value) with distinct people, from the templates."""
    spec = load_template(lang, "eval")["needles"]
    people = rng.sample(spec["person"], k)
    out = []
    for person in people:
        tpl = rng.choice(spec["facts"])
        fields = {"person": person, "place": rng.choice(spec["place"]), "tree": rng.choice(spec["tree"]),
                  "song": rng.choice(spec["song"]), "word": rng.choice(spec["word"]), "code": str(rng.randint(1000, 9999))}
        key = re.search(r"\{(code|tree|song|word)\}", tpl["fact"]).group(1)
        out.append((tpl["fact"].format(**fields), tpl["question"].format(**fields), fields[key]))
    return out


def insert_points(tokens: list[int], depths: list[float]) -> list[int]:
    """For each depth, the sentence boundary (0..len) whose share of tokens before it is nearest."""
    total = sum(tokens)
    before, points = [0], []
    for n in tokens:
        before.append(before[-1] + n)
    for depth in depths:
        goal = depth / 100 * total
        points.append(min(range(len(before)), key=lambda i: (abs(before[i] - goal), i)))
    return points


class NeedleTask(EvalTask):
    """Held-out text + fictional needles -> a lengths x depths grid (test split)."""

    name = NAME
    Config = NeedleConfig
    columns = COLUMNS
    description = "Needle in a haystack: fictional facts at set depths of held-out text, single and multi-needle."
    stats_columns = ("lang", "num_tokens", "length", "depth", "num_needles")

    def units(self, docs: Iterable[Document], cfg: NeedleConfig, rejects: RejectLog) -> Iterator[Cell]:
        counter = get_counter(cfg.tokenizer)
        need = max(cfg.length_list())
        sentences: list[str] = []
        tokens: list[int] = []
        doc_ids: list[str] = []
        for doc in self.held_out(docs, cfg, rejects):
            if sum(tokens) >= need:
                break
            found = split_sentences(doc.text, cfg.lang)
            sentences += found
            tokens += counter.count_batch(found)
            doc_ids += [doc.id] * len(found)
        if not sentences:
            return
        haystack = Haystack(tuple(sentences), tuple(tokens), tuple(doc_ids))
        for length in cfg.length_list():
            for k in cfg.needle_counts():
                for depth in cfg.depth_list():
                    for repeat in range(cfg.repeats):
                        yield Cell(haystack, length, depth, k, repeat)

    def prepare(self, cell: Cell, cfg: NeedleConfig) -> Result:
        counter = get_counter(cfg.tokenizer)
        tpl = load_template(cfg.lang, "eval")
        rng = rng_for(cfg.seed, NAME, cell.length, cell.depth, cell.num_needles, cell.repeat)
        needles = make_needles(cfg.lang, cell.num_needles, rng)
        question = tpl["needle_question_prefix"] + ("" if cfg.lang == "zh" else " ").join(q for _, q, _ in needles)
        answer = tpl["needle_joiner"].join(tpl["needle_answer"].format(needle=f, value=v, open=quote_marks(tpl, f)[0],
                                                                      close=quote_marks(tpl, f)[1])
                                           for f, _, v in needles)
        fixed = counter.count_chat([{"role": "user", "content": f"{tpl['needle_instruction']}\n\n\n\n{question}"},
                                    {"role": "assistant", "content": answer}])
        room = cell.length - fixed - sum(counter.count(f) + 1 for f, _, _ in needles) - 16
        h = cell.haystack
        start = rng.randrange(len(h.sentences)) if cell.repeat else 0
        picked, used, i = [], 0, start
        while used + h.tokens[i % len(h.sentences)] + 1 <= room:  # the text wraps round when it is short
            picked.append(i % len(h.sentences))
            used += h.tokens[i % len(h.sentences)] + 1
            i += 1
        depths = [cell.depth + j * (100 - cell.depth) / cell.num_needles for j in range(cell.num_needles)]
        points = insert_points([h.tokens[j] for j in picked], depths)
        parts = [h.sentences[j] for j in picked]
        for (fact, _, _), point in sorted(zip(needles, points), key=lambda x: -x[1]):
            parts.insert(point, fact)
        joiner = "" if cfg.lang == "zh" else " "
        before, reached = [0], []
        for j in picked:
            before.append(before[-1] + h.tokens[j])
        reached = [100 * before[p] / max(1, before[-1]) for p in points]
        messages = [{"role": "user", "content": f"{tpl['needle_instruction']}\n\n{joiner.join(parts)}\n\n{question}"},
                    {"role": "assistant", "content": answer}]
        num_tokens = counter.count_chat(messages)
        counts = Counts()
        if i - start > len(h.sentences):
            counts.add("haystack", "text repeated: the held-out text is shorter than the length")
        if num_tokens > cell.length:
            return Result([], counts.add("sample_rejects", "over the length"))
        counts.add("samples", f"{cell.num_needles} needle" + ("s" if cell.num_needles > 1 else ""))
        sample = {"id": stable_hash(cfg.seed, NAME, cell.length, cell.depth, cell.num_needles, cell.repeat)[:16],
                  "messages": messages, "lang": cfg.lang, "num_tokens": num_tokens, "length": cell.length,
                  "depth": cell.depth, "depths_reached": reached, "num_needles": cell.num_needles,
                  "needles": [v for _, _, v in needles], "needle_sentences": [f for f, _, _ in needles],
                  "question": question, "source_ids": list(dict.fromkeys(h.doc_ids[j] for j in picked))}
        return Result([sample], counts)

    def assemble(self, prep: Result, answers: dict, cfg: NeedleConfig) -> Result:
        return prep

    def prompt_hashes(self, lang: str) -> dict[str, str]:
        return prompt_hashes(lang, ("eval.json",))

    def not_enough(self, cfg: NeedleConfig, rejects: RejectLog) -> str:
        return (f"no held-out {cfg.lang} text for a haystack ({rejects.total} rejected: {dict(rejects.counts)}); "
                "give documents with --corpus")

    def split_stats(self, table):
        from ..stats import base_stats

        return {**base_stats(table), "cells": len(set(zip(table.column("length").to_pylist(),
                                                          table.column("depth").to_pylist())))}

    def summary_lines(self, train: dict, counts: Counts) -> list[str]:
        return [f"grid:             {train['cells']} length x depth cells"]
