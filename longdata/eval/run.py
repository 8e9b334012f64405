"""`longdata eval run`: send an evaluation set to an OpenAI-compatible endpoint, then score.

The same chat client as generation (cache, retries, concurrency): a rerun makes no calls,
an interrupted run resumes. Each sample's conversation without its last answer is sent;
the reply is written with what scoring needs (`score.py` reads the file) and, for the
retrieval and needle sets, scored with the plots beside it. Other datasets (summaries,
paper QA) get predictions for `longdata eval judge`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import datasets

from ..config import option
from ..hubfolder import read_manifest
from ..llm.client import ChatClient, Refusal, seed_for
from .score import needle_heatmap_png, position_curve_png, score_file, summary_text

QUESTION_CHARS = 4000  # the end of the last user turn, where the question is, for the judge


@dataclass
class RunOptions:
    """What to evaluate and where the results go."""

    eval_set: str = option("", "the set: a folder (OUT/eval-passage-retrieval) or Hub id, with :CONFIG (e.g. "
                               "longdata-out/eval-needle:zh-32k)")
    split: str = option("test", "split to evaluate")
    out: str = option("eval-out", "folder for predictions, scores and plots (and the response cache)")
    num_samples: int | None = option(None, "evaluate the first N samples only")
    temperature: float = option(0.0, "sampling temperature of the evaluated model")
    max_new_tokens: int = option(256, "completion tokens per reply at most")


def _open(spec: str, split: str) -> tuple[str, str, datasets.Dataset]:
    """(dataset name, config, split) of an evaluation set given as PATH_OR_ID:CONFIG."""
    path, sep, config = spec.rpartition(":")
    if not sep or not config or "/" in config:
        raise ValueError(f"--eval-set {spec!r}: name the config too, e.g. {spec}:zh-32k")
    name = read_manifest(Path(path)).get("dataset_name") if Path(path).is_dir() else None
    return name or Path(path).name, config, datasets.load_dataset(path, config, split=split)


def prediction(name: str, row: dict, pred: str) -> dict:
    """The predictions line for one sample: what its set's scorer needs."""
    gold = row["messages"][-1]["content"]
    out = {"id": row["id"], "dataset": name, "lang": row["lang"], "pred": pred, "length": row["num_tokens"]}
    if name == "eval-passage-retrieval":
        out.update(answers=row["answers"], position=row["position"])
    elif name == "eval-needle":
        out.update(answers=[gold], depth=row["depths_reached"][0], needles=row["needles"])
    else:
        question = row["messages"][-2]["content"]
        out.update(answers=[gold], question=question[-QUESTION_CHARS:])
    return out


def run_eval(opts: RunOptions, chat: ChatClient) -> tuple[Path, dict | None]:
    """Predictions (and scores where the set has a scorer): (predictions file, scores)."""
    name, config, rows = _open(opts.eval_set, opts.split)
    if opts.num_samples is not None:
        rows = rows.select(range(min(opts.num_samples, len(rows))))
    calls = [chat.chat_call(row["messages"][:-1], {"temperature": opts.temperature, "max_tokens": opts.max_new_tokens,
                                                   "seed": seed_for(row["id"])}) for row in rows]
    replies = chat.complete(calls, desc=f"{name} {config} on {chat.model}")
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{name}-{config}-{chat.model.replace('/', '_')}"
    path = out / f"predictions-{stem}.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        for row, reply in zip(rows, replies):
            pred = "" if isinstance(reply, Refusal) else (reply.text or "")
            fh.write(json.dumps(prediction(name, row, pred), ensure_ascii=False) + "\n")
    if name not in ("eval-passage-retrieval", "eval-needle"):
        return path, None
    result = score_file(path)
    (out / f"scores-{stem}.json").write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    plot = position_curve_png(result) if name == "eval-passage-retrieval" else needle_heatmap_png(result)
    (out / f"{'positions' if name == 'eval-passage-retrieval' else 'heatmap'}-{stem}.png").write_bytes(plot)
    return path, result


def report(path: Path, result: dict | None, chat: ChatClient) -> str:
    lines = [f"predictions:      {path}", str(chat.stats)]
    if result is None:
        lines.append("no automatic metric for this set: rate the answers with `longdata eval judge --predictions "
                     f"{path} --llm-model JUDGE --llm-base-url URL`")
    else:
        lines += [summary_text(result), f"scores and plot:  {path.parent}"]
    return "\n".join(lines)
