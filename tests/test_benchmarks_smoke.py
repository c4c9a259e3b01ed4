"""The benchmarks' own arithmetic and code paths, in process, on a handful of requests (not their figures).

benchmarks/decide.py reports each figure as a ratio to a JSON round trip of the same requests and
flags a run on a busy machine (benchmarks/machine.py); these tests pin the ratio and summary
functions with fixed numbers, the held-out mix's generation, and one short pass of the real
measuring loop, so that a broken benchmark shows here rather than after a run of minutes.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path

import pytest

from engine import InvalidRequest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"


def _load(name: str):
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    return _load("decide")


@pytest.fixture(scope="module")
def machine():
    return _load("machine")


def test_ratios_of_fixed_numbers(bench):
    work, rt = [10.0, 30.0, 20.0, 400.0], [1.0, 2.0, 1.0, 4.0]
    assert bench.ratio_of_p50s(work, rt) == pytest.approx(25.0 / 1.5)  # medians 25 and 1.5
    assert bench.p50_of_ratios(work, rt) == pytest.approx(17.5)  # ratios 10, 15, 20, 100


def test_figure_against_round_trip_and_default(bench):
    default = bench.Samples(rt={(0, i): 10_000.0 for i in range(3)}, cpu={(0, 0): 1e6, (0, 1): 2e6, (0, 2): 3e6})
    m = bench.to_round_trip(default)
    assert m["n"] == 3 and m["ratio"] == pytest.approx(200.0) and m["cpu_p50_ms"] == pytest.approx(2.0)
    # the compact form's passes took 1.6x the default's CPU, with round trips 2x as long (a machine half as
    # fast): the ratio says 1.6, the ratio normalised by each pass's own round trips says 0.8
    form = bench.Samples(
        rt={(0, i): 20_000.0 for i in range(3)}, cpu={(0, 0): 1.6e6, (0, 1): 3.2e6, (0, 2): 4.8e6, (0, 9): 1.0}
    )
    c = bench.to_default(form, default)
    assert c["n"] == 3  # only the (round, request) pairs both measured
    assert c["ratio"] == pytest.approx(1.6) and c["p50_ratio"] == pytest.approx(1.6)
    assert c["normalized"] == pytest.approx(0.8)


def test_pass_order(bench):
    keys = ["durable", "pure", "bytes_all", "bytes_once", "old_all", "old_once", "old_none", "durable_memo_off"]
    figs = [bench.Figure(k, k, None) for k in keys]
    for rnd in range(6):
        order = [f.key for f in bench.pass_order(figs, rnd)]
        assert sorted(order) == sorted(keys)
        for group in ("old", "bytes"):  # a group's passes run back to back
            at = [i for i, k in enumerate(order) if k.startswith(group)]
            assert at == list(range(at[0], at[0] + len(at)))
    firsts = {bench.pass_order(figs, rnd)[0].key for rnd in range(8)}
    assert len(firsts) > 2


def test_summary_targets_and_missing_figures(bench):
    def samples(ratio: float) -> object:
        return bench.Samples(rt={(0, 0): 1000.0}, cpu={(0, 0): 1000.0 * ratio})

    got = {"durable": samples(24.0), "pure": samples(26.0), "old_all": samples(20.0), "old_once": samples(16.0)}
    rows = {r.figure: r for r in bench.summary_rows(got)}
    assert rows["decide() durable / JSON round trip"].status == "met"
    assert rows["decide() pure / JSON round trip"].status == "not met"
    assert rows["quotes=once / default, old way"].ratio == pytest.approx(0.8)
    assert rows["quotes=once / default, old way"].status == "met"
    for missing in ("template path (decide_bytes default) / JSON round trip", "memo on / memo off, durable"):
        assert rows[missing].ratio is None and rows[missing].status == bench.NA
    text = bench.format_summary(list(rows.values()), "load average 0.10 ...")
    assert "n/a (not in this checkout)" in text and "<= 25x" in text and "<= 0.85x" in text
    assert text.splitlines()[-1] == "load average 0.10 ..."


def test_busy_verdict(machine):
    stat0 = {"total": 0.0, "busy": 0.0, "steal": 0.0}
    quiet = machine.judge(
        (0.2, 0.2, 0.2), (0.8, 0.5, 0.3), stat0, {"total": 200.0, "busy": 62.0, "steal": 1.0}, 60, 100
    )
    assert not quiet.busy and quiet.steal_pct == pytest.approx(0.5) and quiet.others_cores == pytest.approx(0.02)
    stolen = machine.judge((0, 0, 0), (1, 1, 1), stat0, {"total": 200.0, "busy": 60.0, "steal": 6.0}, 60, 100)
    assert stolen.busy and "steal 3.0 %" in stolen.line()
    crowded = machine.judge((0, 0, 0), (1, 1, 1), stat0, {"total": 200.0, "busy": 160.0, "steal": 0.0}, 60, 100)
    assert crowded.busy and crowded.others_cores == pytest.approx(1.0)
    # 1-minute load average from 1.0 to 2.0 over 60 s with 1 core of our own: the others' mean was about 1.58
    assert machine.others_in_loadavg(1.0, 2.0, 1.0, 60.0) == pytest.approx(1.582, abs=0.01)
    loaded = machine.judge((1.0, 1, 1), (2.0, 1, 1), stat0, {"total": 120.0, "busy": 60.0}, 60, 60)
    assert loaded.busy and "load average not due to this run" in loaded.reasons[0]


def test_held_out_variants(bench):
    base = bench.scenario_requests()[:40]
    a = bench.held_out(base, seed=1)
    assert a == bench.held_out(base, seed=1)  # seeded
    b = bench.held_out(base, seed=2, exclude={bench.request_key(r) for r in a})
    assert not {bench.request_key(r) for r in a} & {bench.request_key(r) for r in b}
    assert len(a) == len(base) and len(b) >= len(base) - 2
    req = {
        "as_of": "2019-03-01",
        "institution": {"jurisdiction": "hunan", "level": 3},
        "events": [{"type": "first_clinical_use", "date": "2019-01-20"}],
        "technology": {"name": "PCI", "in_use_since": "2019-01-05"},
    }
    for seed in range(20):
        v = bench.variant(req, bench.random.Random(seed))
        as_of, event = dt.date.fromisoformat(v["as_of"]), dt.date.fromisoformat(v["events"][0]["date"])
        assert 0 <= (as_of - dt.date(2019, 3, 1)).days <= 400  # kept inside 2019-01-01..2026-12-31: only forward
        assert as_of - event == dt.timedelta(days=40)
        if "in_use_since" in v["technology"]:  # an optional field: sometimes dropped
            assert as_of - dt.date.fromisoformat(v["technology"]["in_use_since"]) == dt.timedelta(days=55)


def test_one_short_pass_in_process(bench):
    from engine import decide

    base = bench.scenario_requests()
    warm, measured = bench.held_out(base[:3], seed=1), bench.held_out(base[3:6], seed=2)
    rejected = {"institution": {"jurisdiction": "atlantis"}}
    got = bench.measure_pass(lambda r: decide(r, backend="pure"), [*measured, rejected], rt_reps=1)
    assert set(got) <= {0, 1, 2} and 3 not in got  # the invalid request is left out
    assert all(rt > 0 and cpu > 0 for rt, cpu in got.values())
    with pytest.raises(InvalidRequest):
        decide(rejected)
    figs = [f for f in bench.figures() if f.key in ("pure", "old_all", "old_once", "bytes_all")]
    samples = bench.run_passes(figs, warm, measured, rounds=1, rt_reps=1, log=lambda *a: None)
    assert samples["pure"].cpu and samples["old_once"].cpu
    assert ("bytes_all" in samples) == hasattr(__import__("engine"), "decide_bytes")
    rows = {r.figure: r for r in bench.summary_rows(samples)}
    assert rows["decide() pure / JSON round trip"].ratio > 1


def test_batch_memory_growth():
    batch = _load("batch")
    sampler = batch.MemorySampler()
    sampler.samples = {1: [(0.0, 1024), (5.0, 2048), (10.0, 2048 + 3 * 1024)], 2: [(0.0, 4096), (10.0, 4096)]}
    assert sampler.growth(half=5.0) == pytest.approx(3.0)


def test_the_new_names_when_present(bench, monkeypatch):
    """With engine.decide_bytes and engine.inference.memo present (stand-ins here: the same bytes the
    old way, a memo that records its calls), every figure is measured, the memo is cleared before each
    pass and set as the figure says, and the byte-identity check passes."""
    import types

    import orjson

    import engine
    import engine.inference
    from engine.render.compact import compact_quotes

    calls: list = []
    state = {"on": True}
    memo = types.SimpleNamespace(
        set_enabled=lambda flag: (calls.append(("set", flag)), state.update(on=flag)),
        enabled=lambda: state["on"],
        clear=lambda: calls.append(("clear",)),
        stats=lambda: {"hits": 0},
    )

    def decide_bytes(request, *, quotes="all", trace=True, backend=None):
        calls.append(("bytes", state["on"]))
        return orjson.dumps(compact_quotes(engine.decide(request, trace=trace, backend=backend), quotes))

    monkeypatch.setattr(engine, "decide_bytes", decide_bytes, raising=False)
    monkeypatch.setattr(engine.inference, "memo", memo, raising=False)
    monkeypatch.setitem(sys.modules, "engine.inference.memo", memo)
    base = bench.scenario_requests()
    warm, measured = bench.held_out(base[:2], seed=1), bench.held_out(base[2:4], seed=2)
    assert "MISMATCH" not in bench.check_bytes(measured) and "byte-identical" in bench.check_bytes(measured)
    figs = bench.figures()
    live = [f for f in figs if f.work is not None]
    # only the templates-off figure can lack its work, and only without engine.render.templates
    import importlib.util

    without_templates = importlib.util.find_spec("engine.render.templates") is None
    assert {f.key for f in figs} - {f.key for f in live} == ({"bytes_all_notpl"} if without_templates else set())
    samples = bench.run_passes(figs, warm, measured, rounds=1, rt_reps=1, log=lambda *a: None)
    assert calls.count(("clear",)) == len(live)
    assert ("set", False) in calls  # the memo-off passes
    assert all(samples[f.key].cpu for f in live)
    rows = {r.figure: r for r in bench.summary_rows(samples)}
    assert rows["template path (decide_bytes default) / JSON round trip"].ratio is not None
    assert rows["memo on / memo off, durable"].ratio is not None
    assert state["on"] is True  # the memo is left as the process started
