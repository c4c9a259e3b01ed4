"""Calling the service's own ASGI app in process (for the OpenAPI document's response examples).

The call runs on a helper thread with its own event loop, so it works from a route (which runs on the
server's loop) as from a plain function; the app's routes hand their work to the engine thread as usual.
"""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

INTERNAL = "medtech.internal"  # the scope key marking the service's own calls


async def _call(app, method: str, url: str, body: bytes) -> tuple[int, str, bytes]:
    parts = urlsplit(url)
    headers = [(b"host", b"localhost"), (b"accept", b"*/*")]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": parts.path,
        "raw_path": parts.path.encode(),
        "query_string": parts.query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 0),
        "server": ("localhost", 80),
        INTERNAL: True,  # not a client's request: no metrics, no log line (engine.service.correlation)
    }
    sent = False
    status, media, chunks = 500, "", []

    async def receive():
        nonlocal sent
        if sent:  # the client stays: wait until the app stops listening (a streamed answer must not end early)
            await asyncio.Event().wait()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        nonlocal status, media
        if message["type"] == "http.response.start":
            status = message["status"]
            for name, value in message.get("headers", []):
                if name == b"content-type":
                    media = value.decode("latin-1").split(";")[0].strip()
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, media, b"".join(chunks)


def call_app(method: str, url: str, payload=None, app=None) -> tuple[int, str, bytes]:
    """(status, media type, body) of `method url` with the JSON `payload`, answered by `app` (the service's)."""
    if app is None:
        from engine.service.app import app
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8") if payload is not None else b""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _call(app, method, url, body)).result()
