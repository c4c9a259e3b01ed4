"""POST /v1/flowcharts/{jurisdiction}: a decision request's case on its chart, over HTTP."""

from __future__ import annotations

import html
import json

import pytest
from fastapi.testclient import TestClient

from engine.service import app as service

pytest.importorskip("engine.catalog")

REQUEST = {
    "as_of": "2025-04-29",
    "institution": {"jurisdiction": "jilin", "level": 3, "category": "hospital", "name": "吉林大学第一医院"},
    "technology": {"name": "关节镜诊疗技术", "surgery_grade": 3},
    "events": [{"type": "first_clinical_use", "date": "2025-04-28"}],
}
# 15 working days after 2025-04-28 (national art. 11): the May Day holiday of 2025 (05-01 to
# 05-05, no working Saturday after it) leaves 04-29, 04-30, 05-06 … 05-09, 05-12 … 05-16,
# 05-19 … 05-22 -> 2025-05-22
DUE = "2025-05-22"


@pytest.fixture(scope="module")
def client():
    with TestClient(service.app) as c:
        yield c


@pytest.mark.parametrize(
    "fmt, media, magic",
    [
        ("svg", "image/svg+xml", b"<?xml"),
        ("png", "image/png", b"\x89PNG"),
        ("pdf", "application/pdf", b"%PDF-"),
        ("dot", "text/vnd.graphviz", b"digraph"),
        ("mermaid", "text/plain", b"flowchart"),
    ],
)
def test_post_highlighted_chart(client, fmt, media, magic):
    r = client.post("/v1/flowcharts/jilin", params={"format": fmt}, json=REQUEST)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(media)
    assert r.content.startswith(magic)
    if fmt in ("svg", "dot", "mermaid"):
        text = html.unescape(r.text)
        assert DUE in text and "吉林大学第一医院" in text


def test_post_incident_chart(client):
    request = {**REQUEST, "events": [{"type": "serious_incident", "date": "2025-04-28"}]}
    r = client.post("/v1/flowcharts/吉林", params={"format": "dot", "chart": "incident"}, json=request)
    assert r.status_code == 200, r.text
    assert "本例" in r.text


def test_post_invalid_request_is_422_with_every_problem(client):
    bad = {"institution": {"jurisdiction": "jilin", "level": 9}, "events": [{"type": "nonsense"}]}
    r = client.post("/v1/flowcharts/jilin", json=bad)
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert all(set(e) == {"path", "message"} for e in errors)
    paths = {e["path"] for e in errors}
    assert "institution.level" in paths and any(p.startswith("events.0") for p in paths)


def test_post_other_jurisdiction_is_422(client):
    r = client.post("/v1/flowcharts/hunan", json=REQUEST)
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "institution.jurisdiction"


@pytest.mark.parametrize("body, status", [(b"[1, 2]", 422), (b"{nope", 400)])
def test_post_body_not_a_request(client, body, status):
    r = client.post("/v1/flowcharts/jilin", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status
    assert r.json()["errors"][0]["message"]


def test_post_unknown_jurisdiction_chart_and_format(client):
    assert client.post("/v1/flowcharts/guangdong", json=REQUEST).status_code == 404
    r = client.post("/v1/flowcharts/jilin", params={"chart": "nonsense"}, json=REQUEST)
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "chart"
    r = client.post("/v1/flowcharts/jilin", params={"format": "gif"}, json=REQUEST)
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "format"


def test_post_yaml_body(client):
    from engine.service import input as service_input

    if not hasattr(service_input, "parse_yaml"):
        pytest.skip("YAML request bodies are not accepted by this service yet")
    import yaml

    body = yaml.safe_dump(REQUEST, allow_unicode=True).encode("utf-8")
    r = client.post(
        "/v1/flowcharts/jilin", params={"format": "dot"}, content=body, headers={"content-type": "application/yaml"}
    )
    assert r.status_code == 200, r.text
    assert DUE in r.text


def test_get_pdf_and_training_chart(client):
    r = client.get("/v1/flowcharts/jilin", params={"format": "pdf", "chart": "training", "as_of": "2025-04-29"})
    assert r.status_code == 200 and r.content.startswith(b"%PDF-")


def test_openapi_documents_the_post(client):
    doc = client.get("/openapi.json").json()
    post = doc["paths"]["/v1/flowcharts/{jurisdiction}"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/DecisionRequest"
    }
    assert "application/pdf" in post["responses"]["200"]["content"]
    assert "422" in post["responses"]
    json.dumps(doc)
