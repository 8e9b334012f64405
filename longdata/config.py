"""Config dataclasses, and the command-line flags derived from them.

Every dataset has ONE config dataclass (TRL's `SFTConfig` style): each field has a
default and a help text, and both the `--flags` of `python -m longdata.generate` and the
`datasets.BuilderConfig` of its builder derive from it, so nothing is kept twice.
`option()` declares a field; `add_flags()` turns fields into argparse flags;
`from_flags()` reads them back into a config.
"""
from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Iterable

# Fields that describe how a build ran or where its inputs came from, not the samples:
# they never enter the manifest's `settings`.
NOT_SETTINGS = ("name", "version", "data_dir", "data_files", "description", "corpus")


def option(default: Any, help: str, **cli: Any) -> Any:
    """A config field with its help text. `cli` may hold `choices`, `multi=True` (a comma
    list on the command line builds one config per value) or `repeat=True` (the flag may
    be given several times; the field is a tuple)."""
    factory = {"default_factory": lambda: default} if isinstance(default, (list, dict)) else {"default": default}
    return field(metadata={"help": help, **cli}, **factory)


@dataclass
class TaskConfig:
    """What every dataset shares: language, inputs, budget, seed and splits."""

    lang: str = option("zh", "language of the samples (documents of other languages are rejected)",
                       choices=("zh", "en"))
    corpus: tuple[str, ...] = option((), "input file or folder (.jsonl, .jsonl.gz, .parquet, .txt); repeatable; "
                                         "default: the bundled demo data", repeat=True)
    max_tokens: int = option(32768, "token budget per sample (Qwen tokens, chat template included); a comma "
                                    "list builds one config each", multi=True)
    seed: int = option(0, "every random choice is seeded by (seed, item key)")
    num_samples: int | None = option(None, "at most this many samples per split (default: all)")
    validation_ratio: float = option(0.05, "share of source items (documents, books) for validation")
    test_ratio: float = option(0.05, "share of source items (documents, books) for test")
    text_field: str = option("text", "JSON/parquet field holding the text")
    id_field: str = option("id", "field holding the record id (derived from the text when absent)")
    tokenizer: str = option("qwen", "`qwen` (offline, the Qwen vocabulary) or a Hugging Face tokenizer name or path")
    # shared fields a dataset does not read (a mixture has no corpus fields or splits): kept
    # out of its settings, so its card shows only what decided it
    not_read: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        if self.max_tokens < 1024:
            raise ValueError(f"--max-tokens must be at least 1024, got {self.max_tokens}")
        if not (0 <= self.validation_ratio < 1 and 0 <= self.test_ratio < 1
                and self.validation_ratio + self.test_ratio < 1):
            raise ValueError("--validation-ratio and --test-ratio must be in [0, 1) and sum to less than 1")

    @property
    def config_name(self) -> str:
        """`<lang>-<budget>k`, e.g. `zh-32k` (or `<lang>-<budget>` for a budget not in KiB)."""
        return config_name(self.lang, self.max_tokens)

    def settings(self) -> dict:
        """What decides the samples, for the manifest and the card."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in NOT_SETTINGS and f.name not in self.not_read}


def config_name(lang: str, max_tokens: int) -> str:
    return f"{lang}-{max_tokens // 1024}k" if max_tokens % 1024 == 0 else f"{lang}-{max_tokens}"


def task_fields(config_class: type) -> list[dataclasses.Field]:
    """The fields of a config class that carry a help text (those of datasets.BuilderConfig do not)."""
    return [f for f in fields(config_class) if "help" in f.metadata]


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _base_type(tp: Any) -> type:
    """int for `int | None`, str for `tuple[str, ...]`."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return next(_base_type(a) for a in typing.get_args(tp) if a is not type(None))
    if origin in (tuple, list):
        return _base_type(typing.get_args(tp)[0])
    return tp


def _comma_list(kind: type):
    def parse(text: str) -> list:
        try:
            values = [kind(x) for x in text.split(",") if x.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {kind.__name__} values separated by commas, got {text!r}")
        if not values:
            raise argparse.ArgumentTypeError("expected at least one value")
        return values
    return parse


def add_flags(parser: argparse.ArgumentParser | argparse._ArgumentGroup, config_classes: Iterable[type],
              title: str | None = None) -> None:
    """One flag per field of the config classes (fields shared by several classes once).
    Defaults are not put into the namespace (`SUPPRESS`): each config keeps its own, and
    `from_flags` sees only what the user gave."""
    seen: set[str] = set()
    for cls in config_classes:
        hints = typing.get_type_hints(cls)
        for f in task_fields(cls):
            if f.name in seen:
                continue
            seen.add(f.name)
            meta, tp = f.metadata, hints[f.name]
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
            shown = "" if default in (None, (), "") else f" (default: {default})"
            kw: dict[str, Any] = {"help": meta["help"] + shown, "default": argparse.SUPPRESS, "dest": f.name}
            kind = _base_type(tp)
            if kind is bool:
                kw["action"] = argparse.BooleanOptionalAction
            elif meta.get("repeat"):
                kw.update(action="append", type=kind)
            elif meta.get("multi"):
                kw["type"] = _comma_list(kind)
            else:
                kw["type"] = kind
            if "choices" in meta:
                kw["choices"] = meta["choices"]
            parser.add_argument(flag(f.name), **kw)


def from_flags(config_class: type, namespace: argparse.Namespace, **overrides: Any):
    """A config from the flags the user gave (the others keep their defaults)."""
    given = {f.name: getattr(namespace, f.name) for f in task_fields(config_class) if hasattr(namespace, f.name)}
    for name, value in list(given.items()):
        if isinstance(value, list):
            given[name] = tuple(value)
    given.update(overrides)
    return config_class(**given)


def multi_values(config_classes: Iterable[type], namespace: argparse.Namespace) -> dict[str, list]:
    """The comma-list flags the user gave (`--max-tokens 8192,32768`): one config per value."""
    out = {}
    for cls in config_classes:
        for f in task_fields(cls):
            if f.metadata.get("multi") and hasattr(namespace, f.name):
                out[f.name] = list(getattr(namespace, f.name))
    return out
