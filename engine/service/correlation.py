"""Correlation, audit and versions on every answer of the HTTP service (ASGI middleware).

- `X-API-Version` (engine.service.apiversion) and `X-Knowledge-Base-Version` on every response,
  beside the digest header (engine.service.middleware), whatever the media type (CSV, calendar …).
- `X-Request-Id`: the caller's (1 to 128 letters, digits and `._:-`) or a new one, echoed; a valid
  W3C `traceparent` (and its `tracestate`) is passed back as received.
- A caller may pin the knowledge base by sending `X-Knowledge-Base-Digest`: when it is not the
  digest this service answers with, the answer is 412 naming the digest it has (`sha256:` may be
  left out of the pin).
- `/metrics` figures (engine.service.metrics) and, with `--log-format json`, one JSON line per
  request on stderr: request id, trace id, method, route, path, status, latency, bytes, decision id,
  digest, the verdict's action; the bodies only with `--log-bodies`. The settings live in the
  environment (MEDTECH_LOG_FORMAT, MEDTECH_LOG_BODIES) so that every worker process sees them;
  `set_logging` changes them in this process (tests).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import sys
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache

from engine.jsonout import dumps_text
from engine.service.apiversion import API_VERSION_HEADER, api_version
from engine.service.errors import json_response
from engine.service.inprocess import INTERNAL
from engine.service.kb_access import cached_digest, cached_kb_version, digest, kb_version
from engine.service.metrics import observe
from engine.service.middleware import DIGEST_HEADER
from engine.service.worker import on_engine

KB_VERSION_HEADER = "X-Knowledge-Base-Version"
REQUEST_ID_HEADER = "X-Request-Id"
DECISION_ID_HEADER = "X-Decision-Id"
# what a browser on an allowed origin may send and read (engine.service.cors)
CORS_ALLOW_HEADERS = ("Content-Type", "Accept", REQUEST_ID_HEADER, "traceparent", "tracestate", DIGEST_HEADER)
CORS_EXPOSE_HEADERS = (
    DIGEST_HEADER,
    KB_VERSION_HEADER,
    API_VERSION_HEADER,
    REQUEST_ID_HEADER,
    DECISION_ID_HEADER,
    "traceparent",
    "tracestate",
    "ETag",
    "Retry-After",
)
LOG_FORMAT_ENV, LOG_BODIES_ENV = "MEDTECH_LOG_FORMAT", "MEDTECH_LOG_BODIES"
LOG_FORMATS = ("text", "json")
BODY_LOG_LIMIT = 64 * 1024  # bytes of each body a log line shows at most

REQUEST_ID_PATTERN = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")
TRACEPARENT_PATTERN = re.compile(rb"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")
TRACESTATE_PATTERN = re.compile(rb"^[\x20-\x7e]{1,512}$")
_VERDICT_ACTION = re.compile(rb'"verdict":\{[^{}]*?"action":"([a-z_]+)"')
_SETTINGS: tuple[str, bool] | None = None
OWN_HEADERS = {
    h.lower().encode() for h in (API_VERSION_HEADER, KB_VERSION_HEADER, REQUEST_ID_HEADER, "traceparent", "tracestate")
}

requests_log = logging.getLogger("medtech.requests")
requests_log.setLevel(logging.INFO)
requests_log.propagate = False  # our own line on stderr, not the root logger's format


def set_logging(log_format: str | None, bodies: bool = False) -> None:
    """Log requests in `log_format` ("json", or "text": no line of ours) from now on, in this process and the
    workers it starts (None: read the environment again)."""
    global _SETTINGS
    if log_format is None:
        _SETTINGS = None
        return
    if log_format not in LOG_FORMATS:
        raise ValueError(f"unknown log format {log_format!r} (choose from {', '.join(LOG_FORMATS)})")
    os.environ[LOG_FORMAT_ENV], os.environ[LOG_BODIES_ENV] = log_format, "1" if bodies else ""
    _SETTINGS = (log_format, bodies)


def log_settings() -> tuple[str, bool]:
    """(log format, log bodies) of this process: `set_logging`'s, else the environment's (read once)."""
    global _SETTINGS
    if _SETTINGS is None:
        _SETTINGS = (os.environ.get(LOG_FORMAT_ENV) or "text", bool(os.environ.get(LOG_BODIES_ENV)))
    return _SETTINGS


def _ensure_handler() -> None:
    if not requests_log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        requests_log.addHandler(handler)


def _route(scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    if path:
        return path
    return scope["path"] if scope["path"] in ("/v1/decisions",) else "unmatched"  # the fast path has no route


def _body_text(chunks: list[bytes], size: int, media: str) -> str:
    data = b"".join(chunks)
    if not ("json" in media or media.startswith("text/") or "yaml" in media or not media):
        return f"<{size} bytes of {media}>"
    text = data[:BODY_LOG_LIMIT].decode("utf-8", errors="replace")
    return text + (f"… <{size} bytes in all>" if size > BODY_LOG_LIMIT else "")


@dataclass
class Seen:
    """What a request's answer showed of itself, for the metrics and the log line."""

    status: int = 500
    decision: str | None = None
    media: str = ""
    size: int = 0
    first: bytes = b""


