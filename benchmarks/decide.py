"""Decision throughput, latency and memory, durable_rules and the pure evaluator side by side.

Usage: .venv/bin/python benchmarks/decide.py [--rounds 20] [--soak 100000] [--mix scenarios|random]

The default request mix is every valid request of the scenario files (tests/scenarios/*.yaml),
each decided --rounds times in a shuffled order. Prints decisions/s and p50/p99 latency for each back end, both wall-clock and
CPU time of the deciding thread (the machine may be shared: CPU time is what a decision costs,
wall time also counts the time other processes held the cores), then resident memory before and
after --soak decisions through durable_rules. `--mix random` uses the older synthetic mix.

It also prints floors, the CPU p50 of work any decide() returning these answers must do, on the
same requests in the same process (so they share the machine's speed at that moment): building
each answer's dicts and lists again (a plain recursive copy), parsing its JSON with orjson (the
same objects built in C), and durable_rules alone firing each decision's rules (its sessions:
assert the facts, take the actions, delete the state), back to back and as measured inside
decide(). A decide() cannot cost less than building its answer, and on durable_rules not less
than that plus the firings.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import decide  # noqa: E402


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _jsonable(x):
    """YAML values (dates) as the JSON a caller would send."""
    return json.loads(json.dumps(x, default=str, ensure_ascii=False))


def scenario_requests() -> list[dict]:
    """The request of every scenario that expects a decision (not an error)."""
    from engine.yamlio import load_yaml

    files = sorted((ROOT / "tests" / "scenarios").glob("*.yaml"))
    out = []
    for path in files:
        for s in load_yaml(path) or []:
            if "error_paths" in (s.get("expect") or {}):
                continue
            out.append(_jsonable(s["request"]))
    return out


def random_mix(n: int, seed: int = 7) -> list[dict]:
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
    events = [
        "first_clinical_use",
        "filing_submitted",
        "serious_incident",
        "efficacy_doubt",
        "training_enrollment_announced",
        "patient_discharged",
    ]
    out = []
    for _ in range(n):
        jur, tech = rnd.choice(techs)
        day = f"2025-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
        req = {
            "as_of": "2025-12-31",
            "institution": {"jurisdiction": jur, "level": rnd.choice([1, 2, 3])},
            "events": [{"type": rnd.choice(events), "date": day}],
        }
        if tech:
            req["technology"] = dict(tech)
        out.append(req)
    return out


def measure(backend: str, requests: list[dict]) -> dict:
    wall, cpu = [], []
    clock, tclock = time.perf_counter, time.thread_time
    start, start_cpu = clock(), tclock()
    for req in requests:
        t, c = clock(), tclock()
        decide(req, backend=backend)
        cpu.append(tclock() - c)
        wall.append(clock() - t)
    total, total_cpu = clock() - start, tclock() - start_cpu
    wall.sort()
    cpu.sort()
    n = len(requests)
    return {
        "rate": n / total,
        "cpu_rate": n / total_cpu,
        "p50": statistics.median(wall) * 1000,
        "p99": wall[int(n * 0.99)] * 1000,
        "cpu_p50": statistics.median(cpu) * 1000,
        "cpu_p99": cpu[int(n * 0.99)] * 1000,
    }


def _copy(x):
    """A fresh copy of a response: every dict and list built again (strings and numbers shared)."""
    if type(x) is dict:
        return {k: _copy(v) for k, v in x.items()}
    if type(x) is list:
        return [_copy(v) for v in x]
    return x


def _cpu_p50_ms(work, items) -> float:
    tclock = time.thread_time
    times = []
    for item in items:
        c = tclock()
        work(item)
        times.append(tclock() - c)
    return statistics.median(times) * 1000


def floors(requests: list[dict]) -> dict:
    """CPU p50 (ms) of what any decide() returning these answers must do: build the answer's
    containers (copy, orjson.loads) and, for durable_rules, its firings of each decision's facts."""
    import orjson

    from engine.inference import backends
    from engine.kb.loader import knowledge_base

    durable = backends.durable(knowledge_base())
    fire = durable.fire
    per_decision: list[list[tuple]] = []
    inside: list[float] = []  # per decision: CPU of its firings as decide() made them

    def recording(stages, facts, unknown=frozenset()):
        per_decision[-1].append((stages, dict(facts), unknown))
        c = time.thread_time()
        try:
            return fire(stages, facts, unknown)
        finally:
            inside[-1] += time.thread_time() - c

    answers = []
    durable.fire = recording
    try:
        for req in requests:
            per_decision.append([])
            inside.append(0.0)
            answers.append(decide(req, backend="durable"))
    finally:
        del durable.fire  # back to the class's method
    encoded = [orjson.dumps(a) for a in answers]
    return {
        "decide_pure": _cpu_p50_ms(lambda r: decide(r, backend="pure"), requests),
        "copy": _cpu_p50_ms(_copy, answers),
        "orjson_loads": _cpu_p50_ms(orjson.loads, encoded),
        "durable_fire": _cpu_p50_ms(lambda calls: [fire(*c) for c in calls], per_decision),
        "durable_fire_inside": statistics.median(inside) * 1000,
        "fires": sum(map(len, per_decision)) / len(per_decision),
        "size": statistics.median(map(len, encoded)),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mix", choices=["scenarios", "random"], default="scenarios")
    ap.add_argument("--rounds", type=int, default=20, help="times each scenario request is decided (scenario mix)")
    ap.add_argument("--n", type=int, default=20000, help="requests (random mix)")
    ap.add_argument("--soak", type=int, default=100000)
    args = ap.parse_args()
    t = time.perf_counter()
    from engine.inference.backends import warm_up

    warm_up()  # as the service and batch workers do
    print(f"start-up (load, validate, compile, build rulesets, warm up): {(time.perf_counter() - t) * 1000:.0f} ms")
    if args.mix == "scenarios":
        base = scenario_requests()
        requests = [r for _ in range(args.rounds) for r in base]
        random.Random(7).shuffle(requests)
        print(f"mix: {len(base)} scenario requests x {args.rounds} rounds = {len(requests)} decisions per back end")
    else:
        requests = random_mix(args.n)
        print(f"mix: {len(requests)} random requests")
    for req in requests[:500]:  # warm caches (calendar years, resolutions)
        decide(req)
        decide(req, backend="pure")
    print(
        f"{'back end':<10} {'decisions/s':>12} {'p50 ms':>8} {'p99 ms':>8}   "
        f"{'CPU: dec/s':>10} {'p50 ms':>8} {'p99 ms':>8}"
    )
    for backend in ("durable", "pure"):
        m = measure(backend, requests)
        print(
            f"{backend:<10} {m['rate']:>12.0f} {m['p50']:>8.3f} {m['p99']:>8.3f}   "
            f"{m['cpu_rate']:>10.0f} {m['cpu_p50']:>8.3f} {m['cpu_p99']:>8.3f}"
        )
    f = floors(requests[: len(requests) // 2] if args.mix == "scenarios" else requests[:2000])
    print(f"floors, CPU p50 ms on the same requests (pure decide() alongside: {f['decide_pure']:.3f}):")
    print(
        f"  build the answer again (recursive copy)        {f['copy']:.3f}   answer JSON p50 {f['size'] / 1024:.0f} KiB"
    )
    print(f"  build the answer in C (orjson.loads its JSON)  {f['orjson_loads']:.3f}")
    print(
        f"  durable_rules firings alone, back to back      {f['durable_fire']:.3f}   ({f['fires']:.2f} sessions per decision)"
    )
    print(
        f"  the same firings inside decide() (durable)     {f['durable_fire_inside']:.3f}   (the rest of decide() has moved them out of the caches)"
    )
    if args.soak:
        soak = (
            random_mix(args.soak, seed=11)
            if args.mix == "random"
            else [requests[i % len(requests)] for i in range(args.soak)]
        )
        del requests
        before = rss_mib()
        t = time.perf_counter()
        for req in soak:
            decide(req)
        after = rss_mib()
        print(
            f"memory: RSS {before:.1f} MiB before, {after:.1f} MiB after {args.soak} decisions "
            f"({after - before:+.1f} MiB) in {time.perf_counter() - t:.1f} s"
        )


if __name__ == "__main__":
    main()
