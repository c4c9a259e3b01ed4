"""The service's HTTP protocol (engine.service.protocol) writes the same bytes as uvicorn's own
httptools protocol, each response in one write, and answers unparseable requests in the
`{errors}` shape. Both protocols are driven with the real app over a recording transport."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

pytest.importorskip("httptools")

from uvicorn.config import Config  # noqa: E402
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol  # noqa: E402
from uvicorn.server import ServerState  # noqa: E402

from engine.service.app import app  # noqa: E402
from engine.service.protocol import JsonErrorProtocol  # noqa: E402

GOOD = {
    "as_of": "2025-04-29",
    "institution": {"jurisdiction": "jilin", "level": 3},
    "technology": {"name": "关节镜诊疗技术", "surgery_grade": 3},
    "events": [{"type": "first_clinical_use", "date": "2025-04-21"}],
}


def _post(path: str, body: bytes, *extra: bytes) -> bytes:
    head = b"POST " + path.encode() + b" HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
    return head + b"".join(extra) + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body


BODY = json.dumps(GOOD, ensure_ascii=False).encode()
REQUESTS = {
    "decision": _post("/v1/decisions", BODY),
    "decision as text": _post("/v1/decisions", BODY, b"Accept: text/plain\r\n"),
    "invalid decision (422)": _post("/v1/decisions", b'{"as_of": "2025-02-30"}'),
    "malformed JSON (400)": _post("/v1/decisions", b"{"),
    "through the router": _post("/v1/decisions?quotes=once&x=1", BODY),
    "unknown route (404)": b"GET /nowhere HTTP/1.1\r\nHost: t\r\n\r\n",
    "health": b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n",
    "HEAD (no body)": b"HEAD /healthz HTTP/1.1\r\nHost: t\r\n\r\n",
    "streamed batch": _post("/v1/decisions/batch", json.dumps({"requests": [GOOD, GOOD]}).encode()),
    "100-continue": _post("/v1/decisions", BODY, b"Expect: 100-continue\r\n"),
    "pipelined": _post("/v1/decisions", BODY) + b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n",
    "connection close": _post("/v1/decisions", BODY, b"Connection: close\r\n"),
}


class Transport(asyncio.Transport):
    """Records every write; enough of a transport for uvicorn's protocol."""

    def __init__(self):
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data):
        self.writes.append(bytes(data))

    def close(self):
        self.closed = True

    def is_closing(self):
        return self.closed

    def get_extra_info(self, name, default=None):
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def pause_reading(self):
        pass

    def resume_reading(self):
        pass


def _exchange(protocol_class, raw: bytes) -> list[bytes]:
    async def run():
        config = Config(app=app, lifespan="off", log_level="warning")
        config.load()
        state = ServerState()
        state.default_headers = [(b"date", b"Tue, 01 Dec 2026 00:00:00 GMT"), (b"server", b"uvicorn")]
        protocol = protocol_class(config=config, server_state=state, app_state={}, _loop=asyncio.get_running_loop())
        transport = Transport()
        protocol.connection_made(transport)
        protocol.data_received(raw)
        for _ in range(2000):  # until every request's task has finished (a decision is milliseconds)
            await asyncio.sleep(0.005)
            if not state.tasks and (protocol.cycle is None or protocol.cycle.response_complete):
                break
        protocol.connection_lost(None)
        return transport.writes

    return asyncio.run(run())


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_same_bytes_as_uvicorns_protocol(name):
    ours, theirs = _exchange(JsonErrorProtocol, REQUESTS[name]), _exchange(HttpToolsProtocol, REQUESTS[name])
    # each answer gets a new request id (engine.service.correlation): the only difference allowed
    fresh_id = re.compile(rb"x-request-id: [0-9a-f]{32}\r\n")
    assert fresh_id.sub(b"", b"".join(ours)) == fresh_id.sub(b"", b"".join(theirs))
    assert b"".join(ours).startswith((b"HTTP/1.1 100 ", b"HTTP/1.1 200 ", b"HTTP/1.1 4"))


@pytest.mark.parametrize(
    "name", ["decision", "decision as text", "invalid decision (422)", "health", "connection close"]
)
def test_one_write_per_response(name):
    writes = _exchange(JsonErrorProtocol, REQUESTS[name])
    assert len(writes) == 1, [w[:60] for w in writes]
    head, _, body = writes[0].partition(b"\r\n\r\n")
    assert int(dict(h.split(b": ", 1) for h in head.split(b"\r\n")[1:])[b"content-length"]) == len(body)
    assert len(_exchange(HttpToolsProtocol, REQUESTS[name])) == 2  # uvicorn's own: head, then body


def test_head_without_body_is_still_written():
    writes = _exchange(JsonErrorProtocol, REQUESTS["HEAD (no body)"])
    assert b"".join(writes).startswith(b"HTTP/1.1 ")  # 200 or 405: either way the head reaches the client


def test_unparseable_request_gets_the_error_shape():
    out = b"".join(
        _exchange(JsonErrorProtocol, b"POST /v1/decisions HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n")
    )
    head, _, body = out.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and b"content-type: application/json" in head
    assert json.loads(body)["errors"][0]["path"] == ""


def test_the_service_runs_on_httptools_and_uvloop(monkeypatch):
    """`medtech serve` names this protocol: with httptools installed it is uvicorn's httptools protocol
    (not the slower h11 one), and the event loop is uvicorn's "auto" choice, uvloop when installed."""
    pytest.importorskip("uvloop")
    import uvicorn

    from engine.service import app as service

    assert issubclass(JsonErrorProtocol, HttpToolsProtocol)
    seen: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda target, **kwargs: seen.update(kwargs, target=target))
    service.run(port=0)
    config = Config(app=app, **{k: v for k, v in seen.items() if k in ("http", "loop")})
    config.load()
    assert config.http_protocol_class is JsonErrorProtocol
    assert seen.get("loop", "auto") in ("auto", "uvloop")
