"""The hot route: `POST /v1/decisions` in its common form, answered before the framework (raw ASGI).

`engine.service.app.ServiceApp` hands every `POST /v1/decisions` to `HotRoute` before FastAPI, Starlette
or any middleware sees it. `HotRoute` answers the common form itself, with the bytes the whole stack
(CORS > HttpSemantics > Compression > Correlation > Digest > Caching > DecisionFastPath) would give: the
same status, the same headers in the same order, the same body, and the same `/metrics` figures and
request log line. What it does not take falls through, untouched, to the stack:

- a `root_path`, a query string other than plain `quotes=` / `trace=` (engine.service.fastpath), the
  service's own in-process calls (engine.service.inprocess);
- an `Accept` that asks for anything but JSON (text, Markdown, CSV, calendar, Word, or a 406);
- a Content-Type other than JSON (YAML, or a 415), a Content-Length that is missing, not plain digits
  or over the 1 MiB limit (413), a request header the route reads given twice;
- `X-Knowledge-Base-Digest` (a digest pin: 412 when it differs), `--log-bodies` (MEDTECH_LOG_BODIES: the
  request body in the log line), and every request while CORS is configured (starlette's CORS middleware
  then adds `Vary: Origin` to every answer, with or without an `Origin`);
- a body that is not read in full in one go from the client (a disconnect), or that `orjson` refuses,
  or that `orjson` and the standard library's parser (engine.requestio.loads_json, which the stack uses)
  might read differently or that might nest deeper than `MAX_DEPTH` (see `_parse`): the stack then
  answers it, 400 or 422, with its own message;
- every request until the knowledge base's digest and version are known (the warm-up), and every
  request when OpenTelemetry is configured for FastAPI's own request spans.

What it does itself, as the stack does: `X-Request-Id` (the caller's when valid, else a new
`uuid4().hex`), `traceparent` / `tracestate` echoed, compression by `Accept-Encoding`
(engine.service.transport's `compress` and headers), the security headers (engine.service.semantics),
the digest and version headers, the inline-or-engine-thread choice of engine.service.fastpath, and the
metrics and JSON log line of engine.service.correlation (its `record`). The headers that do not change
from one request to the next are built once, when the digest and version are first known.

`MEDTECH_HOT_ROUTE=0` (read once, at import) leaves every request to the stack.
"""

from __future__ import annotations

import logging
import os
import time
import uuid

import orjson

from engine.requestio import MAX_DEPTH
from engine.service.correlation import (
    OWN_HEADERS,
    REQUEST_ID_PATTERN,
    TRACEPARENT_PATTERN,
    TRACESTATE_PATTERN,
    CorrelationMiddleware,
    Seen,
    log_settings,
    version_headers,
)
from engine.service.cors import cors_origins
from engine.service.errors import ApiError, api_error_handler, json_response
from engine.service.fastpath import SHORT_BODY, query_options
from engine.service.inprocess import INTERNAL
from engine.service.input import MAX_BODY, depth_exceeds
from engine.service.kb_access import cached_digest, cached_kb_version, is_warm
from engine.service.middleware import DIGEST_HEADER
from engine.service.semantics import declares_json, with_security_headers
from engine.service.transport import MIN_SIZE, choose_encoding, compress, compressible, encoded_headers
from engine.service.worker import on_engine, on_engine_short

log = logging.getLogger("engine.service.app")  # the digest middleware's logger: the same line for a 500

PATH = "/v1/decisions"
ENV = "MEDTECH_HOT_ROUTE"
_DIGEST = DIGEST_HEADER.lower().encode()
# the request headers some layer of the stack reads on this route; any other header changes nothing
_READ = frozenset(
    {
        b"content-type",
        b"content-length",
        b"accept",
        b"accept-encoding",
        b"x-request-id",
        b"traceparent",
        b"tracestate",
        b"x-knowledge-base-digest",
    }
)
# headers of the route's own answer that a layer above it drops or replaces (then the general path is taken)
_REPLACED = frozenset(
    {
        _DIGEST,
        *OWN_HEADERS,
        b"x-content-type-options",
        b"x-frame-options",
        b"referrer-policy",
        b"content-security-policy",
    }
)
_HEADER_NAMES = {"Vary": b"vary", "X-Decision-Id": b"x-decision-id"}
_VALUES = {"Accept": b"Accept"}
_JSON_MEDIA = b"application/json"
_DIGITS = bytes(0x30 if 0x30 <= i <= 0x39 else 0x20 for i in range(256))  # digits -> "0", the rest -> " "
_LONG_NUMBER = b"0" * 19  # 19 digits in a row: maybe an integer past 64 bits (orjson reads those as floats)
_MEMO_SIZE = 64


def enabled_by_environment() -> bool:
    """False when MEDTECH_HOT_ROUTE is 0, false, no or off (read once, at start-up)."""
    return os.environ.get(ENV, "1").strip().lower() not in ("0", "false", "no", "off")


