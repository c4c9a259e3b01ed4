"""The web page for people (contract section 1, "Web page"): a Chinese form that asks for a decision
request, the answer on one screen, the case's highlighted flowchart, the provisions' full texts,
and downloads of the exports.

    GET /                              the form; with a query (the form submits by GET) also the answer
    GET /chart.svg?<same query>        the case's flowchart, highlighted (&chart=filing|incident; &part=N: its
                                       Nth A4 landscape page, for the printed answer)
    GET /chart.pdf?<same query>        the same chart as 16:9 slides (engine.flowchart.slides)
    GET /export?fmt=…&<same query>     the answer as a file (engine.render exports)
    GET /provisions/{document}         a document's full text
    GET /provisions/{document}/{eid}   one provision in its article, with its full text
    GET /static/{name}                 the page's own CSS, JS and icon (no CDN, no web fonts)

Every page is rendered on the server (Jinja2); the JS only enhances it (technology suggestions,
adding event rows, showing the questions that matter in the chosen jurisdiction). Bad input is
shown as a Chinese message beside its field; unexpected failures as a Chinese error page.
"""

from __future__ import annotations

import functools
import json
import logging
import shutil
from pathlib import Path
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from engine.errors import GraphvizMissing, InvalidRequest, NotFound
from engine.service import webform
from engine.service.worker import on_engine

log = logging.getLogger("engine.service.web")

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
# incident-type events: the page also shows the incident procedure when the request has one
INCIDENT_EVENTS = ("staff_or_equipment_change", "serious_incident", "efficacy_doubt", "listed_prohibited")

# the downloads offered on the page: format (engine.render.exports) -> button text
EXPORTS = (
    ("docx", "下载 Word 合规意见"),
    ("csv", "导出表格"),
    ("ics", "加入日历"),
    ("md", "合规意见（文本格式，可编辑）"),
    ("text", "纯文本答复"),
    ("json", "数据文件（供信息系统使用）"),
)
# the facts that decide the answer for a technique in no catalogue: asked (and shown, with how they counted)
# when the person says the technique is in none (form field new_tech)
DECIDING = (
    "technology.major_ethical_risk",
    "technology.unapproved_product",
    "technology.prohibited_grounds",
    "technology.first_in_institution",
)

router = APIRouter(include_in_schema=False)

