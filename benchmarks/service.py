"""Server-side CPU per POST /v1/decisions, in process, broken down (not a test: prints figures).

Drives the service's ASGI app (engine.service.app:app, every middleware included) directly with a
fake receive/send over a request mix, without sockets or uvicorn, and prints the process CPU
(every thread) per request next to what `decide()` alone and `decide()` + JSON encoding cost on
the same requests. The difference is the HTTP layer's own cost around the engine (body reading
and parsing, middleware, the hop to the engine thread, response objects); uvicorn's protocol
work and the kernel's network work come on top (benchmarks/load.py measures those).

    .venv/bin/python benchmarks/service.py [--mix load|scenarios] [--n 3000] [--rounds 3]
                                           [--backend durable|pure] [--profile 30]
    .venv/bin/python benchmarks/service.py --serve 500 [--seconds 10] [--stub]

`--mix load` (default) is the mix benchmarks/load.py sends (10% intended 422s); `--mix scenarios`
is every valid scenario request (benchmarks/decide.py). `--profile N` prints the N most expensive
functions (cProfile, by own time) of the ASGI run.

`--stub` (in process too) replaces decide() by one fixed (large) response, as below, so that the
app's CPU per request minus the stub's (the fixed response's JSON encoding) is the HTTP layer's own
part. `MEDTECH_HOT_ROUTE=0` in the environment turns the hot route (engine.service.hotroute) off.

    .venv/bin/python benchmarks/service.py --stub [--baseline-root PATH] [--pairs 3] ...

`--baseline-root PATH` runs the same measurement alternately on this checkout and on another one (e.g.
`git worktree add /tmp/route-base <commit>`), `--pairs` times each, in fresh processes, and prints
each run's figures with the load average; `--engine-root PATH` (what it passes) imports `engine`
from PATH instead of this checkout.

`--serve RATE` measures the same split in the real server instead: uvicorn runs in this process
as `medtech serve` runs each worker (engine.service.app.run's settings, one worker), the
open-loop client of benchmarks/load.py sends RATE requests/s from another process, and the
process CPU per request (user and system: uvicorn, the kernel's network work and all) is printed
next to the CPU `decide()` and the JSON encoding took inside it (timed around the calls).
With `--stub`, decide() returns one fixed (large) response instead of deciding, which leaves the
HTTP layer's cost alone. With `--floor`, uvicorn serves a raw ASGI callable that answers every
request with one fixed, already encoded decision and as many headers: the floor under any app
(uvicorn, the protocol and the kernel; compare with `--stub`'s CPU minus its JSON encoding).
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


def stub_decide(payloads: list[bytes]) -> None:
    """decide() answers every request with one fixed response: the largest of the first 100 requests' answers."""
    import engine
    from engine.jsonout import dumps_bytes

    real = engine.decide
    answers = []
    for body in payloads[:100]:
        try:
            answers.append(real(json.loads(body)))
        except Exception:  # noqa: BLE001, S112 - an invalid request of the mix
            continue
    fixed = max(answers, key=lambda a: len(dumps_bytes(a)))
    engine.decide = lambda *args, **kwargs: fixed  # engine.service.decisions calls engine.decide by this name


def run_stubbed(payloads: list[bytes]) -> float:
    """CPU of what the stubbed decide() costs the route: the call and the fixed answer's JSON encoding."""
    from engine.service.decisions import decide_as

    cpu = time.process_time()
    for body in payloads:
        decide_as(json.loads(body), "json")
    return time.process_time() - cpu


