"""Near-dedup throughput: our MinHash path (shingling + rensa signatures + LSH buckets)
against datasketch (same shingles, `MinHash` + `MinHashLSH`) on the same documents.

Documents are ~1000-character slices of ../shared/corpora (zh news, en Wikipedia), so
the numbers are per document of that size. One process, one core.

    pip install datasketch   # or: pip install ".[bench]"
    python bench/dedup.py --lang zh
"""
from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"


def documents(lang: str, n: int, chars: int = 1000) -> list[str]:
    from longdata.documents import read_documents

    name = "zh_news.jsonl" if lang == "zh" else "en_web.jsonl"
    out: list[str] = []
    while len(out) < n:
        for doc in read_documents([CORPORA / name]):
            text = doc.text
            out.extend(text[i:i + chars] for i in range(0, max(1, len(text) - chars + 1), chars))
            if len(out) >= n:
                break
    return out[:n]


def ours(texts: list[str], lang: str) -> float:
    from longdata.clean.dedup import DedupConfig, NearDuplicates

    near = NearDuplicates(DedupConfig())
    t = time.perf_counter()
    for k in range(0, len(texts), 512):
        near.add_batch(texts[k:k + 512], lang)
    return time.perf_counter() - t


def theirs(texts: list[str], lang: str) -> float:
    from datasketch import MinHash, MinHashLSH

    from longdata.clean.dedup import shingles

    lsh = MinHashLSH(num_perm=128, params=(16, 8))
    t = time.perf_counter()
    for i, text in enumerate(texts):
        m = MinHash(num_perm=128, seed=42)
        m.update_batch([s.encode("utf-8") for s in shingles(text, lang)])
        lsh.query(m)
        lsh.insert(str(i), m)
    return time.perf_counter() - t


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lang", default="zh", choices=["zh", "en"])
    p.add_argument("--docs", type=int, default=20000)
    cli = p.parse_args()
    texts = documents(cli.lang, cli.docs)
    ours(texts[:100], cli.lang)  # imports and one-time set-up
    a = ours(texts, cli.lang)
    b = theirs(texts[: len(texts) // 4], cli.lang) * 4  # datasketch is slow: a quarter, scaled
    print(f"\n$ python bench/dedup.py {shlex.join(sys.argv[1:])}")
    print(f"{len(texts)} documents of ~1000 characters ({cli.lang})")
    print(f"ours (rensa)   {a:.2f}s  {len(texts) / a:,.0f} docs/s per core  (target >= 3000 for zh)")
    print(f"datasketch     {b:.2f}s  {len(texts) / b:,.0f} docs/s  (measured on a quarter, scaled)")
    print(f"ratio          {b / a:.1f}x  (target >= 10x, shingling included)")


if __name__ == "__main__":
    main()
