"""Raw input -> a validated series on a regular, gap-filled grid (ingest, interpolate)."""
