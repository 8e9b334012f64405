"""Viewer-safe parquet: row groups bounded by their real size with a page index, sharding,
and byte-identical output for identical input."""
from __future__ import annotations

import random

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
from publish_rows import row

from longdata.publish import ROW_GROUP_BYTES, row_groups, write_split
from longdata.tasks import TASKS

FEATURES = TASKS["multidoc-paraphrase"].features

LIMIT = 4_000_000  # a small stand-in for ROW_GROUP_BYTES, so megabyte rows exercise it


def long_rows() -> datasets.Dataset:
    """Small samples first, then a run of 1-2 MB samples: an average-based batch size (what
    `Dataset.to_parquet` uses) would pack several long samples into one oversized group."""
    rng = random.Random(1)
    rows = [row(f"s{i}", "en", rng, content_chars=2_000) for i in range(60)]
    rows += [row(f"l{i}", "en", rng, content_chars=rng.randint(1_000_000, 2_000_000)) for i in range(8)]
    return datasets.Dataset.from_list(rows, features=FEATURES)


def check_viewer_safe(path, limit: int) -> int:
    """Assert every row group's uncompressed size is within `limit` and every column chunk has
    a page index: an offset index always (page locations, what random access needs), and a
    column index (page min/max) wherever parquet keeps statistics, i.e. all but long strings.
    Return the number of row groups."""
    meta = pq.read_metadata(path)
    for i in range(meta.num_row_groups):
        group = meta.row_group(i)
        assert group.total_byte_size <= limit, (i, group.total_byte_size)
        chunks = [group.column(j) for j in range(group.num_columns)]
        assert all(c.has_offset_index for c in chunks)
        assert all(c.has_column_index for c in chunks if c.path_in_schema in ("num_tokens", "effective_ratio"))
    return meta.num_row_groups


def test_long_samples_give_bounded_row_groups_with_a_page_index(tmp_path):
    ds = long_rows()
    table = ds.with_format("arrow")[:]
    average_batch = table.num_rows * LIMIT // table.nbytes
    assert table.slice(table.num_rows - average_batch, average_batch).nbytes > LIMIT  # the case to beat

    [path] = write_split(ds, tmp_path, "train", max_row_group_bytes=LIMIT)
    assert check_viewer_safe(path, LIMIT) >= 5
    assert pq.read_table(path).equals(table.cast(FEATURES.arrow_schema))


def test_default_limit_is_32_mb_and_published_files_have_a_page_index(tmp_path):
    assert ROW_GROUP_BYTES == 32 * 10**6
    [path] = write_split(long_rows(), tmp_path, "train")
    assert check_viewer_safe(path, ROW_GROUP_BYTES) == 1


def test_row_groups_cover_the_table_in_order_and_an_oversized_row_stands_alone():
    table = pa.table({"text": ["a" * 100] * 30 + ["b" * 5_000] + ["c" * 100] * 30})
    groups = list(row_groups(table, 2_000))
    assert pa.concat_tables(groups).equals(table)
    assert all(g.nbytes <= 2_000 or g.num_rows == 1 for g in groups)
    assert [g.num_rows for g in groups if g.nbytes > 2_000] == [1]
    assert max(g.num_rows for g in groups) > 1


def test_big_splits_are_sharded_in_order(tmp_path):
    ds = long_rows()
    paths = write_split(ds, tmp_path, "train", max_row_group_bytes=LIMIT, max_shard_bytes=5_000_000)
    assert [p.name for p in paths] == [f"train-{i:05d}-of-00003.parquet" for i in range(3)]
    assert pa.concat_tables(pq.read_table(p) for p in paths)["id"].to_pylist() == ds["id"]
    loaded = datasets.load_dataset("parquet", data_files=[str(p) for p in paths], split="train",
                                   cache_dir=str(tmp_path / "cache"))
    assert loaded.features == FEATURES and len(loaded) == len(ds)


def test_identical_rows_give_identical_bytes(tmp_path):
    ds = long_rows()
    [a] = write_split(ds, tmp_path / "a", "train", max_row_group_bytes=LIMIT)
    [b] = write_split(datasets.Dataset.from_list(ds.to_list(), features=FEATURES), tmp_path / "b", "train",
                      max_row_group_bytes=LIMIT)
    assert a.read_bytes() == b.read_bytes()
