"""The LLM path end to end: `python -m longdata.generate --llm-model ...` against the
OpenAI-compatible test server on 127.0.0.1, through the real openai client."""
from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from datasets import load_dataset

from conftest import run_generate
from multidoc_checks import check_sample

from longdata.data import demo_corpus

KEY = "sk-test-longdata-SECRET-7d1f0c"
DATASET = "multidoc-paraphrase"


@pytest.fixture
def corpus(tmp_path) -> Path:
    path = tmp_path / "corpus.jsonl"
    path.write_text("".join(demo_corpus("en").read_text(encoding="utf-8").splitlines(keepends=True)[:40]), encoding="utf-8")
    return path


def llm_args(corpus: Path, out: Path, url: str, *extra: str) -> list[str]:
    return ["--lang", "en", "--corpus", str(corpus), "--out", str(out), "--max-tokens", "4096", "--group-size", "20",
            "--turns", "3", "--validation-ratio", "0", "--test-ratio", "0", "--llm-model", "test-model",
            "--llm-base-url", url, "--llm-timeout", "1", "--llm-backoff", "0.01", "--llm-max-attempts", "12", *extra]


def run_llm(corpus, out, url, *extra, check=True):
    return run_generate(*llm_args(corpus, out, url, *extra), cwd=out.parent, env={"OPENAI_API_KEY": KEY}, check=check)


def parquet(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / DATASET).rglob("*.parquet"))}


def test_thirty_percent_transport_faults_lose_and_duplicate_nothing(tmp_path, start_server):
    corpus = tmp_path / "corpus80.jsonl"  # enough requests that every fault kind is drawn
    corpus.write_text("".join(demo_corpus("en").read_text(encoding="utf-8").splitlines(keepends=True)[:80]),
                      encoding="utf-8")
    clean = start_server()
    run_llm(corpus, tmp_path / "ref", clean.url)
    faulty = start_server(fault_rate=0.3, retry_after=0.05, slow_delay=1.5)
    proc = run_llm(corpus, tmp_path / "faulty", faulty.url)
    assert parquet(tmp_path / "faulty") == parquet(tmp_path / "ref")  # same samples, none lost or doubled
    assert set(faulty.faults_sent) == {"429", "500", "slow", "drop", "badjson"}
    faults = re.search(r"^faults: (.*)$", proc.stdout, re.M).group(1)
    for kind in ("http_429", "http_5xx", "timeout", "connection", "bad_response"):
        assert re.search(rf"{kind}=[1-9]", faults), (kind, faults)
    ids = load_dataset(str(tmp_path / "faulty" / DATASET), "en-4k", split="train")["id"]
    assert len(ids) == len(set(ids)) > 0


def test_published_quotes_are_verbatim_and_repairs_are_counted(corpus, tmp_path, start_server):
    srv = start_server(content_fault_rate=0.5)
    out = tmp_path / "out"
    proc = run_llm(corpus, out, srv.url)
    train = load_dataset(str(out / DATASET), "en-4k", split="train")
    assert len(train) > 0
    for row in train:
        check_sample(row, 4096)  # every quote stands verbatim in the document it cites
        assert row["generator"] == "test-model"
    m = re.search(r"quotes exact (\d+), repaired (\d+) .*rejected (\d+)", proc.stdout)
    assert m and int(m.group(2)) > 0 and int(m.group(3)) > 0, proc.stdout
    card = (out / DATASET / "README.md").read_text(encoding="utf-8")
    row = re.search(r"^\| en-4k \|.*$", card.split("Quality control")[1], re.M).group(0)
    assert f"{m.group(1)} / {m.group(2)} / {m.group(3)}" in row


def test_sigkill_half_way_resumes_without_repeats_and_matches_an_uninterrupted_run(corpus, tmp_path, start_server):
    reference = start_server()
    run_llm(corpus, tmp_path / "ref", reference.url)
    srv = start_server(latency=0.05)
    out = tmp_path / "out"
    out.mkdir()
    env = {**{k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}, "OPENAI_API_KEY": KEY}
    cmd = [sys.executable, "-m", "longdata.generate", *llm_args(corpus, out, srv.url, "--llm-concurrency", "2")]
    child = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cache = out / "llm-cache.sqlite"
    deadline = time.monotonic() + 120
    total = len(reference.answered)
    while _rows(cache) < total // 2:
        assert child.poll() is None and time.monotonic() < deadline, "the run ended before the kill"
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    time.sleep(0.5)  # requests in flight at the kill are still answered by the server (into a closed socket)
    answered_before, cached = sum(srv.answered.values()), _rows(cache)
    assert total // 2 <= cached <= answered_before < total
    run_llm(corpus, out, srv.url)
    # only replies that were in flight (sent by the server, never received and cached) may be asked again
    repeats = sum(n - 1 for n in srv.answered.values())
    assert repeats <= answered_before - cached <= 2, "a request answered and cached before the kill was sent again"
    assert set(srv.answered) == set(reference.answered)
    assert parquet(out) == parquet(tmp_path / "ref")


def _rows(cache: Path) -> int:
    try:
        with sqlite3.connect(cache, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def test_api_key_appears_in_no_output_cache_card_manifest_or_log(corpus, tmp_path, start_server):
    srv = start_server(fault_rate=0.2, retry_after=0.05, content_fault_rate=0.2, require_key=KEY)
    out = tmp_path / "out"
    proc = run_llm(corpus, out, srv.url)
    assert KEY not in proc.stdout + proc.stderr
    files = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.name == "llm-cache.sqlite" for p in files) and any(p.name == "manifest.json" for p in files)
    for path in files:
        assert KEY.encode() not in path.read_bytes(), path


def test_dry_run_plans_calls_tokens_and_cost_without_a_request(tmp_path, start_server):
    srv = start_server()
    out = tmp_path / "out"
    proc = run_generate("--lang", "zh", "--out", str(out), "--llm-model", "test-model", "--llm-base-url", srv.url,
                        "--dry-run", "--price-in", "0.5", "--price-out", "1.5", cwd=tmp_path)
    assert srv.chat_calls == 0 and not srv.files
    calls = int(re.search(r"planned LLM calls: (\d+)", proc.stdout).group(1))
    assert calls > 100  # every gold document of the demo corpus
    assert re.search(r"prompt tokens: [\d,]+", proc.stdout) and re.search(r"estimated cost: \$\d", proc.stdout)
    assert not (out / DATASET).exists()


def test_batch_mode_fills_the_cache_then_the_build_makes_no_chat_call(corpus, tmp_path, start_server):
    srv = start_server()
    out = tmp_path / "out"
    run_llm(corpus, out, srv.url, "--llm-batch", "--batch-poll", "0.05")
    assert srv.batches and srv.chat_calls == 0
    ref = tmp_path / "ref"
    run_llm(corpus, ref, start_server().url)
    assert parquet(out) == parquet(ref)
