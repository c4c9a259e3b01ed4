"""Batch inputs and outputs that are not plain files (issue 22, part 5).

The input is opened once and read once, as a stream, wherever it comes from (a named FIFO,
process substitution, a pipe on standard input); input such as /dev/zero is refused by the
line-size cap in bounded time. `-o` writes through an existing symbolic link to its target
(atomically: the link stays a link) and refuses anything that is neither a regular file nor a new
path (exit 2), so a device is never replaced. Every run is bounded by a timeout.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from engine.batch_io import check_output
from engine.errors import BatchInputError

ROOT = Path(__file__).resolve().parent.parent
MEDTECH = Path(sys.executable).parent / "medtech"
LINES = (ROOT / "examples/batch.jsonl").read_text(encoding="utf-8")
N = LINES.count("\n")


def medtech(*args: str, cwd: Path, stdin=None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(MEDTECH), *args], cwd=cwd, stdin=stdin, capture_output=True, text=True, timeout=timeout)


def bash(script: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """A bash command line, for the input bash builds itself (a process substitution, a pipe)."""
    return subprocess.run(["bash", "-c", script], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def _fifo_with_writer(path: Path, text: str) -> threading.Thread:
    os.mkfifo(path)

    def write():
        with open(path, "w", encoding="utf-8") as fh:  # blocks until the reader opens it
            fh.write(text)

    t = threading.Thread(target=write, daemon=True)
    t.start()
    return t


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "xlsx"])
def test_a_named_fifo_is_read_once(tmp_path, fmt):
    fifo = tmp_path / "in.fifo"
    writer = _fifo_with_writer(fifo, LINES)
    out = tmp_path / f"out.{fmt}"
    p = medtech("batch", str(fifo), "--format", fmt, "-o", str(out), "--workers", "1", cwd=tmp_path, timeout=120)
    writer.join(5)
    assert p.returncode == 0, p.stderr
    if fmt == "jsonl":
        assert out.read_text(encoding="utf-8").count("\n") == N
    elif fmt == "csv":
        rows = out.read_text(encoding="utf-8").splitlines()[1:]
        assert {r.split(",")[0] for r in rows} == {str(i) for i in range(1, N + 1)}
    else:
        assert out.read_bytes()[:2] == b"PK"


def test_process_substitution(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(LINES, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    p = bash(f'"{MEDTECH}" batch <(cat "{src}") -o "{out}" --workers 1', cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert out.read_text(encoding="utf-8").count("\n") == N


def test_a_pipe_on_stdin(tmp_path):
    out = tmp_path / "out.jsonl"
    p = subprocess.run(
        [str(MEDTECH), "batch", "-", "-o", str(out), "--workers", "1"],
        input=LINES,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    assert out.read_text(encoding="utf-8").count("\n") == N


def _kill_when_answered(proc: subprocess.Popen, partial: Path, lines: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if partial.exists() and partial.read_bytes().count(b"\n") >= lines:
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    proc.wait(60)


def test_a_stream_resumes_checked_by_its_lines(tmp_path):
    """stdin interrupted, then resumed from stdin again: the record is the digest of the lines
    answered (taken while reading), the resumed run checks the same lines in its single pass and
    finishes into exactly the output of an uninterrupted run; another stream is refused."""
    src = tmp_path / "in.jsonl"
    src.write_text(LINES * 1500, encoding="utf-8")
    whole = tmp_path / "whole.jsonl"
    with open(src, "rb") as fh:
        p = medtech("batch", "-", "-o", str(whole), "--workers", "2", cwd=tmp_path, stdin=fh, timeout=300)
    assert p.returncode == 0, p.stderr
    out = tmp_path / "out.jsonl"
    partial = tmp_path / "out.jsonl.partial"
    proc = subprocess.Popen(
        [str(MEDTECH), "batch", "-", "-o", str(out), "--workers", "2"],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None
    proc.stdin.write((LINES * 100).encode("utf-8"))  # a part of the stream, and then it stalls
    proc.stdin.flush()
    _kill_when_answered(proc, partial, 1, timeout=60)
    proc.stdin.close()
    record = json.loads((tmp_path / "out.jsonl.partial.json").read_text(encoding="utf-8"))
    assert record["input"] == "<stream>" and 0 < record["lines"] < N * 1500
    lines = LINES.splitlines(keepends=True)
    assert lines[0] != lines[1]
    other = tmp_path / "other.jsonl"  # the same lines, the first two swapped
    other.write_text((lines[1] + lines[0] + "".join(lines[2:])) * 1500, encoding="utf-8")
    with open(other, "rb") as fh:
        p = medtech("batch", "-", "-o", str(out), "--resume", cwd=tmp_path, stdin=fh, timeout=120)
    assert p.returncode == 2 and "not those the partial output answers" in p.stderr, p.stderr
    assert partial.exists()
    p = bash(f'cat "{src}" | "{MEDTECH}" batch - -o "{out}" --resume --workers 2', cwd=tmp_path, timeout=300)
    assert p.returncode == 0, p.stderr
    assert out.read_bytes() == whole.read_bytes()
    assert not partial.exists()


def test_dev_zero_is_refused_in_bounded_time(tmp_path):
    started = time.monotonic()
    p = medtech("batch", "/dev/zero", "-o", str(tmp_path / "o.jsonl"), "--workers", "1", cwd=tmp_path, timeout=60)
    assert p.returncode == 2, p.stderr
    assert "not a JSON-lines file" in p.stderr
    assert time.monotonic() - started < 60
    assert not (tmp_path / "o.jsonl").exists()


def test_output_through_a_symlink_keeps_the_link(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(LINES, encoding="utf-8")
    target = tmp_path / "real" / "answers.jsonl"
    target.parent.mkdir()
    target.write_text("old\n", encoding="utf-8")
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    p = medtech("batch", str(src), "-o", str(link), "--workers", "1", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text(encoding="utf-8").count("\n") == N
    assert sorted(x.name for x in target.parent.iterdir()) == ["answers.jsonl"]  # no .partial left
    p = medtech("batch", str(src), "--format", "csv", "-o", str(link), "--workers", "1", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert link.is_symlink() and target.read_text(encoding="utf-8").startswith("\ufeff请求序号,")


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_output_to_a_fifo_is_refused(tmp_path, fmt):
    src = tmp_path / "in.jsonl"
    src.write_text(LINES, encoding="utf-8")
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    p = medtech("batch", str(src), "--format", fmt, "-o", str(fifo), cwd=tmp_path, timeout=60)
    assert p.returncode == 2, p.stderr
    assert "regular file" in p.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still the FIFO


def test_a_device_is_never_replaced():
    # checked without writing anything: the refusal comes before any file is opened
    for device in ("/dev/null", "/dev/zero"):
        if os.path.exists(device):
            with pytest.raises(BatchInputError, match="device"):
                check_output("in.jsonl", device)
            assert stat.S_ISCHR(os.lstat(device).st_mode)


def test_a_symlink_to_a_device_is_refused(tmp_path):
    link = tmp_path / "null.jsonl"
    link.symlink_to("/dev/null")
    with pytest.raises(BatchInputError, match="device"):
        check_output("in.jsonl", link)


def test_a_new_path_and_a_regular_file_are_taken(tmp_path):
    assert check_output("in.jsonl", tmp_path / "new.jsonl") == tmp_path / "new.jsonl"
    (tmp_path / "old.jsonl").write_text("x", encoding="utf-8")
    assert check_output("in.jsonl", tmp_path / "old.jsonl") == tmp_path / "old.jsonl"
