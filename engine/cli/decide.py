"""`medtech decide` and `medtech batch`: one request, or one a line."""
from __future__ import annotations

import json
import os
import sys

from engine.cli.common import (
    BACKEND_HELP,
    UsageError,
    _backends,
    _module,
    _out,
    _positive,
    _read_request,
    _use_backend,
)

DECIDE_FORMATS = ("text", "json")


def cmd_decide(args) -> int:
    from engine import InvalidRequest, decide
    request = _read_request(args.file)
    try:
        response = decide(request)
    except InvalidRequest as exc:
        for e in exc.errors:
            print(f"{e['path'] or '(request)'}: {e['message']}", file=sys.stderr)
        return 2
    if args.format == "json":
        _out(json.dumps(response, ensure_ascii=False, indent=2, sort_keys=False))
    else:
        from engine.render.text import render_text
        _out(render_text(response))
    return 0


def cmd_batch(args) -> int:
    _use_backend(args)
    batch = _module("batch", "batch decisions")
    from engine.batch_io import parse_shard
    from engine.errors import BatchInputError, BatchInterrupted
    try:
        shard = parse_shard(args.shard) if args.shard else None
    except ValueError as exc:
        raise UsageError(f"--shard: {exc}") from None
    try:
        return int(batch.run_batch(args.input, args.output, sys.stderr.isatty(), args.workers, shard=shard,
                                   resume=args.resume, require_lines=True) or 0)
    except BatchInputError as exc:
        raise UsageError(str(exc)) from None
    except BatchInterrupted as exc:
        print(f"medtech: batch {exc}", file=sys.stderr)
        # the partial output is closed; exit now rather than wait for the interpreter's clean-up
        # of the process pool, which a worker killed mid-message can leave waiting
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(128 + exc.signum)


def register(sub, juris: str) -> None:
    """Add this group's subcommands to the `medtech` parser."""
    s = sub.add_parser("decide", help="answer one decision request (JSON or YAML)")
    s.add_argument("file", nargs="?", default="-", metavar="FILE", help="request file; - or nothing for standard input")
    s.add_argument("--format", choices=DECIDE_FORMATS, default="text", help="text (Chinese, default) or json")
    s.set_defaults(func=cmd_decide)

    s = sub.add_parser("batch", help="one request a line in, one response a line out",
                       description="One request a line in, one response (or {\"errors\": [...]}) a line out, same order. "
                                   "With -o, answers are written to OUT.partial and renamed to OUT when complete; on SIGTERM "
                                   "or Ctrl-C the workers stop, OUT.partial is kept and the exit status is 128 + the signal "
                                   "number (143, 130); --resume finishes the run. Exit 2 for an unusable input or output.")
    s.add_argument("input", metavar="IN.jsonl")
    s.add_argument("-o", "--output", metavar="OUT.jsonl", default=None, help="default: standard output")
    s.add_argument("--workers", type=_positive, default=None, metavar="N")
    s.add_argument("--backend", choices=_backends(), default=None, help=BACKEND_HELP)
    s.add_argument("--shard", metavar="K/N", default=None,
                   help="answer only the Kth of N contiguous parts of the input (1 <= K <= N); the outputs of "
                        "shards 1..N, concatenated in order, are the output of the whole input")
    s.add_argument("--resume", action="store_true",
                   help="continue an interrupted run: keep the answers in OUT.partial and answer the remaining lines")
    s.set_defaults(func=cmd_batch)
