"""Shared helpers: run the CLI as a user would, and find the real corpora when present."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"


def run_generate(*args: str, cwd: Path, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """`python -m longdata.generate ...` in a fresh process, offline, without an API key."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "HF_TOKEN")}
    full_env.update({"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}, **(env or {}))
    proc = subprocess.run([sys.executable, "-m", "longdata.generate", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=900)
    if check and proc.returncode != 0:
        raise AssertionError(f"generate failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


@pytest.fixture(scope="session")
def corpora() -> Path:
    if not CORPORA.is_dir():
        pytest.skip(f"real corpora not found at {CORPORA} (../shared/corpora beside the repository)")
    return CORPORA


@pytest.fixture
def start_server():
    """`start_server(**options)` starts an OpenAI-compatible test server on a free port of
    127.0.0.1; all of them stop at teardown."""
    from longdata.llm.testserver import FakeOpenAIServer

    servers = []

    def start(**kw):
        servers.append(FakeOpenAIServer(**kw).start())
        return servers[-1]

    yield start
    for s in servers:
        s.stop()


@pytest.fixture
def api_key(monkeypatch) -> str:
    from llm_support import API_KEY

    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    return API_KEY
