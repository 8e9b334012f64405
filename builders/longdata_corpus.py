"""longdata-corpus: configs zh-8k ... en-32k (the chunk budget; any other via `task_config=`)."""
from longdata.tasks.long_corpus import LongCorpusTask

from .base import TaskBuilder


class LongdataCorpus(TaskBuilder):
    TASK = LongCorpusTask()
