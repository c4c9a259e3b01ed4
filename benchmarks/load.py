"""Load test of the HTTP service (not a test: prints figures).

Starts the service the way `medtech serve` does (engine.service.app.run -> uvicorn, N worker
processes) on a free loopback port, drives POST /v1/decisions for a fixed time with a realistic
mix of requests across the five jurisdictions, and prints requests/s, latency percentiles,
unexpected statuses and the server's memory before and after. Traffic stays on 127.0.0.1; the
server is stopped at the end.

    python benchmarks/load.py [--seconds 30] [--concurrency 32] [--workers 2] [--access-log]
    python benchmarks/load.py --rate 2000 [--connections 64] ...
    python benchmarks/load.py --batch 1000 [--ndjson] [--concurrency 24]    # POST /v1/decisions/batch

Closed loop (default): --concurrency callers, each sending its next request when the previous
answer arrives, so a slow server is offered less load. Open loop (--rate R): requests are sent at
the fixed arrival rate R whatever the server does, over a pool of --connections keep-alive
connections; each latency runs from the request's scheduled send time (time spent waiting for a
free connection counts), so a server that falls behind shows it in the percentiles. The client
reports how late it sent requests, which tells whether the client itself kept up.

With `--batch N` every caller posts batches of N requests to /v1/decisions/batch instead (the
answer streamed as JSON, or as NDJSON with `--ndjson`); 503s (a worker already answering as many
batches as it takes on) are counted apart, and the server's peak memory during the run is printed.

Each run reports the server's CPU per decision (user + system of its processes, from
/proc/PID/stat) beside the load client's own CPU per request, and whether the machine was quiet:
the load average and CPU steal before and after (/proc/stat), and the run is flagged BUSY when
steal exceeds 2 % or processes other than the server and the client used more than 10 % of a
core (benchmarks/machine.py). `--mix-size N` sends N distinct requests in turn (default 5000);
`--mix-size 0` makes every request new (nothing a cross-request memo has seen before).

`--baseline-root PATH` measures another checkout side by side: its server (its own
.venv/bin/python when it has one, its engine first on the path) and this one's run at the same
time, and the same load is sent to each in alternation, --pairs times (order swapped each pair,
each pair on its own mix seed); it prints the server CPU per decision of each run and the ratio
current / baseline (the target: <= 0.6), and with --rate whether p99 <= 20 ms in every run:

    python benchmarks/load.py --rate 2000 --seconds 20 --mix-size 0 --baseline-root /tmp/medtech-base

The default client is a minimal HTTP/1.1 keep-alive client on asyncio (one connection per
concurrent caller), so that the figures measure the server rather than the client library;
`--client httpx` uses httpx.AsyncClient instead.

Targets on a 2-core machine: closed loop >= 800 decisions/s with p99 < 50 ms; open loop
`--rate 2000 --workers 2` on the default back end with p99 <= 20 ms in every run on a quiet
machine; server CPU per decision <= 0.6 x that of the code before issue 24's changes, measured
side by side (--baseline-root).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import machine  # noqa: E402  (benchmarks/machine.py)

# --------------------------------------------------------------------------- the request mix

JURISDICTIONS = [
    ["national", "全国", "国家"],
    ["chongqing", "重庆", "重庆市"],
    ["hunan", "湖南", "湖南省"],
    ["shanghai", "上海", "上海市"],
    ["jilin", "吉林", "吉林省"],
]
LISTED = [  # restricted somewhere: national lists, provincial lists, abbreviations, codes
    "冠心病介入治疗",
    "PCI",
    "异基因造血干细胞移植技术",
    "同种胰岛移植技术",
    "性别重置技术",
    "质子和重离子加速器放射治疗技术",
    "人工智能辅助治疗技术",
    "肿瘤消融治疗技术",
    "血液透析",
    "CRRT",
    "连续性肾脏替代治疗技术",
    "ECMO",
    "经导管射频消融术",
    "肿瘤全身热疗技术",
    "血液净化技术",
    "同种异体角膜移植技术",
    "放射性粒子植入治疗技术",
]
GRADED = [
    "关节镜诊疗技术",
    "心血管疾病介入诊疗技术",
    "神经血管介入诊疗技术",
    "消化内镜诊疗技术",
    "普通外科内镜诊疗技术",
]
AMBIGUOUS = ["腹腔镜", "射频消融", "透析", "干细胞移植"]
UNKNOWN = ["量子共振治疗", "某新型细胞疗法", "纳米机器人取栓", "超声刀美容", "XYZ-9"]
CODES = ["hunan:S19", "S19", "jilin:S1", "national-2022:G05"]
INCIDENTS = ["serious_incident", "efficacy_doubt", "staff_or_equipment_change", "lead_changed", "listed_prohibited"]
TRAINING = ["training_enrollment_announced", "training_start", "trainee_assessment_completed"]


def _day(rng: random.Random, lo=(2019, 1, 1), hi=(2026, 12, 31)) -> str:
    import datetime as dt

    a, b = dt.date(*lo).toordinal(), dt.date(*hi).toordinal()
    return dt.date.fromordinal(rng.randint(a, b)).isoformat()


def _before(rng: random.Random, as_of: str, max_days: int = 40) -> str:
    import datetime as dt

    return (dt.date.fromisoformat(as_of) - dt.timedelta(days=rng.randint(0, max_days))).isoformat()


def make_request(rng: random.Random) -> tuple[dict, bool]:
    """One request of the mix and whether it is meant to be invalid (an intended 422)."""
    as_of = _day(rng)
    inst = {
        "jurisdiction": rng.choice(rng.choice(JURISDICTIONS)),
        "level": rng.choice([1, 2, 3, 3, None]),
        "category": rng.choice(["hospital"] * 6 + ["maternal_child_health", "specialized_disease_prevention", "other"]),
    }
    if rng.random() < 0.2:
        inst["name"] = rng.choice(["某某医院", "市第一人民医院", "省妇幼保健院"])
    req: dict = {"as_of": as_of, "institution": inst}
    kind = rng.choices(
        ["filing", "incident", "training", "graded", "unknown", "institution", "ambiguous", "invalid"],
        [30, 15, 8, 15, 8, 10, 4, 10],
    )[0]
    if kind == "filing":
        req["technology"] = {"name": rng.choice(LISTED)} if rng.random() < 0.85 else {"code": rng.choice(CODES)}
        req["events"] = [{"type": "first_clinical_use", "date": _before(rng, as_of)}]
        if rng.random() < 0.3:
            req["events"].append({"type": "filing_submitted", "date": _before(rng, as_of, 10)})
        if rng.random() < 0.3:
            req["technology"]["first_in_institution"] = True
    elif kind == "incident":
        req["technology"] = {"name": rng.choice(LISTED + GRADED), "surgery_grade": rng.randint(1, 4)}
        req["events"] = [{"type": rng.choice(INCIDENTS), "date": _before(rng, as_of, 5)}]
    elif kind == "training":
        req["events"] = [{"type": t, "date": _before(rng, as_of, 60)} for t in rng.sample(TRAINING, rng.randint(1, 3))]
        if rng.random() < 0.5:
            req["technology"] = {"name": rng.choice(LISTED)}
    elif kind == "graded":
        req["technology"] = {"name": rng.choice(GRADED)}
        if rng.random() < 0.7:
            req["technology"]["surgery_grade"] = rng.randint(1, 4)
        req["events"] = [{"type": "first_clinical_use", "date": _before(rng, as_of)}]
    elif kind == "unknown":
        req["technology"] = {
            "name": rng.choice(UNKNOWN),
            "major_ethical_risk": rng.random() < 0.3,
            "unapproved_product": rng.random() < 0.2,
        }
    elif kind == "ambiguous":
        req["technology"] = {"name": rng.choice(AMBIGUOUS)}
    elif kind == "invalid":
        broken = rng.choice(["jurisdiction", "date", "grade", "field", "event"])
        if broken == "jurisdiction":
            inst["jurisdiction"] = rng.choice(["广东省", "guangdong", "北京"])
        elif broken == "date":
            req["as_of"] = rng.choice(["2025-02-30", "2025-13-01", "yesterday"])
        elif broken == "grade":
            req["technology"] = {"name": rng.choice(GRADED), "surgery_grade": rng.choice([0, 5, "三级"])}
        elif broken == "field":
            req["urgent"] = True
        else:
            req["events"] = [{"type": "accident", "date": as_of}]
        return req, True
    return req, False


MIX_SEED = 20250429


def request_mix(n: int, seed: int = MIX_SEED) -> list[tuple[dict, bool]]:
    rng = random.Random(seed)
    return [make_request(rng) for _ in range(n)]


def encoded_mix(n: int, seed: int = MIX_SEED) -> list[tuple[bytes, bool]]:
    """`request_mix(n, seed)` as JSON bodies."""
    return [(json.dumps(r, ensure_ascii=False).encode(), invalid) for r, invalid in request_mix(n, seed)]


# --------------------------------------------------------------------------- server process


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int] | None:
    """The child processes of `pid` from /proc/PID/task/*/children (None where the kernel lacks it)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    out: list[int] = []
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out += [int(c) for c in fh.read().split()]
        except FileNotFoundError:
            return None
        except OSError:
            pass
    return out


def _tree(root_pid: int) -> list[int]:
    """A process and all its descendants (uvicorn's supervisor and its workers). Read from the
    processes' `children` lists, a handful of small files: the memory sampler runs on the client's
    event loop every half second, and a scan of all of /proc there delays the requests due meanwhile."""
    out, stack = [], [root_pid]
    while stack:
        pid = stack.pop()
        out.append(pid)
        children = _children(pid)
        if children is None:
            return _tree_by_scan(root_pid)
        stack.extend(children)
    return out


def _tree_by_scan(root_pid: int) -> list[int]:
    """`_tree` by reading every process's parent from /proc/N/stat."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, stack = [], [root_pid]
    while stack:
        pid = stack.pop()
        out.append(pid)
        stack.extend(children.get(pid, []))
    return out


def cpu_split(root_pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds used so far by a process tree."""
    tick, user, system = os.sysconf("SC_CLK_TCK"), 0, 0
    for pid in _tree(root_pid):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            user += int(fields[11])
            system += int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return user / tick, system / tick


def cpu_by_process(root_pid: int) -> dict[int, float]:
    """CPU seconds (user + system) used so far by each process of a tree."""
    tick, out = os.sysconf("SC_CLK_TCK"), {}
    for pid in _tree(root_pid):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            out[pid] = (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
    return out


def cpu_seconds(root_pid: int) -> float:
    """User + system CPU time used so far by a process tree."""
    return sum(cpu_split(root_pid))


def machine_cpu() -> float:
    """CPU seconds the whole machine has spent busy (all cores; /proc/stat)."""
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def rss_kib(root_pid: int) -> int:
    """VmRSS summed over a process and its descendants, KiB."""
    total = 0
    for pid in _tree(root_pid):
        try:
            with open(f"/proc/{pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


BACKEND = ["durable"]  # set from --backend in main()
SERVER_PID = [0]  # set in main(), for the memory sampler


def interpreter(root: Path) -> str:
    """The Python of a checkout: its own .venv's when it has one, else this one."""
    own = root / ".venv" / "bin" / "python"
    return str(own) if own.exists() else sys.executable


def start_server(port: int, workers: int, access_log: bool, root: Path = ROOT) -> subprocess.Popen:
    """`medtech serve` of the checkout at `root` (its engine first on the path, its .venv's Python
    when it has one)."""
    code = (
        f"from engine.service.app import run; run('127.0.0.1', {port}, {workers}, "
        f"access_log={access_log}, log_level='warning')"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "MEDTECH_BACKEND": BACKEND[0],
    }
    return subprocess.Popen(
        [interpreter(root), "-c", code], cwd=root, env=env, stdout=subprocess.DEVNULL if access_log else None
    )


async def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        try:
            conn = RawConnection("127.0.0.1", port)
            status, _ = await conn.request("GET", "/healthz")
            await conn.close()
            if status == 200:
                return
        except OSError:
            pass
        await asyncio.sleep(0.2)
    raise SystemExit("the server did not become ready")


# --------------------------------------------------------------------------- clients


class RawConnection:
    """A minimal HTTP/1.1 keep-alive client (Content-Length bodies only, as uvicorn sends here)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def _connect(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, method: str, path: str, body: bytes = b"", accept: str | None = None) -> tuple[int, bytes]:
        if self.writer is None:
            await self._connect()
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            + (f"Accept: {accept}\r\n" if accept else "")
            + f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        line = await self.reader.readline()
        if not line:
            raise ConnectionError("connection closed")
        status = int(line.split()[1])
        length, close, chunked = 0, False, False
        while True:
            h = await self.reader.readline()
            if h in (b"\r\n", b"\n", b""):
                break
            name, _, value = h.decode("latin-1").partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                close = True
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
        if chunked:  # a streamed answer (the batch endpoint): read it chunk by chunk, keep only its size
            size = 0
            while True:
                n = int((await self.reader.readline()).split(b";")[0], 16)
                if n == 0:
                    await self.reader.readline()
                    break
                size += len(await self.reader.readexactly(n))
                await self.reader.readline()
            if close:
                await self.close()
            return status, b"%d" % size
        data = await self.reader.readexactly(length)
        if close:
            await self.close()
        return status, data

    async def close(self):
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


class HttpxConnection:
    def __init__(self, host: str, port: int, client):
        self.base, self.client = f"http://{host}:{port}", client

    async def request(self, method: str, path: str, body: bytes = b"", accept: str | None = None) -> tuple[int, bytes]:
        headers = {"content-type": "application/json", **({"accept": accept} if accept else {})}
        r = await self.client.request(method, self.base + path, content=body, headers=headers)
        return r.status_code, r.content

    async def close(self):
        pass


# --------------------------------------------------------------------------- the load


def _batches(size: int, count: int = 8) -> list[tuple[bytes, bool]]:
    """`count` distinct batch bodies of `size` requests of the mix."""
    reqs = [r for r, _ in request_mix(size * count, seed=11)]
    return [
        (json.dumps({"requests": reqs[k * size : (k + 1) * size]}, ensure_ascii=False).encode(), False)
        for k in range(count)
    ]


async def drive(
    port: int,
    seconds: float,
    concurrency: int,
    client: str,
    warmup: float,
    batch: int = 0,
    ndjson: bool = False,
    mix_size: int = 5000,
    seed: int = MIX_SEED,
) -> dict:
    if batch:
        mix, path, accept = _batches(batch), "/v1/decisions/batch", ("application/x-ndjson" if ndjson else None)
    else:
        mix = encoded_mix(mix_size or int(3000 * (seconds + warmup)) + 1, seed)
        path, accept = "/v1/decisions", None
    latencies: list[float] = []
    counts = {"ok": 0, "intended_422": 0, "unexpected": 0, "busy_503": 0, "bytes": 0, "sent": 0}
    unexpected: dict[str, int] = {}
    shared = None
    if client == "httpx":
        import httpx

        shared = httpx.AsyncClient(
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency), timeout=30
        )
    start = time.monotonic()
    measure_from = start + warmup
    stop = measure_from + seconds

    async def worker(k: int):
        conn = HttpxConnection("127.0.0.1", port, shared) if shared else RawConnection("127.0.0.1", port)
        i = k * 997
        # callers arrive one after another during the warm-up, as real clients do, rather than all
        # in the same millisecond (which lets one server process accept most of the connections)
        await asyncio.sleep(min(warmup / 2, 1.0) * k / concurrency)
        try:
            while True:
                t0 = time.monotonic()
                if t0 >= stop:
                    return
                body, invalid = mix[i % len(mix)]
                i += 1
                try:
                    status, data = await conn.request("POST", path, body, accept)
                except (OSError, ConnectionError, asyncio.IncompleteReadError) as exc:
                    status, data = 0, repr(exc).encode()
                    await conn.close()
                t1 = time.monotonic()
                counts["sent"] += not (batch and status == 503)  # requests the server did the work of
                if t0 < measure_from:
                    continue
                if batch and status == 503:  # the worker's batch slots are taken: Retry-After, not an error
                    counts["busy_503"] += 1
                    await asyncio.sleep(0.05)
                    continue
                latencies.append(t1 - t0)
                if batch and status == 200:
                    counts["ok"] += 1
                    counts["bytes"] += int(data) if data.isdigit() else len(data)  # streamed: its size
                elif status == 200 and not invalid:
                    counts["ok"] += 1
                elif status == 422 and invalid:
                    counts["intended_422"] += 1
                else:
                    counts["unexpected"] += 1
                    key = f"{status} ({'invalid' if invalid else 'valid'} request)"
                    unexpected[key] = unexpected.get(key, 0) + 1
        finally:
            await conn.close()

    peak, finished = [0], asyncio.Event()

    async def sample_memory():  # the server's RSS every half second until the last caller is answered
        while not finished.is_set():
            peak[0] = max(peak[0], rss_kib(SERVER_PID[0])) if SERVER_PID[0] else 0
            await asyncio.sleep(0.5)

    async def callers():
        try:
            await asyncio.gather(*(worker(k) for k in range(concurrency)))
        finally:
            finished.set()

    await asyncio.gather(sample_memory(), callers())
    elapsed = time.monotonic() - measure_from
    if shared is not None:
        await shared.aclose()
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "rps": len(latencies) / elapsed,
        "p50_ms": pct(0.50),
        "p90_ms": pct(0.90),
        "p99_ms": pct(0.99),
        "max_ms": latencies[-1] * 1000 if latencies else 0,
        **counts,
        "unexpected_by_status": unexpected,
        "peak_rss_kib": peak[0],
    }


class _OpenLoopConnection(asyncio.Protocol):
    """One keep-alive connection of the open-loop client: sends a request, parses the answer
    (status line, Content-Length, body) as it arrives, then takes the next request that is due.
    Callbacks only: no task, coroutine or stream reader per request, so that the client spends
    as little of the shared CPU as it can."""

    def __init__(self, client: _OpenLoop):
        self.client, self.transport, self.buf = client, None, bytearray()
        self.job = None  # (k, due, sent) of the request in flight
        self.idle_since = time.monotonic()
        self.closed_by_us = False
        self.need = -1  # bytes of the body still to come once the head is read
        self.status = 0

    def connection_made(self, transport):
        self.transport = transport

    def send(self, k: int, due: float, now: float) -> None:
        self.job = (k, due, now)
        self.transport.write(self.client.heads[k % len(self.client.heads)])

    def data_received(self, data: bytes) -> None:
        # the head is collected in `buf`; of the body only the number of bytes still to come is kept
        while data and self.job is not None:
            if self.need < 0:
                self.buf += data
                end = self.buf.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = bytes(self.buf[:end]).lower()
                at = head.find(b"\r\ncontent-length:")
                if at < 0:
                    raise RuntimeError("an answer without Content-Length")
                eol = head.find(b"\r\n", at + 2)
                self.status = int(head[9:12])
                self.need = int(head[at + 17 : eol if eol > 0 else len(head)])
                data = bytes(self.buf[end + 4 :])
                self.buf.clear()
            if len(data) < self.need:
                self.need -= len(data)
                return
            data = data[self.need :]
            self.need = -1
            job, self.job = self.job, None
            self.client.answered(self, job, self.status)

    def connection_lost(self, exc) -> None:
        client = self.client
        client.open -= 1
        if self in client.idle:
            client.idle.remove(self)
        if self.job is not None:
            job, self.job = self.job, None
            client.answered(None, job, 0)
        if not self.closed_by_us:
            client.lost += 1
        if client.backlog and client.open < client.max:  # requests waiting: replace it
            client.loop.create_task(client.connect())


class _OpenLoop:
    """The open-loop client: request k is due at start + k/rate; it goes out at once on an idle
    connection, or, when all are busy, on the first one to become free or newly opened (the wait
    counts in its latency, which runs from the due time). Times are read from time.monotonic()
    when each event happens (uvloop's loop.time() is cached per loop iteration, in whole
    milliseconds).

    A pool as HTTP clients keep one: at most `connections` open, the most recently idle one
    reused first (it belongs to a worker that has just answered, so is likely free; reusing
    connections in turn would load the workers in proportion to how many connections each
    happened to accept), and one idle for IDLE_CLOSE seconds closed, before the server's
    keep-alive timeout (uvicorn: 5 s) could close it under a request being sent."""

    IDLE_CLOSE = 4.0

    def __init__(self, mix: list[tuple[bytes, bool]], port: int):
        self.heads = [
            b"POST /v1/decisions HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (port, len(body), body)
            for body, _ in mix
        ]
        self.invalid = [invalid for _, invalid in mix]
        self.port = port
        self.max = 64
        self.open = 0  # connections open or being opened
        self.idle: list[_OpenLoopConnection] = []
        self.backlog: collections.deque = collections.deque()
        self.latencies: list[float] = []
        self.late: list[float] = []
        self.counts = {"ok": 0, "intended_422": 0, "unexpected": 0, "sent": 0}
        self.unexpected: dict[str, int] = {}
        self.measure_from = 0.0
        self.outstanding = 0
        self.lost = 0
        self.loop = asyncio.get_running_loop()
        self.all_answered = asyncio.Event()
        self.scheduling = True

    async def connect(self) -> None:
        self.open += 1
        try:
            _, conn = await self.loop.create_connection(lambda: _OpenLoopConnection(self), "127.0.0.1", self.port)
        except OSError:
            self.open -= 1
            return
        if self.backlog:
            conn.send(*self.backlog.popleft(), time.monotonic())
        else:
            self.idle.append(conn)

    def submit(self, k: int, due: float) -> None:
        self.outstanding += 1
        if self.idle:
            self.idle.pop().send(k, due, time.monotonic())
        else:
            self.backlog.append((k, due))
            if self.open < self.max:
                self.loop.create_task(self.connect())

    def close_idle(self, now: float) -> None:
        """Close the connections idle for IDLE_CLOSE seconds (the least recently used are first in `idle`)."""
        while self.idle and now - self.idle[0].idle_since > self.IDLE_CLOSE:
            conn = self.idle.pop(0)
            conn.closed_by_us = True
            conn.transport.close()

    def answered(self, conn, job, status: int) -> None:
        k, due, sent = job
        done = time.monotonic()
        self.outstanding -= 1
        self.counts["sent"] += 1
        if conn is not None and not conn.transport.is_closing():
            if self.backlog:
                conn.send(*self.backlog.popleft(), done)
            else:
                conn.idle_since = done
                self.idle.append(conn)
        if due >= self.measure_from:
            self.latencies.append(done - due)
            self.late.append(sent - due)
            invalid = self.invalid[k % len(self.invalid)]
            if status == 200 and not invalid:
                self.counts["ok"] += 1
            elif status == 422 and invalid:
                self.counts["intended_422"] += 1
            else:
                self.counts["unexpected"] += 1
                key = f"{status} ({'invalid' if invalid else 'valid'} request)"
                self.unexpected[key] = self.unexpected.get(key, 0) + 1
        if not self.scheduling and self.outstanding == 0:
            self.all_answered.set()


async def drive_open(
    port: int,
    seconds: float,
    rate: float,
    connections: int,
    warmup: float,
    mix_size: int = 5000,
    seed: int = MIX_SEED,
) -> dict:
    """Open loop: request k is due at start + k/rate, sent on the first free connection. `mix_size`
    requests are sent in turn (0: as many as the run sends, each request new)."""
    mix = encoded_mix(mix_size or int(rate * (seconds + warmup)) + 1, seed)
    client = _OpenLoop(mix, port)
    client.max = connections
    for _ in range(connections):
        await client.connect()
    start = time.monotonic() + 0.05
    client.measure_from = measure_from = start + warmup
    stop = measure_from + seconds
    peak, finished_event = [0], asyncio.Event()

    async def sample_memory():  # the server's RSS every half second until the last answer
        while not finished_event.is_set():
            peak[0] = max(peak[0], rss_kib(SERVER_PID[0])) if SERVER_PID[0] else 0
            await asyncio.sleep(0.5)

    sampler = asyncio.ensure_future(sample_memory())
    k, next_close = 0, start
    while True:
        due = start + k / rate
        if due >= stop:
            break
        now = time.monotonic()
        if now >= next_close:
            client.close_idle(now)
            next_close = now + 0.5
        if due > now:
            await asyncio.sleep(due - now)
        client.submit(k, due)
        k += 1
    client.scheduling = False
    if client.outstanding:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(client.all_answered.wait(), timeout=30)
    finished = time.monotonic()
    finished_event.set()
    await sampler
    for conn in client.idle:
        conn.transport.close()
    latencies, late = sorted(client.latencies), sorted(client.late)

    def pct(values: list[float], p: float) -> float:
        return values[min(len(values) - 1, int(p * len(values)))] * 1000 if values else float("nan")

    elapsed = max(seconds, finished - measure_from)
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "rps": len(latencies) / elapsed,
        "p50_ms": pct(latencies, 0.50),
        "p90_ms": pct(latencies, 0.90),
        "p99_ms": pct(latencies, 0.99),
        "max_ms": latencies[-1] * 1000 if latencies else 0,
        "late_p99_ms": pct(late, 0.99),
        **client.counts,
        "unexpected_by_status": client.unexpected,
        "peak_rss_kib": peak[0],
        "unanswered": client.outstanding,
        "connections_lost": client.lost,
    }


def _run_lean(coro):
    """Run the open-loop client on uvloop when it is installed (as the server does): the client
    shares the machine's cores with the server, so the less CPU it takes the more the figures
    measure the server."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def measure(proc: subprocess.Popen, port: int, args, seed: int = MIX_SEED, others: tuple[int, ...] = ()) -> dict:
    """One run of the load against the server `proc`: the client's result with the server's and the
    client's CPU, the server's memory, and the machine's state (benchmarks/machine.py). `others`:
    pids of the benchmark's other servers (idle meanwhile; their CPU counts as the run's own)."""
    SERVER_PID[0] = proc.pid
    rss_before = rss_kib(proc.pid)
    watch = machine.Watch(lambda: sum(cpu_seconds(p) for p in (proc.pid, *others)) + time.process_time())
    (user0, sys0), cpu_client, cpu_all = cpu_split(proc.pid), time.process_time(), machine_cpu()
    per_process0 = cpu_by_process(proc.pid)
    if args.rate:
        result = _run_lean(
            drive_open(port, args.seconds, args.rate, args.connections, args.warmup, args.mix_size, seed)
        )
    else:
        result = asyncio.run(
            drive(
                port,
                args.seconds,
                args.concurrency,
                args.client,
                args.warmup,
                args.batch,
                args.ndjson,
                args.mix_size,
                seed,
            )
        )
    user1, sys1 = cpu_split(proc.pid)
    per_process = {pid: cpu - per_process0.get(pid, 0.0) for pid, cpu in cpu_by_process(proc.pid).items()}
    cpu_client = time.process_time() - cpu_client
    cpu_all = machine_cpu() - cpu_all
    verdict = watch.stop(others_limit=0.1, others_load_limit=None)
    decisions = max(result["sent"] * max(args.batch, 1), 1)
    if args.rate and result["unanswered"]:
        result["unexpected"] += result["unanswered"]
        result["unexpected_by_status"]["unanswered"] = result["unanswered"]
    return {
        **result,
        "cpu_user": user1 - user0,
        "cpu_sys": sys1 - sys0,
        "cpu_server": user1 - user0 + sys1 - sys0,
        "cpu_client": cpu_client,
        "cpu_all": cpu_all,
        "per_process": per_process,
        "server_ms": (user1 - user0 + sys1 - sys0) / decisions * 1000,
        "client_ms": cpu_client / max(result["sent"], 1) * 1000,
        "rss_before": rss_before,
        "rss_after": rss_kib(proc.pid),
        "verdict": verdict,
    }


def stop_server(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def describe_load(args) -> str:
    return (
        f"open loop at {args.rate:.0f} requests/s over {args.connections} connections"
        if args.rate
        else f"closed loop, client {args.client}, concurrency {args.concurrency}"
        + (f", batches of {args.batch}" if args.batch else "")
    ) + (
        ""
        if args.batch
        else f"; mix of {args.mix_size} requests in turn"
        if args.mix_size
        else "; every request new (--mix-size 0)"
    )


def report(args, result: dict, proc: subprocess.Popen) -> None:
    """The full report of one run."""
    print(
        f"server: back end {args.backend}, {args.workers} worker process(es), access log {'on' if args.access_log else 'off'}; "
        f"load: {describe_load(args)}; {os.cpu_count()} CPU(s)"
    )
    if args.batch:
        decisions = result["ok"] * args.batch
        print(
            f"batches:     {result['ok']} of {args.batch} requests answered ({'NDJSON' if args.ndjson else 'JSON'}, "
            f"{result['bytes'] / max(result['ok'], 1) / 2**20:.1f} MiB each) in {result['seconds']:.1f} s; "
            f"{result['busy_503']} answered 503 (busy, retried after 50 ms)"
        )
        print(f"throughput:  {decisions / result['seconds']:.0f} decisions/s")
    else:
        print(f"requests:    {result['requests']} in {result['seconds']:.1f} s")
        print(f"throughput:  {result['rps']:.0f} requests/s")
    print(
        f"latency:     p50 {result['p50_ms']:.1f} ms, p90 {result['p90_ms']:.1f} ms, "
        f"p99 {result['p99_ms']:.1f} ms, max {result['max_ms']:.1f} ms"
    )
    if args.rate:
        print(
            f"client:      p99 send delay behind schedule {result['late_p99_ms']:.1f} ms "
            f"(waiting for a free connection, or the client itself falling behind); "
            f"{result['connections_lost']} connections closed by the server, {result['unanswered']} requests unanswered after 30 s"
        )
    if not args.batch:
        print(
            f"answers:     {result['ok']} decisions (200), {result['intended_422']} intended 422s, "
            f"{result['unexpected']} errors {result['unexpected_by_status'] or ''}"
        )
    else:
        print(
            f"answers:     {result['ok']} batches (200), {result['unexpected']} errors {result['unexpected_by_status'] or ''}"
        )
    print(
        f"server RSS:  {result['rss_before'] / 1024:.1f} MiB before, {result['peak_rss_kib'] / 1024:.1f} MiB peak during the run, "
        f"{result['rss_after'] / 1024:.1f} MiB after (all processes)"
    )
    wall = result["seconds"] + args.warmup
    print(
        f"CPU/request: server {result['server_ms']:.3f} ms per decision (its processes' user + system from "
        f"/proc/PID/stat), load client {result['client_ms']:.3f} ms per request (warm-up included, "
        f"over {result['sent']} requests)"
    )
    print(
        f"CPU:         server {result['cpu_server']:.1f} s (user {result['cpu_user']:.1f} s, system "
        f"{result['cpu_sys']:.1f} s), load client {result['cpu_client']:.1f} s over {wall:.1f} s wall"
    )
    per_process = result["per_process"]
    shares = sorted((cpu for pid, cpu in per_process.items() if pid != proc.pid and cpu > 0.05), reverse=True)
    print(
        f"workers:     CPU per worker process {', '.join(f'{c:.1f} s' for c in shares) or '-'} "
        f"(uneven when the connections went unevenly to the workers); supervisor {per_process.get(proc.pid, 0.0):.1f} s"
    )
    print(
        f"machine:     {result['cpu_all']:.1f} CPU-s busy of {wall * (os.cpu_count() or 1):.1f} available; "
        f"{max(0.0, result['cpu_all'] - result['cpu_server'] - result['cpu_client']):.1f} s by other processes and "
        f"the kernel's network work"
    )
    print(f"quiet?:      {result['verdict'].line()}")


def one_line(name: str, result: dict, args) -> str:
    v = result["verdict"]
    return (
        f"{name:<9} server {result['server_ms']:.3f} ms CPU per decision, client {result['client_ms']:.3f} ms; "
        f"{result['rps']:.0f} req/s, p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms; "
        f"{result['unexpected']} errors; steal {v.steal_pct:.1f} %, others {v.others_cores:.2f} cores, "
        f"load {v.load_end[0]:.2f}: {'BUSY' if v.busy else 'quiet'}"
    )


def compare(args, current: Path, baseline: Path) -> int:
    """The same load against the baseline checkout's server and this one's, in alternation
    (--pairs pairs, the order swapped from pair to pair, each pair on its own mix seed), both
    servers running throughout; server CPU per decision of each and their ratio."""
    import statistics

    ports = {"current": free_port(), "baseline": free_port()}
    procs = {
        "current": start_server(ports["current"], args.workers, args.access_log, current),
        "baseline": start_server(ports["baseline"], args.workers, args.access_log, baseline),
    }
    runs: dict[str, list[dict]] = {"current": [], "baseline": []}
    try:
        for name in procs:
            asyncio.run(wait_ready(ports[name], procs[name]))
        time.sleep(1.0)  # let every worker finish its warm-up
        print(
            f"server: back end {args.backend}, {args.workers} worker process(es) each; load: {describe_load(args)}; "
            f"{os.cpu_count()} CPU(s)\ncurrent:  {current} ({interpreter(current)})\n"
            f"baseline: {baseline} ({interpreter(baseline)})"
        )
        for k in range(args.pairs):
            order = ["current", "baseline"] if k % 2 == 0 else ["baseline", "current"]
            for name in order:
                other = procs["baseline" if name == "current" else "current"].pid
                result = measure(procs[name], ports[name], args, seed=MIX_SEED + k, others=(other,))
                runs[name].append(result)
                print(f"pair {k + 1}: " + one_line(name, result, args), flush=True)
    finally:
        for proc in procs.values():
            stop_server(proc)
    cur, base = [r["server_ms"] for r in runs["current"]], [r["server_ms"] for r in runs["baseline"]]
    pairs = [c / b for c, b in zip(cur, base, strict=True) if b]
    ratio = statistics.median(cur) / statistics.median(base)
    busy = sum(r["verdict"].busy for rs in runs.values() for r in rs)
    print(
        f"server CPU per decision: current {' '.join(f'{x:.3f}' for x in cur)} ms (median {statistics.median(cur):.3f}), "
        f"baseline {' '.join(f'{x:.3f}' for x in base)} ms (median {statistics.median(base):.3f})"
    )
    print(
        f"current / baseline: {ratio:.2f} (ratio of medians; per pair {' '.join(f'{x:.2f}' for x in pairs)}); "
        f"target <= 0.6: {'met' if ratio <= 0.6 else 'not met'}; {busy} of {2 * args.pairs} runs on a BUSY machine"
    )
    if args.rate:
        p99 = [r["p99_ms"] for r in runs["current"]]
        print(
            f"current p99 at {args.rate:.0f} requests/s: {' '.join(f'{x:.1f}' for x in p99)} ms; "
            f"<= 20 ms in every run: {'yes' if max(p99) <= 20 else 'no'}"
        )
    return 1 if any(r["unexpected"] for rs in runs.values() for r in rs) else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0, help="measured duration (default 30)")
    ap.add_argument("--warmup", type=float, default=2.0, help="unmeasured warm-up before it (default 2)")
    ap.add_argument("--concurrency", type=int, default=32, help="closed loop: concurrent callers (default 32)")
    ap.add_argument("--rate", type=float, default=None, help="open loop: requests per second, sent on schedule")
    ap.add_argument("--connections", type=int, default=64, help="open loop: keep-alive connections (default 64)")
    ap.add_argument("--workers", type=int, default=2, help="server processes (default 2)")
    ap.add_argument("--client", choices=["raw", "httpx"], default="raw")
    ap.add_argument("--access-log", action="store_true", help="keep uvicorn's access log on (as `medtech serve`)")
    ap.add_argument(
        "--backend",
        choices=["durable", "pure"],
        default="durable",
        help="the server's rule engine (medtech serve --backend)",
    )
    ap.add_argument(
        "--batch", type=int, default=0, metavar="N", help="post batches of N requests to /v1/decisions/batch"
    )
    ap.add_argument("--ndjson", action="store_true", help="with --batch: ask for the NDJSON form of the answer")
    ap.add_argument(
        "--mix-size",
        type=int,
        default=5000,
        metavar="N",
        help="distinct requests sent in turn (default 5000; 0: every request new, as many as the run sends)",
    )
    ap.add_argument(
        "--baseline-root",
        type=Path,
        default=None,
        metavar="PATH",
        help="another checkout: run the same load against its server and this one's, alternately",
    )
    ap.add_argument("--pairs", type=int, default=3, help="with --baseline-root: runs of each (default 3)")
    args = ap.parse_args(argv)
    BACKEND[0] = args.backend
    if args.batch:
        args.warmup = 0.0  # a batch takes seconds: count every one, from the start
    if args.baseline_root:
        if not (args.baseline_root / "engine" / "service" / "app.py").exists():
            ap.error(f"--baseline-root {args.baseline_root}: not a checkout of this project (no engine/service/app.py)")
        return compare(args, ROOT, args.baseline_root.resolve())

    port = free_port()
    proc = start_server(port, args.workers, args.access_log)
    try:
        asyncio.run(wait_ready(port, proc))
        time.sleep(1.0)  # let every worker finish its warm-up
        result = measure(proc, port, args)
    finally:
        stop_server(proc)
    report(args, result, proc)
    print(f"server exit: {proc.returncode}")
    return 1 if result["unexpected"] else 0


if __name__ == "__main__":
    sys.exit(main())
