"""No leftovers (issue 22, part 4): exports are built in memory or in a temporary directory removed on
every path, and batch runs remove their temporary directories (multiprocessing's `pymp-*`) on every
exit; each test counts the entries of $TMPDIR before and after a failing run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from engine.render.table import COLUMN_IDS, XlsxWriter
from engine.service import app as service

ROOT = Path(__file__).resolve().parent.parent
MEDTECH = Path(sys.executable).parent / "medtech"
REQ = {
    "as_of": "2025-03-10",
    "institution": {"jurisdiction": "hunan", "level": 3},
    "technology": {"name": "冠心病介入治疗"},
}


@pytest.fixture
def tmpdir_(tmp_path, monkeypatch) -> Path:
    """A fresh $TMPDIR for this process (tempfile, hence openpyxl, writes there)."""
    d = tmp_path / "tmp"
    d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    return d


def test_a_failing_xlsx_leaves_nothing(tmpdir_):
    row = {c: "x" for c in COLUMN_IDS}
    with pytest.raises(RuntimeError), XlsxWriter(sample=1) as sheet:
        sheet.add([row, row])  # past the sample: the sheet's rows are being written to its file
        raise RuntimeError("the batch failed half-way")
    assert list(tmpdir_.iterdir()) == []


def test_a_saved_xlsx_leaves_nothing(tmpdir_):
    sheet = XlsxWriter()
    sheet.add([{c: "x" for c in COLUMN_IDS}])
    assert sheet.to_bytes()[:2] == b"PK"
    assert list(tmpdir_.iterdir()) == []


def test_a_failing_http_xlsx_batch_leaves_nothing(tmpdir_, monkeypatch):
    from engine.service import batch as batch_mod
    from engine.service.batch import XLSX

    calls = []

    def failing(items, start):
        calls.append(start)
        if len(calls) > 1:
            raise RuntimeError("disk on fire")
        return real(items, start)

    real = batch_mod.rows_many
    monkeypatch.setattr(batch_mod, "rows_many", failing)
    with TestClient(service.app, raise_server_exceptions=False) as client:
        r = client.post(
            "/v1/decisions/batch", json={"requests": [REQ] * (batch_mod.BATCH_CHUNK + 1)}, headers={"Accept": XLSX}
        )
    assert r.status_code == 500
    assert list(tmpdir_.iterdir()) == []


def _interrupted_batch(tmp_path: Path, *args: str) -> tuple[int, list[str]]:
    """Run `medtech batch` on a long input with its own $TMPDIR, SIGTERM it once its pool runs;
    (exit status, what is left in that $TMPDIR)."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    line = (ROOT / "examples/batch.jsonl").read_text(encoding="utf-8")
    src = tmp_path / "in.jsonl"
    src.write_text(line * 2000, encoding="utf-8")
    env = {**os.environ, "TMPDIR": str(tmp)}
    proc = subprocess.Popen(
        [str(MEDTECH), "batch", str(src), "--workers", "2", *args],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(p.name.startswith("pymp-") for p in tmp.iterdir()):
        time.sleep(0.1)
    time.sleep(1.0)  # the workers start
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    return proc.returncode, sorted(p.name for p in tmp.iterdir())


@pytest.mark.parametrize("fmt", ["jsonl", "xlsx", "csv"])
def test_an_interrupted_batch_leaves_no_temporary_directory(tmp_path, fmt):
    code, left = _interrupted_batch(tmp_path, "--format", fmt, "-o", str(tmp_path / f"out.{fmt}"))
    assert code != 0
    assert left == [], left
