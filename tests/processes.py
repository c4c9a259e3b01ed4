"""The CLI and `medtech serve` as real processes, for the tests that need one: `medtech` runs a
command to the end, `live_server` runs the service on a free loopback port until the block ends."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def medtech(
    *args: str, stdin: str | None = None, env: dict | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """`python -m engine.cli ARGS` from the repository root, its output read as UTF-8 (MEDTECH_DEBUG unset,
    so errors come without a traceback)."""
    full_env = {**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})}
    full_env.pop("MEDTECH_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        env=full_env,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ready(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    return b" 200 " in answer[:20]


@contextlib.contextmanager
def live_server(env: dict | None = None, timeout: float = 60) -> Iterator[int]:
    """`medtech serve` on a free loopback port (with ENV as its environment); yields the port once
    /readyz answers 200, and stops the server when the block ends."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=os.environ if env is None else env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                if _ready(port):
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"medtech serve did not start: {proc.stderr.read().decode(errors='replace')[-1000:]}")
            time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        proc.wait(15)
