"""mixture: the training mix, built long datasets plus short instructions and long conversations.

The method trains on its long data mixed with short instructions and long multi-turn
conversations (1000 of each) so the model keeps its other abilities. Components:
`long` (folders this package built, or Hub ids, read with `load_dataset`), `short` and
`conversations` (user files as `messages`, ShareGPT or Alpaca records). Every usable
record gets a seeded key; the mix takes, per component (and per length bin with a
`--length-target`), the records with the smallest keys, so counts are exact and the
choice never depends on file order or process count. Output is in key order, which
interleaves the components. Only the train split: the long datasets' validation and
test splits never enter the mix.
"""
from __future__ import annotations

import heapq
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Iterable, Iterator

from ..config import TaskConfig, option
from ..conversations import to_messages
from ..counts import Counts
from ..data import demo_chats
from ..documents import Document, RejectLog, corpus_files, iter_records
from ..mixing import (COMPONENTS, Bin, allocate, component_counts, largest_remainder, parse_components,
                      parse_length_target)
from ..seeding import stable_hash

if TYPE_CHECKING:
    import datasets
from ..text import cjk_ratio, detect_lang
from ..tokens import get_counter
from .base import CHAT_COLUMNS, Result, Task

NAME = "mixture"
SHORT_TEXT = 200  # characters

COLUMNS = {
    **CHAT_COLUMNS,
    "num_tokens": "int32",
    "component": "string",
    "source": "string",
}


@dataclass
class MixtureConfig(TaskConfig):
    """What goes into the mix and how much of each; `--corpus` is not read."""

    not_read: ClassVar[tuple[str, ...]] = ("validation_ratio", "test_ratio", "text_field", "id_field")

    long: tuple[str, ...] = option((), "a built long dataset: folder (OUT/<dataset>) or Hub id, `:CONFIG` to pick its "
                                       "config (default: this build's, e.g. zh-32k); repeatable; default: every "
                                       "training dataset already built in --out", repeat=True)
    short: tuple[str, ...] = option((), "short instructions: `messages`, ShareGPT or Alpaca records (.jsonl, "
                                        ".jsonl.gz, .json, .parquet, or a folder); repeatable; default: the bundled "
                                        "demo ones", repeat=True)
    conversations: tuple[str, ...] = option((), "long multi-turn conversations, same formats; repeatable; default: "
                                                "the bundled demo ones", repeat=True)
    counts: str = option("", "samples per component, exact: e.g. long:5000,short:1000,conversations:1000 (the "
                             "method's 1000 short and 1000 conversations); default: all of each")
    ratios: str = option("", "shares per component instead, e.g. long:8,short:1,conversations:1: the largest mix "
                             "the inputs allow, or --num-samples samples")
    length_target: str = option("", "length profile to sample to, e.g. 0-8k:38,8k-16k:40,16k-32k:22 (percent of "
                                    "samples per token range); needs --counts or --ratios")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.counts and self.ratios:
            raise ValueError("give --counts or --ratios, not both")
        if self.counts and self.num_samples is not None:
            raise ValueError("--counts fixes the size of the mix: drop --num-samples (it sizes a --ratios mix)")
        if self.length_target and not (self.counts or self.ratios):
            raise ValueError("--length-target picks which samples, not how many: give --counts or --ratios too")
        self.component_counts()
        self.component_ratios()
        self.bins()

    def component_counts(self) -> dict[str, float] | None:
        return parse_components(self.counts, "--counts", int) if self.counts else None

    def component_ratios(self) -> dict[str, float] | None:
        return parse_components(self.ratios, "--ratios", float) if self.ratios else None

    def bins(self) -> list[tuple[Bin, float]]:
        """The target's bins and shares, or one bin holding every length within the budget."""
        if self.length_target:
            return parse_length_target(self.length_target, self.max_tokens)
        return [(Bin(0, self.max_tokens), 1.0)]

    def report_bins(self) -> list[Bin]:
        """What the length histogram shows: the target's bins, or 0-4k, 4k-8k, ... up to the budget."""
        if self.length_target:
            return [b for b, _ in self.bins()]
        edges = [0, 4096]
        while edges[-1] < self.max_tokens:
            edges.append(min(edges[-1] * 2, self.max_tokens))
        return [Bin(lo, hi) for lo, hi in zip(edges, edges[1:])]


@dataclass(frozen=True)
class Candidate:
    """A usable record, as small as possible: the mix keeps many and reads the chosen ones again."""

    key: str
    component: str
    where: tuple  # ("file", path, line) or ("long", input index, row)
    source: str
    lang: str
    num_tokens: int


