"""Per-item random streams: every random choice is seeded by (global seed, stable key),
so results never depend on process count or processing order."""
from __future__ import annotations

import hashlib
import random


def stable_hash(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).hexdigest()


def rng_for(seed: int, *key: object) -> random.Random:
    return random.Random(int(stable_hash(seed, *key)[:16], 16))


def unit_interval(*key: object) -> float:
    """A deterministic number in [0, 1) for a key (e.g. split assignment of a document)."""
    return int(stable_hash(*key)[:13], 16) / float(1 << 52)
