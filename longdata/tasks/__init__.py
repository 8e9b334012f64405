"""One module per published dataset; `TASKS` names them for the CLI, the card and push."""
from __future__ import annotations

from .base import Result, Task
from .book_summary import BookSummaryTask
from .eval_needle import NeedleTask
from .eval_retrieval import RetrievalTask
from .long_corpus import LongCorpusTask
from .mixture import MixtureTask
from .multidoc import MultidocTask
from .paper_qa import PaperQATask
from .paper_summary import PaperSummaryTask

TASKS: dict[str, Task] = {t.name: t for t in (MultidocTask(), BookSummaryTask(), LongCorpusTask(), PaperSummaryTask(), PaperQATask(),
                                              MixtureTask(), RetrievalTask(), NeedleTask())}


def get_task(name: str) -> Task:
    if name not in TASKS:
        raise ValueError(f"unknown dataset {name!r}: choose from {', '.join(TASKS)}")
    return TASKS[name]


__all__ = ["TASKS", "Result", "Task", "get_task"]
