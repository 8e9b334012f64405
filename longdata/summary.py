"""The short summary a build ends with."""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from statistics import mean, median

import datasets

from .documents import RejectLog


def histogram(values: list[float], bins: int = 10) -> list[int]:
    counts = [0] * bins
    for v in values:
        counts[min(int(v * bins), bins - 1)] += 1
    return counts


def print_summary(config: str, splits: datasets.DatasetDict, stats: dict, rejects: RejectLog,
                  repo_dir: Path, seconds: float, llm_stats=None) -> None:
    train = splits["train"]
    tokens = train["num_tokens"]
    positions = [p for row in train["gold_positions"] for p in row if p >= 0]
    hist = histogram(positions)
    width = max(hist) or 1
    qa_rejects = sum((s.qa_rejects for s in stats.values()), start=Counter())
    lines = [
        f"== {repo_dir.name} / {config}: done in {seconds:.1f}s",
        "samples:          " + ", ".join(f"{k} {len(v)}" for k, v in splits.items()),
        f"tokens (train):   min {min(tokens)}  median {int(median(tokens))}  max {max(tokens)}",
        f"effective ratio:  mean {mean(train['effective_ratio']):.3f}",
        f"turns:            {sum(s.turns for s in stats.values())} "
        f"({sum(s.unanswerable_turns for s in stats.values())} unanswerable)",
        "gold positions (train, 10 bins over the context):",
        *(f"  {i / 10:.1f}-{(i + 1) / 10:.1f} {'#' * round(20 * c / width):<20} {c}" for i, c in enumerate(hist)),
        f"rejected docs:    {rejects.total} " + (str(dict(rejects.counts)) if rejects.total else "")
        + (f"  (listed in {rejects.path})" if rejects.total and rejects.path else ""),
        f"rejected QAs:     {sum(qa_rejects.values())} " + (str(dict(qa_rejects)) if qa_rejects else ""),
        *([str(llm_stats)] if llm_stats is not None else []),
        f"output:           {repo_dir.resolve()}",
        f"load it:          datasets.load_dataset({str(repo_dir)!r}, {config!r})",
    ]
    print("\n".join(lines))
