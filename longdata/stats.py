"""Statistics and plots of a multidoc split, computed from a few small columns.

They feed the dataset card. Only the numeric columns are read (never `messages`), so the
card of a large folder is cheap to rebuild. Plots are PNGs drawn with the Agg backend
without a timestamp or software tag, so the same data gives the same bytes.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

COLUMNS = ("lang", "generator", "num_tokens", "num_docs", "gold_docs", "gold_positions", "effective_ratio")
POSITION_BINS = 10
PERCENTILES = (10, 50, 90)
PLOT_KINDS = ("tokens", "gold-positions", "effective-ratio")


def read_columns(files: list[Path]) -> pa.Table:
    """The statistics columns of some parquet shards, in order."""
    return pa.concat_tables([pq.read_table(f, columns=list(COLUMNS)) for f in files])


def _spread(values: np.ndarray) -> dict[str, float]:
    if values.size == 0:
        return {}
    spread = {"min": float(values.min()), "mean": float(values.mean()), "max": float(values.max())}
    spread.update({f"p{q}": float(np.percentile(values, q)) for q in PERCENTILES})
    return spread


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
        "examples": table.num_rows,
        "num_tokens": _spread(table.column("num_tokens").to_numpy().astype(np.int64)),
        "num_docs": _spread(table.column("num_docs").to_numpy().astype(np.int64)),
        "turns": _spread(turns.astype(np.int64)),
        "unanswerable_share": float((gold == 0).mean()) if gold.size else 0.0,
        "gold_positions": position_histogram(table),
        "effective_ratio": _spread(table.column("effective_ratio").to_numpy().astype(np.float64)),
        "langs": sorted(set(table.column("lang").to_pylist())),
        "generators": sorted(set(table.column("generator").to_pylist())),
    }


def _png(draw) -> bytes:
    """Render one axes-drawing function to PNG bytes, deterministically."""
    fig = Figure(figsize=(6, 3.2), dpi=100)
    FigureCanvasAgg(fig)
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.16, top=0.9)  # fixed: tight_layout costs a draw
    draw(fig.add_subplot())
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def plots(table: pa.Table, title: str) -> dict[str, bytes]:
    """PNG bytes by kind (`PLOT_KINDS`): token lengths, gold positions, effective ratio."""
    tokens = table.column("num_tokens").to_numpy()
    ratio = table.column("effective_ratio").to_numpy()
    hist = position_histogram(table)

    def draw_tokens(ax):
        ax.hist(tokens, bins=40, color="#4C72B0")
        ax.set(title=f"{title}: tokens per sample", xlabel="Qwen tokens (chat template)", ylabel="samples")

    def draw_positions(ax):
        edges = np.linspace(0.0, 1.0, POSITION_BINS + 1)
        ax.bar(edges[:-1], hist, width=1.0 / POSITION_BINS, align="edge", color="#55A868", edgecolor="white")
        ax.set(title=f"{title}: where the gold document starts", xlabel="relative position in context",
               ylabel="answerable turns", xlim=(0.0, 1.0))

    def draw_ratio(ax):
        ax.hist(ratio, bins=20, range=(0.0, 1.0), color="#C44E52")
        ax.set(title=f"{title}: effective-token ratio", xlabel="share of answer tokens quoted from the gold document",
               ylabel="samples", xlim=(0.0, 1.0))

    return dict(zip(PLOT_KINDS, (_png(draw_tokens), _png(draw_positions), _png(draw_ratio))))
