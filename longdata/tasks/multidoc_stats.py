"""Statistics and plots of a multidoc-paraphrase split: gold positions, turns, effective ratio."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..stats import base_stats, column, png, spread, token_plot, tokens_markdown

POSITION_BINS = 10
RANK_BINS = ((1, 1), (2, 2), (3, 5), (6, 10), (11, 20), (21, 10**9))  # BM25 rank of the gold document


def rank_label(lo: int, hi: int) -> str:
    return str(lo) if lo == hi else (f"{lo}+" if hi >= 10**9 else f"{lo}-{hi}")


def rank_histogram(table: pa.Table) -> list[int]:
    """Answerable turns by the BM25 rank of their gold document among the context's documents."""
    if "gold_ranks" not in table.column_names:
        return [0] * len(RANK_BINS)
    ranks = table.column("gold_ranks").combine_chunks().flatten().to_numpy(zero_copy_only=False)
    ranks = ranks[ranks > 0]
    return [int(((ranks >= lo) & (ranks <= hi)).sum()) for lo, hi in RANK_BINS]


def _turns(table: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-sample turn counts, and per-turn gold documents and gold positions."""
    gold_docs = table.column("gold_docs").combine_chunks()
    positions = table.column("gold_positions").combine_chunks()
    return (gold_docs.value_lengths().to_numpy(zero_copy_only=False),
            gold_docs.flatten().to_numpy(zero_copy_only=False),
            positions.flatten().to_numpy(zero_copy_only=False))


def position_histogram(table: pa.Table) -> list[int]:
    """Answerable turns by where the gold document starts in the context, in 10 equal bins."""
    _, gold, positions = _turns(table)
    counts, _ = np.histogram(np.clip(positions[gold > 0], 0.0, 1.0), bins=POSITION_BINS, range=(0.0, 1.0))
    return [int(c) for c in counts]


def split_stats(table: pa.Table) -> dict:
    """Counts, spreads and shares of one split (or of a whole config)."""
    turns, gold, _ = _turns(table)
    return {
        **base_stats(table),
        "num_docs": spread(column(table, "num_docs")),
        "turns": spread(turns.astype(np.int64)),
        "num_turns": int(gold.size),
        "unanswerable_turns": int((gold == 0).sum()),
        "unanswerable_share": float((gold == 0).mean()) if gold.size else 0.0,
        "gold_positions": position_histogram(table),
        "effective_ratio": spread(column(table, "effective_ratio", np.float64)),
        "generators": sorted(set(table.column("generator").to_pylist())),
        "gold_ranks": rank_histogram(table),
    }


def stats_markdown(config: str, by_split: dict[str, dict]) -> str:
    rows = [tokens_markdown(config, by_split, [("docs (mean)", "num_docs"), ("turns (mean)", "turns"),
                                               ("unanswerable turns", "unanswerable_share"),
                                               ("effective ratio (mean)", "effective_ratio")])]
    edges = [f"{i / POSITION_BINS:.1f}-{(i + 1) / POSITION_BINS:.1f}" for i in range(POSITION_BINS)]
    rows += ["", f"Answerable turns by the relative position of the gold document in the context ({config}):", "",
             "| split | " + " | ".join(edges) + " |", "|---|" + "---|" * POSITION_BINS]
    rows += [f"| {split} | " + " | ".join(f"{c:,}" for c in s["gold_positions"]) + " |" for split, s in by_split.items()]
    rows += ["", f"How findable by words alone: answerable turns by the BM25 rank of the gold document among the "
                 f"context's documents for the question ({config}; 1 = the best lexical match):", "",
             "| split | " + " | ".join(rank_label(*b) for b in RANK_BINS) + " |", "|---|" + "---|" * len(RANK_BINS)]
    rows += [f"| {split} | " + " | ".join(f"{c:,}" for c in s["gold_ranks"]) + " |" for split, s in by_split.items()]
    return "\n".join(rows)


def plots(table: pa.Table, title: str) -> dict[str, bytes]:
    """PNG bytes by kind: token lengths, gold positions, effective ratio."""
    ratio = table.column("effective_ratio").to_numpy()
    hist = position_histogram(table)

    def draw_positions(ax):
        edges = np.linspace(0.0, 1.0, POSITION_BINS + 1)
        ax.bar(edges[:-1], hist, width=1.0 / POSITION_BINS, align="edge", color="#55A868", edgecolor="white")
        ax.set(title=f"{title}: where the gold document starts", xlabel="relative position in context",
               ylabel="answerable turns", xlim=(0.0, 1.0))

    def draw_ratio(ax):
        ax.hist(ratio, bins=20, range=(0.0, 1.0), color="#C44E52")
        ax.set(title=f"{title}: effective-token ratio", xlabel="share of answer tokens quoted from the gold document",
               ylabel="samples", xlim=(0.0, 1.0))

    return {"tokens": token_plot(table, title), "gold-positions": png(draw_positions),
            "effective-ratio": png(draw_ratio)}


def quality_cells(record: dict) -> dict[str, str]:
    """How LLM quotes were pinned to the gold text."""
    quotes = record.get("llm", {}).get("quotes")
    pinned = (f"{quotes.get('exact', 0):,} / {quotes.get('normalized', 0) + quotes.get('fuzzy', 0):,} / "
              f"{quotes.get('rejected', 0):,}") if quotes else "n/a (extractive quotes are verbatim slices)"
    return {"quotes (LLM): exact / repaired / rejected": pinned}


def summary_lines(train: dict) -> list[str]:
    hist = train["gold_positions"]
    width = max(hist) or 1
    return [
        f"effective ratio:  mean {train['effective_ratio']['mean']:.3f}",
        f"turns (train):    {train['num_turns']} ({train['unanswerable_turns']} unanswerable)",
        f"gold positions (train, {POSITION_BINS} bins over the context):",
        *(f"  {i / POSITION_BINS:.1f}-{(i + 1) / POSITION_BINS:.1f} {'#' * round(20 * c / width):<20} {c}"
          for i, c in enumerate(hist)),
        "gold BM25 rank:   " + ", ".join(f"{rank_label(*b)}: {c}" for b, c in zip(RANK_BINS, train["gold_ranks"])),
    ]


