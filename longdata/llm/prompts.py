"""QA prompt templates (prompts/{lang}/qa*.txt) and their hashes for the manifest.

Templates are plain text files so that they can be reviewed and changed without touching
code; `{document}`, `{reply}` and `{error}` are filled with str.replace (the templates hold
JSON braces, so str.format would not do).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

from .. import resource_dir

PROMPT_LANGS = ("en", "zh")


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


def prompt_hashes() -> dict[str, str]:
    """sha256 of every prompt file, by path relative to the prompts folder."""
    root = resource_dir("prompts")
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.suffix in (".txt", ".json")}
