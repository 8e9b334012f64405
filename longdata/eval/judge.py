"""`longdata eval judge`: rate free-form answers with an LLM judge, LongAlign's way.

LongAlign's prompts (Bai et al., 2024; `prompts/judge/`): LongBench-Chat's 1-10 rating
against a reference (with three rated example answers when the record has them), QA
1-3 and summaries 1-5. The rating is the last `[[n]]` of the judge's reply; a reply
without one is counted, not guessed. Calls go through the shared chat client: cached.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from .. import resource_dir
from ..config import option
from ..llm.client import ChatClient, Refusal, seed_for

SCALES = {"chat": (1, 10), "qa": (1, 3), "summary": (1, 5)}
_RATING = re.compile(r"\[\[([^\]]+)\]\]")
_NUMBER = re.compile(r"\d+\.\d+|\d+")


@dataclass
class JudgeOptions:
    predictions: str = option("", "predictions JSONL (`longdata eval run` writes them): `pred`, `answers` (the "
                                  "reference first), `question`; optional `few_shots` [{answer, score}] x 3")
    kind: str = option("auto", "rating scale: chat (1-10), qa (1-3), summary (1-5), or auto (summary for "
                               "*-summary sets, qa for *-qa and multidoc sets, else chat)",
                       choices=("auto", "chat", "qa", "summary"))
    out: str | None = option(None, "judged JSONL (default: beside the predictions, `judged-` prefixed)")


def kind_of(dataset: str) -> str:
    if dataset.endswith("summary"):
        return "summary"
    return "qa" if dataset.endswith("-qa") or dataset.startswith("multidoc") else "chat"


def judge_prompt(record: dict, kind: str) -> str:
    """The judge's user turn for one record."""
    fields = {"question": record.get("question", ""), "reference": record["answers"][0], "answer": record["pred"]}
    name = kind
    shots = record.get("few_shots") or []
    if kind == "chat" and len(shots) >= 3:
        name = "chat_fewshot"
        for i, shot in enumerate(shots[:3], 1):
            fields.update({f"shot_{i}": shot["answer"], f"rating_{i}": shot["score"]})
    text = (resource_dir("prompts") / "judge" / f"{name}.txt").read_text(encoding="utf-8")
    for key, value in fields.items():  # str.replace: answers hold braces
        text = text.replace("{" + key + "}", str(value))
    return text


def rating(reply: str, kind: str) -> float | None:
    """The last `[[n]]` of the reply, if it is a number on the scale."""
    found = _RATING.findall(reply)
    numbers = _NUMBER.findall(found[-1]) if found else []
    if not numbers:
        return None
    value = float(numbers[0])
    low, high = SCALES[kind]
    return value if low <= value <= high else None


def judge(opts: JudgeOptions, chat: ChatClient) -> dict:
    """Rate every prediction; writes the judged JSONL and returns the means."""
    path = Path(opts.predictions)
    records = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}:{n}: malformed JSON ({err.msg})") from None
    for n, rec in enumerate(records, 1):
        if not isinstance(rec, dict) or not isinstance(rec.get("pred"), str) or not rec.get("answers"):
            raise ValueError(f"{path}: record {n} needs `pred` and `answers` (the reference answer first)")
    system = (resource_dir("prompts") / "judge" / "system.txt").read_text(encoding="utf-8").strip()
    kinds = [opts.kind if opts.kind != "auto" else kind_of(str(r.get("dataset", ""))) for r in records]
    calls = [chat.chat_call([{"role": "system", "content": system}, {"role": "user", "content": judge_prompt(r, k)}],
                            {"temperature": 0.0, "max_tokens": 512, "seed": seed_for(str(r.get("id", i)))})
             for i, (r, k) in enumerate(zip(records, kinds))]
    replies = chat.complete(calls, desc=f"judging with {chat.model}")
    by_kind: dict[str, list[float]] = {}
    unrated = 0
    out = Path(opts.out) if opts.out else path.with_name("judged-" + path.name)
    with open(out, "w", encoding="utf-8") as fh:
        for rec, kind, reply in zip(records, kinds, replies):
            text = "" if isinstance(reply, Refusal) else (reply.text or "")
            value = rating(text, kind)
            unrated += value is None
            if value is not None:
                by_kind.setdefault(kind, []).append(value)
            fh.write(json.dumps({**rec, "judge_kind": kind, "rating": value, "judge_reply": text},
                                ensure_ascii=False) + "\n")
    return {"judged": str(out), "n": len(records), "unrated": unrated,
            **{kind: {"n": len(v), "mean": round(sum(v) / len(v), 3), "scale": list(SCALES[kind])}
               for kind, v in sorted(by_kind.items())}}
