"""`datasets` builders, one per published dataset, each a few lines on `TaskBuilder`."""
from .base import NotEnoughData, TaskBuilder
from .multidoc_paraphrase import MultidocParaphrase

BUILDERS: dict[str, type[TaskBuilder]] = {b.NAME: b for b in (MultidocParaphrase,)}

__all__ = ["BUILDERS", "MultidocParaphrase", "NotEnoughData", "TaskBuilder"]
