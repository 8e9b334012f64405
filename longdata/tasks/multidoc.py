"""multidoc-paraphrase: W-shaped multi-document QA whose answers quote the gold document first."""
from __future__ import annotations

import multiprocessing
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Sequence

import datasets

from ..documents import Document, RejectLog
from ..llm.base import QA, Generator, QARequest, Reject
from ..prompts import load_template
from ..seeding import rng_for, stable_hash
from ..tokens import get_counter

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


@dataclass(frozen=True)
class MultidocSettings:
    """Everything that decides the samples (and so goes into the manifest)."""

    lang: str = "zh"
    max_tokens: int = 32768
    group_size: int = 100
    turns: int = 5
    seed: int = 0
    unanswerable_ratio: float = 0.1
    num_samples: int | None = None
    tokenizer: str = "qwen"
    num_proc: int = 1

    def __post_init__(self):
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


@dataclass
class BuildStats:
    """Counts for the summary and the card. Samples and turns count what was yielded;
    QA rejects and drops count every group processed."""

    samples: int = 0
    turns: int = 0
    unanswerable_turns: int = 0
    qa_rejects: Counter = field(default_factory=Counter)
    dropped_ambiguous: int = 0
    recounts: int = 0

    def merge(self, other: "BuildStats") -> None:
        """Add a group's rejects and drops (samples and turns are counted as they are yielded)."""
        self.qa_rejects.update(other.qa_rejects)
        self.dropped_ambiguous += other.dropped_ambiguous
        self.recounts += other.recounts


@dataclass(frozen=True)
class Group:
    """A slice of the document stream from which samples draw gold and distractor documents."""

    index: int
    docs: tuple[Document, ...]

    @property
    def key(self) -> str:
        return stable_hash(*(d.id for d in self.docs))[:16]


def usable_documents(docs: Iterable[Document], settings: MultidocSettings, rejects: RejectLog) -> Iterator[Document]:
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


def groups(docs: Iterable[Document], settings: MultidocSettings) -> Iterator[Group]:
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


def plan_group(group: Group, settings: MultidocSettings) -> list[SamplePlan]:
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


def qa_requests(plans: Sequence[SamplePlan], settings: MultidocSettings) -> list[QARequest]:
    return [QARequest(doc, f"{settings.seed}:{doc.id}", settings.lang) for p in plans for doc in p.gold]


@dataclass
class PreparedGroup:
    """A group after tokenization: usable documents, their token counts, and the sample plans."""

    group: Group
    doc_tokens: dict[str, int]
    plans: list[SamplePlan]
    too_long: list[tuple[Document, int]]
    qas: dict[str, QA | Reject]


def prepare_group(group: Group, settings: MultidocSettings, local: Generator | None = None) -> PreparedGroup:
    """Tokenize every document of the group once and plan its samples from the usable ones,
    so no QA is ever asked for a document that cannot fit. A `local` generator (pure CPU,
    no shared state) writes the group's QAs right here, in the worker."""
    counter = get_counter(settings.tokenizer)
    counts = counter.count_batch([d.text for d in group.docs])
    too_long = [(d, n) for d, n in zip(group.docs, counts) if n > settings.max_doc_tokens]
    usable = Group(group.index, tuple(d for d, n in zip(group.docs, counts) if n <= settings.max_doc_tokens))
    doc_tokens = {d.id: n for d, n in zip(group.docs, counts)}
    plans = plan_group(usable, settings) if len(usable.docs) >= settings.min_docs else []
    qas = {}
    if local is not None:
        requests = qa_requests(plans, settings)
        qas = {r.doc.id: qa for r, qa in zip(requests, local.make_qas(requests))}
    return PreparedGroup(usable, doc_tokens, plans, too_long, qas)


def assemble_group(prep: PreparedGroup, qas: dict[str, QA | Reject], settings: MultidocSettings) -> tuple[list[dict], BuildStats]:
    """Pure function of its inputs: turns one group's plans and QAs into finished samples."""
    builder = _SampleBuilder(settings, get_counter(settings.tokenizer), prep.doc_tokens, len(prep.group.docs))
    stats = BuildStats()
    samples = [s for s in (builder.build(plan, qas, list(prep.group.docs), stats) for plan in prep.plans) if s is not None]
    return samples, stats


