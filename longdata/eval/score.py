"""Predictions JSONL -> scores, for passage retrieval and needle-in-a-haystack sets.

Passage retrieval is scored twice. LongBench's metric (reproduced exactly, so numbers stay
comparable with published tables) divides the hits of the gold id by *every* number in the
answer, so a model that quotes the abstract ("2019 ... 1.2 billion") is marked down even when
it names the right paragraph. Ours scores the paragraph the answer cites: the first citation
outside quotation marks. Needles are found after folding width, case, spaces and punctuation,
so a reformatted fact still counts. Reads LongBench's `pred.py` files and ours
(`longdata eval run`); only ours carry the gold position (retrieval) or depth (needle).
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from ..stats import png

RETRIEVAL = "passage_retrieval"
NEEDLE = "needle"
LENGTH_LIMITS = (4096, 8192, 16384, 32768)  # tokens; a length equal to a limit goes below it
LENGTH_BUCKETS = ("0-4k", "4k-8k", "8k-16k", "16k-32k", "32k+")
POSITION_LABELS = tuple(f"{10 * i}-{10 * (i + 1)}%" for i in range(10))

# LongBench's gold-id patterns (metrics.py: retrieval_score / retrieval_zh_score).
_LONGBENCH_GOLD = {"en": re.compile(r"Paragraph (\d+)"), "zh": re.compile(r"段落(\d+)")}
_NUMBER = re.compile(r"\d+")
# Quotation marks: what is quoted is evidence, not a citation. «» and <<<>>> are the marks our
# prompts ask for when the quote itself holds “” (prompts/*/paper.json).
_QUOTES = {"“": "”", '"': '"', "「": "」", "『": "』", "‘": "’", "«": "»", "<<<": ">>>"}
_OPENING = re.compile("|".join(map(re.escape, _QUOTES)))
# 段落N, 段落 N, 第N段, [N] (so 文档[N] and Document [N]), Paragraph/Passage/Document N, any case.
_CITATION = re.compile(r"段落\s*(\d+)|第\s*(\d+)\s*段|\[\s*(\d+)\s*\]|(?:paragraph|passage|document)\s*(\d+)",
                       re.IGNORECASE)


def fold(text: str) -> str:
    """NFKC, lower case, no whitespace, punctuation or symbols: what survives re-typing a fact."""
    return "".join(c for c in unicodedata.normalize("NFKC", text).lower()
                   if not (c.isspace() or unicodedata.category(c)[0] in "PZS"))


def unquoted(text: str) -> str:
    """The text with every quoted span (marks included) replaced by a space; an opening mark
    that is never closed quotes to the end."""
    kept, pos = [], 0
    while m := _OPENING.search(text, pos):
        kept.append(text[pos:m.start()])
        close = text.find(_QUOTES[m.group()], m.end())
        if close < 0:
            return " ".join(kept)
        pos = close + len(_QUOTES[m.group()])
    kept.append(text[pos:])
    return " ".join(kept)


def cited_number(text: str) -> int | None:
    """The paragraph an answer cites: its first citation outside quotes, else the answer itself
    when it is nothing but an integer (`12`, `12。`), else None."""
    text = unicodedata.normalize("NFKC", text)
    m = _CITATION.search(unquoted(text))
    if m:
        return int(next(g for g in m.groups() if g is not None))
    bare = fold(text)
    return int(bare) if _NUMBER.fullmatch(bare) else None


def gold_numbers(answers: Sequence[str | int]) -> set[int]:
    """The gold paragraph numbers of a record's answers (`段落12`, `Paragraph 12`, `12` or 12)."""
    golds = {a if isinstance(a, int) else cited_number(str(a)) for a in answers}
    golds.discard(None)
    if not golds:
        raise ValueError(f"no paragraph number in answers {list(answers)!r}")
    return golds


def longbench_retrieval(pred: str, answer: str, lang: str) -> float:
    """LongBench's retrieval_score (en) / retrieval_zh_score (zh): hits of the gold id among all
    numbers of the prediction, compared as strings; 0.0 when it has no number."""
    gold = _LONGBENCH_GOLD[lang].search(answer)
    if gold is None:  # LongBench itself fails here (IndexError)
        raise ValueError(f"answer {answer!r} does not match LongBench's {_LONGBENCH_GOLD[lang].pattern!r}")
    numbers = _NUMBER.findall(pred)
    right = sum(1 for n in numbers if n == gold.group(1))
    return 0.0 if not numbers else right / len(numbers)


