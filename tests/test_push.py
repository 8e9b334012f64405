"""Push: exactly the folder's files go up in one commit, stale remote shards go, the token
goes to the API calls and into no file.

`CapturingApi` is a real `HfApi` whose four methods that talk to the Hub record instead, so
the library's own `upload_folder` (folder walk, patterns, delete planning) runs for real.
`hf_xet` is switched off for the test so that `upload_folder` ends in `create_commit`
(with hf_xet it streams through the same planned operations; our folders fit one commit).
"""
from __future__ import annotations

import shutil

import huggingface_hub.hf_api
import pytest
from huggingface_hub import CommitInfo, CommitOperationAdd, CommitOperationDelete, HfApi
from publish_rows import MANIFEST, make_splits, no_network  # noqa: F401 (fixture)

import longdata.push
from longdata.cli import main
from longdata.publish import publish_config
from longdata.push import push_folder

TOKEN = "hf_" + "T" * 34
REMOTE = [".gitattributes", "README.md", "zh-8k/train-00000-of-00001.parquet",
          "zh-8k/train-00000-of-00002.parquet", "zh-8k/train-00001-of-00002.parquet", "plots/zh-8k-old.png",
          "notes/keep.md"]


class CapturingApi(HfApi):
    def __init__(self, token=None):
        super().__init__(endpoint="https://hub.invalid", token=token)
        self.repos: list[tuple] = []
        self.commits: list[tuple] = []

    def create_repo(self, repo_id, **kwargs):
        self.repos.append((repo_id, kwargs))

    def list_repo_files(self, repo_id, **kwargs):
        return list(REMOTE)

    def _validate_yaml(self, content, **kwargs):  # the Hub validates card YAML server-side
        pass

    def create_commit(self, repo_id, operations, **kwargs):
        self.commits.append((repo_id, list(operations), kwargs))
        return CommitInfo(commit_url=f"https://huggingface.co/datasets/{repo_id}/commit/{'0' * 40}",
                          commit_message=kwargs["commit_message"], commit_description="", oid="0" * 40)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Two configs built while HF_TOKEN is set and the manifest carries it."""
    path = tmp_path_factory.mktemp("hub")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_TOKEN", TOKEN)
        for config in ("zh-8k", "en-8k"):
            publish_config(path, "multidoc-paraphrase", config, make_splits(config, {"train": 3, "test": 1}),
                           {**MANIFEST, "hf_token": TOKEN})
    return path


@pytest.fixture(autouse=True)
def single_commit_offline(monkeypatch, no_network):  # noqa: F811
    monkeypatch.setattr(huggingface_hub.hf_api, "is_xet_available", lambda: False)


def local_files(folder) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_the_folder_goes_up_in_one_commit(folder):
    api = CapturingApi()
    push_folder(folder, "org/multidoc-paraphrase", private=True, token=TOKEN, api=api)

    assert api.repos == [("org/multidoc-paraphrase",
                          {"repo_type": "dataset", "private": True, "exist_ok": True, "token": TOKEN})]
    [(repo_id, operations, kwargs)] = api.commits
    assert repo_id == "org/multidoc-paraphrase" and kwargs["repo_type"] == "dataset" and kwargs["token"] == TOKEN
    added = {op.path_in_repo for op in operations if isinstance(op, CommitOperationAdd)}
    deleted = {op.path_in_repo for op in operations if isinstance(op, CommitOperationDelete)}
    assert added == local_files(folder)
    assert {"README.md", "manifest.json", "zh-8k/train-00000-of-00001.parquet", "plots/en-8k-tokens.png"} <= added
    # stale shards and plots go; the shard being replaced, .gitattributes and other files stay
    assert deleted == {"zh-8k/train-00000-of-00002.parquet", "zh-8k/train-00001-of-00002.parquet",
                       "plots/zh-8k-old.png"}


def test_the_token_is_in_no_file(folder):
    assert all(TOKEN.encode() not in (folder / name).read_bytes() for name in local_files(folder))


def test_cli_push_takes_the_token_from_the_named_variable(folder, monkeypatch, capsys):
    created: list[CapturingApi] = []
    monkeypatch.setattr(longdata.push, "HfApi", lambda: created.append(CapturingApi()) or created[-1])
    monkeypatch.setenv("MY_HUB_TOKEN", TOKEN)
    assert main(["push", str(folder), "--repo-id", "org/x", "--token-env", "MY_HUB_TOKEN"]) == 0
    [api] = created
    assert api.repos[0][1]["token"] == TOKEN and api.repos[0][1]["private"] is False
    assert len(api.commits) == 1
    assert "huggingface.co/datasets/org/x/commit" in capsys.readouterr().out


def test_push_refuses_a_folder_without_a_card(tmp_path):
    with pytest.raises(ValueError, match="README.md"):
        push_folder(tmp_path, "org/x", private=False, token=None, api=CapturingApi())


def test_cli_pushes_every_dataset_of_an_output_folder_to_a_namespace(folder, monkeypatch, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    for name in ("book-summary", "multidoc-paraphrase"):
        shutil.copytree(folder, out / name)
    created: list[CapturingApi] = []
    monkeypatch.setattr(longdata.push, "HfApi", lambda: created.append(CapturingApi()) or created[-1])
    assert main(["push", str(out), "--namespace", "org"]) == 0
    assert [api.repos[0][0] for api in created] == ["org/book-summary", "org/multidoc-paraphrase"]
    with pytest.raises(SystemExit):
        main(["push", str(out), "--repo-id", "org/one"])  # two datasets cannot go to one repo
