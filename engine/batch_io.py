"""Files of `medtech batch`: streaming the input, sharding it, and writing the output safely.

Input. The input is opened once and read once, as a stream, whatever it is (a file, a pipe, a
FIFO, process substitution, standard input); only a regular file named by its path is counted
first (for `--shard` and the progress bar's total) and sought back. A line longer than `MAX_SKIP`
(16 MiB: /dev/zero, a disk image) stops the run with an error. Lines are read one at a time (the
parent never holds the file): split on LF only (U+2028
may occur inside JSON strings), a CR before the LF dropped, a UTF-8 byte-order mark at the start
ignored, and a final newline does not start another line. A line longer than `MAX_LINE` bytes is
not kept: it is passed on as `TOO_LONG` and answered with an error in place.

Shards. `--shard K/N` takes the Kth of N contiguous, near-equal ranges of the input's lines
(line counts differ by at most one), so that concatenating the outputs of shards 1..N in order
gives exactly the output of the whole input. The lines are counted first (one fast pass).

Output. Answers go to `OUT.partial` next to `OUT`, renamed to `OUT` only when every line is
answered, so a previous `OUT` is intact until then and a killed run never leaves a half-written
`OUT`. `OUT.partial.json` records which input (path, size, modification time, taken from the
descriptor being read) and shard the partial output belongs to, or for a stream the number of
lines answered and their sha256 (`HashedLines`: hashed as they are read, recorded after each block,
checked by the resumed run in its single pass over the stream); `--resume` checks it, keeps the complete lines of `OUT.partial` (a
line cut off by the kill is dropped) and answers only the lines after them.

Spool. Answers are large (40-80 KB of JSON each), so workers do not send them back through the
process pool's pipe (pickled, copied four times, and read by the parent, which shares the cores
with the workers): each worker writes its chunk of answers to a slot file in a spool directory
(in /dev/shm, memory, when there is one) and returns only its size; the parent copies that many
bytes into the output inside the kernel (`sendfile`). A slot is reused (overwritten from its
start, so its pages are neither freed nor zeroed again) once the parent has copied it: there are
as many slots as chunks in flight. The spool directory is removed at the end of the run, by a
worker's watchdog if the parent is killed, and at the start of a later run if everything was
killed (its name carries the parent's process id).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from engine.errors import BatchInputError
from engine.requestio import MAX_REQUEST_BYTES

MAX_LINE = MAX_REQUEST_BYTES  # as the HTTP service and `medtech decide` accept
# a "line" longer than this is no JSON-lines input at all (/dev/zero, a disk image): the run stops
# with an error instead of reading on without end
MAX_SKIP = 16 * MAX_LINE
TOO_LONG = b"\x00too-long"  # stands for a line over MAX_LINE (no JSON text starts with NUL)
_BLOCK = 1 << 20


# --------------------------------------------------------------------------- input


def open_input(source) -> tuple[IO[bytes], bool]:
    """(binary stream, whether to close it) for a path, "-"/None (stdin) or an open stream."""
    if source in ("-", None):
        return sys.stdin.buffer, False
    if hasattr(source, "read"):
        return source, False
    try:
        return open(source, "rb"), True
    except FileNotFoundError:
        raise BatchInputError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise BatchInputError(f"{source}: is a directory, not a JSON-lines file") from None
    except OSError as exc:
        raise BatchInputError(f"{source}: cannot read: {exc.strerror or exc}") from None


def is_regular(fh) -> bool:
    """True when the open input is a regular file (which can be counted, sharded and resumed);
    False for a pipe, a FIFO, process substitution, a terminal or a device, read once as a stream."""
    import stat

    try:
        return stat.S_ISREG(os.fstat(fh.fileno()).st_mode)
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
        return False


def is_empty(fh) -> bool:
    """True when the open input has no byte at all; nothing is consumed (peeked at, or read and
    sought back on a regular file)."""
    peek = getattr(fh, "peek", None)
    if peek is not None:
        return not peek(1)
    if is_regular(fh):
        empty = not fh.read(1)
        fh.seek(0)
        return empty
    return False


def _raw_lines(fh: IO[bytes]) -> Iterator[bytes]:
    first = True
    while True:
        line = fh.readline(MAX_LINE + 1)
        if not line:
            return
        if isinstance(line, str):  # a text stream (tests may pass one)
            line = line.encode("utf-8")
        if len(line) > MAX_LINE and not line.endswith(b"\n"):
            skipped = len(line)
            while line and not line.endswith(b"\n"):  # skip the rest of the long line, a block at a time
                line = fh.readline(_BLOCK)
                skipped += len(line)
                if skipped > MAX_SKIP:
                    raise BatchInputError(
                        f"input: a line longer than {MAX_SKIP // (1 << 20)} MiB without a line break: "
                        "this is not a JSON-lines file (one request a line)"
                    )
            first = False
            yield TOO_LONG
            continue
        if first and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        first = False
        if line.endswith(b"\n"):
            line = line[:-1]
        yield line[:-1] if line.endswith(b"\r") else line


def read_lines(source, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
    """Input lines `start` (0-based) up to `stop` (excluded; None: to the end), streamed."""
    fh, close = open_input(source)
    try:
        for i, line in enumerate(_raw_lines(fh)):
            if stop is not None and i >= stop:
                return
            if i >= start:
                yield line
    finally:
        if close:
            fh.close()


def count_lines(path) -> int:
    """The number of input lines of a file, as `read_lines` counts them (one fast pass); an open
    regular file is sought back to its start afterwards, for the lines to be read from it."""
    fh, close = open_input(path)
    n, last = 0, b"\n"
    try:
        while True:
            block = fh.read(_BLOCK)
            if not block:
                break
            n += block.count(b"\n")
            last = block[-1:]
    finally:
        if close:
            fh.close()
        else:
            with contextlib.suppress(OSError, ValueError):
                fh.seek(0)
    return n + (last != b"\n")


# --------------------------------------------------------------------------- shards


def parse_shard(text: str) -> tuple[int, int]:
    """`K/N` -> (K, N) with 1 <= K <= N; ValueError otherwise."""
    try:
        k, n = (int(p) for p in text.split("/"))
    except ValueError:
        raise ValueError(f"{text!r} is not K/N (for example 2/4: the second of four shards)") from None
    if not 1 <= k <= n:
        raise ValueError(f"{text!r}: K must be between 1 and N")
    return k, n


def shard_range(total: int, k: int, n: int) -> tuple[int, int]:
    """[start, stop) of the Kth of N contiguous shards of `total` lines."""
    return (k - 1) * total // n, k * total // n


# --------------------------------------------------------------------------- output


@dataclass
class Output:
    """Where answers go: a binary stream, and for a file the partial file to rename at the end."""

    stream: IO[bytes]
    path: Path | None = None
    partial: Path | None = None
    meta: Path | None = None
    done: int = 0  # lines already answered in the partial file (resume)
    expect: str | None = None  # a resumed stream: the digest of its first `done` lines

    def finish(self) -> None:
        """Flush; for a file, move the complete partial file into place."""
        self.stream.flush()
        if self.path is not None and self.partial is not None and self.meta is not None:
            os.fsync(self.stream.fileno())
            self.stream.close()
            os.replace(self.partial, self.path)
            self.meta.unlink(missing_ok=True)

    def abandon(self) -> None:
        """Flush and close what was written so far, leaving the partial file for --resume."""
        try:
            self.stream.flush()
        finally:
            if self.path is not None:
                self.stream.close()


def input_identity(source, fh, shard: tuple[int, int] | None) -> dict | None:
    """What `--resume` checks the partial output against: the input file (path, size, modification
    time, from the descriptor being read: no second open) and the shard; None for a stream, which
    cannot be read again."""
    if not is_regular(fh):
        return None
    st = os.fstat(fh.fileno())
    return {
        "input": os.path.realpath(source),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "shard": list(shard) if shard else None,
    }


def check_output(source, out_path) -> Path:
    """The path answers are written to: `out_path`, or the file an existing symbolic link names (the
    link is kept and its target replaced, atomically). Refused (BatchInputError) when it is the
    input itself, its directory does not exist, or it exists and is not a regular file (a device
    such as /dev/null, a FIFO, a socket, a directory): only a regular file or a new path is
    replaced, by renaming the complete output onto it."""
    import stat

    out = Path(out_path)
    if out.is_symlink():
        out = Path(os.path.realpath(out))
    with contextlib.suppress(FileNotFoundError):
        mode = os.stat(out).st_mode
        if stat.S_ISDIR(mode):
            raise BatchInputError(f"-o {out_path}: is a directory")
        if not stat.S_ISREG(mode):
            kind = "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file"
            raise BatchInputError(
                f"-o {out_path}: is {kind}; -o takes a regular file or a new path "
                "(leave -o out to write to standard output)"
            )
    if source not in ("-", None) and not hasattr(source, "read"):
        same = os.path.realpath(source) == os.path.realpath(out)
        with contextlib.suppress(OSError):
            same = same or (out.exists() and os.path.samefile(source, out))
        if same:
            raise BatchInputError(
                f"-o {out_path}: is the input file; answers would overwrite the requests (choose another file)"
            )
    parent = out.resolve().parent
    if not parent.is_dir():
        raise BatchInputError(f"-o {out_path}: directory {parent} does not exist")
    if out.is_dir():
        raise BatchInputError(f"-o {out_path}: is a directory")
    if not os.access(parent, os.W_OK):
        raise BatchInputError(f"-o {out_path}: cannot write in directory {parent} (permission denied)")
    return out


STREAM = "<stream>"  # the `input` of a stream's record: identified by its lines' digest (HashedLines)


class HashedLines:
    """Input lines read once, hashed as they go: `digest(n)` is the sha256 of the first n lines for
    any n the output has reached (the state after each line is kept only until then). With
    `start` and `expect`, the first `start` lines are checked against `expect` (a resumed stream
    must begin with the lines already answered) and not yielded."""

    def __init__(self, lines: Iterator[bytes], start: int = 0, expect: str | None = None):
        import collections
        import hashlib

        self.lines, self.start, self.expect = lines, start, expect
        self.hasher = hashlib.sha256()
        self.states: collections.deque = collections.deque([(0, self.hasher.hexdigest())])

    def __iter__(self) -> Iterator[bytes]:
        n = 0
        for line in self.lines:
            self.hasher.update(len(line).to_bytes(8, "little"))
            self.hasher.update(line)
            n += 1
            if n < self.start:
                continue
            self.states.append((n, self.hasher.hexdigest()))
            if n == self.start:
                if self.expect is not None and self.states[-1][1] != self.expect:
                    raise BatchInputError(
                        f"--resume: the input's first {n} line(s) are not those the partial output answers; "
                        "run without --resume to start again"
                    )
                continue
            yield line
        if n < self.start:
            raise BatchInputError(
                f"--resume: the input has {n} line(s), fewer than the {self.start} already answered; "
                "run without --resume to start again"
            )

    def digest(self, n: int) -> str | None:
        """The digest of the first `n` lines (None when it is no longer, or not yet, known)."""
        while len(self.states) > 1 and self.states[0][0] < n:
            self.states.popleft()
        return self.states[0][1] if self.states[0][0] == n else None


def record_stream(meta: Path, answered: int, digest: str | None) -> None:
    """Record what a stream's partial output answers (its first `answered` lines and their digest),
    for `--resume` on the same stream; written atomically."""
    if digest is None:
        return
    tmp = meta.with_name(meta.name + ".tmp")
    tmp.write_text(json.dumps({"input": STREAM, "shard": None, "lines": answered, "sha256": digest}), encoding="utf-8")
    os.replace(tmp, meta)


def open_output(
    source, out_path, *, shard: tuple[int, int] | None = None, resume: bool = False, identity: dict | None = None
) -> Output:
    """Open the partial file for `out_path` (fresh, or continued with `resume`); `identity` is the
    input's (input_identity), None for a stream (whose record is its lines' digest, `record_stream`:
    `Output.expect` is then the digest the resumed stream's first `Output.done` lines must have)."""
    out = check_output(source, out_path)
    partial, meta = out.with_name(out.name + ".partial"), out.with_name(out.name + ".partial.json")
    if resume and partial.exists():
        try:
            recorded = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            recorded = None
        if identity is None and isinstance(recorded, dict) and recorded.get("input") == STREAM:
            return _resume_stream(out, partial, meta, recorded)
        if identity is None or recorded != identity:
            raise BatchInputError(
                f"--resume: {partial} was not written for this input{' and shard' if shard else ''} "
                f"(or its record {meta.name} is missing); run without --resume to start again"
            )
        with open(partial, "r+b") as fh:
            data_end = _last_complete_line_end(fh)
            fh.truncate(data_end)
        # not "ab": sendfile (engine.batch_io.copy_spooled) refuses a descriptor opened O_APPEND
        resumed = open(partial, "r+b")  # noqa: SIM115 - closed by Output.finish or Output.abandon
        resumed.seek(0, os.SEEK_END)
        done = _count_newlines(partial)
        return Output(resumed, out, partial, meta, done)
    try:
        stream = open(partial, "wb")  # noqa: SIM115 - closed by Output.finish or Output.abandon
    except OSError as exc:
        raise BatchInputError(f"-o {out_path}: cannot write {partial}: {exc.strerror or exc}") from None
    if identity is not None:
        meta.write_text(json.dumps(identity), encoding="utf-8")
    else:
        meta.unlink(missing_ok=True)
    return Output(stream, out, partial, meta, 0)


