"""The OpenAPI 3.1 document of the HTTP service, built from the published JSON Schemas.

kb/schema/request.schema.json and response.schema.json are embedded as the components
`DecisionRequest` and `DecisionResponse` (their `$defs` as sibling components), so the schemas
`decide()` validates against stay the single source of truth. The other bodies (errors, batch,
documents, ...) are described here; every response gets the digest header, and the path and
query parameters list the values the vocabulary and the documents accept.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from engine.kb.schema_gen import LISTING_SCOPE, listing_grades
from engine.kb.vocabulary import vocabulary
from engine.service.decisions import MAX_BATCH
from engine.service.kb_access import documents
from engine.service.middleware import DIGEST_HEADER

log = logging.getLogger("engine.service.app")
REF = "#/components/schemas/"
S = {"type": "string"}
DATE = {"type": "string", "format": "date"}


def _p(schema: dict, description: str) -> dict:
    return {**schema, "description": description}


def _ref(name: str, description: str) -> dict:
    # OpenAPI 3.1: a description beside $ref is allowed and shown by the documentation tools
    return {"$ref": REF + name, "description": description}


_ERROR_ITEM = {
    "type": "object",
    "additionalProperties": False,
    "required": ["path", "message"],
    "description": "one problem",
    "properties": {
        "path": _p(
            S, "the field concerned, dotted, list positions as numbers (events.0.type); empty for the whole body"
        ),
        "message": _p(S, "what is wrong and what is allowed"),
    },
}
_PAGE = {
    "total": {"type": "integer", "description": "how many items match in all"},
    "limit": {"type": "integer", "description": "the page size asked for"},
    "offset": {"type": "integer", "description": "how many items were skipped"},
    "next_offset": {
        "type": ["integer", "null"],
        "description": "the offset of the next page, or null on the last page",
    },
}
_LISTING = {
    "type": "object",
    "description": "a catalogue entry",
    "properties": {
        "catalog": _p(S, "catalogue version id"),
        "code": _p(S, "the entry's code"),
        "name": _p(S, "the entry's name"),
        "scope": LISTING_SCOPE,
        "grades": listing_grades("surgery grades the entry is limited to; null: every grade"),
        "jurisdiction": _p(S, "the jurisdiction of the catalogue (national for the national list)"),
    },
}
_ENTRY = {
    "type": "object",
    "description": "one catalogue entry",
    "properties": {
        "code": _p(S, "the entry's code"),
        "name": _p(S, "the entry's name"),
        "technology": _p(S, "the canonical technology it maps to"),
        "grades": listing_grades("surgery grades; null: every grade"),
    },
}
_PROVISION_REF = {
    "type": "object",
    "description": "a provision",
    "properties": {"document": _p(S, "document id"), "eid": _p(S, "provision id")},
}
_CELL = {
    "type": "object",
    "description": "the act in one jurisdiction",
    "properties": {
        "summary": _p(S, "the act in Chinese"),
        "addressee": _p({"type": ["string", "null"]}, "addressee id (see DecisionResponse obligations)"),
        "addressee_name": _p({"type": ["string", "null"]}, "the addressee in Chinese"),
        "due": _p({"type": ["string", "null"], "format": "date"}, "due day, or null"),
        "status": _p(S, "status id (pending, due_today, overdue, done, immediate, to_confirm)"),
        "deadline": {
            "type": ["object", "null"],
            "description": "the deadline's kind and wording, or null",
            "properties": {
                "kind": _p({"type": ["string", "null"]}, "deadline kind"),
                "text": _p({"type": ["string", "null"]}, "the provision's wording"),
            },
        },
        "alternatives": {
            "type": "array",
            "description": "other applicable deadlines for the act",
            "items": {
                "type": "object",
                "description": "one alternative",
                "properties": {
                    "text": _p({"type": ["string", "null"]}, "wording"),
                    "due": _p({"type": ["string", "null"]}, "due day or null"),
                },
            },
        },
        "materials": {"type": "array", "items": S, "description": "the materials to submit"},
        "citations": {
            "type": "array",
            "description": "the provisions",
            "items": {
                "type": "object",
                "description": "one provision",
                "properties": {
                    "document": _p(S, "document id"),
                    "eid": _p(S, "provision id"),
                    "label": _p(S, "Chinese label"),
                },
            },
        },
    },
}
# the body of every answer other than 2xx (named so that no generated class has a member of its own name)
ERROR_SCHEMA = "ErrorResponse"
_EXTRA_SCHEMAS = {
    ERROR_SCHEMA: {
        "type": "object",
        "additionalProperties": False,
        "required": ["errors"],
        "description": "every problem with the request",
        "properties": {
            "id": _p(S, "in a batch answer: the `id` the request carried, when it carried one"),
            "errors": {"type": "array", "items": _ERROR_ITEM, "description": "the problems"},
            "available": {"type": "array", "items": {"type": "string"}, "description": "what exists (404)"},
            "knowledge_base": {
                "type": "object",
                "description": "412: the knowledge base this service answers with, instead of the pinned one",
                "required": ["digest", "version"],
                "properties": {
                    "digest": _p(S, "its digest (what X-Knowledge-Base-Digest pins)"),
                    "version": _p(S, "its version"),
                },
            },
        },
    },
    "BatchRequest": {
        "type": "object",
        "additionalProperties": False,
        "required": ["requests"],
        "description": "several decision requests",
        "properties": {
            "requests": {
                "type": "array",
                "maxItems": MAX_BATCH,
                "items": {"$ref": REF + "DecisionRequest"},
                "description": f"at most {MAX_BATCH} decision requests",
            }
        },
    },
    "BatchResponse": {
        "type": "object",
        "additionalProperties": False,
        "required": ["responses"],
        "description": "one answer per request",
        "properties": {
            "responses": {
                "type": "array",
                "description": "in the order of the requests: a response, or the request's errors",
                "items": {"anyOf": [{"$ref": REF + "DecisionResponse"}, {"$ref": REF + ERROR_SCHEMA}]},
            }
        },
    },
    "Health": {
        "type": "object",
        "required": ["status", "knowledge_base"],
        "description": "whether the service can answer",
        "properties": {
            "status": {
                "type": "string",
                "enum": ["ok", "error"],
                "x-enum-descriptions": ["正常", "知识库无效"],
                "description": "`ok` 正常, or `error` when the knowledge base is invalid",
            },
            "knowledge_base": {
                "type": "object",
                "required": ["digest"],
                "description": "the encoding answering",
                "properties": {
                    "version": _p(S, "knowledge-base version"),
                    "digest": _p(S, "sha256 digest of the encoding"),
                },
            },
            "documents": {"type": "integer", "description": "number of encoded documents"},
            "rules": {"type": "integer", "description": "number of rules"},
        },
    },
    "DocumentList": {
        "type": "object",
        "required": ["as_of", "documents"],
        "description": "the encoded source documents",
        "properties": {
            "as_of": _p(DATE, "the day the statuses are for"),
            "documents": {
                "type": "array",
                "description": "the documents",
                "items": {
                    "type": "object",
                    "required": ["id", "title", "status"],
                    "description": "one document",
                    "properties": {
                        "id": _p(S, "document id"),
                        "title": _p(S, "Chinese title"),
                        "number": _p({"type": ["string", "null"]}, "文号, or null"),
                        "jurisdiction": _p(S, "the jurisdiction it belongs to"),
                        "kind": _p(S, "kind of document"),
                        "issuer": {"type": "array", "items": S, "description": "issuing bodies"},
                        "dates": {
                            "type": "object",
                            "description": "published, in_force_from, in_force_until (each {date, precision} or null)",
                        },
                        "status": _p(S, "status on as_of: in_force, not_yet_in_force, expired, uncertain"),
                        "provisions": {"type": "integer", "description": "number of provisions"},
                    },
                },
            },
        },
    },
    "Document": {
        "type": "object",
        "required": ["id", "title", "status", "provisions"],
        "description": "one document with its provisions",
        "properties": {
            "id": _p(S, "document id"),
            "title": _p(S, "Chinese title"),
            "status": _p(S, "status on as_of"),
            "as_of": _p(DATE, "the day the status is for"),
            "outline": {"type": "array", "items": S, "description": "the top-level provision ids, in order"},
            "provisions": {
                "type": "array",
                "description": "every provision, in document order",
                "items": {
                    "type": "object",
                    "required": ["eid", "label", "text"],
                    "description": "one provision",
                    "properties": {
                        "eid": _p(S, "provision id"),
                        "label": _p(S, "Chinese label"),
                        "text": _p(S, "verbatim text"),
                        "heading": _p(S, "heading, where the document has one"),
                    },
                },
            },
        },
    },
    "Provision": {
        "type": "object",
        "required": ["document", "eid", "label", "text", "children"],
        "description": "one provision",
        "properties": {
            "document": {
                "type": "object",
                "description": "the document",
                "properties": {"id": _p(S, "document id"), "title": _p(S, "Chinese title")},
            },
            "eid": _p(S, "provision id"),
            "label": _p(S, "Chinese label (第十一条第一款)"),
            "heading": _p(S, "heading, where there is one"),
            "text": _p(S, "verbatim text"),
            "parent": _p({"type": ["string", "null"]}, "the enclosing provision's id, or null at the top"),
            "children": {
                "type": "array",
                "items": {"$ref": REF + "ProvisionChild"},
                "description": "the provisions inside it",
            },
        },
    },
    "ProvisionChild": {
        "type": "object",
        "required": ["eid", "label", "text", "children"],
        "description": "a provision inside another",
        "properties": {
            "eid": _p(S, "provision id"),
            "label": _p(S, "Chinese label"),
            "text": _p(S, "verbatim text"),
            "children": {
                "type": "array",
                "items": {"$ref": REF + "ProvisionChild"},
                "description": "the provisions inside it",
            },
        },
    },
    "Technologies": {
        "type": "object",
        "required": ["jurisdiction", "as_of", "total", "limit", "offset", "items"],
        "description": "one page of the technologies the catalogues in force list",
        "properties": {
            "query": _p({"type": ["string", "null"]}, "the search text, or null"),
            "jurisdiction": _p(S, "jurisdiction id, or all"),
            "as_of": _p(DATE, "the day the catalogues are in force"),
            **_PAGE,
            "items": {
                "type": "array",
                "description": "the technologies of this page",
                "items": {
                    "type": "object",
                    "description": "one technology",
                    "properties": {
                        "id": _p(S, "canonical technology id"),
                        "name": _p(S, "canonical Chinese name"),
                        "listings": {
                            "type": "array",
                            "items": _LISTING,
                            "description": "the entries in force that list it",
                        },
                    },
                },
            },
            "resolution": {
                "type": "object",
                "description": "with q: how the catalogues treat the name (recognised, class, listings, candidates)",
            },
            "text": _p(S, "with q: the same, for a person (Chinese)"),
        },
    },
    "SearchResults": {
        "type": "object",
        "required": ["query", "total", "items"],
        "description": "provisions containing the search words",
        "properties": {
            "query": _p(S, "the search text"),
            "documents": {"type": "array", "items": S, "description": "the documents searched"},
            **_PAGE,
            "items": {
                "type": "array",
                "description": "best first",
                "items": {
                    "type": "object",
                    "description": "one top-level provision (article, section, attachment) that matches",
                    "required": ["document", "eid", "label", "hits", "snippet", "matches"],
                    "properties": {
                        "document": _p(S, "document id"),
                        "eid": _p(S, "the top-level provision's id"),
                        "label": _p(S, "its Chinese label"),
                        "heading": _p(S, "its heading, where there is one"),
                        "hits": {"type": "integer", "description": "occurrences of the words"},
                        "phrase_hits": {
                            "type": "integer",
                            "description": "occurrences of the whole query as one phrase",
                        },
                        "snippet": _p(S, "the text around the first occurrence"),
                        "matches": {
                            "type": "array",
                            "description": "the most specific provisions that contain a word",
                            "items": {
                                "type": "object",
                                "description": "one provision",
                                "properties": {"eid": _p(S, "provision id"), "label": _p(S, "Chinese label")},
                            },
                        },
                    },
                },
            },
        },
    },
    "CompareRequest": {
        "type": "object",
        "required": ["request"],
        "additionalProperties": False,
        "description": "a case and the jurisdictions to compare",
        "properties": {
            "request": _ref(
                "DecisionRequest", "the case (its institution.jurisdiction is replaced by each jurisdiction in turn)"
            ),
            "jurisdictions": {
                "type": "array",
                "items": S,
                "description": "ids or Chinese names; default every jurisdiction",
            },
        },
    },
    "Comparison": {
        "type": "object",
        "description": "the case side by side (engine.render.compare)",
        "properties": {
            "as_of": _p(DATE, "the day asked"),
            "technology": {
                "type": "object",
                "description": "the technique asked about",
                "properties": {"query": _p({"type": ["string", "null"]}, "name or code asked")},
            },
            "jurisdictions": {
                "type": "array",
                "description": "the columns, in order",
                "items": {
                    "type": "object",
                    "description": "one jurisdiction",
                    "properties": {"id": _p(S, "jurisdiction id"), "name": _p(S, "Chinese name")},
                },
            },
            "columns": {
                "type": "object",
                "description": "per jurisdiction id: how the technique is classed there",
                "additionalProperties": {
                    "type": "object",
                    "description": "one jurisdiction's classification",
                    "properties": {
                        "class": _p({"type": ["string", "null"]}, "class id"),
                        "class_name": _p({"type": ["string", "null"]}, "class in Chinese"),
                        "technology_name": _p({"type": ["string", "null"]}, "canonical name"),
                        "listings": {"type": "array", "items": _LISTING, "description": "catalogue entries in force"},
                        "documents": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "description": "one document",
                                "properties": {"id": _p(S, "document id"), "status": _p(S, "status")},
                            },
                            "description": "documents considered",
                        },
                        "warnings": {"type": "array", "items": S, "description": "warning codes"},
                    },
                },
            },
            "class_differs": {"type": "boolean", "description": "true when the class is not the same everywhere"},
            "rows": {
                "type": "array",
                "description": "one per act",
                "items": {
                    "type": "object",
                    "description": "one act across the jurisdictions",
                    "properties": {
                        "key": _p(S, "group:id:addressee"),
                        "group": _p(S, "obligations or authority_actions"),
                        "id": _p(S, "act id"),
                        "action": _p(S, "action id"),
                        "action_name": _p(S, "action in Chinese"),
                        "summary": _p(S, "the act in Chinese"),
                        "cells": {
                            "type": "object",
                            "description": "per jurisdiction id: the act there, or null where it is not owed",
                            "additionalProperties": {"anyOf": [_CELL, {"type": "null"}]},
                        },
                        "differs": {
                            "type": "array",
                            "items": {
                                "type": "string",
                                "enum": ["present", "addressee", "deadline", "due", "status", "materials", "citations"],
                                "x-enum-descriptions": ["是否适用", "对象", "期限", "截止日", "状态", "材料", "依据"],
                            },
                            "description": "what is not the same in every jurisdiction",
                        },
                        "substantive": {
                            "type": "boolean",
                            "description": "true when something other than the citations differs",
                        },
                    },
                },
            },
            "knowledge_base": {
                "type": "object",
                "description": "which encoding answered",
                "properties": {"version": _p(S, "version"), "digest": _p(S, "digest")},
            },
        },
    },
    "CatalogsInForce": {
        "type": "object",
        "description": "the catalogue versions in force",
        "properties": {
            "jurisdiction": _p(S, "jurisdiction id, or all"),
            "as_of": _p(DATE, "the day"),
            "versions": {
                "type": "array",
                "description": "national first, then provincial",
                "items": {
                    "type": "object",
                    "description": "one catalogue version",
                    "properties": {
                        "id": _p(S, "version id"),
                        "name": _p(S, "Chinese name"),
                        "scope": _p(S, "national or provincial"),
                        "jurisdiction": _p(S, "jurisdiction id"),
                        "status": _p(S, "status on as_of"),
                        "validity": {
                            "type": "object",
                            "description": "in_force_from / in_force_until, or the governing document",
                        },
                        "citations": {
                            "type": "array",
                            "items": _PROVISION_REF,
                            "description": "provisions that publish or apply it",
                        },
                        "note": _p({"type": ["string", "null"]}, "editor's note"),
                        "entries": {"type": "array", "items": _ENTRY, "description": "its entries, in order"},
                    },
                },
            },
        },
    },
    "CatalogDiff": {
        "type": "object",
        "description": "what changed between two catalogue versions",
        "properties": {
            "earlier": {
                "type": "object",
                "description": "the earlier version (query parameter `old`)",
                "properties": {
                    "id": _p(S, "id"),
                    "name": _p(S, "name"),
                    "entries": {"type": "integer", "description": "entry count"},
                },
            },
            "later": {
                "type": "object",
                "description": "the later version (query parameter `new`)",
                "properties": {
                    "id": _p(S, "id"),
                    "name": _p(S, "name"),
                    "entries": {"type": "integer", "description": "entry count"},
                },
            },
            "added": {"type": "array", "items": _ENTRY, "description": "technologies listed only in the later version"},
            "removed": {
                "type": "array",
                "items": _ENTRY,
                "description": "technologies listed only in the earlier version",
            },
            "changed": {
                "type": "array",
                "description": "same technology, other code, name or grades",
                "items": {
                    "type": "object",
                    "description": "one change",
                    "properties": {
                        "technology": _p(S, "technology id"),
                        "earlier": _ENTRY,
                        "later": _ENTRY,
                        "fields": {
                            "type": "array",
                            "items": {
                                "type": "string",
                                "enum": ["code", "name", "grades"],
                                "x-enum-descriptions": ["编号", "名称", "手术分级"],
                            },
                            "description": "what changed",
                        },
                    },
                },
            },
            "narrowed": {
                "type": "array",
                "description": "a technology replaced by narrower ones",
                "items": {
                    "type": "object",
                    "description": "one narrowing",
                    "properties": {
                        "earlier": _ENTRY,
                        "later": {"type": "array", "items": _ENTRY, "description": "the narrower entries"},
                    },
                },
            },
            "broadened": {
                "type": "array",
                "description": "a technology replaced by broader ones",
                "items": {
                    "type": "object",
                    "description": "one broadening",
                    "properties": {
                        "earlier": _ENTRY,
                        "later": {"type": "array", "items": _ENTRY, "description": "the broader entries"},
                    },
                },
            },
            "unchanged": {"type": "integer", "description": "entries the same in both"},
        },
    },
}


def body_content(name: str) -> dict:
    """An OpenAPI request-body `content`: the component `name` as JSON or as YAML (`application/yaml`)."""
    return {"application/json": {"schema": {"$ref": REF + name}}, "application/yaml": {"schema": {"$ref": REF + name}}}


def json_content(name: str) -> dict:
    """An OpenAPI `content` member: `application/json` with the component `name`."""
    return {"application/json": {"schema": {"$ref": REF + name}}}


def error_responses(*codes: int) -> dict:
    """OpenAPI `responses` for error status codes, each with the `ErrorResponse` body."""
    text = {
        400: "Malformed JSON",
        404: "Unknown document, provision or jurisdiction",
        413: "Body over 1 MiB",
        422: "Invalid input: every problem with its path",
        501: "Not available in this installation",
        503: "The knowledge base is invalid",
    }
    return {c: {"description": text.get(c, "Error"), "content": json_content(ERROR_SCHEMA)} for c in codes}


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
                        v = f"{REF}{name}_{v[len('#/$defs/') :]}"
                out[k] = rewrite(v)
            return out
        if isinstance(node, list):
            return [rewrite(v) for v in node]
        return node

    out = {name: rewrite(schema)}
    for key, value in defs.items():
        out[f"{name}_{key}"] = rewrite(value)
    return out


_WITH_ALL = ("/v1/technologies", "/v1/catalogs/{jurisdiction}", "/v1/search")
_PARAM_EXAMPLES = {
    "as_of": "2025-03-10",
    "jurisdiction": "hunan",
    "document": "nhc-2018-1",
    "eid": "art_11__para_1",
    "format": "svg",
    "chart": "filing",
    "quotes": "once",
    "q": "伦理委员会",
    "limit": 20,
    "offset": 0,
    "surgery_grade": 3,
    "old": "national-2018",
    "new": "national-2022",
}
_PATH_EXAMPLES = {("/v1/technologies", "q"): "PCI"}


def _param_descriptions() -> dict[str, str]:
    """The default description of a parameter by name; the lists of ids from kb/vocabulary.yaml."""
    v = vocabulary()
    ids = ", ".join(j.id for j in v.jurisdictions)
    return {
        "jurisdiction": f"jurisdiction id or Chinese name ({ids}; {v.jurisdictions[-1].name} …)",
        "document": f"document id ({', '.join(v.documents)})",
        "eid": "provision eId (art_11__para_1) or its Chinese label (第十一条第一款)",
    }


_PARAM_ENUM_ZH = {
    "all": "每处引文均附原文（默认）",
    "once": "原文集中于 provisions，每条一次",
    "none": "不附原文",
    "svg": "SVG 矢量图",
    "png": "PNG 图片",
    "pdf": "PDF 文件",
    "dot": "Graphviz DOT 源文件",
    "mermaid": "Mermaid 源文本",
    "filing": "备案流程图",
    "incident": "事件处置流程图",
}


def _enum_meanings(schema: dict) -> None:
    """x-enum-descriptions for a parameter's enum (its own and those in anyOf), where missing."""
    for s in [schema, *schema.get("anyOf", [])]:
        if "enum" in s and "x-enum-descriptions" not in s:
            s["x-enum-descriptions"] = [_PARAM_ENUM_ZH.get(v, str(v)) for v in s["enum"]]


