"""eval-needle: configs zh-4k ... en-32k (any other budget via `task_config=`); test split only."""
from longdata.tasks.eval_needle import NeedleTask

from .base import TaskBuilder


class EvalNeedle(TaskBuilder):
    TASK = NeedleTask()
    BUDGETS_K = (4, 8, 16, 32)
