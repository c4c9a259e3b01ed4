"""What an integrator relies on around each answer (issue 23): the API and knowledge-base versions on
every response, the digest pin (412), request ids and trace context echoed, a deterministic decision id,
`?trace=false`, the JSON request log, /metrics and CORS for these headers."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from engine import decide
from engine.service import correlation
from engine.service.app import app
from engine.service.cors import set_cors_origins
from engine.yamlio import load_yaml

ROOT = Path(__file__).resolve().parent.parent
REQUEST = json.loads((ROOT / "examples" / "request.json").read_text(encoding="utf-8"))
API_VERSION = load_yaml(ROOT / "engine" / "service" / "api_version.yaml")["version"]
KB_VERSION = load_yaml(ROOT / "kb" / "version.yaml")["version"]
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture(scope="module")
def client():
    with TestClient(app) as c:
        yield c


# one of each kind of answer: JSON, CSV, calendar, text, an error, a document, a chart, the page, a 404
ANSWERS = [
    ("POST", "/v1/decisions", {}),
    ("POST", "/v1/decisions", {"accept": "text/csv"}),
    ("POST", "/v1/decisions", {"accept": "text/calendar"}),
    ("POST", "/v1/decisions", {"accept": "text/plain"}),
    ("POST", "/v1/decisions/batch", {}),
    ("GET", "/v1/documents", {}),
    ("GET", "/v1/flowcharts/hunan?format=dot", {}),
    ("GET", "/healthz", {}),
    ("GET", "/openapi.json", {}),
    ("GET", "/", {}),
    ("GET", "/v1/nothing-here", {}),
]


@pytest.mark.parametrize(("method", "path", "headers"), ANSWERS)
def test_every_answer_carries_both_versions_and_a_request_id(client, method, path, headers):
    body = {"requests": [REQUEST]} if path.endswith("batch") else REQUEST
    r = client.request(method, path, json=body if method == "POST" else None, headers=headers)
    assert r.headers["x-api-version"] == API_VERSION
    assert r.headers["x-knowledge-base-version"] == KB_VERSION
    assert r.headers["x-knowledge-base-digest"].startswith("sha256:")
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"])


def test_api_version_is_semantic_and_in_the_openapi_document(client):
    assert re.fullmatch(r"\d+\.\d+\.\d+", API_VERSION)
    assert client.get("/openapi.json").json()["info"]["version"] == API_VERSION


def test_request_id_and_traceparent_are_echoed(client):
    r = client.post(
        "/v1/decisions",
        json=REQUEST,
        headers={"x-request-id": "his-42.a:b", "traceparent": TRACEPARENT, "tracestate": "vendor=1"},
    )
    assert r.headers["x-request-id"] == "his-42.a:b"
    assert r.headers["traceparent"] == TRACEPARENT and r.headers["tracestate"] == "vendor=1"
    # an id with characters a log line could be forged with is replaced; a malformed traceparent is not echoed
    r = client.get("/healthz", headers={"x-request-id": "a b\tc", "traceparent": "01-xyz"})
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"]) and "traceparent" not in r.headers


def test_a_pinned_digest_that_differs_is_answered_412_naming_ours(client):
    ours = client.get("/healthz").json()["knowledge_base"]["digest"]
    for path in ("/v1/documents", "/v1/decisions"):
        r = client.request(
            "POST" if path == "/v1/decisions" else "GET",
            path,
            json=REQUEST if path == "/v1/decisions" else None,
            headers={"X-Knowledge-Base-Digest": "sha256:" + "0" * 64},
        )
        assert r.status_code == 412
        body = r.json()
        assert body["errors"][0]["path"] == "X-Knowledge-Base-Digest" and ours in body["errors"][0]["message"]
        assert body["knowledge_base"] == {"digest": ours, "version": KB_VERSION}
        assert r.headers["x-knowledge-base-digest"] == ours
    # the right pin, with or without its `sha256:` prefix, is answered as usual
    for pin in (ours, ours.removeprefix("sha256:")):
        assert client.post("/v1/decisions", json=REQUEST, headers={"X-Knowledge-Base-Digest": pin}).status_code == 200


def test_decision_id_is_deterministic_and_names_request_and_digest(client):
    a = client.post("/v1/decisions", json=REQUEST)
    b = client.post(
        "/v1/decisions",
        content=json.dumps(REQUEST, sort_keys=True, indent=1),
        headers={"content-type": "application/json"},
    )
    assert a.content == b.content  # byte-identical answers stay byte-identical, whatever the key order sent
    did = a.json()["decision_id"]
    assert re.fullmatch(r"dec_[0-9a-f]{32}", did) and a.headers["x-decision-id"] == did
    # the jurisdiction's Chinese name is the same request; another day is another decision
    name = a.json()["jurisdiction"]["name"]
    assert decide({**REQUEST, "institution": {**REQUEST["institution"], "jurisdiction": name}})["decision_id"] == did
    assert decide({**REQUEST, "as_of": "2025-03-11"})["decision_id"] != did
    # the shape asked for does not change the decision, nor its id
    for query in ("quotes=once", "quotes=none", "trace=false"):
        assert client.post(f"/v1/decisions?{query}", json=REQUEST).json()["decision_id"] == did
    csv = client.post("/v1/decisions", json=REQUEST, headers={"accept": "text/csv"})
    assert csv.headers["x-decision-id"] == did


def test_trace_false_is_the_answer_without_its_trace(client):
    full = client.post("/v1/decisions", json=REQUEST).json()
    lean = client.post("/v1/decisions?trace=false", json=REQUEST)
    assert "trace" not in lean.json() and full["trace"]
    assert lean.json() == {k: v for k, v in full.items() if k != "trace"}
    batch = client.post("/v1/decisions/batch?trace=false", json={"requests": [REQUEST]}).json()
    assert "trace" not in batch["responses"][0]
    assert client.post("/v1/decisions?trace=sometimes", json=REQUEST).status_code == 422


def test_trace_is_not_built_when_left_out(monkeypatch):
    """`trace=False` skips the trace's construction (not a removal afterwards)."""
    from engine.inference import decision

    def boom(*args):
        raise AssertionError("the trace was built")

    monkeypatch.setattr(decision, "_trace", boom)
    assert "trace" not in decide(REQUEST, trace=False)
    with pytest.raises(AssertionError):
        decide(REQUEST)


