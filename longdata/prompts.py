"""Prompt and template files under prompts/<lang>/, and their hashes for the manifest.

Templates are plain text or JSON files so that they can be reviewed and changed without
touching code. The QA prompt's `{document}`, `{reply}` and `{error}` are filled with
str.replace (the templates hold JSON braces, so str.format would not do).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache

from . import resource_dir


@lru_cache(maxsize=None)
def load_template(lang: str, name: str) -> dict:
    path = resource_dir("prompts") / lang / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no template {name!r} for language {lang!r} (looked for {path})")
    return json.loads(path.read_text(encoding="utf-8"))


PROMPT_LANGS = ("en", "zh")


def quote_marks(template: dict, quote: str) -> tuple[str, str]:
    """The first quotation marks of a template's `quote_marks` that the quote itself does
    not contain, so a reader (or a regex) sees exactly where the quote ends."""
    pairs = template["quote_marks"]
    return next(((o, c) for o, c in pairs if o not in quote and c not in quote), tuple(pairs[-1]))


@dataclass(frozen=True)
class QAPrompt:
    """The three templates of one language: system, user (holds the document), repair."""

    lang: str
    system: str
    user: str
    repair: str

    def messages(self, document: str) -> list[dict[str, str]]:
        """The request for one QA: only the gold document, never the whole context."""
        return [{"role": "system", "content": self.system},
                {"role": "user", "content": self.user.replace("{document}", document)}]

    def repair_messages(self, reply: str, error: str) -> list[dict[str, str]]:
        """A follow-up that asks to reformat a near-miss reply; it needs no document."""
        text = self.repair.replace("{error}", error).replace("{reply}", reply)
        return [{"role": "user", "content": text}]


@lru_cache(maxsize=None)
def load_qa_prompt(lang: str) -> QAPrompt:
    """Templates for `lang`; languages without their own templates use English."""
    lang = lang if lang in PROMPT_LANGS else "en"
    folder = resource_dir("prompts") / lang

    def read(name: str) -> str:
        return (folder / name).read_text(encoding="utf-8").strip()

    return QAPrompt(lang, read("qa_system.txt"), read("qa.txt"), read("qa_repair.txt"))


def prompt_hashes(lang: str, names: tuple[str, ...] | None = None) -> dict[str, str]:
    """sha256 of the prompt files of a language (`zh/qa.txt`: digest), all or those named,
    so a card says exactly which prompts made the data."""
    folder = resource_dir("prompts") / lang
    return {f"{lang}/{p.name}": hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file() and (names is None or p.name in names)}
