"""Decision cost as a ratio to a JSON round trip of the same request, and throughput, latency and memory.

Usage: .venv/bin/python benchmarks/decide.py [--mix held-out|scenarios|random] [--quick] [--root PATH]
                                             [--ratio-rounds 5] [--rounds 20] [--soak 100000]

The machine this runs on is shared, and its speed moves by a factor of two between runs minutes
apart. So every figure is first reported as a ratio: the CPU time (of this thread,
`time.thread_time_ns`) of the work, divided by the CPU time of a JSON round trip of the same
request (`json.loads(json.dumps(request, ensure_ascii=False))`, the stdlib), the two timed one
after the other for each request (in alternating order), so that whatever slows the machine
down slows both. Two ratios are printed for each figure: the ratio of the p50s (p50 CPU of the
work over p50 CPU of the round trips, same requests) - the target figure - and the p50 of the
per-request ratios. The load average at the start and end, the CPU steal over the run and the
CPU other processes used are printed too, and the run is flagged BUSY when steal > 2 % or the
load not due to this process > 0.5 (benchmarks/machine.py).

Mixes (--mix):
- `held-out` (default; the target mix): variants of the scenario requests (tests/scenarios/*.yaml),
  generated with a seed - every date (as_of, the events', in_use_since) shifted by the same random
  offset of -400..+400 days, kept inside 2019-01-01..2026-12-31 where the request's span allows;
  sometimes another institution level or surgery grade, optional fields dropped. Each measured
  pass warms up on one generated set (seed A) and measures another (seed B), none of whose
  requests was in the warm-up set, so cross-request memos are measured on requests they have
  not seen (invalid variants are skipped);
- `scenarios`: every valid scenario request, warmed on themselves (seen);
- `random`: the older synthetic mix.

Figures (each the CPU of one call over the JSON round trip): decide() on each back end;
engine.decide_bytes (the template path: the answer's JSON bytes) for quotes=all, once, none and
trace=false; the compact forms against the default (quotes=once / default, quotes=none / default,
trace=false / default), through the template path and the old way (compact_quotes(decide()) +
orjson.dumps); and, where engine.inference.memo exists, decide() with the memo off and on. Each
figure is one pass over the measured set (the memo cleared and warmed on seed A before it), the
passes in a rotating order (figures compared with each other back to back), --ratio-rounds
times. Names this checkout lacks (decide_bytes, the memo, templates) print "n/a (not in this
checkout)", so the same script measures an older checkout for before/after pairs: `--root PATH`
decides with the engine (and knowledge base) of the checkout at PATH, over the same requests
(this checkout's scenario files), with this interpreter; requests the older engine rejects are
left out of its figures. A summary table closes the run: figure, ratio, target, met.

Then, as before: decisions/s and p50/p99 latency for each back end, wall-clock and CPU
(--rounds: times each measured request is decided), floors (the CPU p50 of work any decide()
returning these answers must do: building each answer's dicts and lists again, parsing its JSON
with orjson, durable_rules alone firing each decision's rules, back to back and as measured
inside decide(); measured with the memo off), and resident memory over --soak decisions
(0 skips it). --quick: a run of about 30 s (2 ratio rounds, 1 round, a small floors sample, no soak).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _engine_root(argv: list[str]) -> Path:
    """The checkout whose engine is measured: --root PATH (read before the engine is imported), else this one."""
    for i, arg in enumerate(argv):
        if arg == "--root" and i + 1 < len(argv):
            return Path(argv[i + 1]).resolve()
        if arg.startswith("--root="):
            return Path(arg.split("=", 1)[1]).resolve()
    return ROOT


ENGINE_ROOT = _engine_root(sys.argv[1:]) if __name__ == "__main__" else ROOT
sys.path.insert(0, str(ENGINE_ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import machine  # noqa: E402  (benchmarks/machine.py)

import engine  # noqa: E402
from engine import InvalidRequest, decide  # noqa: E402

NA = "n/a (not in this checkout)"


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


# --------------------------------------------------------------------------- held-out variants

DATE_LO, DATE_HI = dt.date(2019, 1, 1), dt.date(2026, 12, 31)
SHIFT_DAYS = 400
DROPPABLE_INSTITUTION = ("name", "category", "tcm", "province")
DROPPABLE_TECHNOLOGY = (
    "first_in_institution",
    "first_in_jurisdiction",
    "major_ethical_risk",
    "unapproved_product",
    "prohibited_grounds",
    "in_use_since",
    "indication",
    "radiation",
    "filed",
    "approved_before_measures",
)


def _date_slots(req: dict) -> list[tuple[dict, str]]:
    """(container, key) of every date of a request: as_of, each event's date, technology.in_use_since."""
    slots: list[tuple[dict, str]] = []
    if isinstance(req.get("as_of"), str):
        slots.append((req, "as_of"))
    for event in req.get("events") or []:
        if isinstance(event, dict) and isinstance(event.get("date"), str):
            slots.append((event, "date"))
    tech = req.get("technology")
    if isinstance(tech, dict) and isinstance(tech.get("in_use_since"), str):
        slots.append((tech, "in_use_since"))
    return slots


