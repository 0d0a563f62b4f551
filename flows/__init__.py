"""Prefect flows and their command lines."""
