"""The HTTP service: a thin, read-only FastAPI layer over `decide()` and the knowledge base.

Endpoints (contract section 1):

    POST /v1/decisions                             request -> response (200); invalid -> 422 {"errors": [...]}
    POST /v1/decisions/batch                       {"requests": [...]} -> {"responses": [...]} (at most 1,000)
    GET  /v1/flowcharts/{jurisdiction}             ?format=svg|png|dot|mermaid&as_of=...&chart=filing|incident
    GET  /v1/documents                             the encoded documents
    GET  /v1/documents/{document}                  one document with its provisions
    GET  /v1/documents/{document}/provisions/{eid} one provision: Chinese label, text, children
    GET  /v1/technologies?q=...&jurisdiction=...&as_of=...
    GET  /healthz                                  status and knowledge-base digest
    GET  /openapi.json                             built from the published JSON Schemas (kb/schema/)

Design notes
- Request bodies are parsed here (not by pydantic) so that the published JSON Schemas stay the
  single source of truth: the OpenAPI document embeds kb/schema/request.schema.json and
  response.schema.json as components, and `decide()` validates against the same schema.
- Every engine call runs on one dedicated worker thread. durable_rules is not thread-safe (the
  backend serialises with a lock anyway) and the GIL gives no parallelism, so one thread costs
  nothing and keeps the event loop free for I/O; scale with processes (`run(workers=N)`).
- Every response, errors included, carries `X-Knowledge-Base-Digest`. Unexpected exceptions are
  logged and answered with a generic 500 JSON body, never a traceback.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, Callable, Literal

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from engine.errors import InvalidRequest, KnowledgeBaseError, NotFound

log = logging.getLogger("engine.service")

MAX_BODY = 1024 * 1024          # 1 MiB
MAX_BATCH = 1000
MAX_DEPTH = 64                  # a valid request nests 4 levels; deeper JSON is refused up front
BATCH_CHUNK = 25                # batch items per executor job, so other requests interleave
DIGEST_HEADER = "X-Knowledge-Base-Digest"
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

FLOWCHART_MEDIA = {
    "svg": "image/svg+xml",
    "png": "image/png",
    "dot": "text/vnd.graphviz; charset=utf-8",
    "mermaid": "text/plain; charset=utf-8",
}


# --------------------------------------------------------------------------- errors


class ApiError(Exception):
    """An answer other than 2xx: status code and `{"errors": [...]}` (plus extra members)."""

    def __init__(self, status: int, errors: list[dict], **extra: Any):
        super().__init__(errors[0]["message"] if errors else str(status))
        self.status, self.errors, self.extra = status, errors, extra

    def body(self) -> dict:
        return {"errors": self.errors, **self.extra}


def _error(status: int, message: str, path: str = "", **extra: Any) -> ApiError:
    return ApiError(status, [{"path": path, "message": message}], **extra)


def _not_found(exc: NotFound, path: str) -> ApiError:
    return _error(404, str(exc), path, available=list(exc.available))


def _kb_unavailable(exc: KnowledgeBaseError) -> ApiError:
    log.error("knowledge base invalid: %s", exc)
    return _error(503, "the knowledge base is invalid; run `medtech kb check`")


# --------------------------------------------------------------------------- JSON


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _json(obj: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(_dumps(obj), status_code=status, media_type="application/json", headers=headers)


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
        raise _error(400, "malformed JSON: empty body")
    try:
        data = json.loads(body, parse_constant=_reject_constant)
    except RecursionError:
        raise _error(400, "malformed JSON: nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise _error(400, f"malformed JSON: {exc}") from None
    if _depth_exceeds(data, MAX_DEPTH):
        raise _error(422, f"nested more than {MAX_DEPTH} levels deep")
    return data


async def read_json(request: Request) -> Any:
    """The body as JSON; 413 when it exceeds 1 MiB (by Content-Length or by what arrives)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise _error(400, "invalid Content-Length header") from None
        if size > MAX_BODY:
            raise _error(413, f"request body of {size} bytes exceeds the limit of {MAX_BODY} bytes (1 MiB)")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise _error(413, f"request body exceeds the limit of {MAX_BODY} bytes (1 MiB)")
        chunks.append(chunk)
    return parse_json(b"".join(chunks))


