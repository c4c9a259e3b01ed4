"""Response size and HTTP throughput of the compact forms (`?quotes=all|once|none`).

Usage: .venv/bin/python benchmarks/compact.py [--n 300]
For the request mix of benchmarks/decide.py: mean and largest body in bytes (and gzip-compressed),
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

from decide import mix  # noqa: E402  (benchmarks/decide.py: the same request mix)

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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    args = ap.parse_args()
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
