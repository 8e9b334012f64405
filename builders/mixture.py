"""mixture: configs zh-8k ... en-32k (any other budget via `task_config=`); train split only."""
from longdata.tasks.mixture import MixtureTask

from .base import TaskBuilder


class Mixture(TaskBuilder):
    TASK = MixtureTask()
