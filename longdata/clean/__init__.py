"""Cleaning: text normalisation with counted changes (quality filters and dedup come here too)."""
