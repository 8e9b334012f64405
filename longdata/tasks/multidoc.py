"""multidoc-paraphrase: W-shaped multi-document QA whose answers quote the gold document first."""
from __future__ import annotations

import datasets

NAME = "multidoc-paraphrase"

FEATURES = datasets.Features({
    "id": datasets.Value("string"),
    "messages": datasets.List({"role": datasets.Value("string"), "content": datasets.Value("string")}),
    "lang": datasets.Value("string"),
    "num_docs": datasets.Value("int32"),
    "gold_docs": datasets.List(datasets.Value("int32")),
    "gold_positions": datasets.List(datasets.Value("float32")),
    "num_tokens": datasets.Value("int32"),
    "effective_ratio": datasets.Value("float32"),
    "source_ids": datasets.List(datasets.Value("string")),
    "generator": datasets.Value("string"),
})
