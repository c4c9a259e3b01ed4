"""The register page for policy staff: every duty of a jurisdiction on a day, filtered, printable on A4.

    GET /register?jurisdiction=&as_of=&category=&level=&tcm=&actor=&action=&origin=

Rendered on the server from engine.register (the same model as `medtech register` and
`GET /v1/register/{jurisdiction}`); the filters are a GET form, so the page needs no script.
The downloads link to the API with the same parameters.
"""

from __future__ import annotations

import datetime as dt
import logging
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from engine.errors import NotFound
from engine.service.web import _error_page, _html
from engine.service.worker import on_engine

log = logging.getLogger("engine.service.web")

router = APIRouter(include_in_schema=False)
DOWNLOADS = (
    ("xlsx", "Excel（按义务人分表）"),
    ("csv", "CSV"),
    ("md", "Markdown"),
    ("text", "纯文本"),
    ("json", "JSON"),
)


def _today() -> dt.date:
    from engine.inference.request import today_in_china

    return today_in_china()


def register_page(params: dict[str, str]) -> tuple[int, dict]:
    """(status, template context) for the page's query; problems are shown beside the form."""
    from engine.inference.request import parse_date
    from engine.kb.vocabulary import vocabulary
    from engine.register.formats import label
    from engine.register.model import build_register, filtered
    from engine.register.words import words

    v = vocabulary()
    errors: dict[str, str] = {}
    jurisdiction = params.get("jurisdiction") or "national"
    try:
        j = v.jurisdiction(jurisdiction)
    except NotFound:
        errors["jurisdiction"] = "不是受支持的地区"
        j = v.jurisdiction("national")
    try:
        day = parse_date(params["as_of"]) if params.get("as_of") else _today()
    except ValueError:
        errors["as_of"] = "日期应为 YYYY-MM-DD 格式且在支持范围内"
        day = _today()
    category = params.get("category") or None
    if category and category not in v.ids("institution_categories"):
        errors["category"] = "不是受支持的机构类别"
        category = None
    level = int(params["level"]) if params.get("level") in ("1", "2", "3") else None
    tcm = {"yes": True, "no": False}.get(params.get("tcm") or "")
    reg = build_register(j.id, day, category=category, level=level, tcm=tcm, quotes=True)
    actor, action, origin = (params.get(k) or "" for k in ("actor", "action", "origin"))
    shown = filtered(reg, actor=actor or None, action=action or None, origin=origin or None)
    rows = reg["duties"] + reg["authority_duties"]
    api = {"as_of": day.isoformat()}
    api.update({k: str(x) for k, x in (("category", category), ("level", level)) if x})
    if tcm is not None:
        api["tcm"] = "true" if tcm else "false"
    api.update({k: x for k, x in (("actor", actor), ("action", action), ("origin", origin)) if x})
    context = {
        "reg": reg,
        "duties": shown["duties"],
        "authority": shown["authority_duties"],
        "total": len(rows),
        "errors": errors,
        "values": {
            "jurisdiction": j.id,
            "as_of": day.isoformat(),
            "category": category or "",
            "level": str(level or ""),
            "tcm": params.get("tcm") or "",
            "actor": actor,
            "action": action,
            "origin": origin,
        },
        "jurisdictions": [(x.id, x.name) for x in v.jurisdictions],
        "categories": v.names("institution_categories"),
        "actors": [(a, n) for a, n in v.local_names(j.id, "actors").items() if any(r["actor"] == a for r in rows)],
        "actions": [(a, n) for a, n in v.names("actions").items() if any(r["action"] == a for r in rows)],
        "origins": words()["origins"],
        "downloads": [(f"/v1/register/{j.id}?" + urlencode({**api, "format": f}), name) for f, name in DOWNLOADS],
        "label": label,
    }
    return (422 if errors else 200), context


@router.get("/register", response_class=HTMLResponse)
async def register_view(request: Request):
    params = {k: v for k, v in request.query_params.items()}

    def work() -> HTMLResponse:
        status, context = register_page(params)
        return _html("register.html", status, **context)

    try:
        return await on_engine(work)
    except Exception:  # noqa: BLE001 - a person sees a Chinese page, the log keeps the traceback
        log.exception("register failed for %s", request.url.query)
        return _error_page(500, "出错了", "生成义务清单时发生内部错误，请稍后重试。")
