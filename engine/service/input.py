"""Reading what a client sends: the request body (size limit, JSON or YAML, nesting depth) and
dates in the query string. Anything unacceptable raises an `ApiError` (400, 413, 415 or 422).

A body is YAML when its Content-Type says so (`application/yaml`, `application/x-yaml`,
`text/yaml`); YAML is read safely: the 1 MiB limit applies, anchors and aliases are refused
(no "billion laughs"), tags other than the standard ones fail, dates stay strings, and one
document only."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import Request

from engine.errors import MalformedInput
from engine.requestio import MAX_DEPTH, MAX_REQUEST_BYTES, loads_json
from engine.service.errors import error

MAX_BODY = MAX_REQUEST_BYTES  # 1 MiB
# a valid request nests 4 levels; deeper JSON is refused up front (MAX_DEPTH, engine.requestio)


def depth_exceeds(value: Any, limit: int) -> bool:
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
        message = (
            str(exc)
            if isinstance(exc, MalformedInput)
            else f"malformed JSON: not UTF-8 ({getattr(exc, 'reason', exc)})"
        )
        raise error(400, message) from None
    if depth_exceeds(data, MAX_DEPTH):
        raise error(422, f"nested more than {MAX_DEPTH} levels deep")
    return data


YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


def parse_yaml(body: bytes) -> Any:
    """Decode a YAML request body: 400 for malformed YAML, anchors/aliases or several documents."""
    import yaml

    from engine.requestio import load_request_yaml

    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(400, f"malformed YAML: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    if not text.strip():
        raise error(400, "malformed YAML: empty body")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        documents = 0
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise error(400, "YAML anchors and aliases (&, *) are not accepted in a request")
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise error(400, "malformed YAML: one document expected, found several")
        data = load_request_yaml(text)  # keeps track of a key given twice (engine.requestio)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise error(400, f"malformed YAML: {getattr(exc, 'problem', None) or type(exc).__name__}{where}") from None
    except RecursionError:
        raise error(400, "malformed YAML: nested too deeply") from None
    except ValueError as exc:  # an integer past Python's 4,300-digit conversion limit
        message = "an integer with too many digits" if "integer string conversion" in str(exc) else str(exc)
        raise error(400, f"malformed YAML: {message}") from None
    if depth_exceeds(data, MAX_DEPTH):
        raise error(422, f"nested more than {MAX_DEPTH} levels deep")
    _json_compatible(data)
    return data


def _json_compatible(value: Any) -> None:
    """422 naming the first YAML value JSON cannot express (a non-string key, bytes, a set, NaN …)."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        v, path = stack.pop()
        if isinstance(v, dict):
            for k, child in v.items():
                if not isinstance(k, str):
                    raise error(422, f"keys must be strings (found {k!r})", path)
                stack.append((child, f"{path}.{k}" if path else k))
        elif isinstance(v, list):
            stack.extend((child, f"{path}.{i}" if path else str(i)) for i, child in enumerate(v))
        elif isinstance(v, float) and v != v or v in (float("inf"), float("-inf")):
            raise error(422, f"{v!r} is not a JSON number", path)
        elif v is not None and not isinstance(v, (str, int, float, bool)):
            raise error(422, f"a YAML {type(v).__name__} value is not accepted (JSON types only)", path)


def is_yaml(request: Request) -> bool:
    """True when the request's Content-Type is a YAML media type."""
    return (request.headers.get("content-type") or "").split(";")[0].strip().lower() in YAML_TYPES


async def read_json(request: Request) -> Any:
    """The body as JSON (or YAML, by Content-Type); 413 when it exceeds 1 MiB (by Content-Length or by
    what arrives; the body is read to its end first, so that the client sees the answer: engine.service.limits)."""
    from engine.service.limits import read_body
    from engine.service.semantics import require_body_type

    require_body_type(request)  # 415 for text/plain, XML, forms …
    body = await read_body(request, MAX_BODY)
    return parse_yaml(body) if is_yaml(request) else parse_json(body)


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
