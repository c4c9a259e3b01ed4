"""`medtech serve`: the HTTP service."""
from __future__ import annotations

import sys

from engine.cli.common import (
    BACKEND_HELP,
    _backends,
    _module,
    _positive,
    _use_backend,
)


def cmd_serve(args) -> int:
    _use_backend(args)
    if args.cors_origin:  # read by engine.service.cors in this process and in every worker
        import os
        os.environ["MEDTECH_CORS_ORIGINS"] = " ".join(args.cors_origin)
    service = _module("service.app", "the HTTP service")
    host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    host = f"[{host}]" if ":" in host else host
    print(f"medtech serve: 网页 http://{host}:{args.port}/ （在浏览器中打开；按 Ctrl+C 停止）", file=sys.stderr, flush=True)
    service.run(args.host, args.port, args.workers)
    return 0


def register(sub, juris: str) -> None:
    """Add this group's subcommands to the `medtech` parser."""
    s = sub.add_parser("serve", help="start the HTTP service")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=_positive, default=1, metavar="N", help="worker processes (default 1)")
    s.add_argument("--backend", choices=_backends(), default=None, help=BACKEND_HELP)
    s.add_argument("--cors-origin", action="append", default=None, metavar="ORIGIN",
                   help="allow browsers on this origin (e.g. https://intranet.example) to call the API; repeatable; off by default")
    s.set_defaults(func=cmd_serve)
