"""Documents and the streaming readers that yield them.

Every reader yields `Document`s one at a time and reports each bad record to a
`RejectLog` (file, line, reason) instead of failing: valid records are never lost.
"""
from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import json
import unicodedata
import zlib
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator

from .encodings import bom_encoding, decode, detect, normalize_newlines
from .text import detect_lang

SPECIAL_TOKEN_STRINGS = ("<|im_start|>", "<|im_end|>", "<|endoftext|>")


@dataclass(frozen=True)
class Document:
    """One source document, as every reader yields it."""

    id: str
    text: str
    lang: str
    source: str
    meta: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class RejectRecord:
    file: str
    line: int
    reason: str
    doc_id: str = ""


class RejectLog:
    """Counts rejects by reason and, when given a path, writes each one as a JSON line."""

    def __init__(self, path: Path | None = None):
        self.path = path
        self.counts: Counter[str] = Counter()
        self.records_read = 0      # records the readers could read (of every split)
        self.records_rejected = 0  # records (or damaged files) the readers could not read
        self._fh: IO[str] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(path, "w", encoding="utf-8")

    def add(self, file: str, line: int, reason: str, doc_id: str = "", record: bool = False) -> None:
        """`record`: the input itself is bad (not a document the task turned down)."""
        rec = RejectRecord(file, line, reason, doc_id)
        self.counts[reason.split(":")[0]] += 1
        self.records_rejected += record
        if self._fh is not None:
            self._fh.write(json.dumps(rec.__dict__, ensure_ascii=False) + "\n")
            self._fh.flush()

    def add_doc(self, doc: "Document", reason: str) -> None:
        """Reject a parsed document; its `source` is `file:line` (or a file)."""
        file, line = split_source(doc.source)
        self.add(file, line, reason, doc.id)

    @property
    def bad_share(self) -> float:
        """Share of the input the readers could not read (records, damaged files)."""
        seen = self.records_read + self.records_rejected
        return self.records_rejected / seen if seen else 0.0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def split_source(source: str) -> tuple[str, int]:
    """(file, line) of a document's `source`: `file:line` for records, the file alone (line
    0) for whole-file documents."""
    file, _, line = source.rpartition(":")
    return (file, int(line)) if line.isdigit() else (source, 0)


@dataclass(frozen=True)
class ReadOptions:
    text_field: str = "text"
    id_field: str = "id"
    lang_field: str = "lang"
    # which documents to yield at all (e.g. one split's), decided before the costly
    # language detection; the document it sees has no `lang` yet
    keep: Callable[[Document], bool] | None = field(default=None, compare=False)
    empty_reason: str = "empty text"  # what an empty text field means (papers: "no body")
    detect: bool = True  # detect the language when the record has none (False: left "", for workers to detect)
    # decide `keep` from the id, meta and source before the text is checked and normalised:
    # for passes whose rejects are not reported (a split other than train)
    keep_early: bool = False


def stable_id(text: str) -> str:
    """Content-derived id for records that carry none: stable across file moves and runs."""
    return "doc-" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def _meta(rec: dict, opts: ReadOptions) -> dict:
    return {k: v for k, v in rec.items() if k not in (opts.text_field, opts.id_field, opts.lang_field)
            and isinstance(v, (str, int, float, bool))}


def _make_doc(rec: dict, opts: ReadOptions, source: str, line: int, rejects: RejectLog) -> Document | None:
    if not isinstance(rec, dict):
        rejects.add(source, line, f"not a JSON object: got {type(rec).__name__}", record=True)
        return None
    where = f"{source}:{line}" if line else source
    if opts.keep_early and opts.keep is not None and rec.get(opts.id_field) not in (None, ""):
        if not opts.keep(Document(str(rec[opts.id_field]), "", "", where, _meta(rec, opts))):
            return None  # another split's record: not checked or normalised here
    if opts.text_field not in rec:
        keys = ", ".join(sorted(map(str, rec))[:8])
        rejects.add(source, line, f"missing text field: no {opts.text_field!r} (fields: {keys}); pass --text-field", record=True)
        return None
    text = rec[opts.text_field]
    if not isinstance(text, str):
        rejects.add(source, line, f"text not a string: {opts.text_field!r} is {type(text).__name__}", record=True)
        return None
    # NFC, as Qwen's tokenizer normalises before encoding: token counts then match it exactly
    text = unicodedata.normalize("NFC", normalize_newlines(text)).strip()
    if not text:
        rejects.add(source, line, opts.empty_reason, record=True)
        return None
    if any(s in text for s in SPECIAL_TOKEN_STRINGS):
        rejects.add(source, line, "contains a chat special token such as <|im_end|>", record=True)
        return None
    raw_id = rec.get(opts.id_field)
    doc_id = str(raw_id) if raw_id not in (None, "") else stable_id(text)
    doc = Document(doc_id, text, "", where, _meta(rec, opts))
    rejects.records_read += 1
    if opts.keep is not None and not opts.keep(doc):
        return None
    return replace(doc, lang=str(rec.get(opts.lang_field) or (detect_lang(text) if opts.detect else "")))