_env = Environment(
    loader=FileSystemLoader(str(HERE / "templates")),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _html(template: str, status: int = 200, **context) -> HTMLResponse:
    body = _env.get_template(template).render(**context)
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def _error_page(status: int, title: str, message: str) -> HTMLResponse:
    return _html("error.html", status, title=title, message=message)


# --------------------------------------------------------------------------- the page


def _choices() -> dict:
    """The form's choices, all from kb/vocabulary.yaml (and the indications from catalogs/taxonomy.yaml)."""
    from engine.catalog.data import load_catalogs
    from engine.kb.vocabulary import vocabulary

    v = vocabulary()
    return {
        "jurisdictions": [(j.id, j.name) for j in v.jurisdictions],
        # every province-level division; those whose documents are encoded name their jurisdiction
        "provinces": [(p["name"], p.get("jurisdiction") or "") for p in v.raw.get("provinces") or []],
        "encoded_provinces": "、".join(p["name"] for p in v.raw.get("provinces") or [] if p.get("jurisdiction")),
        "categories": list(v.names("institution_categories").items()),
        "levels": [("1", "一级"), ("2", "二级"), ("3", "三级"), ("none", "未定级")],
        "grades": [("1", "一级手术"), ("2", "二级手术"), ("3", "三级手术"), ("4", "四级手术")],
        "grounds": list(v.names("prohibited_grounds").items()),
        "events": list(v.names("event_types").items()),
        "questions": v.raw.get("questions", {}),
        "fields": v.raw.get("request_fields", {}),
        # the indications a ban for one indication names (catalogs/taxonomy.yaml), as the field's example
        "indications": "、".join(i.name for i in load_catalogs().taxonomy.indications.values()),
    }


def _where(path: str) -> str:
    """The jurisdictions (space-separated) where a question matters; empty = everywhere."""
    where = webform.relevance().get(path)
    return " ".join(sorted(where)) if where is not None else "none"


def build_page(items: list[tuple[str, str]]) -> dict:
    """Everything the page template needs for one query (runs on the engine thread)."""
    from engine import decide
    from engine.render.answer import build_answer

    form = webform.parse_query(items)
    response = answer = None
    if form.request is not None:
        try:
            response = decide(form.request)
        except InvalidRequest as exc:
            webform.engine_errors(form, exc.errors)
    if response is not None:
        answer = build_answer(response, request=form.request)
    jid = webform.jurisdiction_id(form.values.get("jurisdiction"))
    asked = {q["path"] for q in (answer or {}).get("questions", [])}
    query = urlencode([(k, v) for k, v in items if v != ""])
    events = form.events + [webform.EventRow() for _ in range(webform.EXTRA_EVENT_ROWS)]
    shown = []
    if response is not None:
        shown.append(("filing", "备案流程"))
        if any(e["type"] in INCIDENT_EVENTS for e in (form.request or {}).get("events", [])):
            shown.append(("incident", "停止与报告流程"))
    key = json.dumps(form.request, sort_keys=True, ensure_ascii=False) if response is not None else ""
    new_tech = form.values.get("new_tech") == "yes"
    counted = []
    unrecognised = response is not None and response.get("technology") and not response["technology"].get("id")
    if response is not None and (new_tech or unrecognised):
        from engine.render.counted import how_counted

        counted = how_counted(response, form.request, list(DECIDING))
    charts = [(c, title, _print_parts(key, c)) for c, title in shown]  # (chart, title, A4 pages when printed)
    return {
        "form": form,
        "v": form.values,
        "events": events,
        "choices": _choices(),
        "where": _where,
        "jurisdiction": jid,
        "response": response,
        "answer": answer,
        "asked": asked,
        "query": query,
        "charts": charts,
        "charts_prerendered": bool(charts) and not graphviz_present(),
        "today": webform.today().isoformat(),
        "hidden": [
            (k, v)
            for k, v in items
            if v != ""
            and webform.PATHS.get(k) not in asked
            # asked again in the answer's form (是否已备案？备案日期): not carried twice
            and not ((answer or {}).get("asks_filed") and k in ("filed", webform.FILED_ON))
        ],
        "field_of": webform.FIELD_OF,
        "exports": EXPORTS,
        "new_tech": new_tech,
        "counted": counted,
    }


def render_page(items: list[tuple[str, str]]) -> HTMLResponse:
    """The page for a query: 200, or 422 when the form has problems (shown beside their fields)."""
    context = build_page(items)
    return _html("page.html", 422 if context["form"].errors else 200, **context)


@router.get("/", response_class=HTMLResponse)
async def page(request: Request):
    items = list(request.query_params.multi_items())
    try:
        return await on_engine(render_page, items)
    except Exception:  # noqa: BLE001 - a person sees a Chinese page, the log keeps the traceback
        log.exception("page failed for %s", request.url.query)
        return _error_page(500, "出错了", "生成答复时发生内部错误，请稍后重试，或将本页地址发给系统管理员。")


# --------------------------------------------------------------------------- flowchart


@functools.lru_cache(maxsize=128)
def _chart(request_json: str, chart: str) -> str:
    from engine.flowchart import render_chart

    out = render_chart(None, chart, "svg", highlight=json.loads(request_json))
    return out.decode("utf-8") if isinstance(out, bytes) else out


@functools.lru_cache(maxsize=32)
def _a4_pages(request_json: str, chart: str) -> tuple[str, ...]:
    """The highlighted chart cut into A4 landscape pages (SVG), for the printed answer."""
    from engine.flowchart.highlight import highlight_graph
    from engine.flowchart.render import to_a4_svgs

    G, _ = highlight_graph(json.loads(request_json), chart)
    return tuple(to_a4_svgs(G))


def _print_parts(request_json: str, chart: str) -> int:
    """How many A4 pages the chart takes when the answer is printed (1 when it cannot be drawn)."""
    try:
        return len(_a4_pages(request_json, chart))
    except Exception:  # noqa: BLE001 - the screen chart reports the failure; the page still prints
        return 1


@functools.lru_cache(maxsize=16)
def _slides(request_json: str, chart: str) -> bytes:
    from engine.flowchart import render_chart

    out = render_chart(None, chart, highlight=json.loads(request_json), slides=True)
    return out if isinstance(out, bytes) else out.encode("utf-8")


def chart_svg(items: list[tuple[str, str]], chart: str, part: int | None = None) -> str | None:
    """The highlighted chart for the page's query (None when the query is not a valid request);
    `part`: its nth A4 page (from 1) for printing, the last when there are fewer."""
    form = webform.parse_query(items)
    if form.request is None:
        return None
    key = json.dumps(form.request, sort_keys=True, ensure_ascii=False)
    try:
        if part is not None:
            pages = _a4_pages(key, chart)
            return pages[min(part, len(pages)) - 1]
        return _chart(key, chart)
    except InvalidRequest:
        return None


def chart_slides(items: list[tuple[str, str]], chart: str) -> bytes | None:
    """The highlighted chart as 16:9 slides (PDF) for the page's query (None: not a valid request)."""
    form = webform.parse_query(items)
    if form.request is None:
        return None
    try:
        return _slides(json.dumps(form.request, sort_keys=True, ensure_ascii=False), chart)
    except InvalidRequest:
        return None


def graphviz_present() -> bool:
    """True when Graphviz's `dot` is on PATH (the page's charts are then drawn for the case)."""
    return shutil.which("dot") is not None


def prerendered_chart_svg(items: list[tuple[str, str]], chart: str) -> str | None:
    """The committed chart of the query's jurisdiction (diagrams/<jurisdiction>-<chart>.svg, drawn on
    kb/flowcharts.yaml's day, without the case marked), shown when Graphviz is missing; None when
    the query names no jurisdiction or there is no such file."""
    from engine.paths import DIAGRAMS_DIR

    jid = webform.jurisdiction_id(webform.parse_query(items).values.get("jurisdiction"))
    path = DIAGRAMS_DIR / f"{jid}-{chart}.svg"
    return path.read_text(encoding="utf-8") if jid and path.is_file() else None


_PAGE_CHARTS = ("filing", "incident")  # the charts the page offers, as a picture or as slides


def _unknown_chart() -> HTMLResponse:
    return _error_page(404, "没有该流程图", "流程图只有 filing（备案）和 incident（停止与报告）两种。")


@router.get("/chart.svg")
async def chart(request: Request):
    items = [(k, v) for k, v in request.query_params.multi_items() if k not in ("chart", "part")]
    which = request.query_params.get("chart", "filing")
    if which not in _PAGE_CHARTS:
        return _unknown_chart()
    part_text = request.query_params.get("part")
    if part_text is not None and not (part_text.isdigit() and 1 <= int(part_text) <= 20):
        return _error_page(404, "没有该页", "part 应为 1 至 20 的页码。")
    part = int(part_text) if part_text is not None else None
    try:
        svg = await on_engine(chart_svg, items, which, part)
    except GraphvizMissing:  # the chart as committed in diagrams/, for the jurisdiction asked about
        svg = prerendered_chart_svg(items, which)
        if svg is None:
            return _error_page(503, "流程图无法生成", "本机未安装 Graphviz，且没有预先生成的流程图。")
        return Response(
            svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store", "X-Chart-Source": "pre-rendered"}
        )
    except Exception:  # noqa: BLE001
        log.exception("chart failed for %s", request.url.query)
        return _error_page(500, "流程图生成失败", "流程图暂时无法生成（需要 Graphviz）。")
    if svg is None:
        return _error_page(422, "查询不完整", "请先在表单中填写有效的查询，再查看流程图。")
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


@router.get("/chart.pdf")
async def slides(request: Request):
    items = [(k, v) for k, v in request.query_params.multi_items() if k != "chart"]
    which = request.query_params.get("chart", "filing")
    if which not in _PAGE_CHARTS:
        return _unknown_chart()
    try:
        pdf = await on_engine(chart_slides, items, which)
    except Exception:  # noqa: BLE001
        log.exception("slides failed for %s", request.url.query)
        return _error_page(500, "幻灯片生成失败", "幻灯片暂时无法生成（需要 Graphviz）。")
    if pdf is None:
        return _error_page(422, "查询不完整", "请先在表单中填写有效的查询，再下载幻灯片。")
    name = f"流程图-{which}.pdf"
    disposition = f"attachment; filename=\"slides-{which}.pdf\"; filename*=UTF-8''{quote(name)}"
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": disposition})


# --------------------------------------------------------------------------- exports


def export(items: list[tuple[str, str]], fmt: str) -> tuple[bytes, str, str] | None:
    """(body, media type, file name) of the answer to the page's query (None: not a valid request)."""
    from engine import decide
    from engine.render.exports import render_export

    form = webform.parse_query(items)
    if form.request is None:
        return None
    try:
        response = decide(form.request)
    except InvalidRequest:
        return None
    return render_export(response, fmt, request=form.request)


@router.get("/export")
async def download(request: Request):
    fmt = request.query_params.get("fmt", "")
    if fmt not in dict(EXPORTS):
        return _error_page(
            404, "没有该下载格式", "可下载的格式：" + "、".join(f"{t}（{k}）" for k, t in EXPORTS) + "。"
        )
    items = [(k, v) for k, v in request.query_params.multi_items() if k != "fmt"]
    try:
        out = await on_engine(export, items, fmt)
    except Exception:  # noqa: BLE001
        log.exception("export failed for %s", request.url.query)
        return _error_page(500, "下载失败", "生成下载文件时发生内部错误，请稍后重试。")
    if out is None:
        return _error_page(422, "查询不完整", "请先在表单中填写有效的查询，再下载。")
    body, media_type, filename = out
    disposition = f"attachment; filename=\"{_ascii_name(filename)}\"; filename*=UTF-8''{quote(filename)}"
    return Response(
        body, media_type=media_type, headers={"Content-Disposition": disposition, "Cache-Control": "no-store"}
    )


def _ascii_name(filename: str) -> str:
    """An ASCII fallback for browsers that ignore filename* (RFC 6266)."""
    stem, dot, ext = filename.rpartition(".")
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "" for c in stem) or "medtech-answer"
    return f"{safe}{dot}{ext}" if dot else safe