def shift_dates(req: dict, rnd: random.Random) -> int:
    """Shift every date of `req` (in place) by one random offset of -400..+400 days, keeping them
    inside 2019-01-01..2026-12-31 when the request's span allows; returns the offset."""
    slots, days = [], []
    for holder, key in _date_slots(req):
        try:
            days.append(dt.date.fromisoformat(holder[key]))
            slots.append((holder, key))
        except ValueError:
            continue
    if not days:
        return 0
    lo = max(-SHIFT_DAYS, (DATE_LO - min(days)).days)
    hi = min(SHIFT_DAYS, (DATE_HI - max(days)).days)
    offset = rnd.randint(lo, hi) if lo <= hi else rnd.randint(-SHIFT_DAYS, SHIFT_DAYS)
    for (holder, key), day in zip(slots, days, strict=True):
        holder[key] = (day + dt.timedelta(days=offset)).isoformat()
    return offset


def variant(base: dict, rnd: random.Random) -> dict:
    """One variant of a request: dates shifted; sometimes another level or surgery grade; optional
    fields sometimes dropped."""
    req = json.loads(json.dumps(base, ensure_ascii=False))
    shift_dates(req, rnd)
    inst = req.get("institution")
    if isinstance(inst, dict):
        if rnd.random() < 0.25:
            inst["level"] = rnd.choice([1, 2, 3, None])
        elif "level" in inst and rnd.random() < 0.05:
            del inst["level"]
        for key in DROPPABLE_INSTITUTION:
            if key in inst and rnd.random() < 0.15:
                del inst[key]
    tech = req.get("technology")
    if isinstance(tech, dict):
        if ("surgery_grade" in tech and rnd.random() < 0.4) or rnd.random() < 0.1:
            tech["surgery_grade"] = rnd.randint(1, 4)
        elif "surgery_grade" in tech and rnd.random() < 0.1:
            del tech["surgery_grade"]
        for key in DROPPABLE_TECHNOLOGY:
            if key in tech and rnd.random() < 0.15:
                del tech[key]
    for event in req.get("events") or []:
        if isinstance(event, dict) and "note" in event and rnd.random() < 0.3:
            del event["note"]
    return req


def request_key(req: dict) -> str:
    return json.dumps(req, sort_keys=True, ensure_ascii=False)


def held_out(base: list[dict], seed: int, per_request: int = 1, exclude: set[str] | None = None) -> list[dict]:
    """`per_request` variants of each base request (seeded), none equal to another or to one whose
    key is in `exclude` (a variant that comes out equal is drawn again, up to 5 times, then left out)."""
    rnd = random.Random(seed)
    seen = set(exclude or ())
    out = []
    for req in base:
        for _ in range(per_request):
            for _attempt in range(5):
                v = variant(req, rnd)
                key = request_key(v)
                if key not in seen:
                    seen.add(key)
                    out.append(v)
                    break
    rnd.shuffle(out)
    return out