def _resume_stream(out: Path, partial: Path, meta: Path, recorded: dict) -> Output:
    """The partial output of a stream, cut to the lines its record vouches for."""
    lines = int(recorded.get("lines") or 0)
    end = 0
    with open(partial, "rb") as fh:
        for _ in range(lines):
            line = fh.readline()
            if not line.endswith(b"\n"):
                raise BatchInputError(
                    f"--resume: {partial} holds fewer lines than its record says; run without --resume"
                )
            end += len(line)
    os.truncate(partial, end)  # what was written after the record (a block cut by the signal) goes
    resumed = open(partial, "r+b")  # noqa: SIM115 - closed by Output.finish or Output.abandon
    resumed.seek(0, os.SEEK_END)
    output = Output(resumed, out, partial, meta, lines)
    output.expect = recorded.get("sha256")
    return output


def _last_complete_line_end(fh: IO[bytes]) -> int:
    """The offset just after the last newline of the file (0 when there is none)."""
    end = fh.seek(0, os.SEEK_END)
    pos = end
    while pos > 0:
        step = min(_BLOCK, pos)
        fh.seek(pos - step)
        block = fh.read(step)
        i = block.rfind(b"\n")
        if i >= 0:
            return pos - step + i + 1
        pos -= step
    return 0


def _count_newlines(path: Path) -> int:
    n = 0
    with open(path, "rb") as fh:
        while block := fh.read(_BLOCK):
            n += block.count(b"\n")
    return n