def needle_hits(pred: str, needles: Sequence[str]) -> float:
    """Share of the needles whose folded key fact is contained in the folded prediction."""
    if isinstance(needles, str) or not needles:
        raise ValueError("'needles' must be a non-empty list of strings")
    keys = [fold(n) for n in needles]
    if not all(keys):
        raise ValueError(f"a needle is only spaces and punctuation: {list(needles)!r}")
    text = fold(pred)
    return sum(1 for k in keys if k in text) / len(keys)


def score_record(record: dict, task: str, lang: str) -> tuple[float, float | None]:
    """(ours, LongBench's) for one prediction in [0, 1]; LongBench's is None for needles.
    LongBench's takes the max over the answers, as its eval.py does."""
    pred = record["pred"]
    if task == NEEDLE:
        return needle_hits(pred, record["needles"]), None
    answers = record["answers"]
    ours = 1.0 if cited_number(pred) in gold_numbers(answers) else 0.0
    longbench = 0.0
    for answer in answers:
        longbench = max(longbench, longbench_retrieval(pred, _longbench_answer(answer, lang), lang))
    return ours, longbench


def _longbench_answer(answer: str | int, lang: str) -> str:
    """An int gold written as LongBench writes its answers (`段落4`, `Paragraph 4`)."""
    if not isinstance(answer, int):
        return answer
    return f"段落{answer}" if lang == "zh" else f"Paragraph {answer}"


def task_of(dataset: str) -> str:
    """`passage_retrieval_zh`, `eval-passage-retrieval`, ... -> RETRIEVAL; `eval-needle` -> NEEDLE."""
    name = dataset.replace("-", "_")
    if RETRIEVAL in name:
        return RETRIEVAL
    if NEEDLE in name:
        return NEEDLE
    raise ValueError(f"unknown evaluation set {dataset!r} (expected passage_retrieval or needle)")


def lang_of(record: dict, dataset: str) -> str:
    """The record's `lang`, else the dataset's `_zh`/`_en` suffix, else zh when an answer says 段落."""
    if record.get("lang") in ("zh", "en"):
        return record["lang"]
    suffix = dataset.replace("-", "_").rsplit("_", 1)[-1]
    if suffix in ("zh", "en"):
        return suffix
    return "zh" if any("段落" in str(a) for a in record.get("answers", ())) else "en"


def length_bucket(tokens: int) -> str:
    """`0-4k` ... `32k+`, by powers of two; a length equal to a limit goes to the lower bucket."""
    return next((b for limit, b in zip(LENGTH_LIMITS, LENGTH_BUCKETS) if tokens <= limit), LENGTH_BUCKETS[-1])


def position_label(position: float) -> str:
    """The decile of a relative position in [0, 1]; 1.0 goes into the last."""
    if not 0 <= position <= 1:
        raise ValueError(f"position {position!r} is not in [0, 1]")
    return POSITION_LABELS[min(int(position * 10), 9)]


def depth_label(depth: float) -> str:
    """A depth percent rounded to the nearest 10 (halves up): 47.5 -> `50%`."""
    if not 0 <= depth <= 100:
        raise ValueError(f"depth {depth!r} is not in [0, 100]")
    return f"{int(depth / 10 + 0.5) * 10}%"


@dataclass(frozen=True)
class Scored:
    """One scored prediction and the buckets it falls in (None where its file says nothing)."""

    task: str
    longdata: float
    longbench: float | None
    length: str | None
    position: str | None
    depth: str | None


def _numbered(path: str | Path) -> Iterator[tuple[int, dict]]:
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}, line {lineno}: not valid JSON ({e.msg})") from None
            if not isinstance(record, dict) or not isinstance(record.get("pred"), str):
                raise ValueError(f"{path}, line {lineno}: expected a JSON object with a string 'pred'")
            yield lineno, record


def read_predictions(path: str | Path) -> list[dict]:
    """The records of a predictions JSONL (LongBench's pred.py files or ours), blank lines skipped."""
    return [record for _, record in _numbered(path)]


def _scored(record: dict, dataset: str | None) -> Scored:
    name = record.get("dataset") or dataset
    if not name:
        raise ValueError("no dataset in the record: pass one (e.g. passage_retrieval_zh)")
    task = task_of(name)
    ours, longbench = score_record(record, task, lang_of(record, name))
    length, position, depth = record.get("length"), record.get("position"), record.get("depth")
    return Scored(task, ours, longbench,
                  None if length is None else length_bucket(length),
                  None if position is None else position_label(position),
                  None if depth is None else depth_label(depth))


def _percent(scores: list[float]) -> float:
    """LongBench's `round(100 * total / n, 2)`, the total summed in order as its eval.py does
    (not sum(), which compensates rounding from Python 3.12 on)."""
    total = 0.0
    for s in scores:
        total += s
    return round(100 * total / len(scores), 2)


def _summary(rows: list[Scored], metrics: Sequence[str]) -> dict:
    return {"n": len(rows), **{m: _percent([getattr(r, m) for r in rows]) for m in metrics}}


