"""The shape every published dataset has: a `Task`.

A task names its dataset, its one config dataclass, its features and card, and holds the
work as pure functions: `units` groups the document stream (a group of documents, a book,
a document), `prepare` readies one unit in a worker, `requests` says what a generator
(an LLM, or the offline extractive one) must answer for it, and `assemble` turns the
prepared unit and the answers into samples, returning its counts with them. Everything
else (CLI, builder, engine, publish, card, summary) is generic over tasks.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Iterable, Iterator, Protocol, Sequence

from ..config import TaskConfig
from ..counts import Counts
from ..documents import Document, ReadOptions, RejectLog
from ..seeding import unit_interval

if TYPE_CHECKING:
    import datasets
    import pyarrow as pa

# A column type as plain data: a `datasets.Value` dtype ("string", "int32"), [item] for a
# list, {field: type} for a struct.
Column = Any
# what the rows of every chat dataset start with (`messages` is what TRL's SFTTrainer reads)
CHAT_COLUMNS: dict[str, Column] = {"id": "string", "messages": [{"role": "string", "content": "string"}],
                                   "lang": "string"}


@dataclass
class Result:
    """What one unit gives: its samples (in order), its counts, and the documents a worker
    rejected (written to the reject log by the main process)."""

    samples: list[dict]
    counts: Counts = field(default_factory=Counts)
    rejects: list[tuple[Document, str]] = field(default_factory=list)


class Resolver(Protocol):
    """Answers a task's requests: the extractive QA writer, an LLM QA writer, a chat client.
    `local` resolvers are pure CPU and stateless, so the engine runs them in its workers."""

    name: str
    local: bool

    def resolve(self, requests: Sequence[Any]) -> list[Any]: ...


class Task:
    """Base of every dataset task; subclasses set the class attributes and the work."""

    name: ClassVar[str]                   # "book-summary": the folder and Hub repo name
    Config: ClassVar[type[TaskConfig]]    # ONE dataclass: CLI flags and BuilderConfig derive from it
    columns: ClassVar[dict[str, Column]]  # the features as plain data: see `features`
    description: ClassVar[str]
    default_config: ClassVar[str] = "zh-32k"
    stats_columns: ClassVar[tuple[str, ...]] = ("lang", "num_tokens")
    # "training" data (what a mixture takes and an evaluation set must not overlap),
    # "mixture" or "evaluation"
    purpose: ClassVar[str] = "training"
    # the columns naming the source documents a sample was made from (the leakage guard of
    # evaluation sets reads them)
    source_columns: ClassVar[tuple[str, ...]] = ()

    @property
    def features(self) -> datasets.Features:
        """The `datasets.Features` of `columns`. Kept as plain data so that the task modules
        load without `datasets`: a worker pool then starts before that ~1.3 s import (see
        `generate.main`)."""
        return _features(type(self))

    @property
    def card(self) -> str:
        """The card template in cards/."""
        return f"{self.name}.md"

    # -- inputs ------------------------------------------------------------------------------
    def demo_corpus(self, lang: str) -> list[Path]:
        raise NotImplementedError

    def read_options(self, cfg: TaskConfig) -> ReadOptions:
        return ReadOptions(cfg.text_field, cfg.id_field)

    def split_key(self, doc: Document) -> str:
        """What splits are made by: no two splits share a key (a document id, a book id)."""
        return doc.id

    def split_of(self, cfg: TaskConfig, doc: Document) -> str:
        """The split a document goes to, by its key, so no item appears in two splits."""
        u = unit_interval("split", self.split_key(doc))
        if u < cfg.validation_ratio:
            return "validation"
        return "test" if u < cfg.validation_ratio + cfg.test_ratio else "train"

    def input_paths(self, cfg: TaskConfig) -> list[str]:
        """Every file the build reads besides the corpus."""
        return []

    def input_files(self, cfg: TaskConfig) -> dict[str, Path]:
        """Every file the build reads, by the name the manifest hashes it under."""
        from ..documents import corpus_files

        files = corpus_files(cfg.corpus or self.demo_corpus(cfg.lang))
        return {f.name: f for f in [*files, *map(Path, self.input_paths(cfg))]}

    def with_outputs(self, cfg: TaskConfig, out: Path) -> TaskConfig:
        """The config with defaults that come from what is already built in `out` (a
        mixture's long datasets); most tasks have none."""
        return cfg

    def splits(self, cfg: TaskConfig) -> tuple[str, ...]:
        """The splits built: train, and validation and test when their ratios are above 0."""
        ratios = {"validation": cfg.validation_ratio, "test": cfg.test_ratio}
        return tuple(s for s in ("train", "validation", "test") if s == "train" or ratios[s] > 0)

    # -- the work ----------------------------------------------------------------------------
    def units(self, docs: Iterable[Document], cfg: TaskConfig, rejects: RejectLog) -> Iterator[Any]:
        raise NotImplementedError

    def prepare(self, unit: Any, cfg: TaskConfig) -> Any:
        return unit

    def requests(self, prep: Any, cfg: TaskConfig, answers: dict[str, Any]) -> list[Any]:
        """What is still to be answered, given the answers so far (each request has a `key`).
        Called until it returns nothing, so work that needs earlier answers (chapter
        summaries, then the book's) asks in rounds."""
        return []

    def assemble(self, prep: Any, answers: dict[str, Any], cfg: TaskConfig) -> Result:
        raise NotImplementedError

    def resolver(self, cfg: TaskConfig, options: Any, chat: Any) -> Resolver | None:
        """What answers `requests` given the LLM options and the run's chat client (None
        offline); None when the task asks nothing."""
        return None

    def prompt_hashes(self, lang: str) -> dict[str, str]:
        return {}

    def not_enough(self, cfg: TaskConfig, rejects: RejectLog) -> str:
        return (f"no usable input for {self.name}: every record was rejected ({rejects.total}: "
                f"{dict(rejects.counts)}); check --corpus and --lang")

    # -- statistics for the card and the summary ---------------------------------------------
    def split_stats(self, table: pa.Table) -> dict:
        from ..stats import base_stats

        return base_stats(table)

    def stats_markdown(self, config: str, by_split: dict[str, dict]) -> str:
        from ..stats import tokens_markdown

        return tokens_markdown(config, by_split)

    def plots(self, table: pa.Table, title: str) -> dict[str, bytes]:
        from ..stats import token_plot

        return {"tokens": token_plot(table, title)}

    def quality_cells(self, record: dict) -> dict[str, str]:
        """Extra columns of the card's quality table, from a config's manifest record."""
        from ..stats import reasons_cell

        counts = record.get("counts", {})
        return {group.replace("_", " "): reasons_cell(_merged(counts.get(group, {})))
                for group in sorted(counts) if group not in ("samples", "rejects")}

    def summary_lines(self, train: dict, counts: Counts) -> list[str]:
        """Task lines of the end-of-run summary, from the train split's `split_stats` and
        the build's counts."""
        return []


def _merged(by_split: dict) -> dict:
    """A counts group as stored in the manifest: by split, then by key; summed over splits."""
    total: dict[str, int] = {}
    for counter in by_split.values():
        for key, n in counter.items():
            total[key] = total.get(key, 0) + n
    return total


@lru_cache(maxsize=None)
def _features(task: type[Task]) -> datasets.Features:
    import datasets

    def feature(column: Column):
        if isinstance(column, str):
            return datasets.Value(column)
        if isinstance(column, list):
            (item,) = column
            return datasets.List(feature(item))
        return {name: feature(c) for name, c in column.items()}

    return datasets.Features(feature(task.columns))
