"""Compression of the HTTP service's answers by `Accept-Encoding` (ASGI middleware).

`br` (the brotli package) when the client accepts it and the package is installed, else `gzip` (the
standard library), else the answer as it is. The levels are chosen for CPU per request: on the README's
case (a 79 KB answer) brotli quality 4 gives 7.6 KB in 0.3-0.5 ms, gzip level 4 10.8 KB in 0.9-1.3 ms
(level 6: 10 % smaller, a third slower), next to a decision of a fraction of a millisecond
(benchmarks/compact.py prints the sizes of every form).

Every compressible answer (JSON, NDJSON, text, CSV, calendar, Markdown, SVG, YAML, JavaScript) of at
least `MIN_SIZE` bytes is compressed, the fast path's (engine.service.fastpath) and streamed batches
included (each streamed piece is flushed, so a client reads answers as they come). The answer then
says `Content-Encoding`, `Vary: Accept-Encoding`, and its ETag becomes weak (`W/"…"`): the bytes differ,
the content does not.
"""

from __future__ import annotations

import gzip
import zlib

try:
    import brotli  # type: ignore[import-untyped]  # no stubs published for brotli
except ImportError:  # pragma: no cover - brotli is a declared dependency; gzip serves without it
    brotli = None

MIN_SIZE = 512  # smaller answers are sent as they are: the encoding would cost more than it saves
GZIP_LEVEL = 4
BROTLI_QUALITY = 4
_COMPRESSIBLE = (
    "application/json",
    "application/x-ndjson",
    "application/yaml",
    "application/javascript",
    "text/",
    "image/svg+xml",
)


def choose_encoding(accept_encoding: str) -> str | None:
    """`br`, `gzip` or None for an Accept-Encoding value (q=0 refuses; the server prefers br)."""
    offered: dict[str, float] = {}
    for part in accept_encoding.lower().split(","):
        name, _, params = part.strip().partition(";")
        q = 1.0
        for p in params.split(";"):
            key, _, value = p.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if name:
            offered[name.strip()] = q
    star = offered.get("*", 0.0)
    for name in ("br", "gzip") if brotli is not None else ("gzip",):
        if offered.get(name, star) > 0:
            return name
    return None


class _Encoder:
    """A streaming compressor: `chunk` for each piece (flushed, so it can be sent at once), `finish` at the end."""

    def __init__(self, encoding: str):
        self.encoding = encoding
        if encoding == "br":
            self._br = brotli.Compressor(quality=BROTLI_QUALITY)
        else:
            self._gz = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip container

    def chunk(self, data: bytes) -> bytes:
        if self.encoding == "br":
            return self._br.process(data) + self._br.flush()
        return self._gz.compress(data) + self._gz.flush(zlib.Z_SYNC_FLUSH)

    def finish(self) -> bytes:
        return self._br.finish() if self.encoding == "br" else self._gz.flush(zlib.Z_FINISH)


def compress(data: bytes, encoding: str) -> bytes:
    """`data` compressed whole with `encoding` (br or gzip)."""
    if encoding == "br":
        return brotli.compress(data, quality=BROTLI_QUALITY)
    return gzip.compress(data, GZIP_LEVEL, mtime=0)  # mtime 0: the same answer gives the same bytes


def compressible(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether an answer with these headers is compressed: a compressible media type, not already encoded."""
    media = b""
    for name, value in headers:
        if name == b"content-encoding":
            return False
        if name == b"content-type":
            media = value
    text = media.decode("latin-1").lower()
    return any(text.startswith(m) for m in _COMPRESSIBLE)


def encoded_headers(headers: list[tuple[bytes, bytes]], encoding: str, length: int | None) -> list:
    """`headers` of an answer compressed with `encoding` (`length` bytes; None: unknown, streamed)."""
    out = []
    vary = b""
    for name, value in headers:
        if name == b"content-length":
            continue
        if name == b"vary":
            vary = value
            continue
        if name == b"etag" and not value.startswith(b"W/"):
            value = b"W/" + value
        out.append((name, value))
    out.append((b"vary", vary + b", Accept-Encoding" if vary else b"Accept-Encoding"))
    out.append((b"content-encoding", encoding.encode()))
    if length is not None:
        out.append((b"content-length", str(length).encode()))
    return out


class CompressionMiddleware:
    """Compresses answers by Accept-Encoding (module docstring)."""

    def __init__(self, app, min_size: int = MIN_SIZE):
        self.app = app
        self.min_size = min_size

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] == "HEAD":
            await self.app(scope, receive, send)
            return
        encoding = None
        for name, value in scope["headers"]:
            if name == b"accept-encoding":
                encoding = choose_encoding(value.decode("latin-1"))
                break
        if encoding is None:
            await self.app(scope, receive, send)
            return
        start: dict | None = None
        encoder: _Encoder | None = None
        passthrough = False

        async def send_compressed(message):
            nonlocal start, encoder, passthrough
            if message["type"] == "http.response.start":
                start = message
                passthrough = message["status"] in (204, 304) or not compressible(message.get("headers", []))
                if passthrough:
                    await send(message)
                return
            if message["type"] != "http.response.body" or passthrough or start is None:
                await send(message)
                return
            body, more = message.get("body", b""), message.get("more_body", False)
            if encoder is None and not more:  # the whole answer at once
                if len(body) < self.min_size:
                    passthrough = True
                    await send(start)
                    await send(message)
                    return
                data = compress(body, encoding)
                await send({**start, "headers": encoded_headers(start.get("headers", []), encoding, len(data))})
                await send({"type": "http.response.body", "body": data})
                return
            if encoder is None:  # streamed: each piece compressed and flushed as it comes
                encoder = _Encoder(encoding)
                await send({**start, "headers": encoded_headers(start.get("headers", []), encoding, None)})
            data = encoder.chunk(body) if body else b""
            if not more:
                data += encoder.finish()
            await send({"type": "http.response.body", "body": data, "more_body": more})

        await self.app(scope, receive, send_compressed)