def long_spec(spec: str, config: str) -> tuple[str, str]:
    """`FOLDER_OR_HUB_ID[:CONFIG]` -> (path or id, config)."""
    path, sep, name = spec.rpartition(":")
    if sep and name and "/" not in name and not Path(spec).exists():
        return path, name
    return spec, config


def chat_files(paths: Iterable[str]) -> list[Path]:
    """Files behind the given files and folders: .json (a list of records) besides the readers' kinds."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_file() and p.name.lower().endswith(".json"):
            files.append(p)
        else:
            files.extend(f for f in corpus_files([p]) if not f.name.endswith(".txt"))
            files.extend(sorted(f for f in p.rglob("*.json") if f.is_file()) if p.is_dir() else [])
    return files


def chat_records(path: Path, rejects: RejectLog) -> Iterator[tuple[int, object]]:
    """(line or index, record) of a chat file; a .json file is read whole (prefer JSONL for large ones)."""
    if not path.name.lower().endswith(".json"):
        yield from iter_records(path, rejects)
        return
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        rejects.add(path.name, 0, f"damaged file: {err}; a .json file must hold one JSON list of records",
                    record=True)
        return
    yield from enumerate(data if isinstance(data, list) else [data], 1)


def chat_lang(text: str) -> str:
    """The language of a chat record. Below SHORT_TEXT characters (`Add 1 and 2.` -> `3`)
    a language detector guesses: there the script decides, zh for mostly Chinese characters."""
    if len(text) >= SHORT_TEXT:
        return detect_lang(text)
    return "zh" if cjk_ratio(text) >= 0.3 else "en"


def load_long(spec: str, config: str) -> tuple[str, datasets.Dataset]:
    """(label, train split) of a built long dataset, with a clear error when it cannot be used."""
    import datasets  # here, not at the top: task modules load without it (see Task.features)

    path, name = long_spec(spec, config)
    try:
        ds = datasets.load_dataset(path, name, split="train")
    except Exception as err:  # datasets raises many kinds; say which input and what to do
        try:
            have = ", ".join(datasets.get_dataset_config_names(path))
        except Exception:
            have = "none readable"
        raise ValueError(f"--long {spec}: cannot load config {name!r} ({type(err).__name__}: {err}); configs "
                         f"there: {have}. Pick one with {path}:CONFIG") from err
    missing = {"messages"} - set(ds.column_names)
    if missing:
        raise ValueError(f"--long {spec}: no `messages` column (columns: {', '.join(ds.column_names)})")
    return f"{Path(path).name or path}/{name}", ds


class Selection:
    """Per component and bin, the records with the smallest keys (a bounded heap when the
    counts are known up front, so memory follows the mix's size, not the inputs')."""

    def __init__(self, cfg: MixtureConfig, rejects: RejectLog):
        self.cfg, self.rejects = cfg, rejects
        self.bins = cfg.bins()
        counts = cfg.component_counts()
        self.cap = {c: int(counts.get(c, 0)) if counts else None for c in COMPONENTS}
        self.heaps: dict[tuple[str, int], list] = {}
        self.keys: dict[tuple[str, int], set[str]] = {}
        self.available = {c: [0] * len(self.bins) for c in COMPONENTS}
        self.duplicates = Counts()

    def offer(self, cand: Candidate, file: str, line: int) -> None:
        """Consider a usable record (rejects those outside the target or the budget)."""
        if cand.num_tokens > self.cfg.max_tokens:
            self.rejects.add(file, line, f"over the budget: {cand.num_tokens} tokens > {self.cfg.max_tokens}")
            return
        b = next((i for i, (bin_, _) in enumerate(self.bins) if bin_.holds(cand.num_tokens)), None)
        if b is None:
            self.rejects.add(file, line, f"outside --length-target: {cand.num_tokens} tokens")
            return
        cap = self.cap[cand.component]
        if cap == 0:
            return
        slot = (cand.component, b)
        heap, keys = self.heaps.setdefault(slot, []), self.keys.setdefault(slot, set())
        if cand.key in keys:
            self.duplicates.add("duplicates", cand.component)
            self.rejects.add(file, line, f"duplicate: the same conversation as another {cand.component} record")
            return
        self.available[cand.component][b] += 1
        entry = (_neg(cand.key), cand)
        if cap is None or len(heap) < cap:
            heapq.heappush(heap, entry)
            keys.add(cand.key)
        elif entry > heap[0]:  # smaller key than the largest kept
            keys.discard(heapq.heapreplace(heap, entry)[1].key)
            keys.add(cand.key)

    def chosen(self) -> tuple[list[Candidate], Counts]:
        """The mix in key order, and what was available and targeted (for the report)."""
        cfg = self.cfg
        totals = {c: sum(a) for c, a in self.available.items()}
        wanted = component_counts(totals, cfg.component_counts(), cfg.component_ratios(), cfg.num_samples)
        per_bin = allocate(wanted, self.available, [share for _, share in self.bins])
        out: list[Candidate] = []
        for (component, b), heap in self.heaps.items():
            out.extend([c for _, c in sorted(heap, reverse=True)][: per_bin[component][b]])
        out.sort(key=lambda c: c.key)
        counts = Counts()
        for c in COMPONENTS:
            counts.add("available", c, totals[c])
        if cfg.length_target:
            for bin_, n in zip(cfg.report_bins(), _targets(cfg, sum(wanted.values()))):
                counts.add("length_target", bin_.label, n)
        return out, counts + self.duplicates


def _neg(key: str) -> str:
    """A string that sorts in reverse of `key` (hex), so heapq's min-heap keeps the smallest keys."""
    return key.translate(_REVERSE)


