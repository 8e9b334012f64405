"""multidoc-paraphrase: configs zh-8k ... en-32k (any other budget via `task_config=`)."""
from longdata.tasks.multidoc import MultidocTask

from .base import TaskBuilder


class MultidocParaphrase(TaskBuilder):
    TASK = MultidocTask()
