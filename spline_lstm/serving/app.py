"""The FastAPI application: routes under /api/v1, SPEC §11 security, OpenAPI at /docs.

/docs (Swagger UI) and /redoc work offline: their scripts come from this server.

    GET  /api/v1/health          liveness (public)
    GET  /api/v1/ready           200 when every served champion is loaded, else 503 and why
    POST /api/v1/forecast        {"model": NAME, "horizon": H} (+ alias | version, levels,
                                 history); or {"series": [request, ...]}
    GET  /api/v1/models          registered models, their aliases, what is served
    GET  /api/v1/runs/{run_id}   a run's metrics and report
"""

from __future__ import annotations

import hmac
import logging
import threading
from contextlib import asynccontextmanager
from typing import Annotated, Literal

import pandas as pd
from fastapi import FastAPI, HTTPException, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from starlette.middleware.trustedhost import TrustedHostMiddleware

from contracts.artifacts import ArtifactLayout
from contracts.errors import PipelineError, RunnerExecError
from contracts.run_id import validate_run_id
from spline_lstm.serving.champions import ChampionCache, forecast_for
from spline_lstm.serving.settings import ServeSettings

LOG = logging.getLogger("spline_lstm.serving")
API = "/api/v1"
PUBLIC = {f"{API}/health"}
DOCS_ASSETS = "/docs-assets"  # Swagger UI's and ReDoc's scripts, styles and icon
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
                    "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
INTERNAL = {"ok": False, "error": "internal server error"}


def _safe_name(value: str) -> str:
    """The run_id rule (names and run_ids become paths and URLs): never a path."""
    try:
        return validate_run_id(value)
    except PipelineError:
        raise ValueError("must match [A-Za-z0-9][A-Za-z0-9._-]{0,127} without '..'") from None


Name = Annotated[str, AfterValidator(_safe_name)]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


class History(BaseModel):
    """A recent history to forecast from instead of the model's stored series."""

    model_config = ConfigDict(extra="forbid")
    timestamps: list[str] = Field(
        min_length=1, max_length=1_000_000,
        description="ISO 8601 timestamps, oldest first, on the model's grid (a missing step "
                    "is a gap, filled as the pipeline fills gaps).")
    values: list[FiniteFloat | None] = Field(
        min_length=1, max_length=1_000_000,
        description="The target in the series' own unit, one per timestamp; null where it "
                    "was not observed.")

    @model_validator(mode="after")
    def _aligned_and_increasing(self) -> "History":
        if len(self.timestamps) != len(self.values):
            raise ValueError(f"timestamps ({len(self.timestamps)}) and values "
                             f"({len(self.values)}) must have the same length")
        try:
            parsed = pd.to_datetime(pd.Series(self.timestamps), format="ISO8601", utc=True)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"timestamps must be ISO 8601 ({exc})") from None
        steps = parsed.diff().iloc[1:]
        if (steps == pd.Timedelta(0)).any():
            first = int((steps == pd.Timedelta(0)).to_numpy().argmax()) + 1
            raise ValueError(f"duplicate timestamp {self.timestamps[first]!r}")
        if (steps < pd.Timedelta(0)).any():
            raise ValueError("timestamps must increase (oldest first)")
        return self


