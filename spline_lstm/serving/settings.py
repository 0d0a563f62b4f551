"""The API's settings (SPEC §11), from the environment, checked before the server starts.

SPLINE_DEV_MODE (1)      1: loopback only, token optional (enforced when set); 0: production,
                         SPLINE_API_TOKEN required (the server refuses to start without it)
SPLINE_API_TOKEN         the X-API-Token every request but /api/v1/health must carry
SPLINE_CORS_ORIGINS      comma-separated origins allowed to call the API from a browser
SPLINE_TRUSTED_HOSTS     Host headers accepted (localhost,127.0.0.1,testserver)
SPLINE_MAX_BODY_BYTES    request body limit (1048576)
SPLINE_RELOAD_SECONDS    how often the champion aliases are checked (5)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from contracts.errors import InvalidArgumentError

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _list(name: str, default: str) -> list[str]:
    return [v.strip() for v in os.environ.get(name, default).split(",") if v.strip()]


def _number(name: str, default: str, cast, minimum) -> float:
    text = os.environ.get(name, default)
    try:
        value = cast(text)
    except ValueError:
        raise InvalidArgumentError(f"{name}={text!r} is not a number; e.g. {default}") from None
    if value < minimum:
        raise InvalidArgumentError(f"{name}={text!r} must be at least {minimum}")
    return value


@dataclass(frozen=True)
class ServeSettings:
    artifacts_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    models: tuple[str, ...] = ()  # empty: every registered model
    dev_mode: bool = True
    token: str | None = None
    cors_origins: tuple[str, ...] = ()
    trusted_hosts: tuple[str, ...] = ("localhost", "127.0.0.1", "testserver")
    max_body_bytes: int = 1 << 20
    reload_seconds: float = 5.0

    @classmethod
    def from_env(cls, artifacts_dir: Path, host: str = "127.0.0.1", port: int = 8000,
                 models: tuple[str, ...] = ()) -> "ServeSettings":
        mode = os.environ.get("SPLINE_DEV_MODE", "1").strip()
        if mode not in ("0", "1"):
            raise InvalidArgumentError(f"SPLINE_DEV_MODE={mode!r}: use 1 (development) or 0 "
                                       "(production)")
        settings = cls(
            artifacts_dir=Path(artifacts_dir), host=host, port=port, models=tuple(models),
            dev_mode=mode == "1", token=os.environ.get("SPLINE_API_TOKEN") or None,
            cors_origins=tuple(_list("SPLINE_CORS_ORIGINS", "")),
            trusted_hosts=tuple(_list("SPLINE_TRUSTED_HOSTS", "localhost,127.0.0.1,testserver")),
            max_body_bytes=int(_number("SPLINE_MAX_BODY_BYTES", "1048576", int, 1024)),
            reload_seconds=float(_number("SPLINE_RELOAD_SECONDS", "5", float, 0.2)))
        settings.check()
        return settings

    def check(self) -> None:
        """Fail closed: production needs a token; development stays on loopback."""
        if not self.dev_mode and not self.token:
            raise InvalidArgumentError(
                "SPLINE_DEV_MODE=0 (production) needs SPLINE_API_TOKEN: the server does not "
                "start without one. Set SPLINE_API_TOKEN to a long random secret")
        if self.dev_mode and self.host not in LOOPBACK:
            raise InvalidArgumentError(
                f"--host {self.host} in development mode: development serves on loopback "
                "only (127.0.0.1). For other interfaces set SPLINE_DEV_MODE=0 and "
                "SPLINE_API_TOKEN")

    @property
    def requires_token(self) -> bool:
        return bool(self.token) or not self.dev_mode
