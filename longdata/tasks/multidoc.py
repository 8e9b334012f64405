"""multidoc-paraphrase: W-shaped multi-document QA whose answers quote the gold document first."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

import datasets

from ..config import TaskConfig, option
from ..counts import Counts
from ..data import demo_corpus
from ..documents import Document, RejectLog
from ..prompts import load_template, prompt_hashes
from ..qa.base import QA, QARequest, Reject
from ..seeding import rng_for, stable_hash
from ..tokens import get_counter
from .base import Result, Task

NAME = "multidoc-paraphrase"
MIN_CHARS = {"zh": 60, "en": 200}

FEATURES = datasets.Features({
    "id": datasets.Value("string"),
    "messages": datasets.List({"role": datasets.Value("string"), "content": datasets.Value("string")}),
    "lang": datasets.Value("string"),
    "num_docs": datasets.Value("int32"),
    "gold_docs": datasets.List(datasets.Value("int32")),
    "gold_positions": datasets.List(datasets.Value("float32")),
    "num_tokens": datasets.Value("int32"),
    "effective_ratio": datasets.Value("float32"),
    "source_ids": datasets.List(datasets.Value("string")),
    "generator": datasets.Value("string"),
})


@dataclass
class MultidocConfig(TaskConfig):
    """One language and token budget of multidoc-paraphrase; named `<lang>-<budget>k`."""

    group_size: int = option(100, "documents per group that a sample's context is drawn from")
    turns: int = option(5, "QA turns per sample")
    unanswerable_ratio: float = option(0.1, "share of turns whose gold document is left out of the context")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.turns < 1 or self.group_size <= self.turns:
            raise ValueError(f"--group-size ({self.group_size}) must exceed --turns ({self.turns}) >= 1")
        if not 0 <= self.unanswerable_ratio < 1:
            raise ValueError("--unanswerable-ratio must be in [0, 1)")

    @property
    def min_docs(self) -> int:
        """Documents one sample needs: a gold document per turn plus one distractor."""
        return self.turns + 1

    @property
    def max_doc_tokens(self) -> int:
        """Longest usable document: every turn's gold document must fit in the budget together."""
        return self.max_tokens // (self.turns + 1)


@dataclass(frozen=True)
class Group:
    """A slice of the document stream from which samples draw gold and distractor documents."""

    index: int
    docs: tuple[Document, ...]

    @property
    def key(self) -> str:
        return stable_hash(*(d.id for d in self.docs))[:16]


def usable_documents(docs: Iterable[Document], settings: MultidocConfig, rejects: RejectLog) -> Iterator[Document]:
    """Drop documents of another language, too short, or longer than any sample allows,
    before any tokenization (a 20 MB record is rejected by its length alone)."""
    min_chars = MIN_CHARS[settings.lang]
    max_chars = settings.max_doc_tokens * 8  # no tokenizer packs more than ~8 characters per token here
    for doc in docs:
        if doc.lang != settings.lang:
            rejects.add_doc(doc, f"language: detected {doc.lang}, building {settings.lang}")
        elif len(doc.text) < min_chars:
            rejects.add_doc(doc, f"too short: {len(doc.text)} characters < {min_chars}")
        elif len(doc.text) > max_chars:
            rejects.add_doc(doc, f"too long: {len(doc.text)} characters; a document may use at most "
                            f"{settings.max_doc_tokens} tokens at --max-tokens {settings.max_tokens}")
        else:
            yield doc


def groups(docs: Iterable[Document], settings: MultidocConfig) -> Iterator[Group]:
    """Groups of `group_size` consecutive documents. What is left at the end (fewer than
    two groups' worth) becomes one or two near-equal groups, so no sample is starved by
    a short tail group. Holds at most two groups of documents at a time."""
    size = settings.group_size
    buf: list[Document] = []
    index = 0
    for doc in docs:
        buf.append(doc)
        if len(buf) == 2 * size:
            yield Group(index, tuple(buf[:size]))
            index += 1
            buf = buf[size:]
    half = (len(buf) + 1) // 2
    for part in ([buf[:half], buf[half:]] if len(buf) > size else [buf]):
        if len(part) >= settings.min_docs:
            yield Group(index, tuple(part))
            index += 1


