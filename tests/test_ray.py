"""`--engine ray` (2 CPUs, a local Ray) gives the same bytes as the local engine."""
from __future__ import annotations

import pytest

from conftest import run_generate
from test_generate import parquet_bytes

pytest.importorskip("ray")


def test_ray_engine_builds_the_same_bytes_as_local(tmp_path):
    args = ("--dataset", "multidoc-paraphrase,book-summary", "--lang", "zh", "--max-tokens", "8192",
            "--num-samples", "12")
    run_generate(*args, "--out", str(tmp_path / "local"), cwd=tmp_path)
    run_generate(*args, "--engine", "ray", "--num-proc", "2", "--out", str(tmp_path / "ray"), cwd=tmp_path,
                 env={"RAY_AUTH_MODE": "disabled"})
    for dataset in ("multidoc-paraphrase", "book-summary"):
        local, ray = parquet_bytes(tmp_path / "local" / dataset), parquet_bytes(tmp_path / "ray" / dataset)
        assert local and local == ray, dataset
