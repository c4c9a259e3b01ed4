"""`medtech serve`: the HTTP service."""

from __future__ import annotations

import sys

from engine.cli.common import (
    BACKEND_HELP,
    _backends,
    _kb_sound,
    _module,
    _positive,
    _use_backend,
)

EXIT_CANNOT_LISTEN = 3  # documented in docs/scaling.md and `medtech serve --help`


def _check_listen(host: str, port: int) -> None:
    """Fail with a clear message (exit 3) when (host, port) cannot be listened on: the port is
    busy, needs privileges, or the host is not an address of this machine. Bound and released
    at once; uvicorn binds it again (with SO_REUSEADDR, as here) a moment later."""
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ListenError(f"serve: cannot listen on {host}:{port}: unknown host ({exc.strerror})") from None
    family, kind, proto, _, addr = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(addr)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                why = "the port is already in use (another `medtech serve`?); choose another with --port"
            elif exc.errno == errno.EACCES:
                why = "permission denied (ports below 1024 need privileges); choose another with --port"
            elif exc.errno == errno.EADDRNOTAVAIL:
                why = "the address is not one of this machine's; check --host"
            else:
                why = exc.strerror or str(exc)
            raise ListenError(f"serve: cannot listen on {host}:{port}: {why}") from None


class ListenError(Exception):
    """The service cannot listen where asked (exit 3)."""


def cmd_serve(args) -> int:
    _use_backend(args)
    if args.cors_origin:  # read by engine.service.cors in this process and in every worker
        import os

        os.environ["MEDTECH_CORS_ORIGINS"] = " ".join(args.cors_origin)
    service = _module("service.app", "the HTTP service")
    if not _kb_sound():
        return 1
    try:
        _check_listen(args.host, args.port)
    except ListenError as exc:
        print(f"medtech: {exc}", file=sys.stderr)
        return EXIT_CANNOT_LISTEN
    host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    host = f"[{host}]" if ":" in host else host
    print(
        f"medtech serve: 网页 http://{host}:{args.port}/ （在浏览器中打开；按 Ctrl+C 停止）",
        file=sys.stderr,
        flush=True,
    )
    try:
        service.run(args.host, args.port, args.workers, access_log=args.access_log)
    except SystemExit as exc:  # uvicorn exits 3 when start-up fails (e.g. the port was taken meanwhile)
        return int(exc.code) if isinstance(exc.code, int) else EXIT_CANNOT_LISTEN
    return 0


def register(sub, juris: str) -> None:
    """Add this group's subcommands to the `medtech` parser."""
    s = sub.add_parser(
        "serve",
        help="start the HTTP service",
        description="Start the HTTP service. Exit status 1 when the knowledge base fails `medtech kb check` "
        "(the problems on stderr), 3 when it cannot listen on --host/--port "
        "(port in use, no permission, unknown address), with the reason on stderr. Connection limits: "
        "MEDTECH_MAX_HEADER_BYTES, MEDTECH_HEADER_TIMEOUT, MEDTECH_BODY_TIMEOUT, MEDTECH_SEND_TIMEOUT "
        "(docs/scaling.md).",
    )
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=_positive, default=1, metavar="N", help="worker processes (default 1)")
    s.add_argument("--backend", choices=_backends(), default=None, help=BACKEND_HELP)
    s.add_argument(
        "--access-log",
        action="store_true",
        help="log every request (uvicorn's access log) on stdout; off by default (it costs throughput)",
    )
    s.add_argument(
        "--cors-origin",
        action="append",
        default=None,
        metavar="ORIGIN",
        help="allow browsers on this origin (e.g. https://intranet.example) to call the API; repeatable; off by default",
    )
    s.set_defaults(func=cmd_serve)
