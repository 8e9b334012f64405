"""Throughput of OpenAIGenerator against a server with fixed latency, vs the ideal
concurrency / latency requests per second (target: at least 80%).

    python bench/llm_concurrency.py [--requests 320] [--latency 0.2] [--concurrency 16]

The test server runs in its own process (as a real server would), on a free local port;
the cache is a fresh temporary file, so every request is a real HTTP call.
"""
from __future__ import annotations

import argparse
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from longdata.documents import Document  # noqa: E402
from longdata.qa.base import QARequest  # noqa: E402
from longdata.llm.openai_gen import OpenAIGenerator  # noqa: E402


def _docs(n: int) -> list[Document]:
    return [Document(f"bench-{i}", " ".join(
        f"Record {i}.{j} says that the station at site {i} measured {i * 7 + j} units on day {j}."
        for j in range(12)), "en", "bench") for i in range(n)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=320)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--concurrency", type=int, default=16)
    a = ap.parse_args()

    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "longdata.llm.testserver", "--port", str(port),
                               "--latency", str(a.latency)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        server.stdout.readline()  # the server prints its URL once it listens
        os.environ.setdefault("OPENAI_API_KEY", "bench-key")
        reqs = [QARequest(d, d.id, "en") for d in _docs(a.requests)]
        with tempfile.TemporaryDirectory() as tmp:
            gen = OpenAIGenerator("bench-model", base_url=f"http://127.0.0.1:{port}/v1",
                                  cache_path=Path(tmp) / "cache.sqlite", concurrency=a.concurrency, timeout=30)
            gen.make_qas(reqs[:1])  # warm up: client, tokenizer, connection
            start = time.perf_counter()
            results = gen.make_qas(reqs[1:])
            elapsed = time.perf_counter() - start
            gen.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    n = len(results)
    assert gen.stats.api_ok == n + 1, gen.stats
    rate, ideal = n / elapsed, a.concurrency / a.latency
    print(f"command: python {shlex.join(['bench/llm_concurrency.py'] + sys.argv[1:])}")
    print(f"{n} requests, latency {a.latency:g} s, concurrency {a.concurrency}: {elapsed:.2f} s")
    print(f"throughput {rate:.1f} req/s vs ideal {ideal:.1f} req/s: ratio {rate / ideal:.3f} "
          f"({'meets' if rate / ideal >= 0.8 else 'BELOW'} the 0.8 target)")


if __name__ == "__main__":
    main()
