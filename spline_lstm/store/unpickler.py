"""The preprocessor payload: a plain dict pickled for the SPEC, read through a restricted
unpickler that refuses every class outside builtins and numpy arrays."""

from __future__ import annotations

import pickle
from pathlib import Path

from contracts.errors import ArtifactContractError, InputFileNotFoundError
from spline_lstm.store.atomic import atomic_write


def write_pickled_dict(path: Path, payload: dict) -> None:
    """Pickle a plain dict (builtins only) for the preprocessor contract."""
    _require_plain(payload, "preprocessor payload")
    with atomic_write(path, "wb") as handle:
        pickle.dump(payload, handle, protocol=pickle.HIGHEST_PROTOCOL)


def _require_plain(value, where: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where}: key {key!r} is not a string")
            _require_plain(item, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _require_plain(item, f"{where}[{i}]")
    elif value is not None and not isinstance(value, (str, int, float, bool)):
        raise TypeError(f"{where} holds a {type(value).__name__}; only builtins may be pickled")


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickle builtins and numpy arrays only; refuse every other global.

    A pickle can name any importable callable (``os.system``...) and have it run on
    load; ``find_class`` is the one door such a payload must pass, so it is closed.
    """

    _ALLOWED = {
        ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "complex"),
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"global '{module}.{name}' is forbidden")


def read_pickled_dict(path: Path) -> dict:
    """Load a preprocessor payload through the restricted unpickler (22 if unsafe/invalid)."""
    path = Path(path)
    if not path.is_file():
        raise InputFileNotFoundError(
            f"preprocessor not found: {path}; pass --preprocessor-pkl or re-run preprocessing")
    try:
        with path.open("rb") as handle:
            payload = RestrictedUnpickler(handle).load()
    except Exception as exc:  # noqa: BLE001 - whatever a corrupt pickle raises, refuse it
        raise ArtifactContractError(
            f"{path} is not a valid preprocessor payload ({exc}); it was refused unread. "
            "Re-create it by re-running preprocessing for this run_id") from None
    if not isinstance(payload, dict):
        raise ArtifactContractError(
            f"{path} holds a {type(payload).__name__}, expected a plain dict payload; "
            "re-run preprocessing")
    return payload
