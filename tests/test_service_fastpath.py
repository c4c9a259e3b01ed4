"""POST /v1/decisions answered by the fast path (engine.service.fastpath) is the route's answer
to the byte: status, headers and body, for every Accept, `quotes`, body form and error."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from engine.service import app as service
from engine.service import fastpath

GOOD = {
    "as_of": "2025-04-29",
    "institution": {"jurisdiction": "jilin", "level": 3},
    "technology": {"name": "关节镜诊疗技术", "surgery_grade": 3},
    "events": [{"type": "first_clinical_use", "date": "2025-04-21"}],
}
BODY = json.dumps(GOOD, ensure_ascii=False).encode()
JSON = {"content-type": "application/json"}


@pytest.fixture(autouse=True)
def _without_the_hot_route(monkeypatch):
    """These tests compare the fast path inside the stack with the router; the hot route in front of both
    (engine.service.hotroute, tests/test_service_hotroute.py) would answer the JSON cases before either."""
    monkeypatch.setattr(service.app, "hot_route", None)


CASES = [
    ("", JSON, BODY),
    ("", {**JSON, "accept": "text/plain"}, BODY),
    ("", {**JSON, "accept": "text/csv"}, BODY),
    ("", {**JSON, "accept": "text/markdown"}, BODY),
    ("", {**JSON, "accept": "image/png"}, BODY),
    ("quotes=once", JSON, BODY),
    ("quotes=none", JSON, BODY),
    ("trace=false", JSON, BODY),
    ("quotes=once&trace=false", JSON, BODY),
    ("trace=0&quotes=none", JSON, BODY),
    ("trace=true", {**JSON, "accept": "text/csv"}, BODY),
    ("", {"content-type": "application/yaml"}, b"as_of: 2025-04-29\ninstitution: {jurisdiction: jilin}\n"),
    ("", JSON, b"{"),
    ("", JSON, b""),
    ("", JSON, b"[]"),
    ("", JSON, b'{"as_of": "0000-01-01", "institution": {"jurisdiction": "jilin"}}'),
    ("", JSON, b"[" * 3000 + b"]" * 3000),
    ("", JSON, b"x" * 300_000),
]


def _answer(client, query, headers, body):
    headers = {**headers, "x-request-id": "fast-or-routed"}  # echoed: the same id both ways
    r = client.post("/v1/decisions" + (f"?{query}" if query else ""), content=body, headers=headers)
    return r.status_code, sorted(r.headers.items()), r.content


@pytest.mark.parametrize("case", range(len(CASES)))
def test_fast_path_answers_as_the_route_does(case, monkeypatch):
    query, headers, body = CASES[case]
    with TestClient(service.app) as client:
        fast = _answer(client, query, headers, body)
        # nothing takes the fast path: the router answers
        monkeypatch.setattr(fastpath, "query_options", lambda query: None)
        routed = _answer(client, query, headers, body)
    assert fast == routed
    assert fast[0] in (200, 400, 406, 413, 415, 422)  # image/png: 406 (issue 22)


def test_fast_path_is_taken(fast_path_reads):
    """The comparison above means something only if the fast path answers these requests itself."""
    with TestClient(service.app) as client:
        assert client.post("/v1/decisions", content=BODY, headers=JSON).status_code == 200
        assert client.post("/v1/decisions?quotes=once", content=BODY, headers=JSON).status_code == 200
        assert client.post("/v1/decisions?trace=false&quotes=none", content=BODY, headers=JSON).status_code == 200
        assert client.post("/v1/decisions?quotes=bad", content=BODY, headers=JSON).status_code == 422  # the router's
        assert client.post("/v1/decisions?trace=maybe", content=BODY, headers=JSON).status_code == 422  # the router's
    assert fast_path_reads == ["/v1/decisions", "/v1/decisions", "/v1/decisions"]
