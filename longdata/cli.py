"""`longdata` command line: generate, push, card, clean, train, eval.

`generate`, `train` and `eval` hand their arguments, untouched, to their own modules' `main`,
imported only when called (training pulls in torch)."""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

DELEGATES = {"generate": "longdata.generate", "train": "longdata.trainer.train", "eval": "longdata.eval.cli"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="longdata", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module in DELEGATES.items():
        # add_help=False: `longdata generate --help` reaches the delegate's own parser.
        sub.add_parser(name, add_help=False, help=f"run {module} (see `longdata {name} --help`)")
    push = sub.add_parser("push", help="upload built folders to Hub dataset repos, one commit each")
    push.add_argument("folders", type=Path, nargs="+", metavar="FOLDER",
                      help="dataset folders (OUT/<dataset>), or OUT itself for every dataset in it")
    target = push.add_mutually_exclusive_group(required=True)
    target.add_argument("--repo-id", help="org/name of the dataset repo (one folder only; created if missing)")
    target.add_argument("--namespace", help="user or org: each folder goes to <namespace>/<dataset name>")
    push.add_argument("--private", action="store_true", help="create the repo private")
    push.add_argument("--token-env", default="HF_TOKEN",
                      help="environment variable holding the token (default HF_TOKEN; unset: the saved login)")
    card = sub.add_parser("card", help="recompute statistics and plots from the parquet and rewrite README.md")
    card.add_argument("folder", type=Path)
    from .clean.pipeline import CleanOptions
    from .config import add_flags

    clean = sub.add_parser("clean", help="filter and deduplicate a corpus into parquet shards, with a report")
    add_flags(clean, [CleanOptions])
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args, rest = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    if args.command in DELEGATES:
        return importlib.import_module(DELEGATES[args.command]).main(rest) or 0
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "clean":
        from .clean.pipeline import CleanOptions, clean_corpus
        from .config import from_flags

        opts = from_flags(CleanOptions, args)
        if not opts.corpus:
            parser.error("clean needs at least one --corpus")
        print(clean_corpus(opts))
        return 0
    if args.command == "push":
        from .push import dataset_folders, push_folder

        folders = dataset_folders(args.folders)
        if args.repo_id and len(folders) != 1:
            parser.error(f"--repo-id names one repo but {len(folders)} dataset folders were given: use --namespace")
        token = os.environ.get(args.token_env) or None
        for folder in folders:
            repo_id = args.repo_id or f"{args.namespace}/{folder.name}"
            info = push_folder(folder, repo_id, private=args.private, token=token)
            print(f"pushed {folder} to {info.commit_url}")
    else:
        from .card import refresh_card

        print(f"wrote {refresh_card(args.folder)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
