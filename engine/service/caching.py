"""ETags and Cache-Control for what only changes with the knowledge base or the code (ASGI middleware).

For `GET` (and `HEAD`) of documents, provisions, catalogues, flowcharts, the register, `/openapi.json`
and the page's static files, the ETag is computed before anything is built: a hash of the knowledge
base's digest, the API version, this code (a hash of the `engine` package's files, taken once), the
request (path, query, Accept) and the day in China (answers that default `as_of` to today change with
it). `If-None-Match` naming it is answered 304 at once, without building the answer; otherwise the
answer gets the ETag and `Cache-Control: no-cache` (a cache keeps it and asks again, getting a 304
while nothing changed). Static files keep their own ETag and Cache-Control; a matching
`If-None-Match` gets a 304 for them too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from engine.service.apiversion import api_version
from engine.service.kb_access import cached_digest, digest
from engine.service.worker import on_engine

CACHED_PREFIXES = (
    "/v1/documents",
    "/v1/catalogs",
    "/v1/flowcharts",
    "/v1/register",
    "/openapi.json",
    "/static/",
    "/static-docs/",
    "/provisions",
)
CACHE_CONTROL = b"no-cache"
_CHINA = ZoneInfo("Asia/Shanghai")
_PACKAGE = Path(__file__).resolve().parent.parent  # engine/


@lru_cache(maxsize=1)
def code_digest() -> str:
    """A hash of the engine package's files (code, templates, static files): a new release changes every ETag."""
    h = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(str(path.relative_to(_PACKAGE)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def cacheable(scope) -> bool:
    """True for a GET or HEAD of a path whose answer depends only on the knowledge base, the code and the request."""
    return scope["method"] in ("GET", "HEAD") and scope["path"].startswith(CACHED_PREFIXES)


def etag_for(scope, kb_digest: str) -> bytes:
    """The strong ETag of this request's answer (see the module docstring)."""
    accept = b""
    for name, value in scope["headers"]:
        if name == b"accept":
            accept = value
    today = dt.datetime.now(_CHINA).date().isoformat()
    parts = [kb_digest, api_version(), code_digest(), today, scope["path"]]
    key = "\0".join(parts).encode() + b"\0" + scope.get("query_string", b"") + b"\0" + accept
    return b'"' + hashlib.sha256(key).hexdigest()[:32].encode() + b'"'


def matches(if_none_match: bytes, etag: bytes) -> bool:
    """Whether an If-None-Match value names `etag` (weak comparison, as RFC 9110 asks for GET)."""
    if if_none_match.strip() == b"*":
        return True
    bare = etag.removeprefix(b"W/")
    return any(t.strip().removeprefix(b"W/") == bare for t in if_none_match.split(b","))


class CachingMiddleware:
    """ETag, Cache-Control and 304 (module docstring)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not cacheable(scope):
            await self.app(scope, receive, send)
            return
        if_none_match = None
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                if_none_match = value
        ours = etag_for(scope, cached_digest() or await on_engine(digest))
        if if_none_match is not None and matches(if_none_match, ours):
            await _not_modified(send, [(b"etag", ours), (b"cache-control", CACHE_CONTROL)])
            return
        dropped = False

        async def send_tagged(message):
            nonlocal dropped
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                own = next((v for n, v in headers if n == b"etag"), None)
                if message["status"] == 200 and own is None:
                    headers.append((b"etag", ours))
                    if not any(n == b"cache-control" for n, _ in headers):
                        headers.append((b"cache-control", CACHE_CONTROL))
                elif (
                    message["status"] == 200
                    and own is not None
                    and if_none_match is not None
                    and matches(if_none_match, own)
                ):
                    dropped = True  # a static file the client has: 304 instead of its bytes
                    kept = [(n, v) for n, v in headers if n in (b"etag", b"cache-control", b"last-modified")]
                    await _not_modified(send, kept)
                    return
                message = {**message, "headers": headers}
            elif dropped:
                return
            await send(message)

        await self.app(scope, receive, send_tagged)


async def _not_modified(send, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": 304, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