@pytest.fixture
def log_lines():
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())

    handler = Keep()
    correlation.requests_log.addHandler(handler)
    yield lines
    correlation.requests_log.removeHandler(handler)
    correlation.set_logging("text")
    correlation.set_logging(None)


def test_json_log_has_one_line_per_request_without_bodies(client, log_lines):
    correlation.set_logging("json")
    r = client.post("/v1/decisions", json=REQUEST, headers={"x-request-id": "log-1", "traceparent": TRACEPARENT})
    client.get("/v1/documents/nope")
    assert len(log_lines) == 2
    first, second = (json.loads(line) for line in log_lines)
    assert first["request_id"] == "log-1" and first["trace_id"] == TRACEPARENT.split("-")[1]
    assert first["route"] == "/v1/decisions" and first["status"] == 200 and first["method"] == "POST"
    assert first["decision_id"] == r.json()["decision_id"] and first["digest"] == r.headers["x-knowledge-base-digest"]
    verdict = r.json().get("verdict")
    assert first["verdict_action"] == (verdict["action"] if verdict else None)
    assert first["latency_ms"] > 0 and first["bytes"] == len(r.content)  # before compression
    assert "request_body" not in first and REQUEST["institution"]["name"] not in log_lines[0]  # nothing the caller sent
    assert second["route"] == "/v1/documents/{document}" and second["status"] == 404 and second["decision_id"] is None


def test_the_verdict_action_is_logged(client, log_lines, monkeypatch):
    """The log line names the action of the answer's verdict (found in the body, whatever members come first)."""
    import orjson

    from engine.render import templates

    real = templates.decide_encoded

    def with_verdict(data, quotes="all", trace=True):
        body, info = real(data, quotes=quotes, trace=trace)
        answer = {
            **orjson.loads(body),
            "verdict": {"text": "须立即停止", "action": "stop", "due": None, "status": "immediate"},
        }
        return orjson.dumps(answer), {**info, "action": "stop"}

    monkeypatch.setattr(templates, "decide_encoded", with_verdict)
    correlation.set_logging("json")
    client.post("/v1/decisions", json={**REQUEST, "id": "with-an-id-first"})
    assert json.loads(log_lines[-1])["verdict_action"] == "stop"
    metrics = client.get("/metrics").text
    assert _sample(metrics, "medtech_decisions_total", action="stop") >= 1


def test_bodies_are_logged_only_when_asked(client, log_lines):
    correlation.set_logging("json", bodies=True)
    client.post("/v1/decisions", json=REQUEST)
    line = json.loads(log_lines[-1])
    assert json.loads(line["request_body"]) == REQUEST and line["response_body"].startswith('{"decision_id"')


def test_no_log_line_by_default(client, log_lines):
    correlation.set_logging("text")
    client.get("/healthz")
    assert log_lines == []


