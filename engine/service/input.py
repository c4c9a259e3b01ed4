"""Reading what a client sends: the request body (size limit, JSON, nesting depth) and dates in
the query string. Anything unacceptable raises an `ApiError` (400, 413 or 422)."""
from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from fastapi import Request

from engine.service.errors import error

MAX_BODY = 1024 * 1024          # 1 MiB
MAX_DEPTH = 64                  # a valid request nests 4 levels; deeper JSON is refused up front
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


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
        data = json.loads(body, parse_constant=_reject_constant)
    except RecursionError:
        raise error(400, "malformed JSON: nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise error(400, f"malformed JSON: {exc}") from None
    if _depth_exceeds(data, MAX_DEPTH):
        raise error(422, f"nested more than {MAX_DEPTH} levels deep")
    return data


async def read_json(request: Request) -> Any:
    """The body as JSON; 413 when it exceeds 1 MiB (by Content-Length or by what arrives)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise error(400, "invalid Content-Length header") from None
        if size > MAX_BODY:
            raise error(413, f"request body of {size} bytes exceeds the limit of {MAX_BODY} bytes (1 MiB)")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise error(413, f"request body exceeds the limit of {MAX_BODY} bytes (1 MiB)")
        chunks.append(chunk)
    return parse_json(b"".join(chunks))


def parse_as_of(value: str | None, path: str = "as_of") -> dt.date | None:
    """A `YYYY-MM-DD` query parameter as a date (None when absent); 422 for anything else."""
    if value is None:
        return None
    try:
        if not _DATE_RE.match(value):
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise error(422, f"{value!r} is not a valid date (expected YYYY-MM-DD, a day that exists)", path) from None
