"""Contracts shared by every stage: errors, run ids, artifact layout, schemas, config."""
