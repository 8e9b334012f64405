"""LongData: long-context instruction data built from W-shaped multi-document QA."""
from pathlib import Path

__version__ = "0.1.0"

# setup.cfg maps the top-level builders/ and trainer/ folders into this package on install.
# In a source checkout they sit beside it: extend the package path so that
# `longdata.builders` and `longdata.trainer` import the same way in both cases.
_root = Path(__file__).resolve().parent.parent
if not (Path(__file__).parent / "builders").is_dir() and (_root / "builders" / "__init__.py").is_file():
    __path__.append(str(_root))  # type: ignore[name-defined]


def resource_dir(name: str) -> Path:
    """Folder of bundled non-code files (`prompts`, `cards`), installed or in a checkout."""
    installed = Path(__file__).parent / name
    return installed if installed.is_dir() else _root / name
