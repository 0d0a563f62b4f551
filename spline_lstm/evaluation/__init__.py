"""Metrics, test scoring against the baselines, the verdict and the metrics record."""
