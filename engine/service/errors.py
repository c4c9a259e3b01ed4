"""Error answers of the HTTP service: `ApiError`, the JSON bodies and the exception handlers.

Every answer other than 2xx is `{"errors": [{"path", "message"}, ...]}` (404s add `available`).
`engine.service.app` registers the handlers below on the app.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.errors import KnowledgeBaseError, NotFound
from engine.jsonout import dumps_bytes

log = logging.getLogger("engine.service.app")


class ApiError(Exception):
    """An answer other than 2xx: status code and `{"errors": [...]}` (plus extra members)."""

    def __init__(self, status: int, errors: list[dict], **extra: Any):
        super().__init__(errors[0]["message"] if errors else str(status))
        self.status, self.errors, self.extra = status, errors, extra
        self.headers: dict[str, str] = {}

    def with_headers(self, headers: dict[str, str]) -> ApiError:
        """This error, answered with these HTTP headers too (e.g. Retry-After)."""
        self.headers.update(headers)
        return self

    def body(self) -> dict:
        """The JSON body of this answer."""
        return {"errors": self.errors, **self.extra}


def error(status: int, message: str, path: str = "", **extra: Any) -> ApiError:
    """An `ApiError` with one problem at `path`."""
    return ApiError(status, [{"path": path, "message": message}], **extra)


def not_found(exc: NotFound, path: str) -> ApiError:
    """404 for an unknown value at `path`, listing what exists."""
    return error(404, str(exc), path, available=list(exc.available))


def kb_unavailable(exc: KnowledgeBaseError) -> ApiError:
    """503 for an invalid knowledge base (logged; the body does not repeat the details)."""
    log.error("knowledge base invalid: %s", exc)
    return error(503, "the knowledge base is invalid; run `medtech kb check`")


# --------------------------------------------------------------------------- JSON bodies


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON, as every JSON body of the service is written."""
    return dumps_bytes(obj)


def json_response(obj: Any, status: int = 200, headers: dict | None = None) -> Response:
    """An `application/json` response with `obj` written by `dumps`."""
    return Response(dumps(obj), status_code=status, media_type="application/json", headers=headers)


# --------------------------------------------------------------------------- exception handlers


async def api_error_handler(request: Request, exc: ApiError) -> Response:
    """Answer an `ApiError` with its status and body."""
    return json_response(exc.body(), exc.status, headers=exc.headers or None)


async def validation_error_handler(request: Request, exc: RequestValidationError) -> Response:
    """FastAPI's parameter validation errors as 422 `{"errors": [...]}` (paths without `query.` etc.)."""
    errors = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ()) if p not in ("query", "path", "body", "header")]
        errors.append({"path": ".".join(loc), "message": e.get("msg", "invalid value")})
    return json_response({"errors": errors}, 422)


async def http_error_handler(request: Request, exc: StarletteHTTPException) -> Response:
    """Starlette's 404/405 etc. in the same `{"errors": [...]}` shape."""
    return json_response(
        {"errors": [{"path": "", "message": str(exc.detail)}]}, exc.status_code, headers=getattr(exc, "headers", None)
    )
