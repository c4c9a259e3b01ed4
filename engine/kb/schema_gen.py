"""Generate the published JSON Schemas (request, response, rules) from kb/vocabulary.yaml.

The schemas are committed under kb/schema/ (the HTTP service publishes them in its OpenAPI
document); `medtech kb schemas` rewrites them and a test fails when they drift.
"""
from __future__ import annotations

import json

from engine.kb.vocabulary import vocabulary
from engine.paths import SCHEMA_DIR

DRAFT = "https://json-schema.org/draft/2020-12/schema"
DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$", "format": "date"}
CITE_REF = {"type": "string", "pattern": r"^[a-z0-9-]+:[a-z0-9_]+$", "description": "document:eid"}


def _digits(lo: int, hi: int) -> str:
    return str(lo) if lo == hi else f"[{lo}-{hi}]"


def year_pattern(first: int, last: int) -> str:
    """A regular expression (no anchors) matching exactly the four-digit years first..last:
    1949..2099 -> `(?:1949|19[5-9][0-9]|20[0-9][0-9])`."""
    parts = []
    y = first
    while y <= last:
        if y % 100 == 0 and y + 99 <= last:                       # a whole century
            parts.append(f"{y // 100:02d}[0-9][0-9]")
            y += 100
        elif y % 10 == 0 and y + 9 <= last:                       # whole decades up to the century's end
            end = min(last - (last + 1) % 10 if (last + 1) % 10 else last, y - y % 100 + 99)
            d0, d1 = (y % 100) // 10, (end % 100) // 10
            parts.append(f"{y // 100:02d}{_digits(d0, d1)}[0-9]")
            y = y - y % 100 + d1 * 10 + 10
        else:                                                     # the years left in this decade
            end = min(last, y - y % 10 + 9)
            parts.append(f"{y // 10:03d}{_digits(y % 10, end % 10)}")
            y = end + 1
    return "(?:" + "|".join(parts) + ")"


def request_date() -> dict:
    """A request date: YYYY-MM-DD, a day that exists, inside the supported years (kb/vocabulary.yaml)."""
    first, last = vocabulary().supported_dates()
    years = year_pattern(int(first[:4]), int(last[:4]))
    return {"type": "string", "pattern": rf"^{years}-\d{{2}}-\d{{2}}$", "format": "date",
            "description": f"YYYY-MM-DD, a day that exists, from {first} to {last}"}


def _obj(properties: dict, required: list[str] | None = None, **extra) -> dict:
    out = {"type": "object", "additionalProperties": False, "properties": properties}
    if required:
        out["required"] = required
    out.update(extra)
    return out


def request_schema() -> dict:
    v = vocabulary()
    return {
        "$schema": DRAFT,
        "$id": "https://medtech-rules.example/schema/request.schema.json",
        "title": "Decision request",
        **_obj(
            {
                "as_of": {**request_date(), "description": "the day the question is asked (YYYY-MM-DD, from "
                          + " to ".join(vocabulary().supported_dates()) + "); default today in Asia/Shanghai"},
                "institution": _obj(
                    {
                        "jurisdiction": {"type": "string", "enum": v.jurisdiction_spellings()},
                        "name": {"type": "string", "maxLength": 200},
                        "category": {"type": "string", "enum": v.ids("institution_categories")},
                        "level": {"enum": [1, 2, 3, None], "description": "1, 2, 3, or null for ungraded"},
                        "tcm": {"type": "boolean"},
                    },
                    ["jurisdiction"],
                ),
                "technology": _obj(
                    {
                        "name": {"type": "string", "minLength": 1, "maxLength": 200},
                        "code": {"type": "string", "minLength": 1, "maxLength": 40},
                        "surgery_grade": {"type": "integer", "minimum": 1, "maximum": 4},
                        "first_in_institution": {"type": "boolean"},
                        "first_in_jurisdiction": {"type": "boolean"},
                        "major_ethical_risk": {"type": "boolean"},
                        "unapproved_product": {"type": "boolean"},
                        "prohibited_grounds": {
                            "type": "array",
                            "uniqueItems": True,
                            "items": {"type": "string", "enum": v.ids("prohibited_grounds")},
                        },
                        "in_use_since": request_date(),
                        "radiation": {"type": "boolean"},
                    },
                    anyOf=[{"required": ["name"]}, {"required": ["code"]}],
                ),
                "events": {
                    "type": "array",
                    "maxItems": 100,
                    "items": _obj(
                        {
                            "type": {"type": "string", "enum": v.ids("event_types")},
                            "date": request_date(),
                            "note": {"type": "string", "maxLength": 500},
                        },
                        ["type", "date"],
                    ),
                },
            },
            ["institution"],
        ),
    }


def _citation() -> dict:
    return _obj(
        {
            "document": {"type": "string"},
            "eid": {"type": "string"},
            "label": {"type": "string"},
            "quote": {"type": "string"},
        },
        ["document", "eid", "label", "quote"],
    )


