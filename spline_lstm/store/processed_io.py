"""Write and read the processed artifacts: processed.npz, meta.json, split_contract.json,
preprocessor.pkl. Reading checks the whole consume-path contract (22 / 23 / 27)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from contracts.arrays import check_window_pair
from contracts.artifacts import (
    PROCESSED_SCHEMA_VERSION,
    REQUIRED_META_KEYS,
    REQUIRED_NPZ_KEYS,
    REQUIRED_PREPROCESSOR_KEYS,
    SPLIT_CONTRACT_SCHEMA_VERSION,
    ArtifactLayout,
)
from contracts.errors import (
    ArtifactContractError,
    InputFileNotFoundError,
    InputShapeError,
    PipelineError,
    RunIdMismatchError,
)
from contracts.records import DataSummary
from spline_lstm.store.atomic import read_json, read_npz, write_json, write_npz
from spline_lstm.store.commit import commit_in_progress
from spline_lstm.store.unpickler import read_pickled_dict, write_pickled_dict
from spline_lstm.transforms.preprocessor import Preprocessor
from spline_lstm.windows.preprocess import assemble
from spline_lstm.windows.processed import ProcessedData
from spline_lstm.windows.split import SPLITS, SplitBounds

# Windows of a split are stored in the npz only up to this many values (64 MB float32);
# beyond it they are cut from `series` at `origins_{split}` (meta.json says which).
MAX_STORED_WINDOW_VALUES = 16_000_000
# Beyond SPEC §3's keys: what evaluation in original units needs.
SERIES_NPZ_KEYS = ("series", "values", "observed", "timestamps", "bounds",
                   "origins_train", "origins_val", "origins_test")


def write_processed(layout: ArtifactLayout, data: ProcessedData) -> None:
    """Write the four processed artifacts of ``data`` under ``layout``."""
    pre = data.preprocessor
    arrays = {}
    for split in SPLITS:
        if data.window_values(split) <= MAX_STORED_WINDOW_VALUES:
            arrays[f"X_{split}"], arrays[f"y_{split}"] = data.windows(split)
        else:  # keep the keys and shapes, not the copies
            arrays[f"X_{split}"] = np.zeros((0, pre.lookback + _reach(pre), data.n_features),
                                            np.float32)
            arrays[f"y_{split}"] = np.zeros((0, pre.horizon), np.float32)
        arrays[f"origins_{split}"] = data.origins[split]
    arrays.update(
        feature_names=np.array(data.feature_names),
        target_indices=np.array(pre.features.target_indices, dtype=np.int64),
        series=data.series,
        values=data.values,
        observed=data.observed,
        timestamps=data.timestamps.asi8,
        bounds=np.array([data.bounds.n, data.bounds.train_end, data.bounds.val_end], np.int64),
    )
    if data.covariates:  # as read, in the encoders' order: backtest folds refit on them
        by_name = {c.name: c.values for c in data.covariates}
        arrays["covariate_values"] = np.stack(
            [by_name[n] for n in pre.features.covariate_names], axis=1).astype(np.float64)
    if data.future is not None:
        arrays["future_rows"] = np.asarray(data.future, dtype=np.float32)
    write_npz(layout.processed_npz, arrays)
    write_json(layout.meta_json, build_meta(data))
    write_json(layout.split_contract_json, build_split_contract(data))
    write_pickled_dict(layout.preprocessor_pkl, pre.to_payload())


def build_meta(data: ProcessedData) -> dict:
    pre = data.preprocessor
    return {
        "run_id": pre.run_id,
        "schema_version": PROCESSED_SCHEMA_VERSION,
        "lookback": pre.lookback,
        "horizon": pre.horizon,
        "n_features": data.n_features,
        "feature_names": list(data.feature_names),
        "target_indices": pre.features.target_indices,
        "scaler_type": pre.chain.scaler.kind,
        "seasons": pre.seasons,
        "freq": pre.freq,
        "timezone": pre.timezone,
        "transform_chain": pre.chain.to_dict(),
        "features": pre.features.to_dict(),
        "interpolation": pre.grid.to_dict(),
        "window_counts": data.window_counts(),
        "windows_stored": {s: data.window_values(s) <= MAX_STORED_WINDOW_VALUES for s in SPLITS},
        "windows_rule": "window i of a split: X = series[o-lookback+1 : o+1+r, :] (r = "
                        "horizon with covariates known in advance, else 0), y = "
                        "series[o+1 : o+horizon+1, target_index] with o = origins_{split}[i]",
        "split_sizes": data.bounds.sizes(),
        "data_summary": data.data_summary.to_dict(),
    }


def build_split_contract(data: ProcessedData) -> dict:
    bounds, ts = data.bounds, data.timestamps
    splits = {}
    for split in SPLITS:
        start, end = bounds.target_range(split)
        splits[split] = {
            "start_index": start, "end_index": end, "n_points": end - start,
            "start_time": str(ts[start]) if end > start else None,
            "end_time": str(ts[end - 1]) if end > start else None,
            "n_windows": int(len(data.origins[split])),
        }
    return {
        "schema_version": SPLIT_CONTRACT_SCHEMA_VERSION,
        "run_id": data.preprocessor.run_id,
        "n_points": bounds.n,
        "lookback": data.preprocessor.lookback,
        "horizon": data.preprocessor.horizon,
        "rule": "chronological; a window belongs to the split holding all of its targets",
        "splits": splits,
    }


def run_id_from_npz_path(npz_path: Path) -> str:
    """The run_id encoded in ``.../processed/{run_id}/processed.npz`` (22 if not that layout)."""
    npz_path = Path(npz_path)
    if npz_path.name != "processed.npz" or npz_path.parent.parent.name != "processed":
        raise ArtifactContractError(
            f"--processed-npz {npz_path} is not at <artifacts>/processed/<run_id>/processed.npz; "
            "point it at the processed.npz of an earlier run")
    return npz_path.parent.name


def processed_sources(npz_path: Path, run_id: str, preprocessor_path: Path | None = None
                      ) -> dict[str, Path]:
    """The four processed artifacts a consume-path run reads, keyed like ArtifactLayout."""
    npz_path = Path(npz_path)
    return {
        "processed_npz": npz_path,
        "meta_json": npz_path.parent / "meta.json",
        "split_contract_json": npz_path.parent / "split_contract.json",
        "preprocessor_pkl": Path(preprocessor_path) if preprocessor_path else
        npz_path.parent.parent.parent / "models" / run_id / "preprocessor.pkl",
    }


def read_processed(npz_path: Path, run_id: str, preprocessor_path: Path | None = None
                   ) -> ProcessedData:
    """Load processed artifacts for the consume path after checking their contract.

    Checks, in order: the npz exists (21); run_id agrees between the CLI, the npz path,
    meta.json and the preprocessor payload (27); required npz keys and the split
    contract (22); array shapes (23).
    """
    npz_path = Path(npz_path)
    if not npz_path.is_file():
        raise InputFileNotFoundError(
            f"--processed-npz {npz_path} does not exist; check the path or re-run preprocessing")
    path_run_id = run_id_from_npz_path(npz_path)
    artifacts_root = npz_path.parent.parent.parent
    if commit_in_progress(artifacts_root, path_run_id):
        raise ArtifactContractError(
            f"the artifacts of run {path_run_id!r} under {artifacts_root} are incomplete: their "
            "commit was interrupted. Re-run that run_id once (it completes the commit), then "
            "consume them")
    if path_run_id != run_id:
        raise RunIdMismatchError(
            f"--run-id {run_id!r} does not match the run_id {path_run_id!r} in the path of "
            f"{npz_path}; use --run-id {path_run_id} or point at processed/{run_id}/")
    sources = processed_sources(npz_path, run_id, preprocessor_path)
    meta = _read_sibling_json(sources["meta_json"], "meta.json")
    if meta.get("run_id") != run_id:
        raise RunIdMismatchError(
            f"meta.json next to {npz_path} has run_id {meta.get('run_id')!r}, expected "
            f"{run_id!r}; the processed artifacts were mixed up, re-run preprocessing")
    preprocessor_path = sources["preprocessor_pkl"]
    payload = read_pickled_dict(preprocessor_path)
    if payload.get("run_id") != run_id:
        raise RunIdMismatchError(
            f"preprocessor {preprocessor_path} was fitted for run_id "
            f"{payload.get('run_id')!r}, not {run_id!r}; pass the matching --preprocessor-pkl")
    _require_keys(meta, REQUIRED_META_KEYS, f"meta.json of {run_id}")
    if meta["schema_version"] != PROCESSED_SCHEMA_VERSION:
        raise ArtifactContractError(
            f"meta.json of {run_id} has schema_version {meta['schema_version']!r}, expected "
            f"{PROCESSED_SCHEMA_VERSION!r}; re-run preprocessing with this version")
    _require_keys(payload, REQUIRED_PREPROCESSOR_KEYS, f"preprocessor {preprocessor_path}")
    split_contract = _read_sibling_json(sources["split_contract_json"], "split_contract.json")
    if split_contract.get("schema_version") != SPLIT_CONTRACT_SCHEMA_VERSION:
        raise ArtifactContractError(
            f"split_contract.json of {run_id} has schema_version "
            f"{split_contract.get('schema_version')!r}, expected "
            f"{SPLIT_CONTRACT_SCHEMA_VERSION!r}; re-run preprocessing")
    arrays = read_npz(npz_path, max_bytes=_npz_byte_limit(meta))
    _require_keys(arrays, REQUIRED_NPZ_KEYS + SERIES_NPZ_KEYS, f"{npz_path}")
    pre = _preprocessor(payload, preprocessor_path)
    for split in SPLITS:
        check_window_pair(arrays[f"X_{split}"], arrays[f"y_{split}"],
                          lookback=pre.lookback + _reach(pre),
                          horizon=pre.horizon, n_features=pre.features.n_features, split=split)
    return _rebuild(pre, arrays, DataSummary.from_dict(meta.get("data_summary", {})))


def _npz_byte_limit(meta: dict) -> int:
    """The most bytes the npz described by ``meta`` can hold (a quarter and 1 MiB spare)."""
    try:
        n = sum(int(v) for v in meta["split_sizes"].values())
        counts = {s: int(meta["window_counts"][s]) for s in SPLITS}
        stored = {s: bool(meta.get("windows_stored", {}).get(s, True)) for s in SPLITS}
        lookback, horizon = int(meta["lookback"]), int(meta["horizon"])
        features = int(meta.get("n_features", 1))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ArtifactContractError(
            f"meta.json does not describe its arrays ({type(exc).__name__}: {exc}); re-run "
            "preprocessing") from None
    # series, values, observed, timestamps; covariates as read (at most one per feature)
    per_point = 4 * features + 8 + 1 + 8 + 8 * (features - 1)
    span = lookback + horizon  # a window with covariates known in advance reaches this far
    windows = sum(counts[s] * (span * features + horizon) * 4 for s in SPLITS if stored[s])
    return int(1.25 * (n * per_point + 8 * sum(counts.values()) + windows)) + 2**20


def _reach(pre: Preprocessor) -> int:
    """Steps after the origin a window holds (covariates known in advance)."""
    return pre.horizon if pre.features.n_future else 0


def _covariates(pre: Preprocessor, arrays: dict[str, np.ndarray]) -> tuple:
    """The covariates as read, rebuilt from ``covariate_values`` and their encoders."""
    from spline_lstm.data.covariates import Covariate

    encoders = pre.features.encoders
    if not encoders:
        return ()
    values = arrays.get("covariate_values")
    if values is None or values.ndim != 2 or values.shape[1] != len(encoders):
        raise ArtifactContractError(
            f"processed.npz lacks the values of covariates {list(pre.features.covariate_names)}"
            " (key covariate_values [n, C]); re-run preprocessing")
    return tuple(Covariate(e.name, e.kind, e.known_in_advance,
                           values[:, i].astype(np.float64), e.labels)
                 for i, e in enumerate(encoders))


def _preprocessor(payload: dict, path: Path) -> Preprocessor:
    try:
        return Preprocessor.from_payload(payload)
    except PipelineError:
        raise
    except Exception as exc:  # noqa: BLE001 - a payload of the wrong shape is a contract error
        raise ArtifactContractError(
            f"preprocessor {path} does not hold a valid preprocessor ({type(exc).__name__}: "
            f"{str(exc)[:200]}); re-run preprocessing for this run_id") from None


def _rebuild(pre: Preprocessor, arrays: dict[str, np.ndarray],
             data_summary: DataSummary) -> ProcessedData:
    n, train_end, val_end = (int(v) for v in arrays["bounds"])
    series = arrays["series"].astype(np.float32)
    if series.ndim == 1:  # written before series had a feature axis
        series = series[:, None]
    if series.shape[1:] != (pre.features.n_features,):
        raise InputShapeError(
            f"processed.npz series has shape {list(series.shape)}, expected [n, "
            f"{pre.features.n_features}] for features {list(pre.features.names)}; re-run "
            "preprocessing")
    data = assemble(pre, SplitBounds(n=n, train_end=train_end, val_end=val_end),
                    pd.DatetimeIndex(arrays["timestamps"].astype("datetime64[ns]")),
                    arrays["values"].astype(np.float64), arrays["observed"].astype(bool),
                    series, data_summary)
    future = arrays.get("future_rows")
    data = data.with_covariates(_covariates(pre, arrays),
                                None if future is None else future.astype(np.float32))
    for split in SPLITS:
        if not np.array_equal(data.origins[split], arrays[f"origins_{split}"]):
            raise ArtifactContractError(
                f"processed.npz origins of the {split} split disagree with its series and "
                "preprocessor; the artifacts were edited or mixed, re-run preprocessing")
        stored = (arrays[f"X_{split}"], arrays[f"y_{split}"])
        if len(stored[0]) == len(data.origins[split]):
            if not (np.array_equal(stored[0], data.X(split)) and
                    np.array_equal(stored[1], data.y(split))):
                raise ArtifactContractError(
                    f"processed.npz X/y of the {split} split are not the windows of its "
                    "series; the artifacts were edited, re-run preprocessing")
        elif len(stored[0]):
            raise InputShapeError(
                f"processed.npz holds {len(stored[0])} {split} windows but "
                f"{len(data.origins[split])} origins; re-run preprocessing")
    return data


def _read_sibling_json(path: Path, name: str) -> dict:
    if not path.is_file():
        raise ArtifactContractError(
            f"{name} is missing next to processed.npz ({path}); the processed artifacts are "
            "incomplete, re-run preprocessing")
    return read_json(path, name)


def _require_keys(container, keys, where: str) -> None:
    missing = [k for k in keys if k not in container]
    if missing:
        present = sorted(container)
        raise ArtifactContractError(
            f"{where} lacks required key(s) {missing} (present: {present}); re-run "
            "preprocessing for this run_id")
