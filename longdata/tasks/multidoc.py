"""multidoc-paraphrase: W-shaped multi-document QA whose answers quote the gold document first."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence


from ..config import TaskConfig, option
from ..chunking import chunk
from ..counts import Counts
from ..data import demo_corpus
from ..documents import Document, RejectLog
from ..prompts import load_template, prompt_hashes, quote_marks
from ..qa import qa_writer
from ..qa.base import QA, QARequest, Reject
from ..retrieval import bm25_rank, terms
from ..seeding import rng_for, stable_hash
from ..text import contains, fold
from ..tokens import get_counter
from .base import CHAT_COLUMNS, Result, Task

NAME = "multidoc-paraphrase"
ANSWER_STYLES = ("cite-quote", "quote-cite", "index-only", "no-quote")
MIN_CHARS = {"zh": 60, "en": 200}

COLUMNS = {
    **CHAT_COLUMNS,
    "num_docs": "int32",
    "gold_docs": ["int32"],
    "gold_positions": ["float32"],
    "num_tokens": "int32",
    "effective_ratio": "float32",
    "source_ids": ["string"],
    "generator": "string",
    "cues": [["string"]],
    "gold_ranks": ["int32"],
}


@dataclass
class MultidocConfig(TaskConfig):
    """One language and token budget of multidoc-paraphrase; named `<lang>-<budget>k`."""

    group_size: int = option(100, "documents per group that a sample's context is drawn from")
    turns: int = option(5, "QA turns per sample")
    unanswerable_ratio: float = option(0.1, "share of turns whose gold document is left out of the context")
    shuffle_buffer: int = option(1000, "documents in a seeded shuffle buffer before grouping, so that groups "
                                       "mix the input (0 or 1: input order)")
    answer_style: str = option("cite-quote", "how answers read: cite-quote (the document number, the verbatim "
                                             "quote, the answer), quote-cite (the quote first), index-only (the "
                                             "number alone) or no-quote (number and answer: the method's baseline); "
                                             "the same QAs and contexts for every style", choices=ANSWER_STYLES)

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
    """Drop documents of another language, too short, or longer than a group of passages,
    before any tokenization (a 20 MB record is rejected by its length alone). Documents
    longer than one sample allows are cut into passages later (`prepare_group`)."""
    min_chars = MIN_CHARS[settings.lang]
    # no tokenizer packs more than ~8 characters per token here
    max_chars = settings.max_doc_tokens * 8 * settings.group_size
    for doc in docs:
        if doc.lang != settings.lang:
            rejects.add_doc(doc, f"language: detected {doc.lang}, building {settings.lang}")
        elif len(doc.text) < min_chars:
            rejects.add_doc(doc, f"too short: {len(doc.text)} characters < {min_chars}")
        elif len(doc.text) > max_chars:
            rejects.add_doc(doc, f"too long: {len(doc.text)} characters, more than --group-size "
                            f"{settings.group_size} passages of {settings.max_doc_tokens} tokens")
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


def shuffled(items: Iterable, size: int, rng) -> Iterator:
    """A seeded shuffle buffer of `size` items: bounded memory, the same order for the same
    input and seed."""
    if size <= 1:
        yield from items
        return
    buf: list = []
    for item in items:
        if len(buf) < size:
            buf.append(item)
            continue
        i = rng.randrange(size)
        yield buf[i]
        buf[i] = item
    rng.shuffle(buf)
    yield from buf


def qa_requests(plans: Sequence[SamplePlan], settings: MultidocConfig,
                context: Sequence[Document] = ()) -> list[QARequest]:
    """One request per gold document; `context` (the group) lets the writer pick cues that
    few other documents hold."""
    folded = tuple((d.id, fold(d.text, settings.lang)) for d in context)
    return [QARequest(doc, f"{settings.seed}:{doc.id}", settings.lang, folded) for p in plans for doc in p.gold]


@dataclass
class PreparedGroup:
    """A group after tokenization: usable documents (over-long ones cut into passages),
    their token counts, and the sample plans."""

    group: Group
    doc_tokens: dict[str, int]
    plans: list[SamplePlan]
    counts: Counts
    rejects: list[tuple[Document, str]]


def passages(doc: Document, settings: MultidocConfig, counter) -> list[Document]:
    """An over-long document as passages of at most `max_doc_tokens` at paragraph (then
    sentence) boundaries, each a document `<id>#<k>` of the same source."""
    parts = [body.strip() for body, _ in chunk(doc.text, doc.lang, settings.max_doc_tokens, counter)]
    return [Document(f"{doc.id}#{k}", body, doc.lang, doc.source, doc.meta) for k, body in enumerate(p for p in parts if p)]


def prepare_group(group: Group, settings: MultidocConfig) -> PreparedGroup:
    """Tokenize every document of the group once, cut over-long ones into passages, and
    plan samples from the usable documents, so no QA is asked for one that cannot fit."""
    counter = get_counter(settings.tokenizer)
    sizes = counter.count_batch([d.text for d in group.docs])
    usable, doc_tokens, counts, rejects = [], {}, Counts(), []
    for doc, n in zip(group.docs, sizes):
        if n <= settings.max_doc_tokens:
            usable.append(doc)
            doc_tokens[doc.id] = n
            continue
        parts = passages(doc, settings, counter)
        part_sizes = counter.count_batch([p.text for p in parts])
        if len(parts) > settings.group_size or max(part_sizes) > settings.max_doc_tokens:
            rejects.append((doc, f"too long: {n} tokens, more than --group-size {settings.group_size} passages "
                                 f"of {settings.max_doc_tokens} tokens"))
            continue
        counts.add("documents", "split into passages").add("documents", "passages from split documents", len(parts))
        usable.extend(parts)
        doc_tokens.update((p.id, k) for p, k in zip(parts, part_sizes))
    kept = Group(group.index, tuple(usable))
    plans = plan_group(kept, settings) if len(kept.docs) >= settings.min_docs else []
    return PreparedGroup(kept, doc_tokens, plans, counts, rejects)


def assemble_group(prep: PreparedGroup, answers: dict[str, QA | Reject], settings: MultidocConfig) -> Result:
    """Pure function of its inputs: turns one group's plans and QAs into finished samples."""
    builder = _SampleBuilder(settings, get_counter(settings.tokenizer), prep.doc_tokens, len(prep.group.docs))
    qas = {r.doc.id: answers[r.key] for r in qa_requests(prep.plans, settings)}
    counts = Counts() + prep.counts
    samples = [s for s in (builder.build(plan, qas, list(prep.group.docs), counts) for plan in prep.plans)
               if s is not None]
    return Result(samples, counts, prep.rejects)


