"""The local server answers `longdata eval run` with a trained tiny model: the loop of the
ablation (build, train, serve, evaluate) closes on CPU."""
import json
import subprocess
import sys
import time

from trainer_helpers import demo_dataset

from conftest import run_generate
from longdata.trainer import train
from longdata.trainer.tiny import row_texts, save_tiny


def test_a_trained_adapter_is_served_and_evaluated(tmp_path, monkeypatch):
    from datasets import load_dataset

    data = demo_dataset()
    base = tmp_path / "tiny"
    save_tiny(str(base), row_texts(load_dataset(str(data), "en-2k", split="train")))
    assert train.main(["--model", str(base), "--data", str(data), "--config", "en-2k", "--max-length", "8192",
                       "--max-steps", "1", "--batch-size", "2", "--no-qlora", "--output", str(tmp_path / "adapter")]) == 0
    run_generate("--dataset", "eval-passage-retrieval", "--lang", "en", "--max-tokens", "2048", "--out",
                 str(tmp_path), cwd=tmp_path)
    server = subprocess.Popen([sys.executable, "-m", "longdata.trainer.serve", str(tmp_path / "adapter"), "--port",
                               "0", "--name", "tiny"], stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        assert "serving" in line, line
        url = line.split(" on ")[-1].strip()
        monkeypatch.setenv("OPENAI_API_KEY", "local")
        started = time.time()
        proc = subprocess.run([sys.executable, "-m", "longdata.cli", "eval", "run", "--eval-set",
                               f"{tmp_path}/eval-passage-retrieval:en-2k", "--llm-model", "tiny", "--llm-base-url",
                               url, "--num-samples", "3", "--max-new-tokens", "8", "--out", str(tmp_path / "eval")],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert time.time() - started < 300
    finally:
        server.kill()
    lines = (tmp_path / "eval" / "predictions-eval-passage-retrieval-en-2k-tiny.jsonl").read_text().splitlines()
    assert len(lines) == 3 and all(isinstance(json.loads(x)["pred"], str) for x in lines)
    scores = json.loads((tmp_path / "eval" / "scores-eval-passage-retrieval-en-2k-tiny.json").read_text())
    assert scores["n"] == 3 and 0 <= scores["longdata"] <= 100
