"""The OpenAPI 3.1 document of the HTTP service, built from the published JSON Schemas.

kb/schema/request.schema.json and response.schema.json are embedded as the components
`DecisionRequest` and `DecisionResponse` (their `$defs` as sibling components), so the schemas
`decide()` validates against stay the single source of truth. The other bodies (errors, batch,
documents, ...) are described here; every response gets the digest header, and the path and
query parameters list the values the vocabulary and the documents accept.
"""
from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from engine.service.decisions import MAX_BATCH
from engine.service.kb_access import documents
from engine.service.middleware import DIGEST_HEADER

REF = "#/components/schemas/"
_ERROR_ITEM = {
    "type": "object", "additionalProperties": False, "required": ["path", "message"],
    "properties": {"path": {"type": "string"}, "message": {"type": "string"}},
}
_EXTRA_SCHEMAS = {
    "Errors": {
        "type": "object", "additionalProperties": False, "required": ["errors"],
        "properties": {
            "errors": {"type": "array", "items": _ERROR_ITEM},
            "available": {"type": "array", "items": {"type": "string"}, "description": "what exists (404)"},
        },
    },
    "BatchRequest": {
        "type": "object", "additionalProperties": False, "required": ["requests"],
        "properties": {"requests": {"type": "array", "maxItems": MAX_BATCH, "items": {"$ref": REF + "DecisionRequest"}}},
    },
    "BatchResponse": {
        "type": "object", "additionalProperties": False, "required": ["responses"],
        "properties": {"responses": {"type": "array", "items": {"anyOf": [
            {"$ref": REF + "DecisionResponse"}, {"$ref": REF + "Errors"}]}}},
    },
    "Health": {
        "type": "object", "required": ["status", "knowledge_base"],
        "properties": {
            "status": {"type": "string", "enum": ["ok", "error"]},
            "knowledge_base": {"type": "object", "required": ["digest"], "properties": {
                "version": {"type": "string"}, "digest": {"type": "string"}}},
            "documents": {"type": "integer"}, "rules": {"type": "integer"},
        },
    },
    "DocumentList": {
        "type": "object", "required": ["as_of", "documents"],
        "properties": {"as_of": {"type": "string", "format": "date"}, "documents": {"type": "array", "items": {
            "type": "object", "required": ["id", "title", "status"],
            "properties": {"id": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "string"}}}}},
    },
    "Document": {
        "type": "object", "required": ["id", "title", "status", "provisions"],
        "properties": {"id": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "string"},
                       "provisions": {"type": "array", "items": {"type": "object", "required": ["eid", "label", "text"]}}},
    },
    "Provision": {
        "type": "object", "required": ["document", "eid", "label", "text", "children"],
        "properties": {
            "document": {"type": "object"}, "eid": {"type": "string"}, "label": {"type": "string"},
            "heading": {"type": "string"}, "text": {"type": "string"}, "parent": {"type": ["string", "null"]},
            "children": {"type": "array", "items": {"$ref": REF + "ProvisionChild"}},
        },
    },
    "ProvisionChild": {
        "type": "object", "required": ["eid", "label", "text", "children"],
        "properties": {"eid": {"type": "string"}, "label": {"type": "string"}, "text": {"type": "string"},
                       "children": {"type": "array", "items": {"$ref": REF + "ProvisionChild"}}},
    },
    "Technologies": {
        "type": "object", "required": ["query", "jurisdiction", "as_of", "resolution"],
        "properties": {"query": {"type": "string"}, "jurisdiction": {"type": "string"},
                       "as_of": {"type": "string", "format": "date"}, "resolution": {"type": "object"},
                       "text": {"type": "string", "description": "the same, for a person (Chinese)"}},
    },
}


def json_content(name: str) -> dict:
    """An OpenAPI `content` member: `application/json` with the component `name`."""
    return {"application/json": {"schema": {"$ref": REF + name}}}


def error_responses(*codes: int) -> dict:
    """OpenAPI `responses` for error status codes, each with the `Errors` body."""
    text = {400: "Malformed JSON", 404: "Unknown document, provision or jurisdiction", 413: "Body over 1 MiB",
            422: "Invalid input: every problem with its path", 501: "Not available in this installation",
            503: "The knowledge base is invalid"}
    return {c: {"description": text.get(c, "Error"), "content": json_content("Errors")} for c in codes}


def schema_component(schema: dict, name: str) -> dict[str, dict]:
    """A published JSON Schema (2020-12) as OpenAPI 3.1 components: `$defs` become sibling
    components `<name>_<def>`, `$id`/`$schema` are dropped and every `$ref` is rewritten."""
    schema = json.loads(json.dumps(schema))
    defs = schema.pop("$defs", {}) or {}
    schema.pop("$id", None)
    schema.pop("$schema", None)

    def rewrite(node):
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if k == "$ref" and isinstance(v, str):
                    if v == "#":
                        v = REF + name
                    elif v.startswith("#/$defs/"):
                        v = f"{REF}{name}_{v[len('#/$defs/'):]}"
                out[k] = rewrite(v)
            return out
        if isinstance(node, list):
            return [rewrite(v) for v in node]
        return node

    out = {name: rewrite(schema)}
    for key, value in defs.items():
        out[f"{name}_{key}"] = rewrite(value)
    return out


def _describe_parameter(param: dict) -> None:
    """Accepted values from the vocabulary and the documents, so that the description is exact
    (an unknown value is still answered: 404 listing what exists)."""
    from engine.kb.vocabulary import vocabulary
    name, description = param["name"], param.get("schema", {}).get("description") or param.get("description")
    schema: dict[str, Any]
    if name == "as_of":
        schema = {"type": "string", "format": "date"}
    elif name == "jurisdiction":
        schema = {"type": "string", "enum": vocabulary().jurisdiction_spellings()}
    elif name == "document":
        schema = {"type": "string", "enum": sorted(documents())}
    else:
        return
    if description:
        param["description"] = description
    param["schema"] = schema


def build_openapi(app: FastAPI) -> dict:
    """The OpenAPI document of `app`, built on the first call and cached in `app.openapi_schema`."""
    if app.openapi_schema:
        return app.openapi_schema
    from engine.kb.schemas import load_schema
    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas.update(schema_component(load_schema("request"), "DecisionRequest"))
    schemas.update(schema_component(load_schema("response"), "DecisionResponse"))
    schemas.update(json.loads(json.dumps(_EXTRA_SCHEMAS)))
    # FastAPI adds its own 422 to operations with parameters; ours answer with `Errors`
    doc = json.loads(json.dumps(doc).replace('"#/components/schemas/HTTPValidationError"', f'"{REF}Errors"'))
    schemas = doc["components"]["schemas"]
    header = {DIGEST_HEADER: {"description": "digest of the knowledge base that answered", "schema": {"type": "string"}}}
    for operations in doc.get("paths", {}).values():
        for op in operations.values():
            for response in op.get("responses", {}).values():
                response.setdefault("headers", {}).update(header)
            for param in op.get("parameters", []):
                _describe_parameter(param)
    app.openapi_schema = doc
    return doc
