"""The dataset-as-task shape: multidoc-paraphrase byte for byte as recorded (the move onto
the task shape was checked this way against the code before it), the CLI and the builder
configs derived from one dataclass per dataset, counts that add up."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pyarrow
import pyarrow.parquet as pq
import pytest

from conftest import run_generate
from longdata.builders import BUILDERS
from longdata.config import task_fields
from longdata.counts import Counts
from longdata.tasks import TASKS

REFERENCE = json.loads((Path(__file__).parent / "data" / "multidoc_reference.json").read_text())
REFERENCE_PYARROW = "26.0.1"  # the writer of the reference bytes; rows are compared on any version


def digests(folder: Path) -> dict[str, dict[str, str]]:
    out = {}
    for p in sorted(folder.rglob("*.parquet")):
        rows = pq.read_table(p).to_pylist()
        out[p.relative_to(folder).as_posix()] = {
            "rows": hashlib.sha256(json.dumps(rows, ensure_ascii=False, sort_keys=True).encode()).hexdigest(),
            "bytes": hashlib.sha256(p.read_bytes()).hexdigest()}
    return out


def check_reference(build: dict, folder: Path) -> None:
    got = digests(folder)
    assert sorted(got) == sorted(build["files"])
    for name, want in build["files"].items():
        assert got[name]["rows"] == want["rows"], name
        if pyarrow.__version__ == REFERENCE_PYARROW:
            assert got[name]["bytes"] == want["bytes"], name


@pytest.mark.parametrize("build", [b for b in REFERENCE["builds"] if not any("{" in a for a in b["args"])],
                         ids=lambda b: " ".join(b["args"][:2]))
def test_multidoc_output_is_the_recorded_one(build, tmp_path):
    run_generate(*build["args"], "--out", str(tmp_path), cwd=tmp_path)
    check_reference(build, tmp_path / "multidoc-paraphrase")


@pytest.mark.parametrize("build", [b for b in REFERENCE["builds"] if any("{corpora}" in a for a in b["args"])],
                         ids=lambda b: b["args"][3].rsplit("/", 1)[-1])
def test_multidoc_output_on_real_corpora_is_the_recorded_one(build, corpora, tmp_path):
    args = [a.format(corpora=corpora) for a in build["args"]]
    run_generate(*args, "--num-proc", "2", "--out", str(tmp_path), cwd=tmp_path)
    check_reference(build, tmp_path / "multidoc-paraphrase")


def test_multidoc_llm_output_is_the_recorded_one(start_server, api_key, tmp_path):
    build = next(b for b in REFERENCE["builds"] if any("{server}" in a for a in b["args"]))
    server = start_server(content_fault_rate=0.3)
    run_generate(*[a.format(server=server.url) for a in build["args"]], "--out", str(tmp_path), cwd=tmp_path,
                 env={"OPENAI_API_KEY": api_key})
    check_reference(build, tmp_path / "multidoc-paraphrase")


@pytest.mark.parametrize("name", sorted(TASKS))
def test_one_dataclass_gives_the_flags_and_the_builder_config(name):
    task = TASKS[name]
    fields = {f.name for f in task_fields(task.Config)}
    assert all(f.metadata["help"] for f in task_fields(task.Config))
    builder_fields = set(BUILDERS[name].BUILDER_CONFIG_CLASS.__dataclass_fields__)
    assert fields <= builder_fields and "num_proc" not in fields
    assert BUILDERS[name].TASK.name == name and (Path(__file__).parents[1] / "cards" / task.card).is_file()


def test_help_lists_the_flags_of_the_chosen_dataset(tmp_path):
    book = run_generate("--dataset", "book-summary", "--help", cwd=tmp_path).stdout
    multidoc = run_generate("--help", cwd=tmp_path).stdout
    assert "--summaries" in book and "--turns" not in book
    assert "--turns" in multidoc and "--summaries" not in multidoc
    bad = run_generate("--dataset", "nope", cwd=tmp_path, check=False)
    assert bad.returncode != 0 and "choose from" in bad.stderr


def test_counts_add_up():
    a = Counts().add("qa_rejects", "no passage").add("drops", "x", 2)
    b = Counts().add("qa_rejects", "no passage", 3)
    total = a + b
    assert total.as_dict() == {"drops": {"x": 2}, "qa_rejects": {"no passage": 4}}
    assert a.as_dict() == {"drops": {"x": 2}, "qa_rejects": {"no passage": 1}}  # + makes a new object


def test_the_command_and_the_tasks_load_without_datasets():
    """What lets `generate` start its workers before the ~2 s of `datasets`, pandas and
    matplotlib imports (see `SplitResults.start`)."""
    code = ("import sys, longdata.generate, longdata.splits, longdata.engine; "
            "print(sorted(m for m in ('datasets', 'pandas', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
