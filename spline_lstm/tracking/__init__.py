"""MLflow tracking and the model registry: every run logged, one champion per series.

The artifacts directory stays the source of truth: tracking reads a committed run and
mirrors it into MLflow; a run whose tracking fails still succeeds and can be back-filled.
"""
