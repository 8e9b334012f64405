"""`longdata clean`: filter and deduplicate a corpus into parquet shards, with a report.

Two streaming passes over the input, in input order. Pass 1 decides: language, quality
rules (`filters`), exact duplicates (normalised text), and MinHash signatures for near
duplicates; clusters are connected components, and each keeps its first document. The
per-document work (language, rules, keys, signatures) runs on batches in parallel
(`--num-proc`, `--engine ray`); the dedup that compares with earlier documents takes the
batches back in input order, so the output is the same for any engine or process count.
Pass 2 reads the input again and writes the kept documents to
`OUT/clean-<lang>-0000i.parquet` (`id, text, lang, source, meta`), which every reader
takes as a corpus. Memory holds one signature and one decision per document, never texts.
"""
from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from .. import engine
from ..config import option
from ..documents import Document, ReadOptions, RejectLog, read_documents
from ..engine.local import windows
from ..text import detect_lang
from .dedup import DedupConfig, NearDuplicates, digest, normalize_batch, signatures
from .filters import FilterConfig, first_failure

KEEP = ""
BATCH = 512          # documents per signature batch
SHARD_DOCS = 20_000  # documents per output shard
EXAMPLES = 3         # examples kept per reason in the report


@dataclass
class CleanOptions:
    """What `longdata clean` (and `generate --clean`) does to a corpus."""

    lang: str = option("zh", "language to keep", choices=("zh", "en"))
    corpus: tuple[str, ...] = option((), "input file or folder; repeatable", repeat=True)
    out: str = option("longdata-clean", "folder for the cleaned parquet shards and clean-report.json")
    text_field: str = option("text", "JSON/parquet field holding the text")
    id_field: str = option("id", "field holding the record id (derived from the text when absent)")
    filters: bool = option(True, "apply the quality rules (--no-filters to skip)")
    dedup: bool = option(True, "drop exact and near duplicates (--no-dedup to skip)")
    bands: int = option(16, "LSH bands (of rows x bands <= 128 permutations)")
    rows: int = option(8, "LSH rows per band")
    threshold: float = option(0.7, "share of equal MinHash positions that makes two documents duplicates")
    num_proc: int = option(1, "worker processes (the output is byte-identical for any value)")
    engine: str = option("local", "what runs the per-batch work: local (process pool) or ray (the `ray` extra)",
                         choices=("local", "ray"))
    ray_address: str | None = option(None, "Ray cluster to join (default: a local Ray with --num-proc CPUs)")


