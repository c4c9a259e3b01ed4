"""`medtech batch`: answer a JSON-lines file of requests on every core.

One request per input line; one response (or `{"errors": [...]}`) per output line, in the same
order, exactly one output line per input line. Blank lines, malformed JSON and invalid requests
are answered in place with their errors, so the output can be zipped with the input.

The parent streams the input (engine.batch_io) and holds at most 4 chunks per process in
flight, so memory is flat however long the file. Answers go to `OUT.partial`, renamed to `OUT`
when complete (`--resume` continues a killed run; `--shard K/N` answers one of N contiguous
parts). SIGTERM and SIGINT stop the workers at once and leave the partial output; a worker
whose parent disappears (SIGKILL) exits within half a second (a watchdog thread), so no worker,
forkserver or resource tracker outlives the run.

Worker processes start from a clean interpreter (forkserver on POSIX, spawn elsewhere: the
durable_rules host runs timer threads, which must not be forked) and each builds the knowledge
base and its durable_rules ruleset once, in the pool initializer. Lines are handed out in
ordered chunks; each worker serialises its own answers and writes them to a spool file
(engine.batch_io), which the parent copies into the output inside the kernel: the parent, which
shares the cores with the workers, neither decodes nor copies the answers itself. The pool is
a concurrent.futures ProcessPoolExecutor rather than multiprocessing.Pool: when a worker dies
(durable_rules is native code) Pool.imap waits forever, the executor reports it.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import NamedTuple

from engine.batch_io import (
    MAX_LINE,
    TOO_LONG,
    HashedLines,
    check_output,
    copy_spooled,
    count_lines,
    input_identity,
    is_empty,
    is_regular,
    make_spool,
    open_input,
    open_output,
    read_lines,
    record_stream,
    remove_spool,
    shard_range,
    write_spooled,
)
from engine.errors import BatchInputError, BatchInterrupted, InvalidRequest
from engine.jsonout import dumps_bytes

log = logging.getLogger("engine.batch")

MAX_CHUNK = 256


_dumps = dumps_bytes


def _errors(message: str, path: str = "") -> bytes:
    return _dumps({"errors": [{"path": path, "message": message}]})


def _watch_parent(parent: int, spool: str | None = None, interval: float = 0.5) -> None:
    """Exit this worker as soon as process `parent` is gone (killed with SIGKILL, say): the
    executor's queues would otherwise keep it waiting for work forever. The run's spool
    directory, which the parent can no longer remove, goes too."""
    while True:
        time.sleep(interval)
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            remove_spool(spool)
            os._exit(1)
        except PermissionError:  # pragma: no cover - the pid was reused by another user's process
            remove_spool(spool)
            os._exit(1)


def init_worker(parent: int | None = None, spool: str | None = None) -> None:
    """Pool initializer: build the knowledge base and the ruleset once per process, and warm up.
    In a worker process (`parent` given): ignore SIGINT (the parent stops the workers) and watch
    the parent (removing the run's `spool` directory if the parent is killed)."""
    if parent is not None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        watch = threading.Thread(target=_watch_parent, args=(parent, spool), name="medtech-parent-watch", daemon=True)
        watch.start()
    from engine.inference.backends import warm_up

    try:
        warm_up()
    except Exception:  # noqa: BLE001 - every line will then report the problem in place
        log.exception("knowledge base could not be loaded")


def answer_line(line: bytes | str) -> str:
    """The output line (without newline) for one input line."""
    return answer_bytes(line).decode("utf-8")


def answer_bytes(line: bytes | str) -> bytes:
    """The output line (without newline) for one input line, as UTF-8."""
    from engine import decide_bytes
    from engine.requestio import loads_json

    if line == TOO_LONG:
        return _errors(f"line longer than {MAX_LINE} bytes (a request is far smaller)")
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            return _errors(f"malformed JSON: not UTF-8 ({exc})")
    text = line.strip()
    if not text:
        return _errors("empty line")
    try:
        data = loads_json(text)
    except ValueError as exc:
        return _errors(str(exc))
    try:
        return decide_bytes(data)  # from templates: the bytes of dumps(decide(data))
    except InvalidRequest as exc:
        return _dumps({"errors": exc.errors})
    except RecursionError:
        return _errors("the request is nested too deeply")
    except Exception as exc:  # noqa: BLE001 - one line must not lose the batch
        log.exception("request failed")
        return _errors(f"internal error: {type(exc).__name__}: {exc}")


def _context():
    methods = mp.get_all_start_methods()
    return mp.get_context("forkserver" if "forkserver" in methods else "spawn")


def chunksize_for(n: int, processes: int) -> int:
    """About 16 chunks per process (good balance, little IPC), between 1 and MAX_CHUNK lines."""
    return max(1, min(MAX_CHUNK, n // (processes * 16) or 1))


def answer_pieces(lines: list[bytes]) -> list[bytes]:
    """The output for consecutive input lines as UTF-8 pieces to write one after the other (each
    answer, then a newline: written with one writev, never joined into one more copy)."""
    pieces = []
    for line in lines:
        pieces.append(answer_bytes(line))
        pieces.append(b"\n")
    return pieces


def answer_chunk(lines: list[bytes]) -> bytes:
    """The output for consecutive input lines as one UTF-8 block, a newline after each line."""
    return b"".join(answer_pieces(lines))


class Spooled(NamedTuple):
    """A block of output a worker wrote to file `name` of the spool directory `spool` (`size` bytes)."""

    spool: str
    name: str
    size: int


def spool_chunk(chunk_fn, spool: str, name: str, lines: list[bytes]) -> int | bytes:
    """In a worker: answer `lines` with `chunk_fn` (bytes, or a list of pieces) into the spool
    file `name`; return its size (the only thing sent back to the parent). If the spool cannot
    take it (full, say), return the block itself, to go back through the pool's pipe."""
    block = chunk_fn(lines)
    pieces = [block] if isinstance(block, bytes) else block
    try:
        return write_spooled(spool, name, pieces)
    except OSError:
        log.warning("spool %s unusable; answers go back through the pipe", spool, exc_info=True)
        return b"".join(pieces)


def write_block(stream, block) -> None:
    """Append a block from answer_blocks (bytes, a list of pieces or a Spooled file) to `stream`."""
    if isinstance(block, Spooled):
        copy_spooled(block.spool, block.name, block.size, stream)
    elif isinstance(block, list):
        for piece in block:
            stream.write(piece)
    else:
        stream.write(block)


class WorkerDied(RuntimeError):
    """A worker process ended abnormally (a crash in native code) while answering some lines."""


def _chunks(lines: Iterator[bytes], cap: int) -> Iterator[list[bytes]]:
    """Consecutive chunks of 1, 2, 4, ... lines up to `cap`: small first, so that every process
    gets work at once however short the input, then large, for little IPC."""
    size = 1
    while True:
        chunk = list(itertools.islice(lines, size))
        if not chunk:
            return
        yield chunk
        size = min(cap, size * 2)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop the pool now: terminate its workers, cancel what is queued.

    A worker terminated while writing its result leaves half a message in the result pipe, and
    the executor's manager thread would wait for the rest for ever (and the interpreter, which
    joins that thread at exit, with it). Closing this process's own end of the pipe, once the
    workers are gone, lets that read end with EOF, so the manager thread ends."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    # (shutdown() forgets these: take them first)
    writer = getattr(getattr(pool, "_result_queue", None), "_writer", None)
    manager = getattr(pool, "_executor_manager_thread", None)
    for proc in processes:
        with contextlib.suppress(Exception):  # already gone
            proc.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        proc.join(timeout=2)
    if writer is not None:
        with contextlib.suppress(OSError):
            writer.close()
    if manager is not None:
        manager.join(timeout=2)


def answer_blocks(
    lines: Iterable[bytes],
    workers: int | None = None,
    *,
    chunk_fn=answer_chunk,
    total: int | None = None,
    spool: bool = False,
) -> Generator[tuple[int, bytes], None, None]:
    """(number of lines, output block) for consecutive chunks of `lines`, in order.

    A block is what `chunk_fn` returns for the chunk; with `spool`, when there are worker
    processes, it is a Spooled file instead (see engine.batch_io), which must be passed to
    write_block before the next block is asked for (its slot is then reused); the spool
    directory is removed when the generator ends.

    `lines` may be any iterable (it is read as the work goes, never all at once). Ordered chunks
    go to a process pool with a bounded number in flight (4 per process), so memory stays flat
    however long the input and output. A worker that dies (a native crash cannot be caught
    inside it) raises WorkerDied naming the lines concerned instead of hanging. If the
    consumer stops (an exception such as BatchInterrupted, or closing the generator), the
    workers are terminated at once.
    """
    processes = max(1, workers or os.cpu_count() or 1)
    it = iter(lines)
    head = list(itertools.islice(it, processes * 4))
    known = total if total is not None else (len(head) if len(head) < processes * 4 else None)
    if known is not None:
        processes = min(processes, max(1, known))
    cap = chunksize_for(known, processes) if known is not None else MAX_CHUNK
    chunks = _chunks(itertools.chain(head, it), cap)
    if processes == 1:
        init_worker()
        for chunk in chunks:
            yield len(chunk), chunk_fn(chunk)
        return
    pending: deque = deque()
    spool_dir = make_spool() if spool else None
    try:
        pool = ProcessPoolExecutor(
            max_workers=processes,
            mp_context=_context(),
            initializer=init_worker,
            initargs=(os.getpid(), spool_dir),
        )
    except BaseException:
        remove_spool(spool_dir)
        raise
    done = 0
    seq = itertools.count()
    slots = processes * 4  # chunks in flight at most: a slot is free again once its block is consumed
    try:

        def submit() -> None:
            chunk = next(chunks, None)
            if chunk is None:
                return
            if spool_dir is None:
                pending.append((len(chunk), None, pool.submit(chunk_fn, chunk)))
            else:
                name = str(next(seq) % slots)
                pending.append((len(chunk), name, pool.submit(spool_chunk, chunk_fn, spool_dir, name, chunk)))

        for _ in range(slots):
            submit()
        while pending:
            count, name, future = pending.popleft()
            try:
                block = future.result()
                if isinstance(block, int) and name is not None and spool_dir is not None:
                    block = Spooled(spool_dir, name, block)
            except BrokenProcessPool:
                raise WorkerDied(
                    f"a worker process died while answering lines {done + 1}-{done + count} or those "
                    f"after them (a crash in native code); lines before {done + 1} were answered"
                ) from None
            done += count
            yield count, block
            submit()  # only now: the consumer has written the block, so its spool slot is free
    except BaseException:
        _stop(pool)
        remove_spool(spool_dir)
        raise
    pool.shutdown(wait=True)
    remove_spool(spool_dir)


def rows_chunk(lines: list[bytes]) -> bytes:
    """Like answer_chunk, but each output line is the JSON list of the request's obligation rows
    (engine.render.table), or one error row; the row's `request` is filled in by the parent."""
    import json

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
    return b"".join(x + b"\n" for x in out)


def answers(lines: Iterable[bytes], workers: int | None = None) -> Iterator[str]:
    """The output lines (without newlines) for `lines`, in order."""
    for _, block in answer_blocks(lines, workers):
        yield from block.decode("utf-8").split("\n")[:-1]


class _Signals:
    """While active, SIGTERM (and SIGINT) raise BatchInterrupted in the main thread."""

    def __init__(self):
        self.saved: dict = {}
        self.answered = 0
        self.partial: str | None = None
        self._holding = False
        self._pending: int | None = None

    def _handler(self, signum, frame):
        if self._holding:  # inside `held()`: raised when the block it protects is written and recorded
            self._pending = signum
            return
        raise BatchInterrupted(signum, self.answered, self.partial)

    @contextlib.contextmanager
    def held(self):
        """A signal arriving inside is raised at its end, so a block's lines and the record of them (what
        --resume checks) are written together or not at all."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
        if self._pending is not None:
            raise BatchInterrupted(self._pending, self.answered, self.partial)

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                self.saved[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc):
        for sig, old in self.saved.items():
            signal.signal(sig, old)
        return False


def _is_path(source) -> bool:
    return source not in ("-", None) and not hasattr(source, "read")


def run_batch(
    in_path,
    out_path=None,
    progress: bool = False,
    workers: int | None = None,
    *,
    shard: tuple[int, int] | None = None,
    resume: bool = False,
    require_lines: bool = False,
) -> int:
    """Answer every line of `in_path` (a path, or "-" for stdin) into `out_path` (stdout when None).

    Returns 0 (the exit status for `medtech batch`): every line is answered, errors in place.
    `workers` is the number of processes (default: every core). A progress bar is drawn on stderr
    when `progress` is true. `shard=(K, N)` answers only the Kth of N contiguous parts of a file;
    `resume` continues the partial output of an interrupted run of the same command. With
    `require_lines`, an input without any line raises BatchInputError before anything is written.
    Raises WorkerDied if a worker process crashes and BatchInterrupted on SIGTERM/SIGINT, in
    both cases leaving `OUT.partial` for `resume`.
    """
    if shard is not None and not _is_path(in_path):
        raise BatchInputError("--shard needs an input file (its lines are counted first), not standard input")
    if resume and out_path in (None, "-"):
        raise BatchInputError("--resume needs -o OUT (it continues OUT.partial)")
    if out_path not in (None, "-"):
        check_output(in_path, out_path)  # before the input is opened: a FIFO's writer would wait for nothing
    # the input is opened once and read once, as a stream (a pipe, a FIFO, <(…) or stdin alike); only a
    # regular file is counted first (--shard, the progress bar's total) and sought back to its start
    source, close = open_input(in_path)  # BatchInputError now for a missing or unreadable file
    try:
        return _run_batch(in_path, source, out_path, progress, workers, shard, resume, require_lines)
    finally:
        if close:
            source.close()


def _run_batch(in_path, source, out_path, progress, workers, shard, resume, require_lines) -> int:
    regular = is_regular(source)
    name = in_path if _is_path(in_path) else "<stdin>"
    if shard is not None and not regular:
        raise BatchInputError(f"--shard needs an input file (its lines are counted first); {name} is a stream")
    total = count_lines(source) if (shard is not None or (progress and regular)) else None
    start, stop = shard_range(total or 0, *shard) if shard is not None else (0, None)
    if require_lines and is_empty(source):
        raise BatchInputError(f"{name}: empty input: no requests (expected one JSON request per line)")
    identity = None
    if out_path is None or out_path == "-":
        sys.stdout.flush()
        stream = getattr(sys.stdout, "buffer", None) or _TextSink(sys.stdout)
        output = None
    else:
        identity = input_identity(in_path, source, shard) if _is_path(in_path) else None
        output = open_output(in_path, out_path, shard=shard, resume=resume, identity=identity)
        stream = output.stream
        start += output.done
    todo = None if total is None else (stop if stop is not None else total) - start
    # a stream is identified by its lines (engine.batch_io.HashedLines): hashed as they are read, the
    # digest of those answered recorded after each block, checked on --resume in the same single pass
    hashed = None
    if output is not None and identity is None:  # a stream, or standard input (even from a file)
        hashed = HashedLines(read_lines(source, 0, None), output.done, output.expect)
        lines = iter(hashed)
    else:
        lines = read_lines(source, start, stop)
    bar = blocks = None
    with _Signals() as signals:
        signals.answered = output.done if output else 0
        signals.partial = str(output.partial) if output else None
        try:
            if progress:
                from tqdm import tqdm

                bar = tqdm(total=todo, file=sys.stderr, unit="req", desc="decisions", dynamic_ncols=True)
            blocks = answer_blocks(lines, workers, chunk_fn=answer_pieces, total=todo, spool=True)
            for count, block in blocks:
                with signals.held():
                    write_block(stream, block)
                    signals.answered += count
                    if hashed is not None and output is not None and output.meta is not None:
                        stream.flush()
                        record_stream(output.meta, signals.answered, hashed.digest(signals.answered))
                if bar is not None:
                    bar.update(count)
            if output is not None:
                output.finish()
            else:
                stream.flush()
        except BaseException:
            # stop the workers now (the signal may have come while this frame, not the generator, ran;
            # left to the garbage collector, the pool would first finish every chunk in flight)
            if blocks is not None:
                blocks.close()
            if output is not None:
                output.abandon()
            raise
        finally:
            if bar is not None:
                bar.close()
    return 0


def remove_pool_tempdir() -> None:
    """Remove the temporary directory multiprocessing made for this process (`pymp-*` in $TMPDIR,
    holding the forkserver's socket), which its exit handlers would remove on a normal exit: for the
    exits that skip them (`os._exit` after a signal)."""
    import shutil

    tempdir = getattr(mp.current_process(), "_config", {}).get("tempdir")  # multiprocessing.util.get_temp_dir's
    if tempdir:
        shutil.rmtree(tempdir, ignore_errors=True)


def run_rows(in_path, out_path=None, progress: bool = False, workers: int | None = None, *, fmt: str = "csv") -> int:
    """Like run_batch, but one row per obligation per request (engine.render.table) as `fmt` "csv" or
    "xlsx" instead of one response a line; the `request` column is the input line number (from 1), and a
    request that cannot be answered is one row with its errors (in Chinese). An xlsx is written whole at
    the end (to `out_path`, or to standard output); a csv is streamed."""
    to_stdout = out_path in (None, "-")
    # as for run_batch: -o naming the input, a device or a missing directory is refused, and the table
    # is written to OUT.partial, renamed to OUT (or the file its link names) when complete (removed
    # if the run is interrupted)
    final = None if to_stdout else check_output(in_path, out_path)
    source, close = open_input(in_path)  # once: read as a stream (engine.batch_io)
    try:
        if is_empty(source):
            name = in_path if _is_path(in_path) else "<stdin>"
            raise BatchInputError(f"{name}: empty input: no requests (expected one JSON request per line)")
        total = count_lines(source) if progress and is_regular(source) else None
        return _run_rows(source, final, to_stdout, progress, workers, fmt, total)
    finally:
        if close:
            source.close()


def _run_rows(source, final, to_stdout, progress, workers, fmt, total) -> int:
    import json

    from engine.render.table import XlsxWriter, csv_header, csv_rows

    sheet = XlsxWriter() if fmt == "xlsx" else None
    partial = None if final is None else final.with_name(final.name + ".partial")
    bar = None
    with contextlib.ExitStack() as stack, _Signals() as signals:
        out = None
        finished = [False]
        if sheet is not None:
            stack.callback(sheet.close)  # its temporary file, whatever happens
        if partial is not None:

            def discard() -> None:
                if not finished[0] and partial is not None:
                    partial.unlink(missing_ok=True)

            stack.callback(discard)
        if sheet is None:
            if to_stdout:
                sys.stdout.flush()
                out = getattr(sys.stdout, "buffer", None) or _TextSink(sys.stdout)
            else:
                out = stack.enter_context(open(partial, "wb"))  # type: ignore[arg-type]
            out.write(csv_header().encode("utf-8"))
        if progress:
            from tqdm import tqdm

            bar = stack.enter_context(
                tqdm(total=total, file=sys.stderr, unit="req", desc="decisions", dynamic_ncols=True)
            )
        n = 0
        blocks = answer_blocks(read_lines(source, 0, None), workers, chunk_fn=rows_chunk, total=total)
        try:
            for count, block in blocks:
                for text in block.decode("utf-8").split("\n")[:-1]:
                    n += 1
                    rows = json.loads(text)
                    for r in rows:
                        r["request"] = n
                    if sheet is not None:
                        sheet.add(rows)
                    elif out is not None:
                        out.write(csv_rows(rows).encode("utf-8"))
                signals.answered = n
                if bar is not None:
                    bar.update(count)
        except BaseException:
            blocks.close()
            raise
        if sheet is not None:
            if to_stdout:
                sys.stdout.flush()
                sys.stdout.buffer.write(sheet.to_bytes())
                sys.stdout.buffer.flush()
            else:
                sheet.save(partial)
        elif out is not None:
            out.flush()
        if partial is not None and final is not None:
            finished[0] = True
            stack.close()  # the file, written out, is closed first
            os.replace(partial, final)
    return 0


class _TextSink:
    def __init__(self, stream):
        self.stream = stream

    def write(self, block: bytes) -> None:
        self.stream.write(block.decode("utf-8"))

    def flush(self) -> None:
        self.stream.flush()