@dataclass(frozen=True)
class SamplePlan:
    key: str
    gold: tuple[Document, ...]
    unanswerable: tuple[bool, ...]


def plan_group(group: Group, settings: MultidocConfig) -> list[SamplePlan]:
    """Split a group's documents into gold sets of `turns` documents, one per sample."""
    rng = rng_for(settings.seed, "group", group.key)
    order = list(group.docs)
    rng.shuffle(order)
    plans = []
    for i in range(len(order) // settings.turns):
        gold = tuple(order[i * settings.turns:(i + 1) * settings.turns])
        if len(group.docs) - len(gold) < 1:
            break
        srng = rng_for(settings.seed, "plan", group.key, i)
        unans = [srng.random() < settings.unanswerable_ratio for _ in gold]
        if all(unans):
            unans[0] = False  # every sample keeps at least one answerable turn
        plans.append(SamplePlan(f"{group.key}-{i}", gold, tuple(unans)))
    return plans


def qa_requests(plans: Sequence[SamplePlan], settings: MultidocConfig) -> list[QARequest]:
    return [QARequest(doc, f"{settings.seed}:{doc.id}", settings.lang) for p in plans for doc in p.gold]


@dataclass
class PreparedGroup:
    """A group after tokenization: usable documents, their token counts, and the sample plans."""

    group: Group
    doc_tokens: dict[str, int]
    plans: list[SamplePlan]
    too_long: list[tuple[Document, int]]


def prepare_group(group: Group, settings: MultidocConfig) -> PreparedGroup:
    """Tokenize every document of the group once and plan its samples from the usable ones,
    so no QA is ever asked for a document that cannot fit."""
    counter = get_counter(settings.tokenizer)
    counts = counter.count_batch([d.text for d in group.docs])
    too_long = [(d, n) for d, n in zip(group.docs, counts) if n > settings.max_doc_tokens]
    usable = Group(group.index, tuple(d for d, n in zip(group.docs, counts) if n <= settings.max_doc_tokens))
    doc_tokens = {d.id: n for d, n in zip(group.docs, counts)}
    plans = plan_group(usable, settings) if len(usable.docs) >= settings.min_docs else []
    return PreparedGroup(usable, doc_tokens, plans, too_long)


def assemble_group(prep: PreparedGroup, answers: dict[str, QA | Reject], settings: MultidocConfig) -> Result:
    """Pure function of its inputs: turns one group's plans and QAs into finished samples."""
    builder = _SampleBuilder(settings, get_counter(settings.tokenizer), prep.doc_tokens, len(prep.group.docs))
    qas = {r.doc.id: answers[r.key] for r in qa_requests(prep.plans, settings)}
    counts = Counts()
    samples = [s for s in (builder.build(plan, qas, list(prep.group.docs), counts) for plan in prep.plans)
               if s is not None]
    rejects = [(doc, f"too long: {n} tokens > {settings.max_doc_tokens} per document at --max-tokens "
                     f"{settings.max_tokens} and --turns {settings.turns}") for doc, n in prep.too_long]
    return Result(samples, counts, rejects)


class _SampleBuilder:
    """Lays out one sample: numbered documents, questions after them, quoting answers."""

    def __init__(self, settings: MultidocConfig, counter, doc_tokens: dict[str, int], max_docs: int):
        self.s = settings
        self.counter = counter
        self.doc_tokens = doc_tokens
        self.tpl = load_template(settings.lang, "multidoc")
        # upper bound of a document's block overhead: its header with the most digits, plus separators
        self.block_overhead = counter.count(self.tpl["doc_header"].format(n=max_docs + 1)) + 3

    def build(self, plan: SamplePlan, qas: dict[str, QA | Reject], usable: list[Document],
              stats: Counts) -> dict | None:
        rng = rng_for(self.s.seed, "sample", plan.key)
        turns: list[tuple[Document, QA, bool]] = []
        for doc, unans in zip(plan.gold, plan.unanswerable):
            qa = qas[doc.id]
            if isinstance(qa, Reject):
                stats.add("qa_rejects", qa.reason)
            else:
                turns.append((doc, qa, unans))
        turns = self._unambiguous(turns, stats)
        if not any(not u for _, _, u in turns):
            stats.add("qa_rejects", "sample without an answerable turn")
            return None
        gold_ids = {d.id for d in plan.gold}
        quotes = [qa.quote for _, qa, _ in turns]
        distractors = []
        for d in usable:
            if d.id in gold_ids:
                continue
            if any(q in d.text for q in quotes):  # would make the cited document ambiguous
                stats.add("drops", "distractor holding a quote")
                continue
            distractors.append(d)
        rng.shuffle(distractors)
        golds = [d for d, _, u in turns if not u]
        fixed = self.counter.count_chat(self._messages(turns, [], placeholder=True))
        room = self.s.max_tokens - fixed - self.s.max_tokens // 500 - 8
        room -= sum(self._cost(d) for d in golds)
        if room < 0:
            stats.add("qa_rejects", "gold documents exceed the budget")
            return None
        chosen = []
        for d in distractors:  # irrelevant documents are kept at random while they fit
            if self._cost(d) <= room:
                chosen.append(d)
                room -= self._cost(d)
        while True:
            context = self._place(golds, chosen, rng)
            messages = self._messages(turns, context)
            num_tokens = self.counter.count_chat(messages)
            if num_tokens <= self.s.max_tokens or not chosen:
                break
            stats.add("drops", "distractor dropped after the exact count")
            chosen.pop(rng.randrange(len(chosen)))
        if num_tokens > self.s.max_tokens:
            stats.add("qa_rejects", "gold documents exceed the budget")
            return None
        return self._record(plan, turns, context, messages, num_tokens, stats)

    @staticmethod
    def _unambiguous(turns: list, stats: Counts) -> list:
        """Drop a turn whose quote also stands in another gold document of the context:
        the cited document would be ambiguous, or an 'unanswerable' turn answerable."""
        in_context = [d for d, _, u in turns if not u]
        kept = []
        for doc, qa, unans in turns:
            if any(qa.quote in d.text for d in in_context if d.id != doc.id):
                stats.add("qa_rejects", "quote shared with another gold document")
            else:
                kept.append((doc, qa, unans))
        return kept

    def _cost(self, doc: Document) -> int:
        return self.doc_tokens[doc.id] + self.block_overhead

    def _place(self, golds: list[Document], distractors: list[Document], rng) -> list[Document]:
        """Gold documents at stratified positions, so their relative positions cover the context evenly."""
        n = len(golds) + len(distractors)
        order = golds[:]
        rng.shuffle(order)
        slots: list[int] = []
        for j in range(len(order)):
            slot = min(int((j + rng.random()) / len(order) * n), n - 1)
            while slot in slots:
                slot = (slot + 1) % n
            slots.append(slot)
        context: list[Document | None] = [None] * n
        for slot, doc in zip(slots, order):
            context[slot] = doc
        rest = iter(distractors)
        return [d if d is not None else next(rest) for d in context]

    def _messages(self, turns, context: list[Document], placeholder: bool = False) -> list[dict]:
        tpl = self.tpl
        number = {d.id: i + 1 for i, d in enumerate(context)}
        blocks = "\n\n".join(f"{tpl['doc_header'].format(n=i + 1)}\n{d.text}" for i, d in enumerate(context))
        messages = []
        for t, (doc, qa, unans) in enumerate(turns):
            question = tpl["question_prefix"] + qa.question
            user = f"{tpl['instruction']}\n\n{blocks}\n\n{question}" if t == 0 else question
            if unans:
                answer = tpl["unanswerable"]
            else:
                n = len(number) + 999 if placeholder else number[doc.id]
                answer = tpl["quoted_answer"].format(n=n, quote=qa.quote, answer=qa.answer)
            messages += [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]
        return messages

    def _record(self, plan, turns, context, messages, num_tokens, stats) -> dict:
        starts, pos = {}, 0
        for d in context:
            starts[d.id] = pos
            pos += self._cost(d)
        number = {d.id: i + 1 for i, d in enumerate(context)}
        gold_docs = [0 if u else number[d.id] for d, _, u in turns]
        gold_positions = [-1.0 if u else starts[d.id] / pos for d, _, u in turns]
        quote_tokens = sum(self.counter.count(qa.quote) for _, qa, u in turns if not u)
        answer_tokens = sum(self.counter.count(m["content"]) for m in messages if m["role"] == "assistant")
        return {
            "id": stable_hash(self.s.seed, *(d.id for d in plan.gold))[:16],
            "messages": messages,
            "lang": self.s.lang,
            "num_docs": len(context),
            "gold_docs": gold_docs,
            "gold_positions": gold_positions,
            "num_tokens": num_tokens,
            "effective_ratio": quote_tokens / answer_tokens if answer_tokens else 0.0,
            "source_ids": [d.id for d in context],
            "generator": next(qa.generator for _, qa, u in turns if not u),
        }


class MultidocTask(Task):
    """Groups of documents -> samples of several quoting QA turns over a shuffled context."""

    name = NAME
    Config = MultidocConfig
    features = FEATURES
    description = "W-shaped multi-document QA whose answers quote the gold document's original text first."
    stats_columns = ("lang", "generator", "num_tokens", "num_docs", "gold_docs", "gold_positions", "effective_ratio")

    def demo_corpus(self, lang: str):
        return [demo_corpus(lang)]

    def units(self, docs: Iterable[Document], cfg: MultidocConfig, rejects: RejectLog) -> Iterator[Group]:
        return groups(usable_documents(docs, cfg, rejects), cfg)

    def prepare(self, unit: Group, cfg: MultidocConfig) -> PreparedGroup:
        return prepare_group(unit, cfg)

    def requests(self, prep: PreparedGroup, cfg: MultidocConfig, answers: dict) -> list[QARequest]:
        return qa_requests(prep.plans, cfg)

    def assemble(self, prep: PreparedGroup, answers: dict, cfg: MultidocConfig) -> Result:
        return assemble_group(prep, answers, cfg)

    def resolver(self, cfg: MultidocConfig, options, chat):
        if chat is None:
            from ..qa.extractive import ExtractiveGenerator

            return ExtractiveGenerator()
        from ..qa.llm_writer import LLMQAWriter

        return LLMQAWriter(chat, temperature=options.llm_temperature, max_tokens=options.llm_max_tokens)

    def prompt_hashes(self, lang: str) -> dict[str, str]:
        return prompt_hashes(lang, ("multidoc.json", "extractive.json", "qa.txt", "qa_system.txt", "qa_repair.txt"))

    def not_enough(self, cfg: MultidocConfig, rejects: RejectLog) -> str:
        return (f"not enough documents for one sample: a sample needs at least {cfg.min_docs} usable "
                f"{cfg.lang} documents (--turns {cfg.turns} gold documents plus one distractor); "
                f"found fewer ({rejects.total} rejected: {dict(rejects.counts)}). Add documents with --corpus "
                f"or lower --turns.")

    # statistics: see multidoc_stats
    def split_stats(self, table):
        from .multidoc_stats import split_stats

        return split_stats(table)

    def stats_markdown(self, config: str, by_split: dict) -> str:
        from .multidoc_stats import stats_markdown

        return stats_markdown(config, by_split)

    def plots(self, table, title: str) -> dict[str, bytes]:
        from .multidoc_stats import plots

        return plots(table, title)

    def quality_cells(self, record: dict) -> dict[str, str]:
        from .multidoc_stats import quality_cells

        return {**super().quality_cells(record), **quality_cells(record)}

    def summary_lines(self, train: dict) -> list[str]:
        from .multidoc_stats import summary_lines

        return summary_lines(train)
