"""Several languages and budgets built into one Hub folder; splits by source document."""
from __future__ import annotations

from datasets import get_dataset_config_names, load_dataset

from conftest import run_generate


def test_configs_accumulate_in_one_folder_and_splits_share_no_document(tmp_path):
    out = tmp_path / "X"
    run_generate("--lang", "zh", "--max-tokens", "8192,32768", "--num-samples", "6", "--out", str(out), cwd=tmp_path)
    card_before = (out / "multidoc-paraphrase" / "zh-8k" / "train-00000-of-00001.parquet").read_bytes()
    run_generate("--lang", "en", "--max-tokens", "8192", "--num-samples", "6", "--validation-ratio", "0.2",
                 "--test-ratio", "0.2", "--out", str(out), cwd=tmp_path)
    folder = str(out / "multidoc-paraphrase")
    names = get_dataset_config_names(folder)
    assert names[0] == "zh-32k" and sorted(names) == ["en-8k", "zh-32k", "zh-8k"]
    assert (out / "multidoc-paraphrase" / "zh-8k" / "train-00000-of-00001.parquet").read_bytes() == card_before
    for name in names:
        ds = load_dataset(folder, name)
        assert 0 < len(ds["train"]) <= 6
        seen: dict[str, str] = {}
        for split, rows in ds.items():
            for ids in rows["source_ids"]:
                for doc_id in ids:
                    assert seen.setdefault(doc_id, split) == split, f"{doc_id} in {seen[doc_id]} and {split}"
    en = load_dataset(folder, "en-8k")
    assert set(en) == {"train", "validation", "test"}
