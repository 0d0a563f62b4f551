"""What can be refused before Prefect or TensorFlow start: seconds, not a server start."""

from __future__ import annotations

from pathlib import Path

from contracts.config import RunConfig
from contracts.covariate_spec import read_spec
from spline_lstm.data.frequency import parse_freq
from spline_lstm.data.ingest import check_input_file
from spline_lstm.store.workspace import check_artifacts_dir


def preflight(config: RunConfig) -> None:
    """Raise the coded error of the first flag whose value cannot work (the artifacts
    directory last: checking it creates it)."""
    if config.freq:
        parse_freq(config.freq)
    if config.input:
        check_input_file(Path(config.input))
    if config.processed_npz:
        check_input_file(Path(config.processed_npz), "--processed-npz")
    if config.covariate_spec:
        read_spec(config.covariate_spec, config.covariates)
    if config.future_covariates:
        check_input_file(Path(config.future_covariates), "--future-covariates")
    check_artifacts_dir(Path(config.artifacts_dir))