def _as_of(value: str | None, path: str = "as_of") -> dt.date | None:
    if value is None:
        return None
    try:
        if not _DATE_RE.match(value):
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _error(422, f"{value!r} is not a valid date (expected YYYY-MM-DD, a day that exists)", path) from None


def _today() -> dt.date:
    from engine.request import today_in_china
    return today_in_china()


# --------------------------------------------------------------------------- the engine thread

_EXECUTOR: ThreadPoolExecutor | None = None
_EXECUTOR_LOCK = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _EXECUTOR
    with _EXECUTOR_LOCK:
        if _EXECUTOR is None:
            _EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="medtech-engine")
        return _EXECUTOR


def _shutdown_executor() -> None:
    global _EXECUTOR
    with _EXECUTOR_LOCK:
        ex, _EXECUTOR = _EXECUTOR, None
    if ex is not None:
        ex.shutdown(wait=False, cancel_futures=True)


async def on_engine(fn: Callable, *args, **kwargs):
    """Run `fn` on the engine thread and await its result."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_executor(), functools.partial(fn, *args, **kwargs))


# --------------------------------------------------------------------------- knowledge base

_DIGEST: str | None = None


def kb():
    """The loaded knowledge base (503 when it is invalid)."""
    from engine.kb import knowledge_base
    try:
        return knowledge_base()
    except KnowledgeBaseError as exc:
        raise _kb_unavailable(exc) from None


def digest() -> str:
    """The digest of the knowledge base answering requests (of the files when it cannot load)."""
    global _DIGEST
    if _DIGEST is None:
        from engine.kb import kb_digest, knowledge_base
        try:
            _DIGEST = knowledge_base().digest
        except Exception:  # noqa: BLE001 - the header must still be set
            log.exception("knowledge base could not be loaded; digest taken from the files")
            _DIGEST = kb_digest()
    return _DIGEST


def _documents():
    from engine.documents import load_documents
    try:
        return load_documents()
    except KnowledgeBaseError as exc:
        raise _kb_unavailable(exc) from None


def _document(document_id: str):
    docs = _documents()
    if document_id not in docs:
        raise _error(404, f"unknown document {document_id!r}", "document", available=sorted(docs))
    return docs[document_id]


def _jurisdiction(spelling: str, path: str = "jurisdiction"):
    from engine.vocabulary import vocabulary
    try:
        return vocabulary().jurisdiction(spelling)
    except NotFound as exc:
        raise _not_found(exc, path) from None


# --------------------------------------------------------------------------- decisions (engine thread)

_INTERNAL = {"errors": [{"path": "", "message": "internal error while answering this request"}]}


def decide_one(data: Any) -> tuple[int, bytes]:
    """(status, JSON body) for one request: 200 with the response or 422 with every problem."""
    # engine.decide is the package-level function (the module is engine.decision)
    from engine import decide
    try:
        return 200, _dumps(decide(data))
    except InvalidRequest as exc:
        return 422, _dumps({"errors": exc.errors})
    except KnowledgeBaseError as exc:
        raise _kb_unavailable(exc) from None


def decide_many(items: list) -> list[bytes]:
    """Answers for batch items, each a response or `{"errors": [...]}` in place."""
    out = []
    for item in items:
        try:
            out.append(decide_one(item)[1])
        except ApiError:
            raise
        except Exception:  # noqa: BLE001 - one bad item must not lose the batch
            log.exception("batch item failed")
            out.append(_dumps(_INTERNAL))
    return out


def _batch_items(data: Any) -> list:
    if not isinstance(data, dict):
        raise _error(422, 'a batch must be a JSON object {"requests": [...]}')
    errors = [{"path": str(k), "message": "unknown field (allowed: requests)"} for k in data if k != "requests"]
    items = data.get("requests")
    if "requests" not in data:
        errors.append({"path": "requests", "message": "is required"})
    elif not isinstance(items, list):
        errors.append({"path": "requests", "message": f"{items!r:.60} is not of type 'array'"})
    elif len(items) > MAX_BATCH:
        errors.append({"path": "requests", "message": f"at most {MAX_BATCH} requests per batch (got {len(items)})"})
    if errors:
        raise ApiError(422, errors)
    return items


# --------------------------------------------------------------------------- documents (engine thread)


def _provision_tree(doc, provision) -> dict:
    out = provision.to_dict()
    out["parent"] = provision.parent
    out["children"] = [_provision_tree(doc, doc.provisions[c]) for c in provision.children]
    return out


def _document_summary(doc, as_of: dt.date) -> dict:
    return {
        "id": doc.id, "title": doc.title, "number": doc.number, "jurisdiction": doc.jurisdiction,
        "kind": doc.kind, "issuer": list(doc.issuer), "dates": doc.dates, "status": doc.status_on(as_of),
        "provisions": len(doc.provisions),
    }


def list_documents(as_of: dt.date | None) -> dict:
    as_of = as_of or _today()
    return {"as_of": as_of.isoformat(), "documents": [_document_summary(d, as_of) for d in _documents().values()]}


def get_document(document_id: str, as_of: dt.date | None) -> dict:
    doc = _document(document_id)
    as_of = as_of or _today()
    out = doc.to_dict()
    out["as_of"] = as_of.isoformat()
    out["status"] = doc.status_on(as_of)
    out["outline"] = [p.eid for p in doc.top_level()]
    return out


def get_provision(document_id: str, eid: str) -> dict:
    doc = _document(document_id)
    try:
        provision = doc.get(eid)
    except NotFound as exc:
        raise _not_found(exc, "eid") from None
    return {"document": {"id": doc.id, "title": doc.title}, **_provision_tree(doc, provision)}


# --------------------------------------------------------------------------- technologies (engine thread)


def find_technologies(q: str, jurisdiction: str | None, as_of: dt.date | None, surgery_grade: int | None = None) -> dict:
    """How the catalogues in force treat a name, abbreviation or code (engine.catalog.resolve)."""
    j = _jurisdiction(jurisdiction) if jurisdiction else None
    try:
        from engine import catalog
    except ImportError as exc:
        raise _error(501, f"the technology catalogue is not available in this installation ({exc})") from None
    as_of = as_of or _today()
    jid = j.id if j else "national"
    # a name first; when it is not recognised, the same text as a catalogue code (S19, hunan:S19)
    code = q if len(q) <= 40 else None
    resolution = catalog.resolve(name=q, code=code, jurisdiction=jid, as_of=as_of, surgery_grade=surgery_grade)
    out: dict = {"query": q, "jurisdiction": jid, "as_of": as_of.isoformat(), "resolution": resolution.to_dict()}
    fmt = getattr(catalog, "format_search", None)
    if callable(fmt):
        out["text"] = fmt(q, jurisdiction=jid, as_of=as_of, surgery_grade=surgery_grade)
    return out


# --------------------------------------------------------------------------- flowcharts (engine thread)


@functools.lru_cache(maxsize=64)
def _render(jurisdiction: str, chart: str, fmt: str, as_of: str | None) -> bytes:
    from engine.flowchart import render_chart
    out = render_chart(jurisdiction, chart=chart, fmt=fmt, as_of=as_of)
    return out.encode("utf-8") if isinstance(out, str) else bytes(out)


def flowchart(jurisdiction: str, chart: str, fmt: str, as_of: dt.date | None) -> bytes:
    j = _jurisdiction(jurisdiction)
    try:
        from engine.flowchart import render_chart  # noqa: F401 - lazy: optional until it exists
    except ImportError as exc:
        raise _error(501, f"flowcharts are not available in this installation ({exc})") from None
    try:
        return _render(j.id, chart, fmt, (as_of or _today()).isoformat())  # the day is part of the cache key
    except NotFound as exc:
        raise _not_found(exc, "jurisdiction") from None
    except KnowledgeBaseError as exc:
        raise _kb_unavailable(exc) from None
    except Exception as exc:  # graphviz's ExecutableNotFound when `dot` is missing
        if type(exc).__name__ == "ExecutableNotFound":
            raise _error(501, f"format {fmt} needs Graphviz (`dot`), which is not installed; try format=dot or mermaid", "format") from None
        raise


# --------------------------------------------------------------------------- warm-up and app


def warm() -> None:
    """Build the knowledge base, the durable_rules ruleset and the validators before serving."""
    try:
        base = kb()
        base.durable  # noqa: B018 - builds the ruleset
        digest()
        from engine import decide
        sample = {"as_of": "2025-04-29", "institution": {"jurisdiction": "national", "level": 3}}
        decide(sample)
        try:
            decide({**sample, "technology": {"name": "冠心病介入治疗", "surgery_grade": 3}})
        except Exception:  # noqa: BLE001 - the catalogue may be missing; requests will say so
            log.warning("warm-up with a technology failed", exc_info=True)
    except Exception:  # noqa: BLE001 - serve anyway: /healthz reports the problem
        log.exception("warm-up failed")


@asynccontextmanager
async def lifespan(app: FastAPI):
    await on_engine(warm)
    yield
    _shutdown_executor()


class DigestHeaderMiddleware:
    """Adds `X-Knowledge-Base-Digest` to every response and turns any escaped exception into a
    generic 500 (logged; no internals in the body)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        # the first time, on the engine thread: loading the knowledge base is the engine's business
        value = (_DIGEST or await on_engine(digest)).encode("latin-1")

        async def send_with_header(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [h for h in message.get("headers", []) if h[0].lower() != DIGEST_HEADER.lower().encode()]
                headers.append((DIGEST_HEADER.lower().encode(), value))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_header)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            await _json({"errors": [{"path": "", "message": "internal server error"}]}, 500)(scope, receive, send_with_header)


