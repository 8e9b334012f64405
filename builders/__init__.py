"""`datasets` builders, one per published dataset, each a few lines on `TaskBuilder`."""
from .base import NotEnoughData, TaskBuilder
from .book_summary import BookSummary
from .longdata_corpus import LongdataCorpus
from .multidoc_paraphrase import MultidocParaphrase

BUILDERS: dict[str, type[TaskBuilder]] = {b.NAME: b for b in (MultidocParaphrase, BookSummary, LongdataCorpus)}

__all__ = ["BUILDERS", "BookSummary", "LongdataCorpus", "MultidocParaphrase", "NotEnoughData", "TaskBuilder"]