@dataclass
class CleanReport:
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)
    examples: dict[str, list[dict]] = field(default_factory=dict)
    cluster_sizes: dict[int, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def drop(self, reason: str, doc: Document) -> None:
        key = reason.split(":")[0]
        self.dropped[key] += 1
        shown = self.examples.setdefault(key, [])
        if len(shown) < EXAMPLES:
            shown.append({"id": doc.id, "source": doc.source, "reason": reason, "text": doc.text[:200]})

    def as_dict(self) -> dict:
        return {"kept": self.kept, "dropped": dict(sorted(self.dropped.items())), "examples": self.examples,
                "near_duplicate_cluster_sizes": {str(k): v for k, v in self.cluster_sizes.items()},
                "files": self.files}

    def __str__(self) -> str:
        seen = self.kept + sum(self.dropped.values())
        lines = [f"== clean: {seen} documents in {self.seconds:.1f}s, kept {self.kept}",
                 *(f"  dropped {k}: {v}" for k, v in sorted(self.dropped.items())),
                 "  near-duplicate clusters (size: count): "
                 + (", ".join(f"{k}: {v}" for k, v in self.cluster_sizes.items()) or "none"),
                 f"  output: {', '.join(self.files)}"]
        return "\n".join(lines)


def _stream(opts: CleanOptions, rejects: RejectLog) -> Iterator[Document]:
    """The input, parsed; languages are detected in `assess`, by the workers."""
    return read_documents(opts.corpus, rejects, ReadOptions(opts.text_field, opts.id_field, detect=False))


@dataclass(frozen=True)
class Assessment:
    """What a worker decides alone about one document: a drop reason (language, quality),
    or its exact key and MinHash signature for the dedup that needs every earlier one."""

    reason: str
    key: bytes | None
    signature: np.ndarray | None
    doc: tuple[str, str, str]  # id, source, the first characters: for the report's examples


def assess(job: tuple[list[Document], CleanOptions]) -> list[Assessment]:
    """Pure per-batch work of pass 1 (runs in a worker process or a Ray task)."""
    docs, opts = job
    filters = FilterConfig.for_lang(opts.lang)
    reasons = []
    for doc in docs:
        lang = doc.lang or detect_lang(doc.text)
        reasons.append(f"language: detected {lang}" if lang != opts.lang else
                       (first_failure(doc.text, opts.lang, filters) or KEEP) if opts.filters else KEEP)
    kept = [i for i, r in enumerate(reasons) if opts.dedup and not r]
    norms = normalize_batch([docs[i].text for i in kept])  # once, for both dedups
    keys = dict(zip(kept, map(digest, norms)))
    by_doc = dict(zip(kept, signatures(norms, opts.lang, dedup_config(opts), normalized=True) if kept else []))
    return [Assessment(r, keys.get(i), by_doc.get(i), (d.id, d.source, d.text[:200]))
            for i, (d, r) in enumerate(zip(docs, reasons))]


def dedup_config(opts: CleanOptions) -> DedupConfig:
    return DedupConfig(bands=opts.bands, rows=opts.rows, threshold=opts.threshold)


def decide(opts: CleanOptions, report: CleanReport, rejects: RejectLog) -> list[str]:
    """Pass 1: the decision for every document read (KEEP or the reason it is dropped).
    Batches are assessed in parallel; exact and near dedup then take them in input order."""
    decisions: list[str] = []
    exact: dict[bytes, str] = {}
    near = NearDuplicates(dedup_config(opts))
    near_index: list[int] = []  # near-dedup position -> decision index
    docs = tqdm(_stream(opts, rejects), desc="clean: pass 1", unit="doc", disable=None, leave=False)
    jobs = ((batch, opts) for batch in windows(docs, BATCH))
    for batch in engine.map_ordered(assess, jobs, opts.num_proc, opts.engine, opts.ray_address):
        sigs = []
        for a in batch:
            reason = a.reason
            if a.key is not None:
                if a.key in exact:
                    reason = f"exact duplicate: of {exact[a.key]}"
                else:
                    exact[a.key] = a.doc[0]
                    sigs.append(a.signature)
                    near_index.append(len(decisions))
            decisions.append(reason)
            if reason:
                report.drop(reason, Document(a.doc[0], a.doc[2], opts.lang, a.doc[1]))
        if sigs:
            near.add_signatures(np.stack(sigs))
    if opts.dedup:
        for pos, i in enumerate(near_index):
            root = near.duplicate_of(pos)
            if root != pos:
                decisions[i] = f"near duplicate: of document {near_index[root]} in input order"
        report.cluster_sizes = near.cluster_sizes()
    return decisions


def clean_corpus(opts: CleanOptions, rejects: RejectLog | None = None) -> CleanReport:
    """Both passes; writes the shards and clean-report.json into `opts.out`."""
    started = time.time()
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob(f"clean-{opts.lang}-*.parquet"):
        old.unlink()
    rejects = rejects if rejects is not None else RejectLog(out / f"clean-{opts.lang}-rejects.jsonl")
    report = CleanReport()
    decisions = decide(opts, report, rejects)
    rows: list[dict] = []
    shard = 0

    def write() -> None:
        nonlocal shard
        path = out / f"clean-{opts.lang}-{shard:05d}.parquet"
        pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), path)
        report.files.append(path.name)
        rows.clear()
        shard += 1

    for i, doc in enumerate(tqdm(_stream(opts, RejectLog()), desc="clean: pass 2", unit="doc", disable=None,
                                 leave=False)):
        if decisions[i] == KEEP:
            rows.append({"id": doc.id, "text": doc.text, "lang": opts.lang, "source": doc.source,
                         "meta": json.dumps(doc.meta, ensure_ascii=False, sort_keys=True)})
            report.kept += 1
            if len(rows) >= SHARD_DOCS:
                write()
        elif decisions[i].startswith("near duplicate"):
            report.drop(decisions[i], doc)
    if rows or not report.files:
        write()
    report.seconds = time.time() - started
    (out / f"clean-{opts.lang}-report.json").write_text(json.dumps(report.as_dict(), ensure_ascii=False, indent=2)
                                                         + "\n", encoding="utf-8")
    rejects.close()
    return report


SCHEMA = pa.schema([("id", pa.string()), ("text", pa.string()), ("lang", pa.string()), ("source", pa.string()),
                    ("meta", pa.string())])
