"""`TaskBuilder`: the one `datasets.GeneratorBasedBuilder` every published dataset uses.

A dataset's builder names its task and budgets; the BuilderConfig class is derived from
the task's config dataclass (plus `datasets.BuilderConfig`'s own fields), so the builder,
the CLI and the library share one definition. Built in code (`download_and_prepare`);
the Hub only ever gets parquet and a card.
"""
from __future__ import annotations

import dataclasses
from typing import ClassVar

import datasets
from tqdm.auto import tqdm

from longdata.config import TaskConfig, config_name, task_fields
from longdata.report import Report
from longdata.splits import SplitResults
from longdata.tasks.base import Resolver, Task


class NotEnoughData(RuntimeError):
    """Nothing usable for one sample: says what is needed."""


def builder_config_class(config_class: type[TaskConfig]) -> type:
    """`datasets.BuilderConfig` + the task's config dataclass, validated by both."""

    def __post_init__(self):
        datasets.BuilderConfig.__post_init__(self)
        config_class.__post_init__(self)

    cls = type(config_class.__name__.replace("Config", "BuilderConfig"), (datasets.BuilderConfig, config_class),
               {"__post_init__": __post_init__, "__doc__": config_class.__doc__})
    return dataclasses.dataclass(cls)


class TaskBuilder(datasets.GeneratorBasedBuilder):
    """Subclasses set TASK and BUDGETS_K; configs are `<lang>-<k>k` for zh and en."""

    TASK: ClassVar[Task]
    BUDGETS_K: ClassVar[tuple[int, ...]] = (8, 16, 32)
    # a multidoc row is ~100 KB at 32k: flush the Arrow writer every 32 rows, not 1000
    DEFAULT_WRITER_BATCH_SIZE = 32

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.NAME = cls.TASK.name
        cls.BUILDER_CONFIG_CLASS = builder_config_class(cls.TASK.Config)
        cls.BUILDER_CONFIGS = [cls.BUILDER_CONFIG_CLASS(name=config_name(lang, k * 1024), lang=lang,
                                                        max_tokens=k * 1024)
                               for lang in ("zh", "en") for k in cls.BUDGETS_K]
        cls.DEFAULT_CONFIG_NAME = cls.TASK.default_config

    def __init__(self, *args, task_config: TaskConfig | None = None, resolver: Resolver | None = None,
                 report: Report | None = None, num_proc: int = 1, engine: str = "local",
                 ray_address: str | None = None, results: SplitResults | None = None, **kwargs):
        """`task_config` builds exactly that config (any language or budget); otherwise the
        usual `config_name=` picks one of BUILDER_CONFIGS. `resolver` answers the task's
        requests (default: the task's offline one); `report` receives counts and rejects;
        `num_proc` is how many worker processes run units and `engine` what runs them
        (`local` or `ray`, joining `ray_address` when given): the output is the same for any.
        `results`, made (and perhaps started) for `task_config` beforehand, takes the place
        of all five (see `SplitResults.start`)."""
        if task_config is not None:
            kwargs.update(config_name=None, name=task_config.config_name,
                          **{f.name: getattr(task_config, f.name) for f in task_fields(type(task_config))})
        super().__init__(*args, **kwargs)
        self.results = results if results is not None else SplitResults(
            self.TASK, self.task_config, report if report is not None else Report(), resolver, num_proc, engine,
            ray_address)
        self.report, self.resolver = self.results.report, self.results.resolver

    @property
    def task_config(self) -> TaskConfig:
        """The config as the task's own dataclass (what its pure functions take)."""
        cls = self.TASK.Config
        return cls(**{f.name: getattr(self.config, f.name) for f in task_fields(cls)})

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(description=self.TASK.description, features=self.TASK.features)

    def _split_generators(self, dl_manager):
        return [datasets.SplitGenerator(name=s, gen_kwargs={"split": s}) for s in self.TASK.splits(self.task_config)]

    def _generate_examples(self, split: str):
        cfg = self.task_config
        found, yielded = False, 0
        progress = tqdm(desc=f"{self.TASK.name} {cfg.config_name} {split}", unit="unit", disable=None, leave=False)
        try:
            for result in self.results.of(split):
                found = True
                progress.update()
                self.report.add(split, result)
                for sample in result.samples:
                    if cfg.num_samples is not None and yielded >= cfg.num_samples:
                        return
                    yielded += 1
                    yield sample["id"], sample
        finally:
            progress.close()
            self.results.finish(split)  # the last split's stops the engine if a cap left units in flight
        if not found and split == self.TASK.splits(cfg)[0]:
            raise NotEnoughData(self.TASK.not_enough(cfg, self.report.rejects))
        # a small corpus may leave too few items for a validation or test sample
