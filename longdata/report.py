"""What a build reports: counts by split (added up from every unit's `Result`), the
reject log, and the short summary a run ends with."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .counts import Counts
from .documents import RejectLog
from .tasks.base import Result, Task

if TYPE_CHECKING:
    import datasets


@dataclass
class Report:
    """Filled by the builder as units finish; read by the manifest and the summary."""

    rejects: RejectLog = field(default_factory=RejectLog)
    counts: dict[str, Counts] = field(default_factory=dict)

    def add(self, split: str, result: Result) -> None:
        self.counts[split] = self.counts.get(split, Counts()) + result.counts
        for doc, reason in result.rejects:
            self.rejects.add_doc(doc, reason)

    def total(self) -> Counts:
        return sum(self.counts.values(), start=Counts())

    def as_dict(self) -> dict:
        """Counts groups by split, as the manifest stores them: `{group: {split: {key: n}}}`."""
        out: dict[str, dict] = {}
        for split, counts in self.counts.items():
            for group, counter in counts.as_dict().items():
                out.setdefault(group, {})[split] = counter
        return out


def summary(task: Task, config: str, splits: datasets.DatasetDict, report: Report, repo_dir: Path,
            seconds: float, llm_stats=None) -> str:
    """The statistics the card shows, for the train split, in a terminal."""
    first = "train" if "train" in splits else next(iter(splits))  # evaluation sets have a test split only
    train = task.split_stats(splits[first].data.table.select(list(task.stats_columns)))
    tokens = train["num_tokens"]
    rejects = report.rejects
    lines = [
        f"== {repo_dir.name} / {config}: done in {seconds:.1f}s",
        "samples:          " + ", ".join(f"{k} {len(v)}" for k, v in splits.items()),
        f"tokens ({first + '):':<9} min {tokens['min']:.0f}  median {tokens['p50']:.0f}  max {tokens['max']:.0f}",
        *task.summary_lines(train, report.total()),
        f"rejected docs:    {rejects.total} " + (str(dict(rejects.counts)) if rejects.total else "")
        + (f"  (listed in {rejects.path})" if rejects.total and rejects.path else ""),
        *(f"{group.replace('_', ' ') + ':':<17} {sum(c.values())} {dict(sorted(c.items()))}"
          for group, c in sorted(report.total().items()) if sum(c.values())),
        *([str(llm_stats)] if llm_stats is not None else []),
        f"output:           {repo_dir.resolve()}",
        f"load it:          datasets.load_dataset({str(repo_dir)!r}, {config!r})",
    ]
    return "\n".join(lines)