class ForecastRequest(BaseModel):
    """One model's forecast after the last point of its stored series (or of ``history``)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"model": "co2_weekly", "horizon": 12, "levels": [80]}]})
    model: Name = Field(description="Registered model name (GET /api/v1/models lists them).")
    horizon: int = Field(ge=1, le=100_000,
                         description="Steps to forecast; at most the horizon the model was "
                                     "trained for.")
    alias: Literal["champion", "candidate", "rollback"] | None = Field(
        None, description="Which version to use by alias (default: the champion).")
    version: int | None = Field(None, ge=1,
                                description="Which version to use by number (not with alias).")
    levels: list[Annotated[float, Field(gt=0, lt=100)]] | None = Field(
        None, max_length=5,
        description="Prediction-interval levels in %, among those the model was calibrated "
                    "at (default: all of them).")
    history: History | None = Field(
        None, description="Forecast from this history instead of the stored series; it "
                          "goes through the pipeline's validation, gap filling and the "
                          "model's fitted transforms.")

    @field_validator("version")
    @classmethod
    def _one_selector(cls, value, info):
        if value is not None and info.data.get("alias") is not None:
            raise ValueError("give alias or version, not both")
        return value


class ManyRequest(BaseModel):
    """Several forecasts in one call, answered in the order asked."""

    model_config = ConfigDict(extra="forbid")
    series: list[ForecastRequest] = Field(min_length=1, max_length=100,
                                          description="One request per forecast.")


def create_app(settings: ServeSettings, cache: ChampionCache) -> FastAPI:
    stop = threading.Event()

    def reload_loop() -> None:
        while not stop.wait(settings.reload_seconds):
            cache.refresh()

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        cache.refresh()
        thread = threading.Thread(target=reload_loop, name="champion-reload", daemon=True)
        thread.start()
        yield
        stop.set()

    # /docs and /redoc with their scripts served from here: FastAPI's own pages load them from
    # a CDN, and a server without internet access then shows a blank page.
    app = FastAPIOffline(title="Spline-LSTM forecasts", version="1", lifespan=lifespan,
                         static_url=DOCS_ASSETS,
                         description="Forecasts from each registered model's champion, with "
                                     "calibrated prediction intervals.")

    @app.exception_handler(PipelineError)
    async def _coded(_request: Request, exc: PipelineError):
        if isinstance(exc, RunnerExecError):  # the registry or a model failed: log only
            LOG.error("request failed: %s", exc)
            return JSONResponse(INTERNAL, status_code=500)
        return JSONResponse({"ok": False, "error": {"code": exc.code.value,
                                                    "message": exc.message}},
                            status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError):
        # the fields and why, never the input echoed back (a NaN would not even render)
        errors = [{"field": ".".join(str(p) for p in e["loc"] if p != "body"),
                   "message": e["msg"]} for e in exc.errors()]
        text = "; ".join(f"{e['field'] or 'body'}: {e['message']}" for e in errors)
        return JSONResponse({"ok": False, "error": {"code": "INVALID_ARGUMENT",
                                                    "message": text, "fields": errors}},
                            status_code=422)

    @app.get(f"{API}/health", summary="Liveness")
    def health() -> dict:
        """Whether the process answers; needs no token."""
        return {"ok": True}

    @app.get(f"{API}/ready", summary="Readiness: every served champion is loaded",
             responses={503: {"description": "A champion is not loaded; the body says why"}})
    def ready():
        """200 when every served model's champion is loaded and verified; otherwise 503 with
        each model's state (version, run_id, whether it is on its seasonal-naive fallback,
        and the problem)."""
        is_ready, state = cache.readiness()
        body = {"ready": is_ready, "models": state}
        if cache.last_refresh_error:
            body["problem"] = cache.last_refresh_error
        return JSONResponse(body, status_code=200 if is_ready else 503)

    @app.post(f"{API}/forecast", summary="Forecast with calibrated prediction intervals",
              responses={422: {"description": "A bad request: the error names each field "
                                              "and why (code INVALID_ARGUMENT, or the "
                                              "pipeline's code for a bad history)"}})
    def forecast(body: ForecastRequest | ManyRequest) -> dict:
        """One forecast (a ForecastRequest) or several (``{"series": [...]}``).

        Answers ``model``, ``version``, ``run_id``, ``fallback`` (true: the champion could
        not be loaded and a seasonal-naive forecast stands in), ``origin`` (the last point
        forecast from) and ``forecast``: one row per step with ``timestamp``, ``value`` and
        ``lo_<level>`` / ``hi_<level>`` for each level. From the stored series these are the
        numbers of the run's own predictions file."""
        if isinstance(body, ManyRequest):
            return {"ok": True, "forecasts": [_one(cache, r) for r in body.series]}
        return {"ok": True, **_one(cache, body)}

    @app.get(f"{API}/models", summary="Registered models and what is served")
    def models() -> dict:
        """Every registered model, its aliases (candidate, champion, rollback) and the
        version this server is serving for it."""
        from spline_lstm.tracking import registry

        listed = registry.list_models(cache.client())
        _ready, served = cache.readiness()
        return {"models": [{**m, "served": served.get(m["model"])} for m in listed]}

    @app.get(f"{API}/runs/{{run_id}}", summary="A run's metrics and report",
             responses={404: {"description": "No such run in this artifacts dir"}})
    def run(run_id: Annotated[str, Path(max_length=128, description="The run's run_id."),
                              AfterValidator(_safe_name)]) -> dict:
        """The run's metrics JSON (test metrics, baselines, intervals, backtests, the model
        choice) and its Markdown report."""
        from spline_lstm.store.atomic import read_json

        layout = ArtifactLayout(settings.artifacts_dir, run_id)
        if not layout.metrics_json.is_file():
            raise HTTPException(404, f"run {run_id!r} has no metrics here")
        report = layout.report_md.read_text(encoding="utf-8") \
            if layout.report_md.is_file() else None
        return {"run_id": run_id, "metrics": read_json(layout.metrics_json, "metrics"),
                "report": report}

    _secure(app, settings)
    return app


