"""Bundled data: the demo corpus written by the LongData team (see README)."""
from pathlib import Path

DEMO_DIR = Path(__file__).parent / "demo"


def demo_corpus(lang: str) -> Path:
    """Path of the bundled demo corpus for `lang` (`zh` or `en`)."""
    path = DEMO_DIR / f"{lang}.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"no bundled demo corpus for language {lang!r} (looked for {path})")
    return path
