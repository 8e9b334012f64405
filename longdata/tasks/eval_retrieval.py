"""eval-passage-retrieval: which of K numbered paragraphs does an abstract come from?

LongBench's PassageRetrieval, built from held-out documents at any budget: K paragraphs
(default 30) whose share of the budget sets their length, one of them summarised (by the
LLM, cached, or offline by a key-fragment abstract that copies no sentence of it), and the
answer `段落N` / `Paragraph N`. Gold positions are spread evenly over 1..K and recorded.
Every sample carries LongBench's own fields (`input, context, answers, length, dataset,
language, all_classes, _id`) beside `messages`, so LongBench's scripts read the same file.
An abstract must single out its paragraph: the gold paragraph must be the best BM25
match for it among the K, or the sample is dropped (counted).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Iterable, Iterator


from ..config import option
from ..counts import Counts
from ..documents import Document, RejectLog
from ..llm.requests import ChatRequest, ChatResolver
from ..prompts import load_template, prompt_hashes
from ..retrieval import bm25_rank, terms
from ..seeding import rng_for, stable_hash
from ..text import split_sentences
from ..tokens import get_counter
from .base import CHAT_COLUMNS, Result
from .eval_base import EvalConfig, EvalTask

NAME = "eval-passage-retrieval"
ABSTRACT_RESERVE = 256  # tokens kept free for the abstract
MIN_SENTENCE_CHARS = 8  # shorter sentences are not evidence of copying
_CLAUSE = re.compile(r"[，,；;：:、]")

COLUMNS = {
    **CHAT_COLUMNS,
    "num_tokens": "int32",
    "answer": "int32",
    "num_paragraphs": "int32",
    "position": "float32",
    "source_ids": ["string"],
    "summary_source": "string",
    # LongBench's fields
    "input": "string",
    "context": "string",
    "answers": ["string"],
    "length": "int32",
    "dataset": "string",
    "language": "string",
    "all_classes": "string",
    "_id": "string",
}


@dataclass
class RetrievalConfig(EvalConfig):
    """K paragraphs from held-out documents; each document is the gold paragraph once."""

    num_paragraphs: int = option(30, "paragraphs per sample (LongBench: 30)")
    window: int = option(120, "documents read at a time: each is the gold of one sample, its distractors drawn "
                              "from the same window")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.num_paragraphs < 2 or self.window < self.num_paragraphs:
            raise ValueError(f"--num-paragraphs ({self.num_paragraphs}) must be at least 2 and at most --window "
                             f"({self.window})")


@dataclass(frozen=True)
class Window:
    """Documents read together: the first `golds` are summarised, the others only distract."""

    docs: tuple[Document, ...]
    golds: int


@dataclass
class Prepared:
    paragraphs: dict[str, str]  # doc id -> the paragraph (the document's leading sentences)
    samples: list[tuple[Document, list[str]]]  # gold, the paragraph ids in order
    counts: Counts


def _first_sentences(text: str, lang: str, room: int, counter) -> str:
    """The document's leading sentences within `room` tokens ('' if the first one is longer)."""
    out, used = [], 0
    sentences = split_sentences(text, lang)
    for sentence, n in zip(sentences, counter.count_batch(sentences)):
        if used + n > room:
            break
        out.append(sentence)
        used += n + 1
    return ("" if lang == "zh" else " ").join(out)


