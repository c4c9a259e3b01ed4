"""The HTTP service (engine/service.py) in-process, through FastAPI's TestClient."""

from __future__ import annotations

import copy
import importlib.util
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from engine.kb.schemas import load_schema
from engine.service import app as service
from inventory import DOCUMENTS, JURISDICTIONS

DOCUMENT_IDS = set(DOCUMENTS)

JILIN = {
    "as_of": "2025-04-29",
    "institution": {"jurisdiction": "jilin", "level": 3, "category": "hospital"},
    "technology": {"name": "关节镜诊疗技术", "surgery_grade": 3},
    "events": [{"type": "first_clinical_use", "date": "2025-04-28"}],
}

has_catalog = importlib.util.find_spec("engine.catalog") is not None


def has_flowchart() -> bool:
    try:
        from engine.flowchart import render_chart  # noqa: F401
    except ImportError:
        return False
    return True


needs_catalog = pytest.mark.skipif(not has_catalog, reason="engine.catalog is not there yet")


@pytest.fixture(scope="module")
def client():
    with TestClient(service.app) as c:  # runs the lifespan (warm-up)
        yield c


@pytest.fixture(scope="module")
def response_validator():
    return Draft202012Validator(load_schema("response"), format_checker=Draft202012Validator.FORMAT_CHECKER)


def assert_valid_response(validator, body):
    problems = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]
    assert not problems, problems


def error_paths(resp) -> list[str]:
    return [e["path"] for e in resp.json()["errors"]]


# --------------------------------------------------------------------------- health and headers


def test_healthz_has_digest_and_header(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["knowledge_base"]["digest"].startswith("sha256:")
    assert r.headers["X-Knowledge-Base-Digest"] == body["knowledge_base"]["digest"]


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/no/such/route"),
        ("delete", "/healthz"),
        ("get", "/v1/documents/nope"),
        ("get", "/openapi.json"),
    ],
)
def test_every_response_carries_the_digest_header(client, method, path):
    r = getattr(client, method)(path)
    assert r.headers["X-Knowledge-Base-Digest"].startswith("sha256:")
    if r.status_code >= 400:
        assert r.json()["errors"][0]["message"]


def test_unexpected_error_is_a_generic_500_with_header(client, monkeypatch):
    def boom(data, fmt="json"):
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(service, "decide_as", boom)
    r = client.post("/v1/decisions", json=JILIN)
    assert r.status_code == 500
    assert r.headers["X-Knowledge-Base-Digest"].startswith("sha256:")
    assert r.json() == {"errors": [{"path": "", "message": "internal server error"}]}
    assert "secret" not in r.text and "Traceback" not in r.text


# --------------------------------------------------------------------------- decisions


@needs_catalog
def test_jilin_filing_decision(client, response_validator):
    r = client.post("/v1/decisions", json=JILIN)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert_valid_response(response_validator, body)
    assert r.headers["X-Knowledge-Base-Digest"] == body["knowledge_base"]["digest"]
    filings = [o for o in body["obligations"] if o["action"] == "file"]
    assert filings, [o["action"] for o in body["obligations"]]
    assert any(o["addressee"] == "license_issuer" and o["due"] == "2025-05-22" for o in filings), filings


def test_decision_without_technology_validates(client, response_validator):
    req = {k: v for k, v in JILIN.items() if k != "technology"}
    r = client.post("/v1/decisions", json=req)
    assert r.status_code == 200, r.text
    assert_valid_response(response_validator, r.json())
    assert r.json()["jurisdiction"]["id"] == "jilin"


def test_invalid_jurisdiction_is_422_with_path(client):
    req = copy.deepcopy(JILIN)
    req["institution"]["jurisdiction"] = "广东省"
    r = client.post("/v1/decisions", json=req)
    assert r.status_code == 422
    assert "institution.jurisdiction" in error_paths(r)
    assert r.headers["X-Knowledge-Base-Digest"].startswith("sha256:")


def test_422_lists_every_problem(client):
    req = {
        "as_of": "2025-02-30",
        "institution": {"jurisdiction": "广东省"},
        "events": [{"type": "nope", "date": "2025-01-01"}],
        "extra": 1,
    }
    r = client.post("/v1/decisions", json=req)
    assert r.status_code == 422
    assert {"as_of", "institution.jurisdiction", "events.0.type", "extra"} <= set(error_paths(r))


