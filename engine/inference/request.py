"""Validate a decision request against the published schema and normalise it.

Every problem is reported at once as `{path, message}` (contract section 3); nothing is guessed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from engine.errors import InvalidRequest
from engine.kb.schemas import load_schema, schema_errors
from engine.kb.vocabulary import Jurisdiction, vocabulary
from engine.requestio import cap_errors, show, structure_errors
from engine.textsafe import LINE_PATTERN, TEXT_PATTERN, describe, unsafe_char

CHINA = ZoneInfo("Asia/Shanghai")
_DATE_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Event:
    type: str
    date: dt.date
    index: int


@dataclass
class Request:
    """A validated request with typed values."""

    as_of: dt.date
    jurisdiction: Jurisdiction
    institution: dict
    technology: dict | None
    events: list[Event] = field(default_factory=list)
    raw: dict = field(default_factory=dict)


def today_in_china() -> dt.date:
    return dt.datetime.now(CHINA).date()


def _jsonable(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def canonical(req: Request) -> dict:
    """The request as answered: its JSON form with the institution normalised (jurisdiction id, default
    category), `as_of` filled in and without the caller's `id`; two requests with the same canonical form get
    the same answer (but for the echoed `id`)."""
    raw = {k: v for k, v in req.raw.items() if k != "id"}  # the caller's label for the request, not the question
    return {**raw, "institution": req.institution, "as_of": req.as_of.isoformat()}


def date_message(value: str) -> str:
    """Why `value` is not an acceptable request date: outside the supported years, or no date at all."""
    first, last = vocabulary().supported_dates()
    shown = show(value)
    if _DATE_SHAPE.match(value) and not first[:4] <= value[:4] <= last[:4]:
        return f"{shown} is outside the supported dates ({first} to {last})"
    return f"{shown} is not a valid date (expected YYYY-MM-DD, a day that exists, from {first} to {last})"


def parse_date(value: str) -> dt.date:
    """A YYYY-MM-DD string inside the supported dates as a date; ValueError with `date_message` otherwise."""
    first, last = vocabulary().supported_dates()
    if isinstance(value, str) and _DATE_SHAPE.match(value) and first <= value <= last:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(date_message(value if isinstance(value, str) else str(value)))


def _message(err) -> str:
    path = ".".join(str(p) for p in err.absolute_path)
    if err.validator == "enum" and path == "institution.jurisdiction":
        ids = ", ".join(j.id for j in vocabulary().jurisdictions)
        return f"{show(err.instance)} is not a supported jurisdiction (supported: {ids}, or their Chinese names)"
    if err.validator == "enum":
        return f"{show(err.instance)} is not allowed (allowed: {', '.join('null' if v is None else str(v) for v in err.validator_value)})"
    if (
        err.validator == "pattern"
        and err.validator_value in (TEXT_PATTERN, LINE_PATTERN)
        and isinstance(err.instance, str)
    ):
        bad = unsafe_char(err.instance, tab=err.validator_value == TEXT_PATTERN) or ""
        return f"contains {describe(bad[:1] or chr(9))}: this field may not hold control characters or noncharacters"
    if err.validator in ("format", "pattern") and isinstance(err.instance, str):
        return date_message(err.instance)
    if err.validator in ("minimum", "maximum") and path.endswith("surgery_grade"):
        return f"{show(err.instance)} is outside 1 to 4"
    if (err.validator == "anyOf" and path == "technology") or (
        err.validator == "required" and path == "technology" and "'code'" in err.message
    ):
        return "give the technology's name or its catalogue code (or leave technology out)"
    if err.validator == "type":
        return f"{show(err.instance)} is not of type {err.validator_value}"
    return err.message


_FAST: Any = None  # a jsonschema_rs validator, False when unavailable, None before the first try


def _fast_validator():
    """jsonschema-rs compiled from the same published schema: ~100x faster for the common,
    valid request. Invalid requests still go through jsonschema for complete messages."""
    global _FAST
    if _FAST is None:
        try:
            import jsonschema_rs

            _FAST = jsonschema_rs.validator_for(load_schema("request"), validate_formats=True)
        except Exception:  # noqa: BLE001 - optional accelerator; the Python validator is authoritative
            _FAST = False
    return _FAST


def request_errors(data) -> list[dict]:
    """Every contract violation in `data` as {path, message}; empty when valid.

    The shape is checked first (engine.requestio: plain JSON data, bounded depth, array
    lengths and size, encodable text); only then is the schema validated. At most
    `MAX_ERRORS` problems are listed, then a count of the rest."""
    return _errors(data)[0]


@lru_cache(maxsize=1)
def _ids_by_spelling() -> dict[str, str]:
    v = vocabulary()
    return {s: v.jurisdiction(s).id for s in v.jurisdiction_spellings()}


def _jurisdiction_as_id(data: dict) -> dict:
    """`data` with an alias of its jurisdiction (a Chinese name) replaced by the id (a copy; the schema lists ids
    only, its `x-aliases` the other spellings)."""
    inst = data.get("institution")
    if not isinstance(inst, dict) or not isinstance(spelling := inst.get("jurisdiction"), str):
        return data
    jid = _ids_by_spelling().get(spelling)
    if jid is None or jid == spelling:
        return data
    return {**data, "institution": {**inst, "jurisdiction": jid}}


def _errors(data) -> tuple[list[dict], dict | None]:
    """(problems, the request with dates as ISO strings, or None when its shape is unfit)."""
    if not isinstance(data, dict):
        return [{"path": "", "message": "a request must be a JSON object"}], None
    found_dates: list = []
    shape = structure_errors(data, found_dates=found_dates)
    if shape:
        return cap_errors(shape), None
    if found_dates:  # dates given as date objects (the Python API) become ISO strings, as JSON gives them
        data = _jsonable(data)
    data = _jurisdiction_as_id(data)
    fast = _fast_validator()
    if fast and fast.is_valid(data):
        return [], data
    out = schema_errors("request", data, message=_message, formats=True)
    # pattern and format may both fire on one date, with the same message
    unique = list({(e["path"], e["message"]): e for e in out}.values())
    return cap_errors(unique), data


def _province(spelling: str, jurisdiction) -> str:
    """The province's full name (kb/vocabulary.yaml `provinces`), checked against the jurisdiction.

    With `national` the province must be one whose rules are not encoded: for an encoded one the national
    floor alone would leave out the duties its own documents add (ask with its jurisdiction instead).
    With a provincial jurisdiction the province must be that jurisdiction's: one institution is in one
    province, and which documents apply depends on it."""
    vocab = vocabulary()
    entry = next(p for p in vocab.raw.get("provinces") or [] if spelling in (p["name"], p["short"]))
    encoded = entry.get("jurisdiction")
    if jurisdiction.level == "national":
        if encoded:
            other = vocab.jurisdiction(encoded)
            raise InvalidRequest(
                [
                    {
                        "path": "institution.province",
                        "message": f"{entry['name']}'s own documents are encoded: give institution.jurisdiction "
                        f"{other.id} ({other.name}) instead of {jurisdiction.id} with this province",
                    }
                ]
            )
    elif encoded != jurisdiction.id:
        raise InvalidRequest(
            [
                {
                    "path": "institution.province",
                    "message": f"{entry['name']} is not {jurisdiction.name} (institution.jurisdiction {jurisdiction.id}): "
                    "give the jurisdiction's own province, or leave province out",
                }
            ]
        )
    return entry["name"]


def parse_request(data) -> Request:
    """Validate and type a request; raises InvalidRequest listing every problem."""
    errors, data = _errors(data)
    if errors:
        raise InvalidRequest(errors)
    inst = dict(data["institution"])
    inst.setdefault("category", "hospital")
    jurisdiction = vocabulary().jurisdiction(inst["jurisdiction"])
    inst["jurisdiction"] = jurisdiction.id
    if inst.get("province") is not None:
        inst["province"] = _province(inst["province"], jurisdiction)
    as_of = dt.date.fromisoformat(data["as_of"]) if "as_of" in data else today_in_china()
    events = [Event(e["type"], dt.date.fromisoformat(e["date"]), i) for i, e in enumerate(data.get("events") or [])]
    tech = dict(data["technology"]) if data.get("technology") is not None else None
    if tech is not None and "in_use_since" in tech:
        tech["in_use_since"] = dt.date.fromisoformat(tech["in_use_since"])
    return Request(as_of, jurisdiction, inst, tech, events, data)


def derived_request(req: Request, path: str, value) -> Request:
    """The parsed request `req` with `value` given at the technique's field `path` (technology.<field>): what
    parse_request(with_answer(req.raw, path, value)) gives for a field the parse copies as it is."""
    name = path.split(".", 1)[1]
    raw_tech = dict(req.raw.get("technology") or {})
    raw_tech[name] = value
    assert req.technology is not None  # an answer about the technique is given to a request that names one
    return replace(req, technology={**req.technology, name: value}, raw={**req.raw, "technology": raw_tech})
