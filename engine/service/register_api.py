"""Routes for the obligations register and the changes between two days (an APIRouter included by
engine.service.app); the same models as `medtech register` and `medtech changes` (engine.register):

GET /v1/register/{jurisdiction}?as_of=&category=&level=&tcm=&quotes=&format=
GET /v1/changes/{jurisdiction}?from=&to=&category=&level=&tcm=&format=

`format`: json (default), text, md, csv or xlsx (a download).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import Response

from engine.errors import InvalidRequest
from engine.service.errors import error, json_response
from engine.service.input import parse_as_of
from engine.service.kb_access import resolve_jurisdiction
from engine.service.openapi import error_responses
from engine.service.worker import on_engine

router = APIRouter(generate_unique_id_function=lambda route: route.name)

_FORMAT_HELP = "json (default), text (Chinese), md, csv (Chinese headers, UTF-8 with BOM) or xlsx (a download)"


def _object(description: str, **properties: str) -> dict:
    return {
        "type": "object",
        "description": description,
        "properties": {k: {"description": v} for k, v in properties.items()},
    }


_ROW = _object(
    "one duty",
    id="the duty's key: the national rule it stems from, or the provincial rule that creates it",
    stage="obligation (an institution's, physician's or training base's) or authority",
    origin="national, adds (a provincial duty), narrows (stricter or more precise), replaces",
    origin_name="the origin in Chinese",
    trigger="when the duty arises, in Chinese (the rule's condition)",
    summary="the duty in the provision's words",
    act="the act's id (the same across jurisdictions)",
    action="the action (kb/vocabulary.yaml actions)",
    action_name="the action in Chinese",
    actor="who must act",
    actor_name="who must act, in Chinese (the jurisdiction's own words)",
    addressee="to whom (null: nobody)",
    addressee_name="to whom, in Chinese",
    deadline="kind, days, months, event, date; text (the provision's words) and rule (the deadline as a rule)",
    materials="the materials the provisions list (text and citation)",
    citations="the provisions (document, eid, label; quote with quotes=true)",
    consequences="what the provisions say follows from not doing it",
    rules="the rules behind the row",
    national="the national rule as written (null for a provincial duty)",
    provincial="the provincial rules with their relation to the national one",
)
REGISTER_SCHEMA = {
    **_object(
        "every duty a jurisdiction's rules can create on a day",
        jurisdiction="id and Chinese name",
        as_of="the day",
        knowledge_base="version and digest",
        documents="the jurisdiction's documents with their status on the day",
        filters="category, level and tcm as asked (null: any)",
    ),
}
REGISTER_SCHEMA["properties"]["duties"] = {"type": "array", "items": _ROW, "description": "the institution's duties"}
REGISTER_SCHEMA["properties"]["authority_duties"] = {
    "type": "array",
    "items": _ROW,
    "description": "the authorities' duties, listed apart",
}
CHANGES_SCHEMA = {
    **_object(
        "what changed between two days",
        jurisdiction="id and Chinese name",
        knowledge_base="version and digest",
        filters="category, level and tcm as asked (null: any)",
        documents="the documents' statuses on each day",
    ),
}
CHANGES_SCHEMA["properties"]["from"] = {"type": "string", "description": "the earlier day"}
CHANGES_SCHEMA["properties"]["to"] = {"type": "string", "description": "the later day"}
CHANGES_SCHEMA["properties"]["changes"] = {
    "type": "array",
    "description": "documents, then duties, then catalogue entries",
    "items": _object(
        "one change",
        kind="document_in_force, document_expired, document_uncertain, duty_added, duty_removed, duty_changed, "
        "duty_restated, technique_listed, technique_delisted, technique_renumbered, technique_grades, "
        "technique_narrowed, technique_broadened",
        kind_name="the kind in Chinese",
        subject="what changed (a document title, a duty, a technique)",
        before="as it was (null: absent)",
        after="as it is (null: absent)",
        basis="what caused it: provisions, a catalogue version or a document",
    ),
}


def _formats() -> tuple[str, ...]:
    from engine.register.formats import FORMATS

    return FORMATS


def _check_format(fmt: str) -> str:
    if fmt not in _formats():
        raise error(422, f"{fmt!r} is not one of: {', '.join(_formats())}", "format")
    return fmt


def _institution(category: str | None, level: int | None) -> None:
    from engine.kb.vocabulary import vocabulary

    categories = vocabulary().ids("institution_categories")
    if category is not None and category not in categories:
        raise error(422, f"{category!r} is not one of: {', '.join(categories)}", "category")
    if level is not None and level not in (1, 2, 3):
        raise error(422, f"{level!r} is not one of: 1, 2, 3", "level")


def _download(body: str | bytes, fmt: str, name: str) -> Response:
    from engine.register.formats import EXTENSIONS, MEDIA

    if fmt == "json":
        return Response(body, media_type=MEDIA["json"])
    headers = {}
    if fmt in ("csv", "xlsx"):
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name + '.' + EXTENSIONS[fmt])}"
    return Response(body, media_type=MEDIA[fmt], headers=headers)


def register_response(
    jurisdiction: str, as_of: dt.date, fmt: str, *, quotes: bool = False, rows: dict | None = None, **filters
) -> Response:
    """The register as a response in `fmt` (engine.register.formats); `rows`: actor, action, origin to keep."""
    from engine.register.formats import render_register
    from engine.register.model import build_register, filtered

    reg = filtered(build_register(jurisdiction, as_of, quotes=quotes, **filters), **(rows or {}))
    if fmt == "json":
        return json_response(reg)
    name = f"义务清单-{reg['jurisdiction']['name']}-{reg['as_of']}"
    return _download(render_register(reg, fmt, quotes=quotes), fmt, name)


def changes_response(jurisdiction: str, day_from: dt.date, day_to: dt.date, fmt: str, **filters) -> Response:
    """The changes as a response in `fmt`."""
    from engine.register.changes import build_changes
    from engine.register.formats import render_changes

    ch = build_changes(jurisdiction, day_from, day_to, **filters)
    if fmt == "json":
        return json_response(ch)
    name = f"变化-{ch['jurisdiction']['name']}-{ch['from']}-{ch['to']}"
    return _download(render_changes(ch, fmt), fmt, name)


def _today() -> dt.date:
    from engine.inference.request import today_in_china

    return today_in_china()


_CATEGORY = Query(
    None, description="institution category (hospital, maternal_child_health, …); default any", examples=["hospital"]
)
_LEVEL = Query(None, description="医院等级 1, 2 or 3; default any", examples=[3])
_TCM = Query(None, description="true: a TCM institution, false: not one; default either", examples=[False])


@router.get(
    "/v1/register/{jurisdiction}",
    summary="The obligations register: every duty a jurisdiction's rules can create on a day",
    description="One row per duty, generated from the rules: trigger, act, actor, addressee, deadline (words and "
    "rule), materials, provisions, consequences and origin (national; provincial adding, narrowing or replacing). "
    "The authorities' duties are listed apart. " + _FORMAT_HELP + ".",
    responses={
        200: {"description": "The register", "content": {"application/json": {"schema": REGISTER_SCHEMA}}},
        **error_responses(404, 422, 503),
    },
)
async def get_register(
    jurisdiction: str,
    as_of: str | None = Query(None, description="YYYY-MM-DD; default today in China"),
    category: str | None = _CATEGORY,
    level: int | None = _LEVEL,
    tcm: bool | None = _TCM,
    actor: str | None = Query(
        None, description="only this actor's duties (institution, physician, …)", examples=["institution"]
    ),
    action: str | None = Query(None, description="only this action (file, report, …)", examples=["file"]),
    origin: str | None = Query(
        None, description="only this origin: national, adds, narrows, replaces", examples=["narrows"]
    ),
    quotes: bool = Query(False, description="quote every provision verbatim", examples=[False]),
    format: str = Query("json", description=_FORMAT_HELP, examples=["json"]),
):
    from engine.kb.vocabulary import vocabulary
    from engine.register.words import words

    j = resolve_jurisdiction(jurisdiction).id
    day = parse_as_of(as_of) or _today()
    fmt = _check_format(format)
    _institution(category, level)
    v = vocabulary()
    for name, value, allowed in (
        ("actor", actor, v.ids("actors")),
        ("action", action, v.ids("actions")),
        ("origin", origin, list(words()["origins"])),
    ):
        if value is not None and value not in allowed:
            raise error(422, f"{value!r} is not one of: {', '.join(allowed)}", name)
    rows = {"actor": actor, "action": action, "origin": origin}
    return await on_engine(
        register_response, j, day, fmt, quotes=quotes, rows=rows, category=category, level=level, tcm=tcm
    )


@router.get(
    "/v1/changes/{jurisdiction}",
    summary="What changed between two days: documents, duties, catalogue entries",
    description="The registers and catalogues in force on the two days compared; each change cites the provision, "
    "catalogue or document that caused it. A document whose start is known only to the year (Jilin) is said so. "
    + _FORMAT_HELP
    + ".",
    responses={
        200: {"description": "The changes", "content": {"application/json": {"schema": CHANGES_SCHEMA}}},
        **error_responses(404, 422, 503),
    },
)
async def get_changes(
    jurisdiction: str,
    date_from: str = Query(..., alias="from", description="the earlier day, YYYY-MM-DD", examples=["2022-04-19"]),
    date_to: str = Query(..., alias="to", description="the later day, YYYY-MM-DD", examples=["2022-04-20"]),
    category: str | None = _CATEGORY,
    level: int | None = _LEVEL,
    tcm: bool | None = _TCM,
    format: str = Query("json", description=_FORMAT_HELP, examples=["json"]),
):
    j = resolve_jurisdiction(jurisdiction).id
    a, b = parse_as_of(date_from, "from"), parse_as_of(date_to, "to")
    assert a is not None and b is not None
    if a > b:
        raise error(422, f"from {a} is after to {b}", "from")
    fmt = _check_format(format)
    _institution(category, level)
    try:
        return await on_engine(changes_response, j, a, b, fmt, category=category, level=level, tcm=tcm)
    except InvalidRequest as exc:  # pragma: no cover - the filters are checked above
        raise error(422, exc.errors[0]["message"], exc.errors[0]["path"]) from None
