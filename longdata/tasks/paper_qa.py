"""paper-qa: questions about passages of a paper, asked over the whole paper.

Each turn's passage is at most `--passage-words` words (jieba words for zh) of whole
paragraphs, at a seeded position; the positions of a paper's turns are stratified so they
spread over it. The QA writer (extractive offline, or the LLM with the same cache,
retries and quote pinning as multidoc) sees only the passage; the answer quotes it
first, and the whole paper (cut at section boundaries to the budget) is the context.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


from ..config import option
from ..counts import Counts
from ..documents import Document, split_source
from ..papers import Paper, sections
from ..prompts import load_template, quote_marks
from ..qa import qa_writer
from ..qa.base import QA, QARequest, Reject
from ..seeding import rng_for, stable_hash
from ..text import word_count
from ..tokens import get_counter
from .base import CHAT_COLUMNS, Result
from .paper_summary import PaperConfig, PaperTask, fit_sections

NAME = "paper-qa"
TURN_TOKENS = 400  # kept free per turn for its question and quoting answer

COLUMNS = {
    **CHAT_COLUMNS,
    "paper_id": "string",
    "passage_positions": ["float32"],
    "num_tokens": "int32",
    "effective_ratio": "float32",
    "generator": "string",
    "source": "string",
}


@dataclass
class PaperQAConfig(PaperConfig):
    """One language and budget of paper-qa; named `<lang>-<budget>k`."""

    passage_words: int = option(4000, "words per passage at most (jieba words for zh), whole paragraphs")
    qa_per_paper: int = option(3, "turns per sample, each about a different passage")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.qa_per_paper < 1 or self.passage_words < 1:
            raise ValueError("--qa-per-paper and --passage-words must be at least 1")


@dataclass
class PreparedPaper:
    paper: Paper
    context: str                   # the paper as the prompt shows it
    passages: list[tuple[Document, float]]  # passage as a document, relative position in the context
    counts: Counts


def choose_passages(paper: Paper, context: str, body: str, cfg: PaperQAConfig) -> list[tuple[Document, float]]:
    """Up to `qa_per_paper` non-overlapping passages of whole paragraphs within the word
    limit, starting at stratified seeded positions of the body; a passage stays inside its
    stratum (the turn's share of the paragraphs), so the turns spread over the paper."""
    paragraphs = [p for p in body.split("\n\n") if p.strip()]
    words = [word_count(p, paper.lang) for p in paragraphs]
    rng = rng_for(cfg.seed, "passages", paper.id)
    out, used = [], set()
    n = len(paragraphs)
    for turn in range(cfg.qa_per_paper):
        start = min(int((turn + rng.random()) / cfg.qa_per_paper * n), n - 1)
        while start < n and (start in used or words[start] > cfg.passage_words):
            start += 1
        if start >= n:
            continue
        end, total = start, 0
        stratum_end = max(start + 1, int((turn + 1) / cfg.qa_per_paper * n))
        while end < stratum_end and end not in used and total + words[end] <= cfg.passage_words:
            total += words[end]
            end += 1
        used.update(range(start, end))
        text = "\n\n".join(paragraphs[start:end])
        doc = Document(f"{paper.id}@{start}", text, paper.lang, paper.source)
        out.append((doc, context.index(text) / max(1, len(context))))
    return out


class PaperQATask(PaperTask):
    """Papers -> several quoting QA turns over the whole paper."""

    name = NAME
    Config = PaperQAConfig
    columns = COLUMNS
    source_columns = ("paper_id",)
    description = "Questions about passages of a paper, asked over the whole paper; answers quote the passage first."
    stats_columns = ("lang", "num_tokens", "passage_positions", "effective_ratio")
    extra_prompts = ("extractive.json", "qa.txt", "qa_system.txt", "qa_repair.txt")

    def prepare(self, paper: Paper, cfg: PaperQAConfig) -> PreparedPaper:
        counter = get_counter(cfg.tokenizer)
        tpl = load_template(cfg.lang, "paper")
        instruction = tpl["qa_instruction"].format(title=paper.title)
        head = f"{paper.title}\n\n{tpl['abstract_heading']}\n{paper.abstract}"
        room = cfg.max_tokens - counter.count(instruction + head) - cfg.qa_per_paper * TURN_TOKENS - 32
        kept, truncated = fit_sections(sections(paper.body), room, counter)
        counts = Counts().add("papers", "truncated at a section boundary" if truncated else "whole paper")
        body = "\n\n".join(kept)
        context = f"{head}\n\n{body}"
        return PreparedPaper(paper, context, choose_passages(paper, context, body, cfg) if kept else [], counts)

    def requests(self, prep: PreparedPaper, cfg: PaperQAConfig, answers: dict) -> list[QARequest]:
        return [QARequest(doc, f"{cfg.seed}:{doc.id}", cfg.lang) for doc, _ in prep.passages]

    def assemble(self, prep: PreparedPaper, answers: dict, cfg: PaperQAConfig) -> Result:
        counter = get_counter(cfg.tokenizer)
        tpl = load_template(cfg.lang, "paper")
        counts = Counts() + prep.counts
        turns: list[tuple[QA, float]] = []
        for (doc, position), req in zip(prep.passages, self.requests(prep, cfg, answers)):
            qa = answers.get(req.key)
            if qa is None:  # offline without a QA writer cannot happen: the task always has one
                continue
            if isinstance(qa, Reject):
                counts.add("qa_rejects", qa.reason)
            else:
                turns.append((qa, position))
        while turns:
            messages = self._messages(prep, turns, tpl)
            num_tokens = counter.count_chat(messages)
            if num_tokens <= cfg.max_tokens:
                break
            counts.add("qa_rejects", "turn dropped to fit the budget")
            turns = turns[:-1]
        if not turns:
            counts.add("paper_rejects", "no usable QA")
            return Result([], counts)
        quote_tokens = sum(counter.count(qa.quote) for qa, _ in turns)
        answer_tokens = sum(counter.count(m["content"]) for m in messages if m["role"] == "assistant")
        sample = {"id": stable_hash(cfg.seed, prep.paper.id)[:16], "messages": messages, "lang": prep.paper.lang,
                  "paper_id": prep.paper.id, "passage_positions": [p for _, p in turns], "num_tokens": num_tokens,
                  "effective_ratio": quote_tokens / answer_tokens if answer_tokens else 0.0,
                  "generator": turns[0][0].generator,
                  "source": Path(split_source(prep.paper.source)[0]).name}
        return Result([sample], counts)

    @staticmethod
    def _messages(prep: PreparedPaper, turns: list, tpl: dict) -> list[dict]:
        messages = []
        for i, (qa, _) in enumerate(turns):
            question = tpl["question_prefix"] + qa.question
            user = (f"{tpl['qa_instruction'].format(title=prep.paper.title)}\n\n{prep.context}\n\n{question}"
                    if i == 0 else question)
            opening, closing = quote_marks(tpl, qa.quote)
            answer = tpl["quoted_answer"].format(open=opening, quote=qa.quote, close=closing, answer=qa.answer)
            messages += [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]
        return messages

    def resolver(self, cfg: PaperQAConfig, options, chat):
        return qa_writer(options, chat)

    def split_stats(self, table):
        import numpy as np

        from ..stats import base_stats, column, spread

        positions = table.column("passage_positions").combine_chunks().flatten().to_numpy(zero_copy_only=False)
        hist, _ = np.histogram(np.clip(positions, 0, 1), bins=10, range=(0.0, 1.0))
        return {**base_stats(table), "effective_ratio": spread(column(table, "effective_ratio", np.float64)),
                "positions": [int(c) for c in hist]}

    def stats_markdown(self, config: str, by_split: dict) -> str:
        from ..stats import tokens_markdown

        table = tokens_markdown(config, by_split, [("effective ratio (mean)", "effective_ratio")])
        rows = [f"| {split} | " + " | ".join(map(str, s["positions"])) + " |" for split, s in by_split.items()]
        return (table + f"\n\nTurns by where their passage starts in the paper ({config}, tenths):\n\n"
                + "| split |" + " |".join(f" {i / 10:.1f}" for i in range(10)) + " |\n|---|" + "---|" * 10 + "\n"
                + "\n".join(rows))

    def summary_lines(self, train: dict, counts: Counts) -> list[str]:
        return [f"effective ratio:  mean {train['effective_ratio']['mean']:.3f}",
                "passage starts:   " + " ".join(map(str, train["positions"])) + " (tenths of the paper)"]
