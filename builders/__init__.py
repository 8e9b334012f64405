"""`datasets` builders, one per published dataset. Built in code
(`download_and_prepare`); the Hub only ever gets parquet and a card."""
from .multidoc_paraphrase import MultidocParaphrase, MultidocParaphraseConfig

BUILDERS = {MultidocParaphrase.NAME: MultidocParaphrase}

__all__ = ["BUILDERS", "MultidocParaphrase", "MultidocParaphraseConfig"]
