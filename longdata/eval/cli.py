"""`longdata eval score | run | judge`: score predictions, evaluate a served model, rate free-form answers."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..config import add_flags, from_flags
from ..llm.client import LLMUnavailableError
from ..llm.options import EndpointOptions


def _parser() -> argparse.ArgumentParser:
    from .judge import JudgeOptions
    from .run import RunOptions

    parser = argparse.ArgumentParser(prog="longdata eval", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    score = sub.add_parser("score", help="predictions JSONL (ours or LongBench's pred.py output) -> scores")
    score.add_argument("--predictions", required=True, type=Path, help="predictions JSONL")
    score.add_argument("--dataset", help="the task of a LongBench file, e.g. passage_retrieval_zh (our files name "
                                         "their own)")
    score.add_argument("--json", action="store_true", help='print {"longdata": score, "longbench": score, ...} '
                                                         "(0-100)")
    score.add_argument("--plot", type=Path, help="write the position curve (retrieval) or heatmap (needle) PNG here")
    run = sub.add_parser("run", help="send an evaluation set to an OpenAI-compatible endpoint, then score")
    add_flags(run, [RunOptions])
    judge = sub.add_parser("judge", help="rate free-form answers with an LLM judge (LongAlign's prompts)")
    add_flags(judge, [JudgeOptions])
    for p in (run, judge):
        add_flags(p.add_argument_group("model endpoint (the evaluated model for run, the judge for judge)"),
                  [EndpointOptions])
    return parser


def _score(args) -> int:
    from .score import needle_heatmap_png, position_curve_png, score_file, summary_text

    result = score_file(args.predictions, args.dataset)
    if args.plot:
        args.plot.write_bytes(position_curve_png(result) if result["task"] == "passage_retrieval"
                              else needle_heatmap_png(result))
    print(json.dumps(result, ensure_ascii=False) if args.json else summary_text(result))
    return 0


def _client(ns, out: Path):
    llm = from_flags(EndpointOptions, ns, **({} if hasattr(ns, "llm_cache") else
                                        {"llm_cache": str(out / "llm-cache.sqlite")}))
    if not llm.llm_model:
        raise SystemExit("error: give --llm-model (and --llm-base-url for a local server such as vLLM)")
    out.mkdir(parents=True, exist_ok=True)
    return llm.client(out)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.command == "score":
            return _score(args)
        if args.command == "run":
            from .run import RunOptions, report, run_eval

            opts = from_flags(RunOptions, args)
            if not opts.eval_set:
                raise SystemExit("error: give --eval-set FOLDER_OR_ID:CONFIG")
            chat = _client(args, Path(opts.out))
            path, result = run_eval(opts, chat)
            print(report(path, result, chat))
            return 0
        from .judge import JudgeOptions, judge

        opts = from_flags(JudgeOptions, args)
        if not opts.predictions:
            raise SystemExit("error: give --predictions FILE")
        chat = _client(args, Path(opts.predictions).parent)
        print(json.dumps(judge(opts, chat), ensure_ascii=False, indent=1))
        print(chat.stats)
        return 0
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except LLMUnavailableError as err:
        print(f"error: {err}\nAnswered requests are cached; run the same command again to resume.", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