def _describe_parameter(param: dict, path: str = "") -> None:
    """Accepted values from the vocabulary and the documents, so that the description is exact
    (an unknown value is still answered: 404 listing what exists), and an example for each."""
    from engine.kb.schema_gen import jurisdiction_enum

    name = param["name"]
    description = (
        param.get("schema", {}).get("description") or param.get("description") or _param_descriptions().get(name)
    )
    example = _PATH_EXAMPLES.get((path, name), _PARAM_EXAMPLES.get(name))
    is_array = '"array"' in json.dumps(param.get("schema", {}))
    if example is not None and "example" not in param and "examples" not in param:
        param["example"] = [example] if is_array else example
    schema: dict[str, Any]
    if name == "as_of":
        schema = {"type": "string", "format": "date"}
    elif name == "jurisdiction":
        schema = jurisdiction_enum("id or Chinese name")
        schema.pop("description")
        if path in _WITH_ALL:
            schema["enum"] = [*schema["enum"], "all"]
            schema["x-enum-descriptions"] = [*schema["x-enum-descriptions"], "全部地区"]
    elif name == "document":
        docs = sorted(documents())
        schema = {"type": "string", "enum": docs, "x-enum-descriptions": [documents()[d].title for d in docs]}
        if is_array:
            schema = {"type": "array", "items": schema}
    else:
        if not param.get("description") and description:
            param["description"] = description
        _enum_meanings(param.get("schema", {}))
        return
    if description:
        param["description"] = description
    param["schema"] = schema


