"""A shorter way through the service for `POST /v1/decisions`, the hot route.

The route's work is small next to the framework's (route matching over every route, dependency
solving for the `quotes` parameter, the exception middleware): this ASGI middleware answers the
common form of the request itself, with the same functions the route uses (`read_json`,
`decide_as`, `api_error_handler`), so status, headers and body are the route's to the byte.
Anything else (another query string, method or path) goes through the application as before.
It sits inside the digest and CORS middleware, which still wrap every answer. The common JSON form
is answered before all of them by engine.service.hotroute; this path answers what that one leaves
to the stack (other formats, YAML, a digest pin, CORS configured …).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from engine.service.decisions import decide_as
from engine.service.errors import ApiError, api_error_handler
from engine.service.input import read_json
from engine.service.kb_access import is_warm
from engine.service.semantics import DECISION_MEDIA, negotiated_format
from engine.service.worker import on_engine, on_engine_short

PATH = "/v1/decisions"
# the query parameters the fast path understands (any other query string goes through the route)
_QUOTES = {b"all": "all", b"once": "once", b"none": "none"}
_TRACE = {b"true": True, b"false": False, b"1": True, b"0": False}
# a JSON answer to a body of at most this many bytes is decided inline when the engine thread is idle
# (engine.service.worker.on_engine_short): a fraction of a millisecond; larger bodies (up to 100 events) and
# the other formats (PDF, Word, spreadsheets) go to the engine thread, so the event loop never stalls long; so
# does every decision until the warm-up has loaded the knowledge base (loading it, or failing to, takes seconds)
SHORT_BODY = 16 * 1024


class DecisionFastPath:
    """Answers `POST /v1/decisions` (with no query string, or plain `quotes=…` and `trace=…`) without the router."""

    def __init__(self, app, answer=decide_as):
        self.app = app
        self.answer = answer  # (data, fmt, quotes, trace) -> (status, body, media type, headers), as the route calls

    async def __call__(self, scope, receive, send):
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] != PATH
            or scope.get("root_path")
            or (options := query_options(scope.get("query_string", b""))) is None
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            fmt = negotiated_format(request.headers.get("accept"), DECISION_MEDIA)  # 406 for an Accept we cannot meet
            data = await read_json(request)
            short = fmt == "json" and _declared_size(scope) <= SHORT_BODY and is_warm()
            run = on_engine_short if short else on_engine
            status, body, media, headers = await run(self.answer, data, fmt, *options)
            response = Response(body, status_code=status, media_type=media, headers=headers)
        except ApiError as exc:
            response = await api_error_handler(request, exc)
        await response(scope, receive, send)


def query_options(query: bytes) -> tuple[str, bool] | None:
    """(quotes, trace) from a query string of at most one `quotes` and one `trace` with plain values; None for any
    other query string (the route answers it, 422 included)."""
    quotes, trace = "all", True
    if not query:
        return quotes, trace
    seen = set()
    for part in query.split(b"&"):
        name, _, value = part.partition(b"=")
        if name in seen:
            return None
        seen.add(name)
        if name == b"quotes" and value in _QUOTES:
            quotes = _QUOTES[value]
        elif name == b"trace" and value in _TRACE:
            trace = _TRACE[value]
        else:
            return None
    return quotes, trace


def _declared_size(scope) -> int:
    """The body size the request's Content-Length declares (a huge number when there is none or it is not a number)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else 1 << 62
    return 1 << 62
