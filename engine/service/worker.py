"""The engine thread: every engine call of the HTTP service runs on one dedicated worker thread.

durable_rules is not thread-safe (the backend serialises with a lock anyway) and the GIL gives
no parallelism, so one thread costs nothing and keeps the event loop free for I/O; scale with
processes (`engine.service.app.run(workers=N)`).
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

_EXECUTOR: ThreadPoolExecutor | None = None
_EXECUTOR_LOCK = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _EXECUTOR
    with _EXECUTOR_LOCK:
        if _EXECUTOR is None:
            _EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="medtech-engine")
        return _EXECUTOR


def shutdown_executor() -> None:
    """Stop the engine thread (queued jobs are cancelled); the next `on_engine` starts a new one."""
    global _EXECUTOR
    with _EXECUTOR_LOCK:
        ex, _EXECUTOR = _EXECUTOR, None
    if ex is not None:
        ex.shutdown(wait=False, cancel_futures=True)


async def on_engine(fn: Callable, *args, **kwargs):
    """Run `fn` on the engine thread and await its result."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_executor(), functools.partial(fn, *args, **kwargs))
