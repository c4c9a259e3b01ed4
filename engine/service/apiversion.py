"""The HTTP API's semantic version (engine/service/api_version.yaml) and the contract digest that
docs/api-changelog.md records with each version.

The API version is separate from the knowledge base's: the knowledge base changes what the answers
say, the API what they look like. The contract digest covers what a client generator types from the
published schemas (kb/schema/request.schema.json, response.schema.json and /openapi.json): names,
types, enums, required members, paths, parameters and media types; not descriptions, summaries or
examples, which change without changing any client.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

from engine.jsonout import dumps_canonical
from engine.yamlio import load_yaml

VERSION_FILE = Path(__file__).resolve().parent / "api_version.yaml"
API_VERSION_HEADER = "X-API-Version"
_SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
# members that describe without typing: left out of the contract digest
_PROSE = frozenset({"description", "summary", "title", "example", "examples", "x-enum-descriptions", "x-description"})


@lru_cache(maxsize=1)
def api_version() -> str:
    """The API version, X.Y.Z."""
    value = str(load_yaml(VERSION_FILE).get("version", ""))
    if not _SEMVER.match(value):
        raise ValueError(f"{VERSION_FILE}: version must be X.Y.Z (got {value!r})")
    return value


@lru_cache(maxsize=1)
def _inventory() -> frozenset:
    """The ids the knowledge base lists (jurisdictions, documents): enums of these are data, not API."""
    from engine.kb.vocabulary import vocabulary

    v = vocabulary()
    return frozenset([j.id for j in v.jurisdictions] + list(v.documents) + ["all"])


def _typed(node):
    if isinstance(node, dict):
        enum = node.get("enum")
        if isinstance(enum, list) and enum and {e for e in enum if e is not None} <= _inventory():
            # a jurisdiction or document enum grows with the knowledge base (a province added as YAML alone):
            # its values are data, recorded in CHANGELOG.md, and clients accept new ones (docs/api-compatibility.md)
            node = {k: v for k, v in node.items() if k not in ("enum", "x-aliases")} | {"enum": "kb-inventory"}
        return {k: _typed(v) for k, v in node.items() if k not in _PROSE}
    if isinstance(node, list):
        return [_typed(v) for v in node]
    return node


def contract_digest(request_schema: dict, response_schema: dict, openapi: dict) -> str:
    """sha256 of what generated clients depend on in the three published documents (prose and examples
    left out; `info` too, whose version is what an entry records)."""
    openapi = {k: v for k, v in openapi.items() if k != "info"}
    text = dumps_canonical(_typed({"request": request_schema, "response": response_schema, "openapi": openapi}))
    return "sha256:" + hashlib.sha256(text).hexdigest()


def published_contract_digest() -> str:
    """The contract digest of what this checkout publishes: kb/schema/request.schema.json, response.schema.json
    and the service's /openapi.json."""
    import json

    from engine.paths import SCHEMA_DIR
    from engine.service.app import app, openapi_document

    app.openapi_schema = None
    schemas = [
        json.loads((SCHEMA_DIR / f"{n}.schema.json").read_text(encoding="utf-8")) for n in ("request", "response")
    ]
    return contract_digest(schemas[0], schemas[1], json.loads(json.dumps(openapi_document())))