def mix_sets(mix: str, variants: int = 1, n_random: int = 2000) -> tuple[list[dict], list[dict], str]:
    """(warm-up set, measured set, description) of a mix."""
    if mix == "held-out":
        base = scenario_requests()
        warm = held_out(base, seed=1001, per_request=variants)
        measured = held_out(base, seed=2002, per_request=variants, exclude={request_key(r) for r in warm})
        return (
            warm,
            measured,
            (
                f"held-out: {len(measured)} variants of the {len(base)} scenario requests (seed B), "
                f"warmed on {len(warm)} others (seed A)"
            ),
        )
    if mix == "scenarios":
        base = scenario_requests()
        return base, base, f"scenarios: {len(base)} scenario requests, warmed on themselves"
    warm, measured = random_mix(n_random, seed=8), random_mix(n_random, seed=7)
    return warm, measured, f"random: {len(measured)} synthetic requests, warmed on {len(warm)} others"


# --------------------------------------------------------------------------- what this checkout has


def memo_module():
    """engine.inference.memo (set_enabled, enabled, clear, stats), or None."""
    try:
        from engine.inference import memo
    except ImportError:
        return None
    return memo if all(hasattr(memo, n) for n in ("set_enabled", "enabled", "clear")) else None


def templates_module():
    """engine.render.templates (set_enabled), or None."""
    try:
        from engine.render import templates
    except ImportError:
        return None
    return templates if hasattr(templates, "set_enabled") else None


# --------------------------------------------------------------------------- figures and passes


@dataclass
class Figure:
    key: str
    label: str
    work: Callable[[dict], object] | None  # None: not in this checkout
    memo: bool | None = None  # the memo's state for the pass (None: as the process started)
    templates: bool | None = None


@dataclass
class Samples:
    """Per measured request (by its index in the measured set) and round: CPU ns of the JSON round
    trip and of the work."""

    rt: dict[tuple[int, int], float] = field(default_factory=dict)
    cpu: dict[tuple[int, int], float] = field(default_factory=dict)


def json_round_trip(req: dict) -> object:
    return json.loads(json.dumps(req, ensure_ascii=False))


def figures(backend: str | None = None) -> list[Figure]:
    """Every figure, with work None where this checkout lacks what it measures."""
    import orjson

    from engine.render.compact import compact_quotes

    decide_bytes = getattr(engine, "decide_bytes", None)
    memo, templates = memo_module(), templates_module()

    def old(quotes: str, trace: bool) -> Callable[[dict], object]:
        return lambda r: orjson.dumps(compact_quotes(decide(r, trace=trace, backend=backend), quotes))

    def new(quotes: str, trace: bool) -> Callable[[dict], object] | None:
        if decide_bytes is None:
            return None
        return lambda r: decide_bytes(r, quotes=quotes, trace=trace, backend=backend)

    out = [
        Figure("durable", "decide() durable", lambda r: decide(r, backend="durable")),
        Figure("pure", "decide() pure", lambda r: decide(r, backend="pure")),
        Figure("bytes_all", "decide_bytes default (template path)", new("all", True)),
        Figure("bytes_once", "decide_bytes quotes=once", new("once", True)),
        Figure("bytes_none", "decide_bytes quotes=none", new("none", True)),
        Figure("bytes_notrace", "decide_bytes trace=false", new("all", False)),
        Figure(
            "bytes_all_notpl",
            "decide_bytes default, templates off",
            new("all", True) if templates is not None else None,
            templates=False,
        ),
        Figure("old_all", "orjson(decide()) default (old way)", old("all", True)),
        Figure("old_once", "orjson(compact(decide())) quotes=once", old("once", True)),
        Figure("old_none", "orjson(compact(decide())) quotes=none", old("none", True)),
        Figure("old_notrace", "orjson(decide(trace=False))", old("all", False)),
    ]
    for be in ("durable", "pure"):
        for on in (False, True):
            work = (lambda r, be=be: decide(r, backend=be)) if memo is not None else None
            out.append(
                Figure(
                    f"{be}_memo_{'on' if on else 'off'}", f"decide() {be}, memo {'on' if on else 'off'}", work, memo=on
                )
            )
    return out


