"""Every question points to exactly one document and every "unanswerable" is true, checked
from the `cues` column and the documents in the text, on real corpora at every budget."""
from __future__ import annotations

import json

import pytest
from datasets import load_dataset

from conftest import run_generate
from multidoc_checks import check_sample

DATASET = "multidoc-paraphrase"


@pytest.mark.parametrize("lang, name", [("zh", "zh_news.jsonl"), ("en", "en_web.jsonl")])
def test_real_corpora_at_every_budget(corpora, tmp_path, lang, name):
    out = tmp_path / "out"
    run_generate("--lang", lang, "--corpus", str(corpora / name), "--max-tokens", "8192,16384,32768",
                 "--num-samples", "12", "--out", str(out), cwd=tmp_path)
    for config, budget in ((f"{lang}-8k", 8192), (f"{lang}-16k", 16384), (f"{lang}-32k", 32768)):
        rows = load_dataset(str(out / DATASET), config, split="train")
        assert len(rows) == 12
        for row in rows:
            check_sample(row, budget)
    if lang == "zh":  # long news articles are cut into passages, not rejected
        rejects = [json.loads(l) for l in (out / "rejects" / f"{DATASET}-zh-8k.jsonl").read_text().splitlines()]
        assert not [r for r in rejects if r["reason"].startswith("too long")]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_demo_corpora_at_8k_and_16k(tmp_path, lang):
    run_generate("--lang", lang, "--max-tokens", "8192,16384", "--out", str(tmp_path), cwd=tmp_path)
    for config, budget in ((f"{lang}-8k", 8192), (f"{lang}-16k", 16384)):
        for split, rows in load_dataset(str(tmp_path / DATASET), config).items():
            for row in rows:
                check_sample(row, budget)
