"""The web page's comparison view: the page's case in several jurisdictions side by side, with
what differs marked (the model is engine.render.compare, the same as `medtech compare`).

    GET /compare?<the page's query>&cj=national&cj=hunan…     cj: the jurisdictions (default every jurisdiction)
                                                              only=diff: only the acts that differ
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from engine.errors import InvalidRequest
from engine.service import webform
from engine.service.web import _error_page, _html
from engine.service.worker import on_engine

log = logging.getLogger("engine.service.web")

router = APIRouter(include_in_schema=False)
OWN = ("cj", "only")  # this view's own parameters; the rest is the page's query


def compare_page(items: list[tuple[str, str]]) -> dict | None:
    """The template context for a query (None when the query is not a valid request)."""
    from engine.kb.vocabulary import vocabulary
    from engine.render.compare import FIELD_ZH, GROUP_ZH, compare, parse_jurisdictions

    case = [(k, v) for k, v in items if k not in OWN]
    chosen = [v for k, v in items if k == "cj" and v]
    only_diff = any(k == "only" and v == "diff" for k, v in items)
    form = webform.parse_query(case)
    if form.request is None:
        return None
    try:
        ids = parse_jurisdictions(chosen)
        model = compare(form.request, ids)
    except InvalidRequest:
        return None
    rows = [r for r in model["rows"] if r["substantive"] or not only_diff]
    v = vocabulary()
    short = v.names("document_short_titles")
    return {
        "model": model,
        "rows": rows,
        "hidden_rows": len(model["rows"]) - len(rows),
        "only_diff": only_diff,
        "case_query": urlencode(case),
        "case_items": case,
        "chosen": [j["id"] for j in model["jurisdictions"]],
        "all_jurisdictions": [(j.id, j.name) for j in v.jurisdictions],
        "group_zh": GROUP_ZH,
        "field_zh": FIELD_ZH,
        "statuses": v.names("statuses"),
        "request": form.request,
        "group_citations": group_citations,
        "short": lambda doc: short.get(doc) or "《未知文件》",
        "case_facts": case_facts(form.request),
        "cards": cards(model, rows),
        "own": (form.request.get("institution") or {}).get("jurisdiction"),
    }


def group_citations(citations: list[dict]) -> list[tuple[str, list[dict]]]:
    """Citations grouped by document, in order of first appearance: [(document, [citation, …])]."""
    out: dict[str, list[dict]] = {}
    for c in citations:
        out.setdefault(c["document"], []).append(c)
    return list(out.items())


def case_facts(request: dict) -> list[tuple[str, str]]:
    """The case compared, as (label, value) lines in Chinese: who, which technique, what happened, on which day."""
    from engine.kb.vocabulary import vocabulary

    v = vocabulary()
    inst = request.get("institution") or {}
    tech = request.get("technology") or {}
    levels = {1: "一级", 2: "二级", 3: "三级"}
    categories = v.names("institution_categories")
    kind = [levels.get(inst.get("level") or 0, ""), categories.get(str(inst.get("category") or ""), "")]
    kind_text = "".join(k for k in kind if k)
    who = f"{inst['name']}（{kind_text}）" if inst.get("name") and kind_text else (inst.get("name") or kind_text)
    out = [("医疗机构", who or "（未填写名称）")]
    out.append(("医疗技术", str(tech.get("name") or tech.get("code") or "未指定（仅机构层面的义务）")))
    fields = v.raw.get("request_fields") or {}
    flags = [
        fields.get(f"technology.{k}", k) + ("：是" if tech[k] else "：否")
        for k in ("first_in_institution", "first_in_jurisdiction", "major_ethical_risk", "unapproved_product")
        if isinstance(tech.get(k), bool)
    ]
    if flags:
        out.append(("情形", "；".join(flags)))
    names = v.names("event_types")
    events = sorted(request.get("events") or [], key=lambda e: str(e.get("date")))
    if events:
        out.append(("事件", "；".join(f"{e.get('date')} {names.get(e.get('type'), '事件')}" for e in events)))
    out.append(("查询日期", str(request.get("as_of") or "")))
    return out


def cards(model: dict, rows: list[dict]) -> list[dict]:
    """One block per jurisdiction (for a phone): its class, then the acts in which it differs from the
    others first, then those the same everywhere; a `(row, cell)` pair per act, cell None where it is not owed."""
    out = []
    for j in model["jurisdictions"]:
        diff: list[tuple] = []
        same: list[tuple] = []
        for row in rows:
            pair = (row, row["cells"][j["id"]])
            (diff if row["substantive"] else same).append(pair)
        out.append({"id": j["id"], "name": j["name"], "column": model["columns"][j["id"]], "diff": diff, "same": same})
    return out


@router.get("/compare", response_class=HTMLResponse)
async def compare_view(request: Request):
    items = list(request.query_params.multi_items())

    def work():
        context = compare_page(items)
        return None if context is None else _html("compare.html", **context)

    try:
        out = await on_engine(work)
    except Exception:  # noqa: BLE001 - a person sees a Chinese page, the log keeps the traceback
        log.exception("compare failed for %s", request.url.query)
        return _error_page(500, "出错了", "生成对比时发生内部错误，请稍后重试。")
    return out or _error_page(422, "查询不完整", "请先在查询页填写有效的查询（至少选择所在地区），再查看各地对比。")
