"""`POST /v1/decisions/batch`, streamed and bounded.

A 1,000-request batch answers with 40-80 MB of JSON. The answer is streamed: requests are
decided `BATCH_CHUNK` at a time on the engine thread and each chunk is sent before the next is
decided, so a worker holds one chunk of answers per batch (sending waits while the client is
slow to read), never the whole response. At most `limits.BATCH_SLOTS` batches run at once per
worker; another gets 503 with `Retry-After` straight away.

Two forms of the same answers, chosen by `Accept`:
- `application/json` (default): `{"responses": [...]}`, one answer per request, in order;
- `application/x-ndjson`: one answer per line, in order (no wrapper), for clients that process
  answers as they arrive.
The status is 200 once streaming starts; a failure of the knowledge base is found before (503).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request
from fastapi.responses import StreamingResponse

from engine.service.decisions import BATCH_CHUNK, batch_items, decide_many
from engine.service.input import read_json
from engine.service.kb_access import kb
from engine.service.limits import BATCHES, busy
from engine.service.worker import on_engine

NDJSON = "application/x-ndjson"


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


async def _stream(items: list, ndjson: bool, slot: _Slot, quotes: str) -> AsyncIterator[bytes]:
    try:
        yield b"" if ndjson else b'{"responses":['
        first = True
        for start in range(0, len(items), BATCH_CHUNK):
            parts = await on_engine(decide_many, items[start : start + BATCH_CHUNK], quotes)
            if ndjson:
                yield b"".join(p + b"\n" for p in parts)
            else:
                yield (b"" if first else b",") + b",".join(parts)
            first = False
        if not ndjson:
            yield b"]}"
    finally:
        slot.release()


async def batch_response(request: Request, quotes: str = "all") -> StreamingResponse:
    """Answer a batch request (see the module docstring; `quotes` as for one decision); raises
    ApiError 4xx/503 before streaming."""
    if not BATCHES.take():
        raise busy("batches")
    slot = _Slot()
    try:
        items = batch_items(await read_json(request))
        await on_engine(kb)  # 503 now, rather than a broken stream, when the knowledge base is invalid
    except BaseException:
        slot.release()
        raise
    ndjson = wants_ndjson(request)
    return StreamingResponse(_stream(items, ndjson, slot, quotes), media_type=NDJSON if ndjson else "application/json")
