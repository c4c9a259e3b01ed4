"""Soak run of the HTTP service (not a test: prints figures and judges them; exit 1 when they fail).

Starts the service as `medtech serve --workers 2` does (benchmarks/load.py's `start_server`) on a free
loopback port and keeps 16 callers busy for 5 minutes (`--seconds 300`) with a mix of what the service
answers: JSON decisions (most), the Chinese text, the calendar and CSV exports, small batches, the
page and a chart. Every 10 s it samples the server's resident memory (the process and its workers).
At the end it prints the requests answered, any answer that was not the expected status, and the
memory series, and judges the run:

- 0 errors (any status other than the one expected, or a broken connection);
- flat memory: the mean RSS of the last minute is at most `--rss-growth` (default 10 %) above the
  mean of the first minute after the warm-up.

    python benchmarks/soak.py [--seconds 300] [--concurrency 16] [--workers 2] [--rss-growth 0.10]

Traffic stays on 127.0.0.1; the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from load import RawConnection, free_port, make_request, rss_kib, start_server, wait_ready  # noqa: E402

SAMPLE_EVERY = 10.0  # seconds between memory samples


def _calls(rng: random.Random) -> list[tuple[str, str, bytes, str | None, int]]:
    """(method, path, body, Accept, expected status) of the mix, in proportion."""
    out = []
    for _ in range(40):
        req, invalid = make_request(rng)
        out.append(("POST", "/v1/decisions", json.dumps(req).encode(), None, 422 if invalid else 200))
    valid_req = {
        "as_of": "2025-03-10",
        "institution": {"jurisdiction": "hunan", "level": 3},
        "technology": {"name": "冠心病介入治疗"},
    }
    body = json.dumps(valid_req).encode()
    out += [
        ("POST", "/v1/decisions", body, "text/plain", 200),
        ("POST", "/v1/decisions", body, "text/calendar", 200),
        ("POST", "/v1/decisions", body, "text/csv", 200),
        ("POST", "/v1/decisions/batch", json.dumps({"requests": [valid_req] * 5}).encode(), None, 200),
        ("GET", "/?jurisdiction=hunan&tech=PCI&as_of=2025-03-10", b"", None, 200),
        ("GET", "/v1/documents/nhc-2018-1", b"", None, 200),
        ("GET", "/healthz", b"", None, 200),
    ]
    return out


async def caller(port: int, calls: list, stop: float, stats: dict, seed: int) -> None:
    rng = random.Random(seed)
    conn = RawConnection("127.0.0.1", port)
    while time.monotonic() < stop:
        method, path, body, accept, expected = rng.choice(calls)
        try:
            status, _ = await conn.request(method, path, body, accept=accept)
        except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError) as exc:
            stats["errors"].append(f"{method} {path}: {type(exc).__name__}")
            await conn.close()
            conn = RawConnection("127.0.0.1", port)
            continue
        stats["done"] += 1
        if status == 503 and path.endswith("/batch"):  # a full worker asks to retry: counted apart
            stats["busy"] += 1
        elif status != expected:
            stats["errors"].append(f"{method} {path}: {status} (expected {expected})")
    await conn.close()


async def sampler(pid: int, stop: float, series: list) -> None:
    started = time.monotonic()
    while time.monotonic() < stop:
        series.append((time.monotonic() - started, rss_kib(pid)))
        await asyncio.sleep(SAMPLE_EVERY)
    series.append((time.monotonic() - started, rss_kib(pid)))


async def soak(args) -> int:
    port = free_port()
    proc = start_server(port, args.workers, False)
    try:
        await wait_ready(port, proc)
        calls = _calls(random.Random(20261206))
        stats: dict = {"done": 0, "busy": 0, "errors": []}
        # warm-up, unmeasured
        warm_stop = time.monotonic() + args.warmup
        await asyncio.gather(
            *(caller(port, calls, warm_stop, {"done": 0, "busy": 0, "errors": []}, i) for i in range(args.concurrency))
        )
        series: list = []
        start = time.monotonic()
        stop = start + args.seconds
        await asyncio.gather(
            sampler(proc.pid, stop, series),
            *(caller(port, calls, stop, stats, 1000 + i) for i in range(args.concurrency)),
        )
        elapsed = time.monotonic() - start
    finally:
        proc.terminate()
        proc.wait(30)
    minute = min(60.0, args.seconds / 3)
    first = [r for t, r in series if t <= minute] or [series[0][1]]
    last = [r for t, r in series if t >= series[-1][0] - minute] or [series[-1][1]]
    growth = (sum(last) / len(last)) / (sum(first) / len(first)) - 1
    print(f"soak: {args.seconds:.0f} s, concurrency {args.concurrency}, {args.workers} workers")
    print(
        f"  requests answered: {stats['done']} ({stats['done'] / elapsed:.0f}/s); batches told to retry: {stats['busy']}"
    )
    print(f"  errors: {len(stats['errors'])}" + "".join(f"\n    {e}" for e in stats["errors"][:20]))
    print("  server RSS (MiB) every 10 s: " + " ".join(f"{r / 1024:.0f}" for _, r in series))
    print(
        f"  RSS, mean of the last {minute:.0f} s against the first: {growth * 100:+.1f} % (limit {args.rss_growth * 100:.0f} %)"
    )
    ok = not stats["errors"] and growth <= args.rss_growth
    print("  verdict: " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=300.0, help="measured duration (default 300: 5 minutes)")
    ap.add_argument("--warmup", type=float, default=10.0, help="unmeasured warm-up (default 10 s)")
    ap.add_argument("--concurrency", type=int, default=16, help="concurrent callers (default 16)")
    ap.add_argument("--workers", type=int, default=2, help="server processes (default 2)")
    ap.add_argument("--rss-growth", type=float, default=0.10, help="allowed RSS growth, last minute vs first (0.10)")
    args = ap.parse_args(argv)
    return asyncio.run(soak(args))


if __name__ == "__main__":
    sys.exit(main())
