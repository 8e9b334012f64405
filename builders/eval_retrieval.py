"""eval-passage-retrieval: configs zh-4k ... en-32k (any other budget via `task_config=`); test split only."""
from longdata.tasks.eval_retrieval import RetrievalTask

from .base import TaskBuilder


class EvalPassageRetrieval(TaskBuilder):
    TASK = RetrievalTask()
    BUDGETS_K = (4, 8, 16, 32)
