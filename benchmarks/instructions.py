"""CPU instructions per decision, counted by valgrind (callgrind): a figure that does not move
with the machine's load, unlike times on a shared machine.

Usage: .venv/bin/python benchmarks/instructions.py [--backend durable|pure|both] [--root PATH]

Runs one process under callgrind that loads the knowledge base and decides every scenario
request once (warm-up: memos, compiled rules, rulesets), then zeroes the counters
(`callgrind_control -z`), decides every request once more, and prints the instructions counted
divided by the number of decisions. `--root` measures another checkout of the project (for a
before/after pair, e.g. a `git worktree` of an older commit) with this project's interpreter.
Needs valgrind (Debian: `apt-get install valgrind`); takes 1-2 minutes per back end.

Instruction counts weigh every instruction alike: a block of memory cleared with `rep stosb`
counts one instruction per byte, so durable_rules' session set-up (which clears its join
memories, ~0.6 M of the durable figure) weighs more here than in time.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# the program run under valgrind: warm up, signal, wait to be zeroed, measure, exit
_CHILD = r"""
import os, sys, time
root, backend, marker = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, root)
sys.path.insert(0, os.path.join(root, "benchmarks"))
import decide as bench
from engine import decide
requests = bench.scenario_requests()
for r in requests:
    decide(r, backend=backend)
with open(marker, "w") as f:
    f.write(str(len(requests)))
while not os.path.exists(marker + ".go"):
    time.sleep(0.05)
for r in requests:
    decide(r, backend=backend)
os._exit(0)
"""


def measure(root: Path, backend: str) -> tuple[int, int]:
    """(instructions counted over one pass of the scenario requests, number of requests)."""
    with tempfile.TemporaryDirectory() as tmp:
        marker, out = os.path.join(tmp, "ready"), os.path.join(tmp, "callgrind.out")
        proc = subprocess.Popen(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                "-c",
                _CHILD,
                str(root),
                backend,
                marker,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while not os.path.exists(marker) or not Path(marker).read_text():
            if proc.poll() is not None:
                raise SystemExit(f"the measured process ended early (exit {proc.returncode})")
            time.sleep(0.5)
        n = int(Path(marker).read_text())
        subprocess.run(
            ["callgrind_control", "-z", str(proc.pid)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        Path(marker + ".go").touch()
        proc.wait()
        total = re.search(r"^summary: (\d+)", Path(out).read_text(), re.M)
        if not total:
            raise SystemExit("callgrind wrote no summary")
        return int(total.group(1)), n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", choices=["durable", "pure", "both"], default="both")
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout to measure (default: this one)")
    args = ap.parse_args()
    if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    for backend in ("durable", "pure") if args.backend == "both" else (args.backend,):
        total, n = measure(args.root.resolve(), backend)
        print(f"{backend:<8} {total / n / 1e6:6.2f} M instructions per decision ({n} scenario requests, {args.root})")


if __name__ == "__main__":
    main()