@pytest.mark.parametrize("body", [b"{bad json", b"", b'{"a": NaN}', b"\xff\xfe\x00", b"[" * 100_000])
def test_malformed_json_is_400(client, body):
    r = client.post("/v1/decisions", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400
    err = r.json()["errors"]
    assert err[0]["path"] == "" and err[0]["message"].startswith("malformed JSON")


@pytest.mark.parametrize("body", [b"[]", b'"x"', b"null", b"3"])
def test_json_that_is_not_an_object_is_422(client, body):
    r = client.post("/v1/decisions", content=body)
    assert r.status_code == 422
    assert error_paths(r) == [""]


def test_deeply_nested_json_is_refused_not_crashing(client):
    body = b'{"as_of": "2025-04-29", "institution": {"jurisdiction": "jilin"}, "x": ' + b"[" * 500 + b"]" * 500 + b"}"
    r = client.post("/v1/decisions", content=body)
    assert r.status_code == 422


def test_body_over_one_mib_is_413(client):
    big = json.dumps({**JILIN, "institution": {**JILIN["institution"], "name": "x" * (1536 * 1024)}}).encode()
    r = client.post("/v1/decisions", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.headers["X-Knowledge-Base-Digest"].startswith("sha256:")


def test_body_over_one_mib_without_content_length_is_413(client):
    def chunks():  # streamed: chunked transfer encoding, no Content-Length
        for _ in range(24):
            yield b" " * 65536

    r = client.post("/v1/decisions", content=chunks())
    assert r.status_code == 413


# --------------------------------------------------------------------------- batch


def test_batch_answers_each_item_in_place(client, response_validator):
    valid = {k: v for k, v in JILIN.items() if k != "technology"}
    invalid = {"institution": {"jurisdiction": "广东省"}}
    r = client.post("/v1/decisions/batch", json={"requests": [valid, invalid, "not an object"]})
    assert r.status_code == 200, r.text
    out = r.json()["responses"]
    assert len(out) == 3
    assert_valid_response(response_validator, out[0])
    assert [e["path"] for e in out[1]["errors"]] == ["institution.jurisdiction"]
    assert out[2]["errors"][0]["path"] == ""
    single = client.post("/v1/decisions", json=valid).json()
    assert out[0] == single


def test_batch_over_1000_is_422(client):
    r = client.post("/v1/decisions/batch", json={"requests": [{"institution": {"jurisdiction": "jilin"}}] * 1001})
    assert r.status_code == 422
    assert error_paths(r) == ["requests"]


@pytest.mark.parametrize("body", [{}, {"requests": {}}, {"requests": [], "more": 1}, []])
def test_batch_envelope_errors(client, body):
    r = client.post("/v1/decisions/batch", json=body)
    assert r.status_code == 422
    assert r.json()["errors"]


def test_batch_of_1000_is_accepted(client):
    req = {"as_of": "2025-04-29", "institution": {"jurisdiction": "hunan", "level": 2}}
    r = client.post("/v1/decisions/batch", json={"requests": [req] * 1000})
    assert r.status_code == 200
    out = r.json()["responses"]
    assert len(out) == 1000 and all(o == out[0] for o in out)


# --------------------------------------------------------------------------- documents


def test_documents_index(client):
    r = client.get("/v1/documents", params={"as_of": "2025-04-29"})
    assert r.status_code == 200
    docs = {d["id"]: d for d in r.json()["documents"]}
    assert set(docs) == DOCUMENT_IDS
    assert docs["nhc-2018-1"]["status"] == "in_force"


def test_document_detail(client):
    r = client.get("/v1/documents/nhc-2018-1")
    assert r.status_code == 200
    doc = r.json()
    assert doc["id"] == "nhc-2018-1"
    labels = {p["eid"]: p["label"] for p in doc["provisions"]}
    assert labels["art_25__para_3"] == "第二十五条第三款"


def test_provision_label_text_and_children(client):
    r = client.get("/v1/documents/nhc-2018-1/provisions/art_25__para_3")
    assert r.status_code == 200
    p = r.json()
    assert p["label"] == "第二十五条第三款"
    assert p["text"] and p["document"]["id"] == "nhc-2018-1"
    r = client.get("/v1/documents/nhc-2018-1/provisions/art_25")
    kids = r.json()["children"]
    assert [k["eid"] for k in kids][:3] == ["art_25__para_1", "art_25__para_2", "art_25__para_3"]
    assert kids[2]["label"] == "第二十五条第三款"


def test_unknown_document_is_404_listing_available(client):
    r = client.get("/v1/documents/gd-2020-1")
    assert r.status_code == 404
    body = r.json()
    assert set(body["available"]) == DOCUMENT_IDS
    assert body["errors"][0]["path"] == "document"
    r = client.get("/v1/documents/gd-2020-1/provisions/art_1")
    assert r.status_code == 404 and set(r.json()["available"]) == DOCUMENT_IDS


def test_unknown_provision_is_404_listing_available(client):
    r = client.get("/v1/documents/nhc-2018-1/provisions/art_999")
    assert r.status_code == 404
    assert "art_11" in r.json()["available"]
    assert r.json()["errors"][0]["path"] == "eid"


def test_bad_as_of_query_is_422(client):
    r = client.get("/v1/documents", params={"as_of": "2025-02-30"})
    assert r.status_code == 422 and error_paths(r) == ["as_of"]


# --------------------------------------------------------------------------- technologies and flowcharts


def test_technologies_unknown_jurisdiction_is_404(client):
    r = client.get("/v1/technologies", params={"q": "PCI", "jurisdiction": "广东"})
    assert r.status_code in (404, 501)
    if r.status_code == 404:
        assert "jilin" in r.json()["available"]


def test_technologies_empty_q_is_422(client):
    # q is optional (without it: the whole list, tests/test_service_explore.py); an empty one is refused
    r = client.get("/v1/technologies", params={"q": ""})
    assert r.status_code == 422 and error_paths(r) == ["q"]


@needs_catalog
def test_technologies_lookup(client):
    r = client.get("/v1/technologies", params={"q": "关节镜诊疗技术", "jurisdiction": "吉林", "as_of": "2025-04-29"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["jurisdiction"] == "jilin" and body["resolution"]


def test_flowchart_unknown_jurisdiction_is_404(client):
    r = client.get("/v1/flowcharts/guangdong")
    assert r.status_code == 404
    assert "hunan" in r.json()["available"]


def test_flowchart_bad_format_is_422(client):
    r = client.get("/v1/flowcharts/hunan", params={"format": "gif"})
    assert r.status_code == 422 and error_paths(r) == ["format"]


@pytest.mark.parametrize(
    "fmt, media", [("dot", "text/vnd.graphviz"), ("mermaid", "text/plain"), ("svg", "image/svg+xml")]
)
def test_flowchart(client, fmt, media):
    r = client.get("/v1/flowcharts/jilin", params={"format": fmt, "as_of": "2025-04-29"})
    if not has_flowchart():
        assert r.status_code == 501 and r.json()["errors"]
        return
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(media)
    assert r.content


# --------------------------------------------------------------------------- OpenAPI


def test_openapi_uses_the_published_schemas(client):
    r = client.get("/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.1")
    schemas = doc["components"]["schemas"]
    req, resp = load_schema("request"), load_schema("response")
    assert {"institution", "events", "technology", "as_of"} <= set(schemas["DecisionRequest"]["properties"])
    # the published schemas, their $defs moved to sibling components (schema_component)
    for name, schema in (("DecisionRequest", req), ("DecisionResponse", resp)):
        for key, component in service.schema_component(schema, name).items():
            assert schemas[key] == component, key
    body = doc["paths"]["/v1/decisions"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/DecisionRequest"}
    ok = doc["paths"]["/v1/decisions"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/DecisionResponse"}
    assert "HTTPValidationError" not in json.dumps(doc)
    for path in (
        "/v1/decisions/batch",
        "/v1/flowcharts/{jurisdiction}",
        "/v1/documents",
        "/v1/documents/{document}",
        "/v1/documents/{document}/provisions/{eid}",
        "/v1/technologies",
        "/healthz",
    ):
        assert path in doc["paths"]


def test_schema_component_moves_defs():
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "x",
        "type": "object",
        "properties": {"a": {"$ref": "#/$defs/date"}, "b": {"$ref": "#"}},
        "$defs": {"date": {"type": "string"}},
    }
    out = service.schema_component(schema, "Req")
    assert out["Req"]["properties"]["a"] == {"$ref": "#/components/schemas/Req_date"}
    assert out["Req"]["properties"]["b"] == {"$ref": "#/components/schemas/Req"}
    assert "$id" not in out["Req"] and "$schema" not in out["Req"] and "$defs" not in out["Req"]
    assert out["Req_date"] == {"type": "string"}


# --------------------------------------------------------------------------- concurrency and isolation


def _varied_requests(n: int) -> list[dict]:
    out = []
    for i in range(n):
        day = 1 + i % 28
        req = {
            "as_of": f"2025-{1 + i % 12:02d}-{day:02d}",
            "institution": {"jurisdiction": JURISDICTIONS[i % len(JURISDICTIONS)], "level": 1 + i % 3},
            "events": [
                {
                    "type": ["first_clinical_use", "serious_incident", "training_start"][i % 3],
                    "date": f"2024-{1 + i % 12:02d}-{day:02d}",
                }
            ],
        }
        if has_catalog and i % 2:
            req["technology"] = {
                "name": ["冠心病介入治疗", "关节镜诊疗技术", "某种未知技术"][i % 3],
                "surgery_grade": 1 + i % 4,
            }
        out.append(req)
    return out


def test_concurrent_answers_equal_sequential(client):
    requests = _varied_requests(50)
    sequential = [client.post("/v1/decisions", json=r) for r in requests]
    assert all(r.status_code == 200 for r in sequential), [r.text for r in sequential if r.status_code != 200][:1]
    with ThreadPoolExecutor(16) as pool:
        concurrent = list(pool.map(lambda r: client.post("/v1/decisions", json=r), requests))
    assert [r.status_code for r in concurrent] == [200] * 50
    assert [r.content for r in concurrent] == [r.content for r in sequential]
    assert len({r.json()["as_of"] for r in concurrent}) > 10


def _scramble(value):
    """Mutate every container in place (what a careless caller might do to a response)."""
    if isinstance(value, dict):
        for k in list(value):
            _scramble(value[k])
            value[k] = "scrambled"
        value["injected"] = True
    elif isinstance(value, list):
        for v in value:
            _scramble(v)
        value.clear()
        value.append("scrambled")


def test_decide_shares_no_state_with_callers():
    from engine import decide

    req = {k: v for k, v in JILIN.items() if k != "technology"} if not has_catalog else copy.deepcopy(JILIN)
    first = decide(copy.deepcopy(req))
    before = json.dumps(first, ensure_ascii=False)
    mine = copy.deepcopy(req)
    answer = decide(mine)
    _scramble(mine)  # the request, after the call
    assert json.dumps(answer, ensure_ascii=False) == before, "the response aliases the request"
    _scramble(answer)  # the response, after the call
    assert json.dumps(decide(copy.deepcopy(req)), ensure_ascii=False) == before, "a response aliases shared state"


WEIRD = [
    {"as_of": "2025-04-29", "institution": {"jurisdiction": "jilin", "name": "‮" * 200}, "events": []},
    {
        "as_of": "9999-12-31",
        "institution": {"jurisdiction": "上海"},
        "events": [{"type": "first_clinical_use", "date": "9999-12-31"}],
    },
    {
        "as_of": "0001-01-01",
        "institution": {"jurisdiction": "湘"},
        "events": [{"type": "serious_incident", "date": "0001-01-01"}],
    },
    {"institution": {"jurisdiction": "jilin", "__proto__": {}, "constructor": 1}},
    {
        "as_of": "2025-04-29",
        "institution": {"jurisdiction": "chongqing"},
        "technology": {"name": "\x00\u2028 '; DROP TABLE"},
    },
    {
        "as_of": "2025-04-29",
        "institution": {"jurisdiction": "national"},
        "events": [{"type": "listed_prohibited", "date": "2025-04-29"}] * 200,
    },
]


def test_weird_requests_do_not_change_other_answers(client):
    req = {k: v for k, v in JILIN.items() if k != "technology"}
    before = client.post("/v1/decisions", json=req).content
    for w in WEIRD:
        if "technology" in w and not has_catalog:
            continue
        r = client.post("/v1/decisions", json=w)
        assert r.status_code in (200, 422), (w, r.status_code, r.text[:300])
    assert client.post("/v1/decisions", json=req).content == before
