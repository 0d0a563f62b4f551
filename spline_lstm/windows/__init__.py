"""Chronological split, forecast windows (cut or streamed) and the processed data."""