def _grouped(rows: list[Scored], field: str, order: Callable[[str], int]) -> dict[str, list[Scored]]:
    groups: dict[str, list[Scored]] = {}
    for r in rows:
        if getattr(r, field) is not None:
            groups.setdefault(getattr(r, field), []).append(r)
    return {k: groups[k] for k in sorted(groups, key=order)}


def _depth_order(label: str) -> int:
    return int(label.rstrip("%"))


def _result(rows: list[Scored]) -> dict:
    task = rows[0].task
    metrics = ("longdata", "longbench") if task == RETRIEVAL else ("longdata",)
    by_length = _grouped(rows, "length", LENGTH_BUCKETS.index)
    out = {"task": task, **_summary(rows, metrics),
           "by_length": {k: _summary(g, metrics) for k, g in by_length.items()}}
    if task == RETRIEVAL:
        out["by_position"] = {k: _summary(g, metrics)
                              for k, g in _grouped(rows, "position", POSITION_LABELS.index).items()}
        return out
    out["by_depth"] = {k: _summary(g, metrics) for k, g in _grouped(rows, "depth", _depth_order).items()}
    out["grid"] = {k: {d: _percent([r.longdata for r in cell])
                       for d, cell in _grouped(g, "depth", _depth_order).items()}
                   for k, g in by_length.items()}
    return out


def score_file(path: str | Path, dataset: str | None = None) -> dict:
    """Scores of a predictions file on a 0-100 scale, overall and by length and position
    (retrieval) or depth (needle). A record's own `dataset` wins over the argument."""
    rows = []
    for lineno, record in _numbered(path):
        try:
            rows.append(_scored(record, dataset))
        except KeyError as e:
            raise ValueError(f"{path}, line {lineno}: missing field {e}") from None
        except (TypeError, ValueError) as e:
            raise ValueError(f"{path}, line {lineno}: {e}") from None
    tasks = {r.task for r in rows}
    if len(tasks) != 1:
        raise ValueError(f"{path}: expected predictions of one task, found {sorted(tasks) or 'none'}")
    return _result(rows)


def position_curve_png(result: dict) -> bytes:
    """Retrieval accuracy by decile of the gold paragraph's position, both metrics."""
    by_position = result["by_position"]
    if not by_position:
        raise ValueError("no positions to plot (LongBench's files carry none)")
    x = [10 * POSITION_LABELS.index(k) + 5 for k in by_position]

    def draw(ax):
        ax.plot(x, [s["longdata"] for s in by_position.values()], marker="o", label="LongData (cited paragraph)")
        ax.plot(x, [s["longbench"] for s in by_position.values()], marker="s", label="LongBench")
        ax.set(title=f"Passage retrieval by gold position (n={result['n']:,})", xlabel="gold paragraph position (%)",
               ylabel="accuracy (%)", xlim=(0, 100), ylim=(-3, 103))
        ax.legend(loc="best")

    return png(draw)


def needle_heatmap_png(result: dict) -> bytes:
    """Needle accuracy on a depth x length grid, each cell annotated with its score."""
    grid = result["grid"]
    if not grid:
        raise ValueError("no depth x length grid to plot (records need length and depth)")
    lengths = list(grid)
    depths = sorted({d for row in grid.values() for d in row}, key=_depth_order)
    values = np.array([[grid[b].get(d, np.nan) for b in lengths] for d in depths], dtype=float)

    def draw(ax):
        ax.imshow(np.ma.masked_invalid(values), cmap="RdYlGn", vmin=0, vmax=100, aspect="auto")
        for (i, j), v in np.ndenumerate(values):
            if not np.isnan(v):
                ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=8)
        ax.set_xticks(range(len(lengths)), lengths)
        ax.set_yticks(range(len(depths)), depths)
        ax.set(title=f"Needle in a haystack (n={result['n']:,})", xlabel="context length (tokens)",
               ylabel="needle depth")

    return png(draw)


def summary_text(result: dict) -> str:
    """A plain table: overall, by length, by position (retrieval) or depth (needle)."""
    metrics = [m for m in ("longdata", "longbench") if m in result]
    sections = [(result["task"], {"all": result})]
    sections += [(key.replace("_", " "), result[key]) for key in ("by_length", "by_position", "by_depth")
                 if result.get(key)]
    lines = []
    for title, groups in sections:
        lines.append(f"{title:<18}{'n':>7}" + "".join(f"{m:>11}" for m in metrics))
        lines += [f"  {label:<16}{s['n']:>7,}" + "".join(f"{s[m]:>11.2f}" for m in metrics)
                  for label, s in groups.items()]
    return "\n".join(lines)