def measure_pass(
    work: Callable[[dict], object], requests: list[dict], rt_reps: int = 3
) -> dict[int, tuple[float, float]]:
    """For each request, the CPU ns (this thread) of its JSON round trip (the mean of `rt_reps`
    in a row) and of `work(request)`, timed one after the other, the order alternating from one
    request to the next. Requests `work` rejects (InvalidRequest) are left out."""
    tt = time.thread_time_ns
    out: dict[int, tuple[float, float]] = {}
    reps = range(rt_reps)
    for i, req in enumerate(requests):
        try:
            if i & 1:
                c = tt()
                work(req)
                d = tt() - c
                c = tt()
                for _ in reps:
                    json_round_trip(req)
                r = (tt() - c) / rt_reps
            else:
                c = tt()
                for _ in reps:
                    json_round_trip(req)
                r = (tt() - c) / rt_reps
                c = tt()
                work(req)
                d = tt() - c
        except InvalidRequest:
            continue
        out[i] = (r, d)
    return out


def group_of(key: str) -> str:
    """Figures compared with each other run back to back: decide() on both back ends, the template
    path's forms, the old way's forms, memo off and on for each back end."""
    if key.startswith(("bytes", "old")):
        return key.split("_")[0]
    return key.rsplit("_", 1)[0] if "_memo_" in key else "decide"


def pass_order(figs: list, rnd: int) -> list:
    """The order of the passes in round `rnd`: the groups (group_of) in a rotating order, each
    group's figures back to back, rotated too and reversed every other round, so that no figure
    always runs first or right after another."""
    groups: dict[str, list] = {}
    for fig in figs:
        groups.setdefault(group_of(fig.key), []).append(fig)
    names = list(groups)
    out = []
    for g in names[rnd % len(names) :] + names[: rnd % len(names)] if names else []:
        members = groups[g]
        k = rnd % len(members)
        members = members[k:] + members[:k]
        out += members[::-1] if rnd % 2 else members
    return out


def run_passes(
    figs: list[Figure], warm: list[dict], measured: list[dict], rounds: int, rt_reps: int = 3, log=print
) -> dict[str, Samples]:
    """Each available figure: one pass over `measured` per round (memo and templates set as the
    figure says, the memo cleared and warmed on `warm` first), the figures' order rotating from
    round to round. Returns the samples per figure key."""
    memo, templates = memo_module(), templates_module()
    memo_default = memo.enabled() if memo is not None else None
    live = [f for f in figs if f.work is not None]
    samples = {f.key: Samples() for f in live}
    for rnd in range(rounds):
        t = time.perf_counter()
        order = pass_order(live, rnd)
        for fig in order:
            assert fig.work is not None
            try:
                if memo is not None:
                    memo.set_enabled(memo_default if fig.memo is None else fig.memo)
                    memo.clear()
                if templates is not None and fig.templates is not None:
                    templates.set_enabled(fig.templates)
                for req in warm:
                    with contextlib.suppress(InvalidRequest):
                        fig.work(req)
                got = measure_pass(fig.work, measured, rt_reps)
            finally:
                if memo is not None:
                    memo.set_enabled(memo_default)
                if templates is not None and fig.templates is not None:
                    templates.set_enabled(True)
            s = samples[fig.key]
            for i, (r, d) in got.items():
                s.rt[(rnd, i)], s.cpu[(rnd, i)] = r, d
        log(f"  round {rnd + 1}/{rounds}: {len(order)} passes in {time.perf_counter() - t:.1f} s")
    return samples