class _SampleBuilder:
    """Lays out one sample: numbered documents, questions after them, quoting answers.

    Every question must single out its gold document: no other document of the context
    holds its quote or all of its cues, and no document at all does for an
    "unanswerable" turn. Distractors that would break this are dropped; a turn whose
    conflict is another turn's gold document is dropped (counted by reason)."""

    def __init__(self, settings: MultidocConfig, counter, doc_tokens: dict[str, int], max_docs: int):
        self.s = settings
        self.counter = counter
        self.doc_tokens = doc_tokens
        self.tpl = load_template(settings.lang, "multidoc")
        # upper bound of a document's block overhead: its header with the most digits, plus separators
        self.block_overhead = counter.count(self.tpl["doc_header"].format(n=max_docs + 1)) + 3
        self._folded: dict[str, str] = {}
        self._terms: dict[str, object] = {}

    def folded(self, doc: Document) -> str:
        if doc.id not in self._folded:
            self._folded[doc.id] = fold(doc.text, self.s.lang)
        return self._folded[doc.id]

    def holds(self, doc: Document, qa: QA) -> bool:
        """Whether `doc` would answer `qa`: it holds the quote, or every cue."""
        folded = self.folded(doc)
        return qa.quote in doc.text or bool(qa.cues) and all(contains(folded, c, self.s.lang) for c in qa.cues)

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
        distractors = []
        for d in usable:
            if d.id in gold_ids:
                continue
            if any(self.holds(d, qa) for _, qa, _ in turns):  # would make the cited document ambiguous
                stats.add("drops", "distractor holding a quote or all cues of a question")
                continue
            distractors.append(d)
        rng.shuffle(distractors)
        golds = [d for d, _, u in turns if not u]
        # contexts are fitted for the longest answer style, so every style gets the same ones
        fixed_by = {st: self.counter.count_chat(self._messages(turns, [], placeholder=True, style=st))
                    for st in ANSWER_STYLES}
        fixed, margin = max(fixed_by.values()), max(fixed_by.values()) - fixed_by["cite-quote"]
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
            messages = self._messages(turns, context, style="cite-quote")
            num_tokens = self.counter.count_chat(messages)
            if num_tokens + margin <= self.s.max_tokens or not chosen:
                break
            stats.add("drops", "distractor dropped after the exact count")
            chosen.pop(rng.randrange(len(chosen)))
        if self.s.answer_style != "cite-quote":
            messages = self._messages(turns, context)
            num_tokens = self.counter.count_chat(messages)
        if num_tokens > self.s.max_tokens:
            stats.add("qa_rejects", "gold documents exceed the budget")
            return None
        return self._record(plan, turns, context, messages, num_tokens, stats)

    def _unambiguous(self, turns: list, stats: Counts) -> list:
        """Drop a turn that another gold document of the context would answer too (its quote
        or all its cues are there): the cited document would be ambiguous, or an
        'unanswerable' turn answerable."""
        in_context = [d for d, _, u in turns if not u]
        kept = []
        for doc, qa, unans in turns:
            other = next((d for d in in_context if d.id != doc.id and self.holds(d, qa)), None)
            if other is None:
                kept.append((doc, qa, unans))
            elif unans:
                stats.add("qa_rejects", "unanswerable turn answered by another gold document")
            else:
                stats.add("qa_rejects", "quote or cues shared with another gold document")
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

    def _messages(self, turns, context: list[Document], placeholder: bool = False,
                  style: str | None = None) -> list[dict]:
        tpl = self.tpl
        style = style or self.s.answer_style
        instruction, answer_tpl = (tpl["instruction"], tpl["quoted_answer"]) if style == "cite-quote" else \
            (tpl["answer_styles"][style]["instruction"], tpl["answer_styles"][style]["answer"])
        number = {d.id: i + 1 for i, d in enumerate(context)}
        blocks = "\n\n".join(f"{tpl['doc_header'].format(n=i + 1)}\n{d.text}" for i, d in enumerate(context))
        messages = []
        for t, (doc, qa, unans) in enumerate(turns):
            question = tpl["question_prefix"] + qa.question
            user = f"{instruction}\n\n{blocks}\n\n{question}" if t == 0 else question
            if unans:
                answer = tpl["unanswerable"]
            else:
                n = len(number) + 999 if placeholder else number[doc.id]
                opening, closing = quote_marks(tpl, qa.quote)
                answer = answer_tpl.format(n=n, open=opening, quote=qa.quote, close=closing, answer=qa.answer)
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
            "cues": [list(qa.cues) for _, qa, _ in turns],
            "gold_ranks": [0 if u else self._rank(qa, d, context) for d, qa, u in turns],
        }

    def _rank(self, qa: QA, gold: Document, context: list[Document]) -> int:
        """BM25 rank of the gold document among the context's documents for the question."""
        for d in context:
            if d.id not in self._terms:
                self._terms[d.id] = terms(d.text, self.s.lang)
        index = next(i for i, d in enumerate(context) if d.id == gold.id)
        return bm25_rank(terms(qa.question, self.s.lang), [self._terms[d.id] for d in context], index)


