"""Response size and HTTP throughput of the compact forms (`?quotes=all|once|none`, `?trace=false`).

Usage: .venv/bin/python benchmarks/compact.py [--n 300] [--sizes]
First the bytes of the example's answer (Hunan, PCI, first case) in the default form, quotes=once,
quotes=none, trace=false and both, plain and as the service compresses them (gzip, br:
engine.service.transport); `--sizes` stops there. Then, for the request mix of benchmarks/decide.py:
mean and largest body in bytes (and gzip-compressed),
quotes per response, then POST /v1/decisions through the in-process ASGI app (TestClient) and the
cost of the transformation alone (engine.render.compact.compact_quotes + JSON encoding).
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from decide import random_mix as mix  # noqa: E402  (benchmarks/decide.py: the same request mix)

from engine import decide  # noqa: E402
from engine.jsonout import dumps_bytes  # noqa: E402
from engine.render.compact import QUOTE_MODES, compact_quotes  # noqa: E402

EXAMPLE = {
    "as_of": "2025-03-10",
    "institution": {"jurisdiction": "hunan", "level": 3},
    "technology": {"name": "冠心病介入治疗", "first_in_institution": True},
    "events": [{"type": "first_clinical_use", "date": "2025-03-03"}],
}


def count_quotes(node) -> tuple[int, set]:
    total, distinct = 0, set()
    stack = [node]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            if "quote" in v and "eid" in v:
                total += 1
                distinct.add((v["document"], v["eid"]))
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return total, distinct


FORMS = [  # (label, quotes, trace)
    ("default", "all", True),
    ("quotes=once", "once", True),
    ("quotes=none", "none", True),
    ("trace=false", "all", False),
    ("quotes=none&trace=false", "none", False),
]


def form_sizes(request: dict) -> None:
    """The bytes of each form of one answer, plain and compressed as the service sends it."""
    from engine.service.transport import BROTLI_QUALITY, GZIP_LEVEL, brotli, compress

    print(f"{'form':<25} {'plain B':>9} {f'gzip-{GZIP_LEVEL} B':>10} {f'br-{BROTLI_QUALITY} B':>9} {'of default':>11}")
    default = None
    for label, quotes, trace in FORMS:
        body = dumps_bytes(compact_quotes(decide(request, trace=trace), quotes))
        default = default or len(body)
        br = len(compress(body, "br")) if brotli is not None else 0
        print(f"{label:<25} {len(body):>9} {len(compress(body, 'gzip')):>10} {br:>9} {len(body) / default:>10.0%}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--sizes", action="store_true", help="only the sizes of the example's answer in each form")
    args = ap.parse_args()
    print("the example's answer (Hunan, PCI, first case)")
    form_sizes(EXAMPLE)
    if args.sizes:
        return
    print()
    requests = [EXAMPLE] + mix(args.n - 1)
    responses = [decide(r) for r in requests]

    total, distinct = count_quotes(responses[0])
    print(f"example (Hunan, PCI, first case): {total} quotes, {len(distinct)} distinct provisions")
    print(f"{'quotes':<7} {'example B':>10} {'mean B':>9} {'max B':>9} {'mean gzip B':>12} {'encode µs':>10}")
    for mode in QUOTE_MODES:
        sizes, zipped = [], []
        for resp in responses:
            body = dumps_bytes(compact_quotes(resp, mode))
            sizes.append(len(body))
            zipped.append(len(gzip.compress(body, 6)))
        t = time.perf_counter()
        for resp in responses:
            dumps_bytes(compact_quotes(resp, mode))
        per = (time.perf_counter() - t) / len(responses) * 1e6
        example = len(dumps_bytes(compact_quotes(responses[0], mode)))
        print(
            f"{mode:<7} {example:>10} {statistics.mean(sizes):>9.0f} {max(sizes):>9} {statistics.mean(zipped):>12.0f} {per:>10.0f}"
        )

    from fastapi.testclient import TestClient

    from engine.service.app import app

    with TestClient(app) as client:
        for r in requests[:50]:
            client.post("/v1/decisions", json=r)
        print(
            f"\nPOST /v1/decisions in process, {len(requests)} requests per form, the forms interleaved "
            "request by request (so that load on the machine hits them alike)"
        )
        print(f"{'quotes':<7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'MB/s':>8}")
        lat: dict[str, list[float]] = {m: [] for m in QUOTE_MODES}
        sent = dict.fromkeys(QUOTE_MODES, 0)
        for r in requests:
            for mode in QUOTE_MODES:
                t = time.perf_counter()
                resp = client.post(f"/v1/decisions?quotes={mode}", json=r)
                lat[mode].append(time.perf_counter() - t)
                sent[mode] += len(resp.content)
        for mode in QUOTE_MODES:
            xs = sorted(lat[mode])
            elapsed = sum(xs)
            print(
                f"{mode:<7} {len(xs) / elapsed:>8.1f} {statistics.median(xs) * 1000:>8.2f} "
                f"{xs[int(len(xs) * 0.99)] * 1000:>8.2f} {sent[mode] / elapsed / 1e6:>8.2f}"
            )


if __name__ == "__main__":
    main()
