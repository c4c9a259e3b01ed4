"""The ledger page for a medical-affairs office (医务处): upload a 台账, get every row answered.

    GET  /ledger                     the form: the institution, the day, the file (xlsx or csv)
    GET  /ledger/template.xlsx       the template (header, one example row, lists for grades and yes/no)
    POST /ledger                     multipart/form-data: the results as a page (each row's class and verdict,
                                     the most urgent acts, the unreadable rows)
    POST /ledger?fmt=xlsx|csv|ics    the same form: one of the three results as a download

Stateless: each button of the form posts the file again (nothing is kept on the server, so the page works
behind several workers). The upload is read as a stream and capped as the service caps a request body
(`MAX_BODY`, 413 beyond) and a batch (`MAX_BATCH` rows); ledgers are answered at most `BATCH_SLOTS` at once per
worker (503 beyond). The form is parsed with the standard library (email), no extra dependency.
"""

from __future__ import annotations

import datetime as dt
import email.parser
import email.policy
import logging
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from engine.service.decisions import MAX_BATCH
from engine.service.errors import ApiError
from engine.service.input import MAX_BODY
from engine.service.limits import BATCHES, read_body
from engine.service.web import _error_page, _html
from engine.service.worker import on_engine

log = logging.getLogger("engine.service.web")

router = APIRouter(include_in_schema=False)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOWNLOADS = (
    ("xlsx", "结果工作簿（台账、全部事项、无法读取的行）"),
    ("csv", "台账 CSV（含类别和结论）"),
    ("ics", "日历提醒（今后的截止日期）"),
)
SHOWN_ACTS = 30  # acts shown on the page; the workbook has them all


def _choices() -> dict:
    from engine.kb.vocabulary import vocabulary

    v = vocabulary()
    return {
        "jurisdictions": [(j.id, j.name) for j in v.jurisdictions],
        "categories": v.names("institution_categories"),
        "downloads": DOWNLOADS,
        "max_kib": MAX_BODY // 1024,
        "max_rows": MAX_BATCH,
    }


def _today() -> dt.date:
    from engine.inference.request import today_in_china

    return today_in_china()