# --------------------------------------------------------------------------- provisions


def provision_page(document_id: str, eid: str | None) -> dict | None:
    """The context of a provision page: its document and the article around it (None: not found)."""
    from engine.service.kb_access import documents

    docs = documents()
    doc = docs.get(document_id)
    if doc is None:
        return None
    if eid is None:
        top = doc.top_level()
        target = None
    else:
        try:
            target = doc.get(eid)
        except NotFound:
            return None
        root = target
        while root.parent:
            root = doc.provisions[root.parent]
        top = [root]
    order = [p.eid for p in doc.top_level()]
    pos = order.index(top[0].eid) if eid is not None and top[0].eid in order else None
    from engine.kb.vocabulary import vocabulary

    short = vocabulary().raw.get("document_short_titles", {}).get(doc.id)
    status = doc.status_on(webform.today())
    return {
        "doc": doc,
        "target": target,
        "top": top,
        "short": short,
        "status_text": vocabulary().names("document_statuses").get(status, ""),
        "prev": doc.provisions[order[pos - 1]] if pos else None,
        "next": doc.provisions[order[pos + 1]] if pos is not None and pos + 1 < len(order) else None,
        "dates": doc.dates,
    }


def documents_page() -> dict:
    """The context of the documents index: every encoded document with its status today."""
    from engine.kb.vocabulary import vocabulary
    from engine.service.kb_access import documents

    v = vocabulary()
    statuses = v.names("document_statuses")
    jurisdictions = {j.id: j.name for j in v.jurisdictions}
    today = webform.today()
    docs = []
    for d in documents().values():
        docs.append(
            {
                "id": d.id,
                "title": d.title,
                "number": d.number,
                "jurisdiction_text": jurisdictions.get(d.jurisdiction, ""),
                "in_force": "施行：" + _date_text(d.dates.get("in_force_from")),
                "status_text": statuses.get(d.status_on(today), ""),
            }
        )
    return {"docs": docs}


