"""Export benchmark (not a test: prints figures).

Answers N requests of the realistic mix of benchmarks/load.py once, then times rendering each
response in every export format (the answer model, the Chinese text, --full text, md and docx memo,
csv, ics) and prints, per format, the mean milliseconds per response, the mean size, and for the
text the largest number of lines.

    python benchmarks/exports.py [--requests 300]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from load import request_mix  # noqa: E402  (benchmarks/load.py)

from engine import InvalidRequest, decide  # noqa: E402
from engine.render.answer import build_answer  # noqa: E402
from engine.render.exports import render_export  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=300)
    args = ap.parse_args()
    pairs = []
    for req, _valid in request_mix(args.requests):
        try:
            pairs.append((req, decide(req)))
        except InvalidRequest:
            continue
    print(f"{len(pairs)} valid responses of {args.requests} requests")
    t = time.perf_counter()
    for req, resp in pairs:
        build_answer(resp, request=req)
    print(f"{'answer model':<12} {1000 * (time.perf_counter() - t) / len(pairs):7.2f} ms/response")
    for fmt, full in (("text", False), ("text", True), ("md", False), ("docx", False), ("csv", False), ("ics", False)):
        sizes, lines = [], []
        t = time.perf_counter()
        for req, resp in pairs:
            body, _, _ = render_export(resp, fmt, request=req, full=full)
            sizes.append(len(body))
            if fmt == "text":
                lines.append(body.count(b"\n"))
        ms = 1000 * (time.perf_counter() - t) / len(pairs)
        name = fmt + (" --full" if full else "")
        extra = f"  lines: median {statistics.median(lines):.0f}, max {max(lines)}" if lines else ""
        print(f"{name:<12} {ms:7.2f} ms/response  {statistics.mean(sizes) / 1024:7.1f} KiB mean{extra}")


if __name__ == "__main__":
    main()
