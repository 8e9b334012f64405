"""Layout of a Hub-shaped dataset folder, shared by the writer, the card and the push.

```
<folder>/README.md                                  card: YAML (configs, dataset_info) + body
<folder>/manifest.json                              how each config was built (no secrets)
<folder>/<config>/<split>-00000-of-00002.parquet    data, one folder per config
<folder>/plots/<config>-<kind>.png                  plots linked from the card
```
The folder itself is the record of what was built: configs are found from their parquet
files, so the card can always be rebuilt from the folder alone.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

README = "README.md"
MANIFEST = "manifest.json"
PLOTS = "plots"
SHARD_RE = re.compile(r"^(?P<split>\w+(?:\.\w+)*)-(?P<index>\d{5})-of-(?P<count>\d{5})\.parquet$")
SPLIT_ORDER = ("train", "validation", "test")  # then any other split, by name
# Config names become folder names and Hub config names: keep them path- and URL-safe.
CONFIG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def shard_name(split: str, index: int, count: int) -> str:
    return f"{split}-{index:05d}-of-{count:05d}.parquet"


def _split_key(split: str) -> tuple[int, str]:
    return (SPLIT_ORDER.index(split), "") if split in SPLIT_ORDER else (len(SPLIT_ORDER), split)


def split_files(folder: Path, config: str) -> dict[str, list[Path]]:
    """Parquet shards of one config by split (train, validation, test, then others by name),
    shards in index order."""
    found: dict[str, list[Path]] = {}
    config_dir = folder / config
    if config_dir.is_dir():
        for path in sorted(config_dir.iterdir()):
            match = SHARD_RE.match(path.name)
            if match and path.is_file():
                found.setdefault(match["split"], []).append(path)
    return {split: found[split] for split in sorted(found, key=_split_key)}


def find_configs(folder: Path) -> list[str]:
    """Configs present in the folder: subfolders holding parquet shards, in name order."""
    return sorted(p.name for p in folder.iterdir()
                  if p.is_dir() and CONFIG_RE.match(p.name) and split_files(folder, p.name))


def read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def dump_json(obj: object) -> str:
    """Stable JSON text: same object, same bytes."""
    return json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write_if_changed(path: Path, data: bytes) -> None:
    """Write only when the bytes differ, so rebuilding one config leaves the others' files
    (and their modification times) untouched."""
    if not (path.is_file() and path.read_bytes() == data):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
