"""The HTTP service: a thin, read-only FastAPI layer over `decide()` and the knowledge base.

Endpoints (contract section 1):

    POST /v1/decisions                             request -> response (200); invalid -> 422 {"errors": [...]}
    POST /v1/decisions/batch                       {"requests": [...]} -> {"responses": [...]} (at most 1,000)
    GET  /v1/flowcharts/{jurisdiction}             ?format=svg|png|pdf|dot|mermaid&as_of=...&chart=filing|incident|training
    POST /v1/flowcharts                            a decision request -> its jurisdiction's chart, the case highlighted
    POST /v1/flowcharts/{jurisdiction}             the same, the jurisdiction given twice (kept; deprecated)
    GET  /v1/documents                             the encoded documents
    GET  /v1/documents/{document}                  one document with its provisions
    GET  /v1/documents/{document}/provisions/{eid} one provision: Chinese label, text, children
    GET  /v1/technologies?q=...&jurisdiction=...&as_of=...&limit=&offset=   (engine.service.explore)
    GET  /v1/catalogs/{jurisdiction}, /v1/catalogs/diff, /v1/search, POST /v1/compare (engine.service.explore)
    GET  /docs, /redoc                             Swagger UI and ReDoc, offline (engine.service.docs)
    GET  /healthz                                  liveness: status and knowledge-base digest
    GET  /readyz                                   readiness: 200 once checked and warm, 503 while starting/stopping
    GET  /openapi.json                             built from the published JSON Schemas (kb/schema/)

This module holds the app, its routes and `run()`; the work is done in
    engine.service.input        request bodies (1 MiB limit, JSON, nesting depth) and dates
    engine.service.errors       `ApiError`, the `{"errors": [...]}` bodies and exception handlers
    engine.service.worker       the engine thread (`on_engine`)
    engine.service.kb_access           the knowledge base, its digest, document/jurisdiction look-ups, warm-up
    engine.service.decisions    single and batch decisions
    engine.service.resources    documents, provisions, technologies, flowcharts
    engine.service.middleware   the digest header and the generic 500
    engine.service.hotroute     POST /v1/decisions in its common form, before the framework (ServiceApp)
    engine.service.openapi              the OpenAPI document

Design notes
- Request bodies are parsed here (not by pydantic) so that the published JSON Schemas stay the
  single source of truth: the OpenAPI document embeds kb/schema/request.schema.json and
  response.schema.json as components, and `decide()` validates against the same schema.
- Engine calls run one at a time on one dedicated worker thread. durable_rules is not thread-safe
  (the backend serialises with a lock anyway) and the GIL gives no parallelism, so one thread costs
  nothing and keeps the event loop free for I/O; scale with processes (`run(workers=N)`). A JSON
  decision of a small request (engine.service.fastpath) runs inline on the event loop's thread
  while that thread is idle: handing it over would cost about as much as the decision
  (engine.service.worker.on_engine_short).
- Every response, errors included, carries `X-Knowledge-Base-Digest`. Unexpected exceptions are
  logged and answered with a generic 500 JSON body, never a traceback.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.service.apiversion import api_version
from engine.service.batch import CSV, NDJSON, XLSX, batch_response
from engine.service.beyond_case import router as beyond_case_router
from engine.service.caching import CachingMiddleware
from engine.service.correlation import CORS_ALLOW_HEADERS, CORS_EXPOSE_HEADERS, CorrelationMiddleware
from engine.service.cors import ConfigurableCORS
from engine.service.decisions import (  # noqa: F401 - re-exported
    BATCH_CHUNK,
    MAX_BATCH,
    QUOTES_QUERY,
    TRACE_QUERY,
    QuotesMode,
    batch_items,
    decide_as,
    decide_many,
    export_content,
)
from engine.service.docs import install_docs
from engine.service.errors import (
    ApiError,
    api_error_handler,
    http_error_handler,
    json_response,
    validation_error_handler,
)
from engine.service.explore import router as explore_router
from engine.service.fastpath import DecisionFastPath
from engine.service.hotroute import PATH as HOT_PATH
from engine.service.hotroute import HotRoute, enabled_by_environment
from engine.service.input import MAX_BODY, MAX_DEPTH, parse_as_of, parse_json, read_json  # noqa: F401 - re-exported
from engine.service.kb_access import cool, digest, is_warm, kb, warm
from engine.service.metrics import router as metrics_router
from engine.service.middleware import DIGEST_HEADER, DigestHeaderMiddleware  # noqa: F401 - re-exported
from engine.service.openapi import (  # noqa: F401 - re-exported
    ERROR_SCHEMA,
    REF,
    body_content,
    build_openapi,
    error_responses,
    json_content,
    schema_component,
)
from engine.service.resources import (
    FLOWCHART_MEDIA,
    flowchart,
    get_document,
    get_provision,
    highlighted_flowchart,
    list_documents,
    request_jurisdiction,
)
from engine.service.semantics import DECISION_MEDIA, HttpSemantics, known_query_parameters, negotiated_format
from engine.service.transport import CompressionMiddleware
from engine.service.web import router as web_router
from engine.service.webcompare import router as webcompare_router
from engine.service.worker import on_engine, shutdown_executor

log = logging.getLogger("engine.service.app")

ChartFormat = Literal["svg", "png", "pdf", "dot", "mermaid"]  # engine.flowchart.FORMATS
ChartName = Literal["filing", "incident", "training"]  # the charts of kb/flowcharts.yaml


@asynccontextmanager
async def lifespan(app: FastAPI):
    """Warm the engine up before serving; stop the engine thread on shutdown."""
    await on_engine(warm)  # refuses to start (raises) on a knowledge base `medtech kb check` rejects
    yield
    cool()  # /readyz: 503 from here on
    shutdown_executor()


class ServiceApp(FastAPI):
    """FastAPI with the hot route in front: `POST /v1/decisions` goes to `hot_route` (engine.service.hotroute)
    before the framework and the middleware, which it calls itself for what it does not answer; None: off."""

    hot_route: HotRoute | None = None

    async def __call__(self, scope, receive, send):
        hot = self.hot_route
        if hot is not None and scope["type"] == "http" and scope["path"] == HOT_PATH and scope["method"] == "POST":
            await hot(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def stack(self, scope, receive, send):
        """The application without the hot route: the framework, the middleware and the routes."""
        await super().__call__(scope, receive, send)


app = ServiceApp(
    title="medtech-rules",
    version=api_version(),  # the API's own semantic version (engine/service/api_version.yaml, docs/api-changelog.md)
    description="医疗技术临床应用管理: decisions, documents, catalogues and flowcharts (read-only).",
    lifespan=lifespan,
    docs_url=None,
    redoc_url=None,
    dependencies=[Depends(known_query_parameters)],  # 422 for a query parameter a route does not take
)
# innermost: POST /v1/decisions without the router (engine.service.fastpath); it answers through this
# module's `decide_as`, looked up on each call as the route does
app.add_middleware(DecisionFastPath, answer=lambda data, fmt, quotes, trace=True: decide_as(data, fmt, quotes, trace))
app.add_middleware(CachingMiddleware)  # ETag, Cache-Control, If-None-Match -> 304 (engine.service.caching)
app.add_middleware(DigestHeaderMiddleware)
app.add_middleware(CorrelationMiddleware)  # versions, request id, trace context, digest pin, metrics, request log
app.add_middleware(CompressionMiddleware)  # br or gzip by Accept-Encoding (engine.service.transport)
app.add_middleware(HttpSemantics)  # security headers; HEAD as GET without the body (engine.service.semantics)
app.add_middleware(
    ConfigurableCORS, expose_headers=CORS_EXPOSE_HEADERS, allow_headers=CORS_ALLOW_HEADERS
)  # outermost: answers preflights; off unless configured
# outermost of all: POST /v1/decisions in its common form, answered before the framework (engine.service.hotroute);
# MEDTECH_HOT_ROUTE=0 turns it off
app.hot_route = (
    HotRoute(
        app.stack,
        answer=lambda data, fmt, quotes, trace=True: decide_as(data, fmt, quotes, trace),
        telemetry=app._native_telemetry.enabled,
    )
    if enabled_by_environment()
    else None
)
app.add_exception_handler(ApiError, api_error_handler)  # type: ignore[arg-type]  # starlette types handlers as taking any Exception
app.add_exception_handler(RequestValidationError, validation_error_handler)  # type: ignore[arg-type]  # starlette types handlers as taking any Exception
app.add_exception_handler(StarletteHTTPException, http_error_handler)  # type: ignore[arg-type]  # starlette types handlers as taking any Exception


def openapi_document() -> dict:
    """The OpenAPI document of `app` (see engine.service.openapi); served at /openapi.json."""
    return build_openapi(app)


app.openapi = openapi_document  # type: ignore[method-assign]
app.include_router(web_router)  # the page for people: GET /, /provisions/…, /export (engine.service.web)
app.include_router(webcompare_router)  # the page's case in every jurisdiction: GET /compare (engine.service.webcompare)
install_docs(app)


# --------------------------------------------------------------------------- endpoints
# No docstrings on the route functions: FastAPI would publish them as operation descriptions
# in the OpenAPI document; `summary=` describes each one.


@app.get(
    "/healthz",
    summary="Status and knowledge-base digest",
    responses={
        200: {"description": "Healthy", "content": json_content("Health")},
        503: {"description": "The knowledge base is invalid", "content": json_content("Health")},
    },
)
async def healthz():
    def check():
        try:
            base = kb()
        except ApiError:
            return 503, {"status": "error", "knowledge_base": {"digest": digest()}}
        return 200, {
            "status": "ok",
            "knowledge_base": {"version": base.version, "digest": base.digest},
            "documents": len(base.documents),
            "rules": len(base.rules),
        }

    status, body = await on_engine(check)
    return json_response(body, status)


@app.get(
    "/readyz",
    summary="Readiness: 200 once the knowledge base is checked and warm, 503 while starting or stopping",
    responses={
        200: {"description": "Ready to answer", "content": {"application/json": {"example": {"status": "ready"}}}},
        503: {
            "description": "Not ready (starting, stopping, or the warm-up failed)",
            "content": {"application/json": {"example": {"status": "not ready"}}},
        },
    },
)
async def readyz():
    ready = is_warm()
    return json_response({"status": "ready" if ready else "not ready"}, 200 if ready else 503)


@app.post(
    "/v1/decisions",
    summary="Answer one decision request",
    openapi_extra={"requestBody": {"required": True, "content": body_content("DecisionRequest")}},
    responses={
        200: {
            "description": "The decision: JSON by default; with `Accept` the Chinese text (text/plain), the "
            "合规意见 memo (text/markdown, Word), one row per obligation (text/csv) or calendar "
            "reminders (text/calendar)",
            "content": {**json_content("DecisionResponse"), **export_content()},
        },
        **error_responses(400, 413, 422, 503),
    },
)
async def post_decision(request: Request, quotes: QuotesMode = QUOTES_QUERY, trace: bool = TRACE_QUERY):
    fmt = negotiated_format(request.headers.get("accept"), DECISION_MEDIA)  # 406 for an Accept we cannot meet
    data = await read_json(request)
    status, body, media, headers = await on_engine(decide_as, data, fmt, quotes, trace)
    return Response(body, status_code=status, media_type=media, headers=headers)


@app.post(
    "/v1/decisions/batch",
    summary=f"Answer up to {MAX_BATCH} decision requests; each invalid one is answered in place with its errors",
    openapi_extra={"requestBody": {"required": True, "content": body_content("BatchRequest")}},
    responses={
        200: {
            "description": 'One answer per request, in order, streamed: `{"responses": [...]}`, or with '
            "`Accept: application/x-ndjson` one answer per line. With `Accept: text/csv` (streamed) or the xlsx "
            "media type: the tracking sheet, one row per obligation per request (columns: request number from 1, "
            "institution, jurisdiction, technology, class, action, addressee, due date, status, materials, "
            "provisions, errors; the xlsx with Chinese headers), an invalid request as one row with its errors",
            "content": {
                **json_content("BatchResponse"),
                NDJSON: {"schema": {"type": "string"}},
                CSV: {"schema": {"type": "string"}},
                XLSX: {"schema": {"type": "string", "format": "binary"}},
            },
        },
        503: {
            "description": "Too many batches in progress on this worker (see Retry-After), or the knowledge base is invalid",
            "content": json_content(ERROR_SCHEMA),
        },
        **error_responses(400, 413, 422),
    },
)
async def post_batch(request: Request, quotes: QuotesMode = QUOTES_QUERY, trace: bool = TRACE_QUERY):
    return await batch_response(request, quotes, trace)  # streamed, at most BATCH_SLOTS at once (engine.service.batch)


@app.get(
    "/v1/flowcharts/{jurisdiction}",
    summary="The procedure of a jurisdiction as a flowchart",
    response_class=Response,  # a chart, not JSON (else FastAPI lists application/json for generators)
    responses={
        200: {
            "description": "The chart",
            "content": {m.split(";")[0]: {"schema": {"type": "string"}} for m in FLOWCHART_MEDIA.values()},
        },
        **error_responses(404, 422, 501, 503),
    },
)
async def get_flowchart(
    jurisdiction: str,
    format: ChartFormat = Query("svg", description="output format"),  # noqa: B008 - an immutable Literal
    chart: ChartName = Query("filing", description="which procedure"),  # noqa: B008
    as_of: str | None = Query(None, description="YYYY-MM-DD; documents in force on that day"),
):
    day = parse_as_of(as_of)
    body = await on_engine(flowchart, jurisdiction, chart, format, day)
    return Response(body, media_type=FLOWCHART_MEDIA[format])


@app.post(
    "/v1/flowcharts/{jurisdiction}",
    summary="A decision request's case on the flowchart of its jurisdiction and day, highlighted (kept; "
    "POST /v1/flowcharts takes the jurisdiction from the request)",
    deprecated=True,
    response_class=Response,  # a chart, not JSON (else FastAPI lists application/json for generators)
    openapi_extra={"requestBody": {"required": True, "content": json_content("DecisionRequest")}},
    responses={
        200: {
            "description": "The chart with the case marked",
            "content": {m.split(";")[0]: {"schema": {"type": "string"}} for m in FLOWCHART_MEDIA.values()},
        },
        **error_responses(400, 404, 413, 422, 501, 503),
    },
)
async def post_flowchart(
    request: Request,
    jurisdiction: str,
    format: ChartFormat = Query("svg", description="output format"),  # noqa: B008 - an immutable Literal
    chart: ChartName = Query("filing", description="which procedure"),  # noqa: B008
):
    data = await read_json(request)
    body = await on_engine(highlighted_flowchart, jurisdiction, chart, format, data)
    return Response(body, media_type=FLOWCHART_MEDIA[format])


@app.post(
    "/v1/flowcharts",
    summary="A decision request's case on the flowchart of its own jurisdiction and day, highlighted",
    response_class=Response,  # a chart, not JSON
    openapi_extra={"requestBody": {"required": True, "content": json_content("DecisionRequest")}},
    responses={
        200: {
            "description": "The chart with the case marked (the jurisdiction is the request's institution.jurisdiction)",
            "content": {m.split(";")[0]: {"schema": {"type": "string"}} for m in FLOWCHART_MEDIA.values()},
        },
        **error_responses(400, 404, 413, 422, 501, 503),
    },
)
async def post_flowchart_of_request(
    request: Request,
    format: ChartFormat = Query("svg", description="output format"),  # noqa: B008 - an immutable Literal
    chart: ChartName = Query("filing", description="which procedure"),  # noqa: B008
):
    data = await read_json(request)
    body = await on_engine(highlighted_flowchart, request_jurisdiction(data), chart, format, data)
    return Response(body, media_type=FLOWCHART_MEDIA[format])


@app.get(
    "/v1/documents",
    summary="The encoded source documents",
    responses={200: {"description": "Documents", "content": json_content("DocumentList")}, **error_responses(422, 503)},
)
async def documents_index(
    as_of: str | None = Query(None, description="YYYY-MM-DD for `status`; default today in China"),
):
    return json_response(await on_engine(list_documents, parse_as_of(as_of)))


@app.get(
    "/v1/documents/{document}",
    summary="One document with its provisions",
    responses={
        200: {"description": "The document", "content": json_content("Document")},
        **error_responses(404, 422, 503),
    },
)
async def document_detail(document: str, as_of: str | None = Query(None, description="YYYY-MM-DD for `status`")):
    return json_response(await on_engine(get_document, document, parse_as_of(as_of)))


@app.get(
    "/v1/documents/{document}/provisions/{eid}",
    summary="One provision: Chinese label, verbatim text, children",
    responses={
        200: {"description": "The provision", "content": json_content("Provision")},
        **error_responses(404, 422, 503),
    },
)
async def provision_detail(document: str, eid: str):
    return json_response(await on_engine(get_provision, document, eid))


app.include_router(explore_router)  # search, compare, catalogues, technologies (engine.service.explore)
app.include_router(beyond_case_router)  # register, changes, ledger: API and pages (engine.service.beyond_case)
app.include_router(metrics_router)  # GET /metrics, Prometheus (engine.service.metrics)


# --------------------------------------------------------------------------- running


def run(
    host: str = "127.0.0.1", port: int = 8000, workers: int = 1, *, access_log: bool = False, log_level: str = "info"
) -> None:
    """Serve with uvicorn; `workers=N` runs N processes. SIGTERM/SIGINT shut down gracefully
    (in-flight requests get up to 5 s). `access_log` logs every request (off by default: a log line
    per request costs throughput; see benchmarks/load.py --access-log)."""
    import uvicorn

    uvicorn.run(
        "engine.service.app:app",
        host=host,
        port=port,
        workers=workers if workers > 1 else None,
        timeout_graceful_shutdown=5,
        access_log=access_log,
        log_level=log_level,
        http="engine.service.protocol:JsonErrorProtocol",
    )  # unparseable requests: a JSON 400
