"""Bounds on what one worker process of the HTTP service takes on.

- `BATCH_SLOTS` batches are answered at once per worker; one more gets 503 with `Retry-After`
  at once instead of queueing (a 1,000-request batch is about a second of engine time and,
  streamed, a few MB in flight; unbounded, 24 of them took one worker to 3.3 GB).
- A body over the limit is read to its end (up to `MAX_DRAIN` bytes, then the connection is
  closed) before the 413 is sent: a server that answers while the client is still sending and
  then closes the socket makes the kernel reset the connection, and the client may see the
  reset instead of the 413.
"""

from __future__ import annotations

import os

from fastapi import Request

from engine.service.errors import ApiError, error

BATCH_SLOTS = int(os.environ.get("MEDTECH_BATCH_SLOTS", "2"))
RETRY_AFTER = 1  # seconds, in the 503's Retry-After
MAX_DRAIN = 32 * 1024 * 1024  # bytes of an oversized body read (and discarded) before the 413


class Slots:
    """A counter of work in flight on this worker's event loop (no awaits between test and
    increment, so no lock is needed); `take` answers False when all are in use."""

    def __init__(self, size: int):
        self.size, self.used = size, 0

    def take(self) -> bool:
        if self.used >= self.size:
            return False
        self.used += 1
        return True

    def give_back(self) -> None:
        self.used = max(0, self.used - 1)


BATCHES = Slots(BATCH_SLOTS)


def busy(what: str) -> ApiError:
    """503 with Retry-After: this worker is already doing as much of `what` as it takes on."""
    return ApiError(
        503,
        [{"path": "", "message": f"too many {what} in progress on this worker; retry in {RETRY_AFTER} s"}],
    ).with_headers({"Retry-After": str(RETRY_AFTER)})


async def read_body(request: Request, limit: int) -> bytes:
    """The request body; an `ApiError` 413 when it is (declared or found) larger than `limit`,
    raised only after the rest of the body is read and discarded (up to `MAX_DRAIN` bytes)."""
    declared = request.headers.get("content-length")
    message = None
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise error(400, "invalid Content-Length header", "Content-Length") from None
        if size > limit:
            message = f"request body of {size} bytes exceeds the limit of {limit} bytes ({limit // 1024} KiB)"
    chunks, size, ended = [], 0, True
    async for chunk in request.stream():
        size += len(chunk)
        if message is None and size > limit:
            message = f"request body exceeds the limit of {limit} bytes ({limit // 1024} KiB)"
        if message is None:
            chunks.append(chunk)
        elif size > MAX_DRAIN:
            ended = False
            break
    if message is not None:
        exc = error(413, message)
        raise exc if ended else exc.with_headers({"Connection": "close"})
    return b"".join(chunks)