class MultidocTask(Task):
    """Groups of documents -> samples of several quoting QA turns over a shuffled context."""

    name = NAME
    Config = MultidocConfig
    columns = COLUMNS
    source_columns = ("source_ids",)
    description = "W-shaped multi-document QA whose answers quote the gold document's original text first."
    stats_columns = ("lang", "generator", "num_tokens", "num_docs", "gold_docs", "gold_positions", "effective_ratio",
                     "gold_ranks")

    def demo_corpus(self, lang: str):
        return [demo_corpus(lang)]

    def units(self, docs: Iterable[Document], cfg: MultidocConfig, rejects: RejectLog) -> Iterator[Group]:
        mixed = shuffled(usable_documents(docs, cfg, rejects), cfg.shuffle_buffer, rng_for(cfg.seed, "shuffle"))
        return groups(mixed, cfg)

    def prepare(self, unit: Group, cfg: MultidocConfig) -> PreparedGroup:
        return prepare_group(unit, cfg)

    def requests(self, prep: PreparedGroup, cfg: MultidocConfig, answers: dict) -> list[QARequest]:
        return qa_requests(prep.plans, cfg, prep.group.docs)

    def assemble(self, prep: PreparedGroup, answers: dict, cfg: MultidocConfig) -> Result:
        return assemble_group(prep, answers, cfg)

    def resolver(self, cfg: MultidocConfig, options, chat):
        return qa_writer(options, chat)

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

    def summary_lines(self, train: dict, counts: Counts) -> list[str]:
        from .multidoc_stats import summary_lines

        return summary_lines(train)
