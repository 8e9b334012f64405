"""Scoring of model predictions on long-context evaluation sets."""
