"""JSON Schema (Draft 2020-12) loading and validation with every error located by path."""

from __future__ import annotations

import json
from functools import cache

from jsonschema import Draft202012Validator

from engine.errors import Problem
from engine.paths import SCHEMA_DIR


@cache
def load_schema(name: str) -> dict:
    """The schema `kb/schema/<name>.schema.json`, with the id lists it takes from the vocabulary.

    A hand-written schema names a list of jurisdiction or document ids by a node
    `{"x-vocabulary": "jurisdictions" | "provinces" | "documents"}`, which gets its `enum` from
    kb/vocabulary.yaml here; so adding a jurisdiction or a document edits no schema.
    """
    with open(SCHEMA_DIR / f"{name}.schema.json", encoding="utf-8") as fh:
        return _fill_vocabulary(json.load(fh))


def _fill_vocabulary(node):
    if isinstance(node, dict):
        out = {k: _fill_vocabulary(v) for k, v in node.items()}
        if isinstance(node.get("x-vocabulary"), str):
            from engine.kb.vocabulary import vocabulary

            out["enum"] = vocabulary().id_list(node["x-vocabulary"])
        return out
    if isinstance(node, list):
        return [_fill_vocabulary(v) for v in node]
    return node


@cache
def validator(name: str, formats: bool = False) -> Draft202012Validator:
    """A compiled validator for the named schema (checked against the metaschema first);
    `formats=True` also checks `format` (e.g. that a date exists)."""
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    checker = Draft202012Validator.FORMAT_CHECKER if formats else None
    return Draft202012Validator(schema, format_checker=checker)


def dotted(path) -> str:
    """`['events', 0, 'type']` -> `events.0.type`."""
    return ".".join(str(p) for p in path)


def _default_message(err) -> str:
    if err.validator == "enum":
        return f"{err.instance!r} is not one of: {', '.join(map(str, err.validator_value))}"
    return err.message


def schema_errors(name: str, data, *, message=_default_message, formats: bool = False) -> list[dict]:
    """Every violation of the named schema as `{path, message}`, sorted by path.

    For a missing required property the path names the property itself
    (`institution`), not its parent, as the contract asks; an unknown field is named by its
    own path with the allowed ones. `message(err)` words every other violation.
    """
    out = []
    for err in validator(name, formats).iter_errors(data):
        path = list(err.absolute_path)
        if err.validator == "required" and "then" in err.schema_path:
            # required only on a condition (a name, or else a code): the object is named, the message says what
            out.append({"path": dotted(path), "message": message(err)})
            continue
        if err.validator == "required":
            missing = [p for p in err.validator_value if not isinstance(err.instance, dict) or p not in err.instance]
            for prop in missing:
                out.append({"path": dotted(path + [prop]), "message": "is required"})
            continue
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = sorted((err.schema.get("properties") or {}).keys())
            extra = [k for k in err.instance if k not in allowed]
            for key in extra:
                out.append({"path": dotted(path + [key]), "message": f"unknown field (allowed: {', '.join(allowed)})"})
            continue
        out.append({"path": dotted(path), "message": message(err)})
    out.sort(key=lambda e: e["path"])
    return out


def schema_problems(name: str, data, file: str) -> list[Problem]:
    """Schema violations of a knowledge-base file as Problems (file, location, message)."""
    return [Problem(file, e["path"] or "(root)", e["message"]) for e in schema_errors(name, data)]
