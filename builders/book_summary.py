"""book-summary: configs zh-8k ... en-32k (any other budget via `task_config=`)."""
from longdata.tasks.book_summary import BookSummaryTask

from .base import TaskBuilder


class BookSummary(TaskBuilder):
    TASK = BookSummaryTask()
