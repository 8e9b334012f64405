"""Keep credentials out of everything that gets published (manifest.json, README.md).

Two guards: keys that name a secret are dropped from records before they are written, and
the written text is checked against the values of secret-named environment variables and
the shapes of common API keys, failing loudly rather than publishing a key.
"""
from __future__ import annotations

import os
import re
from typing import Any

# A key names a secret when its last word is one of these: `api_key`, `hf_token`,
# `Authorization`, `client_secret` do; `max_tokens`, `token_env`, `tokenizer` do not.
SECRET_KEY = re.compile(
    r"(?:^|[_\-.])(?:api[_-]?key|apikey|token|secret|secret[_-]?key|password|passwd|credentials?"
    r"|authorization|auth|bearer|private[_-]?key|cookie)$",
    re.IGNORECASE,
)
# OpenAI-style and Hugging Face user access tokens.
KEY_SHAPES = re.compile(r"\b(?:sk-[A-Za-z0-9_-]{16,}|hf_[A-Za-z0-9]{20,})")
ALWAYS_CHECKED = ("OPENAI_API_KEY", "HF_TOKEN")
MIN_SECRET_LEN = 8  # shorter values would match ordinary text by chance


def is_secret_key(key: str) -> bool:
    return bool(SECRET_KEY.search(key))


def redact(obj: Any) -> Any:
    """A copy of a JSON-like record without the entries whose key names a secret, at any depth."""
    if isinstance(obj, dict):
        return {k: redact(v) for k, v in obj.items() if not is_secret_key(str(k))}
    if isinstance(obj, (list, tuple)):
        return [redact(v) for v in obj]
    return obj


def secret_env_values() -> dict[str, str]:
    """Values of environment variables that hold credentials, by variable name."""
    names = {n for n in os.environ if is_secret_key(n)} | set(ALWAYS_CHECKED)
    return {n: os.environ[n] for n in sorted(names) if len(os.environ.get(n, "")) >= MIN_SECRET_LEN}


def check_no_secrets(text: str, where: str) -> None:
    """Raise (naming the variable, never the value) when `text` holds a credential."""
    for name, value in secret_env_values().items():
        if value in text:
            raise ValueError(f"refusing to write {where}: it contains the value of ${name}")
    if KEY_SHAPES.search(text):
        raise ValueError(f"refusing to write {where}: it contains something shaped like an API key")
