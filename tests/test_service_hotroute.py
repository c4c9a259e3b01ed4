"""The hot route (engine.service.hotroute) answers `POST /v1/decisions` as the whole stack does: each
request of a corpus (every scenario's request, and bodies, headers, query strings and methods chosen to
reach each layer of the stack) is sent through the app twice, with the hot route and without it, as
uvicorn hands requests to the app (raw ASGI), and the status, the header list (names, values, order),
the body bytes, the `/metrics` figures it moved and the JSON log line must be the same.

Left out of the comparison, because they differ between any two requests: a generated `X-Request-Id`
(a fresh `uuid4().hex` when the client sends none or an invalid one; both must be 32 hex digits and the
log line must carry the same one as the header), and in the log line its `time` and `latency_ms`; in the
metrics, the latency histogram's buckets and sum (its count is compared).

Each case also says whether the hot route must answer it itself or hand it to the stack, so that the
comparison cannot pass by both runs going through the stack."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from pathlib import Path

import pytest

from engine.service import app as service
from engine.service import hotroute
from engine.service.correlation import REQUEST_ID_PATTERN as _REQUEST_ID
from engine.service.correlation import requests_log, set_logging
from engine.service.cors import set_cors_origins
from engine.service.kb_access import digest, warm
from engine.service.metrics import REGISTRY
from engine.yamlio import load_yaml

ROOT = Path(__file__).resolve().parent.parent
GOOD = json.loads((ROOT / "examples" / "request.json").read_text(encoding="utf-8"))
BODY = json.dumps(GOOD, ensure_ascii=False).encode()
SMALL = {
    "as_of": "2025-04-29",
    "institution": {"jurisdiction": "jilin", "level": 3},
    "technology": {"name": "关节镜诊疗技术", "surgery_grade": 3},
    "events": [{"type": "first_clinical_use", "date": "2025-04-21"}],
}
SMALL_BODY = json.dumps(SMALL, ensure_ascii=False).encode()
RID = [(b"x-request-id", b"hot-or-stacked")]
JSON = [(b"content-type", b"application/json")]


def _scenario_bodies() -> list[bytes]:
    out = []
    for path in sorted((ROOT / "tests" / "scenarios").glob("*.yaml")):
        for s in load_yaml(path) or []:
            request = json.loads(json.dumps(s["request"], default=str, ensure_ascii=False))
            out.append(json.dumps(request, ensure_ascii=False).encode())
    return out


def _nested(levels: int) -> bytes:
    return b'{"institution": ' + b"[" * levels + b"]" * levels + b"}"


def _dup(inner: bytes) -> bytes:
    return b'{"as_of": "2025-04-29", ' + inner + b', "technology": {"name": "x"}}'


# (label, method, query, extra headers, body chunks, the hot route answers it itself)
CASES: list[tuple[str, str, bytes, list, list[bytes], bool]] = [
    ("plain", "POST", b"", JSON + RID, [BODY], True),
    ("no content-type", "POST", b"", RID, [BODY], True),
    ("charset", "POST", b"", [(b"content-type", b"application/json; charset=utf-8"), *RID], [BODY], True),
    ("+json", "POST", b"", [(b"content-type", b"application/vnd.medtech+json"), *RID], [BODY], True),
    ("text/json", "POST", b"", [(b"content-type", b"text/json"), *RID], [BODY], True),
    ("escaped", "POST", b"", JSON + RID, [json.dumps(GOOD).encode()], True),
    ("pretty", "POST", b"", JSON + RID, [json.dumps(GOOD, indent=2, ensure_ascii=False).encode()], True),
    ("generated id", "POST", b"", JSON, [BODY], True),
    ("invalid id", "POST", b"", [*JSON, (b"x-request-id", b"bad id!")], [BODY], True),
    ("two chunks", "POST", b"", JSON + RID, [BODY[:100], BODY[100:]], True),
    ("quotes=once", "POST", b"quotes=once", JSON + RID, [BODY], True),
    ("quotes=none&trace=false", "POST", b"quotes=none&trace=false", JSON + RID, [BODY], True),
    ("trace=0", "POST", b"trace=0", JSON + RID, [BODY], True),
    ("trace=true&quotes=all", "POST", b"trace=true&quotes=all", JSON + RID, [BODY], True),
    ("quotes=bad", "POST", b"quotes=bad", JSON + RID, [BODY], False),
    ("trace=maybe", "POST", b"trace=maybe", JSON + RID, [BODY], False),
    ("unknown parameter", "POST", b"foo=1", JSON + RID, [BODY], False),
    ("parameter twice", "POST", b"quotes=once&quotes=none", JSON + RID, [BODY], False),
    ("trailing &", "POST", b"quotes=once&", JSON + RID, [BODY], False),
    ("lone &", "POST", b"&", JSON + RID, [BODY], False),
    ("accept json", "POST", b"", [*JSON, *RID, (b"accept", b"application/json")], [BODY], True),
    ("accept */*", "POST", b"", [*JSON, *RID, (b"accept", b"*/*")], [BODY], True),
    ("accept application/*", "POST", b"", [*JSON, *RID, (b"accept", b"application/*")], [BODY], True),
    ("accept empty", "POST", b"", [*JSON, *RID, (b"accept", b"")], [BODY], True),
    (
        "accept json;q",
        "POST",
        b"",
        [*JSON, *RID, (b"accept", b"application/json;q=0.5, text/plain;q=0.1")],
        [BODY],
        True,
    ),
    ("accept text", "POST", b"", [*JSON, *RID, (b"accept", b"text/plain")], [BODY], False),
    ("accept text/*", "POST", b"", [*JSON, *RID, (b"accept", b"text/*")], [BODY], False),
    ("accept csv", "POST", b"", [*JSON, *RID, (b"accept", b"text/csv")], [BODY], False),
    ("accept png", "POST", b"", [*JSON, *RID, (b"accept", b"image/png")], [BODY], False),
    ("accept twice", "POST", b"", [*JSON, *RID, (b"accept", b"*/*"), (b"accept", b"text/csv")], [BODY], False),
    ("gzip", "POST", b"", [*JSON, *RID, (b"accept-encoding", b"gzip")], [BODY], True),
    ("br", "POST", b"", [*JSON, *RID, (b"accept-encoding", b"gzip, deflate, br")], [BODY], True),
    ("gzip;q=0", "POST", b"", [*JSON, *RID, (b"accept-encoding", b"gzip;q=0, br;q=0")], [BODY], True),
    ("identity", "POST", b"", [*JSON, *RID, (b"accept-encoding", b"identity")], [BODY], True),
    ("encoding *", "POST", b"", [*JSON, *RID, (b"accept-encoding", b"*")], [BODY], True),
    ("gzip, small 422", "POST", b"", [*JSON, *RID, (b"accept-encoding", b"gzip")], [b"[]"], True),
    ("if-none-match", "POST", b"", [*JSON, *RID, (b"if-none-match", b"*")], [BODY], True),
    ("if-none-match etag", "POST", b"", [*JSON, *RID, (b"if-none-match", b'"abc"')], [BODY], True),
    (
        "traceparent",
        "POST",
        b"",
        [*JSON, *RID, (b"traceparent", b"00-" + b"a" * 32 + b"-" + b"b" * 16 + b"-01")],
        [BODY],
        True,
    ),
    (
        "traceparent and tracestate",
        "POST",
        b"",
        [*JSON, *RID, (b"traceparent", b"00-" + b"a" * 32 + b"-" + b"b" * 16 + b"-01"), (b"tracestate", b"k=v")],
        [BODY],
        True,
    ),
    ("bad traceparent", "POST", b"", [*JSON, *RID, (b"traceparent", b"nope"), (b"tracestate", b"k=v")], [BODY], True),
    ("digest pinned", "POST", b"", [*JSON, *RID, (b"x-knowledge-base-digest", b"PIN")], [BODY], False),
    ("digest mismatch", "POST", b"", [*JSON, *RID, (b"x-knowledge-base-digest", b"sha256:00")], [BODY], False),
    ("origin, no CORS", "POST", b"", [*JSON, *RID, (b"origin", b"https://a.example")], [BODY], True),
    ("head", "HEAD", b"", JSON + RID, [BODY], False),
    ("get", "GET", b"", RID, [b""], False),
    ("put", "PUT", b"", JSON + RID, [BODY], False),
    ("yaml", "POST", b"", [(b"content-type", b"application/yaml"), *RID], [b"as_of: 2025-04-29\n"], False),
    ("text/plain body", "POST", b"", [(b"content-type", b"text/plain"), *RID], [BODY], False),
    ("no content-length", "POST", b"", JSON + RID, [BODY], False),  # see _headers: no length added
    ("too large", "POST", b"", JSON + RID, [b" " * (1024 * 1024 + 1)], False),
    ("empty", "POST", b"", JSON + RID, [b""], False),
    ("blank", "POST", b"", JSON + RID, [b"  \n"], False),
    ("malformed", "POST", b"", JSON + RID, [b"{"], False),
    ("garbage", "POST", b"", JSON + RID, [b"x" * 3000], False),
    ("trailing data", "POST", b"", JSON + RID, [BODY + b" {}"], False),
    ("bom", "POST", b"", JSON + RID, [b"\xef\xbb\xbf" + BODY], False),
    ("utf-16", "POST", b"", JSON + RID, [BODY.decode().encode("utf-16")], False),
    ("not utf-8", "POST", b"", JSON + RID, [b'{"as_of": "\xff"}'], False),
    ("NaN", "POST", b"", JSON + RID, [b'{"as_of": NaN}'], False),
    ("Infinity", "POST", b"", JSON + RID, [b'{"as_of": -Infinity}'], False),
    ("1e400", "POST", b"", JSON + RID, [b'{"as_of": 1e400}'], False),
    ("lone surrogate", "POST", b"", JSON + RID, [b'{"as_of": "\\ud800"}'], False),
    ("control character", "POST", b"", JSON + RID, [b'{"as_of": "a\x01"}'], False),
    ("escaped control", "POST", b"", JSON + RID, [b'{"as_of": "a\\u0001"}'], True),
    ("2**64", "POST", b"", JSON + RID, [b'{"institution": {"level": 18446744073709551616}}'], False),
    ("-2**63-1", "POST", b"", JSON + RID, [b'{"institution": {"level": -9223372036854775809}}'], False),
    ("2**63: 19 digits", "POST", b"", JSON + RID, [b'{"institution": {"level": 9223372036854775808}}'], False),
    ("18 digits", "POST", b"", JSON + RID, [b'{"institution": {"level": -999999999999999999}}'], True),
    ("float", "POST", b"", JSON + RID, [b'{"institution": {"level": 3.000000000000001}}'], True),
    (
        "long float",
        "POST",
        b"",
        JSON + RID,
        [b'{"institution": {"level": 0.1000000000000000055511151231257827}}'],
        False,
    ),
    ("array", "POST", b"", JSON + RID, [b"[]"], True),
    ("string", "POST", b"", JSON + RID, [b'"x"'], True),
    ("number", "POST", b"", JSON + RID, [b"1"], True),
    ("null", "POST", b"", JSON + RID, [b"null"], True),
    ("wrong types", "POST", b"", JSON + RID, [b'{"institution": 5, "technology": [], "events": {}}'], True),
    ("deep 64", "POST", b"", JSON + RID, [_nested(63)], True),
    ("deep 65", "POST", b"", JSON + RID, [_nested(64)], False),
    ("deep 200", "POST", b"", JSON + RID, [_nested(200)], False),
    ("deep 1000", "POST", b"", JSON + RID, [_nested(1000)], False),
    ("deep 3000", "POST", b"", JSON + RID, [b"[" * 3000 + b"]" * 3000], False),
    ("many brackets, shallow", "POST", b"", JSON + RID, [b'{"events": [' + b",".join([b"[]"] * 80) + b"]}"], True),
    ("101 events", "POST", b"", JSON + RID, [json.dumps({**SMALL, "events": SMALL["events"] * 101}).encode()], True),
    ("10,001 values", "POST", b"", JSON + RID, [json.dumps({**SMALL, "x": [[0] * 100] * 101}).encode()], True),
    ("duplicate key", "POST", b"", JSON + RID, [_dup(b'"as_of": "2025-04-30"')], False),
    ("nested duplicate", "POST", b"", JSON + RID, [_dup(b'"institution": {"level": 1, "level": 2}')], False),
    ("duplicate hidden by a colon", "POST", b"", JSON + RID, [_dup(b'"a": "b:c", "a": 1')], False),
    ("escaped colon", "POST", b"", JSON + RID, [_dup(b'"a": "b\\u003ac"')], False),
    ("colon in a value", "POST", b"", JSON + RID, [_dup(b'"a": "12:30"')], True),
    ("escaped quote and colon", "POST", b"", JSON + RID, [_dup(b'"a": "\\":", "b\\\\": 1')], True),
    ("internal call", "POST", b"", JSON + RID, [BODY], False),  # the scope is marked (_call)
    ("disconnect", "POST", b"", JSON + RID, [], False),
    ("content-length twice", "POST", b"", JSON + RID, [BODY], False),
]
_SCENARIOS = _scenario_bodies()
CASES += [(f"scenario {i}", "POST", b"", JSON + RID, [body], True) for i, body in enumerate(_SCENARIOS)]


def _headers(label: str, extra: list, chunks: list[bytes]) -> list:
    headers = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"test")]
    body = b"".join(chunks)
    if label == "content-length twice":
        headers += [(b"content-length", str(len(body)).encode())] * 2
    elif label != "no content-length" and label != "get":
        headers.append((b"content-length", str(len(body)).encode()))
    return headers + list(extra)


def _run(coro):
    return LOOP.run_until_complete(coro)


LOOP = asyncio.new_event_loop()


async def _call(app, label, method, query, extra, chunks) -> tuple[int, list, bytes]:
    messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]
    if label == "disconnect":
        messages = [{"type": "http.disconnect"}]

    async def receive():
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)  # the client waits for its answer

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": method,
        "root_path": "",
        "path": "/v1/decisions",
        "raw_path": b"/v1/decisions",
        "query_string": query,
        "headers": _headers(label, extra, chunks),
        "state": {},
    }
    if label == "internal call":
        scope["medtech.internal"] = True
    start: dict = {}
    body = []

    async def send(message):
        if message["type"] == "http.response.start":
            assert not start
            start.update(message)
        else:
            body.append(message.get("body", b""))

    try:
        await app(scope, receive, send)
    except Exception as exc:  # noqa: BLE001 - an escaped exception is part of the answer compared
        return -1, [repr(exc)], b""
    return start.get("status", 0), list(start.get("headers", [])), b"".join(body)


def _figures() -> dict:
    """Every sample of /metrics but the latency histogram's buckets and sum, and the engine's memos (the first
    run fills them, the second finds what it filled: engine state, not the route's)."""
    out = {}
    for metric in REGISTRY.collect():
        for s in metric.samples:
            if s.name.endswith(("_bucket", "_sum", "_created")) or s.name.startswith("medtech_memo_"):
                continue
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


class _Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines: list[dict] = []

    def emit(self, record):
        self.lines.append(json.loads(record.getMessage()))


_HEX = re.compile(rb"^[0-9a-f]{32}$")


def _answer(hot: bool, case) -> tuple:
    """(status, headers, body, metrics moved, log lines) of one case, with or without the hot route."""
    label, method, query, extra, chunks, _ = case
    service.app.hot_route = HOT if hot else None
    before = _figures()
    lines = _Lines()
    requests_log.addHandler(lines)
    try:
        status, headers, body = _run(_call(service.app, label, method, query, extra, chunks))
    finally:
        requests_log.removeHandler(lines)
    after = _figures()
    moved = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
    ids = [v for n, v in headers if n == b"x-request-id"]
    for line in lines.lines:
        assert line.pop("time") and line.pop("latency_ms") is not None
        assert line["request_id"].encode() in ids
    sent = [v for n, v in extra if n == b"x-request-id"]
    if ids and not (sent and _REQUEST_ID.match(sent[0])):  # a new id, random: both must be fresh uuid4 hex
        assert len(ids) == 1 and _HEX.match(ids[0]), ids
        headers = [(n, b"<generated>" if n == b"x-request-id" else v) for n, v in headers]
        for line in lines.lines:
            line["request_id"] = "<generated>"
    return status, headers, body, moved, lines.lines


HOT = service.app.hot_route


@pytest.fixture(scope="module", autouse=True)
def _warm():
    assert HOT is not None, "the hot route is off (MEDTECH_HOT_ROUTE?)"
    warm()
    digest()
    set_logging("json")
    set_cors_origins([])  # off, whatever an earlier test left in MEDTECH_CORS_ORIGINS (with CORS: the last tests)
    yield
    set_logging(None)
    set_cors_origins(None)
    service.app.hot_route = HOT


@pytest.fixture
def taken(monkeypatch):
    """One entry for each request the hot route answered itself (it calls its `answer`; the stack's fast
    path calls its own)."""
    answered: list[str] = []
    real = HOT.answer

    def answer(*args, **kwargs):
        answered.append("hot")
        return real(*args, **kwargs)

    monkeypatch.setattr(HOT, "answer", answer)
    return answered


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_the_hot_route_answers_as_the_stack_does(case, taken):
    label, *_, answered_hot = case
    hot = _answer(True, case)
    assert bool(taken) == answered_hot, f"{label}: {'answered by the hot route' if taken else 'handed to the stack'}"
    stacked = _answer(False, case)
    assert len(taken) == (1 if answered_hot else 0)  # the second run never reached the hot route
    assert hot[0] == stacked[0], label
    assert hot[1] == stacked[1], label
    assert hot[2] == stacked[2], label
    assert hot[3] == stacked[3], label
    assert hot[4] == stacked[4], label
    if label in ("plain", "gzip", "escaped"):
        assert (
            hot[0] == 200
            and hot[3][
                ("medtech_http_requests_total", (("method", "POST"), ("route", "/v1/decisions"), ("status", "200")))
            ]
            == 1
        )
        assert len(hot[4]) == 1 and hot[4][0]["verdict_action"]


def test_with_cors_configured_everything_goes_to_the_stack(taken):
    """starlette's CORS middleware adds `Vary: Origin` to every answer, an Origin sent or not."""
    set_cors_origins(["https://a.example"])
    try:
        for origin in (b"https://a.example", b"https://b.example", None):
            case = ("cors", "POST", b"", [*JSON, *RID, *([(b"origin", origin)] if origin else [])], [BODY], False)
            hot = _answer(True, case)
            assert not taken and hot[:4] == _answer(False, case)[:4]
            assert any(n == b"vary" and b"Origin" in v for n, v in hot[1])
    finally:
        set_cors_origins([])


def test_an_engine_failure_is_the_stack_s_500(monkeypatch, taken):
    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(service, "decide_as", boom)
    case = ("boom", "POST", b"", JSON + RID, [SMALL_BODY], True)
    hot = _answer(True, case)
    assert taken and hot[0] == 500
    assert hot[:4] == _answer(False, case)[:4]


def test_an_api_error_from_the_engine_is_answered_as_the_stack_does(monkeypatch, taken):
    from engine.service.errors import error

    def busy(*args, **kwargs):
        raise error(503, "busy").with_headers({"Retry-After": "1"})

    monkeypatch.setattr(service, "decide_as", busy)
    case = ("503", "POST", b"", [*JSON, *RID, (b"accept-encoding", b"gzip")], [SMALL_BODY], True)
    hot = _answer(True, case)
    assert taken and hot[0] == 503
    assert hot[:4] == _answer(False, case)[:4]


def test_log_bodies_goes_to_the_stack(taken):
    set_logging("json", bodies=True)
    try:
        case = ("plain", "POST", b"", JSON + RID, [SMALL_BODY], False)
        hot = _answer(True, case)
        assert not taken and hot[:4] == _answer(False, case)[:4]
    finally:
        set_logging("json")


def test_the_switch_is_read_from_the_environment(monkeypatch):
    for value, on in (("0", False), ("off", False), ("false", False), ("1", True), ("", True)):
        monkeypatch.setenv(hotroute.ENV, value)
        assert hotroute.enabled_by_environment() is on
    monkeypatch.delenv(hotroute.ENV)
    assert hotroute.enabled_by_environment()
