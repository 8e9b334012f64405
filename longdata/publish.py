"""Write one built config into a Hub-shaped folder: parquet shards, manifest.json, card.

Several configs accumulate in one folder: publishing a config replaces that config's
shards and manifest entry only, then rebuilds the card from the folder (see `card.py`),
which leaves every other config's files and card entries byte-for-byte as they were.

Parquet is written with pyarrow directly rather than `Dataset.to_parquet`, because
`to_parquet` sizes row groups by the *average* row size: a run of long samples can then
exceed the dataset viewer's row group limit. Here every row group is cut by its actual
size. Output is deterministic: the same rows give the same bytes.
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Iterator

import datasets
import pyarrow as pa
import pyarrow.parquet as pq

from . import __version__
from .card import refresh_card
from .hubfolder import (CONFIG_RE, MANIFEST, dump_json, read_manifest, shard_name, split_files,
                        write_if_changed)
from .redact import check_no_secrets, redact

ROW_GROUP_BYTES = 100 * 10**6  # uncompressed; the viewer reads row groups up to ~300 MB
SHARD_BYTES = 500 * 10**6  # uncompressed, as datasets' push_to_hub shards
SPLIT_RE = re.compile(r"^\w+(\.\w+)*$")  # what datasets accepts as a split name
CDC_OPTIONS = datasets.config.DEFAULT_CDC_OPTIONS  # content-defined pages: Xet dedups re-uploads


def row_groups(table: pa.Table, max_bytes: int) -> Iterator[pa.Table]:
    """Consecutive slices of `table` of at most `max_bytes` each, measured in Arrow memory
    (parquet's uncompressed row group size comes out within about 1% of it, and the test
    checks the parquet figure). A single row larger than that is a group of its own."""
    step = max(1, table.num_rows * max_bytes // max(table.nbytes, 1))
    start = 0
    while start < table.num_rows:
        group = table.slice(start, step)
        while group.num_rows > 1 and group.nbytes > max_bytes:
            group = table.slice(start, group.num_rows // 2)
        yield group
        start += group.num_rows


def write_parquet(table: pa.Table, path: Path, *, max_row_group_bytes: int = ROW_GROUP_BYTES) -> None:
    """One parquet file with bounded row groups and a page index (what the viewer needs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(path, table.schema, write_page_index=True, use_content_defined_chunking=CDC_OPTIONS) as w:
        for group in row_groups(table, max_row_group_bytes):
            w.write_table(group, row_group_size=group.num_rows)


def write_split(dataset: datasets.Dataset, config_dir: Path, split: str, *,
                max_row_group_bytes: int = ROW_GROUP_BYTES, max_shard_bytes: int = SHARD_BYTES) -> list[Path]:
    """`<config_dir>/<split>-0000i-of-0000N.parquet` with N = ceil(size / max_shard_bytes) and
    rows split evenly, as `push_to_hub` shards (shard size is a target; row group size is the
    hard bound). The Arrow schema carries the `datasets` features, so types load exactly."""
    table = dataset.data.table.cast(dataset.features.arrow_schema)  # memory-mapped, not read into memory
    count = max(1, math.ceil(table.nbytes / max_shard_bytes))
    bounds = [round(i * table.num_rows / count) for i in range(count + 1)]
    paths = []
    for i in range(count):
        path = config_dir / shard_name(split, i, count)
        write_parquet(table.slice(bounds[i], bounds[i + 1] - bounds[i]), path, max_row_group_bytes=max_row_group_bytes)
        paths.append(path)
    return paths


def _update_manifest(repo_dir: Path, dataset_name: str, config_name: str, record: dict, *,
                     card_template: str, repo_id: str | None, default_config: str | None) -> None:
    manifest = read_manifest(repo_dir)
    manifest.update({"dataset_name": dataset_name, "card_template": card_template})
    if repo_id:
        manifest["repo_id"] = repo_id
    if default_config:
        manifest["default_config"] = default_config
    manifest.setdefault("configs", {})[config_name] = {"version": __version__, **redact(record)}
    text = dump_json(manifest)
    check_no_secrets(text, str(repo_dir / MANIFEST))
    write_if_changed(repo_dir / MANIFEST, text.encode("utf-8"))


def publish_config(repo_dir: Path, dataset_name: str, config_name: str, splits: datasets.DatasetDict,
                   manifest: dict, *, default_config: str | None = None, card_template: str | None = None,
                   repo_id: str | None = None, max_row_group_bytes: int = ROW_GROUP_BYTES,
                   max_shard_bytes: int = SHARD_BYTES) -> Path:
    """Add or replace `config_name` in the folder `repo_dir` and rebuild its card; returns README.md.

    `manifest` records how this config was built and lands in manifest.json and the card.
    Keys the card shows: `version` (defaults to this package's), `settings` (a dict, `seed`
    among them), `prompt_hashes` ({file: sha256}), `inputs` (one entry per input file),
    `license` (a Hub license id, default apache-2.0); the generator comes from the data.
    Keys naming secrets are dropped, and the write fails if a secret value would still land.

    `default_config` is remembered for later publishes; without one the default is zh-32k
    when present, else the current default. `card_template` names a file in `cards/`
    (default `<dataset_name>.md`); `repo_id` is the name the card's examples load (default
    `longdata/<dataset_name>`). Empty splits are left out."""
    repo_dir = Path(repo_dir)
    if not CONFIG_RE.match(config_name):
        raise ValueError(f"config name {config_name!r} must match {CONFIG_RE.pattern}")
    bad = [s for s in splits if not SPLIT_RE.match(s)]
    if bad:
        raise ValueError(f"split names {bad} must match {SPLIT_RE.pattern}")
    if not any(len(ds) for ds in splits.values()):
        raise ValueError(f"config {config_name!r} has no examples in any split: nothing to publish")
    _update_manifest(repo_dir, dataset_name, config_name, manifest, card_template=card_template or f"{dataset_name}.md",
                     repo_id=repo_id, default_config=default_config)
    for old in (p for paths in split_files(repo_dir, config_name).values() for p in paths):
        old.unlink()
    for split, dataset in splits.items():
        if len(dataset):
            write_split(dataset, repo_dir / config_name, split,
                        max_row_group_bytes=max_row_group_bytes, max_shard_bytes=max_shard_bytes)
    return refresh_card(repo_dir)