def _sample(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_requests_errors_decisions_and_batch_slots(client):
    before = client.get("/metrics").text
    client.post("/v1/decisions", json=REQUEST)
    client.post("/v1/decisions", json={"institution": {}})
    client.get("/v1/documents/nope")
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    after = r.text
    req = "medtech_http_requests_total"
    assert (
        _sample(after, req, route="/v1/decisions", status="200")
        == _sample(before, req, route="/v1/decisions", status="200") + 1
    )
    assert (
        _sample(after, "medtech_http_errors_total", route="/v1/decisions", status="422")
        == _sample(before, "medtech_http_errors_total", route="/v1/decisions", status="422") + 1
    )
    assert _sample(after, "medtech_http_errors_total", route="/v1/documents/{document}", status="404") >= 1
    assert "medtech_http_request_duration_seconds_bucket{" in after
    decided = sum(
        float(line.rsplit(" ", 1)[1]) for line in after.splitlines() if line.startswith("medtech_decisions_total{")
    )
    assert decided >= 1
    assert "medtech_batch_slots_in_use 0.0" in after and re.search(r"^medtech_batch_slots \d", after, re.M)


def test_cors_preflight_allows_the_correlation_headers(client):
    set_cors_origins(["https://his.example"])
    try:
        r = client.options(
            "/v1/decisions",
            headers={
                "origin": "https://his.example",
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type, x-request-id, traceparent, x-knowledge-base-digest",
            },
        )
        assert r.status_code == 200, r.text
        r = client.post("/v1/decisions", json=REQUEST, headers={"origin": "https://his.example"})
        exposed = {h.strip().lower() for h in r.headers["access-control-expose-headers"].split(",")}
        assert {"x-request-id", "x-api-version", "x-knowledge-base-version", "x-decision-id", "traceparent"} <= exposed
    finally:
        set_cors_origins(None)


def test_batch_items_carry_an_id_echoed_in_their_answers(client):
    good = {**REQUEST, "id": "row-1"}
    bad = {"id": "row-2", "institution": {"jurisdiction": "atlantis"}}
    plain = client.post("/v1/decisions/batch", json={"requests": [good, bad, REQUEST]}).json()["responses"]
    assert plain[0]["id"] == "row-1" and plain[1]["id"] == "row-2" and "id" not in plain[2]
    assert plain[1]["errors"][0]["path"] == "institution.jurisdiction"
    # the id labels the request; it is not part of the decision
    assert plain[0]["decision_id"] == plain[2]["decision_id"]
    assert {k: v for k, v in plain[0].items() if k != "id"} == plain[2]
    assert client.post("/v1/decisions", json={**REQUEST, "id": ""}).status_code == 422  # 1 to 128 characters


def test_flowchart_of_a_request_takes_its_jurisdiction_from_the_body(client):
    new = client.post("/v1/flowcharts?format=dot", json=REQUEST)
    old = client.post(f"/v1/flowcharts/{REQUEST['institution']['jurisdiction']}?format=dot", json=REQUEST)
    assert new.status_code == 200 and new.content == old.content
    r = client.post("/v1/flowcharts?format=dot", json={"as_of": "2025-03-10"})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "institution.jurisdiction"


def test_jurisdiction_aliases_are_accepted_though_not_enum_members(client):
    from engine.kb.schemas import load_schema

    enum = load_schema("request")["$defs"]["institution"]["properties"]["jurisdiction"]
    assert all(s.isascii() for s in enum["enum"]) and enum["x-aliases"]
    alias, jid = next(iter(enum["x-aliases"].items()))
    r = client.post("/v1/decisions", json={"as_of": "2025-03-10", "institution": {"jurisdiction": alias}})
    assert r.status_code == 200 and r.json()["jurisdiction"]["id"] == jid
    r = client.post("/v1/decisions", json={"as_of": "2025-03-10", "institution": {"jurisdiction": "atlantis"}})
    assert r.status_code == 422 and "supported" in r.json()["errors"][0]["message"]


def test_no_member_of_a_published_schema_is_a_reserved_word(client):
    """Generated clients rename such members (Java `new` -> `_new`, Python `from` -> `var_from`)."""
    reserved = {
        "new",
        "class",
        "default",
        "import",
        "package",
        "public",
        "private",
        "static",
        "final",
        "from",
        "global",
        "lambda",
        "def",
        "return",
        "yield",
        "with",
        "assert",
        "pass",
        "interface",
        "enum",
    }
    doc = client.get("/openapi.json").json()
    found = []

    def walk(node, where):
        if isinstance(node, dict):
            for name in node.get("properties") or {}:
                if name in reserved:
                    found.append(f"{where}.{name}")
            for k, v in node.items():
                walk(v, f"{where}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{where}[{i}]")

    walk(doc["components"]["schemas"], "components")
    # `technology.class` is the contract's own member name (kept: contract section 4)
    assert [f for f in found if not f.endswith(".class")] == []
    diff = client.get("/v1/catalogs/diff", params={"old": "national-2018", "new": "national-2022"}).json()
    assert diff["earlier"]["id"] == "national-2018" and diff["later"]["id"] == "national-2022"
    assert all({"earlier", "later"} <= set(c) for c in diff["changed"])


def test_the_openapi_examples_are_not_counted_as_requests(client):
    """The document's response examples are asked of the app in process: no metrics, no log line."""
    from engine.service.app import openapi_document

    before = client.get("/metrics").text
    app.openapi_schema = None
    openapi_document()
    after = client.get("/metrics").text
    for route in ("/v1/compare", "/v1/catalogs/diff", "/v1/flowcharts"):
        assert _sample(after, "medtech_http_requests_total", route=route) == _sample(
            before, "medtech_http_requests_total", route=route
        )
