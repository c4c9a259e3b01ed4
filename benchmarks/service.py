"""Server-side CPU per POST /v1/decisions, in process, broken down (not a test: prints figures).

Drives the service's ASGI app (engine.service.app:app, every middleware included) directly with a
fake receive/send over a request mix, without sockets or uvicorn, and prints the process CPU
(every thread) per request next to what `decide()` alone and `decide()` + JSON encoding cost on
the same requests. The difference is the HTTP layer's own cost around the engine (body reading
and parsing, middleware, the hop to the engine thread, response objects); uvicorn's protocol
work and the kernel's network work come on top (benchmarks/load.py measures those).

    .venv/bin/python benchmarks/service.py [--mix load|scenarios] [--n 3000] [--rounds 3]
                                           [--backend durable|pure] [--profile 30]

`--mix load` (default) is the mix benchmarks/load.py sends (10% intended 422s); `--mix scenarios`
is every valid scenario request (benchmarks/decide.py). `--profile N` prints the N most expensive
functions (cProfile, cumulative) of the ASGI run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def bodies(mix: str, n: int) -> list[bytes]:
    if mix == "load":
        from load import request_mix

        return [json.dumps(r, ensure_ascii=False).encode() for r, _ in request_mix(n)]
    from decide import scenario_requests

    reqs = scenario_requests()
    return [json.dumps(reqs[i % len(reqs)], ensure_ascii=False).encode() for i in range(max(n, len(reqs)))]


def scope_for(body: bytes) -> dict:
    """The scope uvicorn (httptools) builds for the load client's request."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": "POST",
        "root_path": "",
        "path": "/v1/decisions",
        "raw_path": b"/v1/decisions",
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "state": {},
    }


async def call(app, body: bytes) -> tuple[int, int]:
    sent = False

    async def receive():
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)  # a disconnect never comes while the answer is written
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    status, size = 0, 0

    async def send(message):
        nonlocal status, size
        if message["type"] == "http.response.start":
            status = message["status"]
        else:
            size += len(message.get("body", b""))

    await app(scope_for(body), receive, send)
    return status, size


async def run_asgi(app, payloads: list[bytes]) -> tuple[float, float, dict]:
    statuses: dict[int, int] = {}
    wall, cpu = time.perf_counter(), time.process_time()
    for body in payloads:
        status, _ = await call(app, body)
        statuses[status] = statuses.get(status, 0) + 1
    return time.process_time() - cpu, time.perf_counter() - wall, statuses


def run_engine(payloads: list[bytes], encode: bool) -> float:
    from engine import decide
    from engine.errors import InvalidRequest
    from engine.jsonout import dumps_bytes

    cpu = time.process_time()
    for body in payloads:
        data = json.loads(body)
        try:
            response = decide(data)
        except InvalidRequest as exc:
            response = {"errors": exc.errors}
        if encode:
            dumps_bytes(response)
    return time.process_time() - cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mix", choices=["load", "scenarios"], default="load")
    ap.add_argument("--n", type=int, default=3000, help="requests per round")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of each measurement (the best is printed)")
    ap.add_argument("--backend", choices=["durable", "pure"], default="durable")
    ap.add_argument("--profile", type=int, default=0, metavar="N", help="print the N top functions of the ASGI run")
    args = ap.parse_args()
    os.environ["MEDTECH_BACKEND"] = args.backend
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    from engine.service.app import app
    from engine.service.kb_access import warm

    warm()
    payloads = bodies(args.mix, args.n)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(run_asgi(app, payloads[:300]))  # warm caches (calendar years, resolutions)
    run_engine(payloads[:300], True)
    n = len(payloads)
    best = {"asgi": 1e9, "engine": 1e9, "decide": 1e9}
    statuses: dict = {}
    wall_asgi = 0.0
    for _ in range(args.rounds):
        cpu, wall, statuses = loop.run_until_complete(run_asgi(app, payloads))
        if cpu < best["asgi"]:
            best["asgi"], wall_asgi = cpu, wall
        best["engine"] = min(best["engine"], run_engine(payloads, True))
        best["decide"] = min(best["decide"], run_engine(payloads, False))
    ms = {k: v / n * 1000 for k, v in best.items()}
    print(f"mix: {args.mix}, {n} requests per round, best of {args.rounds}; back end {args.backend}; statuses {statuses}")
    print(f"decide() alone (json.loads + decide):        {ms['decide']:.3f} ms CPU per request")
    print(f"decide() + JSON encoding of the answer:      {ms['engine']:.3f} ms")
    print(
        f"through the ASGI app (all middleware):       {ms['asgi']:.3f} ms "
        f"(wall {wall_asgi / n * 1000:.3f} ms; the HTTP layer's own part {ms['asgi'] - ms['engine']:.3f} ms)"
    )
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        loop.run_until_complete(run_asgi(app, payloads))
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(args.profile)


if __name__ == "__main__":
    main()
