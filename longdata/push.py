"""Push a Hub-shaped folder to a dataset repo in one call.

`HfApi.upload_folder` is the library's large-upload path in huggingface_hub 2.x (there is
no separate `upload_large_folder` any more): with `hf_xet` installed it streams, dedups,
resumes when re-run, and splits into several commits only past its own batch limit
(hundreds of files); our folders hold tens of files, so they go up as one commit.
Remote parquet shards and plots that are not in the folder are deleted in the same commit,
so a config rebuilt with fewer shards leaves no stale shard for `<config>/<split>-*` to match.
"""
from __future__ import annotations

from pathlib import Path

from huggingface_hub import CommitInfo, HfApi

from .hubfolder import MANIFEST, README

STALE_PATTERNS = ["*.parquet", "plots/*.png"]


def push_folder(folder: Path, repo_id: str, *, private: bool, token: str | None,
                api: HfApi | None = None) -> CommitInfo:
    """Create the dataset repo if missing, then upload the whole folder as one commit."""
    folder = Path(folder)
    if not (folder / README).is_file():
        raise ValueError(f"{folder} has no {README}: build it with `longdata generate` or `longdata card` first")
    api = api or HfApi()
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True, token=token)
    return api.upload_folder(repo_id=repo_id, repo_type="dataset", folder_path=folder, token=token,
                             commit_message=f"Upload {folder.name} with longdata",
                             delete_patterns=STALE_PATTERNS)


def dataset_folders(paths: list[Path]) -> list[Path]:
    """Each path as a dataset folder (it has a card), or, for an output folder, the dataset
    folders in it, by name."""
    found: list[Path] = []
    for path in map(Path, paths):
        if (path / README).is_file():
            found.append(path)
            continue
        inner = sorted(p for p in path.iterdir() if (p / README).is_file() and (p / MANIFEST).is_file()) \
            if path.is_dir() else []
        if not inner:
            raise ValueError(f"{path} is neither a dataset folder (no {README}) nor an output folder holding "
                             "dataset folders: build it with `longdata generate` first")
        found.extend(inner)
    return found
