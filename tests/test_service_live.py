"""The service as it is deployed: a real uvicorn process on a loopback port, real HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
REQUEST = {
    "as_of": "2025-04-29",
    "institution": {"jurisdiction": "jilin", "level": 3, "category": "hospital"},
    "events": [{"type": "first_clinical_use", "date": "2025-04-28"}],
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "engine.service.app:app", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"uvicorn exited with {proc.returncode}: {proc.stdout.read().decode(errors='replace')[-2000:]}"
                )
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("the service did not answer /healthz within 30 s")
            time.sleep(0.2)
        yield proc, base
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.stdout.close()


def test_live_requests(server):
    proc, base = server
    with httpx.Client(base_url=base, timeout=10) as c:
        health = c.get("/healthz")
        assert health.status_code == 200
        digest = health.json()["knowledge_base"]["digest"]
        assert health.headers["x-knowledge-base-digest"] == digest

        r = c.post("/v1/decisions", json=REQUEST)
        assert r.status_code == 200, r.text
        assert r.json()["jurisdiction"] == {"id": "jilin", "name": "吉林省"}
        assert r.headers["x-knowledge-base-digest"] == digest

        bad = c.post("/v1/decisions", json={**REQUEST, "institution": {"jurisdiction": "广东省"}})
        assert bad.status_code == 422
        assert "institution.jurisdiction" in [e["path"] for e in bad.json()["errors"]]

        malformed = c.post("/v1/decisions", content=b"{", headers={"content-type": "application/json"})
        assert malformed.status_code == 400

        big = c.post("/v1/decisions", content=b" " * (1536 * 1024), headers={"content-type": "application/json"})
        assert big.status_code == 413 and big.headers["x-knowledge-base-digest"] == digest

        batch = c.post("/v1/decisions/batch", json={"requests": [REQUEST, {}]})
        assert batch.status_code == 200 and len(batch.json()["responses"]) == 2

        prov = c.get("/v1/documents/nhc-2018-1/provisions/art_25__para_3")
        assert prov.status_code == 200 and prov.json()["label"] == "第二十五条第三款"

        assert c.get("/v1/documents/nope").status_code == 404
        assert "DecisionRequest" in c.get("/openapi.json").json()["components"]["schemas"]


def test_terminates_within_10_seconds(server):
    proc, base = server
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(10)
    except subprocess.TimeoutExpired:
        pytest.fail("the service did not exit within 10 s of SIGTERM")
    log = proc.stdout.read().decode(errors="replace")
    # recent uvicorn re-raises the signal after its graceful shutdown, so -SIGTERM is a clean exit too
    assert code in (0, -signal.SIGTERM), log[-2000:]
    assert "Application shutdown complete" in log, log[-2000:]
