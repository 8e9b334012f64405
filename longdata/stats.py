"""Statistics and plots every dataset shares, computed from a few small columns.

They feed the dataset card and the end-of-run summary; each task adds its own (see
`Task.split_stats`, `Task.plots`). Only the columns a task names are read (never
`messages`), so the card of a large folder is cheap to rebuild. Plots are PNGs drawn
with the Agg backend without a timestamp or software tag: same data, same bytes.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

PERCENTILES = (10, 50, 90)


def read_columns(files: list[Path], columns: Sequence[str]) -> pa.Table:
    """Some columns of some parquet shards, in order."""
    return pa.concat_tables([pq.read_table(f, columns=list(columns)) for f in files])


def spread(values: np.ndarray) -> dict[str, float]:
    """min, mean, max and the PERCENTILES of some numbers ({} for none)."""
    if values.size == 0:
        return {}
    out = {"min": float(values.min()), "mean": float(values.mean()), "max": float(values.max())}
    out.update({f"p{q}": float(np.percentile(values, q)) for q in PERCENTILES})
    return out


def column(table: pa.Table, name: str, dtype=np.int64) -> np.ndarray:
    return table.column(name).to_numpy().astype(dtype)


def base_stats(table: pa.Table) -> dict:
    """What every dataset's card shows: examples, token spread, languages."""
    return {"examples": table.num_rows, "num_tokens": spread(column(table, "num_tokens")),
            "langs": sorted(set(table.column("lang").to_pylist()))}


def tokens_markdown(config: str, by_split: dict[str, dict], extra: Sequence[tuple[str, str]] = ()) -> str:
    """A table of examples and token spread per split; `extra` adds (header, stats key)
    columns whose values are numbers or spreads (their mean is shown)."""
    head = "| split | examples | tokens min | p10 | p50 | p90 | max |" + "".join(f" {h} |" for h, _ in extra)
    rows = [head, "|" + "---|" * (7 + len(extra))]
    for split, s in by_split.items():
        t = s["num_tokens"]
        cells = "".join(f" {_cell(s[key])} |" for _, key in extra)
        rows.append(f"| {split} | {s['examples']:,} | {t['min']:,.0f} | {t['p10']:,.0f} | {t['p50']:,.0f} "
                    f"| {t['p90']:,.0f} | {t['max']:,.0f} |{cells}")
    return f"### {config}\n\n" + "\n".join(rows)


def _cell(value) -> str:
    if isinstance(value, dict):
        return f"{value.get('mean', 0):,.2f}"
    if isinstance(value, float):
        return f"{value:.1%}" if 0 <= value <= 1 else f"{value:,.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def reasons_cell(counter: dict) -> str:
    """`reason: n` lines of a markdown table cell."""
    return "<br>".join(f"{k}: {v:,}" for k, v in sorted(counter.items())) or "0"


def png(draw) -> bytes:
    """Render one axes-drawing function to PNG bytes, deterministically."""
    fig = Figure(figsize=(6, 3.2), dpi=100)
    FigureCanvasAgg(fig)
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.16, top=0.9)  # fixed: tight_layout costs a draw
    draw(fig.add_subplot())
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def token_plot(table: pa.Table, title: str, what: str = "sample") -> bytes:
    tokens = table.column("num_tokens").to_numpy()

    def draw(ax):
        ax.hist(tokens, bins=40, color="#4C72B0")
        ax.set(title=f"{title}: tokens per {what}", xlabel="Qwen tokens", ylabel=f"{what}s")

    return png(draw)
