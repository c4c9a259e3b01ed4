"""Engine calls of the service run one at a time: `on_engine_short` runs inline on the event loop's
thread only while the engine thread is idle, and queues behind its work otherwise
(engine.service.worker); the decision fast path answers through it, errors included."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from fastapi.testclient import TestClient

from engine.service import app as service
from engine.service import fastpath, worker


def _where() -> str:
    return threading.current_thread().name


@pytest.fixture
def decided(monkeypatch) -> list[tuple[str, str]]:
    """(format, thread) of every decision the service makes during the test."""
    calls: list[tuple[str, str]] = []
    real = service.decide_as

    def spy(data, fmt, quotes="all", trace=True):
        calls.append((fmt, _where()))
        return real(data, fmt, quotes, trace)

    monkeypatch.setattr(service, "decide_as", spy)
    return calls


def test_short_call_runs_inline_when_the_engine_thread_is_idle():
    async def run():
        await worker.on_engine(lambda: None)  # the thread exists and has finished its job
        assert not worker.engine_busy()
        return await worker.on_engine_short(_where), _where()

    inside, loop_thread = asyncio.run(run())
    assert inside == loop_thread


def test_short_call_waits_for_the_engine_thread_when_it_is_busy():
    release, running = threading.Event(), threading.Event()
    order: list[str] = []

    def long_job():
        running.set()
        release.wait(10)
        order.append("long")

    def short_job():
        order.append("short")
        return _where()

    async def run():
        long = asyncio.ensure_future(worker.on_engine(long_job))
        while not running.is_set():
            await asyncio.sleep(0.001)
        assert worker.engine_busy()
        short = asyncio.ensure_future(worker.on_engine_short(short_job))
        await asyncio.sleep(0.05)
        assert order == []  # the short call did not overtake or run beside the long one
        release.set()
        await long
        return await short

    where = asyncio.run(run())
    assert order == ["long", "short"]
    assert where.startswith("medtech-engine")


def test_a_cancelled_caller_leaves_the_engine_busy_until_its_job_ends():
    release, running = threading.Event(), threading.Event()

    def long_job():
        running.set()
        release.wait(10)

    async def run():
        task = asyncio.ensure_future(worker.on_engine(long_job))
        while not running.is_set():
            await asyncio.sleep(0.001)
        task.cancel()  # the client went away; the job still runs on the thread
        await asyncio.sleep(0.01)
        busy = worker.engine_busy()
        release.set()
        while worker.engine_busy():
            await asyncio.sleep(0.001)
        return busy

    assert asyncio.run(run()) is True


def test_fast_path_decides_inline_and_answers_errors_in_their_shape(decided):
    body = {
        "as_of": "2025-04-29",
        "institution": {"jurisdiction": "guangdong"},
        "events": [{"type": "accident", "date": "2025-02-30"}],
    }
    with TestClient(service.app) as client:
        r = client.post("/v1/decisions", content=json.dumps(body), headers={"content-type": "application/json"})
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert {e["path"] for e in errors} >= {"institution.jurisdiction", "events.0.type"}
    assert all(set(e) >= {"path", "message"} for e in errors)
    seen = [where for _, where in decided]
    assert seen and not seen[0].startswith("medtech-engine")  # answered on the loop's thread


def test_large_bodies_and_other_formats_go_to_the_engine_thread(decided):
    seen = decided
    good = {"as_of": "2025-04-29", "institution": {"jurisdiction": "jilin"}}
    padded = json.dumps(good) + " " * (fastpath.SHORT_BODY + 1)
    with TestClient(service.app) as client:
        assert (
            client.post("/v1/decisions", content=padded, headers={"content-type": "application/json"}).status_code
            == 200
        )
        r = client.post("/v1/decisions", content=json.dumps(good), headers={"accept": "text/plain"})
        assert r.status_code == 200
    assert [fmt for fmt, _ in seen] == ["json", "text"]
    assert all(where.startswith("medtech-engine") for _, where in seen)


def test_the_loop_answers_while_the_engine_thread_is_busy_and_decisions_wait_their_turn():
    """A long engine job (a batch chunk, a flowchart) does not stop the event loop: a request that needs
    no engine (malformed JSON) is answered at once, and a decision waits for the job instead of running
    beside it."""
    import httpx

    from engine.service.kb_access import digest

    digest()  # the digest header needs the knowledge base once; load it before the engine thread is blocked
    release, running = threading.Event(), threading.Event()

    def long_job():
        running.set()
        release.wait(10)

    async def run():
        transport = httpx.ASGITransport(app=service.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            job = asyncio.ensure_future(worker.on_engine(long_job))
            while not running.is_set():
                await asyncio.sleep(0.001)
            good = {"as_of": "2025-04-29", "institution": {"jurisdiction": "jilin"}}
            decision = asyncio.ensure_future(client.post("/v1/decisions", json=good))
            bad = await asyncio.wait_for(client.post("/v1/decisions", content=b"{"), timeout=5)
            assert bad.status_code == 400 and bad.json()["errors"][0]["path"] == ""
            await asyncio.sleep(0.05)
            assert not decision.done()  # queued behind the engine job, not decided beside it
            release.set()
            await job
            answer = await asyncio.wait_for(decision, timeout=30)
            assert answer.status_code == 200 and answer.json()["as_of"] == "2025-04-29"

    asyncio.run(run())


def test_before_the_warm_up_decisions_go_to_the_engine_thread(monkeypatch, decided):
    """Until the knowledge base is loaded (which takes seconds, or fails), a decision never runs on the loop."""
    from engine.service import kb_access

    good = {"as_of": "2025-04-29", "institution": {"jurisdiction": "jilin"}}
    with TestClient(service.app) as client:
        monkeypatch.setattr(kb_access, "_WARM", False)
        assert client.post("/v1/decisions", json=good).status_code == 200
        monkeypatch.setattr(kb_access, "_WARM", True)
        assert client.post("/v1/decisions", json=good).status_code == 200
    seen = [where for _, where in decided]
    assert seen[0].startswith("medtech-engine") and not seen[1].startswith("medtech-engine")