app = FastAPI(
    title="medtech-rules",
    version="0.1.0",
    description="医疗技术临床应用管理: decisions, documents, catalogues and flowcharts (read-only).",
    lifespan=lifespan,
)
app.add_middleware(DigestHeaderMiddleware)


@app.exception_handler(ApiError)
async def _api_error(request: Request, exc: ApiError):
    return _json(exc.body(), exc.status)


@app.exception_handler(RequestValidationError)
async def _validation_error(request: Request, exc: RequestValidationError):
    errors = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ()) if p not in ("query", "path", "body", "header")]
        errors.append({"path": ".".join(loc), "message": e.get("msg", "invalid value")})
    return _json({"errors": errors}, 422)


@app.exception_handler(StarletteHTTPException)
async def _http_error(request: Request, exc: StarletteHTTPException):
    return _json({"errors": [{"path": "", "message": str(exc.detail)}]}, exc.status_code, headers=getattr(exc, "headers", None))


# --------------------------------------------------------------------------- OpenAPI description

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


def _json_content(name: str) -> dict:
    return {"application/json": {"schema": {"$ref": REF + name}}}


def _errors(*codes: int) -> dict:
    text = {400: "Malformed JSON", 404: "Unknown document, provision or jurisdiction", 413: "Body over 1 MiB",
            422: "Invalid input: every problem with its path", 501: "Not available in this installation",
            503: "The knowledge base is invalid"}
    return {c: {"description": text.get(c, "Error"), "content": _json_content("Errors")} for c in codes}


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
    from engine.vocabulary import vocabulary
    name, description = param["name"], param.get("schema", {}).get("description") or param.get("description")
    if name == "as_of":
        schema = {"type": "string", "format": "date"}
    elif name == "jurisdiction":
        schema = {"type": "string", "enum": vocabulary().jurisdiction_spellings()}
    elif name == "document":
        schema = {"type": "string", "enum": sorted(_documents())}
    else:
        return
    if description:
        param["description"] = description
    param["schema"] = schema


