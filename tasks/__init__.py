"""Prefect tasks: thin wrappers around spline_lstm stage functions."""
