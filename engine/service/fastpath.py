"""A shorter way through the service for `POST /v1/decisions`, the hot route.

The route's work is small next to the framework's (route matching over every route, dependency
solving for the `quotes` parameter, the exception middleware): this ASGI middleware answers the
common form of the request itself, with the same functions the route uses (`read_json`,
`decide_as`, `api_error_handler`), so status, headers and body are the route's to the byte.
Anything else (another query string, method or path) goes through the application as before.
It sits inside the digest and CORS middleware, which still wrap every answer.
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
# the query strings the fast path understands: none, or `quotes` with one of its values
_QUOTES = {b"": "all", b"quotes=all": "all", b"quotes=once": "once", b"quotes=none": "none"}
# a JSON answer to a body of at most this many bytes is decided inline when the engine thread is idle
# (engine.service.worker.on_engine_short): a fraction of a millisecond; larger bodies (up to 100 events) and
# the other formats (PDF, Word, spreadsheets) go to the engine thread, so the event loop never stalls long; so
# does every decision until the warm-up has loaded the knowledge base (loading it, or failing to, takes seconds)
SHORT_BODY = 16 * 1024


class DecisionFastPath:
    """Answers `POST /v1/decisions` (with no query string or a plain `quotes=…`) without the router."""

    def __init__(self, app, answer=decide_as):
        self.app = app
        self.answer = answer  # (data, fmt, quotes) -> (status, body, media type, headers), as the route calls

    async def __call__(self, scope, receive, send):
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] != PATH
            or scope.get("root_path")
            or (quotes := _QUOTES.get(scope.get("query_string", b""))) is None
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            fmt = negotiated_format(request.headers.get("accept"), DECISION_MEDIA)  # 406 for an Accept we cannot meet
            data = await read_json(request)
            short = fmt == "json" and _declared_size(scope) <= SHORT_BODY and is_warm()
            run = on_engine_short if short else on_engine
            status, body, media, headers = await run(self.answer, data, fmt, quotes)
            response = Response(body, status_code=status, media_type=media, headers=headers)
        except ApiError as exc:
            response = await api_error_handler(request, exc)
        await response(scope, receive, send)


def _declared_size(scope) -> int:
    """The body size the request's Content-Length declares (a huge number when there is none or it is not a number)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else 1 << 62
    return 1 << 62
