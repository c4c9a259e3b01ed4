"""Transport for integrators (issue 23): br and gzip by Accept-Encoding on every JSON route (the fast
path and streamed batches included), ETags with If-None-Match -> 304 and Cache-Control on what only
changes with the knowledge base or the code."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import brotli
import pytest
from fastapi.testclient import TestClient

from engine.service.app import app, openapi_document
from engine.service.transport import MIN_SIZE, choose_encoding

ROOT = Path(__file__).resolve().parent.parent
REQUEST = json.loads((ROOT / "examples" / "request.json").read_text(encoding="utf-8"))
COMPARE = {"request": REQUEST, "jurisdictions": ["national", "hunan"]}

# one call of every route that answers JSON (the test below checks that none is missing)
JSON_ROUTES = {
    ("GET", "/healthz"): ("/healthz", None),
    ("GET", "/readyz"): ("/readyz", None),
    ("GET", "/v1/register/{jurisdiction}"): ("/v1/register/shanghai?as_of=2025-03-10", None),
    ("GET", "/v1/changes/{jurisdiction}"): ("/v1/changes/hunan?from=2022-04-19&to=2022-04-20", None),
    ("POST", "/v1/decisions"): ("/v1/decisions", REQUEST),
    ("POST", "/v1/decisions/batch"): ("/v1/decisions/batch", {"requests": [REQUEST, {"institution": {}}]}),
    ("POST", "/v1/compare"): ("/v1/compare", COMPARE),
    ("GET", "/v1/documents"): ("/v1/documents", None),
    ("GET", "/v1/documents/{document}"): ("/v1/documents/nhc-2018-1", None),
    ("GET", "/v1/documents/{document}/provisions/{eid}"): ("/v1/documents/nhc-2018-1/provisions/art_11", None),
    ("GET", "/v1/search"): ("/v1/search?q=备案", None),
    ("GET", "/v1/catalogs/diff"): ("/v1/catalogs/diff?old=national-2018&new=national-2022", None),
    ("GET", "/v1/catalogs/{jurisdiction}"): ("/v1/catalogs/hunan?as_of=2025-03-10", None),
    ("GET", "/v1/technologies"): ("/v1/technologies?q=PCI", None),
    ("GET", "/openapi.json"): ("/openapi.json", None),
}


@pytest.fixture(scope="module")
def client():
    with TestClient(app) as c:
        yield c


def _raw(client, method, url, body, encoding):
    """The answer's bytes as sent (not decoded by the client) and its headers."""
    headers = {"accept-encoding": encoding}
    with client.stream(method, url, json=body, headers=headers) as r:
        return r.status_code, r.headers, b"".join(r.iter_raw())


def test_every_json_route_is_listed_here():
    doc = openapi_document()
    json_routes = {
        (method.upper(), path)
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
        if "application/json" in op.get("responses", {}).get("200", {}).get("content", {})
    }
    json_routes |= {("GET", "/openapi.json")}
    assert json_routes <= set(JSON_ROUTES), json_routes - set(JSON_ROUTES)


@pytest.mark.parametrize("route", sorted(JSON_ROUTES), ids=lambda r: f"{r[0]} {r[1]}")
@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_json_routes_are_compressed_as_accepted(client, route, encoding):
    url, body = JSON_ROUTES[route]
    status, headers, plain = _raw(client, route[0], url, body, "identity")
    assert status == 200 and "content-encoding" not in headers
    status, headers, packed = _raw(client, route[0], url, body, encoding)
    if len(plain) < MIN_SIZE:  # /healthz: encoding it would cost more than it saves
        assert route in {("GET", "/healthz"), ("GET", "/readyz")} and "content-encoding" not in headers
        assert packed == plain
        return
    assert status == 200 and headers["content-encoding"] == encoding
    assert "accept-encoding" in headers["vary"].lower()
    unpacked = gzip.decompress(packed) if encoding == "gzip" else brotli.decompress(packed)
    if route == ("GET", "/healthz") or route[0] == "POST" or "technologies" in url or "documents" in url:
        assert json.loads(unpacked) == json.loads(plain)
    else:
        assert unpacked == plain
    assert len(packed) < len(plain)


def test_the_fast_path_answer_is_compressed(client, monkeypatch, fast_path_reads):
    monkeypatch.setattr(app, "hot_route", None)  # the stack's fast path (the hot route: tests/test_service_hotroute.py)
    _, headers, packed = _raw(client, "POST", "/v1/decisions", REQUEST, "gzip")
    assert fast_path_reads == ["/v1/decisions"] and headers["content-encoding"] == "gzip"
    assert int(headers["content-length"]) == len(packed)
    assert json.loads(gzip.decompress(packed))["decision_id"].startswith("dec_")


def test_a_streamed_batch_is_compressed_piece_by_piece(client):
    body = {"requests": [REQUEST] * 30}  # more than one chunk of 25
    _, headers, packed = _raw(client, "POST", "/v1/decisions/batch?trace=false", body, "gzip")
    assert headers["content-encoding"] == "gzip" and "content-length" not in headers
    answers = json.loads(gzip.decompress(packed))["responses"]
    assert len(answers) == 30 and len({a["decision_id"] for a in answers}) == 1


def test_small_answers_and_refusals_are_not_compressed(client):
    _, headers, _ = _raw(client, "GET", "/v1/documents/nope", None, "gzip")  # a 404 of about 200 bytes
    assert "content-encoding" not in headers
    assert choose_encoding("gzip;q=0, br;q=0") is None
    assert choose_encoding("gzip, br;q=0") == "gzip"
    assert choose_encoding("*") == "br" and choose_encoding("identity") is None


CACHED = [
    "/v1/documents",
    "/v1/documents/nhc-2018-1",
    "/v1/documents/nhc-2018-1/provisions/art_11",
    "/v1/catalogs/hunan",
    "/v1/catalogs/diff?old=national-2018&new=national-2022",
    "/v1/flowcharts/hunan?format=dot",
    "/openapi.json",
    "/static/app.css",
]


@pytest.mark.parametrize("url", CACHED)
def test_etag_and_if_none_match(client, url):
    first = client.get(url)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert first.headers["cache-control"]
    again = client.get(url, headers={"if-none-match": etag})
    assert (
        again.status_code == 304
        and again.content == b""
        and again.headers["etag"].removeprefix("W/") == (etag.removeprefix("W/"))
    )
    assert client.get(url, headers={"if-none-match": '"something-else"'}).status_code == 200


def test_etag_names_the_request_and_304_builds_nothing(client, monkeypatch):
    a = client.get("/v1/flowcharts/hunan?format=dot").headers["etag"]
    b = client.get("/v1/flowcharts/hunan?format=mermaid").headers["etag"]
    assert a != b
    from engine.service import app as service

    def boom(*args, **kwargs):
        raise AssertionError("the chart was built for a 304")

    monkeypatch.setattr(service, "flowchart", boom)
    assert client.get("/v1/flowcharts/hunan?format=dot", headers={"if-none-match": a}).status_code == 304


def test_decisions_get_no_etag(client):
    assert "etag" not in client.post("/v1/decisions", json=REQUEST).headers
