"""`medtech batch` killed, resumed and sharded, with real processes and real signals.

A run is killed (SIGTERM, then SIGKILL) while its workers are answering: the previous output
must be intact, no worker, forkserver or resource tracker may survive, the partial output must
hold only complete answers, and `--resume` must finish it into exactly the output of an
uninterrupted run. `--shard K/N` outputs, concatenated in order, must be exactly the output of
the whole input.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine import batch
from inventory import JURISDICTIONS

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(
    not Path("/proc/self/task").exists(), reason="needs Linux /proc to find child processes"
)

EVENTS = ["first_clinical_use", "serious_incident", "filing_submitted", "patient_discharged"]


def _lines(n: int) -> list[str]:
    """n varied requests (every 23rd invalid, to have errors in place too)."""
    out = []
    for i in range(n):
        req = {
            "as_of": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "institution": {"jurisdiction": JURISDICTIONS[i % len(JURISDICTIONS)], "level": 1 + i % 3},
            "technology": {"name": ["冠心病介入治疗", "PCI", "ECMO", "某新技术"][i % 4], "surgery_grade": 1 + i % 4},
            "events": [{"type": EVENTS[i % 4], "date": f"2024-{1 + i % 12:02d}-{1 + i % 27:02d}"}],
        }
        if i % 23 == 0:
            req["institution"]["jurisdiction"] = "广东"
        out.append(json.dumps(req, ensure_ascii=False))
    return out


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _batch(*args) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "batch", *args],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        p = todo.pop()
        try:
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        for c in map(int, children):
            found.add(c)
            todo.append(c)
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for p in pids:
        try:
            if Path(f"/proc/{p}/stat").read_text().split(")")[-1].split()[0] != "Z":
                alive.add(p)
        except OSError:
            pass
    return alive


def _spools(pid: int) -> list[str]:
    """The spool directories of the batch run by process `pid` (engine.batch_io)."""
    from engine.batch_io import _SPOOL_PREFIX, _spool_base

    return [e for e in os.listdir(_spool_base()) if e.startswith(f"{_SPOOL_PREFIX}{pid}-")]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """The input file and the output of an uninterrupted run of it (the CLI, two workers)."""
    tmp = tmp_path_factory.mktemp("batch")
    src = tmp / "in.jsonl"
    src.write_text("\n".join(_lines(500)) + "\n", encoding="utf-8")
    full = tmp / "full.jsonl"
    proc = _batch(str(src), "-o", str(full), "--workers", "2")
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err.decode(errors="replace")
    assert not (tmp / "full.jsonl.partial").exists()
    return src, full.read_bytes()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_killed_batch_leaves_nothing_running_and_resumes(data, tmp_path, sig):
    src, expected = data
    out = tmp_path / "out.jsonl"
    out.write_text("previous result\n", encoding="utf-8")
    partial = tmp_path / "out.jsonl.partial"
    proc = _batch(str(src), "-o", str(out), "--workers", "2")
    helpers: set[int] = set()
    try:
        deadline = time.monotonic() + 300
        while not (partial.exists() and partial.stat().st_size > 0):
            assert proc.poll() is None, "the batch ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        helpers = _descendants(proc.pid)
        assert len(helpers) >= 2  # the workers, the forkserver, the resource tracker
        assert _spools(proc.pid)  # where the workers put their answers for the parent
        proc.send_signal(sig)
        code = proc.wait(30)
        err = proc.stderr.read().decode(errors="replace")
        if sig == signal.SIGTERM:
            assert code == 128 + signal.SIGTERM, err
            assert "--resume" in err and "Traceback" not in err
        deadline = time.monotonic() + 10
        while _alive(helpers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(helpers), f"processes left running after {sig.name}"
        assert not _spools(proc.pid), f"spool directory left after {sig.name}"
    finally:  # whatever failed above, leave nothing running
        for pid in _alive(helpers | {proc.pid}):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        proc.wait(10)

    assert out.read_text(encoding="utf-8") == "previous result\n"  # the previous output is intact
    done = partial.read_bytes()
    complete = done[: done.rfind(b"\n") + 1]
    assert expected.startswith(complete) and len(complete) < len(expected)  # only answers, in order, not all

    proc = _batch(str(src), "-o", str(out), "--workers", "2", "--resume")
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err.decode(errors="replace")
    assert out.read_bytes() == expected
    assert not partial.exists() and not (tmp_path / "out.jsonl.partial.json").exists()


def test_resume_refuses_a_partial_output_of_another_input(data, tmp_path):
    src, _ = data
    other = tmp_path / "other.jsonl"
    other.write_text("\n".join(_lines(3)) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    (tmp_path / "out.jsonl.partial").write_text("{}\n", encoding="utf-8")
    with pytest.raises(batch.BatchInputError, match="not written for this input"):
        batch.run_batch(str(other), str(out), workers=1, resume=True)


def test_shards_together_are_exactly_the_whole_output(data, tmp_path):
    src, expected = data
    n = 4
    parts = []
    for k in range(1, n + 1):
        out = tmp_path / f"part{k}.jsonl"
        if k == 1:  # one through the command line, the others through run_batch
            proc = _batch(str(src), "--shard", f"{k}/{n}", "-o", str(out), "--workers", "1")
            _, err = proc.communicate(timeout=600)
            assert proc.returncode == 0, err.decode(errors="replace")
        else:
            assert batch.run_batch(str(src), str(out), workers=1, shard=(k, n)) == 0
        parts.append(out.read_bytes())
    counts = [p.count(b"\n") for p in parts]
    assert max(counts) - min(counts) <= 1 and sum(counts) == expected.count(b"\n")
    assert b"".join(parts) == expected


def test_shards_of_a_short_input(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(_lines(3)), encoding="utf-8")  # no final newline
    whole = tmp_path / "whole.jsonl"
    batch.run_batch(str(src), str(whole), workers=1)
    parts = []
    for k in range(1, 6):  # more shards than lines: some are empty
        out = tmp_path / f"p{k}.jsonl"
        batch.run_batch(str(src), str(out), workers=1, shard=(k, 5))
        parts.append(out.read_bytes())
    assert b"".join(parts) == whole.read_bytes() and whole.read_bytes().count(b"\n") == 3
    assert sorted(p.count(b"\n") for p in parts) == [0, 0, 1, 1, 1]


def test_a_line_over_the_limit_is_answered_in_place(tmp_path):
    from engine.batch_io import MAX_LINE

    src = tmp_path / "in.jsonl"
    good = _lines(2)[1]
    src.write_bytes(good.encode() + b"\n" + b"x" * (MAX_LINE + 10) + b"\n" + good.encode() + b"\n")
    out = tmp_path / "out.jsonl"
    batch.run_batch(str(src), str(out), workers=1)
    answers = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(answers) == 3 and answers[0] == answers[2] and "obligations" in answers[0]
    assert "longer than" in answers[1]["errors"][0]["message"]


def test_a_killed_table_export_leaves_the_previous_file_and_nothing_running(data, tmp_path):
    """`--format csv` is written whole or not at all: SIGTERM keeps the previous file, removes the partial one."""
    src, _ = data
    out = tmp_path / "out.csv"
    out.write_text("previous table\n", encoding="utf-8")
    partial = tmp_path / "out.csv.partial"
    proc = _batch(str(src), "-o", str(out), "--format", "csv", "--workers", "2")
    helpers: set[int] = set()
    try:
        deadline = time.monotonic() + 300
        while not (partial.exists() and partial.stat().st_size > 200):
            assert proc.poll() is None, "the batch ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        helpers = _descendants(proc.pid)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
        assert code == 128 + signal.SIGTERM, proc.stderr.read().decode(errors="replace")
        deadline = time.monotonic() + 10
        while _alive(helpers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(helpers)
    finally:
        for pid in _alive(helpers | {proc.pid}):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        proc.wait(10)
    assert out.read_text(encoding="utf-8") == "previous table\n"
    assert not partial.exists()
