"""The live panels: one analysis per file, each redrawn from ``RunState`` once per frame."""