def _deadline() -> dict:
    base = {
        "kind": {"type": "string"},
        "days": {"type": "integer"},
        "months": {"type": "integer"},
        "event": {"type": "string"},
        "date": {"type": ["string", "null"]},
        "text": {"type": "string"},
        "due": {"type": ["string", "null"]},
        "provisional": {"type": "boolean"},
        "citations": {"type": "array", "items": _citation()},
    }
    alt = _obj(dict(base), ["kind", "text"])
    return _obj({**base, "alternatives": {"type": "array", "items": alt}}, ["kind", "text"])


def response_schema() -> dict:
    v = vocabulary()
    citation = _citation()
    obligation = _obj(
        {
            "id": {"type": "string"},
            "action": {"type": "string", "enum": v.ids("actions")},
            "actor": {"type": "string", "enum": v.ids("actors")},
            "addressee": {"type": ["string", "null"], "enum": v.ids("addressees") + [None]},
            "summary": {"type": "string"},
            "due": {"type": ["string", "null"]},
            "deadline": {"anyOf": [_deadline(), {"type": "null"}]},
            "status": {"type": "string", "enum": v.ids("statuses")},
            "materials": {
                "type": "array",
                "items": _obj({"id": {"type": "string"}, "text": {"type": "string"}, "citations": {"type": "array", "items": citation}}, ["id", "text"]),
            },
            "citations": {"type": "array", "minItems": 1, "items": citation},
            "consequences": {
                "type": "array",
                "items": _obj({"citations": {"type": "array", "items": citation}, "text": {"type": "string"}}, ["citations", "text"]),
            },
            "rules": {"type": "array", "items": {"type": "string"}},
        },
        ["id", "action", "actor", "addressee", "summary", "due", "deadline", "status", "materials", "citations", "consequences"],
    )
    listing = _obj(
        {
            "catalog": {"type": "string"},
            "code": {"type": "string"},
            "name": {"type": "string"},
            "scope": {"type": "string", "enum": ["national", "provincial"]},
            "grades": {"type": ["array", "null"], "items": {"type": "integer"}},
            "citation": {"anyOf": [citation, {"type": "null"}]},
        },
        ["catalog", "code", "name", "scope"],
    )
    return {
        "$schema": DRAFT,
        "$id": "https://medtech-rules.example/schema/response.schema.json",
        "title": "Decision response",
        **_obj(
            {
                "as_of": DATE,
                "jurisdiction": _obj({"id": {"type": "string"}, "name": {"type": "string"}}, ["id", "name"]),
                "knowledge_base": _obj({"version": {"type": "string"}, "digest": {"type": "string"}}, ["version", "digest"]),
                "documents": {
                    "type": "array",
                    "items": _obj(
                        {
                            "id": {"type": "string"},
                            "title": {"type": "string"},
                            "status": {"type": "string", "enum": v.ids("document_statuses")},
                        },
                        ["id", "status"],
                    ),
                },
                "technology": {
                    "anyOf": [
                        {"type": "null"},
                        _obj(
                            {
                                "query": {"type": ["string", "null"]},
                                "id": {"type": ["string", "null"]},
                                "name": {"type": ["string", "null"]},
                                "class": {"type": "string", "enum": v.ids("technology_classes")},
                                "listings": {"type": "array", "items": listing},
                                "candidates": {"type": "array", "items": {"type": "object"}},
                                "citations": {"type": "array", "items": citation},
                            },
                            ["query", "id", "name", "class", "listings"],
                        ),
                    ]
                },
                "obligations": {"type": "array", "items": obligation},
                "authority_actions": {"type": "array", "items": obligation},
                "warnings": {
                    "type": "array",
                    "items": _obj({"code": {"type": "string", "enum": v.ids("warning_codes")}, "message": {"type": "string"}}, ["code", "message"]),
                },
                "missing_facts": {
                    "type": "array",
                    "items": _obj({"path": {"type": "string"}, "question": {"type": "string"}, "why": {"type": "string"}}, ["path", "question", "why"]),
                },
                "trace": {
                    "type": "array",
                    "items": _obj(
                        {"rule": {"type": "string"}, "stage": {"type": "string"}, "facts": {"type": "object"}, "citations": {"type": "array", "items": citation}},
                        ["rule", "facts", "citations"],
                    ),
                },
            },
            ["as_of", "jurisdiction", "knowledge_base", "documents", "technology", "obligations", "authority_actions", "warnings", "missing_facts", "trace"],
        ),
    }