TAGS = [
    {
        "name": "decisions",
        "description": "决策：which filings, stops and reports an institution owes, by when, to whom, on which provision; "
        "one case compared across jurisdictions",
    },
    {
        "name": "documents",
        "description": "文件与条款：the source documents, their provisions verbatim, full-text search",
    },
    {
        "name": "catalogues",
        "description": "目录与技术：restricted-technology catalogues in force, their changes, technology look-up",
    },
    {"name": "flowcharts", "description": "流程图：each jurisdiction's filing and incident procedures"},
    {"name": "service", "description": "服务状态"},
]
_TAG_OF = (
    ("/v1/decisions", "decisions"),
    ("/v1/compare", "decisions"),
    ("/v1/documents", "documents"),
    ("/v1/search", "documents"),
    ("/v1/catalogs", "catalogues"),
    ("/v1/technologies", "catalogues"),
    ("/v1/flowcharts", "flowcharts"),
    ("/healthz", "service"),
)


def _tag(doc: dict) -> None:
    """Group the operations by subject (Swagger UI and ReDoc show one section per tag, in TAGS order)."""
    used = set()
    for path, operations in doc.get("paths", {}).items():
        tag = next((t for prefix, t in _TAG_OF if path.startswith(prefix)), None)
        for op in operations.values():
            if tag and not op.get("tags"):
                op["tags"] = [tag]
            used.update(op.get("tags", []))
    doc["tags"] = [t for t in TAGS if t["name"] in used] + [
        {"name": n} for n in sorted(used - {t["name"] for t in TAGS})
    ]
    order = [t["name"] for t in doc["tags"]]
    paths = list(doc.get("paths", {}).items())

    def rank(item):
        tags = [t for op in item[1].values() for t in op.get("tags", [])]
        return order.index(tags[0]) if tags else len(order), paths.index(item)

    doc["paths"] = dict(sorted(paths, key=rank))