def _one(cache: ChampionCache, request: ForecastRequest) -> dict:
    served = cache.get(request.model, request.alias, request.version)
    history = (request.history.timestamps, request.history.values) if request.history else None
    record = forecast_for(served, request.horizon, request.levels, history)
    rows = []
    for i, (stamp, value) in enumerate(zip(record.timestamps, record.values)):
        row = {"timestamp": str(stamp), "value": float(value)}
        row.update({k: float(v[i]) for k, v in sorted(record.intervals.items())})
        rows.append(row)
    return {"model": served.name, "version": served.version, "run_id": served.run_id,
            "fallback": served.fallback, "origin": str(record.origin), "forecast": rows}


def _secure(app: FastAPI, settings: ServeSettings) -> None:
    """Middleware, innermost first: token, body limit, CORS, trusted hosts, headers + 5xx."""

    @app.middleware("http")
    async def token(request: Request, call_next):
        if settings.requires_token and request.url.path not in PUBLIC:
            given = request.headers.get("x-api-token", "")
            if not hmac.compare_digest(given.encode(), (settings.token or "").encode()) or \
                    not settings.token:
                return JSONResponse({"ok": False, "error": "missing or wrong X-API-Token"},
                                    status_code=401)
        return await call_next(request)

    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                           allow_methods=["GET", "POST"],
                           allow_headers=["X-API-Token", "Content-Type"])
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(settings.trusted_hosts))
    app.add_middleware(SecurityHeaders)


class SecurityHeaders:
    """The four SPEC §11 headers on every response; an unhandled error becomes the generic
    500 body (its details go to the log only)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def with_headers(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.decode().lower() not in {h.lower() for h in SECURITY_HEADERS}]
                headers += [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, with_headers)
        except Exception:  # noqa: BLE001 - never a traceback or detail to the client
            LOG.exception("unhandled error on %s", scope.get("path"))
            if not started:
                await JSONResponse(INTERNAL, status_code=500)(scope, receive, with_headers)


class BodyLimit:
    """413 for a body over the limit (declared or streamed)."""

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        too_big = JSONResponse({"ok": False, "error": f"request body over {self.limit} bytes"},
                               status_code=413)
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await too_big(scope, receive, send)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _BodyTooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _BodyTooLarge:
            await too_big(scope, receive, send)


class _BodyTooLarge(Exception):
    pass
