"""covariate_spec.v1 (SPEC §10): parse and check a covariate spec, every problem at once.

A spec declares the covariates a series may bring: ``dynamic_covariates`` (one value per
timestamp; ``"known_in_advance": true`` marks one known for the forecast horizon, such as
a calendar flag or a planned price, else it is observed up to each origin only),
``static_covariates`` (one value per series) and an optional ``imputation_policy``
(covariate name or ``"default"`` -> how its gaps are filled).

Two checks, two codes: the spec itself (``parse_spec``: JSON layout, types, names, the
declaration of ``--covariates``) fails with 20; data that does not match it
(``check_columns``: a dynamic covariate missing from the input) fails with 25. Messages
list the declared, spec and available names so the fix is one edit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from contracts.errors import (
    InputFileNotFoundError,
    InputSchemaError,
    InvalidArgumentError,
)

SCHEMA_VERSION = "covariate_spec.v1"
KINDS = ("numeric", "categorical", "boolean")
IMPUTATION_METHODS = ("spline", "ffill", "zero")  # spline: the target's own gap filling
GROUPS = ("dynamic_covariates", "static_covariates")
ITEM_KEYS = {"name", "type", "required", "known_in_advance"}
ROOT_KEYS = {"schema_version", *GROUPS, "imputation_policy"}
MAX_SPEC_BYTES = 1_000_000
MAX_COVARIATES = 200


@dataclass(frozen=True)
class CovariateItem:
    name: str
    kind: str  # numeric | categorical | boolean
    required: bool
    known_in_advance: bool = False  # dynamic only: known over the forecast horizon


@dataclass(frozen=True)
class CovariateSpec:
    """A checked spec, narrowed to the covariates the run uses (``--covariates``)."""

    dynamic: tuple[CovariateItem, ...] = ()
    static: tuple[CovariateItem, ...] = ()
    imputation: dict[str, str] = field(default_factory=dict)
    source: str = "covariate spec"

    @property
    def names(self) -> list[str]:
        return [item.name for item in (*self.dynamic, *self.static)]

    def imputation_for(self, name: str) -> str:
        return self.imputation.get(name, self.imputation.get("default", "spline"))

    def to_dict(self) -> dict:
        def item(i: CovariateItem) -> dict:
            return {"name": i.name, "type": i.kind, "required": i.required,
                    **({"known_in_advance": True} if i.known_in_advance else {})}
        return {"schema_version": SCHEMA_VERSION,
                "dynamic_covariates": [item(i) for i in self.dynamic],
                "static_covariates": [item(i) for i in self.static],
                "imputation_policy": dict(self.imputation)}


def read_spec(path: str | Path, declared: list[str] | None = None) -> CovariateSpec:
    """Read ``path`` (21 when absent) and parse it (20 listing every problem)."""
    path = Path(path)
    if not path.is_file():
        raise InputFileNotFoundError(
            f"covariate spec not found: {path} (resolved from {Path.cwd()}); check "
            "--covariate-spec")
    raw = path.read_bytes()[:MAX_SPEC_BYTES + 1]
    if len(raw) > MAX_SPEC_BYTES:
        raise InvalidArgumentError(f"--covariate-spec {path} is larger than "
                                   f"{MAX_SPEC_BYTES:,} bytes; a spec is a short JSON object")
    try:
        payload = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if hasattr(exc, "lineno") else ""
        raise InvalidArgumentError(
            f"--covariate-spec {path} is not JSON{where}: {str(exc).split(':')[0]}; expected "
            f'an object such as {{"schema_version": "{SCHEMA_VERSION}", '
            '"dynamic_covariates": [{"name": "temperature", "type": "numeric", '
            '"required": true}]}') from None
    return parse_spec(payload, declared, source=f"--covariate-spec {path}")


def parse_spec(payload, declared: list[str] | None = None,
               source: str = "covariate spec") -> CovariateSpec:
    """Check a decoded spec and the declaration (None: every item the spec lists)."""
    problems: list[str] = []
    if not isinstance(payload, dict):
        raise InvalidArgumentError(f"{source}: the root must be a JSON object, got "
                                   f"{type(payload).__name__}")
    version = payload.get("schema_version")
    if version != SCHEMA_VERSION:
        problems.append(f"schema_version must be {SCHEMA_VERSION!r} (got {version!r})")
    unknown = sorted(set(payload) - ROOT_KEYS)
    if unknown:
        problems.append(f"unknown key(s) {unknown}; allowed: {sorted(ROOT_KEYS)}")
    groups = {g: _items(payload.get(g, []), g, problems) for g in GROUPS}
    dynamic, static = groups["dynamic_covariates"], groups["static_covariates"]
    overlap = sorted({i.name for i in dynamic} & {i.name for i in static})
    if overlap:
        problems.append(f"name(s) {overlap} are both dynamic and static; keep each in one "
                        "group")
    if len(dynamic) + len(static) > MAX_COVARIATES:
        problems.append(f"at most {MAX_COVARIATES} covariates")
    spec_names = [i.name for i in (*dynamic, *static)]
    imputation = _imputation(payload.get("imputation_policy", {}), spec_names, problems)
    chosen = spec_names if declared is None else list(declared)
    undefined = [n for n in chosen if n not in spec_names]
    if undefined:
        problems.append(f"declared covariate(s) {undefined} are not in the spec")
    missing_required = [i.name for i in (*dynamic, *static) if i.required and i.name not in chosen]
    if missing_required:
        problems.append(f"required covariate(s) {missing_required} are not declared; add them "
                        "to --covariates")
    if problems:
        raise InvalidArgumentError(
            f"{source} is not a valid {SCHEMA_VERSION}: " + "; ".join(problems)
            + f". Declared: {chosen}; spec: {spec_names}")
    return CovariateSpec(dynamic=tuple(i for i in dynamic if i.name in chosen),
                         static=tuple(i for i in static if i.name in chosen),
                         imputation=imputation, source=source)


def check_columns(spec: CovariateSpec, available: list[str], source: str,
                  reserved: tuple[str, ...] = ()) -> None:
    """25 when a dynamic covariate is not a column of the input (or is its timestamp or
    target column), listing the declared, spec and available columns."""
    missing = [i.name for i in spec.dynamic if i.name not in available]
    clashing = [i.name for i in spec.dynamic if i.name in reserved]
    if not missing and not clashing:
        return
    problems = []
    if missing:
        problems.append(f"dynamic covariate(s) {missing} are not columns of {source}")
    if clashing:
        problems.append(f"covariate(s) {clashing} name the timestamp or target column")
    raise InputSchemaError(
        "; ".join(problems) + f". Declared: {spec.names}; available columns: "
        f"{available[:50]}{' ...' if len(available) > 50 else ''}. Rename the column or the "
        "spec item")


def _items(value, group: str, problems: list[str]) -> list[CovariateItem]:
    if not isinstance(value, list):
        problems.append(f"{group} must be a list (got {type(value).__name__})")
        return []
    items, seen = [], set()
    for i, raw in enumerate(value):
        where = f"{group}[{i}]"
        if not isinstance(raw, dict):
            problems.append(f"{where} must be an object (got {type(raw).__name__})")
            continue
        name, kind = raw.get("name"), raw.get("type")
        bad = len(problems)
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{where}.name must be a non-empty string (got {name!r})")
        if kind not in KINDS:
            problems.append(f"{where}.type must be one of {list(KINDS)} (got {kind!r})")
        if not isinstance(raw.get("required"), bool):
            problems.append(f"{where}.required must be true or false (got "
                            f"{raw.get('required')!r})")
        known = raw.get("known_in_advance", False)
        if not isinstance(known, bool):
            problems.append(f"{where}.known_in_advance must be true or false (got {known!r})")
        elif known and group != "dynamic_covariates":
            problems.append(f"{where}: known_in_advance applies to dynamic covariates only")
        extra = sorted(set(raw) - ITEM_KEYS)
        if extra:
            problems.append(f"{where} has unknown key(s) {extra}; allowed: {sorted(ITEM_KEYS)}")
        if isinstance(name, str) and name in seen:
            problems.append(f"{group} lists {name!r} more than once")
        if len(problems) > bad:
            continue
        seen.add(name)
        items.append(CovariateItem(name=name, kind=kind, required=raw["required"],
                                   known_in_advance=bool(known)))
    return items


def _imputation(value, names: list[str], problems: list[str]) -> dict[str, str]:
    if not isinstance(value, dict):
        problems.append(f"imputation_policy must be an object (got {type(value).__name__})")
        return {}
    policy = {}
    for key, method in value.items():
        if key != "default" and key not in names:
            problems.append(f"imputation_policy names {key!r}, which is not in the spec "
                            "(use a covariate's name or \"default\")")
        elif method not in IMPUTATION_METHODS:
            problems.append(f"imputation_policy[{key!r}] must be one of "
                            f"{list(IMPUTATION_METHODS)} (got {method!r})")
        else:
            policy[key] = method
    return policy
