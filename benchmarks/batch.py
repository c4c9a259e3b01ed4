"""Batch benchmark (not a test: prints figures).

Writes N request lines (default 100,000; the realistic mix of benchmarks/load.py: filings,
incidents, training bases, grade-qualified, unknown and ambiguous names, ~10 % invalid, across the
five jurisdictions, every line drawn afresh) to a temporary file, in a separate process so that
this process (the batch's parent) holds none of it, answers them with engine.batch.run_batch on
every core, checks the output has one line per input line, and prints:

- elapsed seconds, decisions/s, and what 1,000,000 lines would take at that rate;
- CPU per line, split into the parent (this process, without the sampler thread) and the workers
  (from the forkserver's reaped-children times, which hold the workers' whole CPU once they have
  exited), and the CPU-bound estimate for 1,000,000 lines on an otherwise idle machine;
- for comparison, the CPU per line of parsing + decide() alone in this process (warmed up on other
  lines of the same mix), so the batch's own overhead per line shows;
- the resident memory of every process of the run (parent, forkserver, resource tracker, workers),
  sampled every half second: once the workers are warm, its peak and at the end, so memory that
  grows with the number of lines shows.

    python benchmarks/batch.py [--lines 100000] [--workers N] [--backend durable|pure] [--decide-sample 4000]

It also prints the load average at the start and end, the CPU steal and the CPU other processes
used during the run, and flags a busy machine (benchmarks/machine.py), and closes with the targets:
1,000,000 lines (projected from this run's rate and CPU-bound on an idle machine) and flat memory
(no process grew by more than 5 MiB over the second half of the run).

Targets on a 2-core machine: 1,000,000 decisions in at most 5 minutes (--lines 1000000) with flat
memory in every process. A line's answer is 40 KB of JSON: 100,000 lines write ~4 GB to the
temporary directory (1,000,000: ~40 GB; --tmp DIR puts it elsewhere).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import machine  # noqa: E402  (benchmarks/machine.py)
from load import _tree, machine_cpu, make_request  # noqa: E402  (benchmarks/load.py)

from engine.batch import run_batch  # noqa: E402
from engine.batch_io import _SPOOL_PREFIX, _spool_base  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
TARGET_MIN = 5  # minutes for 1,000,000 lines (issue 24)
FLAT_MIB = 5.0  # growth over the second half of a run that still counts as flat


def reaped_cpu() -> float:
    """CPU seconds of this process's descendants that have exited and been reaped (their parents'
    cutime + cstime: the batch's workers once the forkserver has reaped them)."""
    total = 0.0
    for pid in _tree(os.getpid()):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = _stat(pid)
            total += (int(fields[13]) + int(fields[14])) / TICK
    return total


def write_input(path: str, n: int, seed: int = 7) -> tuple[int, int]:
    """Write n request lines of the mix to `path`; (distinct requests, intended invalid ones)."""
    import random

    rng = random.Random(seed)
    seen, invalid = set(), 0
    with open(path, "w", encoding="utf-8") as fh:
        for _ in range(n):
            req, bad = make_request(rng)
            invalid += bad
            seen.add(hash(json.dumps(req, sort_keys=True, ensure_ascii=False)))
            fh.write(json.dumps(req, ensure_ascii=False) + "\n")
    return len(seen), invalid