_REVERSE = str.maketrans("0123456789abcdef", "fedcba9876543210")


def _targets(cfg: MixtureConfig, total: int) -> list[int]:
    return largest_remainder([share for _, share in cfg.bins()], total)


class MixtureTask(Task):
    """Built long datasets + short instructions + long conversations -> one training mix."""

    name = NAME
    Config = MixtureConfig
    columns = COLUMNS
    description = "The training mix: long datasets with short instructions and long conversations, by count or ratio."
    stats_columns = ("lang", "num_tokens", "component")
    purpose = "mixture"

    def splits(self, cfg: MixtureConfig) -> tuple[str, ...]:
        return ("train",)

    def demo_corpus(self, lang: str) -> list[Path]:
        return []

    def chat_inputs(self, cfg: MixtureConfig) -> dict[str, list[Path]]:
        """The short and conversation files (the bundled demo ones when none are given)."""
        given = {"short": cfg.short, "conversations": cfg.conversations}
        return {c: chat_files(paths) if paths else [demo_chats(c, cfg.lang)] for c, paths in given.items()}

    def input_files(self, cfg: MixtureConfig) -> dict[str, Path]:
        files = {f"{c}/{f.name}": f for c, paths in self.chat_inputs(cfg).items() for f in paths}
        for spec in cfg.long:
            path, name = long_spec(spec, cfg.config_name)
            for f in sorted((Path(path) / name).glob("train-*.parquet")):
                files[f"long/{Path(path).name}/{name}/{f.name}"] = f
        return files

    def with_outputs(self, cfg: MixtureConfig, out: Path) -> MixtureConfig:
        """Without --long: every chat training dataset (not the pre-training corpus) already
        built in `out` with this config."""
        if cfg.long:
            return cfg
        from . import TASKS

        built = tuple(str(out / t.name) for t in TASKS.values() if t.purpose == "training"
                      and "messages" in t.features and (out / t.name / cfg.config_name).is_dir())
        return type(cfg)(**{**cfg.__dict__, "long": built})

    def units(self, docs: Iterable[Document], cfg: MixtureConfig, rejects: RejectLog) -> Iterator[dict]:
        counter = get_counter(cfg.tokenizer)
        selection = Selection(cfg, rejects)
        longs = [load_long(spec, cfg.config_name) for spec in cfg.long]
        for i, (label, ds) in enumerate(longs):
            cols = ds.select_columns([c for c in ("id", "lang", "num_tokens") if c in ds.column_names])
            for start in range(0, len(ds), 1000):
                batch = cols[start:start + 1000]
                for j in range(min(1000, len(ds) - start)):
                    self._offer_long(selection, ds, i, label, start + j, {k: v[j] for k, v in batch.items()},
                                     cfg, counter)
        for component, files in self.chat_inputs(cfg).items():
            for path in files:
                for line, rec in chat_records(path, rejects):
                    self._offer_chat(selection, component, path, line, rec, cfg, counter)
        chosen, counts = selection.chosen()
        wanted = {(c.where[1], c.where[2]) for c in chosen if c.where[0] == "file"}
        texts: dict[tuple, list[dict]] = {}
        for path in sorted({w[0] for w in wanted}, key=str):
            for line, rec in chat_records(path, RejectLog()):
                if (path, line) in wanted:
                    texts[(path, line)] = to_messages(rec)
        for n, cand in enumerate(chosen):
            if cand.where[0] == "long":
                messages = longs[cand.where[1]][1][cand.where[2]]["messages"]
            else:
                messages = texts.pop((cand.where[1], cand.where[2]))
            yield {"candidate": cand, "messages": messages, "counts": counts if n == 0 else Counts()}

    def _offer_long(self, selection: Selection, ds, i: int, label: str, row: int, rec: dict, cfg, counter) -> None:
        lang = rec.get("lang") or cfg.lang
        if lang != cfg.lang:
            selection.rejects.add(label, row + 1, f"language: {lang}, building {cfg.lang}")
            return
        num_tokens = rec.get("num_tokens")
        if num_tokens is None or cfg.tokenizer != "qwen":
            num_tokens = counter.count_chat(ds[row]["messages"])
        row_id = rec.get("id", row)
        selection.rejects.records_read += 1
        selection.offer(Candidate(stable_hash(cfg.seed, NAME, "long", label, row_id), "long", ("long", i, row),
                                  f"{label}:{row_id}", lang, int(num_tokens)), label, row + 1)

    def _offer_chat(self, selection: Selection, component: str, path: Path, line: int, rec, cfg, counter) -> None:
        messages = to_messages(rec)
        if isinstance(messages, str):
            selection.rejects.add(path.name, line, messages, record=True)
            return
        selection.rejects.records_read += 1
        lang = rec.get("lang") if isinstance(rec.get("lang"), str) and rec.get("lang") else \
            chat_lang("\n".join(m["content"] for m in messages))
        if lang != cfg.lang:
            selection.rejects.add(path.name, line, f"language: detected {lang}, building {cfg.lang}")
            return
        canon = json.dumps(messages, ensure_ascii=False, separators=(",", ":"))
        selection.offer(Candidate(stable_hash(cfg.seed, NAME, component, canon), component, ("file", path, line),
                                  f"{path.name}:{line}", lang, counter.count_chat(messages)), path.name, line)

    def prepare(self, unit: dict, cfg: MixtureConfig) -> Result:
        cand: Candidate = unit["candidate"]
        label = next(b.label for b in cfg.report_bins() if b.holds(cand.num_tokens)) \
            if any(b.holds(cand.num_tokens) for b in cfg.report_bins()) else "outside"
        counts = (Counts() + unit["counts"]).add("components", cand.component).add("length", label)
        sample = {"id": cand.key[:16], "messages": unit["messages"], "lang": cand.lang,
                  "num_tokens": cand.num_tokens, "component": cand.component, "source": cand.source}
        return Result([sample], counts)

    def assemble(self, prep: Result, answers: dict, cfg: MixtureConfig) -> Result:
        return prep

    def not_enough(self, cfg: MixtureConfig, rejects: RejectLog) -> str:
        return (f"nothing to mix: no usable {cfg.lang} record in --long, --short or --conversations "
                f"({rejects.total} rejected: {dict(rejects.counts)})")

    # -- statistics ----------------------------------------------------------------------------
    def split_stats(self, table):
        from ..stats import base_stats, spread

        import numpy as np

        comps = table.column("component").to_pylist()
        tokens = np.asarray(table.column("num_tokens").to_pylist(), dtype=np.int64)
        by = {c: spread(tokens[[x == c for x in comps]]) | {"n": comps.count(c)} for c in COMPONENTS if c in comps}
        return {**base_stats(table), "components": by}

    def stats_markdown(self, config: str, by_split: dict) -> str:
        from ..stats import tokens_markdown

        rows = [f"| {c} | {s['n']:,} | {s['min']:.0f} | {s['p50']:.0f} | {s['max']:.0f} |"
                for c, s in by_split["all"]["components"].items()]
        return (tokens_markdown(config, by_split) + "\n\nBy component:\n\n| component | samples | min tokens "
                "| median | max |\n|---|---|---|---|---|\n" + "\n".join(rows))

    def quality_cells(self, record: dict) -> dict[str, str]:
        from .base import _merged

        counts = record.get("counts", {})
        length, target = _merged(counts.get("length", {})), _merged(counts.get("length_target", {}))
        total = max(1, sum(length.values()))
        shown = "<br>".join(f"{label}: {n} ({n / total:.0%})" + (f", target {target[label]}" if label in target else "")
                            for label, n in _by_bin(length | {k: length.get(k, 0) for k in target}))
        cells = {k: v for k, v in super().quality_cells(record).items() if k not in ("length", "length target")}
        return {**cells, "length (mix vs target)": shown or "0"}

    def summary_lines(self, train: dict, counts: Counts) -> list[str]:
        length, target = counts.group("length"), counts.group("length_target")
        total = max(1, sum(length.values()))
        bins = _by_bin({**{k: 0 for k in target}, **length})
        return ["length histogram: " + "  ".join(f"{label} {n} ({n / total:.0%}"
                                                  + (f"; target {target[label]})" if target else ")")
                                                  for label, n in bins)]


def _by_bin(counter: dict) -> list[tuple[str, int]]:
    """Histogram entries in token order (`0-4k` before `16k-32k`)."""
    def lo(label: str) -> float:
        first = label.split("-")[0]
        return float(first[:-1]) * 1024 if first.endswith("k") else float(first) if first[:1].isdigit() else 1e18

    return sorted(counter.items(), key=lambda kv: lo(kv[0]))
