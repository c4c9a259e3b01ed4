"""Reading a request from outside safely: size, syntax and shape, before anything looks inside.

Whatever a caller sends (HTTP body, CLI file, batch line, `--highlight` file, a dict given to
`decide()`), these checks run first and are cheap and bounded, so that no input can make the
engine recurse without end, expand a YAML alias graph, echo a value that cannot be encoded, or
spend its time on a list of 150,000 errors:

- `read_capped` reads at most `MAX_REQUEST_BYTES` (the HTTP service's body limit) from a file
  or stream; `/dev/zero` stops at once.
- `load_request_text` parses JSON or YAML. YAML anchors and aliases are refused before anything
  is constructed (requests have no use for them; an alias bomb or a self-reference would
  otherwise be expanded or recursed on); JSON nested too deeply or holding an integer too long
  to convert is refused with a message, not a RecursionError or ValueError.
- `structure_errors` walks the parsed value iteratively (no recursion) and names the path of
  anything that is not plain JSON data: mapping keys that are not text (YAML `{1: 2}`),
  YAML-only values (`!!binary`, `!!set`, timestamps), text with lone surrogates (`"\\ud800"`),
  control characters other than a tab or noncharacters (engine.textsafe: user text is data),
  integers beyond 64 bits, nesting deeper than `MAX_DEPTH`, arrays longer than `MAX_ITEMS` and more than `MAX_VALUES`
  values in all (shared or cyclic references are counted each time they are reached, so the
  walk stops early on a cycle or an expanded bomb).
- `cap_errors` keeps the first `MAX_ERRORS` problems and says how many more there were.
- `show` writes a value into a message: bounded, surrogates escaped, huge integers described.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import IO, Any

from engine.errors import InputTooLarge, MalformedInput
from engine.textsafe import describe, escape_unsafe, unsafe_char

MAX_REQUEST_BYTES = 1024 * 1024  # 1 MiB: the HTTP body limit, and the CLI's
MAX_DEPTH = 64  # a valid request nests 4 levels
MAX_ITEMS = 100  # the longest array a request may hold (events: maxItems in the request schema)
MAX_VALUES = 10_000  # values (of any kind) in one request; a valid one has a few hundred at most
MAX_ERRORS = 100  # problems listed in one answer; the rest are counted

_SURROGATE = re.compile("[\ud800-\udfff]")
_SCALARS = (str, bool, int, float, type(None))


# --------------------------------------------------------------------------- messages


def show(value: Any, limit: int = 60) -> str:
    """`value` as it may appear in a message: repr, at most `limit` characters, lone surrogates
    escaped (the message must stay encodable), integers too long to print described instead."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    try:
        text = repr(value)
    except ValueError:  # e.g. an integer past sys.get_int_max_str_digits inside a container
        return f"a {type(value).__name__}"
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _key_path(key: str) -> str:
    """A mapping key as a path segment, lone surrogates escaped."""
    return key.encode("utf-8", "backslashreplace").decode("utf-8") if _SURROGATE.search(key) else key


def _path(link: tuple | None) -> str:
    """The dotted path of a value from its link `(parent link, key or index)` (None: the top)."""
    parts: list[str] = []
    while link is not None:
        link, segment = link
        parts.append(_key_path(segment) if isinstance(segment, str) else str(segment))
    return ".".join(reversed(parts))


def _unsafe_message(ch: str) -> str:
    return f"contains {describe(ch)}: text may not hold control characters or noncharacters"


def cap_errors(errors: list[dict], limit: int = MAX_ERRORS) -> list[dict]:
    """The first `limit` problems, plus one entry counting the rest when there are more."""
    if len(errors) <= limit:
        return errors
    more = len(errors) - limit
    return errors[:limit] + [
        {"path": "", "message": f"… and {more} more problem(s) not listed (only the first {limit} are)"}
    ]


# --------------------------------------------------------------------------- reading


