"""Reading what a client sends: the request body (size limit, JSON, nesting depth) and dates in
the query string. Anything unacceptable raises an `ApiError` (400, 413 or 422)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import Request

from engine.errors import MalformedInput
from engine.requestio import MAX_DEPTH, MAX_REQUEST_BYTES, loads_json
from engine.service.errors import error

MAX_BODY = MAX_REQUEST_BYTES    # 1 MiB
# a valid request nests 4 levels; deeper JSON is refused up front (MAX_DEPTH, engine.requestio)


def _depth_exceeds(value: Any, limit: int) -> bool:
    """True when `value` nests containers more than `limit` levels (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            v = v.values()
        elif not isinstance(v, list):
            continue
        if d > limit:
            return True
        stack.extend((c, d + 1) for c in v if isinstance(c, (dict, list)))
    return False


def parse_json(body: bytes) -> Any:
    """Decode a request body: 400 for anything that is not one well-formed JSON value."""
    if not body.strip():
        raise error(400, "malformed JSON: empty body")
    try:
        data = loads_json(body)
    except ValueError as exc:  # MalformedInput; UnicodeDecodeError for bytes that are not UTF-8
        message = str(exc) if isinstance(exc, MalformedInput) else f"malformed JSON: not UTF-8 ({exc.reason})"
        raise error(400, message) from None
    if _depth_exceeds(data, MAX_DEPTH):
        raise error(422, f"nested more than {MAX_DEPTH} levels deep")
    return data


async def read_json(request: Request) -> Any:
    """The body as JSON; 413 when it exceeds 1 MiB (by Content-Length or by what arrives; the
    body is read to its end first, so that the client sees the answer: engine.service.limits)."""
    from engine.service.limits import read_body
    return parse_json(await read_body(request, MAX_BODY))


def parse_as_of(value: str | None, path: str = "as_of") -> dt.date | None:
    """A `YYYY-MM-DD` query parameter inside the supported dates as a date (None when absent);
    422 for anything else."""
    if value is None:
        return None
    from engine.inference.request import parse_date
    try:
        return parse_date(value)
    except ValueError as exc:
        raise error(422, str(exc), path) from None
