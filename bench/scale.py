"""Peak memory against input size, and the speed-up of --num-proc 2.

Builds multidoc-paraphrase (zh, 32k, extractive) from a corpus made of
../shared/corpora/zh_news.jsonl repeated k times (each copy's ids and first sentence
changed), at 1x and 8x, and reports the peak resident memory of the build (the largest
process) and the wall time with --num-proc 1 and 2.

    python bench/scale.py
"""
from __future__ import annotations

import argparse
import json
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"


def corpus(folder: Path, copies: int) -> Path:
    path = folder / f"zh-{copies}x.jsonl"
    with open(path, "w", encoding="utf-8") as out:
        for k in range(copies):
            for line in (CORPORA / "zh_news.jsonl").read_text(encoding="utf-8").splitlines():
                rec = json.loads(line)
                rec["id"] = f"{rec['id']}-copy{k}"
                rec["text"] = f"第{k}版。" + rec["text"]
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return path


def build(path: Path, out: Path, num_proc: int) -> tuple[float, float]:
    """(seconds, peak RSS in MB of the largest process of the build)."""
    started = time.perf_counter()
    code = ("import resource, runpy, sys; sys.argv = ['generate'] + sys.argv[1:]; "
            "runpy.run_module('longdata.generate', run_name='__main__')")
    proc = subprocess.run([sys.executable, "-c", code, "--lang", "zh", "--corpus", str(path), "--max-tokens", "32768",
                           "--num-proc", str(num_proc), "--out", str(out)], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode:
        raise SystemExit(proc.stderr[-2000:])
    return seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=2, help="runs of each 8x build (the fastest counts)")
    cli = p.parse_args()
    serial, parallel = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        one, eight = corpus(tmp, 1), corpus(tmp, 8)
        t1, m1 = build(one, tmp / "a", 1)
        for k in range(cli.repeat):
            t, peak = build(eight, tmp / f"b{k}", 1)
            if k == 0:
                m8 = peak  # before any --num-proc 2 run: the serial builds' peak
            serial.append(t)
            parallel.append(build(eight, tmp / f"c{k}", 2)[0])
        t8, t8p = min(serial), min(parallel)
        size1, size8 = one.stat().st_size / 1e6, eight.stat().st_size / 1e6
    print(f"\n$ python bench/scale.py {shlex.join(sys.argv[1:])}")
    print(f"1x ({size1:.1f} MB): {t1:.1f}s, peak RSS {m1:.0f} MB")
    print(f"8x ({size8:.1f} MB): {t8:.1f}s, peak RSS {m8:.0f} MB (the largest of the 1x and first 8x runs)")
    print(f"memory 8x / 1x: {m8 / m1:.2f} (target <= 1.2)")
    print(f"8x --num-proc 1 runs: {', '.join(f'{t:.1f}s' for t in serial)}; --num-proc 2 runs: "
          f"{', '.join(f'{t:.1f}s' for t in parallel)}")
    print(f"8x --num-proc 2: {t8p:.1f}s, speed-up {t8 / t8p:.2f}x, fastest runs (target >= 1.7); "
          f"run by run {min(a / b for a, b in zip(serial, parallel)):.2f}x to {max(a / b for a, b in zip(serial, parallel)):.2f}x")


if __name__ == "__main__":
    main()
