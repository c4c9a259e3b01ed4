"""The ASGI middleware around the HTTP service: the knowledge-base digest header on every
response, and a generic 500 for any exception that escapes a route."""

from __future__ import annotations

import logging

from engine.service.errors import json_response
from engine.service.kb_access import cached_digest, digest
from engine.service.worker import on_engine

log = logging.getLogger("engine.service.app")

DIGEST_HEADER = "X-Knowledge-Base-Digest"


class DigestHeaderMiddleware:
    """Adds `X-Knowledge-Base-Digest` to every response and turns any escaped exception into a
    generic 500 (logged; no internals in the body)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        # the first time, on the engine thread: loading the knowledge base is the engine's business
        value = (cached_digest() or await on_engine(digest)).encode("latin-1")

        async def send_with_header(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [h for h in message.get("headers", []) if h[0].lower() != DIGEST_HEADER.lower().encode()]
                headers.append((DIGEST_HEADER.lower().encode(), value))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_header)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            await json_response({"errors": [{"path": "", "message": "internal server error"}]}, 500)(
                scope, receive, send_with_header
            )