def _example_request() -> dict | None:
    """The request of examples/request.yaml (None when the file is missing)."""
    from engine.paths import EXAMPLES_DIR
    from engine.yamlio import load_yaml

    path = EXAMPLES_DIR / "request.yaml"
    return load_yaml(path) if path.exists() else None


def _add_examples(doc: dict) -> None:
    """Request-body examples for the POST operations, and the example decision as the response example
    (computed from examples/request.yaml with quotes=none, so that it is always what the engine answers)."""
    request = _example_request()
    if request is None:
        return
    bodies = {
        "/v1/decisions": request,
        "/v1/decisions/batch": {"requests": [request]},
        "/v1/compare": {"request": request, "jurisdictions": ["hunan", "shanghai"]},
    }
    for path, body in bodies.items():
        op = doc["paths"].get(path, {}).get("post")
        if op is None:
            continue
        for media in op.get("requestBody", {}).get("content", {}).values():
            media["example"] = body
    try:
        from engine.inference.decision import decide
        from engine.render.compact import compact_quotes

        response = compact_quotes(decide(request), "none")
    except Exception:  # noqa: BLE001 - an example must never break the document
        log.exception("no response example for the OpenAPI document")
        return
    op = doc["paths"].get("/v1/decisions", {}).get("post")
    if op:
        op["responses"]["200"]["content"]["application/json"]["example"] = response
    bodies["/v1/flowcharts"] = bodies["/v1/flowcharts/{jurisdiction}"] = request
    for path, operations in doc["paths"].items():
        for op in operations.values():
            media = op.get("requestBody", {}).get("content", {})
            for m in media.values():
                m.setdefault("example", bodies.get(path))
    _add_answer_examples(doc, bodies)


