"""The read-only resources of the HTTP service besides decisions: documents and provisions,
technology look-ups in the catalogues, and flowcharts. Each function runs on the engine thread
and returns a JSON-ready dict (bytes for a flowchart) or raises an `ApiError`.
"""

from __future__ import annotations

import datetime as dt
import functools

from engine.errors import GraphvizMissing, InvalidRequest, KnowledgeBaseError, NotFound
from engine.service.errors import ApiError, error, kb_unavailable, not_found
from engine.service.kb_access import document, documents, resolve_jurisdiction

FLOWCHART_MEDIA = {
    "svg": "image/svg+xml",
    "png": "image/png",
    "pdf": "application/pdf",
    "dot": "text/vnd.graphviz; charset=utf-8",
    "mermaid": "text/plain; charset=utf-8",
}


def _today() -> dt.date:
    from engine.inference.request import today_in_china

    return today_in_china()


# --------------------------------------------------------------------------- documents


def _provision_tree(doc, provision) -> dict:
    out = provision.to_dict()
    out["parent"] = provision.parent
    out["children"] = [_provision_tree(doc, doc.provisions[c]) for c in provision.children]
    return out


def _document_summary(doc, as_of: dt.date) -> dict:
    return {
        "id": doc.id,
        "title": doc.title,
        "number": doc.number,
        "jurisdiction": doc.jurisdiction,
        "kind": doc.kind,
        "issuer": list(doc.issuer),
        "dates": doc.dates,
        "status": doc.status_on(as_of),
        "provisions": len(doc.provisions),
    }


def list_documents(as_of: dt.date | None) -> dict:
    """Every encoded document with its status on `as_of` (default today in China)."""
    as_of = as_of or _today()
    return {"as_of": as_of.isoformat(), "documents": [_document_summary(d, as_of) for d in documents().values()]}


def get_document(document_id: str, as_of: dt.date | None) -> dict:
    """One document with its provisions, its status on `as_of` and its top-level outline."""
    doc = document(document_id)
    as_of = as_of or _today()
    out = doc.to_dict()
    out["as_of"] = as_of.isoformat()
    out["status"] = doc.status_on(as_of)
    out["outline"] = [p.eid for p in doc.top_level()]
    return out


def get_provision(document_id: str, eid: str) -> dict:
    """One provision, by eId or Chinese label (第十一条第一款), with its parent and its children, nested
    (404 for an unknown eid or label, 422 for a label several provisions share)."""
    from engine.kb.search import provision_by_ref

    doc = document(document_id)
    try:
        provision = doc.get(provision_by_ref(doc, eid))
    except NotFound as exc:
        raise not_found(exc, "eid") from None
    except ValueError as exc:
        raise error(422, str(exc), "eid") from None
    return {"document": {"id": doc.id, "title": doc.title}, **_provision_tree(doc, provision)}


# --------------------------------------------------------------------------- technologies


def find_technologies(
    q: str, jurisdiction: str | None, as_of: dt.date | None, surgery_grade: int | None = None
) -> dict:
    """How the catalogues in force treat a name, abbreviation or code (engine.catalog.resolve)."""
    j = resolve_jurisdiction(jurisdiction) if jurisdiction else None
    try:
        from engine import catalog
    except ImportError as exc:
        raise error(501, f"the technology catalogue is not available in this installation ({exc})") from None
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


# --------------------------------------------------------------------------- flowcharts


@functools.lru_cache(maxsize=64)
def _render(jurisdiction: str, chart: str, fmt: str, as_of: str | None) -> bytes:
    from engine.flowchart import render_chart

    out = render_chart(jurisdiction, chart=chart, fmt=fmt, as_of=as_of)
    return out.encode("utf-8") if isinstance(out, str) else bytes(out)


def flowchart(jurisdiction: str, chart: str, fmt: str, as_of: dt.date | None) -> bytes:
    """The `chart` procedure of a jurisdiction rendered as `fmt` (cached per day)."""
    j = resolve_jurisdiction(jurisdiction)
    try:
        from engine.flowchart import render_chart  # noqa: F401 - lazy: optional until it exists
    except ImportError as exc:
        raise error(501, f"flowcharts are not available in this installation ({exc})") from None
    try:
        return _render(j.id, chart, fmt, (as_of or _today()).isoformat())  # the day is part of the cache key
    except NotFound as exc:
        raise not_found(exc, "jurisdiction") from None
    except KnowledgeBaseError as exc:
        raise kb_unavailable(exc) from None
    except GraphvizMissing:
        raise error(
            501, f"format {fmt} needs Graphviz (`dot`), which is not installed; try format=mermaid", "format"
        ) from None


def request_jurisdiction(data) -> str:
    """The jurisdiction a decision request names (`institution.jurisdiction`); 422 when it names none."""
    inst = data.get("institution") if isinstance(data, dict) else None
    spelling = inst.get("jurisdiction") if isinstance(inst, dict) else None
    if not isinstance(spelling, str) or not spelling:
        raise error(422, "is required: the chart is that of the request's jurisdiction", "institution.jurisdiction")
    return spelling


def highlighted_flowchart(jurisdiction: str, chart: str, fmt: str, data) -> bytes:
    """The `chart` of a decision request's case (its jurisdiction and day) with the case marked,
    as `fmt`: 422 with every problem for an invalid request or one for another jurisdiction."""
    j = resolve_jurisdiction(jurisdiction)
    if not isinstance(data, dict):
        raise error(422, "the body must be one decision request (a JSON object)")
    from engine.flowchart import render_chart

    try:
        out = render_chart(j.id, chart=chart, fmt=fmt, highlight=data)
    except InvalidRequest as exc:
        raise ApiError(422, exc.errors) from None
    except NotFound as exc:
        raise not_found(exc, "chart") from None
    except KnowledgeBaseError as exc:
        raise kb_unavailable(exc) from None
    except ValueError as exc:  # the request is for another jurisdiction than the path's
        raise error(422, str(exc), "institution.jurisdiction") from None
    except GraphvizMissing:
        raise error(
            501, f"format {fmt} needs Graphviz (`dot`), which is not installed; try format=mermaid", "format"
        ) from None
    return out.encode("utf-8") if isinstance(out, str) else bytes(out)
