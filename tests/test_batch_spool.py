"""The batch spool (engine.batch_io): workers write their answers to slot files that the parent
copies into the output; slots are reused, and no spool directory outlives its run."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

from engine import batch
from engine.batch_io import _SPOOL_PREFIX, _spool_base, copy_spooled, make_spool, remove_spool, write_spooled

REQUEST = {
    "as_of": "2025-04-29",
    "institution": {"jurisdiction": "jilin", "level": 3},
    "events": [{"type": "first_clinical_use", "date": "2025-04-28"}],
}


def _ours() -> set[str]:
    """Spool directories of this process's runs."""
    return {e for e in os.listdir(_spool_base()) if e.startswith(f"{_SPOOL_PREFIX}{os.getpid()}-")}


def test_a_reused_slot_gives_only_the_new_block(tmp_path):
    spool = make_spool()
    try:
        long = [b"x" * 5000, b"\n", b"y" * 3000, b"\n"]
        assert write_spooled(spool, "0", long) == 8002
        short = [b'{"a":1}', b"\n"]
        assert write_spooled(spool, "0", short) == 8  # the slot is overwritten from its start
        with open(tmp_path / "out", "wb") as out:  # a file: copied with sendfile
            out.write(b"before\n")
            copy_spooled(spool, "0", 8, out)
            out.write(b"after\n")
        assert (tmp_path / "out").read_bytes() == b'before\n{"a":1}\nafter\n'
        sink = io.BytesIO()  # no file descriptor: read and written
        copy_spooled(spool, "0", 8, sink)
        assert sink.getvalue() == b'{"a":1}\n'
        many = [b"%d\n" % i for i in range(3000)]  # more pieces than one writev takes
        assert write_spooled(spool, "1", many) == sum(map(len, many))
        sink = io.BytesIO()
        copy_spooled(spool, "1", sum(map(len, many)), sink)
        assert sink.getvalue() == b"".join(many)
    finally:
        remove_spool(spool)
    assert not os.path.exists(spool)


def test_spooled_blocks_are_the_answers_in_order_and_the_spool_goes():
    lines = [json.dumps({**REQUEST, "as_of": f"2025-05-{d:02d}"}).encode() for d in range(1, 29)] + [b"", b"{"]
    expected = b"".join(batch.answer_chunk([line]) for line in lines)
    before = _ours()
    sink = io.BytesIO()
    seen = 0
    for count, block in batch.answer_blocks(lines, workers=2, chunk_fn=batch.answer_pieces, spool=True):
        assert isinstance(block, batch.Spooled)
        batch.write_block(sink, block)
        seen += count
    assert seen == len(lines) and sink.getvalue() == expected
    assert _ours() == before


def test_a_closed_run_removes_its_spool():
    lines = [json.dumps(REQUEST).encode()] * 40
    before = _ours()
    blocks = batch.answer_blocks(lines, workers=2, chunk_fn=batch.answer_pieces, spool=True)
    next(blocks)
    assert len(_ours() - before) == 1
    blocks.close()
    assert _ours() == before


def test_the_spool_of_a_dead_run_is_removed_by_the_next():
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)  # exited: no such process any more (unless reused at once)
    stale = os.path.join(_spool_base(), f"{_SPOOL_PREFIX}{pid}-abc")
    os.makedirs(stale)
    with open(os.path.join(stale, "0"), "wb") as fh:
        fh.write(b"left by a killed run")
    other = os.path.join(_spool_base(), f"{_SPOOL_PREFIX}{os.getppid()}-abc")  # a live process's: kept
    os.makedirs(other, exist_ok=True)
    try:
        spool = make_spool()
        remove_spool(spool)
        assert not os.path.exists(stale)
        assert os.path.isdir(other)
    finally:
        remove_spool(stale)
        remove_spool(other)


def test_answers_come_back_through_the_pipe_when_the_spool_fails(tmp_path, monkeypatch):
    lines = [json.dumps({**REQUEST, "as_of": f"2025-05-{d:02d}"}).encode() for d in range(1, 29)] * 3
    expected = b"".join(batch.answer_chunk([line]) for line in lines)
    # a spool the workers cannot write to (as a full /dev/shm would refuse them)
    monkeypatch.setattr(batch, "make_spool", lambda: str(tmp_path / "missing"))
    sink = io.BytesIO()
    kinds = set()
    for _, block in batch.answer_blocks(lines, workers=2, chunk_fn=batch.answer_pieces, spool=True):
        kinds.add(type(block).__name__)
        batch.write_block(sink, block)
    assert kinds == {"bytes"} and sink.getvalue() == expected
