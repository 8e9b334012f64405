"""`datasets` builders, one per published dataset, each a few lines on `TaskBuilder`."""
from .base import NotEnoughData, TaskBuilder
from .book_summary import BookSummary
from .eval_needle import EvalNeedle
from .eval_retrieval import EvalPassageRetrieval
from .longdata_corpus import LongdataCorpus
from .mixture import Mixture
from .multidoc_paraphrase import MultidocParaphrase
from .paper_qa import PaperQA
from .paper_summary import PaperSummary

BUILDERS: dict[str, type[TaskBuilder]] = {b.NAME: b for b in (MultidocParaphrase, BookSummary, LongdataCorpus, PaperSummary, PaperQA,
                                                          Mixture, EvalPassageRetrieval, EvalNeedle)}

__all__ = ["BUILDERS", "BookSummary", "EvalNeedle", "EvalPassageRetrieval", "LongdataCorpus", "Mixture", "PaperQA", "PaperSummary", "MultidocParaphrase", "NotEnoughData", "TaskBuilder"]
