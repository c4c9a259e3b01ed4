"""uvicorn's HTTP protocol with the service's error shape for requests it cannot parse.

A request that is not valid HTTP/1.1 (a `Content-Length: abc`, a request line or header the
parser refuses, such as a 100,000-character query on the h11 parser) never reaches the app:
uvicorn answers it itself with a plain-text 400 and closes the connection. These subclasses
answer the same 400 as `{"errors": [{"path": "", "message": …}]}` in JSON. The parser does not
say which part was wrong, so neither can the message; such an answer has no
`X-Knowledge-Base-Digest` header (the app, which knows the digest, never saw the request).
`run()` in engine.service.app passes `protocol_class()` to uvicorn.

Connections that never finish are bounded (`Limits`, set by environment variables, documented in
docs/scaling.md): the request line and headers may take at most 64 KiB (431 beyond), must arrive
within 10 s of the request's first byte, and the body within 30 s of the headers (408 and the
connection closed otherwise, however slowly the bytes trickle in); a client that leaves its answer
unread for 30 s once the send buffer is full is dropped.

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


_REASONS = {400: b"Bad Request", 408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


def error_bytes(
    server_header: list[tuple[bytes, bytes]] | None = None, status: int = 400, message: str = MESSAGE
) -> bytes:
    """The complete HTTP/1.1 error response (status line, headers, JSON body; 400 by default)."""
    body = dumps_bytes({"errors": [{"path": "", "message": message}]})
    head = [b"HTTP/1.1 %d %s\r\n" % (status, _REASONS[status])]
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


class Limits:
    """What one connection may take (environment variables, read when the service starts; documented
    with a reverse proxy's equivalents in docs/scaling.md):

    - MEDTECH_MAX_HEADER_BYTES (65536): the request line and headers together; more is answered 431;
    - MEDTECH_HEADER_TIMEOUT (10 s): from a request's first byte to the end of its headers;
    - MEDTECH_BODY_TIMEOUT (30 s): from the end of the headers to the end of the body (however
      slowly it trickles in); either deadline missed is answered 408 and the connection closed;
    - MEDTECH_SEND_TIMEOUT (30 s): how long a client may leave an answer unread once the
      connection's send buffer is full; then the connection is dropped.
    """

    def __init__(self, env=None):
        import os

        env = os.environ if env is None else env
        self.max_header_bytes = int(env.get("MEDTECH_MAX_HEADER_BYTES", 64 * 1024))
        self.header_timeout = float(env.get("MEDTECH_HEADER_TIMEOUT", 10))
        self.body_timeout = float(env.get("MEDTECH_BODY_TIMEOUT", 30))
        self.send_timeout = float(env.get("MEDTECH_SEND_TIMEOUT", 30))


LIMITS = Limits()


def _deadline_members(base: Any) -> dict:
    """Methods of a subclass of uvicorn's httptools protocol `base` that enforce `LIMITS`."""

    def arm(self, what: str, seconds: float) -> None:
        disarm(self)
        self._medtech_deadline = self.loop.call_later(seconds, expired, self, what)

    def disarm(self) -> None:
        timer = getattr(self, "_medtech_deadline", None)
        if timer is not None:
            timer.cancel()
        self._medtech_deadline = None

    def refuse(self, status: int, message: str) -> None:
        """Answer `status` at once (unless a response has begun) and close the connection."""
        disarm(self)
        self._medtech_head = None
        cycle = self.cycle
        started = cycle is not None and cycle.response_started
        if cycle is not None:
            cycle.disconnected = True  # the app's own answer, if it comes, goes nowhere
            cycle.keep_alive = False
            cycle.message_event.set()
        if not self.transport.is_closing():
            if not started:
                headers = list(getattr(self.server_state, "default_headers", []) or [])
                self.transport.write(error_bytes(headers, status, message))
            self.transport.close()

    def expired(self, what: str) -> None:
        self._medtech_deadline = None
        if what == "head":
            refuse(self, 408, f"the request's headers did not arrive within {LIMITS.header_timeout:g} s")
        else:
            refuse(self, 408, f"the request's body did not arrive within {LIMITS.body_timeout:g} s")

    def connection_made(self, transport) -> None:
        base.connection_made(self, transport)
        self._medtech_head = 0  # bytes of the request head received so far (None: not reading a head)
        self._medtech_send = None
        arm(self, "head", LIMITS.header_timeout)

    def data_received(self, data: bytes) -> None:
        in_head = getattr(self, "_medtech_head", None) is not None
        if in_head and getattr(self, "_medtech_deadline", None) is None:
            arm(self, "head", LIMITS.header_timeout)  # the next request on a kept-alive connection begins
        base.data_received(self, data)
        if in_head and self._medtech_head is not None and self.parser is not None:  # still in the head
            self._medtech_head += len(data)
            if self._medtech_head > LIMITS.max_header_bytes:
                refuse(
                    self,
                    431,
                    f"the request line and headers exceed {LIMITS.max_header_bytes} bytes; a request needs far fewer",
                )

    def on_headers_complete(self) -> None:
        self._medtech_head = None
        base.on_headers_complete(self)
        arm(self, "body", LIMITS.body_timeout)  # disarmed at once by on_message_complete when there is none

    def on_message_complete(self) -> None:
        base.on_message_complete(self)
        disarm(self)
        self._medtech_head = 0

    def pause_writing(self) -> None:
        base.pause_writing(self)
        if getattr(self, "_medtech_send", None) is None:
            self._medtech_send = self.loop.call_later(LIMITS.send_timeout, self.transport.abort)

    def resume_writing(self) -> None:
        base.resume_writing(self)
        timer = getattr(self, "_medtech_send", None)
        if timer is not None:
            timer.cancel()
        self._medtech_send = None

    def connection_lost(self, exc) -> None:
        disarm(self)
        timer = getattr(self, "_medtech_send", None)
        if timer is not None:
            timer.cancel()
        base.connection_lost(self, exc)

    return {
        "connection_made": connection_made,
        "data_received": data_received,
        "on_headers_complete": on_headers_complete,
        "on_message_complete": on_message_complete,
        "pause_writing": pause_writing,
        "resume_writing": resume_writing,
        "connection_lost": connection_lost,
    }


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
    one_write = type("OneWriteProtocol", (HttpToolsProtocol,), members)
    return type("JsonErrorProtocol", (one_write,), {**_deadline_members(one_write), "__module__": __name__})


JsonErrorProtocol = protocol_class()
