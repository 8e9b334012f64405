"""The leakage guard: an evaluation set must be made of documents no training set used.

A model that saw a paragraph in training can name it from memory; the score would then
measure recall, not retrieval. `TrainingIds` collects the source document ids of training
data (dataset folders this package built, where each task names its source columns, or
plain id lists) and `check` refuses a document among them, naming it and where it was used.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

import pyarrow.parquet as pq

from ..documents import Document
from ..hubfolder import find_configs, read_manifest, split_files


class LeakageError(ValueError):
    """An evaluation document is in the training data."""


class TrainingIds:
    """Source ids of the training data, each with where it was used (for the error)."""

    def __init__(self, paths: Iterable[str | Path]):
        self.where: dict[str, str] = {}
        for path in map(Path, paths):
            if path.is_dir():
                self._folder(path)
            elif path.is_file():
                self._list(path)
            else:
                raise FileNotFoundError(f"--exclude {path}: no such folder or file")

    def _folder(self, folder: Path) -> None:
        from ..tasks import get_task

        manifest = read_manifest(folder)
        if "dataset_name" not in manifest:
            raise ValueError(f"--exclude {folder}: not a dataset folder built by longdata (no manifest.json); "
                             "give an id list (.txt, one id per line, or .jsonl with `id`) instead")
        task = get_task(manifest["dataset_name"])
        for config in find_configs(folder):
            for split, files in split_files(folder, config).items():
                for f in files:
                    table = pq.read_table(f, columns=list(task.source_columns))
                    for name in task.source_columns:
                        for value in table.column(name).to_pylist():
                            for doc_id in value if isinstance(value, list) else [value]:
                                self.where.setdefault(str(doc_id), f"{folder.name} {config} {split}")

    def _list(self, path: Path) -> None:
        for n, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
            line = line.strip()
            if not line:
                continue
            if path.suffix == ".jsonl":
                try:
                    line = str(json.loads(line)["id"])
                except (json.JSONDecodeError, KeyError, TypeError) as err:
                    raise ValueError(f"--exclude {path}:{n}: expected a JSON object with `id` ({err})") from None
            self.where.setdefault(line, f"{path.name}:{n}")

    def __len__(self) -> int:
        return len(self.where)

    def check(self, doc: Document) -> None:
        """Raise when `doc` was used in training."""
        where = self.where.get(doc.id)
        if where is not None:
            raise LeakageError(f"document {doc.id!r} ({doc.source}) is in the training data ({where}): an "
                               "evaluation set must come from documents no training set used. Build it from "
                               "held-out documents (--corpus), or exclude other training data (--exclude)")