def _stat(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rsplit(")", 1)[1].split()


class MemorySampler(threading.Thread):
    """Samples VmRSS of this process and its descendants every `interval` seconds."""

    def __init__(self, interval: float = 0.5):
        super().__init__(daemon=True)
        self.interval, self.samples = interval, {}  # pid -> [(t, KiB)]
        self.names: dict[int, str] = {}
        self.cpu: dict[int, float] = {}  # pid -> CPU seconds at its last sample
        self.reaped: dict[int, float] = {}  # pid -> CPU seconds of its exited, reaped children
        self.own_cpu = 0.0  # this thread's CPU (not the batch's)
        self.spool_peak = 0  # bytes in the run's spool directory (memory when it is /dev/shm)
        self.done = threading.Event()
        self.start_time = time.monotonic()

    def run(self) -> None:
        while not self.done.wait(self.interval):
            self.sample()
        self.own_cpu = time.thread_time()

    def sample(self) -> None:
        now = time.monotonic() - self.start_time
        spool = 0
        with contextlib.suppress(OSError):
            for entry in os.scandir(_spool_base()):
                if entry.name.startswith(f"{_SPOOL_PREFIX}{os.getpid()}-"):
                    spool += sum(f.stat().st_blocks * 512 for f in os.scandir(entry.path))
        self.spool_peak = max(self.spool_peak, spool)
        for pid in _tree(os.getpid()):
            try:
                with open(f"/proc/{pid}/status") as fh:
                    kib = next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))
                fields = _stat(pid)
                if pid not in self.names:
                    with open(f"/proc/{pid}/cmdline", "rb") as fh:
                        cmd = fh.read().replace(b"\0", b" ").decode(errors="replace")
                    # workers are forked by the forkserver, whose command line they inherit
                    self.names[pid] = (
                        "parent"
                        if pid == os.getpid()
                        else "worker"
                        if self.names.get(int(fields[1])) == "forkserver"
                        else "forkserver"
                        if "forkserver" in cmd
                        else "resource tracker"
                        if "resource_tracker" in cmd
                        else "worker"
                    )
                self.cpu[pid] = (int(fields[11]) + int(fields[12])) / TICK
                self.reaped[pid] = (int(fields[13]) + int(fields[14])) / TICK
            except (OSError, StopIteration, IndexError, ValueError):
                continue
            self.samples.setdefault(pid, []).append((now, kib))

    def role_cpu(self, role: str) -> float:
        return sum(sec for pid, sec in self.cpu.items() if self.names.get(pid) == role)

    def growth(self, half: float) -> float:
        """The largest growth of any process's resident memory from half-way to the end, MiB."""
        out = 0.0
        for series in self.samples.values():
            middle = next((kib for t, kib in series if t >= half), series[-1][1])
            out = max(out, (series[-1][1] - middle) / 1024)
        return out

    def report(self, warm_after: float, half: float) -> list[str]:
        out = []
        for pid, series in sorted(self.samples.items()):
            warm = next((kib for t, kib in series if t >= warm_after), series[-1][1])
            middle = next((kib for t, kib in series if t >= half), series[-1][1])
            peak, last = max(kib for _, kib in series), series[-1][1]
            out.append(
                f"  {self.names.get(pid, '?'):<16} pid {pid:<7} {warm / 1024:6.1f} MiB warm, "
                f"{middle / 1024:6.1f} half-way, {peak / 1024:6.1f} peak, {last / 1024:6.1f} at the end "
                f"({(last - warm) / 1024:+.1f} MiB since warm, {(last - middle) / 1024:+.1f} since half-way), "
                f"CPU {self.cpu.get(pid, 0):.0f} s"
            )
        return out


