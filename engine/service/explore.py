"""Routes for exploring the knowledge base (an APIRouter included by engine.service.app):

GET  /v1/search?q=…                      full-text search of the provisions (engine.kb.search)
POST /v1/compare                         one case, several jurisdictions (engine.render.compare)
GET  /v1/catalogs/diff?old=…&new=…       what changed between two catalogue versions
GET  /v1/catalogs/{jurisdiction}?as_of=  the catalogue versions in force, with their entries
GET  /v1/technologies?q=&jurisdiction=&as_of=&limit=&offset=
                                         the technologies the catalogues in force list, paginated,
                                         with the name look-up (`resolution`) when `q` is given
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from engine.errors import InvalidRequest, NotFound
from engine.service.errors import ApiError, error, json_response, not_found
from engine.service.input import parse_as_of, read_json
from engine.service.kb_access import resolve_jurisdiction
from engine.service.openapi import error_responses, json_content
from engine.service.worker import on_engine

router = APIRouter(generate_unique_id_function=lambda route: route.name)  # operationId = the function name

MAX_PAGE = 500


def _today() -> dt.date:
    from engine.inference.request import today_in_china

    return today_in_china()


def _jurisdiction_or_all(value: str | None, default: str = "national") -> str:
    if value is None or value == "":
        return default
    if value.strip().lower() in ("all", "全部"):
        return "all"
    return resolve_jurisdiction(value).id


def _page(items: list, limit: int, offset: int) -> dict:
    end = offset + limit
    return {
        "total": len(items),
        "limit": limit,
        "offset": offset,
        "next_offset": end if end < len(items) else None,
        "items": items[offset:end],
    }


# --------------------------------------------------------------------------- search


def _search(q: str, document: list[str] | None, jurisdiction: str | None, limit: int, offset: int) -> dict:
    from engine.kb.search import document_order, search

    known = document_order()
    if document:
        unknown = [d for d in document if d not in known]
        if unknown:
            raise error(404, f"unknown document {unknown[0]!r}", "document", available=known)
        docs = document
    elif jurisdiction:
        j = _jurisdiction_or_all(jurisdiction)
        docs = known if j == "all" else list(resolve_jurisdiction(j).documents)
    else:
        docs = known
    try:
        hits = search(q, docs)
    except ValueError as exc:
        raise error(422, str(exc), "q") from None
    page = _page([h.to_dict() for h in hits], limit, offset)
    return {"query": q, "documents": docs, **page}


@router.get(
    "/v1/search",
    summary="Full-text search of the provisions of every encoded document",
    description="Substring search (no word segmentation needed for Chinese); several words separated by spaces "
    "must all occur. One result per top-level provision (article, section, attachment) with the most "
    "specific provisions that contain the words (`matches`); ranked by occurrences of the whole phrase, "
    "then of all words.",
    responses={
        200: {"description": "Matching provisions, best first", "content": json_content("SearchResults")},
        **error_responses(404, 422, 503),
    },
)
async def get_search(
    q: str = Query(
        ..., min_length=1, max_length=200, description="words to find, e.g. 伦理委员会", examples=["伦理委员会"]
    ),
    document: Annotated[
        list[str] | None, Query(description="only these documents (repeatable), e.g. nhc-2018-1")
    ] = None,
    jurisdiction: str | None = Query(
        None, description="only the documents that apply in this jurisdiction (id, Chinese name or all)"
    ),
    limit: int = Query(20, ge=1, le=MAX_PAGE, description="results per page"),
    offset: int = Query(0, ge=0, description="results to skip"),
):
    return json_response(await on_engine(_search, q, document, jurisdiction, limit, offset))


# --------------------------------------------------------------------------- compare


def _compare(body, text: bool):
    from engine.render.compare import compare, compare_text, parse_jurisdictions

    if not isinstance(body, dict):
        raise error(422, 'a comparison must be a JSON object {"request": {...}, "jurisdictions": [...]}')
    problems = [
        {"path": str(k), "message": "unknown field (allowed: request, jurisdictions)"}
        for k in body
        if k not in ("request", "jurisdictions")
    ]
    if "request" not in body:
        problems.append({"path": "request", "message": "is required"})
    if problems:
        raise ApiError(422, problems)
    try:
        ids = parse_jurisdictions(body.get("jurisdictions"))
    except InvalidRequest as exc:
        raise ApiError(422, exc.errors) from None
    try:
        model = compare(body["request"], ids)
    except InvalidRequest as exc:
        raise ApiError(
            422,
            [{"path": "request" + (f".{e['path']}" if e["path"] else ""), "message": e["message"]} for e in exc.errors],
        ) from None
    return compare_text(model) if text else model


@router.post(
    "/v1/compare",
    summary="One case in several jurisdictions side by side, differences marked",
    description="The request is answered once per jurisdiction (its `institution.jurisdiction` is replaced) and the "
    "acts are lined up: class, each action's deadline, addressee, materials and provisions. "
    "`Accept: text/plain` returns the Chinese text of `medtech compare`.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                **json_content("CompareRequest"),
                "application/yaml": {"schema": {"$ref": "#/components/schemas/CompareRequest"}},
            },
        }
    },
    responses={
        200: {
            "description": "The comparison",
            "content": {**json_content("Comparison"), "text/plain": {"schema": {"type": "string"}}},
        },
        **error_responses(400, 413, 415, 422, 503),
    },
)
async def post_compare(request: Request):
    body = await read_json(request)
    text = "text/plain" in (request.headers.get("accept") or "")
    out = await on_engine(_compare, body, text)
    if text:
        return Response(out, media_type="text/plain; charset=utf-8")
    return json_response(out)


# --------------------------------------------------------------------------- catalogues


def _diff(old: str, new: str) -> dict:
    from engine.catalog.diff import diff_versions

    try:
        return _earlier_later(diff_versions(old, new))
    except NotFound as exc:
        raise not_found(exc, "old" if exc.key == old else "new") from None


def _earlier_later(node):
    """The diff with its `old`/`new` members named `earlier`/`later` (no reserved word of Java or Python in the
    names client generators make from the schema)."""
    if isinstance(node, list):
        return [_earlier_later(v) for v in node]
    if isinstance(node, dict):
        return {{"old": "earlier", "new": "later"}.get(k, k): _earlier_later(v) for k, v in node.items()}
    return node


@router.get(
    "/v1/catalogs/diff",
    summary="What changed between two catalogue versions",
    description="Entries matched by canonical technology: added, removed, changed (code, name or grades), "
    "narrowed or broadened.",
    responses={
        200: {"description": "The differences", "content": json_content("CatalogDiff")},
        **error_responses(404, 422, 503),
    },
)
async def get_catalog_diff(
    old: str = Query(..., description="the earlier version, e.g. national-2018", examples=["national-2018"]),
    new: str = Query(..., description="the later version, e.g. national-2022", examples=["national-2022"]),
):
    return json_response(await on_engine(_diff, old, new))


def _catalogs(jurisdiction: str, as_of: dt.date | None) -> dict:
    from engine.catalog.listing import catalogs_view

    return catalogs_view(_jurisdiction_or_all(jurisdiction), as_of or _today())


@router.get(
    "/v1/catalogs/{jurisdiction}",
    summary="The restricted-technology catalogues in force in a jurisdiction",
    description="The national version in force on `as_of` and the jurisdiction's own list while its document is in "
    "force (`all`: every province's), each with its validity, citations and entries.",
    responses={
        200: {"description": "The versions in force", "content": json_content("CatalogsInForce")},
        **error_responses(404, 422, 503),
    },
)
async def get_catalogs(
    jurisdiction: str,
    as_of: str | None = Query(None, description="YYYY-MM-DD; default today in China"),
):
    return json_response(await on_engine(_catalogs, jurisdiction, parse_as_of(as_of)))


def _technologies(
    q: str | None, jurisdiction: str | None, as_of: dt.date | None, surgery_grade: int | None, limit: int, offset: int
) -> dict:
    from engine.catalog.listing import technologies

    j = _jurisdiction_or_all(jurisdiction)
    day = as_of or _today()
    out: dict = {"query": q, "jurisdiction": j, "as_of": day.isoformat()}
    out.update(_page(technologies(j, day, q), limit, offset))
    if q:
        from engine.service.resources import find_technologies

        found = find_technologies(q, None if j == "all" else j, day, surgery_grade)
        if j == "all":  # find_technologies looks in one jurisdiction; redo the look-up across all
            from engine import catalog

            found["resolution"] = catalog.resolve(
                name=q, code=q if len(q) <= 40 else None, jurisdiction="all", as_of=day, surgery_grade=surgery_grade
            ).to_dict()
            found["text"] = catalog.format_search(q, jurisdiction="all", as_of=day, surgery_grade=surgery_grade)
        out["resolution"] = found["resolution"]
        if "text" in found:
            out["text"] = found["text"]
    return out


@router.get(
    "/v1/technologies",
    summary="The technologies the catalogues in force list, searchable and paginated",
    description="Without `q`: every technology listed in the jurisdiction's catalogues in force. With `q`: those whose "
    "name, code or alias contains it or that the name look-up recognises, plus `resolution`, how the "
    "catalogues treat the name (the same as `medtech tech search`).",
    responses={
        200: {"description": "One page of technologies", "content": json_content("Technologies")},
        **error_responses(404, 422, 501, 503),
    },
)
async def get_technologies(
    q: str | None = Query(
        None,
        min_length=1,
        max_length=200,
        description="name, common name, abbreviation or code (optional)",
        examples=["PCI"],
    ),
    jurisdiction: str | None = Query(None, description="id, Chinese name or all; default national"),
    as_of: str | None = Query(None, description="YYYY-MM-DD; default today in China"),
    surgery_grade: int | None = Query(None, ge=1, le=4, description="手术分级, for grade-qualified entries"),
    limit: int = Query(50, ge=1, le=MAX_PAGE, description="technologies per page"),
    offset: int = Query(0, ge=0, description="technologies to skip"),
):
    return json_response(
        await on_engine(_technologies, q, jurisdiction, parse_as_of(as_of), surgery_grade, limit, offset)
    )
