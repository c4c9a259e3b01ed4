"""The HTTP service's exploring routes (engine.service.explore), compact responses, YAML bodies,
CORS and the offline documentation pages, in-process through FastAPI's TestClient."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from engine.kb.documents import get_document
from engine.kb.schemas import load_schema
from engine.service import app as service
from engine.service.cors import set_cors_origins

REQUEST = {
    "as_of": "2025-03-10",
    "institution": {"jurisdiction": "hunan", "level": 3},
    "technology": {"name": "冠心病介入治疗", "first_in_institution": True},
    "events": [{"type": "first_clinical_use", "date": "2025-03-03"}],
}
REQUEST_YAML = """\
as_of: 2025-03-10
institution: {jurisdiction: 湖南省, level: 3}
technology: {name: 冠心病介入治疗, first_in_institution: true}
events:
  - {type: first_clinical_use, date: 2025-03-03}
"""


@pytest.fixture(scope="module")
def client():
    with TestClient(service.app) as c:
        yield c


def walk(node):
    """Every dict inside `node`."""
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from walk(v)


# --------------------------------------------------------------------------- compact responses


def test_quotes_once_and_none_keep_everything_but_the_repeated_quotes(client):
    full = client.post("/v1/decisions", json=REQUEST).json()
    once = client.post("/v1/decisions?quotes=once", json=REQUEST).json()
    none = client.post("/v1/decisions?quotes=none", json=REQUEST).json()
    validator = Draft202012Validator(load_schema("response"))
    for body in (full, once, none):
        assert not list(validator.iter_errors(body))
    assert "provisions" not in full and "provisions" not in none
    cited = {(c["document"], c["eid"]) for c in walk(full) if "quote" in c and "eid" in c}
    assert set(once["provisions"]) == {f"{d}:{e}" for d, e in cited}
    for key, p in once["provisions"].items():
        assert key == f"{p['document']}:{p['eid']}"
        assert p["label"] == get_document(p["document"]).get(p["eid"]).label
    quotes_in_full = {(c["document"], c["eid"]): c["quote"] for c in walk(full) if "quote" in c and "eid" in c}
    assert {k: v["quote"] for k, v in once["provisions"].items()} == {
        f"{d}:{e}": q for (d, e), q in quotes_in_full.items()
    }
    for body in (once, none):
        assert not [c for c in walk({k: v for k, v in body.items() if k != "provisions"}) if "quote" in c]

    def strip(node):
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k not in ("quote", "provisions")}
        return [strip(v) for v in node] if isinstance(node, list) else node

    assert strip(full) == strip(once) == strip(none)
    assert len(json.dumps(once, ensure_ascii=False)) < len(json.dumps(full, ensure_ascii=False))


def test_quotes_bad_value_is_422(client):
    r = client.post("/v1/decisions?quotes=some", json=REQUEST)
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "quotes"


def test_batch_quotes_once(client):
    r = client.post("/v1/decisions/batch?quotes=once", json={"requests": [REQUEST, {"institution": {}}]})
    first, second = r.json()["responses"]
    assert "provisions" in first and "errors" in second


# --------------------------------------------------------------------------- YAML bodies


def test_yaml_body_gives_the_same_answer(client):
    as_json = client.post("/v1/decisions", json=REQUEST)
    as_yaml = client.post("/v1/decisions", content=REQUEST_YAML.encode(), headers={"Content-Type": "application/yaml"})
    assert as_yaml.status_code == 200, as_yaml.text
    assert as_yaml.json() == as_json.json()


@pytest.mark.parametrize(
    "body, status, needle",
    [
        ("a: &x [1, 2]\nb: *x\n", 400, "anchors"),
        ("institution: {jurisdiction: hunan}\n---\nx: 1\n", 400, "one document"),
        ("institution: [\n", 400, "malformed YAML"),
        ("!!python/object/apply:os.system [ls]\n", 400, "malformed YAML"),
        (
            "institution: {jurisdiction: hunan}\nevents: [{type: first_clinical_use, date: 2025-02-30}]\n",
            422,
            "events.0.date",
        ),
    ],
)
def test_yaml_body_refusals(client, body, status, needle):
    r = client.post("/v1/decisions", content=body.encode(), headers={"Content-Type": "application/yaml"})
    assert r.status_code == status, r.text
    assert needle in r.text


def test_yaml_body_over_the_limit_is_413(client):
    body = b"x: '" + b"a" * (service.MAX_BODY + 10) + b"'\n"
    r = client.post("/v1/decisions", content=body, headers={"Content-Type": "application/yaml"})
    assert r.status_code == 413


# --------------------------------------------------------------------------- search, provisions by label


def test_search(client):
    r = client.get("/v1/search", params={"q": "伦理委员会"})
    assert r.status_code == 200, r.text
    body = r.json()
    # 7 provisions of the five texts and nhc-2025-282 第二段 (在伦理委员会充分论证的前提下)
    assert body["total"] == 8 and body["items"][0]["document"] == "nhc-2018-1" and body["items"][0]["eid"] == "art_13"
    page = client.get("/v1/search", params={"q": "伦理委员会", "limit": 3, "offset": 3}).json()
    assert [x["eid"] for x in page["items"]] == [x["eid"] for x in body["items"][3:6]] and page["next_offset"] == 6
    only = client.get("/v1/search", params={"q": "伦理委员会", "jurisdiction": "jilin"}).json()
    assert {x["document"] for x in only["items"]} == {"nhc-2018-1", "jl-2021", "nhc-2025-282"}
    assert client.get("/v1/search", params={"q": "伦理委员会", "document": "nhc-2018-x"}).status_code == 404
    assert client.get("/v1/search").status_code == 422


def test_provision_by_chinese_label(client):
    r = client.get("/v1/documents/nhc-2018-1/provisions/" + quote("第十一条第一款"))
    assert r.status_code == 200, r.text
    assert r.json()["eid"] == "art_11__para_1"
    assert client.get("/v1/documents/nhc-2018-1/provisions/" + quote("第九十九条")).status_code == 404
    twice = client.get("/v1/documents/jl-2021/provisions/" + quote("第四十一条"))  # Jilin's two 第四十一条
    assert twice.status_code == 422 and "art_41_2" in twice.json()["errors"][0]["message"]


# --------------------------------------------------------------------------- compare


def test_compare_json_yaml_and_text(client):
    r = client.post("/v1/compare", json={"request": REQUEST, "jurisdictions": ["hunan", "shanghai"]})
    assert r.status_code == 200, r.text
    model = r.json()
    assert model["columns"]["hunan"]["class"] == "restricted" and model["columns"]["shanghai"]["class"] == "unlisted"
    yaml_body = (
        "request:\n"
        + "".join("  " + line + "\n" for line in REQUEST_YAML.splitlines())
        + "jurisdictions: [湖南, 上海]\n"
    )
    r2 = client.post("/v1/compare", content=yaml_body.encode(), headers={"Content-Type": "application/yaml"})
    assert r2.status_code == 200, r2.text
    assert r2.json() == model
    r3 = client.post(
        "/v1/compare",
        json={"request": REQUEST, "jurisdictions": ["hunan", "shanghai"]},
        headers={"Accept": "text/plain"},
    )
    assert r3.headers["content-type"].startswith("text/plain") and "各地对比" in r3.text


def test_compare_errors_name_their_paths(client):
    r = client.post("/v1/compare", json={"request": REQUEST, "jurisdictions": ["hunan", "广东"]})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "jurisdictions.1"
    bad = {**REQUEST, "events": [{"type": "nope", "date": "2025-03-03"}]}
    r = client.post("/v1/compare", json={"request": bad})
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "request.events.0.type"
    r = client.post("/v1/compare", json={"case": REQUEST})
    assert r.status_code == 422 and {e["path"] for e in r.json()["errors"]} == {"case", "request"}


# --------------------------------------------------------------------------- catalogues and technologies


def test_catalogs_in_force(client):
    r = client.get("/v1/catalogs/湖南", params={"as_of": "2025-03-10"})
    assert r.status_code == 200, r.text
    versions = r.json()["versions"]
    # the national 2022 list (in force from 2022-04-20) and Hunan's own list, hn-2018-11 附件1
    assert [v["id"] for v in versions] == ["national-2022", "hunan-2018"]
    assert len(versions[0]["entries"]) == 12 and all(v["status"] == "in_force" for v in versions)
    old = client.get("/v1/catalogs/national", params={"as_of": "2020-01-01"}).json()
    assert [v["id"] for v in old["versions"]] == ["national-2018"] and len(old["versions"][0]["entries"]) == 15
    assert client.get("/v1/catalogs/guangdong").status_code == 404


def test_catalog_diff_route(client):
    r = client.get("/v1/catalogs/diff", params={"old": "national-2018", "new": "national-2022"})
    assert r.status_code == 200 and {e["code"] for e in r.json()["added"]} == {"G11", "G12"}
    r = client.get("/v1/catalogs/diff", params={"old": "national-2018", "new": "national-2030"})
    assert r.status_code == 404 and r.json()["errors"][0]["path"] == "new"


def test_technologies_pages_add_up(client):
    full = client.get("/v1/technologies", params={"jurisdiction": "hunan", "as_of": "2025-03-10", "limit": 500}).json()
    # 12 national entries (2022) + Hunan's 29 provincial ones, each a distinct technology
    assert full["total"] == 41 and full["next_offset"] is None and full["query"] is None and "resolution" not in full
    items, offset = [], 0
    while offset is not None:
        page = client.get(
            "/v1/technologies", params={"jurisdiction": "hunan", "as_of": "2025-03-10", "limit": 7, "offset": offset}
        ).json()
        assert page["total"] == 41 and len(page["items"]) <= 7
        items += page["items"]
        offset = page["next_offset"]
    assert items == full["items"]


def test_technologies_search_across_all_jurisdictions(client):
    r = client.get("/v1/technologies", params={"q": "PCI", "jurisdiction": "all", "as_of": "2025-03-10"})
    assert r.status_code == 200, r.text
    body = r.json()
    ids = [x["id"] for x in body["items"]]
    assert "coronary-intervention" in ids
    pci = next(x for x in body["items"] if x["id"] == "coronary-intervention")
    assert {(x["catalog"], x["code"]) for x in pci["listings"]} >= {("hunan-2018", "S19"), ("chongqing-2019", "CQ01")}
    assert body["resolution"] and body["text"]
    none = client.get("/v1/technologies", params={"q": "外星人技术", "jurisdiction": "national"}).json()
    assert none["total"] == 0 and none["items"] == []


# --------------------------------------------------------------------------- CORS and documentation


def test_cors_off_by_default_and_on_when_configured(client):
    try:
        set_cors_origins([])
        r = client.get("/healthz", headers={"Origin": "https://training.example"})
        assert "access-control-allow-origin" not in r.headers
        set_cors_origins(["https://training.example"])
        r = client.get("/healthz", headers={"Origin": "https://training.example"})
        assert r.headers["access-control-allow-origin"] == "https://training.example"
        assert "x-knowledge-base-digest" in r.headers["access-control-expose-headers"].lower()
        pre = client.options(
            "/v1/decisions",
            headers={
                "Origin": "https://training.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert pre.status_code == 200 and "POST" in pre.headers["access-control-allow-methods"]
        other = client.get("/healthz", headers={"Origin": "https://elsewhere.example"})
        assert "access-control-allow-origin" not in other.headers
    finally:
        set_cors_origins(None)


def test_serve_cli_passes_cors_origins(monkeypatch):
    from engine.cli import main

    seen = {}
    monkeypatch.setattr(
        service, "run", lambda *a, **k: seen.setdefault("origins", __import__("os").environ.get("MEDTECH_CORS_ORIGINS"))
    )
    monkeypatch.delenv("MEDTECH_CORS_ORIGINS", raising=False)
    assert main(["serve", "--cors-origin", "https://a.example", "--cors-origin", "https://b.example"]) == 0
    assert seen["origins"].split() == ["https://a.example", "https://b.example"]
    set_cors_origins(None)


@pytest.mark.parametrize("page, asset", [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.js")])
def test_docs_pages_use_local_assets_only(client, page, asset):
    r = client.get(page)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    urls = [u for u in __import__("re").findall(r'(?:src|href)="([^"]+)"', r.text)]
    assert urls and all(u.startswith("/") for u in urls), urls  # nothing from a CDN or Google Fonts
    assert "cdn" not in r.text.lower() and "fonts.googleapis" not in r.text
    assert f"/static-docs/{asset}" in urls
    for url in urls:
        got = client.get(url)
        assert got.status_code == 200 and len(got.content) > 1000, url
        assert b"cdn.redoc.ly" not in got.content, url
    if page == "/docs":
        assert '"validatorUrl": null' in r.text  # no validator badge fetched from swagger.io
