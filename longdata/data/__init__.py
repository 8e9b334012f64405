"""Bundled data: the demo corpus and demo books written by the LongData team (see README)."""
from pathlib import Path

DEMO_DIR = Path(__file__).parent / "demo"


def demo_corpus(lang: str) -> Path:
    """Path of the bundled demo corpus for `lang` (`zh` or `en`)."""
    path = DEMO_DIR / f"{lang}.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"no bundled demo corpus for language {lang!r} (looked for {path})")
    return path


def demo_books(lang: str) -> Path:
    """Folder of the bundled demo book(s) for `lang`: plain text with chapter headings."""
    path = DEMO_DIR / "books" / lang
    if not path.is_dir():
        raise FileNotFoundError(f"no bundled demo books for language {lang!r} (looked for {path})")
    return path


def demo_summaries(lang: str) -> Path:
    """The demo books' summaries (whole book and per chapter), written with them."""
    return DEMO_DIR / "summaries" / f"{lang}.jsonl"


def demo_papers(lang: str) -> Path:
    """Papers written by the team (title, abstract, keywords, sections, references)."""
    return DEMO_DIR / "papers" / f"{lang}.jsonl"


def demo_chats(component: str, lang: str) -> Path:
    """Chat records written by the team for the mixture: `short` instructions (Alpaca
    records) or long multi-turn `conversations` (ShareGPT records)."""
    return DEMO_DIR / "mixture" / component / f"{lang}.jsonl"


def demo_eval(lang: str) -> Path:
    """Held-out articles written by the team for the evaluation sets only (no training
    dataset reads them)."""
    return DEMO_DIR / "eval" / f"{lang}.jsonl"
