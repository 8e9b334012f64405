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


def test_clean_gives_the_same_documents_on_every_engine(tmp_path):
    import json
    import subprocess
    import sys

    from longdata.data import demo_corpus

    lines = demo_corpus("en").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(x) for x in lines[:300]]
    copies = [dict(r, id=r["id"] + "-copy", text=r["text"] + " The editors added this closing remark later.")
              for r in rows[:40]]  # near copies
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows + copies + rows[:10]), encoding="utf-8")
    outs = {}
    for name, extra in (("serial", []), ("pool", ["--num-proc", "2"]), ("ray", ["--engine", "ray", "--num-proc", "2"])):
        out = tmp_path / name
        proc = subprocess.run([sys.executable, "-m", "longdata.cli", "clean", "--lang", "en", "--corpus", str(corpus),
                               "--out", str(out), *extra], capture_output=True, text=True, timeout=600,
                              env={**__import__("os").environ, "RAY_AUTH_MODE": "disabled"})
        assert proc.returncode == 0, proc.stderr[-2000:]
        outs[name] = {p.name: p.read_bytes() for p in sorted(out.glob("clean-en-*"))}
    assert outs["serial"] == outs["pool"] == outs["ray"]
    report = json.loads(outs["serial"]["clean-en-report.json"])
    assert report["dropped"]["exact duplicate"] == 10 and report["dropped"]["near duplicate"] >= 36