class _Frame:
    """What does not change between answers while the knowledge base stays: built once."""

    __slots__ = ("digest", "version", "digest_bytes", "middle", "tail")

    def __init__(self, digest: str, version: str):
        self.digest, self.version = digest, version
        self.digest_bytes = digest.encode("latin-1")
        # the digest middleware's header, then the correlation middleware's version headers
        self.middle = [(_DIGEST, self.digest_bytes), *version_headers(version)]
        # what HttpSemantics appends to an answer that has none of its headers
        self.tail = with_security_headers([])


class HotRoute:
    """`POST /v1/decisions` in its common form, answered as the stack answers it (module docstring).

    `fallback` is the whole application (the ASGI callable to defer to); `answer` is called as the route
    calls `decide_as`: (data, "json", quotes, trace) -> (status, body, media type, headers)."""

    def __init__(self, fallback, answer, telemetry=None):
        self.fallback = fallback
        self.answer = answer
        self.telemetry = telemetry  # () -> bool: FastAPI's request spans are on (checked once, with the frame)
        self._frame: _Frame | None | bool = None  # False: never (telemetry on)
        self._accept: dict[bytes, str | None] = {}
        self._content_type: dict[bytes, bool] = {}
        self._encoding: dict[bytes, str | None] = {}

    def frame(self) -> _Frame | None:
        digest, version = cached_digest(), cached_kb_version()
        frame = self._frame
        if frame is False or digest is None or version is None:
            return None
        if frame is None or frame.digest is not digest or frame.version is not version:  # type: ignore[union-attr]
            if frame is None and self.telemetry is not None and self.telemetry():
                self._frame = False
                return None
            frame = self._frame = _Frame(digest, version)
        return frame  # type: ignore[return-value]

    async def __call__(self, scope, receive, send):
        started = time.perf_counter()
        if (
            scope.get("root_path")
            or INTERNAL in scope
            or (options := query_options(scope.get("query_string", b""))) is None
            or (frame := self.frame()) is None
        ):
            await self.fallback(scope, receive, send)
            return
        log_format, log_bodies = log_settings()
        if log_bodies:
            await self.fallback(scope, receive, send)
            return
        seen: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            if name in _READ:
                if name in seen:
                    await self.fallback(scope, receive, send)
                    return
                seen[name] = value
        declared = seen.get(b"content-length")
        if (
            declared is None
            or not declared.isdigit()
            or int(declared) > MAX_BODY
            or b"x-knowledge-base-digest" in seen
            or cors_origins()
            or not self._json_body(seen.get(b"content-type"))
            or self._format(seen.get(b"accept")) != "json"
        ):
            await self.fallback(scope, receive, send)
            return
        size = int(declared)
        encoding = self._choose_encoding(seen.get(b"accept-encoding"))

        # the body, in full (one message as a rule); anything unusual is replayed to the stack
        message = await receive()
        received = [message]
        if message["type"] != "http.request":
            await self._fall_through(scope, receive, send, received)
            return
        body = message.get("body", b"")
        if len(body) > MAX_BODY:
            await self._fall_through(scope, receive, send, received)
            return
        if message.get("more_body", False):
            chunks = [body]
            total = len(body)
            while True:
                message = await receive()
                received.append(message)
                if message["type"] != "http.request":
                    await self._fall_through(scope, receive, send, received)
                    return
                chunk = message.get("body", b"")
                total += len(chunk)
                if total > MAX_BODY:
                    await self._fall_through(scope, receive, send, received)
                    return
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
            body = b"".join(chunks)
        data = _parse(body)
        if data is _REFUSED:
            await self._fall_through(scope, receive, send, received)
            return

        # from here on the request is this route's: answered, counted and logged as the stack does
        rid = seen.get(b"x-request-id")
        if rid is None or not REQUEST_ID_PATTERN.match(rid):
            rid = uuid.uuid4().hex.encode()
        extra = [(b"x-request-id", rid)]
        trace_id = None
        trace = seen.get(b"traceparent")
        if trace is not None and (m := TRACEPARENT_PATTERN.match(trace)):
            trace_id = m.group(1).decode()
            extra.append((b"traceparent", trace))
            state = seen.get(b"tracestate")
            if state is not None and TRACESTATE_PATTERN.match(state):
                extra.append((b"tracestate", state))
        result = Seen()
        try:
            try:
                run = on_engine_short if size <= SHORT_BODY and is_warm() else on_engine
                status, content, media, headers = await run(self.answer, data, "json", *options)
                raw = _route_headers(status, content, media, headers)
            except ApiError as exc:  # as DecisionFastPath answers it
                response = await api_error_handler(None, exc)  # type: ignore[arg-type]  # the handler ignores the request
                status, content, raw = response.status_code, bytes(response.body), list(response.raw_headers)
            except Exception:  # as the digest middleware answers it
                log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
                response = json_response({"errors": [{"path": "", "message": "internal server error"}]}, 500)
                status, content, raw = response.status_code, bytes(response.body), list(response.raw_headers)
            if any(name in _REPLACED for name, _ in raw):
                head = _stacked_headers(raw, frame, extra)  # what each layer does, one by one
            else:
                head = raw + frame.middle + extra
            result.status = status
            for name, value in raw:
                if name == b"x-decision-id":
                    result.decision = value.decode("latin-1")
                elif name == b"content-type":
                    result.media = value.decode("latin-1").split(";")[0].strip()
            result.first, result.size = content, len(content)
            if encoding is not None and len(content) >= MIN_SIZE and status not in (204, 304) and compressible(head):
                content = compress(content, encoding)
                head = encoded_headers(head, encoding, len(content))
            if any(name in _REPLACED for name, _ in raw):
                head = with_security_headers(head)
            else:
                head += frame.tail
            await send({"type": "http.response.start", "status": status, "headers": head})
            await send({"type": "http.response.body", "body": content})
        finally:
            CorrelationMiddleware.record(
                scope, started, result, rid, trace_id, frame.digest, log_format, False, [], 0, []
            )

    async def _fall_through(self, scope, receive, send, received: list) -> None:
        """The stack answers, reading first the messages this route has already taken from the client."""

        async def replay():
            if received:
                return received.pop(0)
            return await receive()

        await self.fallback(scope, replay, send)

    def _json_body(self, value: bytes | None) -> bool:
        """Whether a Content-Type declares JSON (as engine.service.semantics.require_body_type; absent: yes)."""
        if value is None:
            return True
        return _memoized(self._content_type, value, _declares_json)

    def _format(self, value: bytes | None) -> str | None:
        """The export format an Accept asks for (engine.render.exports.format_for_accept)."""
        if value is None:
            return "json"
        return _memoized(self._accept, value, _format_for_accept)

    def _choose_encoding(self, value: bytes | None) -> str | None:
        """The encoding engine.service.transport would compress with (None: the answer as it is)."""
        if value is None:
            return None
        return _memoized(self._encoding, value, choose_encoding)


