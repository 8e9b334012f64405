"""Does every question point to exactly one document? Builds multidoc-paraphrase from a
corpus at some budgets and checks every sample of every split from its text: for an
answerable turn, no other document of the context holds all its `cues`; for an
unanswerable one, no document does (tests/multidoc_checks.py also checks the quotes).
Reports samples, turns and violations.

    python bench/uniqueness.py --lang zh --corpus ../shared/corpora/zh_news.jsonl
"""
from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from datasets import load_dataset

from longdata import resource_dir
from longdata.config import config_name
from longdata.text import contains, fold


def documents(first_user: str, header: str) -> dict[int, str]:
    pattern = re.compile("^" + re.escape(header).replace(r"\{n\}", r"(\d+)") + "\n", re.M)
    heads = list(pattern.finditer(first_user))
    end = first_user.rindex("\n\n")  # the question follows the last document
    return {int(m.group(1)): first_user[m.end():(heads[i + 1].start() if i + 1 < len(heads) else end)]
            for i, m in enumerate(heads)}


def violations(row: dict, header: str) -> int:
    lang = row["lang"]
    docs = {n: (text, fold(text, lang)) for n, text in documents(row["messages"][0]["content"], header).items()}
    bad = 0
    for turn, (gold, cues) in enumerate(zip(row["gold_docs"], row["cues"])):
        holders = {n for n, (_, folded) in docs.items() if all(contains(folded, c, lang) for c in cues)}
        if holders - {gold}:
            bad += 1
    return bad


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lang", default="zh", choices=["zh", "en"])
    p.add_argument("--corpus", action="append", default=[])
    p.add_argument("--max-tokens", default="8192,16384,32768")
    cli = p.parse_args()
    header = json.loads((resource_dir("prompts") / cli.lang / "multidoc.json").read_text(encoding="utf-8"))["doc_header"]
    with tempfile.TemporaryDirectory() as out:
        args = ["--lang", cli.lang, "--max-tokens", cli.max_tokens, "--out", out]
        args += [x for c in cli.corpus for x in ("--corpus", c)]
        subprocess.run([sys.executable, "-m", "longdata.generate", *args], check=True, capture_output=True)
        print(f"\n$ python bench/uniqueness.py {shlex.join(sys.argv[1:])}")
        for budget in map(int, cli.max_tokens.split(",")):
            samples = turns = bad = unanswerable = 0
            for split in load_dataset(str(Path(out) / "multidoc-paraphrase"), config_name(cli.lang, budget)).values():
                for row in split:
                    samples += 1
                    turns += len(row["gold_docs"])
                    unanswerable += row["gold_docs"].count(0)
                    bad += violations(row, header)
            print(f"{config_name(cli.lang, budget)}: {samples} samples, {turns} turns ({unanswerable} unanswerable), "
                  f"{bad} turns whose cues another (or, unanswerable, any) document of the context holds")


if __name__ == "__main__":
    main()
