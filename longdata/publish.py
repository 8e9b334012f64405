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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import datasets
import pyarrow as pa
import pyarrow.parquet as pq

from . import __version__
from .card import refresh_card, summarise
from .hubfolder import (CONFIG_RE, MANIFEST, dump_json, read_manifest, shard_name, split_files,
                        write_if_changed)
from .redact import check_no_secrets, redact
from .tasks import get_task

# uncompressed. The viewer reads row groups up to ~300 MB; publishing holds one row group
# (and its compressed pages) in memory, so a smaller one keeps its memory small: 32 MB
ROW_GROUP_BYTES = 32 * 10**6
SHARD_BYTES = 500 * 10**6  # uncompressed, as datasets' push_to_hub shards
SPLIT_RE = re.compile(r"^\w+(\.\w+)*$")  # what datasets accepts as a split name
CDC_OPTIONS = datasets.config.DEFAULT_CDC_OPTIONS  # content-defined pages: Xet dedups re-uploads
# zstd level 3 (zstd's own default): on a zh-32k train split 3.8x smaller than parquet's
# default snappy (23.5 MB against 89.7 MB) and faster to write (0.74 s against 0.85 s),
# since snappy gains little on CJK text; every parquet reader the Hub uses reads zstd
COMPRESSION, COMPRESSION_LEVEL = "zstd", 3


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


def _parts(dataset: datasets.Dataset) -> Iterator[pa.Table]:
    """The rows in order as small tables: read from the Arrow cache files one batch at a time
    (not memory-mapped, so the pages of a large split never pile up in memory), or from
    memory for an in-memory dataset."""
    files = [f["filename"] for f in dataset.cache_files]
    if files and dataset._indices is None:
        for name in files:
            with pa.OSFile(name) as fh:
                for batch in pa.ipc.open_stream(fh):
                    yield pa.Table.from_batches([batch])
    else:
        yield from (pa.Table.from_batches([b]) for b in dataset.data.table.to_batches())


class _ShardWriter:
    """One parquet file with bounded row groups and a page index (what the viewer needs):
    rows are buffered up to `max_bytes`, then written as one row group (a larger single row
    as a group of its own)."""

    def __init__(self, path: Path, schema: pa.Schema, max_bytes: int):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.writer = pq.ParquetWriter(path, schema, compression=COMPRESSION, compression_level=COMPRESSION_LEVEL,
                                       write_page_index=True, use_content_defined_chunking=CDC_OPTIONS)
        self.max_bytes, self.buffer, self.buffered = max_bytes, [], 0

    def add(self, part: pa.Table) -> None:
        if self.buffer and self.buffered + part.nbytes > self.max_bytes:
            self.flush()
        self.buffer.append(part)
        self.buffered += part.nbytes

    def flush(self) -> None:
        if self.buffer:
            for group in row_groups(pa.concat_tables(self.buffer), self.max_bytes):
                self.writer.write_table(group, row_group_size=group.num_rows)
        self.buffer, self.buffered = [], 0

    def close(self) -> None:
        self.flush()
        self.writer.close()


def write_split(dataset: datasets.Dataset, config_dir: Path, split: str, *,
                max_row_group_bytes: int = ROW_GROUP_BYTES, max_shard_bytes: int = SHARD_BYTES) -> list[Path]:
    """`<config_dir>/<split>-0000i-of-0000N.parquet` with N = ceil(size / max_shard_bytes) and
    rows split evenly, as `push_to_hub` shards (shard size is a target; row group size is the
    hard bound). The Arrow schema carries the `datasets` features, so types load exactly.
    Rows stream through: memory holds one row group, whatever the split's size."""
    schema = dataset.features.arrow_schema
    table = dataset.data.table  # its size only: no data is read from it
    count = max(1, math.ceil(table.nbytes / max_shard_bytes))
    bounds = [round(i * table.num_rows / count) for i in range(count + 1)]
    paths = [config_dir / shard_name(split, i, count) for i in range(count)]
    shard, row = 0, 0
    writer = _ShardWriter(paths[0], schema, max_row_group_bytes)
    for part in _parts(dataset):
        part = part.cast(schema)
        while part.num_rows:
            take = min(part.num_rows, bounds[shard + 1] - row)
            writer.add(part.slice(0, take))
            part, row = part.slice(take), row + take
            while row == bounds[shard + 1] and shard + 1 < count:  # (a shard can be empty)
                writer.close()
                shard += 1
                writer = _ShardWriter(paths[shard], schema, max_row_group_bytes)
    writer.close()
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
    splits = {split: dataset for split, dataset in splits.items() if len(dataset)}

    def write_shards() -> None:
        for split, dataset in splits.items():
            write_split(dataset, repo_dir / config_name, split,
                        max_row_group_bytes=max_row_group_bytes, max_shard_bytes=max_shard_bytes)

    # pyarrow writes the shards without holding the GIL, so the card's statistics and plots
    # of the same rows (their few small columns) are drawn meanwhile, not after
    task = get_task(dataset_name)
    with ThreadPoolExecutor(1) as pool:
        written = pool.submit(write_shards)
        columns = {split: ds.select_columns(list(task.stats_columns)).with_format("arrow")[:]
                   for split, ds in splits.items()}
        summary = summarise(task, repo_dir, config_name, columns)
        written.result()
    return refresh_card(repo_dir, {config_name: summary})
