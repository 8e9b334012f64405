"""The short summary a build ends with."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import datasets

from .documents import RejectLog
from .stats import POSITION_BINS, split_stats


def print_summary(config: str, splits: datasets.DatasetDict, stats: dict, rejects: RejectLog,
                  repo_dir: Path, seconds: float, llm_stats=None) -> None:
    """The same statistics the card shows (longdata.stats), for the train split, in a terminal."""
    train = split_stats(splits["train"].data.table)
    tokens, hist = train["num_tokens"], train["gold_positions"]
    width = max(hist) or 1
    qa_rejects = sum((s.qa_rejects for s in stats.values()), start=Counter())
    lines = [
        f"== {repo_dir.name} / {config}: done in {seconds:.1f}s",
        "samples:          " + ", ".join(f"{k} {len(v)}" for k, v in splits.items()),
        f"tokens (train):   min {tokens['min']:.0f}  median {tokens['p50']:.0f}  max {tokens['max']:.0f}",
        f"effective ratio:  mean {train['effective_ratio']['mean']:.3f}",
        f"turns:            {sum(s.turns for s in stats.values())} "
        f"({sum(s.unanswerable_turns for s in stats.values())} unanswerable)",
        f"gold positions (train, {POSITION_BINS} bins over the context):",
        *(f"  {i / POSITION_BINS:.1f}-{(i + 1) / POSITION_BINS:.1f} {'#' * round(20 * c / width):<20} {c}"
          for i, c in enumerate(hist)),
        f"rejected docs:    {rejects.total} " + (str(dict(rejects.counts)) if rejects.total else "")
        + (f"  (listed in {rejects.path})" if rejects.total and rejects.path else ""),
        f"rejected QAs:     {sum(qa_rejects.values())} " + (str(dict(qa_rejects)) if qa_rejects else ""),
        *([str(llm_stats)] if llm_stats is not None else []),
        f"output:           {repo_dir.resolve()}",
        f"load it:          datasets.load_dataset({str(repo_dir)!r}, {config!r})",
    ]
    print("\n".join(lines))