def worker_overhead(src: Path, sample: int) -> tuple[float, float]:
    """(CPU seconds per line of parsing + decide() alone, of a worker's whole path: answering,
    serialising and writing to its spool slot), measured in this process over the first `sample`
    lines of the input after warming up on `sample` other lines (its last ones), as a worker is
    warm. Each chunk is timed both ways, alternately first, so neither gains from the other's caches."""
    from engine import InvalidRequest, decide
    from engine.batch import MAX_CHUNK, answer_bytes, answer_pieces, init_worker
    from engine.batch_io import make_spool, remove_spool, write_spooled
    from engine.requestio import loads_json

    with open(src, "rb") as fh:
        lines = fh.read().splitlines()
    init_worker()
    for line in lines[-sample:]:
        answer_bytes(line)

    def alone(chunk):
        for line in chunk:
            with contextlib.suppress(InvalidRequest):
                decide(loads_json(line.decode("utf-8")))

    spool = make_spool()
    times = [0.0, 0.0]
    try:
        for i in range(0, sample, MAX_CHUNK):
            chunk = lines[i : min(i + MAX_CHUNK, sample)]
            ways = [(0, alone), (1, lambda c: write_spooled(spool, "0", answer_pieces(c)))]
            for k, fn in ways if (i // MAX_CHUNK) % 2 == 0 else ways[::-1]:
                t = time.thread_time()
                fn(chunk)
                times[k] += time.thread_time() - t
    finally:
        remove_spool(spool)
    return times[0] / sample, times[1] / sample


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=None, help="processes (default: every core)")
    ap.add_argument("--progress", action="store_true", help="draw the progress bar on stderr")
    ap.add_argument(
        "--decide-sample",
        type=int,
        default=4000,
        help="lines for the decide()-alone comparison after the run (0: skip it)",
    )
    ap.add_argument("--tmp", default=None, help="directory for the input and output files (default: the system's)")
    ap.add_argument(
        "--backend",
        choices=["durable", "pure"],
        default=None,
        help="evaluator (as `medtech batch --backend`; default: the engine's default, durable)",
    )
    args = ap.parse_args(argv)
    if args.backend:
        os.environ["MEDTECH_BACKEND"] = args.backend  # before the forkserver starts: the workers inherit it
    cores = os.cpu_count() or 1
    workers = args.workers or cores

    with tempfile.TemporaryDirectory(prefix="medtech-batch-bench-", dir=args.tmp) as tmp:
        src, dst = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        t0 = time.perf_counter()
        with ProcessPoolExecutor(1, mp_context=get_context("fork")) as gen:  # not in this (the parent's) memory
            distinct, invalid = gen.submit(write_input, str(src), args.lines).result()
        t1, busy, cpu_parent = time.perf_counter(), machine_cpu(), time.process_time()
        load0 = machine.loadavg()
        print(f"load average at the start: {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}", flush=True)
        watch = machine.Watch(lambda: sum(machine.process_cpu(pid) for pid in _tree(os.getpid())) + reaped_cpu())
        sampler = MemorySampler()
        sampler.start()
        run_batch(str(src), str(dst), progress=args.progress, workers=args.workers)
        t2, busy = time.perf_counter(), machine_cpu() - busy
        sampler.done.set()
        sampler.join()
        sampler.sample()  # the forkserver has reaped the workers by now: their whole CPU is its children's
        verdict = watch.stop(others_limit=0.5, others_load_limit=None)
        parent_cpu = time.process_time() - cpu_parent - sampler.own_cpu
        sampled = sampler.role_cpu("worker")
        reaped = sum(sec for pid, sec in sampler.reaped.items() if sampler.names.get(pid) == "forkserver")
        workers_cpu = max(sampled, reaped)
        helpers_cpu = sampler.role_cpu("forkserver") + sampler.role_cpu("resource tracker")
        n_out = errors = 0
        with open(dst, "rb") as fh:
            prev = b"\n"
            while block := fh.read(1 << 24):
                n_out += block.count(b"\n")
                errors += (prev + block).count(b'\n{"errors"')  # a line that starts with errors
                prev = block[-1:]
        size_in, size_out = src.stat().st_size, dst.stat().st_size
        sample = min(args.decide_sample, args.lines // 2)
        per_decide, per_path = worker_overhead(src, sample) if sample else (None, None)

    elapsed, n = t2 - t1, args.lines
    total_cpu = parent_cpu + workers_cpu + helpers_cpu
    ms = lambda sec: f"{sec / n * 1000:.3f}"  # noqa: E731 - CPU seconds -> ms per line
    print(
        f"input:       {n} lines ({size_in / 2**20:.1f} MiB, {distinct} distinct requests, {invalid} intended invalid), "
        f"written in {t1 - t0:.1f} s"
    )
    print(
        f"workers:     {workers} process(es) on {cores} CPU(s), back end {os.environ.get('MEDTECH_BACKEND') or 'default'}"
    )
    print(
        f"elapsed:     {elapsed:.1f} s, {n / elapsed:.0f} decisions/s (machine CPU busy {busy:.0f} of "
        f"{elapsed * cores:.0f} CPU-s, others' work included; load average {os.getloadavg()[0]:.1f})"
    )
    print(
        f"CPU/line:    {ms(total_cpu)} ms = parent {ms(parent_cpu)} + workers {ms(workers_cpu)} "
        f"(sampled {ms(sampled)}, reaped {ms(reaped)}) + forkserver/tracker {ms(helpers_cpu)}"
    )
    if per_decide is not None:
        print(
            f"decide():    {per_decide * 1000:.3f} ms/line parsing + decide() alone, {per_path * 1000:.3f} the "
            f"worker's whole path (+ serialising, spooling): overhead {(per_path - per_decide) * 1000:+.3f} ms/line "
            f"(one warm process, {sample} lines, after the run)"
        )
    at_rate, cpu_bound = elapsed / n * 1e6 / 60, total_cpu / n * 1e6 / min(cores, workers + 1) / 60
    print(
        f"1,000,000:   {at_rate:.1f} min at this run's rate; "
        f"{cpu_bound:.1f} min CPU-bound on an idle machine "
        f"(CPU/line x 1M / {min(cores, workers + 1)} cores); target {TARGET_MIN} min"
    )
    print(f"output:      {n_out} lines ({size_out / 2**20:.1f} MiB), {errors} answered with errors")
    print(
        f"memory:      resident size of each process (warm = {min(10.0, elapsed / 4):.0f} s into the run); "
        f"spool files (in {_spool_base()}) at most {sampler.spool_peak / 2**20:.0f} MiB"
    )
    print("\n".join(sampler.report(warm_after=min(10.0, elapsed / 4), half=elapsed / 2)))
    growth = sampler.growth(half=elapsed / 2)
    flat = growth <= FLAT_MIB
    print(f"quiet?:      {verdict.line()}")
    print(
        f"targets:     1,000,000 lines <= {TARGET_MIN} min: at this run's rate {at_rate:.1f} min "
        f"({'met' if at_rate <= TARGET_MIN else 'not met'}), CPU-bound {cpu_bound:.1f} min "
        f"({'met' if cpu_bound <= TARGET_MIN else 'not met'}); flat memory (every process +{FLAT_MIB:g} MiB at most "
        f"over the second half): largest {growth:+.1f} MiB ({'met' if flat else 'not met'})"
        + ("; the machine was BUSY: the times are upper bounds" if verdict.busy else "")
        + (
            "; a short run: the engine's bounded memos are still filling, judge memory on --lines 100000 or more"
            if n < 100_000
            else ""
        )
    )
    if n_out != n:
        print("MISMATCH: output line count differs from input")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
