"""CORS, off by default: `medtech serve --cors-origin ORIGIN` (repeatable) allows browsers on
those origins to call the service. The origins live in the environment variable
MEDTECH_CORS_ORIGINS (space- or comma-separated) so that every worker process sees them;
`set_cors_origins` changes them in this process (tests)."""

from __future__ import annotations

import os
import re

from starlette.middleware.cors import CORSMiddleware

ENV = "MEDTECH_CORS_ORIGINS"
_ORIGINS: list[str] | None = None


def parse_origins(value: str | None) -> list[str]:
    """Origins from a space- or comma-separated string (`*` allows any origin)."""
    return [o.rstrip("/") for o in re.split(r"[\s,]+", value or "") if o]


def cors_origins() -> list[str]:
    """The allowed origins (none: CORS off)."""
    global _ORIGINS
    if _ORIGINS is None:
        _ORIGINS = parse_origins(os.environ.get(ENV))
    return _ORIGINS


def set_cors_origins(origins: list[str] | None) -> None:
    """Allow these origins from now on (None: read MEDTECH_CORS_ORIGINS again)."""
    global _ORIGINS
    _ORIGINS = None if origins is None else [o.rstrip("/") for o in origins]


class ConfigurableCORS:
    """Starlette's CORSMiddleware for the configured origins; passes everything through when there are none."""

    def __init__(
        self, app, expose_headers: tuple[str, ...] = (), allow_headers: tuple[str, ...] = ("Content-Type", "Accept")
    ):
        self.app = app
        self.expose_headers = list(expose_headers)
        self.allow_headers = list(allow_headers)
        self._for: list[str] | None = None
        self._cors: CORSMiddleware | None = None

    async def __call__(self, scope, receive, send):
        origins = cors_origins()
        if not origins or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._for != origins:
            self._cors = CORSMiddleware(
                self.app,
                allow_origins=origins,
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=self.allow_headers,
                expose_headers=self.expose_headers,
                max_age=600,
            )
            self._for = list(origins)
        assert self._cors is not None
        await self._cors(scope, receive, send)