# --------------------------------------------------------------------------- ratios


def ratio_of_p50s(num: list[float], den: list[float]) -> float:
    """p50(num) / p50(den): the target figure (the same requests on both sides)."""
    d = statistics.median(den)
    return statistics.median(num) / d if d else float("nan")


def p50_of_ratios(num: list[float], den: list[float]) -> float:
    """The p50 of num[i] / den[i], pair by pair."""
    return statistics.median(n / d for n, d in zip(num, den, strict=True) if d)


def to_round_trip(s: Samples) -> dict:
    """A figure against the JSON round trip of the same requests."""
    keys = sorted(s.cpu)
    cpu, rt = [s.cpu[k] for k in keys], [s.rt[k] for k in keys]
    return {
        "n": len(keys),
        "cpu_p50_ms": statistics.median(cpu) / 1e6,
        "rt_p50_us": statistics.median(rt) / 1e3,
        "ratio": ratio_of_p50s(cpu, rt),
        "p50_ratio": p50_of_ratios(cpu, rt),
    }


def to_default(form: Samples, default: Samples) -> dict:
    """A compact form against the default, over the (round, request) pairs both measured. `ratio`
    (the target figure): p50 CPU of the form over p50 CPU of the default (their passes ran back to
    back, in alternating order, each round); `normalized`: each side's p50 CPU over its own passes'
    JSON round trips, divided (cancels a change of the machine's speed between the passes, but
    adds the round trips' own noise); `p50_ratio`: the p50 of the per-request ratios."""
    keys = sorted(set(form.cpu) & set(default.cpu))
    f, d = [form.cpu[k] for k in keys], [default.cpu[k] for k in keys]
    frt, drt = [form.rt[k] for k in keys], [default.rt[k] for k in keys]
    return {
        "n": len(keys),
        "ratio": ratio_of_p50s(f, d),
        "normalized": ratio_of_p50s(f, frt) / ratio_of_p50s(d, drt),
        "p50_ratio": p50_of_ratios(f, d),
    }


# --------------------------------------------------------------------------- the summary


@dataclass
class Row:
    figure: str
    ratio: float | None  # None: not in this checkout
    target: float | None  # None: no target (information)
    note: str = ""

    @property
    def status(self) -> str:
        if self.ratio is None:
            return NA
        if self.target is None:
            return "-"
        return "met" if self.ratio <= self.target else "not met"


def summary_rows(samples: dict[str, Samples]) -> list[Row]:
    """The summary's rows from the samples of run_passes (a figure without samples: n/a)."""

    def vs_rt(key: str, target: float | None, label: str) -> Row:
        s = samples.get(key)
        if s is None or not s.cpu:
            return Row(label, None, target)
        m = to_round_trip(s)
        return Row(label, m["ratio"], target, f"p50 of ratios {m['p50_ratio']:.1f}x; CPU p50 {m['cpu_p50_ms']:.3f} ms")

    def vs(key: str, base: str, target: float | None, label: str) -> Row:
        a, b = samples.get(key), samples.get(base)
        if a is None or b is None or not a.cpu or not b.cpu:
            return Row(label, None, target)
        m = to_default(a, b)
        return Row(
            label,
            m["ratio"],
            target,
            f"p50 of ratios {m['p50_ratio']:.2f}; each over its JSON round trips {m['normalized']:.2f}",
        )

    return [
        vs_rt("durable", 25, "decide() durable / JSON round trip"),
        vs_rt("pure", 25, "decide() pure / JSON round trip"),
        vs_rt("bytes_all", 20, "template path (decide_bytes default) / JSON round trip"),
        vs_rt("bytes_once", None, "decide_bytes quotes=once / JSON round trip"),
        vs_rt("bytes_none", None, "decide_bytes quotes=none / JSON round trip"),
        vs_rt("bytes_notrace", None, "decide_bytes trace=false / JSON round trip"),
        vs_rt("bytes_all_notpl", None, "decide_bytes templates off / JSON round trip"),
        vs_rt("old_all", None, "old way (orjson(decide())) / JSON round trip"),
        vs("bytes_once", "bytes_all", 0.85, "quotes=once / default, template path"),
        vs("bytes_none", "bytes_all", 0.85, "quotes=none / default, template path"),
        vs("bytes_notrace", "bytes_all", 0.85, "trace=false / default, template path"),
        vs("old_once", "old_all", 0.85, "quotes=once / default, old way"),
        vs("old_none", "old_all", 0.85, "quotes=none / default, old way"),
        vs("old_notrace", "old_all", 0.85, "trace=false / default, old way"),
        vs("durable_memo_on", "durable_memo_off", None, "memo on / memo off, durable"),
        vs("pure_memo_on", "pure_memo_off", None, "memo on / memo off, pure"),
    ]


