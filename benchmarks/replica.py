"""What one replica of the service costs (not a test: prints figures for docs/scaling.md).

Starts `medtech serve --workers N` (the real command) on a free loopback port for N in
--workers (default 1 and 2), and for each prints
- start-up: seconds from the command to the first 200 from /healthz (every worker warm: the
  knowledge base, the durable_rules ruleset and the validators are built before a worker serves);
- memory: RSS of each process (uvicorn's supervisor and its workers) right after start-up and
  after --requests decisions of the realistic mix (benchmarks/load.py);
- shutdown: seconds from SIGTERM to exit.
Then the same for the worker processes of `medtech batch` (their RSS while answering).

    python benchmarks/replica.py [--workers 1 2] [--requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from load import RawConnection, _tree, free_port, request_mix  # noqa: E402  (benchmarks/load.py)

ENV = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def rss_by_process(root: int) -> list[tuple[int, int, str]]:
    """(pid, RSS KiB, short command line) for a process and its descendants."""
    out = []
    for pid in _tree(root):
        try:
            with open(f"/proc/{pid}/status") as fh:
                rss = next((int(line.split()[1]) for line in fh if line.startswith("VmRSS:")), 0)
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        out.append((pid, rss, cmd))
    return out


def _kind(cmd: str, root: bool) -> str:
    if root:
        return "supervisor" if "serve" in cmd else "batch parent"
    if "resource_tracker" in cmd:
        return "resource tracker"
    if "forkserver" in cmd:
        return "forkserver/worker"
    return "worker"


def _describe(rows: list[tuple[int, int, str]], root: int) -> str:
    return ", ".join(f"{_kind(cmd, pid == root)} {rss / 1024:.0f} MiB" for pid, rss, cmd in rows)


async def _healthy(port: int) -> bool:
    conn = RawConnection("127.0.0.1", port)
    try:
        status, _ = await conn.request("GET", "/healthz")
        return status == 200
    except (OSError, ConnectionError, asyncio.IncompleteReadError):
        return False
    finally:
        await conn.close()


async def _traffic(port: int, n: int, concurrency: int = 8) -> int:
    bodies = [json.dumps(r, ensure_ascii=False).encode() for r, _ in request_mix(n, seed=5)]
    done = [0]

    async def caller(k: int):
        conn = RawConnection("127.0.0.1", port)
        try:
            for body in bodies[k::concurrency]:
                status, _ = await conn.request("POST", "/v1/decisions", body)
                done[0] += status in (200, 422)
        finally:
            await conn.close()

    await asyncio.gather(*(caller(k) for k in range(concurrency)))
    return done[0]


def measure_service(workers: int, requests: int) -> None:
    port = free_port()
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "serve", "--port", str(port), "--workers", str(workers)],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not asyncio.run(_healthy(port)):
            if proc.poll() is not None or time.monotonic() - t0 > 120:
                raise SystemExit(f"medtech serve did not start (exit {proc.returncode})")
            time.sleep(0.05)
        ready = time.monotonic() - t0
        time.sleep(1.5)  # the other workers finish their warm-up
        started = rss_by_process(proc.pid)
        answered = asyncio.run(_traffic(port, requests))
        loaded = rss_by_process(proc.pid)
    finally:
        t1 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        stopped = time.monotonic() - t1
    print(f"medtech serve --workers {workers}:")
    print(f"  start-up to first /healthz 200: {ready:.2f} s")
    print(
        f"  RSS after start-up:   {_describe(started, proc.pid)}; total {sum(r for _, r, _ in started) / 1024:.0f} MiB"
    )
    print(
        f"  RSS after {answered} decisions: {_describe(loaded, proc.pid)}; total {sum(r for _, r, _ in loaded) / 1024:.0f} MiB"
    )
    print(f"  SIGTERM to exit: {stopped:.2f} s (exit {proc.returncode})")


def measure_batch(lines: int, workers: int) -> None:
    with tempfile.TemporaryDirectory(prefix="medtech-replica-") as tmp:
        src, dst = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        src.write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r, _ in request_mix(lines, seed=9)), encoding="utf-8"
        )
        t0 = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "engine.cli", "batch", str(src), "-o", str(dst), "--workers", str(workers)],
            cwd=ROOT,
            env=ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        peak: dict[int, tuple[int, str]] = {}
        while proc.poll() is None:
            for pid, rss, cmd in rss_by_process(proc.pid):
                if rss > peak.get(pid, (0, ""))[0]:
                    peak[pid] = (rss, cmd)
            time.sleep(0.25)
        elapsed = time.monotonic() - t0
    rows = [(pid, rss, cmd) for pid, (rss, cmd) in peak.items()]
    print(f"medtech batch --workers {workers} ({lines} lines, {elapsed:.1f} s, exit {proc.returncode}):")
    print(f"  peak RSS per process: {_describe(rows, proc.pid)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--requests", type=int, default=2000, help="decisions sent before the second memory reading")
    ap.add_argument("--batch-lines", type=int, default=4000, help="lines for the batch reading (0: skip it)")
    args = ap.parse_args(argv)
    print(f"{os.cpu_count()} CPU(s); load average {os.getloadavg()[0]:.1f} (other work on the machine slows start-up)")
    for w in args.workers:
        measure_service(w, args.requests)
    if args.batch_lines:
        measure_batch(args.batch_lines, max(args.workers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