def openapi_document() -> dict:
    if app.openapi_schema:
        return app.openapi_schema
    from engine.schemas import load_schema
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


app.openapi = openapi_document  # type: ignore[method-assign]


# --------------------------------------------------------------------------- endpoints


@app.get("/healthz", summary="Status and knowledge-base digest",
         responses={200: {"description": "Healthy", "content": _json_content("Health")},
                    503: {"description": "The knowledge base is invalid", "content": _json_content("Health")}})
async def healthz():
    def check():
        try:
            base = kb()
        except ApiError:
            return 503, {"status": "error", "knowledge_base": {"digest": digest()}}
        return 200, {"status": "ok", "knowledge_base": {"version": base.version, "digest": base.digest},
                     "documents": len(base.documents), "rules": len(base.rules)}
    status, body = await on_engine(check)
    return _json(body, status)


@app.post(
    "/v1/decisions",
    summary="Answer one decision request",
    openapi_extra={"requestBody": {"required": True, "content": _json_content("DecisionRequest")}},
    responses={200: {"description": "The decision", "content": _json_content("DecisionResponse")},
               **_errors(400, 413, 422, 503)},
)
async def post_decision(request: Request):
    data = await read_json(request)
    status, body = await on_engine(decide_one, data)
    return Response(body, status_code=status, media_type="application/json")