def read_capped(stream: IO[bytes], name: str, limit: int = MAX_REQUEST_BYTES) -> bytes:
    """At most `limit` bytes from a binary stream; InputTooLarge when there is more."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise InputTooLarge(f"{name}: larger than {limit} bytes ({limit // 1024} KiB); a request is far smaller")
    return data


class _Duplicates(dict):
    """A mapping whose text gave some keys more than once (`duplicates`); structure_errors names them."""

    duplicates: list[str]


def _repeated(keys: list) -> list:
    """The keys that occur more than once in `keys`, each once, in order."""
    seen: set = set()
    out = []
    for k in keys:
        if k in seen and k not in out:
            out.append(k)
        seen.add(k)
    return out


def _mapping(pairs: list) -> dict:
    """A JSON object from its (key, value) pairs, keeping track of a key given twice."""
    data = dict(pairs)
    if len(data) != len(pairs):
        data = _Duplicates(data)
        data.duplicates = _repeated([k for k, _ in pairs])
    return data


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def loads_json(text: str | bytes):
    """JSON text -> value; ValueError (MalformedInput) with a readable message for anything else,
    including nesting too deep for the parser and integers too long to convert."""
    try:
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_mapping)
    except RecursionError:
        raise MalformedInput("malformed JSON: nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise MalformedInput(f"malformed JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except ValueError as exc:  # an integer of 4,300+ digits, NaN/Infinity
        message = str(exc)
        if "integer string conversion" in message:
            message = "an integer with too many digits"
        raise MalformedInput(f"malformed JSON: {message}") from None


def _yaml_aliases(text: str) -> str | None:
    """Where the first YAML anchor or alias is (`line L, column C`), or None; parses events only,
    so nothing is constructed or expanded."""
    import yaml

    from engine.yamlio import _Loader

    loader = _Loader(text)
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                mark = event.start_mark
                return f"line {mark.line + 1}, column {mark.column + 1}"
    finally:
        loader.dispose()
    return None


def _yaml_mapping(loader, node):
    import yaml

    keys = [k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)]
    data: dict = {}
    if len(set(keys)) != len(keys):
        data = _Duplicates()
        data.duplicates = _repeated(keys)
    yield data
    data.update(loader.construct_mapping(node))


def load_request_yaml(text: str):
    """YAML text of a request -> its value (dates stay strings); a key given twice in one mapping is
    kept track of, for structure_errors to name (PyYAML alone keeps the last silently)."""
    import yaml

    from engine.yamlio import _Loader

    global _REQUEST_LOADER
    if _REQUEST_LOADER is None:
        _REQUEST_LOADER = type("_RequestLoader", (_Loader,), {})
        _REQUEST_LOADER.add_constructor("tag:yaml.org,2002:map", _yaml_mapping)
    return yaml.load(text, Loader=_REQUEST_LOADER)


_REQUEST_LOADER: Any = None


def loads_yaml(text: str):
    """YAML text -> value, refusing anchors and aliases; MalformedInput says what and where."""
    import yaml

    try:
        where = _yaml_aliases(text)
        if where:
            raise MalformedInput(
                f"YAML anchors and aliases (&name, *name) are not accepted in a request ({where}); write the values out"
            )
        return load_request_yaml(text)
    except MalformedInput:
        raise
    except RecursionError:
        raise MalformedInput("malformed YAML: nested too deeply") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).split("\n")[0]
        raise MalformedInput(f"malformed YAML: {problem}{where}") from None
    except ValueError as exc:  # e.g. an integer too long to convert
        message = "an integer with too many digits" if "integer string conversion" in str(exc) else str(exc)
        raise MalformedInput(f"malformed YAML: {message}") from None


def load_request_text(raw: bytes | str):
    """One request written as JSON or YAML (UTF-8, a byte-order mark allowed) -> its value.

    Raises MalformedInput for text that is empty, not UTF-8, not JSON/YAML, or uses YAML aliases.
    """
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise MalformedInput(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    else:
        text = raw
    if not text.strip():
        raise MalformedInput("empty input: expected one request (JSON or YAML)")
    if text.lstrip()[:1] in "{[":
        try:
            return loads_json(text)
        except MalformedInput as exc:
            json_error = exc
        try:  # YAML flow style such as {institution: {jurisdiction: hunan}}
            return loads_yaml(text)
        except MalformedInput as exc:
            if "anchors and aliases" in str(exc):
                raise
            raise json_error from None
    return loads_yaml(text)


# --------------------------------------------------------------------------- shape


def _kind(value: Any) -> str:
    if isinstance(value, bytes):
        return "binary data (YAML !!binary)"
    if isinstance(value, (set, frozenset)):
        return "a set (YAML !!set)"
    if isinstance(value, tuple):
        return "a list of pairs (YAML !!omap or !!pairs)"
    if isinstance(value, (dt.date, dt.datetime)):
        return "a timestamp"
    if isinstance(value, bool) or value is None:
        return "true/false/null"
    if isinstance(value, (int, float)):
        return "a number"
    return f"a {type(value).__name__}"


def structure_errors(
    data: Any,
    *,
    max_depth: int = MAX_DEPTH,
    max_items: int = MAX_ITEMS,
    max_values: int = MAX_VALUES,
    dates: bool = True,
    found_dates: list | None = None,
) -> list[dict]:
    """Problems that make `data` unfit to be validated as a request, as {path, message}; empty
    when it is plain JSON data of reasonable size. Iterative and bounded by `max_values`.

    `dates=True` lets `datetime.date` values through (the Python API accepts them for dates);
    each one found is appended to `found_dates` when it is given.
    """
    errors: list[dict] = []
    # a value's path is built only when it has a problem: each entry links to its parent's
    stack: list[tuple[Any, tuple | None, int]] = [(data, None, 0)]
    seen = 0
    while stack:
        value, link, depth = stack.pop()
        seen += 1
        if seen > max_values:
            errors.append({"path": "", "message": f"more than {max_values} values in one request"})
            break
        if isinstance(value, dict):
            if depth >= max_depth:
                errors.append({"path": _path(link), "message": f"nested more than {max_depth} levels deep"})
                continue
            if type(value) is _Duplicates:
                errors.extend(
                    {"path": _path((link, k)), "message": "given more than once (a field may appear only once)"}
                    for k in value.duplicates
                )
            for key, child in value.items():
                if not isinstance(key, str):
                    path = _path(link)
                    errors.append(
                        {
                            "path": f"{path}.{show(key)}" if path else show(key),
                            "message": f"field names must be text, not {_kind(key)} ({show(key)})",
                        }
                    )
                    continue
                if (bad := unsafe_char(key)) is not None:
                    errors.append(
                        {"path": _path((link, escape_unsafe(key))), "message": "the field name " + _unsafe_message(bad)}
                    )
                    continue
                if not key.isascii() and _SURROGATE.search(key):
                    errors.append(
                        {
                            "path": _path((link, key)),
                            "message": "the field name contains a lone surrogate (not valid Unicode text)",
                        }
                    )
                    continue
                stack.append((child, (link, key), depth + 1))
        elif isinstance(value, list):
            if depth >= max_depth:
                errors.append({"path": _path(link), "message": f"nested more than {max_depth} levels deep"})
                continue
            if len(value) > max_items:
                errors.append({"path": _path(link), "message": f"at most {max_items} items (got {len(value)})"})
                continue
            stack.extend((child, (link, i), depth + 1) for i, child in enumerate(value))
        elif isinstance(value, str):
            if not value.isascii() and _SURROGATE.search(value):
                errors.append(
                    {
                        "path": _path(link),
                        "message": "contains a lone surrogate such as \\ud800 (not valid Unicode text)",
                    }
                )
            elif (bad := unsafe_char(value)) is not None:
                errors.append({"path": _path(link), "message": _unsafe_message(bad)})
        elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 63:
            errors.append(
                {"path": _path(link), "message": f"{show(value)} is too large (no field takes a number beyond 64 bits)"}
            )
        elif isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                errors.append({"path": _path(link), "message": f"{value!r} is not a JSON number"})
        elif isinstance(value, _SCALARS):
            continue
        elif dates and type(value) in (dt.date, dt.datetime):
            if found_dates is not None:
                found_dates.append(value)
        else:
            errors.append(
                {
                    "path": _path(link),
                    "message": f"{_kind(value)} is not allowed (a request holds only text, numbers, "
                    "true/false, null, lists and mappings)",
                }
            )
    errors.sort(key=lambda e: e["path"])
    return errors
