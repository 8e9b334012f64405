"""The dataset card (README.md) of a Hub-shaped folder, rebuilt from the folder itself.

Everything in the card is derived from what is in the folder: the parquet shards of every
config (split sizes, features, statistics, plots) and manifest.json (how each config was
built). So publishing one config rewrites the card with the other configs' entries exactly
as they were, and `longdata card <folder>` refreshes it after any change by hand.
The YAML keys this module computes are replaced; any other key already in the card is kept.
"""
from __future__ import annotations

import string
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
from datasets import DatasetInfo, SplitInfo
from datasets.info import DatasetInfosDict
from huggingface_hub import DatasetCard, DatasetCardData

from . import resource_dir
from .hubfolder import PLOTS, README, find_configs, read_manifest, split_files, write_if_changed
from .redact import check_no_secrets
from .stats import reasons_cell, read_columns
from .tasks import Task, get_task

DEFAULT_LICENSE = "other"
LICENSE_NOTE = {
    "other": "The samples are built from the input corpora and keep their licenses: check the license of "
             "every source (listed under *How it was built*) before you use or redistribute them.",
}
# The Hub's size_categories buckets, by upper bound on the number of examples.
SIZE_CATEGORIES = ((10**3, "n<1K"), (10**4, "1K<n<10K"), (10**5, "10K<n<100K"), (10**6, "100K<n<1M"),
                   (10**7, "1M<n<10M"), (10**8, "10M<n<100M"), (10**9, "100M<n<1B"), (10**10, "1B<n<10B"),
                   (10**11, "10B<n<100B"), (10**12, "100B<n<1T"))


def size_category(num_examples: int) -> str:
    return next((name for bound, name in SIZE_CATEGORIES if num_examples < bound), "n>1T")


def choose_default(configs: list[str], chosen: str | None, existing: str | None, project: str = "zh-32k") -> str:
    """The one default config: the one chosen explicitly, else the dataset's default (zh-32k)
    when built, else the card's current default, else the first by name."""
    for candidate in (chosen, project, existing):
        if candidate in configs:
            return candidate
    return configs[0]


def config_info(folder: Path, config: str) -> DatasetInfo:
    """Features and split sizes of one config, read from its parquet footers only.

    num_bytes is the uncompressed size of the row groups (close to the Arrow size `datasets`
    reports), download_size the size of the files. Both come from the files alone, so a card
    written at publish time and one refreshed later agree."""
    files = split_files(folder, config)
    splits = datasets.SplitDict()
    download_size = 0
    for split, paths in files.items():
        num_examples = num_bytes = 0
        for path in paths:
            meta = pq.read_metadata(path)
            num_examples += meta.num_rows
            num_bytes += sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
            download_size += path.stat().st_size
        splits.add(SplitInfo(name=split, num_bytes=num_bytes, num_examples=num_examples))
    features = datasets.Features.from_arrow_schema(pq.read_schema(next(iter(files.values()))[0]))
    return DatasetInfo(config_name=config, features=features, splits=splits, download_size=download_size,
                       dataset_size=sum(s.num_bytes for s in splits.values()))


def _data_files(config: str, splits: list[str]) -> list[dict]:
    return [{"split": split, "path": f"{config}/{split}-*.parquet"} for split in splits]


def _build_row(config: str, record: dict, generators: list[str]) -> str:
    """One config's line of the build table, from its manifest record (keys documented in
    `publish_config`) and the generators named in the data."""
    prompts = "<br>".join(f"`{name}`: `{digest[:12]}`" for name, digest in sorted(record.get("prompt_hashes", {}).items()))
    settings = record.get("settings", {})
    shown = "<br>".join(f"{key}={value}" for key, value in sorted(settings.items())
                        if key != "seed" and isinstance(value, (str, int, float, bool)))
    return (f"| {config} | {', '.join(generators)} | {settings.get('seed', '')} | {record.get('version', '')} "
            f"| {prompts} | {shown} | {len(record.get('inputs', []))} |")


def _quality_table(task: Task, records: dict, configs: list[str]) -> str:
    """Rejected documents by reason, then every other count the build reported, per config."""
    cells = {c: {"documents rejected": reasons_cell(records.get(c, {}).get("counts", {}).get("rejects", {})),
                 **task.quality_cells(records.get(c, {}))} for c in configs}
    heads = list(dict.fromkeys(h for row in cells.values() for h in row))
    rows = ["| config | " + " | ".join(heads) + " |", "|---|" + "---|" * len(heads)]
    rows += [f"| {c} | " + " | ".join(row.get(h, "0") for h in heads) + " |" for c, row in cells.items()]
    return "\n".join(rows)


def _size(num_bytes: int) -> str:
    """Decimal units, as the Hub shows sizes."""
    value, unit = float(num_bytes), "B"
    for bigger in ("kB", "MB", "GB", "TB"):
        if value < 1000:
            break
        value, unit = value / 1000, bigger
    return f"{value:,.1f} {unit}"


