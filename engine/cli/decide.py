"""`medtech decide` and `medtech batch`: one request, or one a line."""

from __future__ import annotations

import json
import os
import sys

from engine.cli.common import (
    BACKEND_HELP,
    UsageError,
    _backends,
    _kb_sound,
    _module,
    _out,
    _positive,
    _read_request,
    _use_backend,
)
from engine.render.exports import BATCH_FORMATS, DECIDE_FORMATS, EXPORTS


def cmd_decide(args) -> int:
    from engine import InvalidRequest, decide

    request = _read_request(args.file)
    if not _kb_sound():
        return 1
    try:
        response = decide(request)
    except InvalidRequest as exc:
        # tools (--format json) get the engine's messages; people get them in Chinese, same `PATH: message` form
        from engine.render.errors import error_line

        for e in exc.errors:
            line = f"{e['path'] or '(request)'}: {e['message']}" if args.format == "json" else error_line(e)
            print(line, file=sys.stderr)
        return 2
    if args.format == "json":
        text = json.dumps(response, ensure_ascii=False, indent=2, sort_keys=False)
        if args.output:
            _write(args.output, (text + "\n").encode("utf-8"))
        else:
            _out(text)
        return 0
    from engine.render.exports import render_export

    body, _, _ = render_export(
        response, args.format, request=request if isinstance(request, dict) else None, full=args.full
    )
    if args.output:
        _write(args.output, body)
    elif EXPORTS[args.format].binary:
        if sys.stdout.isatty():
            raise UsageError(f"--format {args.format} 是二进制文件，请用 -o 文件名 保存")
        sys.stdout.flush()
        sys.stdout.buffer.write(body)
        sys.stdout.buffer.flush()
    else:
        _out(body.decode("utf-8").rstrip("\n"))
    return 0


def _write(path: str, body: bytes) -> None:
    try:
        with open(path, "wb") as fh:
            fh.write(body)
    except OSError as exc:
        raise UsageError(f"{path}: 无法写入（{exc.strerror or exc}）") from None


def cmd_batch(args) -> int:
    _use_backend(args)
    batch = _module("batch", "batch decisions")
    if not _kb_sound():
        return 1
    from engine.batch_io import parse_shard
    from engine.errors import BatchInputError, BatchInterrupted

    try:
        shard = parse_shard(args.shard) if args.shard else None
    except ValueError as exc:
        raise UsageError(f"--shard: {exc}") from None
    if args.format != "jsonl" and (shard or args.resume):
        raise UsageError(f"--format {args.format} 不能与 --shard 或 --resume 同用（按义务逐行的表格一次写成）")
    if args.format == "xlsx" and args.output in (None, "-") and sys.stdout.isatty():
        raise UsageError("xlsx 是二进制文件，请用 -o 文件名 保存")
    try:
        if args.format != "jsonl":
            return int(batch.run_rows(args.input, args.output, sys.stderr.isatty(), args.workers, fmt=args.format) or 0)
        return int(
            batch.run_batch(
                args.input,
                args.output,
                sys.stderr.isatty(),
                args.workers,
                shard=shard,
                resume=args.resume,
                require_lines=True,
            )
            or 0
        )
    except BatchInputError as exc:
        raise UsageError(str(exc)) from None
    except BatchInterrupted as exc:
        print(f"medtech: batch {exc}", file=sys.stderr)
        # the partial output is closed; exit now rather than wait for the interpreter's clean-up
        # of the process pool, which a worker killed mid-message can leave waiting
        sys.stdout.flush()
        sys.stderr.flush()
        batch.remove_pool_tempdir()  # os._exit skips the handler that would remove it
        os._exit(128 + exc.signum)


def register(sub, juris: str) -> None:
    """Add this group's subcommands to the `medtech` parser."""
    s = sub.add_parser("decide", help="answer one decision request (JSON or YAML)")
    s.add_argument("file", nargs="?", default="-", metavar="FILE", help="request file; - or nothing for standard input")
    s.add_argument(
        "--format",
        choices=DECIDE_FORMATS,
        default="text",
        help="text (Chinese, default), json, md or docx (合规意见 memo), csv (one row per obligation), "
        "ics (calendar reminders)",
    )
    s.add_argument("--full", action="store_true", help="text: add the quoted provisions, consequences and reasoning")
    s.add_argument("-o", "--output", metavar="FILE", default=None, help="write to FILE (needed for docx on a terminal)")
    s.set_defaults(func=cmd_decide)

    s = sub.add_parser(
        "batch",
        help="one request a line in, one response a line out",
        description='One request a line in, one response (or {"errors": [...]}) a line out, same order. '
        "With -o, answers are written to OUT.partial and renamed to OUT when complete; on SIGTERM "
        "or Ctrl-C the workers stop, OUT.partial is kept and the exit status is 128 + the signal "
        "number (143, 130); --resume finishes the run. Exit 2 for an unusable input or output.",
    )
    s.add_argument("input", metavar="IN.jsonl")
    s.add_argument("-o", "--output", metavar="OUT", default=None, help="default: standard output (xlsx needs a file)")
    s.add_argument(
        "--format",
        choices=BATCH_FORMATS,
        default="jsonl",
        help="jsonl (one response a line, default), csv or xlsx (one row per obligation per request)",
    )
    s.add_argument("--workers", type=_positive, default=None, metavar="N")
    s.add_argument("--backend", choices=_backends(), default=None, help=BACKEND_HELP)
    s.add_argument(
        "--shard",
        metavar="K/N",
        default=None,
        help="answer only the Kth of N contiguous parts of the input (1 <= K <= N); the outputs of "
        "shards 1..N, concatenated in order, are the output of the whole input",
    )
    s.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run: keep the answers in OUT.partial and answer the remaining lines",
    )
    s.set_defaults(func=cmd_batch)
