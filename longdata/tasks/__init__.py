"""One module per published dataset: each turns Documents into sample dicts."""