def _config_row(config: str, summary: dict[str, dict], info: DatasetInfo, is_default: bool) -> str:
    sizes = ", ".join(f"{split}: {s['examples']:,}" for split, s in summary.items() if split != "all")
    return (f"| `{config}`{' (default)' if is_default else ''} | {', '.join(summary['all']['langs'])} | {sizes} "
            f"| {_size(info.download_size)} |")


def summarise(task: Task, folder: Path, config: str,
              tables: dict[str, pa.Table] | None = None) -> tuple[dict[str, dict], str]:
    """Statistics of each split of a config and of all its splits together (`"all"`), and
    the links to its plots (written here, while the columns are at hand). The columns are
    read from the config's parquet unless `tables` holds them by split (rows just written)."""
    if tables is None:
        tables = {split: read_columns(paths, task.stats_columns) for split, paths in split_files(folder, config).items()}
    everything = pa.concat_tables(tables.values())
    links = []
    for kind, png in task.plots(everything, config).items():
        write_if_changed(folder / PLOTS / f"{config}-{kind}.png", png)
        links.append(f"![{config} {kind}]({PLOTS}/{config}-{kind}.png)")
    stats = {**{split: task.split_stats(table) for split, table in tables.items()}, "all": task.split_stats(everything)}
    return stats, " ".join(links)


def _yaml(template: DatasetCard, existing: dict, infos: dict[str, DatasetInfo], default: str,
          records: dict, langs: list[str]) -> DatasetCardData:
    """Card metadata: the template's static keys, the computed ones, then any other key the
    card already had. `infos` is in listing order, default first."""
    licenses = sorted({records.get(c, {}).get("license", DEFAULT_LICENSE) for c in infos})
    meta = template.data.to_dict()
    meta.update({
        "license": licenses[0] if len(licenses) == 1 else licenses,
        "language": langs,
        "size_categories": [size_category(sum(info.splits.total_num_examples for info in infos.values()))],
        "configs": [{"config_name": c, "data_files": _data_files(c, list(infos[c].splits)),
                     **({"default": True} if c == default else {})} for c in infos],
    })
    meta.update({k: v for k, v in existing.items() if k not in meta and k != "dataset_info"})
    card_data = DatasetCardData(**meta)
    DatasetInfosDict(infos).to_dataset_card_data(card_data)
    return card_data


def refresh_card(folder: Path, summarised: dict[str, tuple[dict[str, dict], str]] | None = None) -> Path:
    """Recompute statistics and plots from the parquet of every config and rewrite README.md;
    configs in `summarised` (`summarise`'s results) are taken as they are."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if "dataset_name" not in manifest:
        raise ValueError(f"{folder} has no manifest.json naming its dataset: publish a config into it first")
    configs = find_configs(folder)
    if not configs:
        raise ValueError(f"{folder} holds no config folders with parquet shards")
    name, records = manifest["dataset_name"], manifest.get("configs", {})
    task = get_task(name)
    template = DatasetCard((resource_dir("cards") / manifest["card_template"]).read_text(encoding="utf-8"))
    readme = folder / README
    existing = DatasetCard(readme.read_text(encoding="utf-8")).data.to_dict() if readme.is_file() else {}
    current_default = next((c["config_name"] for c in existing.get("configs", []) if c.get("default")), None)
    default = choose_default(configs, manifest.get("default_config"), current_default, task.default_config)

    configs = [default] + [c for c in configs if c != default]  # datasets lists configs in this order
    infos = {config: config_info(folder, config) for config in configs}
    summarised = {config: (summarised or {}).get(config) or summarise(task, folder, config) for config in configs}
    summaries = {config: stats for config, (stats, _) in summarised.items()}
    langs = sorted({lang for s in summaries.values() for lang in s["all"]["langs"]})
    card_data = _yaml(template, existing, infos, default, records, langs)

    body = string.Template(template.text).substitute(
        pretty_name=card_data.get("pretty_name", name),
        dataset_name=name,
        repo_id=manifest.get("repo_id", f"longdata/{name}"),
        default_config=default,
        configs_table="\n".join(["| config | language | examples | download size |", "|---|---|---|---|",
                                 *(_config_row(c, s, infos[c], c == default) for c, s in summaries.items())]),
        build_table="\n".join(["| config | generator | seed | longdata version | prompt hashes (sha256) | settings "
                               "| input files |", "|---|---|---|---|---|---|---|",
                               *(_build_row(c, records.get(c, {}), s["all"].get("generators", [records.get(c, {}).get("generator", "")]))
                                 for c, s in summaries.items())]),
        quality_table=_quality_table(task, records, configs),
        stats_tables="\n\n".join(task.stats_markdown(c, s) + "\n\n" + links for c, (s, links) in summarised.items()),
        license_note=LICENSE_NOTE.get(str(card_data.get("license")), ""),
    )
    text = f"---\n{card_data.to_yaml()}\n---\n{body}"
    check_no_secrets(text, str(readme))
    write_if_changed(readme, text.encode("utf-8"))
    return readme
