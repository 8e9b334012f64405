"""SQLite response cache: a rerun makes zero calls, and an interrupted run resumes.

Keyed by the sha256 of the canonical JSON of (model, messages, sampling parameters), so
identical requests share one answer. Each row is committed as soon as it arrives (WAL
mode: readers never block the single writer, and a killed process loses nothing that was
already answered). Only the request hash, the model name, the response text and token
usage are stored: never the API key, headers or the prompt itself.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    text TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    usage_estimated INTEGER NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class CachedResponse:
    """One chat completion: its text and token usage (`usage_estimated`: tiktoken, not the API)."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    usage_estimated: bool = False


def request_key(model: str, messages: Sequence[Mapping[str, str]], params: Mapping[str, object]) -> str:
    """sha256 of the canonical JSON of everything that determines a response."""
    payload = {"model": model, "messages": [dict(m) for m in messages], "params": dict(params)}
    canon = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


class ResponseCache:
    """Process-safe cache file; one connection per instance (use one instance per thread)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def get(self, key: str) -> CachedResponse | None:
        row = self._db.execute(
            "SELECT text, prompt_tokens, completion_tokens, usage_estimated FROM responses WHERE key = ?",
            (key,)).fetchone()
        return CachedResponse(row[0], row[1], row[2], bool(row[3])) if row else None

    def has(self, keys: Sequence[str]) -> set[str]:
        """The subset of `keys` already answered (one query per 500 keys)."""
        found: set[str] = set()
        for i in range(0, len(keys), 500):
            chunk = list(keys[i:i + 500])
            marks = ",".join("?" * len(chunk))
            found.update(r[0] for r in self._db.execute(f"SELECT key FROM responses WHERE key IN ({marks})", chunk))
        return found

    def put(self, key: str, model: str, resp: CachedResponse) -> None:
        """Store the first answer for a key; a concurrent writer's identical key is kept."""
        self._db.execute(
            "INSERT OR IGNORE INTO responses VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key, model, resp.text, resp.prompt_tokens, resp.completion_tokens, int(resp.usage_estimated),
             time.time()))

    def get_meta(self, name: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def set_meta(self, name: str, value: str | None) -> None:
        """Small run state (e.g. a pending batch id); None deletes the entry."""
        if value is None:
            self._db.execute("DELETE FROM meta WHERE name = ?", (name,))
        else:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (name, value))

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "ResponseCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
