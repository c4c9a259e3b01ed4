"""Connections that never finish (issue 22, part 6), against a real `medtech serve` on loopback with
short limits: a header size cap (431), a header read deadline and a body read deadline (408, then
the connection is closed), a send deadline for a client that does not read its answer, and batches
answered while other clients trickle their bodies. Every wait is bounded."""

from __future__ import annotations

import json
import os
import socket
import time

import pytest

from processes import live_server

REQ = {
    "as_of": "2025-03-10",
    "institution": {"jurisdiction": "hunan", "level": 3},
    "technology": {"name": "冠心病介入治疗"},
}
LIMITS = {
    "MEDTECH_MAX_HEADER_BYTES": "16384",
    "MEDTECH_HEADER_TIMEOUT": "1.5",
    "MEDTECH_BODY_TIMEOUT": "2",
    "MEDTECH_SEND_TIMEOUT": "2",
    "MEDTECH_BATCH_SLOTS": "1",
}


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=15)


def _read_all(s: socket.socket) -> bytes:
    out = b""
    try:
        while chunk := s.recv(65536):
            out += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return out


def _raw(port: int, data: bytes) -> bytes:
    with _connect(port) as s:
        s.sendall(data)
        return _read_all(s)


@pytest.fixture(scope="module")
def live():
    with live_server({**os.environ, **LIMITS}) as port:
        yield port


def test_limits_are_configurable():
    from engine.service.protocol import Limits

    limits = Limits({"MEDTECH_MAX_HEADER_BYTES": "100", "MEDTECH_SEND_TIMEOUT": "7.5"})
    assert limits.max_header_bytes == 100 and limits.send_timeout == 7.5
    default = Limits({})
    assert default.max_header_bytes == 65536 and default.header_timeout == 10 and default.body_timeout == 30


def test_a_header_over_the_cap_is_431(live):
    started = time.monotonic()
    with _connect(live) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
        sent = 0
        try:
            while sent < 8 << 20:  # 8 MiB offered; the server stops reading at the cap
                s.sendall(b"a" * 65536)
                sent += 65536
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = _read_all(s)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:100]
    assert b"application/json" in answer
    assert time.monotonic() - started < 10
    # the service is still answering
    assert _raw(live, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").startswith(b"HTTP/1.1 200")


def test_headers_that_never_end_are_408_within_the_deadline(live):
    started = time.monotonic()
    with _connect(live) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and nothing more
        answer = _read_all(s)
    elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
    assert 1.0 < elapsed < 8, elapsed


def test_a_trickled_header_does_not_extend_the_deadline(live):
    started = time.monotonic()
    with _connect(live) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\n")
        try:
            for _ in range(20):
                s.sendall(b"X: 1\r\n")
                time.sleep(0.3)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = _read_all(s)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
    assert time.monotonic() - started < 8


def test_a_body_that_never_ends_is_408_within_the_deadline(live):
    body = json.dumps(REQ).encode()
    started = time.monotonic()
    with _connect(live) as s:
        s.sendall(
            b"POST /v1/decisions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body) + body[:10]
        )
        try:
            for ch in body[10:]:  # a byte every 0.5 s: it would take minutes
                s.sendall(bytes([ch]))
                time.sleep(0.5)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = _read_all(s)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
    assert time.monotonic() - started < 10


def test_batches_are_answered_while_another_client_trickles_its_body(live):
    """With one batch slot, a client trickling its batch body holds nothing: another batch is answered."""
    body = json.dumps({"requests": [REQ]}).encode()
    with _connect(live) as slow:
        slow.sendall(
            b"POST /v1/decisions/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body) + body[:5]
        )
        time.sleep(0.3)
        answer = _raw(
            live,
            b"POST /v1/decisions/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body,
        )
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]


def test_a_client_that_does_not_read_is_dropped_after_the_send_deadline(live):
    """Twenty pipelined requests for a 1.5 MB asset from a client that does not read: once the
    connection's send buffer has stayed full for the send deadline (2 s here) the server drops the
    connection, so the client, reading at last, gets only what was buffered, and others are still answered."""
    one = b"GET /static-docs/swagger-ui-bundle.js HTTP/1.1\r\nHost: x\r\n\r\n"
    with _connect(live) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(one * 20)  # about 30 MB of answers
        time.sleep(6)  # not reading
        s.settimeout(5)
        received = 0
        try:
            while chunk := s.recv(1 << 20):
                received += len(chunk)
        except (ConnectionResetError, TimeoutError):
            pass
    assert received < 10 * 1000 * 1000, received  # not the 30 MB: the connection was dropped
    assert _raw(live, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").startswith(b"HTTP/1.1 200")
