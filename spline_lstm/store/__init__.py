"""Artifact files: atomic writes, the safe unpickler, processed I/O, workspace, gate, provenance."""
