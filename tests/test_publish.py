"""A Hub-shaped folder built config by config: loads offline, lists the default first,
records true sizes, and publishing one config leaves the others as they were."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from datasets import get_dataset_config_names, get_dataset_default_config_name, load_dataset
from datasets.info import DatasetInfosDict
from datasets.utils.metadata import MetadataConfigs
from huggingface_hub import DatasetCard
from publish_rows import MANIFEST, make_splits, no_network  # noqa: F401 (fixture)

from longdata.hubfolder import split_files
from longdata.publish import publish_config

NAME = "multidoc-paraphrase"


def snapshot(folder: Path, config: str) -> dict[str, tuple[bytes, int]]:
    """Bytes and modification times of a config's shards and plots."""
    paths = [*(folder / config).iterdir(), *(folder / "plots").glob(f"{config}-*.png")]
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns) for p in paths}


def card_entries(folder: Path, config: str) -> tuple[dict, dict]:
    """A config's `configs` entry (without the default flag) and its `dataset_info` entry."""
    data = DatasetCard.load(folder / "README.md").data
    entry = next(c for c in data["configs"] if c["config_name"] == config)
    info = next(i for i in data["dataset_info"] if i["config_name"] == config)
    return {k: v for k, v in entry.items() if k != "default"}, info


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """zh-8k and en-8k first (as two `generate` runs would), then zh-32k; with snapshots between."""
    folder = tmp_path_factory.mktemp("hub")
    publish_config(folder, NAME, "zh-8k", make_splits("zh-8k"), MANIFEST)
    publish_config(folder, NAME, "en-8k", make_splits("en-8k"), {**MANIFEST, "license": "apache-2.0"})
    before = {c: (snapshot(folder, c), card_entries(folder, c)) for c in ("zh-8k", "en-8k")}
    default_before = MetadataConfigs.from_dataset_card_data(DatasetCard.load(folder / "README.md").data)
    publish_config(folder, NAME, "zh-32k", make_splits("zh-32k", {"train": 20, "validation": 4, "test": 5}), MANIFEST)
    return folder, before, default_before.get_default_config_name()


def test_every_config_loads_offline_with_the_carded_sizes(built, no_network, tmp_path):  # noqa: F811
    folder = built[0]
    card = DatasetCard.load(folder / "README.md")
    infos = DatasetInfosDict.from_dataset_card_data(card.data)
    for config in ("zh-8k", "en-8k", "zh-32k"):
        ds = load_dataset(str(folder), config, cache_dir=str(tmp_path))
        assert list(ds) == ["train", "validation", "test"]
        for split, files in split_files(folder, config).items():
            parquet_rows = sum(pq.read_metadata(f).num_rows for f in files)
            assert infos[config].splits[split].num_examples == parquet_rows == len(ds[split])
        assert ds["train"].features == make_splits(config)["train"].features
        assert ds["train"][0] == make_splits(config)["train"][0]


def test_config_names_list_the_project_default_first(built, no_network):  # noqa: F811
    folder = str(built[0])
    assert get_dataset_config_names(folder) == ["zh-32k", "en-8k", "zh-8k"]
    assert get_dataset_default_config_name(folder) == "zh-32k"


def test_card_parses_with_exactly_one_default(built):
    card = DatasetCard.load(built[0] / "README.md")
    configs = MetadataConfigs.from_dataset_card_data(card.data)
    assert list(configs) == ["zh-32k", "en-8k", "zh-8k"]
    assert configs.get_default_config_name() == "zh-32k"
    assert [c for c, meta in configs.items() if meta.get("default")] == ["zh-32k"]
    assert configs["en-8k"]["data_files"] == [{"split": s, "path": f"en-8k/{s}-*.parquet"}
                                              for s in ("train", "validation", "test")]


def test_publishing_a_config_leaves_the_others_as_they_were(built):
    folder, before, default_before = built
    assert default_before == "zh-8k"  # the first built, until the project default arrives
    for config, (files, entries) in before.items():
        assert snapshot(folder, config) == files  # same bytes, not even rewritten
        assert card_entries(folder, config) == entries


def test_republishing_identical_input_gives_identical_bytes(built, tmp_path):
    folder = built[0]
    everything = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    publish_config(folder, NAME, "zh-8k", make_splits("zh-8k"), MANIFEST)
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == everything
    publish_config(tmp_path, NAME, "zh-8k", make_splits("zh-8k"), MANIFEST)
    for path in (tmp_path / "zh-8k").iterdir():
        assert path.read_bytes() == (folder / "zh-8k" / path.name).read_bytes()


def test_an_explicit_default_is_kept_by_later_publishes(tmp_path):
    small = {"train": 3, "test": 1}
    publish_config(tmp_path, NAME, "en-8k", make_splits("en-8k", small), MANIFEST, default_config="en-8k")
    publish_config(tmp_path, NAME, "zh-32k", make_splits("zh-32k", small), MANIFEST)
    configs = MetadataConfigs.from_dataset_card_data(DatasetCard.load(tmp_path / "README.md").data)
    assert configs.get_default_config_name() == "en-8k"
    assert list(configs) == ["en-8k", "zh-32k"]


def test_a_rebuilt_config_with_fewer_shards_leaves_no_stale_shard(tmp_path):
    publish_config(tmp_path, NAME, "zh-8k", make_splits("zh-8k"), MANIFEST, max_shard_bytes=2_000)
    assert len(split_files(tmp_path, "zh-8k")["train"]) > 1
    publish_config(tmp_path, NAME, "zh-8k", make_splits("zh-8k"), MANIFEST)
    assert sorted(p.name for p in (tmp_path / "zh-8k").iterdir()) == [
        "test-00000-of-00001.parquet", "train-00000-of-00001.parquet", "validation-00000-of-00001.parquet"]


def test_secrets_never_land(tmp_path, monkeypatch):
    token = "hf_" + "x" * 34
    monkeypatch.setenv("HF_TOKEN", token)
    record = {**MANIFEST, "api_key": "sk-" + "y" * 40, "hf_token": token, "max_tokens": 8192,
              "llm": {"base_url": "http://localhost:8000/v1", "Authorization": f"Bearer {token}", "token_env": "HF_TOKEN"}}
    publish_config(tmp_path, NAME, "zh-8k", make_splits("zh-8k", {"train": 2}), record)
    written = json.loads((tmp_path / "manifest.json").read_text())["configs"]["zh-8k"]
    assert "api_key" not in written and "hf_token" not in written and "Authorization" not in written["llm"]
    assert written["max_tokens"] == 8192 and written["llm"]["token_env"] == "HF_TOKEN"
    for path in tmp_path.rglob("*"):
        assert not path.is_file() or token.encode() not in path.read_bytes()

    with pytest.raises(ValueError, match=r"\$HF_TOKEN") as caught:
        publish_config(tmp_path, NAME, "zh-8k", make_splits("zh-8k", {"train": 2}), {"note": f"run with {token}"})
    assert token not in str(caught.value)


@pytest.mark.parametrize("config, splits", [("zh 8k", {"train": 1}), ("zh-8k", {"train-x": 1}), ("zh-8k", {"train": 0})])
def test_bad_names_and_empty_configs_are_refused(tmp_path, config, splits):
    with pytest.raises(ValueError):
        publish_config(tmp_path, NAME, config, make_splits("zh-8k", splits), MANIFEST)