# the request behind each operation's response example (the decision's is computed above)
_EXAMPLE_CALLS = {
    ("get", "/healthz"): "/healthz",
    ("get", "/v1/register/{jurisdiction}"): "/v1/register/shanghai?as_of=2025-03-10",
    ("get", "/v1/changes/{jurisdiction}"): "/v1/changes/hunan?from=2022-04-19&to=2022-04-20",
    ("get", "/v1/documents"): "/v1/documents?as_of=2025-03-10",
    ("get", "/v1/documents/{document}"): "/v1/documents/nhc-2018-1?as_of=2025-03-10",
    ("get", "/v1/documents/{document}/provisions/{eid}"): "/v1/documents/nhc-2018-1/provisions/art_11",
    ("get", "/v1/search"): "/v1/search?q=备案&limit=2",
    ("get", "/v1/catalogs/{jurisdiction}"): "/v1/catalogs/hunan?as_of=2025-03-10",
    ("get", "/v1/catalogs/diff"): "/v1/catalogs/diff?old=national-2018&new=national-2022",
    ("get", "/v1/technologies"): "/v1/technologies?q=PCI&jurisdiction=hunan&as_of=2025-03-10&limit=2",
    ("get", "/v1/flowcharts/{jurisdiction}"): "/v1/flowcharts/hunan?format=mermaid&as_of=2025-03-10",
    ("post", "/v1/flowcharts"): "/v1/flowcharts?format=mermaid",
    ("post", "/v1/flowcharts/{jurisdiction}"): "/v1/flowcharts/hunan?format=mermaid",
    ("post", "/v1/compare"): "/v1/compare",
    ("post", "/v1/decisions/batch"): "/v1/decisions/batch?quotes=none&trace=false",
}
EXAMPLE_ITEMS = 2  # lists in response examples are cut to this many items (the document stays readable)


