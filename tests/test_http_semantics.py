"""HTTP semantics (issue 22, part 3): security headers on the page and its assets, 415 for bodies
that are neither JSON nor YAML, 406 for an Accept no format satisfies, 422 for unknown query
parameters, HEAD on every GET route, duplicate keys refused with their path, and the batch slot
taken only once the body is in."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from engine.service import app as service

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "engine/service/templates"
REQ = {
    "as_of": "2025-03-10",
    "institution": {"jurisdiction": "hunan", "level": 3},
    "technology": {"name": "冠心病介入治疗"},
}
BODY = json.dumps(REQ, ensure_ascii=False).encode()


@pytest.fixture(scope="module")
def client():
    with TestClient(service.app) as c:
        yield c


@pytest.mark.parametrize(
    "path", ["/", "/static/app.js", "/static/app.css", "/provisions", "/healthz", "/v1/documents", "/docs"]
)
def test_security_headers_on_the_page_assets_and_api(client, path):
    r = client.get(path)
    assert r.status_code == 200, path
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_the_page_csp_allows_no_inline_script_or_style(client):
    csp = client.get("/").headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert "unsafe-inline" not in csp


def test_the_templates_have_no_inline_script_or_style():
    for path in TEMPLATES.glob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), f"inline <script> in {path.name}"
        assert "<style" not in text and not re.search(r"\sstyle=", text), f"inline style in {path.name}"
        assert not re.search(r"\son[a-z]+=", text), f"inline event handler in {path.name}"


@pytest.mark.parametrize(
    "ctype", ["text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
)
@pytest.mark.parametrize("path", ["/v1/decisions", "/v1/decisions/batch", "/v1/flowcharts/hunan"])
def test_bodies_neither_json_nor_yaml_are_415(client, ctype, path):
    body = json.dumps({"requests": [REQ]}).encode() if path.endswith("batch") else BODY
    r = client.post(path, content=body, headers={"Content-Type": ctype})
    assert r.status_code == 415, (path, r.status_code, r.text[:200])
    assert r.json()["errors"][0]["path"] == "Content-Type"


@pytest.mark.parametrize(
    "ctype", [None, "application/json", "application/json; charset=utf-8", "application/problem+json"]
)
def test_json_and_undeclared_bodies_still_answered(client, ctype):
    headers = {"Content-Type": ctype} if ctype else {}
    r = client.post("/v1/decisions", content=BODY, headers=headers)
    assert r.status_code == 200, r.text[:200]


@pytest.mark.parametrize("accept", ["application/pdf", "image/png", "text/html", "application/json;q=0"])
def test_an_accept_no_format_satisfies_is_406(client, accept):
    r = client.post("/v1/decisions", json=REQ, headers={"Accept": accept})
    assert r.status_code == 406, (accept, r.status_code)
    assert r.json()["errors"][0]["path"] == "Accept"
    r = client.post("/v1/decisions/batch", json={"requests": [REQ]}, headers={"Accept": accept})
    assert r.status_code == 406, (accept, r.status_code)


@pytest.mark.parametrize(
    "accept", ["*/*", "application/*", "text/*", "application/pdf, */*;q=0.1", "text/csv", "text/calendar"]
)
def test_satisfiable_accepts_are_answered(client, accept):
    assert client.post("/v1/decisions", json=REQ, headers={"Accept": accept}).status_code == 200


@pytest.mark.parametrize(
    "method,path",
    [
        ("post", "/v1/decisions?quote=none"),
        ("get", "/v1/documents?limit=3"),
        ("get", "/healthz?x=1"),
        ("get", "/v1/flowcharts/hunan?fromat=png"),
        ("post", "/v1/decisions/batch?quotes=none&foo=1"),
    ],
)
def test_unknown_query_parameters_are_422(client, method, path):
    kwargs = {"json": {"requests": [REQ]} if "batch" in path else REQ} if method == "post" else {}
    r = getattr(client, method)(path, **kwargs)
    assert r.status_code == 422, (path, r.status_code)
    name = path.split("?")[1].split("=")[0] if "batch" not in path else "foo"
    assert r.json()["errors"][0]["path"] == name
    assert "allowed" in r.json()["errors"][0]["message"]


def test_known_query_parameters_still_work(client):
    assert client.post("/v1/decisions?quotes=none", json=REQ).status_code == 200
    assert client.get("/v1/documents?as_of=2025-03-10").status_code == 200


def _get_paths(client) -> list[str]:
    paths = []
    for route in service.app.routes:
        if isinstance(route, APIRoute) and "GET" in route.methods and "{" not in route.path:
            paths.append(route.path)
    return paths


def test_head_on_every_get_route(client):
    paths = _get_paths(client) + ["/v1/documents/nhc-2018-1", "/provisions/nhc-2018-1", "/static/app.js"]
    assert len(paths) > 8
    for path in paths:
        get = client.get(path)
        head = client.head(path)
        assert head.status_code == get.status_code, (path, head.status_code, get.status_code)
        assert head.content == b"", path
        assert head.headers.get("content-type") == get.headers.get("content-type"), path


@pytest.mark.parametrize(
    "body,ctype,path",
    [
        (
            b'{"institution": {"jurisdiction": "hunan", "jurisdiction": "jilin"}}',
            "application/json",
            "institution.jurisdiction",
        ),
        (
            b'{"as_of": "2025-03-10", "as_of": "2025-03-11", "institution": {"jurisdiction": "hunan"}}',
            "application/json",
            "as_of",
        ),
        (
            b"institution:\n  jurisdiction: hunan\n  jurisdiction: jilin\n",
            "application/yaml",
            "institution.jurisdiction",
        ),
        (
            b"technology: {name: PCI, name: ECMO}\ninstitution: {jurisdiction: hunan}\n",
            "application/yaml",
            "technology.name",
        ),
    ],
)
def test_duplicate_keys_are_refused_with_the_path(client, body, ctype, path):
    r = client.post("/v1/decisions", content=body, headers={"Content-Type": ctype})
    assert r.status_code == 422, r.text[:200]
    assert [e["path"] for e in r.json()["errors"]] == [path]


def test_the_batch_slot_is_taken_after_the_body(monkeypatch):
    """A batch whose body is still arriving holds no slot: with every slot taken by bodies being
    read, another batch is still answered."""
    from engine.service import batch as batch_mod
    from engine.service.limits import Slots

    slots = Slots(1)
    monkeypatch.setattr(batch_mod, "BATCHES", slots)
    seen = []
    real = batch_mod.read_json

    async def reading(request):
        seen.append(slots.used)  # while the body is read
        return await real(request)

    monkeypatch.setattr(batch_mod, "read_json", reading)
    with TestClient(service.app) as c:
        r = c.post("/v1/decisions/batch", json={"requests": [REQ]})
    assert r.status_code == 200
    assert seen == [0]
    assert slots.used == 0
