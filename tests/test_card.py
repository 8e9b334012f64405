"""The dataset card: Hub-accepted metadata values, a body that explains the data with its
real statistics and plots, deterministic plots, and a refresh that rebuilds it from the folder."""
from __future__ import annotations

import re

import pyarrow as pa
import pytest
from huggingface_hub import DatasetCard
from publish_rows import MANIFEST, make_splits

from longdata.card import refresh_card, size_category
from longdata.cli import main
from longdata.publish import publish_config
from longdata.tasks import TASKS
from longdata.tasks.multidoc_stats import plots, split_stats

FEATURES = TASKS["multidoc-paraphrase"].features

NAME = "multidoc-paraphrase"
# Subsets of the Hub's official lists (huggingface.co/docs/hub/repositories-licenses, ISO 639-1
# language codes, the task ids of huggingface.js `pipelines.ts`, and the size buckets of
# `DatasetCardData`) holding the values this project may write.
ALLOWED_LICENSES = {"apache-2.0", "cc-by-sa-4.0", "cc-by-4.0", "mit", "odc-by", "other"}
ALLOWED_LANGUAGES = {"zh", "en"}
ALLOWED_TASKS = {"text-generation", "question-answering"}
ALLOWED_SIZES = {"n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M", "10M<n<100M", "100M<n<1B",
                 "1B<n<10B", "10B<n<100B", "100B<n<1T", "n>1T"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("card")
    publish_config(path, NAME, "zh-32k", make_splits("zh-32k"), {**MANIFEST, "license": "cc-by-sa-4.0"},
                   repo_id="org/multidoc-paraphrase")
    publish_config(path, NAME, "en-8k", make_splits("en-8k"), MANIFEST)
    return path


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def test_metadata_uses_values_the_hub_accepts(folder):
    data = DatasetCard.load(folder / "README.md").data
    assert set(as_list(data.license)) <= ALLOWED_LICENSES
    assert set(as_list(data.language)) <= ALLOWED_LANGUAGES
    assert set(as_list(data.task_categories)) <= ALLOWED_TASKS
    assert set(as_list(data.size_categories)) <= ALLOWED_SIZES
    assert data.pretty_name and all(isinstance(t, str) for t in data.tags)


def test_license_language_and_size_come_from_the_configs(folder, tmp_path):
    data = DatasetCard.load(folder / "README.md").data
    assert data.license == ["cc-by-sa-4.0", "other"]  # the two configs' licenses differ
    assert data.language == ["en", "zh"]
    assert data.size_categories == ["n<1K"]
    publish_config(tmp_path, NAME, "en-8k", make_splits("en-8k", {"train": 2}), MANIFEST)
    card = DatasetCard.load(tmp_path / "README.md")
    assert card.data.license == "other"  # unless --license says otherwise: the sources' licenses hold
    assert "keep their licenses" in card.text


@pytest.mark.parametrize("count, category", [(0, "n<1K"), (999, "n<1K"), (1_000, "1K<n<10K"),
                                             (54_321, "10K<n<100K"), (10**6, "1M<n<10M"), (10**12, "n>1T")])
def test_size_category(count, category):
    assert size_category(count) == category


def test_body_explains_the_data_with_its_numbers_and_plots(folder):
    text = (folder / "README.md").read_text(encoding="utf-8")
    body = DatasetCard(text).text
    assert "$" not in body  # every template field was filled
    for fact in ("0.94", "0.34", "PassageRetrieval-zh", "W-shaped", "longdata train",
                 'load_dataset("org/multidoc-paraphrase", "zh-32k")', "manifest.json"):
        assert fact in body, fact
    schema = set(re.findall(r"^\| `(\w+)` \|", body, flags=re.MULTILINE))
    assert set(FEATURES) <= schema
    assert "| `zh-32k` (default) | zh | train: 12, validation: 3, test: 3 |" in body
    assert ("| zh-32k | extractive | 7 | 0.1.0 | `en/qa.txt`: `bbbbbbbbbbbb`<br>`zh/qa.txt`: `aaaaaaaaaaaa` "
            "| group_size=12<br>max_tokens=8192 | 1 |") in body
    links = re.findall(r"!\[[^\]]*\]\((plots/[^)]+\.png)\)", body)
    assert len(links) == 6 and all((folder / link).is_file() for link in links)


def test_split_stats():
    table = pa.table({
        "lang": ["zh", "zh", "zh", "zh"], "generator": ["m", "m", "extractive", "m"],
        "num_tokens": pa.array([1000, 2000, 3000, 4000], pa.int32()), "num_docs": pa.array([10, 10, 20, 20], pa.int32()),
        "gold_docs": [[3, 0], [1], [2, 5, 0], [4]],
        "gold_positions": [[0.05, 0.0], [0.95], [0.5, 1.0, 0.0], [0.15]],
        "effective_ratio": pa.array([0.5, 0.6, 0.7, 0.8], pa.float32()),
        "gold_ranks": [[1, 0], [2], [4, 30, 0], [1]],
    })
    stats = split_stats(table)
    assert stats["gold_ranks"] == [2, 1, 1, 0, 0, 1]  # ranks 1, 2, 3-5, 6-10, 11-20, 21+; unanswerable left out
    assert stats["examples"] == 4 and stats["num_tokens"]["p50"] == 2500 and stats["num_tokens"]["max"] == 4000
    assert stats["turns"]["mean"] == 7 / 4 and stats["unanswerable_share"] == 2 / 7
    assert stats["gold_positions"] == [1, 1, 0, 0, 0, 1, 0, 0, 0, 2]  # unanswerable turns left out, 1.0 in the last bin
    assert stats["effective_ratio"]["mean"] == pytest.approx(0.65)
    assert stats["generators"] == ["extractive", "m"] and stats["langs"] == ["zh"]


def test_plots_are_deterministic_pngs_without_a_software_tag(folder):
    table = pa.Table.from_pylist(make_splits("zh-8k")["train"].to_list())
    first, second = plots(table, "zh-8k"), plots(table, "zh-8k")
    assert first == second and set(first) == {"tokens", "gold-positions", "effective-ratio"}
    for png in first.values():
        assert png.startswith(b"\x89PNG") and b"Software" not in png and b"matplotlib" not in png


def test_refresh_rebuilds_the_same_card_from_the_folder_and_keeps_added_keys(folder):
    readme = folder / "README.md"
    original = readme.read_bytes()
    readme.unlink()
    plot_bytes = {p.name: p.read_bytes() for p in (folder / "plots").iterdir()}
    for p in (folder / "plots").iterdir():
        p.unlink()
    assert main(["card", str(folder)]) == 0
    assert readme.read_bytes() == original
    assert {p.name: p.read_bytes() for p in (folder / "plots").iterdir()} == plot_bytes

    card = DatasetCard(original.decode())
    card.data.annotations_creators = ["machine-generated"]
    card.save(readme)
    refresh_card(folder)
    refreshed = DatasetCard.load(readme)
    assert refreshed.data.annotations_creators == ["machine-generated"]
    assert refreshed.text == DatasetCard(original.decode()).text


def test_refresh_needs_a_published_folder(tmp_path):
    with pytest.raises(ValueError, match="manifest.json"):
        refresh_card(tmp_path)