async def _render(template: str, build, *args) -> HTMLResponse:
    """`template` with the context `build(*args)` makes on the engine thread (None: 404);
    a failure is a Chinese error page, the traceback goes to the log only."""

    def work():
        context = build(*args)
        return None if context is None else _html(template, **context)

    try:
        return await on_engine(work)
    except Exception:  # noqa: BLE001
        log.exception("%s failed for %s", template, args)
        return _error_page(500, "出错了", "页面生成时发生内部错误，请稍后重试。")


@router.get("/provisions", response_class=HTMLResponse)
async def documents_index():
    return await _render("documents.html", documents_page)


@router.get("/provisions/{document}", response_class=HTMLResponse)
async def document_page(document: str):
    out = await _render("provision.html", provision_page, document, None)
    return out or _error_page(404, "未找到该文件", f"知识库中没有编号为“{document}”的文件。")


@router.get("/provisions/{document}/{eid}", response_class=HTMLResponse)
async def provision(document: str, eid: str):
    out = await _render("provision.html", provision_page, document, eid)
    return out or _error_page(404, "未找到该条款", f"知识库中没有“{document} {eid}”这一条款。")


# --------------------------------------------------------------------------- static files


@functools.lru_cache(maxsize=1)
def _static_files() -> dict[str, Path]:
    return {p.name: p for p in STATIC_DIR.iterdir() if p.is_file() and p.suffix in STATIC_TYPES}


