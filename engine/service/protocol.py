"""uvicorn's HTTP protocol with the service's error shape for requests it cannot parse.

A request that is not valid HTTP/1.1 (a `Content-Length: abc`, a request line or header the
parser refuses, such as a 100,000-character query on the h11 parser) never reaches the app:
uvicorn answers it itself with a plain-text 400 and closes the connection. These subclasses
answer the same 400 as `{"errors": [{"path": "", "message": …}]}` in JSON. The parser does not
say which part was wrong, so neither can the message; such an answer has no
`X-Knowledge-Base-Digest` header (the app, which knows the digest, never saw the request).
`run()` in engine.service.app passes `protocol_class()` to uvicorn.

The httptools protocol also writes each response in one piece. uvicorn writes the status line
and headers when the app sends `http.response.start`, and the body with `http.response.body`:
two `write` system calls, and on loopback the first one already wakes the client, which then
waits for the second. Measured on a 2-core machine with the client alongside, the head's write
took more time than the 40-60 KB body's (benchmarks/load.py). Here the head is held back and
written together with the first piece of the body (or alone, if the connection closes or the
response has no body, as for HEAD); the bytes on the wire are the same.
"""

from __future__ import annotations

from typing import Any

from engine.jsonout import dumps_bytes

MESSAGE = (
    "invalid HTTP request: the request line or a header could not be parsed "
    "(for example a Content-Length that is not a number, or a line longer than the server accepts)"
)


def error_bytes(server_header: list[tuple[bytes, bytes]] | None = None) -> bytes:
    """The complete HTTP/1.1 400 response (status line, headers, JSON body)."""
    body = dumps_bytes({"errors": [{"path": "", "message": MESSAGE}]})
    head = [b"HTTP/1.1 400 Bad Request\r\n"]
    for name, value in server_header or []:
        head.append(name + b": " + value + b"\r\n")
    head += [
        b"content-type: application/json\r\n",
        b"content-length: " + str(len(body)).encode() + b"\r\n",
        b"connection: close\r\n",
        b"\r\n",
    ]
    return b"".join(head) + body


def _send_json_400(self, msg: str) -> None:
    self.transport.write(error_bytes(list(getattr(self.server_state, "default_headers", []) or [])))
    self.transport.close()


class _HeldHead:
    """The connection's transport as one response sees it: the head (the first write after
    `hold` is set) is kept and written together with the next write, or on `flush`/`close`."""

    __slots__ = ("transport", "head", "hold")

    def __init__(self, transport):
        self.transport, self.head, self.hold = transport, None, False

    def write(self, data) -> None:
        if self.hold:
            self.head, self.hold = bytes(data), False
            return
        if self.head is not None:
            data, self.head = self.head + data, None
        self.transport.write(data)

    def flush(self) -> None:
        if self.head is not None:
            head, self.head = self.head, None
            self.transport.write(head)

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def __getattr__(self, name):  # anything else the cycle may ask of the transport
        return getattr(self.transport, name)


def _one_write_cycle(base: Any) -> type:
    """A subclass of uvicorn's RequestResponseCycle `base` whose response head waits for its body."""

    async def send(self, message) -> None:
        held = self.transport
        if message["type"] == "http.response.start" and not self.response_started:
            held.hold = True
            try:
                await base.send(self, message)
            finally:
                held.hold = False
            return
        try:
            await base.send(self, message)
        finally:
            held.flush()  # a body message was sent (or refused): nothing stays held

    return type("OneWriteCycle", (base,), {"send": send, "__module__": __name__})


def _one_write_headers_complete(base: Any):
    """`on_headers_complete` of a subclass of the protocol `base`: the cycle it creates for the
    request answers in one write (its task is created but has not run a step yet)."""
    classes: dict[type, type] = {}

    def on_headers_complete(self) -> None:
        base.on_headers_complete(self)
        cycle = self.cycle
        if cycle is not None and not isinstance(cycle.transport, _HeldHead):
            if type(cycle) not in classes:
                classes[type(cycle)] = _one_write_cycle(type(cycle))
            cycle.__class__ = classes[type(cycle)]
            cycle.transport = _HeldHead(cycle.transport)

    return on_headers_complete


def protocol_class():
    """The HTTP protocol class for uvicorn: httptools when installed (uvicorn's own default), with
    each response written at once, else h11; in both cases answering unparseable requests with
    the JSON error shape."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # httptools missing
        from uvicorn.protocols.http.h11_impl import H11Protocol

        return type("JsonErrorProtocol", (H11Protocol,), {"send_400_response": _send_json_400, "__module__": __name__})
    members = {
        "send_400_response": _send_json_400,
        "on_headers_complete": _one_write_headers_complete(HttpToolsProtocol),
        "__module__": __name__,
    }
    return type("JsonErrorProtocol", (HttpToolsProtocol,), members)


JsonErrorProtocol = protocol_class()