def _form(body: bytes, content_type: str) -> tuple[dict[str, str], tuple[str, bytes] | None]:
    """The fields and the file (name, bytes) of a multipart/form-data body."""
    if not content_type.lower().startswith("multipart/form-data"):
        return {}, None
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    fields: dict[str, str] = {}
    upload: tuple[str, bytes] | None = None
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        raw = part.get_payload(decode=True)
        payload = raw if isinstance(raw, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            if payload:
                upload = (filename, payload)
        elif name:
            fields[str(name)] = payload.decode("utf-8", "replace").strip()
    return fields, upload


def _institution(fields: dict[str, str]) -> tuple[dict, str, dict[str, str]]:
    """The institution and the day of the form, and the problems beside their fields (Chinese)."""
    from engine.errors import InvalidRequest
    from engine.inference.request import parse_request
    from engine.render.errors import error_text

    institution: dict = {"jurisdiction": fields.get("jurisdiction") or "national"}
    if fields.get("inst_name"):
        institution["name"] = fields["inst_name"]
    if fields.get("category"):
        institution["category"] = fields["category"]
    if fields.get("level") in ("1", "2", "3"):
        institution["level"] = int(fields["level"])
    elif fields.get("level") == "none":
        institution["level"] = None
    if fields.get("tcm") in ("yes", "no"):
        institution["tcm"] = fields["tcm"] == "yes"
    as_of = fields.get("as_of") or _today().isoformat()
    errors: dict[str, str] = {}
    try:
        parse_request({"as_of": as_of, "institution": institution})
    except InvalidRequest as exc:
        for e in exc.errors:
            errors[e["path"].rsplit(".", 1)[-1] or "form"] = error_text(e)
    return institution, as_of, errors


def ledger_result(fields: dict[str, str], upload: tuple[str, bytes] | None, fmt: str | None):
    """(status, template context) for the page, or a download Response; runs on the engine thread."""
    from engine.errors import LedgerError
    from engine.ledger import output
    from engine.ledger.run import acts, answer_ledger
    from engine.ledger.sheet import read_ledger

    institution, as_of, errors = _institution(fields)
    if upload is None:
        errors["file"] = "请选择台账文件（.xlsx 或 .csv）"
    ledger = None
    if not errors and upload is not None:
        try:
            ledger = read_ledger(upload[1], upload[0], institution, as_of)
        except LedgerError as exc:
            errors["file"] = str(exc)
        else:
            if len(ledger.rows) > MAX_BATCH:
                errors["file"] = (
                    f"台账有 {len(ledger.rows)} 行，网页一次最多 {MAX_BATCH} 行（更多请用 medtech ledger 命令）"
                )
    context = {**_choices(), "values": {**fields, "as_of": as_of}, "errors": errors, "result": None}
    if errors or ledger is None or upload is None:
        return 422, context
    answered = answer_ledger(ledger)
    stem = upload[0].rsplit(".", 1)[0] or "台账"
    if fmt in ("xlsx", "csv", "ics"):
        if fmt == "xlsx":
            body: bytes = output.result_workbook(ledger, answered, as_of)
            media, name = XLSX, f"{stem}-结果.xlsx"
        elif fmt == "csv":
            body = output.result_csv(ledger, answered, as_of).encode("utf-8")
            media, name = "text/csv; charset=utf-8", f"{stem}-结果.csv"
        else:
            body = output.calendar(answered, as_of, institution.get("name") or "")
            media, name = "text/calendar; charset=utf-8", f"{stem}-提醒.ics"
        return Response(
            body, media_type=media, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"}
        )
    headers = [h for h in ledger.headers if h]
    rows = output.ledger_rows(ledger, answered, as_of)
    every = acts(answered)
    context["result"] = {
        "headers": [*headers[:3], "技术类别", "结论", "最近截止日期"],
        "rows": [[*r[:3], r[-4], r[-3], r[-2]] for r in rows],
        "numbers": [a.row.number for a in answered],
        "acts": every[:SHOWN_ACTS],
        "more_acts": max(0, len(every) - SHOWN_ACTS),
        "unreadable": output.unreadable(answered),
        "answered": sum(1 for a in answered if a.answer is not None),
        "total": len(answered),
        "file": upload[0],
    }
    return 200, context


@router.get("/ledger", response_class=HTMLResponse)
async def ledger_form():
    return _html("ledger.html", **_choices(), values={"as_of": _today().isoformat()}, errors={}, result=None)


@router.get("/ledger/template.xlsx")
async def ledger_template():
    from engine.ledger.output import template

    body = await on_engine(template)
    name = quote("台账模板.xlsx")
    return Response(body, media_type=XLSX, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})


@router.post("/ledger")
async def ledger_post(request: Request):
    fmt = request.query_params.get("fmt")
    try:
        body = await read_body(request, MAX_BODY)
    except ApiError as exc:
        if exc.status == 413:
            kib = MAX_BODY // 1024
            return _error_page(413, "文件太大", f"网页上传的台账最大 {kib} KiB；更大的台账请用 medtech ledger 命令。")
        raise
    fields, upload = _form(body, request.headers.get("content-type", ""))
    if not BATCHES.take():
        return _error_page(503, "正在处理其他台账", "服务器正在处理其他台账，请稍后再试。")
    try:
        out = await on_engine(ledger_result, fields, upload, fmt)
    except Exception:  # noqa: BLE001 - a person sees a Chinese page, the log keeps the traceback
        log.exception("ledger failed")
        return _error_page(500, "出错了", "处理台账时发生内部错误，请稍后重试。")
    finally:
        BATCHES.give_back()
    if isinstance(out, Response):
        return out
    status, context = out
    return _html("ledger.html", status, **context)