def _condition_defs() -> dict:
    leaf_ops = {
        "eq": {}, "ne": {}, "in": {"type": "array"}, "not_in": {"type": "array"},
        "gte": {"type": "number"}, "lte": {"type": "number"}, "gt": {"type": "number"}, "lt": {"type": "number"},
        "present": {"type": "boolean"},
        "before": {"$ref": "#/$defs/dateref"}, "on_or_after": {"$ref": "#/$defs/dateref"},
    }
    leaf = _obj({"fact": {"type": "string", "pattern": r"^[a-z_]+(\.[a-z_]+)*$"}, **leaf_ops}, ["fact"], minProperties=2, maxProperties=2)
    return {
        "condition": {
            "oneOf": [
                leaf,
                _obj({"all": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/condition"}}}, ["all"]),
                _obj({"any": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/condition"}}}, ["any"]),
                _obj({"not": {"$ref": "#/$defs/condition"}}, ["not"]),
            ]
        },
        "dateref": {
            "oneOf": [
                DATE,
                _obj({"document": {"type": "string"}, "date": {"enum": ["published", "in_force_from", "in_force_until"]}}, ["document", "date"]),
            ]
        },
    }


def rules_schema() -> dict:
    v = vocabulary()
    deadline = _obj(
        {
            "kind": {
                "enum": [
                    "working_days_after", "working_days_before", "months_after", "months_before",
                    "immediately", "same_day", "before_event", "on_date", "months_after_document",
                    "quarter_first_week", "half_year_end", "none",
                ]
            },
            "days": {"type": "integer", "minimum": 0},
            "months": {"type": "integer", "minimum": 0},
            "event": {"type": "string", "enum": v.ids("event_types")},
            "date": {"$ref": "#/$defs/dateref"},
            "text": {"type": "string", "minLength": 1},
            "cite": {"type": "array", "items": CITE_REF},
        },
        ["kind", "text"],
    )
    material = _obj({"id": {"type": "string"}, "text": {"type": "string", "minLength": 1}, "cite": CITE_REF}, ["id", "text", "cite"])
    rule = _obj(
        {
            "id": {"type": "string", "pattern": r"^[a-z]+\.[a-z0-9-]+$"},
            "stage": {"enum": ["classify", "obligation", "authority"]},
            "summary": {"type": "string", "minLength": 1},
            "when": {"$ref": "#/$defs/condition"},
            "class": {"type": "string", "enum": v.ids("technology_classes")},
            "act": {"type": "string", "pattern": r"^[a-z0-9-]+$"},
            "action": {"type": "string", "enum": v.ids("actions")},
            "actor": {"type": "string", "enum": v.ids("actors")},
            "addressee": {"type": ["string", "null"], "enum": v.ids("addressees") + [None]},
            "deadline": deadline,
            "done_by": {"type": "string", "enum": v.ids("event_types")},
            "materials": {"type": "array", "items": material},
            "replaces_materials_of": {"type": "array", "items": {"type": "string"}},
            "citations": {"type": "array", "minItems": 1, "items": CITE_REF},
            "consequences": {
                "type": "array",
                "items": _obj({"cite": {"type": "array", "minItems": 1, "items": CITE_REF}, "text": {"type": "string", "minLength": 1}}, ["cite", "text"]),
            },
            "relation": _obj(
                {"kind": {"enum": ["twin", "adds_to", "narrows", "overrides", "sets_deadline", "broadens"]}, "rule": {"type": "string"}, "note": {"type": "string"}},
                ["kind", "rule"],
            ),
            "flow": _obj(
                {
                    "chart": {"enum": ["filing", "incident"]},
                    "step": {"type": "string"},
                    "after": {"type": "array", "items": {"type": "string"}},
                },
                ["chart", "step"],
            ),
            "note": {"type": "string"},
        },
        ["id", "stage", "summary", "when", "citations"],
        allOf=[
            {"if": {"properties": {"stage": {"const": "classify"}}}, "then": {"required": ["class"]}},
            {"if": {"properties": {"stage": {"enum": ["obligation", "authority"]}}}, "then": {"required": ["act", "action", "actor", "addressee", "deadline"]}},
        ],
    )
    unencoded = _obj({"eid": {"type": "string"}, "reason": {"type": "string", "minLength": 3}}, ["eid", "reason"])
    return {
        "$schema": DRAFT,
        "$id": "https://medtech-rules.example/schema/rules.schema.json",
        "title": "Rules encoding one source document",
        "$defs": _condition_defs(),
        **_obj(
            {
                "document": {"type": "string"},
                "rules": {"type": "array", "items": rule},
                "not_duties": {"type": "array", "items": unencoded},
            },
            ["document", "rules"],
            patternProperties={"^x-": {"description": "YAML anchors shared by the rules (e.g. liability texts)"}},
        ),
    }


GENERATED = {"request": request_schema, "response": response_schema, "rules": rules_schema}


def render(name: str) -> str:
    """The text of one generated schema file."""
    return json.dumps(GENERATED[name](), ensure_ascii=False, indent=2) + "\n"


def write_all() -> list[str]:
    """Rewrite every generated schema under kb/schema/; returns the files written."""
    written = []
    for name in GENERATED:
        path = SCHEMA_DIR / f"{name}.schema.json"
        path.write_text(render(name), encoding="utf-8")
        written.append(str(path))
    return written