# --------------------------------------------------------------------------- spool

_SPOOL_PREFIX = "medtech-batch-spool-"
_IOV_MAX = 1024  # iovecs per writev call (Linux's limit; any POSIX system allows at least 16)


_SPOOL_ROOM = 512 << 20  # free space wanted in /dev/shm (the slots take ~80 MB with two workers)


def _spool_base() -> str:
    """/dev/shm when it is writable and has room (a container's may be 64 MB), else the temporary directory."""
    shm = "/dev/shm"
    with contextlib.suppress(OSError):
        st = os.statvfs(shm)
        if os.access(shm, os.W_OK | os.X_OK) and st.f_bavail * st.f_frsize >= _SPOOL_ROOM:
            return shm
    return tempfile.gettempdir()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: not ours to judge
        return True
    return True


def make_spool() -> str:
    """A new, private spool directory for this process's run; spool directories left by runs whose
    parent no longer exists (everything killed with SIGKILL) are removed first."""
    base = _spool_base()
    with contextlib.suppress(OSError):
        for entry in os.scandir(base):
            pid = entry.name[len(_SPOOL_PREFIX) :].split("-", 1)[0]
            ours = entry.name.startswith(_SPOOL_PREFIX) and pid.isdigit() and entry.is_dir(follow_symlinks=False)
            if ours and int(pid) != os.getpid() and not _pid_alive(int(pid)):
                shutil.rmtree(entry.path, ignore_errors=True)
    return tempfile.mkdtemp(prefix=f"{_SPOOL_PREFIX}{os.getpid()}-", dir=base)