class _SampleBuilder:
    """Lays out one sample: numbered documents, questions after them, quoting answers."""

    def __init__(self, settings: MultidocSettings, counter, doc_tokens: dict[str, int], max_docs: int):
        self.s = settings
        self.counter = counter
        self.doc_tokens = doc_tokens
        self.tpl = load_template(settings.lang, "multidoc")
        # upper bound of a document's block overhead: its header with the most digits, plus separators
        self.block_overhead = counter.count(self.tpl["doc_header"].format(n=max_docs + 1)) + 3

    def build(self, plan: SamplePlan, qas: dict[str, QA | Reject], usable: list[Document],
              stats: BuildStats) -> dict | None:
        rng = rng_for(self.s.seed, "sample", plan.key)
        turns: list[tuple[Document, QA, bool]] = []
        for doc, unans in zip(plan.gold, plan.unanswerable):
            qa = qas[doc.id]
            if isinstance(qa, Reject):
                stats.qa_rejects[qa.reason] += 1
            else:
                turns.append((doc, qa, unans))
        turns = self._unambiguous(turns, stats)
        if not any(not u for _, _, u in turns):
            stats.qa_rejects["sample without an answerable turn"] += 1
            return None
        gold_ids = {d.id for d in plan.gold}
        quotes = [qa.quote for _, qa, _ in turns]
        distractors = []
        for d in usable:
            if d.id in gold_ids:
                continue
            if any(q in d.text for q in quotes):  # would make the cited document ambiguous
                stats.dropped_ambiguous += 1
                continue
            distractors.append(d)
        rng.shuffle(distractors)
        golds = [d for d, _, u in turns if not u]
        fixed = self.counter.count_chat(self._messages(turns, [], placeholder=True))
        room = self.s.max_tokens - fixed - self.s.max_tokens // 500 - 8
        room -= sum(self._cost(d) for d in golds)
        if room < 0:
            stats.qa_rejects["gold documents exceed the budget"] += 1
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
            stats.recounts += 1
            chosen.pop(rng.randrange(len(chosen)))
        if num_tokens > self.s.max_tokens:
            stats.qa_rejects["gold documents exceed the budget"] += 1
            return None
        return self._record(plan, turns, context, messages, num_tokens, stats)

    @staticmethod
    def _unambiguous(turns: list, stats: BuildStats) -> list:
        """Drop a turn whose quote also stands in another gold document of the context:
        the cited document would be ambiguous, or an 'unanswerable' turn answerable."""
        in_context = [d for d, _, u in turns if not u]
        kept = []
        for doc, qa, unans in turns:
            if any(qa.quote in d.text for d in in_context if d.id != doc.id):
                stats.qa_rejects["quote shared with another gold document"] += 1
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
            "generator": "",
        }


def planned_requests(docs: Iterable[Document], settings: MultidocSettings, rejects: RejectLog) -> Iterator[QARequest]:
    """The QA requests a build would make, without making them (dry runs, the Batch API)."""
    for group in groups(usable_documents(docs, settings, rejects), settings):
        yield from qa_requests(prepare_group(group, settings).plans, settings)


def _prepare_job(job) -> PreparedGroup:
    return prepare_group(*job)


def _assemble_job(job) -> tuple[list[dict], BuildStats]:
    return assemble_group(*job)


def build_samples(docs: Iterable[Document], settings: MultidocSettings, generator: Generator,
                  rejects: RejectLog, stats: BuildStats) -> Iterator[dict]:
    """Stream samples from a document stream.

    Groups go in small windows: a process pool tokenizes and plans them, the QAs of the
    whole window are generated together (so a model backend runs them concurrently),
    then the pool assembles the samples. Results come back in group order, so the
    output is the same for any `num_proc`."""
    local = generator if getattr(generator, "local", False) else None
    if local is not None and hasattr(local, "warm_up"):
        local.warm_up(settings.lang)
    get_counter(settings.tokenizer)  # loaded before the workers fork
    window = max(1, settings.num_proc) * 2
    pool = multiprocessing.get_context("fork").Pool(settings.num_proc) if settings.num_proc > 1 else None
    pmap = pool.map if pool else lambda f, jobs: list(map(f, jobs))
    found_groups = 0
    try:
        for batch in _windows(groups(usable_documents(docs, settings, rejects), settings), window):
            found_groups += len(batch)
            prepared = pmap(_prepare_job, [(g, settings, local) for g in batch])
            qas = {k: v for p in prepared for k, v in p.qas.items()}
            if local is None:
                requests = [r for p in prepared for r in qa_requests(p.plans, settings)]
                qas = {r.doc.id: qa for r, qa in zip(requests, generator.make_qas(requests))}
            results = pmap(_assemble_job, [(p, qas, settings) for p in prepared])
            for prep, (samples, group_stats) in zip(prepared, results):
                for doc, n in prep.too_long:
                    rejects.add_doc(doc, f"too long: {n} tokens > {settings.max_doc_tokens} per document "
                                         f"at --max-tokens {settings.max_tokens} and --turns {settings.turns}")
                stats.merge(group_stats)
                for sample in samples:
                    if settings.num_samples is not None and stats.samples >= settings.num_samples:
                        return
                    sample["generator"] = generator.name
                    stats.samples += 1
                    stats.turns += len(sample["gold_docs"])
                    stats.unanswerable_turns += sample["gold_docs"].count(0)
                    yield sample
    finally:
        if pool:
            pool.terminate()
    if found_groups == 0:
        raise NotEnoughDocuments(settings, rejects)


def _windows(items: Iterable, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class NotEnoughDocuments(RuntimeError):
    def __init__(self, settings: MultidocSettings, rejects: RejectLog):
        super().__init__(
            f"not enough documents for one sample: a sample needs at least {settings.min_docs} usable "
            f"{settings.lang} documents (--turns {settings.turns} gold documents plus one distractor); "
            f"found fewer ({rejects.total} rejected: {dict(rejects.counts)}). Add documents with --corpus "
            f"or lower --turns.")
