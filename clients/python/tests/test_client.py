"""The reference client against a live service (`medtech serve` on a free loopback port), and against a
newer server's answer (an enum value it does not know: tolerated, as docs/api-compatibility.md promises)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent.parent  # the repository
sys.path.insert(0, str(HERE.parent))

from medtech_client import (  # noqa: E402
    KNOWN_ACTIONS,
    KNOWN_CLASSES,
    KNOWN_DEADLINE_KINDS,
    KNOWN_STATUSES,
    KNOWN_WARNING_CODES,
    ApiError,
    DecisionRequest,
    IncompatibleApi,
    KnowledgeBaseMismatch,
    MedtechClient,
    is_known,
)

REQUEST: DecisionRequest = {
    "id": "case-1",
    "as_of": "2025-03-10",
    "institution": {"jurisdiction": "hunan", "level": 3},
    "technology": {"name": "冠心病介入治疗"},
    "events": [{"type": "first_clinical_use", "date": "2025-03-03"}],
}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def base_url():
    port = _free_port()
    medtech = Path(sys.executable).parent / "medtech"
    command = [str(medtech)] if medtech.exists() else [sys.executable, "-c", "from engine.cli import main; main()"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [*command, "serve", "--port", str(port), "--log-format", "json"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"medtech serve exited with {proc.returncode}")
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("the service did not answer /healthz within 60 s")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            _, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        lines = [json.loads(x) for x in err.decode("utf-8", "replace").splitlines() if x.startswith("{")]
        assert any(x.get("request_id") == "audit-7" for x in lines), "no JSON log line for the request"


def test_decide_live(base_url):
    with MedtechClient(base_url) as client:
        answer = client.decide(REQUEST, request_id="audit-7")
        body = answer.body
        assert answer.status == 200 and answer.request_id == "audit-7"
        assert answer.api_version and answer.api_version.startswith("1.")
        assert answer.decision_id == body["decision_id"] and body["id"] == "case-1"
        assert answer.kb_digest == body["knowledge_base"]["digest"]
        assert answer.kb_version == body["knowledge_base"]["version"]
        filing = [o for o in body["obligations"] if o["action"] == "file"]
        # 2025-03-03 first use, 15 working days (no holiday in between): 3-04 … 3-24 is the 15th
        assert filing and filing[0]["due"] == "2025-03-24"
        lean = client.decide(REQUEST, quotes="none", trace=False).body
        assert "trace" not in lean and lean["decision_id"] == body["decision_id"]


def test_batch_live_matches_answers_by_id(base_url):
    with MedtechClient(base_url) as client:
        answers = client.decide_batch([REQUEST, {"id": "broken", "institution": {"jurisdiction": "atlantis"}}]).body
        assert [a.get("id") for a in answers] == ["case-1", "broken"]
        assert "errors" in answers[1]


def test_errors_and_the_pin_live(base_url):
    with MedtechClient(base_url) as client:
        with pytest.raises(ApiError) as bad:
            client.decide({"institution": {"jurisdiction": "atlantis"}})
        assert bad.value.status == 422 and bad.value.errors[0]["path"] == "institution.jurisdiction"
        digest = client.health().kb_digest
    with MedtechClient(base_url, pin_digest=digest) as pinned:
        assert pinned.decide(REQUEST).status == 200
    with MedtechClient(base_url, pin_digest="sha256:" + "0" * 64) as stale, pytest.raises(KnowledgeBaseMismatch) as e:
        stale.decide(REQUEST)
    assert e.value.status == 412 and e.value.their_digest == digest


def test_flowchart_and_provision_live(base_url):
    with MedtechClient(base_url) as client:
        chart = client.flowchart(REQUEST, format="dot")
        assert chart.body.startswith(b"digraph") or b"digraph" in chart.body[:200]
        provision = client.provision("nhc-2018-1", "art_11").body
        assert provision["label"].startswith("第十一条")


# --------------------------------------------------------------------------- a newer server


def _newer_server(answer: dict, version: str = "1.7.0") -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=answer, headers={"x-api-version": version, "x-request-id": "r"})

    return httpx.MockTransport(handler)


def test_an_added_enum_value_is_tolerated():
    """An answer of a later minor version with values this client (API 1.0) does not know: no exception, the value
    kept as it is, `is_known` False so that a caller can fall back on the Chinese text."""
    newer = {
        "decision_id": "dec_" + "0" * 32,
        "as_of": "2025-03-10",
        "jurisdiction": {"id": "hunan", "name": "湖南省"},
        "knowledge_base": {"version": "9.0.0", "digest": "sha256:x"},
        "documents": [],
        "technology": {"query": "x", "id": None, "name": None, "class": "provisional_ban", "listings": []},
        "obligations": [
            {
                "id": "notify",
                "action": "notify_public",
                "actor": "institution",
                "addressee": "public",
                "summary": "向社会公布",
                "due": None,
                "deadline": {"kind": "each_month_end", "text": "每月末"},
                "status": "awaiting_review",
                "materials": [],
                "citations": [],
                "consequences": [],
            }
        ],
        "authority_actions": [],
        "warnings": [{"code": "brand_new_warning", "message": "新的提示"}],
        "missing_facts": [],
        "a_member_added_later": {"anything": True},
    }
    with MedtechClient("http://newer.example", transport=_newer_server(newer)) as client:
        body = client.decide(REQUEST).body
    duty = body["obligations"][0]
    assert duty["action"] == "notify_public" and not is_known(duty["action"], KNOWN_ACTIONS)
    assert not is_known(duty["status"], KNOWN_STATUSES) and duty["summary"] == "向社会公布"
    assert duty["deadline"] is not None and not is_known(duty["deadline"]["kind"], KNOWN_DEADLINE_KINDS)
    assert not is_known(body["warnings"][0]["code"], KNOWN_WARNING_CODES)


def test_another_major_version_is_refused():
    with (
        MedtechClient("http://v2.example", transport=_newer_server({}, "2.0.0")) as client,
        pytest.raises(IncompatibleApi),
    ):
        client.health()


def test_known_values_are_the_services_own():
    """What this client knows is what the service's vocabulary has (an older client may know less, never other)."""
    sys.path.insert(0, str(ROOT))
    from engine.kb.vocabulary import vocabulary

    v = vocabulary()
    for known, key in (
        (KNOWN_ACTIONS, "actions"),
        (KNOWN_STATUSES, "statuses"),
        (KNOWN_CLASSES, "technology_classes"),
        (KNOWN_DEADLINE_KINDS, "deadline_kinds"),
        (KNOWN_WARNING_CODES, "warning_codes"),
    ):
        assert known <= set(v.ids(key)), key


def test_the_client_type_checks_strictly():
    r = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "-p", "medtech_client"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=HERE.parent,
        env={**os.environ, "MYPYPATH": str(HERE.parent)},
    )
    assert r.returncode == 0, r.stdout + r.stderr
