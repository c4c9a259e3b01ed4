"""uvicorn's HTTP protocol with the service's error shape for requests it cannot parse.

A request that is not valid HTTP/1.1 (a `Content-Length: abc`, a request line or header the
parser refuses, such as a 100,000-character query on the h11 parser) never reaches the app:
uvicorn answers it itself with a plain-text 400 and closes the connection. These subclasses
answer the same 400 as `{"errors": [{"path": "", "message": …}]}` in JSON. The parser does not
say which part was wrong, so neither can the message; such an answer has no
`X-Knowledge-Base-Digest` header (the app, which knows the digest, never saw the request).
`run()` in engine.service.app passes `protocol_class()` to uvicorn.
"""

from __future__ import annotations

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


def protocol_class():
    """The HTTP protocol class for uvicorn: httptools when installed (uvicorn's own default),
    else h11, in both cases answering unparseable requests with the JSON error shape."""
    base: type
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        base = HttpToolsProtocol
    except ImportError:  # httptools missing
        from uvicorn.protocols.http.h11_impl import H11Protocol

        base = H11Protocol
    return type("JsonErrorProtocol", (base,), {"send_400_response": _send_json_400, "__module__": __name__})


JsonErrorProtocol = protocol_class()