async def floor_app(scope, receive, send) -> None:
    """The floor under any app: raw ASGI, reads the body, answers one fixed decision (`FLOOR`, encoded once)
    with as many headers as the service sends. What uvicorn, the protocol and the kernel cost alone."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    FLOOR["n"] += 1
    await send({"type": "http.response.start", "status": 200, "headers": FLOOR["headers"]})
    await send({"type": "http.response.body", "body": FLOOR["body"]})


FLOOR: dict = {"n": 0}


def _prepare_floor() -> None:
    from engine import decide
    from engine.jsonout import dumps_bytes

    body = dumps_bytes(decide(json.loads((ROOT / "examples" / "request.json").read_bytes())))
    FLOOR["body"] = body
    FLOOR["headers"] = [(b"x-header-%d" % i, b"v" * 40) for i in range(12)] + [(b"content-length", b"%d" % len(body))]


def serve(rate: float, seconds: float, stub: bool = False, profile: int = 0, floor: bool = False) -> None:
    """One worker under open-loop load; process CPU per request, split (see the module docstring).
    `stub`: decide() answers every request with one fixed response (the first large one it made),
    so that what is left is the HTTP layer's cost alone (invalid requests then get 200s too)."""
    import subprocess
    import threading

    import uvicorn

    import engine
    from engine.service import decisions

    spent = {"decide": 0.0, "encode": 0.0, "n": 0}
    real_decide, real_dumps = engine.decide, decisions.dumps

    fixed: list = []

    def timed_decide(*args, **kwargs):
        t = time.thread_time()
        try:
            if fixed:
                return fixed[0]
            response = real_decide(*args, **kwargs)
            if stub and len(decisions.dumps(response)) > 30_000:
                fixed.append(response)
            return response
        finally:
            spent["decide"] += time.thread_time() - t
            spent["n"] += 1

    def timed_dumps(obj):
        t = time.thread_time()
        try:
            return real_dumps(obj)
        finally:
            spent["encode"] += time.thread_time() - t

    engine.decide, decisions.dumps = timed_decide, timed_dumps  # engine.service.decisions calls them by these names
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from load import free_port

    port = free_port()
    if floor:
        _prepare_floor()
    config = uvicorn.Config(
        floor_app if floor else "engine.service.app:app",
        host="127.0.0.1",
        port=port,
        access_log=False,
        log_level="warning",
        http="engine.service.protocol:JsonErrorProtocol",
    )
    server = uvicorn.Server(config)
    marks: dict = {}

    def client() -> None:
        while not server.started:
            time.sleep(0.1)
        code = (
            f"import sys, asyncio; sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); import load\n"
            f"r = load._run_lean(load.drive_open({port}, {seconds}, {rate}, 64, 0.0))\n"
            "print(f\"client: {r['sent']} requests, p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
            "{r['unexpected']} unexpected answers\")"
        )
        time.sleep(1.0)
        marks["start"] = (dict(spent, n=FLOOR["n"]) if floor else dict(spent), os.times())
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
        marks["end"] = (dict(spent, n=FLOOR["n"]) if floor else dict(spent), os.times())
        print(out.stdout.strip(), out.stderr.strip()[-2000:])
        server.should_exit = True

    threading.Thread(target=client, daemon=True).start()
    prof = None
    if profile:
        import cProfile

        prof = cProfile.Profile()  # the event loop's thread (uvicorn, the app, inline decisions)
        prof.enable()
    try:
        import uvloop

        uvloop.run(server.serve())
    except ImportError:
        asyncio.run(server.serve())
    if prof is not None:
        import pstats

        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(profile)
    (s0, t0), (s1, t1) = marks["start"], marks["end"]
    n = max(s1["n"] - s0["n"], 1)
    user, system = (t1.user - t0.user) / n * 1000, (t1.system - t0.system) / n * 1000
    dec, enc = (s1["decide"] - s0["decide"]) / n * 1000, (s1["encode"] - s0["encode"]) / n * 1000
    print(f"engine from {Path(engine.__file__ or '').parent.parent}")
    print(
        f"one worker at {rate:.0f} requests/s for {seconds:.0f} s: {n} requests"
        + (", decide() stubbed" if stub else "")
    )
    print(f"process CPU per request: {user + system:.3f} ms (user {user:.3f}, system {system:.3f})")
    print(
        f"  decide() {dec:.3f} ms, JSON encoding {enc:.3f} ms, the rest (HTTP, framework, kernel) {user + system - dec - enc:.3f} ms"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mix", choices=["load", "scenarios"], default="load")
    ap.add_argument("--n", type=int, default=3000, help="requests per round")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of each measurement (the best is printed)")
    ap.add_argument("--backend", choices=["durable", "pure"], default="durable")
    ap.add_argument("--profile", type=int, default=0, metavar="N", help="print the N top functions of the ASGI run")
    ap.add_argument("--serve", type=float, default=0, metavar="RATE", help="measure a real server at RATE requests/s")
    ap.add_argument("--seconds", type=float, default=10.0, help="with --serve: how long (default 10)")
    ap.add_argument(
        "--stub", action="store_true", help="with --serve: decide() answers one fixed response (HTTP cost alone)"
    )
    ap.add_argument(
        "--floor", action="store_true", help="with --serve: a raw ASGI app answering one fixed decision instead"
    )
    ap.add_argument("--engine-root", metavar="PATH", help="import engine from this checkout instead")
    ap.add_argument("--baseline-root", metavar="PATH", help="alternate runs with this checkout (its engine)")
    ap.add_argument("--pairs", type=int, default=3, help="with --baseline-root: runs of each (default 3)")
    args = ap.parse_args()
    if args.baseline_root:
        side_by_side(args)
        return
    if args.engine_root:
        sys.path.insert(0, str(Path(args.engine_root).resolve()))
    os.environ["MEDTECH_BACKEND"] = args.backend
    if args.serve:
        serve(args.serve, args.seconds, args.stub, args.profile, args.floor)
        return
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    from engine.service.app import app
    from engine.service.kb_access import warm

    warm()
    payloads = bodies(args.mix, args.n)
    if args.stub:
        stub_decide(payloads)
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
        if args.stub:
            best["engine"] = min(best["engine"], run_stubbed(payloads))
            continue
        best["engine"] = min(best["engine"], run_engine(payloads, True))
        best["decide"] = min(best["decide"], run_engine(payloads, False))
    ms = {k: v / n * 1000 for k, v in best.items()}
    print(f"engine from {Path(sys.modules['engine'].__file__ or '').parent.parent}")
    print(
        f"mix: {args.mix}, {n} requests per round, best of {args.rounds}; back end {args.backend}; statuses {statuses}"
    )
    if args.stub:
        print(f"decide() stubbed: the call and the fixed answer's JSON encoding {ms['engine']:.3f} ms CPU per request")
    else:
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


def side_by_side(args) -> None:
    """This checkout and `--baseline-root`, alternately, `--pairs` runs each, each in a fresh process."""
    import subprocess

    argv, skip = [], False
    for a in sys.argv[1:]:
        if skip:
            skip = False
            continue
        if a in ("--baseline-root", "--pairs", "--engine-root"):
            skip = True
            continue
        if a.startswith(("--baseline-root=", "--pairs=", "--engine-root=")):
            continue
        argv.append(a)
    roots = {"this checkout": ROOT, "baseline": Path(args.baseline_root).resolve()}
    for i in range(args.pairs):
        for label, root in roots.items():
            load = "/".join(f"{x:.2f}" for x in os.getloadavg())
            out = subprocess.run(
                [sys.executable, __file__, *argv, "--engine-root", str(root)], capture_output=True, text=True
            )
            lines = [line for line in out.stdout.splitlines() if line.strip()]
            print(f"== run {i + 1}, {label} ({root}), load average {load} at the start")
            print("\n".join("   " + line for line in lines[-5:]) or out.stderr[-2000:])


if __name__ == "__main__":
    main()
