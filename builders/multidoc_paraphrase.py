"""Builder for multidoc-paraphrase: a config dataclass plus a thin `_generate_examples`."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterator

import datasets

from longdata.data import demo_corpus
from longdata.documents import ReadOptions, RejectLog, read_documents
from longdata.llm.base import Generator, QARequest
from longdata.llm.extractive import ExtractiveGenerator
from longdata.seeding import unit_interval
from longdata.tasks import multidoc

SPLITS = ("train", "validation", "test")


@dataclass
class MultidocParaphraseConfig(datasets.BuilderConfig):
    """One language and token budget; named `<lang>-<budget>k` (e.g. `zh-32k`)."""

    lang: str = "zh"
    max_tokens: int = 32768
    corpus: tuple[str, ...] = ()  # empty: the bundled demo corpus of `lang`
    group_size: int = 100
    turns: int = 5
    seed: int = 0
    unanswerable_ratio: float = 0.1
    num_samples: int | None = None
    validation_ratio: float = 0.05
    test_ratio: float = 0.05
    text_field: str = "text"
    id_field: str = "id"
    tokenizer: str = "qwen"
    num_proc: int = 1

    @staticmethod
    def name_for(lang: str, max_tokens: int) -> str:
        return f"{lang}-{max_tokens // 1024}k" if max_tokens % 1024 == 0 else f"{lang}-{max_tokens}"

    def settings(self) -> multidoc.MultidocSettings:
        fields = multidoc.MultidocSettings.__dataclass_fields__
        return multidoc.MultidocSettings(**{k: v for k, v in asdict(self).items() if k in fields})

    def corpus_paths(self) -> list[str]:
        return list(self.corpus) or [str(demo_corpus(self.lang))]

    def split_of(self, doc_id: str) -> str:
        """Split by source document, so no document appears in two splits."""
        u = unit_interval("split", doc_id)
        if u < self.validation_ratio:
            return "validation"
        return "test" if u < self.validation_ratio + self.test_ratio else "train"


class MultidocParaphrase(datasets.GeneratorBasedBuilder):
    NAME = multidoc.NAME
    BUILDER_CONFIG_CLASS = MultidocParaphraseConfig
    BUILDER_CONFIGS = [
        MultidocParaphraseConfig(name=MultidocParaphraseConfig.name_for(lang, k * 1024), lang=lang, max_tokens=k * 1024)
        for lang in ("zh", "en") for k in (8, 16, 32)
    ]
    DEFAULT_CONFIG_NAME = "zh-32k"

    def __init__(self, *args, generator: Generator | None = None, rejects: RejectLog | None = None,
                 config_name: str | None = None, **kwargs):
        if config_name is not None and config_name not in {c.name for c in self.BUILDER_CONFIGS}:
            # any other budget or language: made on the fly from the default config and kwargs
            config_name, kwargs["name"] = None, config_name
        self.generator = generator or ExtractiveGenerator()
        self.rejects = rejects if rejects is not None else RejectLog()
        self.stats: dict[str, multidoc.BuildStats] = {}
        super().__init__(*args, config_name=config_name, **kwargs)

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(
            description="W-shaped multi-document QA whose answers quote the gold document's original text first.",
            features=multidoc.FEATURES,
        )

    def _split_generators(self, dl_manager):
        ratios = {"validation": self.config.validation_ratio, "test": self.config.test_ratio}
        return [datasets.SplitGenerator(name=s, gen_kwargs={"split": s}) for s in SPLITS if s == "train" or ratios[s] > 0]

    def _split_docs(self, split: str):
        cfg = self.config
        # Every split re-reads the corpus; record-level rejects are logged on the train pass only.
        read_rejects = self.rejects if split == "train" else RejectLog()
        return (d for d in read_documents(cfg.corpus_paths(), read_rejects, ReadOptions(cfg.text_field, cfg.id_field))
                if cfg.split_of(d.id) == split)

    def planned_requests(self) -> Iterator[QARequest]:
        """Every QA request of every split, without generating (dry runs, the Batch API)."""
        for split in SPLITS:
            yield from multidoc.planned_requests(self._split_docs(split), self.config.settings(), RejectLog())

    def _generate_examples(self, split: str):
        cfg = self.config
        docs = self._split_docs(split)
        stats = self.stats.setdefault(split, multidoc.BuildStats())
        try:
            for sample in multidoc.build_samples(docs, cfg.settings(), self.generator, self.rejects, stats):
                yield sample["id"], sample
        except multidoc.NotEnoughDocuments:
            if split == "train":
                raise
            # a small corpus may leave too few documents for a validation or test sample
