"""Counts that travel with results: rejects by reason, drops, LLM outcomes.

Each unit of work returns its own `Counts`; they add up with `+`, as datatrove's per-task
stats do, so a summary or a card never reads numbers off an object after the fact and
the totals are the same for any process count.
"""
from __future__ import annotations

from collections import Counter


class Counts(dict):
    """`{group: Counter}`, e.g. `{"qa_rejects": Counter({"no passage": 2}), "drops": ...}`."""

    def add(self, group: str, key: str, n: int = 1) -> "Counts":
        if n:
            self.setdefault(group, Counter())[key] += n
        return self

    def __add__(self, other: "Counts") -> "Counts":
        out = Counts({g: Counter(c) for g, c in self.items()})
        for group, counter in other.items():
            out.setdefault(group, Counter()).update(counter)
        return out

    def __iadd__(self, other: "Counts") -> "Counts":
        for group, counter in other.items():
            self.setdefault(group, Counter()).update(counter)
        return self

    def group(self, name: str) -> Counter:
        return self.get(name, Counter())

    def as_dict(self) -> dict[str, dict[str, int]]:
        """Plain, sorted and without empty groups: what the manifest stores."""
        return {g: dict(sorted(c.items())) for g, c in sorted(self.items()) if sum(c.values())}