def _shortened(value, depth: int = 0):
    if isinstance(value, list):
        return [_shortened(v, depth + 1) for v in value[:EXAMPLE_ITEMS]]
    if isinstance(value, dict):
        return {k: _shortened(v, depth + 1) for k, v in value.items()}
    return value


def _add_answer_examples(doc: dict, bodies: dict) -> None:
    """A response example for every operation: what the service answers to the example request (lists cut short),
    asked of the app itself in process (engine.service.inprocess)."""
    from engine.service.inprocess import call_app

    for (method, path), url in _EXAMPLE_CALLS.items():
        op = doc["paths"].get(path, {}).get(method)
        if op is None:
            continue
        try:
            status, media, body = call_app(method.upper(), url, bodies.get(path) if method == "post" else None)
        except Exception:  # noqa: BLE001 - an example must never break the document
            log.exception("no response example for %s %s", method, path)
            continue
        content = op["responses"].get("200", {}).get("content", {})
        if status != 200 or media not in content:
            log.error("no response example for %s %s: %s %s", method, path, status, media)
            continue
        if media == "application/json":
            content[media]["example"] = _shortened(json.loads(body))
        else:
            content[media]["example"] = body.decode("utf-8")


_ANSWER_HEADERS = {
    "X-API-Version": {"description": "the API's semantic version (docs/api-compatibility.md)", "schema": S},
    "X-Knowledge-Base-Version": {"description": "version of the knowledge base that answered", "schema": S},
    "X-Request-Id": {"description": "the request's X-Request-Id, or a new id when it had none", "schema": S},
}
_REQUEST_HEADERS = [
    {
        "name": "X-Request-Id",
        "in": "header",
        "required": False,
        "description": "your id for this request (1 to 128 letters, digits and `._:-`), echoed; one is made when absent",
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,128}$"},
        "example": "his-2025-000123",
    },
    {
        "name": "traceparent",
        "in": "header",
        "required": False,
        "description": "W3C trace context, echoed (with tracestate) and logged as trace_id",
        "schema": S,
        "example": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    },
    {
        "name": "X-Knowledge-Base-Digest",
        "in": "header",
        "required": False,
        "description": "answer only with this knowledge base (its digest, `sha256:` optional): 412 otherwise",
        "schema": S,
        "example": "sha256:" + "0" * 64,
    },
]
_PINNED = {
    "description": "The knowledge base pinned by X-Knowledge-Base-Digest is not the one this service answers with "
    "(named in the body and the headers)",
    "content": {"application/json": {"schema": {"$ref": REF + ERROR_SCHEMA}}},
}


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
    # FastAPI adds its own 422 to operations with parameters; ours answer with `ErrorResponse`
    doc = json.loads(json.dumps(doc).replace('"#/components/schemas/HTTPValidationError"', f'"{REF}{ERROR_SCHEMA}"'))
    schemas = doc["components"]["schemas"]
    header = {
        DIGEST_HEADER: {"description": "digest of the knowledge base that answered", "schema": {"type": "string"}},
        **_ANSWER_HEADERS,
    }
    for path, operations in doc.get("paths", {}).items():
        for op in operations.values():
            op["responses"].setdefault("412", _PINNED)
            op.setdefault("parameters", []).extend(_REQUEST_HEADERS)
            for response in op.get("responses", {}).values():
                response.setdefault("headers", {}).update(header)
            for param in op.get("parameters", []):
                _describe_parameter(param, path)
    _add_examples(doc)
    _tag(doc)
    # operation ids from the route functions (post_decision, get_search …): the method names of generated clients
    names = {(r.path, m.lower()): r.name for r in app.routes if isinstance(r, APIRoute) for m in (r.methods or ())}
    for path, operations in doc.get("paths", {}).items():
        for method, op in operations.items():
            if (path, method) in names:
                op["operationId"] = names[(path, method)]
    app.openapi_schema = doc
    return doc
