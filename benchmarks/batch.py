"""Batch benchmark (not a test: prints figures).

Writes N request lines (default 100,000; the realistic mix of benchmarks/load.py: filings,
incidents, training bases, grade-qualified, unknown and ambiguous names, ~10 % invalid, across the
five jurisdictions) to a temporary file, answers them with engine.batch.run_batch on every core,
checks the output has one line per input line, and prints elapsed seconds and decisions/s, and
the resident memory of every process of the run (the parent, the forkserver, the workers),
sampled every second: its size once the workers are warm, its peak and its size at the end, so
memory that grows with the number of lines shows.

    python benchmarks/batch.py [--lines 100000] [--workers N] [--progress]

Targets on a 2-core machine: 1,000,000 decisions in under 8 minutes (--lines 1000000) with flat
memory in every process.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from load import _tree, machine_cpu, request_mix  # noqa: E402  (benchmarks/load.py)

from engine.batch import run_batch  # noqa: E402


class MemorySampler(threading.Thread):
    """Samples VmRSS of this process and its descendants every `interval` seconds."""

    def __init__(self, interval: float = 1.0):
        super().__init__(daemon=True)
        self.interval, self.samples = interval, {}   # pid -> [(t, KiB)]
        self.names: dict[int, str] = {}
        self.cpu: dict[int, float] = {}    # pid -> CPU seconds at its last sample
        self.done = threading.Event()
        self.start_time = time.monotonic()

    def run(self) -> None:
        while not self.done.wait(self.interval):
            now = time.monotonic() - self.start_time
            for pid in _tree(os.getpid()):
                try:
                    with open(f"/proc/{pid}/status") as fh:
                        kib = next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))
                    if pid not in self.names:
                        with open(f"/proc/{pid}/cmdline", "rb") as fh:
                            cmd = fh.read().replace(b"\0", b" ").decode(errors="replace")
                        with open(f"/proc/{pid}/stat") as fh:
                            ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
                        # workers are forked by the forkserver, whose command line they inherit
                        self.names[pid] = ("parent" if pid == os.getpid() else
                                           "worker" if self.names.get(ppid) == "forkserver" else
                                           "forkserver" if "forkserver" in cmd else
                                           "resource tracker" if "resource_tracker" in cmd else "worker")
                    with open(f"/proc/{pid}/stat") as fh:
                        fields = fh.read().rsplit(")", 1)[1].split()
                    self.cpu[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
                except (OSError, StopIteration, IndexError, ValueError):
                    continue
                self.samples.setdefault(pid, []).append((now, kib))

    def report(self, warm_after: float) -> list[str]:
        out = []
        for pid, series in sorted(self.samples.items()):
            warm = next((kib for t, kib in series if t >= warm_after), series[-1][1])
            peak, last = max(kib for _, kib in series), series[-1][1]
            out.append(f"  {self.names.get(pid, '?'):<16} pid {pid:<7} {warm / 1024:7.1f} MiB warm, "
                       f"{peak / 1024:7.1f} peak, {last / 1024:7.1f} at the end ({(last - warm) / 1024:+.1f} MiB), "
                       f"CPU {self.cpu.get(pid, 0):.0f} s")
        return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=None, help="processes (default: every core)")
    ap.add_argument("--progress", action="store_true", help="draw the progress bar on stderr")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="medtech-batch-") as tmp:
        src, dst = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        t0 = time.perf_counter()
        mix = request_mix(args.lines, seed=7)  # every line drawn afresh (duplicates only by chance)
        with open(src, "w", encoding="utf-8") as fh:
            for req, _ in mix:
                fh.write(json.dumps(req, ensure_ascii=False) + "\n")
        distinct = len({json.dumps(r, sort_keys=True) for r, _ in mix})
        t1, busy, cpu_parent = time.perf_counter(), machine_cpu(), time.process_time()
        sampler = MemorySampler()
        sampler.start()
        run_batch(str(src), str(dst), progress=args.progress, workers=args.workers)
        t2, busy = time.perf_counter(), machine_cpu() - busy
        sampler.done.set()
        sampler.join()
        # CPU of every process of the run at its last sample (a worker's last second may be missed)
        cpu = sum(seconds for pid, seconds in sampler.cpu.items() if pid != os.getpid())
        cpu += time.process_time() - cpu_parent
        n_out, errors = 0, 0
        with open(dst, encoding="utf-8") as fh:
            for line in fh:
                n_out += 1
                errors += line.startswith('{"errors"')
        size_in, size_out = src.stat().st_size, dst.stat().st_size

    elapsed = t2 - t1
    print(f"input:       {args.lines} lines ({size_in / 2**20:.1f} MiB, {distinct} distinct requests), written in {t1 - t0:.1f} s")
    print(f"workers:     {args.workers or os.cpu_count()} process(es) on {os.cpu_count()} CPU(s)")
    print(f"elapsed:     {elapsed:.1f} s (machine CPU busy {busy:.0f} of {elapsed * (os.cpu_count() or 1):.0f} CPU-s; "
          f"load average {os.getloadavg()[0]:.1f})")
    print(f"throughput:  {args.lines / elapsed:.0f} decisions/s; CPU {cpu:.0f} s in this run's processes "
          f"({cpu / args.lines * 1000:.2f} ms per line)")
    print(f"output:      {n_out} lines ({size_out / 2**20:.1f} MiB), {errors} answered with errors (intended invalid requests)")
    print("memory:      resident size of each process (warm = 10 s into the run)")
    print("\n".join(sampler.report(warm_after=min(10.0, elapsed / 2))))
    if n_out != args.lines:
        print("MISMATCH: output line count differs from input")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