def format_summary(rows: list[Row], verdict_line: str) -> str:
    def num(x: float | None) -> str:
        if x is None:
            return "n/a"
        return f"{x:.1f}x" if x >= 2 else f"{x:.2f}x"

    lines = [f"{'figure':<56} {'ratio':>7} {'target':>8}  {'status':<26} note"]
    for r in rows:
        target = "-" if r.target is None else f"<= {r.target:g}x"
        lines.append(f"{r.figure:<56} {num(r.ratio):>7} {target:>8}  {r.status:<26} {r.note}")
    lines.append(verdict_line)
    return "\n".join(lines)


def check_bytes(requests: list[dict], backend: str | None = None) -> str:
    """decide_bytes against orjson.dumps(compact_quotes(decide())) over a few requests, every form."""
    import orjson

    from engine.render.compact import compact_quotes

    decide_bytes = getattr(engine, "decide_bytes", None)
    if decide_bytes is None:
        return NA
    n = bad = 0
    for req in requests:
        for quotes, trace in (("all", True), ("once", True), ("none", True), ("all", False)):
            try:
                want = orjson.dumps(compact_quotes(decide(req, trace=trace, backend=backend), quotes))
            except InvalidRequest:
                continue
            n += 1
            bad += decide_bytes(req, quotes=quotes, trace=trace, backend=backend) != want
    return f"{n - bad} of {n} answers byte-identical" + (f", {bad} MISMATCHES" if bad else "")


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mix", choices=["held-out", "scenarios", "random"], default="held-out")
    ap.add_argument("--variants", type=int, default=1, help="held-out: variants of each scenario request per set")
    ap.add_argument(
        "--ratio-rounds", type=int, default=None, help="passes of each ratio figure over the measured set (default 5)"
    )
    ap.add_argument("--rt-reps", type=int, default=3, help="JSON round trips timed together per request (their mean)")
    ap.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="decisions/s table: times each measured request is decided (default 20)",
    )
    ap.add_argument("--n", type=int, default=20000, help="requests (random mix)")
    ap.add_argument("--soak", type=int, default=None, help="decisions of the memory soak (default 100000; 0: skip it)")
    ap.add_argument(
        "--floors", type=int, default=None, help="requests the floors are measured on (default: half; --quick 150)"
    )
    ap.add_argument(
        "--backend", choices=["durable", "pure"], default=None, help="back end of the decide_bytes and old-way figures"
    )
    ap.add_argument("--quick", action="store_true", help="a run of about 30 s (no soak)")
    ap.add_argument(
        "--root",
        type=Path,
        default=None,
        metavar="PATH",
        help="measure another checkout's engine (same requests, this interpreter): the before of a before/after pair",
    )
    args = ap.parse_args(argv)
    defaults = {"ratio_rounds": 2, "rounds": 1, "soak": 0, "floors": 150} if args.quick else {}
    for name, value in {"ratio_rounds": 5, "rounds": 20, "soak": 100000, "floors": None, **defaults}.items():
        if getattr(args, name) is None:  # the options given keep their values
            setattr(args, name, value)
    watch = machine.Watch(time.process_time)
    load0 = machine.loadavg()
    print(f"load average at the start: {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f} ({os.cpu_count()} CPUs)")
    t = time.perf_counter()
    from engine.inference.backends import warm_up

    warm_up()  # as the service and batch workers do
    print(f"start-up (load, validate, compile, build rulesets, warm up): {(time.perf_counter() - t) * 1000:.0f} ms")
    memo, templates = memo_module(), templates_module()
    print(
        f"engine: {Path(engine.__file__).parent}; decide_bytes {'yes' if hasattr(engine, 'decide_bytes') else NA}; "
        f"memo {('on' if memo.enabled() else 'off') + ' at start-up' if memo is not None else NA}; "
        f"templates {'yes' if templates is not None else NA}"
    )

    warm, measured, description = mix_sets(args.mix, args.variants, min(args.n, 2000))
    print(f"mix: {description}")
    print(f"decide_bytes check: {check_bytes(warm[:15], args.backend)}")
    figs = figures(args.backend)
    live = [f for f in figs if f.work is not None]
    print(
        f"ratio figures: {len(live)} passes per round over {len(measured)} requests, {args.ratio_rounds} rounds, "
        f"CPU of this thread, each request's JSON round trip timed beside it"
    )
    samples = run_passes(figs, warm, measured, args.ratio_rounds, args.rt_reps)
    rt_all = [v for s in samples.values() for v in s.rt.values()]
    print(f"JSON round trip of a request: CPU p50 {statistics.median(rt_all) / 1e3:.1f} µs over all passes")
    print(f"{'figure':<42} {'CPU p50 ms':>10} {'RT p50 µs':>10} {'p50s ratio':>11} {'p50 of ratios':>14}")
    for fig in figs:
        s = samples.get(fig.key)
        if s is None or not s.cpu:
            print(f"{fig.label:<42} {NA}")
            continue
        m = to_round_trip(s)
        print(
            f"{fig.label:<42} {m['cpu_p50_ms']:>10.3f} {m['rt_p50_us']:>10.1f} {m['ratio']:>10.1f}x {m['p50_ratio']:>13.1f}x"
        )
    rows = summary_rows(samples)

    if args.mix == "random":
        requests = random_mix(args.n)
    else:
        requests = [r for _ in range(args.rounds) for r in measured]
        random.Random(7).shuffle(requests)
    requests = [r for r in requests if _valid(r)]
    print(
        f"\ndecisions/s: {len(requests)} decisions per back end ({args.mix} mix, the measured set x {args.rounds}; "
        "requests the ratio passes have seen)"
    )
    for req in warm[:500]:  # warm caches (calendar years, resolutions)
        for be in ("durable", "pure"):
            with contextlib.suppress(InvalidRequest):
                decide(req, backend=be)
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
    memo_state = memo.enabled() if memo is not None else None
    if memo is not None:
        memo.set_enabled(False)  # the floors are what any decide() must do: no memo
    try:
        f = floors(requests[: args.floors or len(requests) // 2])
    finally:
        if memo is not None:
            memo.set_enabled(bool(memo_state))
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
    if memo is not None and hasattr(memo, "stats"):
        print(f"memo stats: {memo.stats()}")
    verdict = watch.stop(others_limit=0.5, others_load_limit=0.5)
    print(f"\nsummary ({args.mix} mix; ratios of p50 CPU over the same requests, the target figures)")
    print(format_summary(rows, verdict.line()))


def _valid(req: dict) -> bool:
    try:
        from engine.inference.request import parse_request
    except ImportError:
        return True
    try:
        parse_request(req)
    except InvalidRequest:
        return False
    return True


if __name__ == "__main__":
    main()
