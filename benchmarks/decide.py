"""Decision throughput, latency and memory, durable_rules and the pure evaluator side by side.

Usage: .venv/bin/python benchmarks/decide.py [--n 20000] [--soak 100000]
Prints decisions/s and p50/p99 latency for each back end over a realistic mix of requests,
then resident memory before and after --soak decisions through durable_rules.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import decide  # noqa: E402


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def mix(n: int, seed: int = 7) -> list[dict]:
    rnd = random.Random(seed)
    techs = [
        ("jilin", {"name": "关节镜诊疗技术", "surgery_grade": 3}),
        ("hunan", {"name": "冠心病介入治疗"}),
        ("hunan", {"code": "S25"}),
        ("shanghai", {"name": "消化内镜诊疗技术", "surgery_grade": 4}),
        ("shanghai", {"name": "冠心病介入治疗", "first_in_institution": True}),
        ("chongqing", {"name": "起搏器治疗技术"}),
        ("national", {"name": "性别重置技术"}),
        ("jilin", {"name": "血液透析"}),
        ("hunan", {"name": "未知技术名称"}),
        ("shanghai", {"name": "ECMO"}),
        ("chongqing", None),
    ]
    events = ["first_clinical_use", "filing_submitted", "serious_incident", "efficacy_doubt",
              "training_enrollment_announced", "patient_discharged"]
    out = []
    for _ in range(n):
        jur, tech = rnd.choice(techs)
        day = f"2025-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
        req = {"as_of": "2025-12-31", "institution": {"jurisdiction": jur, "level": rnd.choice([1, 2, 3])},
               "events": [{"type": rnd.choice(events), "date": day}]}
        if tech:
            req["technology"] = dict(tech)
        out.append(req)
    return out


def measure(backend: str, requests: list[dict]) -> tuple[float, float, float]:
    lat = []
    start = time.perf_counter()
    for req in requests:
        t = time.perf_counter()
        decide(req, backend=backend)
        lat.append(time.perf_counter() - t)
    total = time.perf_counter() - start
    lat.sort()
    return len(requests) / total, statistics.median(lat) * 1000, lat[int(len(lat) * 0.99)] * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--soak", type=int, default=100000)
    args = ap.parse_args()
    t = time.perf_counter()
    decide(mix(1)[0])
    print(f"start-up (load, validate, compile, build ruleset): {(time.perf_counter() - t) * 1000:.0f} ms")
    requests = mix(args.n)
    for req in requests[:500]:          # warm caches (calendar years, resolutions)
        decide(req)
    print(f"{'back end':<10} {'decisions/s':>12} {'p50 ms':>8} {'p99 ms':>8}")
    for backend in ("durable", "pure"):
        rate, p50, p99 = measure(backend, requests)
        print(f"{backend:<10} {rate:>12.0f} {p50:>8.3f} {p99:>8.3f}")
    if args.soak:
        before = rss_mib()
        soak = mix(args.soak, seed=11)
        del requests
        before = rss_mib()
        t = time.perf_counter()
        for req in soak:
            decide(req)
        after = rss_mib()
        print(f"memory: RSS {before:.1f} MiB before, {after:.1f} MiB after {args.soak} decisions "
              f"({after - before:+.1f} MiB) in {time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()