class CorrelationMiddleware:
    """Versions, request id, trace context, the digest pin, metrics and the request log (module docstring)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        log_format, log_bodies = log_settings()
        wanted = {b"x-request-id": None, b"traceparent": None, b"tracestate": None, b"x-knowledge-base-digest": None}
        for name, value in scope["headers"]:
            if name in wanted and wanted[name] is None:
                wanted[name] = value
        rid = wanted[b"x-request-id"]
        if rid is None or not REQUEST_ID_PATTERN.match(rid):
            rid = uuid.uuid4().hex.encode()
        kb_digest = cached_digest() or await on_engine(digest)
        version = cached_kb_version() or await on_engine(kb_version)
        extra = [*version_headers(version), (b"x-request-id", rid)]
        trace = wanted[b"traceparent"]
        trace_id = None
        if trace is not None and (m := TRACEPARENT_PATTERN.match(trace)):
            trace_id = m.group(1).decode()
            extra.append((b"traceparent", trace))
            state = wanted[b"tracestate"]
            if state is not None and TRACESTATE_PATTERN.match(state):
                extra.append((b"tracestate", state))
        seen = Seen()
        request_chunks: list[bytes] = []
        response_chunks: list[bytes] = []
        request_size = 0

        async def receive_logged():
            nonlocal request_size
            message = await receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
                request_size += len(body)
                if request_size - len(body) < BODY_LOG_LIMIT:
                    request_chunks.append(body)
            return message

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                seen.status = message["status"]
                headers = [h for h in message.get("headers", []) if h[0].lower() not in OWN_HEADERS]
                for name, value in headers:
                    if name == b"x-decision-id":
                        seen.decision = value.decode("latin-1")
                    elif name == b"content-type":
                        seen.media = value.decode("latin-1").split(";")[0].strip()
                message = {**message, "headers": headers + extra}
            elif message["type"] == "http.response.body":
                body = message.get("body", b"")
                if not seen.size:
                    seen.first = body  # a decision's whole body (the verdict may come last)
                if log_bodies and seen.size < BODY_LOG_LIMIT:
                    response_chunks.append(body)
                seen.size += len(body)
            await send(message)

        try:
            pinned = wanted[b"x-knowledge-base-digest"]
            if pinned is not None and _unprefixed(pinned.decode("latin-1")) != _unprefixed(kb_digest):
                extra.append((DIGEST_HEADER.lower().encode(), kb_digest.encode("latin-1")))  # the app never answers
                await json_response(
                    {
                        "errors": [
                            {
                                "path": DIGEST_HEADER,
                                "message": f"this service answers with knowledge base {kb_digest} (version {version}), "
                                f"not the pinned {pinned.decode('latin-1')!r}",
                            }
                        ],
                        "knowledge_base": {"digest": kb_digest, "version": version},
                    },
                    412,
                )(scope, receive, send_with_headers)
            else:
                await self.app(scope, receive_logged if log_bodies else receive, send_with_headers)
        finally:
            if not scope.get(INTERNAL):  # the service's own calls (engine.service.inprocess) are not counted
                self.record(
                    scope,
                    started,
                    seen,
                    rid,
                    trace_id,
                    kb_digest,
                    log_format,
                    log_bodies,
                    request_chunks,
                    request_size,
                    response_chunks,
                )

    @staticmethod
    def record(
        scope,
        started,
        seen,
        rid,
        trace_id,
        kb_digest,
        log_format,
        log_bodies,
        request_chunks,
        request_size,
        response_chunks,
    ) -> None:
        """The metrics and the log line of one answered request."""
        seconds = time.perf_counter() - started
        route = _route(scope)
        observe(route, scope["method"], seen.status, seconds)
        if log_format == "json":
            line = {
                "time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
                "request_id": rid.decode(),
                "trace_id": trace_id,
                "method": scope["method"],
                "route": route,
                "path": scope["path"],
                "status": seen.status,
                "latency_ms": round(seconds * 1000, 3),
                "bytes": seen.size,
                "decision_id": seen.decision,
                "digest": kb_digest,
                "verdict_action": _verdict_action(seen.first, seen.media),
            }
            if log_bodies:
                line["request_body"] = _body_text(request_chunks, request_size, _header(scope, b"content-type"))
                line["response_body"] = _body_text(response_chunks, seen.size, seen.media)
            _ensure_handler()
            requests_log.info(dumps_text(line))


@lru_cache(maxsize=4)
def version_headers(kb_version: str) -> tuple[tuple[bytes, bytes], ...]:
    """The `X-API-Version` and `X-Knowledge-Base-Version` headers, raw, in that order."""
    return (
        (API_VERSION_HEADER.lower().encode(), api_version().encode()),
        (KB_VERSION_HEADER.lower().encode(), kb_version.encode("latin-1")),
    )


def _unprefixed(value: str) -> str:
    return value.strip().removeprefix("sha256:")


def _header(scope, name: bytes) -> str:
    for n, v in scope["headers"]:
        if n == name:
            return v.decode("latin-1").split(";")[0].strip()
    return ""


def _verdict_action(first: bytes, media: str) -> str | None:
    """The action of the verdict of a JSON decision answer (its first body chunk: all of it), or None."""
    if media != "application/json" or b'"decision_id":' not in first[:256]:  # a decision (its id near the top)
        return None
    m = _VERDICT_ACTION.search(first)
    return m.group(1).decode() if m else None
