"""Decisions for the HTTP service: one request, or a batch answered item by item.

`decide_one` and `decide_many` run on the engine thread; bodies come back already encoded so
that a batch can be assembled without decoding its answers again.
"""

from __future__ import annotations

import logging
from typing import Any, Literal
from urllib.parse import quote

from fastapi import Query

from engine.errors import InvalidRequest, KnowledgeBaseError
from engine.service.errors import ApiError, dumps, error, kb_unavailable
from engine.service.metrics import count_action, count_decision

log = logging.getLogger("engine.service.app")

MAX_BATCH = 1000
BATCH_CHUNK = 25  # batch items per executor job, so other requests interleave

QuotesMode = Literal["all", "once", "none"]
QUOTES_QUERY = Query(
    "all",
    description="all: every citation quotes its provision (the default shape); once: quotes "
    "moved to a top-level `provisions` map keyed document:eid; none: no quotes",
)

DECISION_ID_HEADER = "X-Decision-Id"
_INTERNAL = {"errors": [{"path": "", "message": "internal error while answering this request"}]}


TRACE_QUERY = Query(
    True,
    description="false: answer without the `trace` member (the rules that fired; about a third of a typical "
    "answer), which is then not built at all",
)


def _decide(data: Any, trace: bool = True) -> dict:
    """The engine's response, counted in /metrics (engine.service.metrics)."""
    # engine.decide is the package-level function (the module is engine.inference.decision)
    from engine import decide

    response = decide(data, trace=trace)
    count_decision(response)
    return response


def _decide_json(data: Any, quotes: str, trace: bool) -> tuple[int, bytes, str | None]:
    # the bytes come from templates (engine.render.templates), the same as dumps(compact_quotes(decide()))
    from engine.render.templates import decide_encoded

    try:
        body, info = decide_encoded(data, quotes=quotes, trace=trace)
        count_action(info["action"])
        return 200, body, info["decision_id"]
    except InvalidRequest as exc:
        return 422, dumps({**_echoed_id(data), "errors": exc.errors}), None
    except KnowledgeBaseError as exc:
        raise kb_unavailable(exc) from None


def _echoed_id(data: Any) -> dict:
    """`{"id": …}` when an invalid request carries a usable `id` (a batch's answers are matched by it), else `{}`."""
    rid = data.get("id") if isinstance(data, dict) else None
    return {"id": rid} if isinstance(rid, str) and 0 < len(rid) <= 128 else {}


def decide_one(data: Any, quotes: str = "all", trace: bool = True) -> tuple[int, bytes]:
    """(status, JSON body) for one request: 200 with the response (in the `quotes` form, see
    engine.render.compact; without the trace when `trace` is false) or 422 with every problem."""
    return _decide_json(data, quotes, trace)[:2]


def _headers(decision: str | None, **more: str) -> dict:
    out = {"Vary": "Accept"}
    if decision:
        out[DECISION_ID_HEADER] = decision
    return {**out, **more}


def decide_as(data: Any, fmt: str, quotes: str = "all", trace: bool = True) -> tuple[int, bytes, str, dict]:
    """(status, body, media type, headers) for one request answered in export format `fmt`
    (engine.render.exports): JSON as decide_one; the other formats rendered from the same response.
    Invalid requests are answered 422 with the JSON errors whatever the format asked for. `quotes`
    and `trace` shape the JSON only (the other formats cite by label and quote where they show quotes).
    A decision's id is in the `X-Decision-Id` header too, whatever the format."""
    if fmt == "json":
        status, body, decision = _decide_json(data, quotes, trace)
        return status, body, "application/json", _headers(decision)
    from engine.render.exports import EXPORTS, render_export

    try:
        response = _decide(data)
    except InvalidRequest as exc:
        return 422, dumps({"errors": exc.errors}), "application/json", _headers(None)
    except KnowledgeBaseError as exc:
        raise kb_unavailable(exc) from None
    body, media, name = render_export(response, fmt, request=data if isinstance(data, dict) else None)
    disposition = "attachment" if EXPORTS[fmt].binary else "inline"
    return (
        200,
        body,
        media,
        _headers(
            response.get("decision_id"), **{"Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(name)}"}
        ),
    )


def export_content() -> dict:
    """OpenAPI `content` members for the non-JSON representations of a decision (chosen by Accept)."""
    from engine.render.exports import EXPORTS

    out = {}
    for fmt, e in EXPORTS.items():
        if fmt == "json":
            continue
        schema = {"type": "string", "format": "binary"} if e.binary else {"type": "string"}
        out[e.media_type.split(";")[0]] = {"schema": schema, "x-description": e.description}
    return out


def decide_many(items: list, quotes: str = "all", trace: bool = True) -> list[bytes]:
    """Answers for batch items, each a response or `{"errors": [...]}` in place."""
    out = []
    for item in items:
        try:
            out.append(decide_one(item, quotes, trace)[1])
        except ApiError:
            raise
        except Exception:  # noqa: BLE001 - one bad item must not lose the batch
            log.exception("batch item failed")
            out.append(dumps(_INTERNAL))
    return out


def rows_many(items: list, start: int) -> list[dict]:
    """Tracking-sheet rows (engine.render.table) for batch items numbered from `start + 1`: one row
    per obligation per request, or one row with the request's errors in Chinese."""
    from engine.render.answer import build_answer
    from engine.render.errors import error_text
    from engine.render.table import error_row, obligation_rows

    rows: list[dict] = []
    for n, item in enumerate(items, start + 1):
        try:
            response = _decide(item)
            rows += obligation_rows(build_answer(response, request=item if isinstance(item, dict) else None), n)
        except InvalidRequest as exc:
            rows.append(error_row(n, [f"{e.get('path') or '(请求)'}: {error_text(e)}" for e in exc.errors]))
        except KnowledgeBaseError as exc:
            raise kb_unavailable(exc) from None
        except Exception:  # noqa: BLE001 - one bad item must not lose the batch
            log.exception("batch item failed")
            rows.append(error_row(n, ["内部错误：该请求未能作答，请联系维护人员"]))
    return rows


def batch_items(data: Any) -> list:
    """The requests of a batch body `{"requests": [...]}` (422 with every problem otherwise)."""
    if not isinstance(data, dict):
        raise error(422, 'a batch must be a JSON object {"requests": [...]}')
    errors = [{"path": str(k), "message": "unknown field (allowed: requests)"} for k in data if k != "requests"]
    items = data.get("requests")
    if "requests" not in data:
        errors.append({"path": "requests", "message": "is required"})
    elif not isinstance(items, list):
        errors.append({"path": "requests", "message": f"{items!r:.60} is not of type 'array'"})
    elif len(items) > MAX_BATCH:
        errors.append({"path": "requests", "message": f"at most {MAX_BATCH} requests per batch (got {len(items)})"})
    if errors or not isinstance(items, list):
        raise ApiError(422, errors)
    return items
