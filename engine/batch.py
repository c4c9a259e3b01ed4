"""`medtech batch`: answer a JSON-lines file of requests on every core.

One request per input line; one response (or `{"errors": [...]}`) per output line, in the same
order, exactly one output line per input line. Blank lines, malformed JSON and invalid requests
are answered in place with their errors, so the output can be zipped with the input.

Worker processes start from a clean interpreter (forkserver on POSIX, spawn elsewhere: the
durable_rules host runs timer threads, which must not be forked) and each builds the knowledge
base and its durable_rules ruleset once, in the pool initializer. Lines are handed out in
ordered chunks; each worker serialises its own answers so the parent only does I/O. The pool is
a concurrent.futures ProcessPoolExecutor rather than multiprocessing.Pool: when a worker dies
(durable_rules is native code) Pool.imap waits forever, the executor reports it.
"""
from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing as mp
import os
import sys
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import IO

from engine.errors import InvalidRequest
from engine.jsonout import dumps_text

log = logging.getLogger("engine.batch")

MAX_CHUNK = 256


def _dumps(obj) -> str:
    return dumps_text(obj)


def _errors(message: str, path: str = "") -> str:
    return _dumps({"errors": [{"path": path, "message": message}]})


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")




def init_worker() -> None:
    """Pool initializer: build the knowledge base and the ruleset once per process, and warm up."""
    from engine.inference.backends import warm_up
    try:
        warm_up()
    except Exception:  # noqa: BLE001 - every line will then report the problem in place
        log.exception("knowledge base could not be loaded")


def answer_line(line: bytes | str) -> str:
    """The output line (without newline) for one input line."""
    from engine import decide
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            return _errors(f"malformed JSON: not UTF-8 ({exc})")
    text = line.strip()
    if not text:
        return _errors("empty line")
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        return _errors("malformed JSON: nested too deeply")
    except ValueError as exc:
        return _errors(f"malformed JSON: {exc}")
    try:
        return _dumps(decide(data))
    except InvalidRequest as exc:
        return _dumps({"errors": exc.errors})
    except RecursionError:
        return _errors("the request is nested too deeply")
    except Exception as exc:  # noqa: BLE001 - one line must not lose the batch
        log.exception("request failed")
        return _errors(f"internal error: {type(exc).__name__}: {exc}")


def _read_lines(in_path: str | os.PathLike | IO[bytes]) -> list[bytes]:
    """Input lines split on LF only (U+2028 may legally occur inside JSON strings), CR stripped;
    a final newline does not start another line; a UTF-8 byte-order mark is ignored."""
    if in_path in ("-", None):
        data = sys.stdin.buffer.read()
    elif hasattr(in_path, "read"):
        data = in_path.read()
        if isinstance(data, str):
            data = data.encode("utf-8")
    else:
        data = Path(in_path).read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data:
        return []
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return [ln[:-1] if ln.endswith(b"\r") else ln for ln in lines]


def _context():
    methods = mp.get_all_start_methods()
    return mp.get_context("forkserver" if "forkserver" in methods else "spawn")


