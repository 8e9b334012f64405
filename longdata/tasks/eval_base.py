"""What the evaluation sets share: a test split only, held-out documents, the leakage guard.

Their default corpus is the bundled held-out demo corpus (articles written for evaluation
only, never read by a training dataset). Every document is checked against the training
data (`--exclude`, plus every training dataset already built in the same `--out`): a
document used in training stops the build with its name.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar, Iterable, Iterator

from ..config import TaskConfig, option
from ..data import demo_eval
from ..documents import Document, RejectLog
from ..eval.leakage import TrainingIds
from .base import Task


@dataclass
class EvalConfig(TaskConfig):
    """Held-out documents in; a test split out."""

    not_read: ClassVar[tuple[str, ...]] = ("validation_ratio", "test_ratio")

    exclude: tuple[str, ...] = option((), "training data the set must not overlap: dataset folders (OUT/<dataset>) or "
                                          "id lists (.txt, one id per line; .jsonl with `id`); repeatable; every "
                                          "training dataset already built in --out is excluded too", repeat=True)


class EvalTask(Task):
    """Base of the evaluation sets."""

    purpose = "evaluation"
    default_config = "zh-32k"

    def splits(self, cfg: TaskConfig) -> tuple[str, ...]:
        return ("test",)

    def demo_corpus(self, lang: str) -> list[Path]:
        return [demo_eval(lang)]

    def split_of(self, cfg: TaskConfig, doc: Document) -> str:
        return "test"

    def with_outputs(self, cfg: EvalConfig, out: Path) -> EvalConfig:
        from . import TASKS

        built = [str(out / t.name) for t in TASKS.values()
                 if t.source_columns and (out / t.name / "manifest.json").is_file()]
        return replace(cfg, exclude=tuple(dict.fromkeys([*cfg.exclude, *built])))

    def held_out(self, docs: Iterable[Document], cfg: EvalConfig, rejects: RejectLog) -> Iterator[Document]:
        """The documents of the build's language, each checked against the training data."""
        training = TrainingIds(cfg.exclude)
        for doc in docs:
            if doc.lang != cfg.lang:
                rejects.add_doc(doc, f"language: detected {doc.lang}, building {cfg.lang}")
                continue
            training.check(doc)
            yield doc
