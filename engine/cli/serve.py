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
        raise ListenError(
            f"serve: 无法在 {host}:{port} 上启动服务：找不到该主机地址，请检查 --host（unknown host: {exc.strerror}）"
        ) from None
    family, kind, proto, _, addr = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(addr)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                why = (
                    f"端口 {port} 已被占用（可能已有一个 medtech serve 在运行），请用 --port 换一个端口"
                    "（the port is already in use）"
                )
            elif exc.errno == errno.EACCES:
                why = "没有权限（1024 以下的端口需要管理员权限），请用 --port 换一个端口（permission denied）"
            elif exc.errno == errno.EADDRNOTAVAIL:
                why = "该地址不属于本机，请检查 --host（the address is not one of this machine's）"
            else:
                why = exc.strerror or str(exc)
            raise ListenError(f"serve: 无法在 {host}:{port} 上启动服务：{why}") from None


class ListenError(Exception):
    """The service cannot listen where asked (exit 3)."""


def cmd_serve(args) -> int:
    _use_backend(args)
    if args.cors_origin:  # read by engine.service.cors in this process and in every worker
        import os

        os.environ["MEDTECH_CORS_ORIGINS"] = " ".join(args.cors_origin)
    if args.log_format == "json" or args.log_bodies:  # read by engine.service.correlation in every worker
        import os

        os.environ["MEDTECH_LOG_FORMAT"] = args.log_format
        os.environ["MEDTECH_LOG_BODIES"] = "1" if args.log_bodies else ""
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
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="json: one JSON line per request on stderr (request id, trace id, route, status, latency, decision id, "
        "digest, verdict action); text (default): no line of ours",
    )
    s.add_argument(
        "--log-bodies",
        action="store_true",
        help="with --log-format json, add the request and response bodies (up to 64 KiB each) to each line; "
        "off by default (they hold what the caller sent)",
    )
    s.add_argument(
        "--cors-origin",
        action="append",
        default=None,
        metavar="ORIGIN",
        help="allow browsers on this origin (e.g. https://intranet.example) to call the API; repeatable; off by default",
    )
    s.set_defaults(func=cmd_serve)