def remove_spool(spool: str | None) -> None:
    """Remove a spool directory and whatever is still in it."""
    if spool:
        shutil.rmtree(spool, ignore_errors=True)


def write_spooled(spool: str, name: str, pieces: list[bytes]) -> int:
    """Write `pieces` one after the other from the start of the slot file `name` in `spool` (what
    lies beyond them, from an earlier use of the slot, is left: the size returned says where the
    block ends)."""
    fd = os.open(os.path.join(spool, name), os.O_WRONLY | os.O_CREAT, 0o600)
    size = 0
    try:
        for i in range(0, len(pieces), _IOV_MAX):
            group = pieces[i : i + _IOV_MAX]
            want = sum(map(len, group))
            n = os.pwritev(fd, group, size)
            if n < want:  # a short write (rare on a local file): write the rest piece by piece
                rest = memoryview(b"".join(group))[n:]
                while rest:
                    rest = rest[os.pwrite(fd, rest, size + want - len(rest)) :]
            size += want
    finally:
        os.close(fd)
    return size


def copy_spooled(spool: str, name: str, size: int, stream) -> None:
    """Append the first `size` bytes of the slot file `name` to `stream`. Copied inside the kernel
    (sendfile) when `stream` has a file descriptor; read and written otherwise."""
    with open(os.path.join(spool, name), "rb") as src:
        done = 0
        fileno = None
        with contextlib.suppress(AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
            fileno = stream.fileno()
        if fileno is not None:
            stream.flush()  # what the stream buffered goes first
            with contextlib.suppress(OSError):  # sendfile refused for this descriptor: copy below
                while done < size:
                    sent = os.sendfile(fileno, src.fileno(), done, size - done)
                    if sent == 0:
                        break
                    done += sent
        src.seek(done)
        while done < size:
            block = src.read(min(_BLOCK, size - done))
            if not block:
                raise OSError(f"spool file {name} is shorter than {size} bytes")
            stream.write(block)
            done += len(block)