@app.post(
    "/v1/decisions/batch",
    summary=f"Answer up to {MAX_BATCH} decision requests; each invalid one is answered in place with its errors",
    openapi_extra={"requestBody": {"required": True, "content": _json_content("BatchRequest")}},
    responses={200: {"description": "One answer per request, in order", "content": _json_content("BatchResponse")},
               **_errors(400, 413, 422, 503)},
)
async def post_batch(request: Request):
    items = _batch_items(await read_json(request))
    parts: list[bytes] = []
    for start in range(0, len(items), BATCH_CHUNK):
        parts += await on_engine(decide_many, items[start:start + BATCH_CHUNK])
    return Response(b'{"responses":[' + b",".join(parts) + b"]}", media_type="application/json")


@app.get(
    "/v1/flowcharts/{jurisdiction}",
    summary="The procedure of a jurisdiction as a flowchart",
    responses={200: {"description": "The chart", "content": {m.split(";")[0]: {"schema": {"type": "string"}} for m in FLOWCHART_MEDIA.values()}},
               **_errors(404, 422, 501, 503)},
)
async def get_flowchart(
    jurisdiction: str,
    format: Literal["svg", "png", "dot", "mermaid"] = Query("svg", description="output format"),
    chart: Literal["filing", "incident"] = Query("filing", description="which procedure"),
    as_of: str | None = Query(None, description="YYYY-MM-DD; documents in force on that day"),
):
    day = _as_of(as_of)
    body = await on_engine(flowchart, jurisdiction, chart, format, day)
    return Response(body, media_type=FLOWCHART_MEDIA[format])


@app.get("/v1/documents", summary="The encoded source documents",
         responses={200: {"description": "Documents", "content": _json_content("DocumentList")}, **_errors(422, 503)})
async def documents_index(as_of: str | None = Query(None, description="YYYY-MM-DD for `status`; default today in China")):
    return _json(await on_engine(list_documents, _as_of(as_of)))


@app.get("/v1/documents/{document}", summary="One document with its provisions",
         responses={200: {"description": "The document", "content": _json_content("Document")}, **_errors(404, 422, 503)})
async def document_detail(document: str, as_of: str | None = Query(None, description="YYYY-MM-DD for `status`")):
    return _json(await on_engine(get_document, document, _as_of(as_of)))


@app.get("/v1/documents/{document}/provisions/{eid}", summary="One provision: Chinese label, verbatim text, children",
         responses={200: {"description": "The provision", "content": _json_content("Provision")}, **_errors(404, 503)})
async def provision_detail(document: str, eid: str):
    return _json(await on_engine(get_provision, document, eid))


@app.get("/v1/technologies", summary="Look a technology up in the catalogues in force",
         responses={200: {"description": "Matches", "content": _json_content("Technologies")}, **_errors(404, 422, 501, 503)})
async def technologies(
    q: str = Query(..., min_length=1, max_length=200, description="name, common name, abbreviation or code"),
    jurisdiction: str | None = Query(None, description="id or Chinese name; default national"),
    as_of: str | None = Query(None, description="YYYY-MM-DD; default today in China"),
    surgery_grade: int | None = Query(None, ge=1, le=4, description="手术分级, for grade-qualified entries"),
):
    return _json(await on_engine(find_technologies, q, jurisdiction, _as_of(as_of), surgery_grade))


# --------------------------------------------------------------------------- running


def run(host: str = "127.0.0.1", port: int = 8000, workers: int = 1, *, access_log: bool = True,
        log_level: str = "info") -> None:
    """Serve with uvicorn; `workers=N` runs N processes. SIGTERM/SIGINT shut down gracefully
    (in-flight requests get up to 5 s)."""
    import uvicorn
    uvicorn.run("engine.service:app", host=host, port=port, workers=workers if workers > 1 else None,
                timeout_graceful_shutdown=5, access_log=access_log, log_level=log_level)
