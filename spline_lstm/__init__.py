"""Spline-LSTM: the pure stage logic (no Prefect, no artifact I/O outside artifact_io)."""
