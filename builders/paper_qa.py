"""paper-qa: configs zh-8k ... en-32k (any other budget via `task_config=`)."""
from longdata.tasks.paper_qa import PaperQATask

from .base import TaskBuilder


class PaperQA(TaskBuilder):
    TASK = PaperQATask()