def chunksize_for(n: int, processes: int) -> int:
    """About 16 chunks per process (good balance, little IPC), between 1 and MAX_CHUNK lines."""
    return max(1, min(MAX_CHUNK, n // (processes * 16) or 1))


def answer_chunk(lines: list[bytes]) -> bytes:
    """The output for consecutive input lines as one UTF-8 block, a newline after each line
    (encoded in the worker, so the parent only writes)."""
    return "".join(answer_line(line) + "\n" for line in lines).encode("utf-8")


class WorkerDied(RuntimeError):
    """A worker process ended abnormally (a crash in native code) while answering some lines."""


def answer_blocks(lines: list[bytes], workers: int | None = None, *, chunk_fn=answer_chunk) -> Iterator[tuple[int, bytes]]:
    """(number of lines, output block) for consecutive chunks of `lines`, in order.

    Ordered chunks go to a process pool with a bounded number in flight (4 per process), so
    memory stays flat however long the output. A worker that dies (a native crash cannot be
    caught inside it) raises WorkerDied naming the lines concerned instead of hanging.
    """
    processes = max(1, workers or os.cpu_count() or 1)
    processes = min(processes, max(1, len(lines)))
    size = chunksize_for(len(lines), processes)
    if processes == 1:
        init_worker()
        for start in range(0, len(lines), size):
            chunk = lines[start:start + size]
            yield len(chunk), chunk_fn(chunk)
        return
    starts = iter(range(0, len(lines), size))
    pending: deque = deque()
    with ProcessPoolExecutor(max_workers=processes, mp_context=_context(), initializer=init_worker) as pool:

        def submit() -> None:
            start = next(starts, None)
            if start is not None:
                chunk = lines[start:start + size]
                pending.append((start, len(chunk), pool.submit(chunk_fn, chunk)))

        for _ in range(processes * 4):
            submit()
        while pending:
            start, count, future = pending.popleft()
            try:
                block = future.result()
            except BrokenProcessPool:
                raise WorkerDied(f"a worker process died while answering lines {start + 1}-{start + count} or those "
                                 f"after them (a crash in native code); lines before {start + 1} were answered") from None
            submit()
            yield count, block


def rows_chunk(lines: list[bytes]) -> bytes:
    """Like answer_chunk, but each output line is the JSON list of the request's obligation rows
    (engine.render.table), or one error row; the row's `request` is filled in by the parent."""
    from engine.render.answer import build_answer
    from engine.render.errors import error_text
    from engine.render.table import error_row, obligation_rows
    out = []
    for line in lines:
        answered = json.loads(answer_line(line))
        if "errors" in answered:
            rows = [error_row(None, [f"{e.get('path') or '(请求)'}: {error_text(e)}" for e in answered["errors"]])]
        else:
            try:
                request = json.loads(line)
            except ValueError:
                request = None
            rows = obligation_rows(build_answer(answered, request=request if isinstance(request, dict) else None))
        out.append(_dumps(rows))
    return "".join(x + "\n" for x in out).encode("utf-8")


def answers(lines: list[bytes], workers: int | None = None) -> Iterator[str]:
    """The output lines (without newlines) for `lines`, in order."""
    for _, block in answer_blocks(lines, workers):
        yield from block.decode("utf-8").split("\n")[:-1]


def run_batch(in_path, out_path=None, progress: bool = False, workers: int | None = None, fmt: str = "jsonl") -> int:
    """Answer every line of `in_path` (a path, or "-" for stdin) into `out_path` (stdout when None).

    Returns 0 (the exit status for `medtech batch`): every line is answered, errors in place.
    `workers` is the number of processes (default: every core). A progress bar is drawn on stderr
    when `progress` is true. Raises WorkerDied if a worker process crashes.
    `fmt` "csv" or "xlsx" writes one row per obligation per request instead of one response a line
    (the `request` column is the input line number, from 1; a request that fails is one row with its errors).
    """
    if fmt in ("csv", "xlsx"):
        return _run_rows(_read_lines(in_path), out_path, progress, workers, fmt)
    lines = _read_lines(in_path)
    file = None  # the output file we opened (and close); stdout is left open
    if out_path is None or out_path == "-":
        sys.stdout.flush()
        out = getattr(sys.stdout, "buffer", None)
        if out is None:  # a text stream without a buffer (a StringIO, say)
            out = _TextSink(sys.stdout)
    else:
        out = file = open(out_path, "wb")  # noqa: SIM115 -- closed in the finally below
    bar = None
    try:
        if progress:
            from tqdm import tqdm
            bar = tqdm(total=len(lines), file=sys.stderr, unit="req", desc="decisions", dynamic_ncols=True)
        for count, block in answer_blocks(lines, workers):
            out.write(block)
            if bar is not None:
                bar.update(count)
        out.flush()
    finally:
        if bar is not None:
            bar.close()
        if file is not None:
            file.close()
    return 0


def _run_rows(lines: list[bytes], out_path, progress: bool, workers: int | None, fmt: str) -> int:
    from engine.render.table import XlsxWriter, csv_header
    sheet = XlsxWriter() if fmt == "xlsx" else None
    to_stdout = out_path is None or out_path == "-"
    with contextlib.ExitStack() as stack:
        out = None
        if sheet is None:
            if to_stdout:
                out = getattr(sys.stdout, "buffer", None) or _TextSink(sys.stdout)
            else:
                out = stack.enter_context(open(out_path, "wb"))
            out.write(csv_header().encode("utf-8"))
        _write_rows(lines, out, sheet, out_path, to_stdout, progress, workers)
    return 0


def _write_rows(lines, out, sheet, out_path, to_stdout: bool, progress: bool, workers: int | None) -> None:
    from engine.render.table import csv_rows
    bar = None
    n = 0
    try:
        if progress:
            from tqdm import tqdm
            bar = tqdm(total=len(lines), file=sys.stderr, unit="req", desc="decisions", dynamic_ncols=True)
        for count, block in answer_blocks(lines, workers, chunk_fn=rows_chunk):
            for text in block.decode("utf-8").split("\n")[:-1]:
                n += 1
                rows = json.loads(text)
                for r in rows:
                    r["request"] = n
                if sheet is not None:
                    sheet.add(rows)
                else:
                    out.write(csv_rows(rows).encode("utf-8"))
            if bar is not None:
                bar.update(count)
        if sheet is not None:
            if to_stdout:
                sys.stdout.flush()
                sys.stdout.buffer.write(sheet.to_bytes())
                sys.stdout.buffer.flush()
            else:
                sheet.save(out_path)
        else:
            out.flush()
    finally:
        if bar is not None:
            bar.close()


class _TextSink:
    def __init__(self, stream):
        self.stream = stream

    def write(self, block: bytes) -> None:
        self.stream.write(block.decode("utf-8"))

    def flush(self) -> None:
        self.stream.flush()