def _fragments(paragraph: str, lang: str) -> list[tuple[int, str]]:
    """(sentence index, part) for every sentence: its clauses, never the whole sentence (a
    one-clause sentence gives its first half), so an abstract of them copies no sentence."""
    out = []
    for i, sentence in enumerate(split_sentences(paragraph, lang)):
        body = sentence.rstrip("。！？!?.…；;\"”’」』")
        clauses = [c.strip() for c in _CLAUSE.split(body) if len(c.strip()) >= (4 if lang == "zh" else 12)]
        if len(clauses) <= 1:
            words = list(body) if lang == "zh" else body.split()
            half = words[: max(1, len(words) // 2)]
            clauses = ["".join(half) if lang == "zh" else " ".join(half)]
        out.extend((i, c) for c in clauses)
    return out


def extractive_abstract(paragraph: str, others: list, lang: str, tpl: dict) -> str:
    """Two fragments of different sentences that the other paragraphs share the fewest terms
    with (BM25 idf over the sample), in text order, in the abstract template."""
    docs = [terms(paragraph, lang)] + others
    n = len(docs)

    def idf_sum(fragment: str) -> float:
        return sum(math.log(1 + (n - df + 0.5) / (df + 0.5))
                   for t in terms(fragment, lang) for df in [sum(1 for d in docs if t in d)])

    best: dict[int, tuple[float, str]] = {}
    for i, fragment in _fragments(paragraph, lang):
        score = idf_sum(fragment)
        if i not in best or score > best[i][0]:
            best[i] = (score, fragment)
    top = sorted(sorted(best.items(), key=lambda kv: -kv[1][0])[:2])
    return tpl["extractive_abstract"].format(parts=tpl["fragment_joiner"].join(f for _, (_, f) in top))


def copies_a_sentence(abstract: str, paragraph: str, lang: str) -> bool:
    return any(len(s) >= MIN_SENTENCE_CHARS and s in abstract for s in split_sentences(paragraph, lang))


class RetrievalTask(EvalTask):
    """Held-out documents -> LongBench-style passage retrieval samples (test split)."""

    name = NAME
    Config = RetrievalConfig
    columns = COLUMNS
    description = "Passage retrieval from held-out documents: name the paragraph an abstract comes from."
    stats_columns = ("lang", "num_tokens", "position", "summary_source")

    def units(self, docs: Iterable[Document], cfg: RetrievalConfig, rejects: RejectLog) -> Iterator[Window]:
        window: list[Document] = []
        previous: tuple[Document, ...] = ()
        for doc in self.held_out(docs, cfg, rejects):
            window.append(doc)
            if len(window) == cfg.window:
                previous = tuple(window)
                yield Window(previous, len(window))
                window = []
        if len(window) >= cfg.num_paragraphs:
            yield Window(tuple(window), len(window))
        elif window and len(window) + len(previous) >= cfg.num_paragraphs:  # distractors from the last window
            yield Window(tuple(window) + previous[: cfg.num_paragraphs - len(window)], len(window))
        elif window:
            for doc in window:
                rejects.add_doc(doc, f"too few documents: a sample needs {cfg.num_paragraphs} (--num-paragraphs)")

    def prepare(self, unit: Window, cfg: RetrievalConfig) -> Prepared:
        counter = get_counter(cfg.tokenizer)
        tpl = load_template(cfg.lang, "eval")
        counts = Counts()
        overhead = counter.count(tpl["longbench_prompt"]) + counter.count(tpl["paragraph_header"]) * cfg.num_paragraphs
        room = (cfg.max_tokens - overhead - ABSTRACT_RESERVE - 64) // cfg.num_paragraphs
        paragraphs = {}
        for doc in unit.docs:
            text = _first_sentences(doc.text, cfg.lang, room, counter)
            if text:
                paragraphs[doc.id] = text
            else:
                counts.add("paragraph_rejects", "first sentence longer than a paragraph's share of the budget")
        golds = [d for d in unit.docs[: unit.golds] if d.id in paragraphs]
        rng = rng_for(cfg.seed, NAME, "positions", unit.docs[0].id)
        positions = [math.floor((j + 0.5) * cfg.num_paragraphs / max(1, len(golds))) for j in range(len(golds))]
        rng.shuffle(positions)
        samples = []
        for gold, position in zip(golds, positions):
            others = [i for i in paragraphs if i != gold.id]
            if len(others) < cfg.num_paragraphs - 1:
                counts.add("paragraph_rejects", "too few paragraphs within the budget for a sample")
                continue
            order = rng_for(cfg.seed, NAME, gold.id).sample(others, cfg.num_paragraphs - 1)
            order.insert(position, gold.id)
            samples.append((gold, order))
        return Prepared(paragraphs, samples, counts)

    def requests(self, prep: Prepared, cfg: RetrievalConfig, answers: dict) -> list[ChatRequest]:
        tpl = load_template(cfg.lang, "eval")
        return [ChatRequest.make(tpl["summary_prompt"].format(paragraph=prep.paragraphs[gold.id]))
                for gold, _ in prep.samples]

    def resolver(self, cfg: RetrievalConfig, options, chat):
        if chat is None:
            return None
        return ChatResolver(chat, options.llm_temperature, min(options.llm_max_tokens, ABSTRACT_RESERVE))

    def assemble(self, prep: Prepared, answers: dict, cfg: RetrievalConfig) -> Result:
        counter = get_counter(cfg.tokenizer)
        tpl = load_template(cfg.lang, "eval")
        counts, out = prep.counts, []
        requests = dict(zip((g.id for g, _ in prep.samples), self.requests(prep, cfg, answers)))
        for gold, order in prep.samples:
            paragraph = prep.paragraphs[gold.id]
            index = order.index(gold.id)
            others = [terms(prep.paragraphs[i], cfg.lang) for i in order if i != gold.id]
            key = requests[gold.id].key
            if answers.get(key) and not copies_a_sentence(answers[key], paragraph, cfg.lang):
                abstract, source = answers[key], "llm"
            else:
                if key in answers:
                    counts.add("abstracts", "llm reply refused or copying a sentence: extractive instead")
                abstract, source = extractive_abstract(paragraph, others, cfg.lang, tpl), "extractive"
            query = terms(abstract, cfg.lang)
            if copies_a_sentence(abstract, paragraph, cfg.lang) or \
                    bm25_rank(query, [terms(prep.paragraphs[i], cfg.lang) for i in order], index) != 1:
                counts.add("sample_rejects", "abstract does not single out its paragraph")
                continue
            sample = self._sample(gold, order, prep.paragraphs, abstract, source, cfg, tpl, counter)
            if sample["num_tokens"] > cfg.max_tokens:
                counts.add("sample_rejects", "over the budget")
                continue
            counts.add("samples", source)
            out.append(sample)
        return Result(out, counts)

    def _sample(self, gold, order, paragraphs, abstract, source, cfg, tpl, counter) -> dict:
        context = "\n\n".join(tpl["paragraph_header"].format(n=i + 1) + paragraphs[doc_id]
                              for i, doc_id in enumerate(order))
        n = order.index(gold.id) + 1
        prompt = tpl["longbench_prompt"].replace("{k}", str(len(order))).replace("{context}", context) \
            .replace("{input}", abstract)
        answer = tpl["answer"].format(n=n)
        messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]
        sample_id = stable_hash(cfg.seed, NAME, cfg.max_tokens, gold.id)[:16]
        return {"id": sample_id, "messages": messages, "lang": cfg.lang, "num_tokens": counter.count_chat(messages),
                "answer": n, "num_paragraphs": len(order), "position": (n - 1) / (len(order) - 1),
                "source_ids": list(order), "summary_source": source, "input": abstract, "context": context,
                "answers": [answer], "length": len(context) if cfg.lang == "zh" else len(context.split()),
                "dataset": tpl["longbench_dataset"], "language": cfg.lang, "all_classes": None, "_id": sample_id}

    def prompt_hashes(self, lang: str) -> dict[str, str]:
        return prompt_hashes(lang, ("eval.json",))

    def not_enough(self, cfg: RetrievalConfig, rejects: RejectLog) -> str:
        return (f"not enough held-out {cfg.lang} documents for one sample of {cfg.num_paragraphs} paragraphs "
                f"({rejects.total} rejected: {dict(rejects.counts)}); add documents with --corpus or lower "
                "--num-paragraphs")

    def split_stats(self, table):
        from ..stats import base_stats

        positions = table.column("position").to_pylist()
        deciles = [0] * 10
        for p in positions:
            deciles[min(9, int(p * 10))] += 1
        return {**base_stats(table), "position_deciles": deciles}

    def stats_markdown(self, config: str, by_split: dict) -> str:
        from ..stats import tokens_markdown

        deciles = by_split["all"]["position_deciles"]
        return (tokens_markdown(config, by_split) + "\n\nGold paragraph position (deciles of 1..K): "
                + ", ".join(f"{10 * i}-{10 * i + 10}%: {n}" for i, n in enumerate(deciles)))

    def summary_lines(self, train: dict, counts: Counts) -> list[str]:
        return ["gold positions:   " + " ".join(map(str, train["position_deciles"])) + " (by decile)"]
