"""`POST /v1/decisions/batch`, streamed and bounded.

A 1,000-request batch answers with 40-80 MB of JSON. The answer is streamed: requests are
decided `BATCH_CHUNK` at a time on the engine thread and each chunk is sent before the next is
decided, so a worker holds one chunk of answers per batch (sending waits while the client is
slow to read), never the whole response. At most `limits.BATCH_SLOTS` batches run at once per
worker; another gets 503 with `Retry-After` straight away.

Two forms of the same answers, chosen by `Accept`:
- `application/json` (default): `{"responses": [...]}`, one answer per request, in order;
- `application/x-ndjson`: one answer per line, in order (no wrapper), for clients that process
  answers as they arrive;
- `text/csv` (streamed) or the xlsx media type (whole, at the end): the tracking sheet of
  `medtech batch --format csv|xlsx`, one row per obligation per request (engine.render.table), the
  `request` column numbering the requests from 1, an invalid request one row with its errors.
The status is 200 once streaming starts; a failure of the knowledge base is found before (503).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request
from fastapi.responses import Response, StreamingResponse

from engine.service.decisions import BATCH_CHUNK, batch_items, decide_many, rows_many
from engine.service.input import read_json
from engine.service.kb_access import kb
from engine.service.limits import BATCHES, busy
from engine.service.semantics import require_acceptable
from engine.service.worker import on_engine

NDJSON = "application/x-ndjson"
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def table_format(request: Request) -> str | None:
    """ "csv" or "xlsx" when `Accept` prefers a table to JSON and NDJSON (in the order given), else None."""
    accept = request.headers.get("accept", "").lower()
    found = {f: accept.find(m) for f, m in (("csv", CSV), ("xlsx", XLSX), ("json", "application/json"), ("nd", NDJSON))}
    present = sorted((pos, f) for f, pos in found.items() if pos >= 0)
    return present[0][1] if present and present[0][1] in ("csv", "xlsx") else None


def wants_ndjson(request: Request) -> bool:
    """True when the client asks for NDJSON (and does not name JSON before it)."""
    accept = request.headers.get("accept", "").lower()
    nd, js = accept.find(NDJSON), accept.find("application/json")
    return nd >= 0 and (js < 0 or nd < js)


class _Slot:
    """One of BATCHES, given back exactly once: when the stream ends, fails or is cancelled, or,
    if the stream never started (the client went away first), when it is dropped."""

    def __init__(self):
        self.held = True

    def release(self) -> None:
        if self.held:
            self.held = False
            BATCHES.give_back()

    def __del__(self):
        self.release()


async def _stream(items: list, ndjson: bool, slot: _Slot, quotes: str, trace: bool = True) -> AsyncIterator[bytes]:
    try:
        yield b"" if ndjson else b'{"responses":['
        first = True
        for start in range(0, len(items), BATCH_CHUNK):
            parts = await on_engine(decide_many, items[start : start + BATCH_CHUNK], quotes, trace)
            if ndjson:
                yield b"".join(p + b"\n" for p in parts)
            else:
                yield (b"" if first else b",") + b",".join(parts)
            first = False
        if not ndjson:
            yield b"]}"
    finally:
        slot.release()


async def _stream_csv(items: list, slot: _Slot) -> AsyncIterator[bytes]:
    from engine.render.table import csv_header, csv_rows

    try:
        yield csv_header().encode("utf-8")
        for start in range(0, len(items), BATCH_CHUNK):
            rows = await on_engine(rows_many, items[start : start + BATCH_CHUNK], start)
            yield csv_rows(rows).encode("utf-8")
    finally:
        slot.release()


async def _xlsx(items: list, slot: _Slot) -> bytes:
    from engine.render.table import XlsxWriter

    try:
        with XlsxWriter() as sheet:  # its temporary file is removed whatever happens
            for start in range(0, len(items), BATCH_CHUNK):
                sheet.add(await on_engine(rows_many, items[start : start + BATCH_CHUNK], start))
            return await on_engine(sheet.to_bytes)
    finally:
        slot.release()


async def batch_response(request: Request, quotes: str = "all", trace: bool = True) -> Response:
    """Answer a batch request (see the module docstring; `quotes` and `trace` as for one decision); raises
    ApiError 4xx/503 before streaming."""
    require_acceptable(request.headers.get("accept"), ("application/json", NDJSON, CSV, XLSX))
    # the slot is taken once the body is in: a client trickling its body holds no slot meanwhile
    items = batch_items(await read_json(request))
    if not BATCHES.take():
        raise busy("batches")
    slot = _Slot()
    try:
        await on_engine(kb)  # 503 now, rather than a broken stream, when the knowledge base is invalid
    except BaseException:
        slot.release()
        raise
    table = table_format(request)
    headers = {"Vary": "Accept"}
    if table == "csv":
        headers["Content-Disposition"] = 'inline; filename="batch.csv"'
        return StreamingResponse(_stream_csv(items, slot), media_type=f"{CSV}; charset=utf-8", headers=headers)
    if table == "xlsx":
        body = await _xlsx(items, slot)
        headers["Content-Disposition"] = 'attachment; filename="batch.xlsx"'
        return Response(body, media_type=XLSX, headers=headers)
    ndjson = wants_ndjson(request)
    return StreamingResponse(
        _stream(items, ndjson, slot, quotes, trace), media_type=NDJSON if ndjson else "application/json"
    )