def _jsonl_records(path: Path, rejects: RejectLog) -> Iterator[tuple[int, object]]:
    """(line number, parsed JSON) of a JSON-lines file: UTF-8 (with or without a BOM),
    UTF-16/32 with a BOM, or lines in a legacy encoding found once per file (recorded as
    the record's `encoding`). A damaged file (truncated compression) is one reject after
    the records read before the damage."""
    opener = gzip.open if path.name.endswith(".gz") else open
    line_no = 0
    try:
        with opener(path, "rb") as fh:
            head = fh.peek(4)[:4] if hasattr(fh, "peek") else b""
            wide = bom_encoding(head) if bom_encoding(head) not in (None, "utf-8-sig") else None
            lines = (line.encode("utf-8") for line in io.TextIOWrapper(fh, encoding=wide)) if wide else fh
            fallback: str | None = None
            for line_no, raw in enumerate(lines, 1):
                if line_no == 1 and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8):]
                if not raw.strip():
                    continue
                try:
                    line, encoding = raw.decode("utf-8"), None
                except UnicodeDecodeError as err:
                    fallback = fallback or detect(raw)
                    try:
                        line, encoding = raw.decode(fallback or "utf-8"), fallback
                    except UnicodeDecodeError:
                        rejects.add(path.name, line_no, f"invalid UTF-8: byte {err.start} of the line, and no other "
                                                        "encoding reads it; re-encode the file as UTF-8", record=True)
                        continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as err:
                    rejects.add(path.name, line_no, f"malformed JSON: {err.msg} at column {err.colno}", record=True)
                    continue
                if encoding and isinstance(rec, dict):
                    rec.setdefault("encoding", encoding)
                yield line_no, rec
    except (EOFError, OSError, zlib.error, UnicodeDecodeError) as err:
        rejects.add(path.name, line_no + 1, f"damaged file: {err}; the {line_no} lines before it were read",
                    record=True)


def _parquet_records(path: Path, rejects: RejectLog) -> Iterator[tuple[int, object]]:
    """(row number, row as a dict) of a parquet file; a damaged file is one reject after
    the rows read before the damage."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    row = 0
    try:
        pf = pq.ParquetFile(path)
        for batch in pf.iter_batches(batch_size=256):
            for rec in batch.to_pylist():
                row += 1
                yield row, rec
    except (pa.ArrowException, OSError) as err:
        rejects.add(path.name, row + 1, f"damaged file: {err}; the {row} rows before it were read", record=True)


def iter_records(path: Path, rejects: RejectLog) -> Iterator[tuple[int, object]]:
    """(line or row number, record) of a .jsonl, .jsonl.gz or .parquet file, streamed; bad
    records and damaged files go to `rejects`, named by file and line."""
    return _parquet_records(path, rejects) if _kind(path) == ".parquet" else _jsonl_records(path, rejects)


def _read_txt(path: Path, root: Path, opts: ReadOptions, rejects: RejectLog) -> Iterator[Document]:
    rel = path.relative_to(root).as_posix() if path != root else path.name
    decoded = decode(path.read_bytes())
    if decoded is None:
        rejects.add(rel, 0, "undecodable: neither UTF-8 (or UTF-16/32 with a BOM) nor a legacy encoding gives "
                            "text; re-encode the file as UTF-8", record=True)
        return
    text, encoding = decoded
    rec = {opts.text_field: text, opts.id_field: rel.rsplit(".", 1)[0]}
    if encoding != "utf-8":
        rec["encoding"] = encoding
    doc = _make_doc(rec, opts, rel, 0, rejects)
    if doc is not None:
        yield doc


def _expand(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and _kind(p) is not None)
    if not path.exists():
        raise FileNotFoundError(f"corpus path does not exist: {path}")
    if _kind(path) is None:
        raise ValueError(f"unsupported corpus file {path}: use .jsonl, .jsonl.gz, .parquet or .txt (or a folder of them)")
    return [path]


def _kind(path: Path) -> str | None:
    name = path.name.lower()
    for suffix in (".jsonl.gz", ".jsonl", ".json.gz", ".parquet", ".txt"):
        if name.endswith(suffix):
            return suffix
    return None


def corpus_files(paths: Iterable[str | Path]) -> list[Path]:
    """All readable files behind the given files and folders, in a stable order."""
    files: list[Path] = []
    for p in paths:
        files.extend(_expand(Path(p)))
    return files


def read_documents(paths: Iterable[str | Path], rejects: RejectLog | None = None,
                   opts: ReadOptions = ReadOptions()) -> Iterator[Document]:
    """Stream documents from files and folders (.jsonl, .jsonl.gz, .parquet, .txt)."""
    rejects = rejects if rejects is not None else RejectLog()
    paths = [Path(p) for p in paths]
    for path in corpus_files(paths):
        if _kind(path) == ".txt":
            root = next((p for p in paths if p.is_dir() and p in path.parents), path.parent)
            yield from _read_txt(path, root, opts, rejects)
            continue
        for line, rec in iter_records(path, rejects):
            doc = _make_doc(rec, opts, path.name, line, rejects)
            if doc is not None:
                yield doc