def _memoized(memo: dict, value: bytes, compute):
    """`compute` of a request header's value (decoded), kept in `memo` for the next request (its first
    `_MEMO_SIZE` values: a client cannot make it grow without end)."""
    if value in memo:
        return memo[value]
    result = compute(value.decode("latin-1"))
    if len(memo) < _MEMO_SIZE:
        memo[value] = result
    return result


def _declares_json(content_type: str) -> bool:
    return declares_json(content_type.split(";")[0].strip().lower())


def _format_for_accept(accept: str) -> str | None:
    from engine.render.exports import format_for_accept

    return format_for_accept(accept)


_REFUSED = object()


def _parse(body: bytes):
    """The body as engine.service.input.parse_json reads it, by orjson, or `_REFUSED` when the standard
    library's reading could differ or be refused (the stack then parses and answers it):

    - orjson refuses it (malformed, empty, not UTF-8, a byte-order mark, NaN, an escaped lone surrogate,
      a number out of a double's range, nesting past 1,024 levels);
    - a run of 19 digits (an integer beyond 64 bits, which orjson reads as a float), anywhere;
    - a key given twice (the standard library's reading keeps track of it, orjson keeps the last value):
      found by counting colons, those of the body against those of orjson's writing of what it read, which
      differ by the keys dropped (a colon written `\\u003a` in a string would hide one: such a body is refused);
    - more than `MAX_DEPTH` brackets in all and the exact walk finds nesting past `MAX_DEPTH` levels
      (the stack answers 422, or 400 where the standard library's parser gives up first).
    """
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _REFUSED
    if _LONG_NUMBER in body.translate(_DIGITS) or b"\\u003" in body:
        return _REFUSED
    if isinstance(data, (dict, list)):
        if body.count(b"[") + body.count(b"{") > MAX_DEPTH and depth_exceeds(data, MAX_DEPTH):
            return _REFUSED  # (first: orjson writes at most 255 levels)
        if body.count(b":") != orjson.dumps(data).count(b":"):
            return _REFUSED
    return data


def _route_headers(status: int, body: bytes, media: str, headers: dict) -> list[tuple[bytes, bytes]]:
    """The raw headers starlette's `Response(body, status, headers, media_type)` has (Response.init_headers)."""
    raw = [
        (_HEADER_NAMES.get(k) or k.lower().encode("latin-1"), _VALUES.get(v) or v.encode("latin-1"))
        for k, v in headers.items()
    ]
    if any(name in (b"content-length", b"content-type") for name, _ in raw) or media.startswith("text/"):
        from starlette.responses import Response

        return list(Response(body, status_code=status, media_type=media, headers=headers).raw_headers)
    if not (status < 200 or status in (204, 304)):
        raw.append((b"content-length", str(len(body)).encode("latin-1")))
    raw.append((b"content-type", _JSON_MEDIA if media == "application/json" else media.encode("latin-1")))
    return raw


def _stacked_headers(raw: list, frame: _Frame, extra: list) -> list:
    """The digest and correlation middleware's headers on `raw`, as those layers add them (in general)."""
    headers = [h for h in raw if h[0].lower() != _DIGEST] + [(_DIGEST, frame.digest_bytes)]
    return [h for h in headers if h[0].lower() not in OWN_HEADERS] + list(version_headers(frame.version)) + extra