@router.get("/static/{name}")
async def static(name: str):
    path = _static_files().get(name)
    if path is None:
        return Response("not found", status_code=404, media_type="text/plain; charset=utf-8")
    return FileResponse(path, media_type=STATIC_TYPES[path.suffix], headers={"Cache-Control": "public, max-age=3600"})


@router.get("/favicon.ico")
async def favicon():
    return FileResponse(STATIC_DIR / "icon.svg", media_type="image/svg+xml")


def _date_text(value: dict | None) -> str:
    """A document date in Chinese at its precision (2018年11月1日, 2021年); 不详 when unknown."""
    if not value or not value.get("date"):
        return "不详"
    parts = [int(p) for p in str(value["date"]).split("-") if p.isdigit()]
    precision = value.get("precision", "day")
    units = ("年", "月", "日")[: {"year": 1, "month": 2}.get(precision, 3)]
    return "".join(f"{n}{u}" for n, u in zip(parts, units, strict=False)) or "不详"


def _mark(text: str, part: str | None) -> Markup:
    """`text` escaped, with `part` (the cited provision inside its article) wrapped in <mark>."""
    text = text or ""
    if part and part != text and part in text:
        i = text.index(part)
        return escape(text[:i]) + Markup("<mark>") + escape(part) + Markup("</mark>") + escape(text[i + len(part) :])
    return escape(text)


_env.filters["date_text"] = _date_text
_env.filters["mark"] = _mark
