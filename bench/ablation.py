"""The method's ablation (quote-first vs the same data without quotes), end to end on CPU.

For each `--answer-style` it builds multidoc-paraphrase (the same QAs and contexts for
every style), trains a model on it, serves it on 127.0.0.1 and runs the held-out
passage-retrieval set through `longdata eval run`; then prints one table. With the
defaults it is the smoke version: tiny random Qwen2 models, a few steps, minutes on a
laptop, so the numbers only show the pipeline works. bench/ablation.md has the real run
(a 7B model on a GPU, vLLM).

    python bench/ablation.py --out ablation-smoke
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

STYLES = ("cite-quote", "quote-cite", "index-only", "no-quote")


def sh(*args: str) -> None:
    print("$", " ".join(args), flush=True)
    subprocess.run(args, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(folder: Path, name: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "longdata.trainer.serve", str(folder), "--port", str(port),
                             "--name", name], stdout=subprocess.PIPE, text=True)
    for _ in range(300):  # the model loads first
        line = proc.stdout.readline()
        if "serving" in line:
            return proc, f"http://127.0.0.1:{port}/v1"
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"the server for {folder} did not start")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="ablation-smoke")
    p.add_argument("--lang", default="en")
    p.add_argument("--max-tokens", type=int, default=2048, help="sample budget in Qwen tokens")
    p.add_argument("--model", default=None, help="base model (default: a tiny random Qwen2 per style)")
    p.add_argument("--steps", type=int, default=2, help="training steps per style")
    p.add_argument("--eval-samples", type=int, default=8)
    args, generate_extra = p.parse_known_args()  # e.g. --llm-model ... for LLM-written QAs (one cache)
    out = Path(args.out)
    config = f"{args.lang}-{args.max_tokens // 1024}k"
    py = sys.executable
    sh(py, "-m", "longdata.generate", "--dataset", "eval-passage-retrieval", "--lang", args.lang, "--max-tokens",
       str(args.max_tokens), "--out", str(out / "eval"))
    rows = []
    for style in STYLES:
        data = out / style
        sh(py, "-m", "longdata.generate", "--lang", args.lang, "--max-tokens", str(args.max_tokens), "--answer-style",
           style, "--out", str(data), "--llm-cache", str(out / "llm-cache.sqlite"), *generate_extra)
        model, length = args.model, args.max_tokens
        if model is None:  # the tiny byte-level tokenizer needs about 4x Qwen's tokens
            length = 4 * args.max_tokens
            model = str(out / f"tiny-{style}")
            sh(py, "-m", "longdata.trainer.tiny", model, str(data / "multidoc-paraphrase"), "--config", config)
        adapter = out / f"adapter-{style}"
        sh(py, "-m", "longdata.cli", "train", "--model", model, "--data", str(data / "multidoc-paraphrase"),
           "--config", config, "--max-length", str(length), "--max-steps", str(args.steps),
           "--batch-size", "2", "--no-qlora", "--no-activation-checkpointing", "--output", str(adapter))
        server, url = serve(adapter, style)
        try:
            sh(py, "-m", "longdata.cli", "eval", "run", "--eval-set", f"{out / 'eval' / 'eval-passage-retrieval'}:{config}",
               "--llm-model", style, "--llm-base-url", url, "--llm-api-key-env", "ABLATION_KEY", "--num-samples",
               str(args.eval_samples), "--max-new-tokens", "16", "--out", str(out / "scores"))
        finally:
            server.kill()
        scores = json.loads((out / "scores" / f"scores-eval-passage-retrieval-{config}-{style}.json").read_text())
        rows.append((style, scores["n"], scores["longdata"], scores["longbench"]))
    print("\n| answer style | eval samples | LongData (cited paragraph) | LongBench metric |\n|---|---|---|---|")
    for style, n, ours, longbench in rows:
        print(f"| {style} | {n} | {ours:.2f} | {longbench:.2f} |")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("ABLATION_KEY", "local")  # the local server needs no key; the client wants one
    raise SystemExit(main())
