"""Batch benchmark (not a test: prints figures).

Writes N request lines (default 100,000; the realistic mix of benchmarks/load.py: filings,
incidents, training bases, grade-qualified, unknown and ambiguous names, ~10 % invalid, across the
five jurisdictions) to a temporary file, answers them with engine.batch.run_batch on every core,
checks the output has one line per input line, and prints elapsed seconds and decisions/s.

    python benchmarks/batch.py [--lines 100000] [--workers N] [--progress]

Target on a 2-core machine: 100,000 decisions in under 2 minutes.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from load import machine_cpu, request_mix  # noqa: E402  (benchmarks/load.py)

from engine.batch import run_batch  # noqa: E402


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
        t1, busy = time.perf_counter(), machine_cpu()
        run_batch(str(src), str(dst), progress=args.progress, workers=args.workers)
        t2, busy = time.perf_counter(), machine_cpu() - busy
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
    print(f"throughput:  {args.lines / elapsed:.0f} decisions/s")
    print(f"output:      {n_out} lines ({size_out / 2**20:.1f} MiB), {errors} answered with errors (intended invalid requests)")
    if n_out != args.lines:
        print("MISMATCH: output line count differs from input")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
