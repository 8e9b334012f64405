"""Prompt and template files under prompts/<lang>/, and their hashes for the manifest."""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from . import resource_dir


@lru_cache(maxsize=None)
def load_template(lang: str, name: str) -> dict:
    path = resource_dir("prompts") / lang / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no template {name!r} for language {lang!r} (looked for {path})")
    return json.loads(path.read_text(encoding="utf-8"))


def prompt_hashes(lang: str) -> dict[str, str]:
    """sha256 of every prompt file of a language, so a card says exactly which prompts made it."""
    folder = resource_dir("prompts") / lang
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}
