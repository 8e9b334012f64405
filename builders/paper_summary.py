"""paper-summary: configs zh-8k ... en-32k (any other budget via `task_config=`)."""
from longdata.tasks.paper_summary import PaperSummaryTask

from .base import TaskBuilder


class PaperSummary(TaskBuilder):
    TASK = PaperSummaryTask()
