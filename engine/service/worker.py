"""The engine thread: engine calls of the HTTP service run one at a time, on a dedicated worker
thread or, for a short call while that thread is idle, on the event loop's thread itself.

durable_rules is not thread-safe (the backend serialises with a lock anyway) and the GIL gives
no parallelism, so one thread costs nothing and keeps the event loop free for I/O; scale with
processes (`engine.service.app.run(workers=N)`).

`on_engine` always hops to the engine thread: for work that may take long (flowcharts, exports,
batch chunks, loading the knowledge base). `on_engine_short` is for a call known to be short (one
decision of a small request, a fraction of a millisecond): handing it to another thread would
cost about as much CPU as the call itself (a queue, a future, waking the thread and then the
loop), and with two runnable threads the loop thread can wait up to the interpreter's switch
interval (5 ms) for the GIL before it reads the next request. So when no engine job is queued
or running, the call runs inline on the loop's thread; the loop cannot submit another job while
it runs, so engine calls still never overlap. When the engine thread is busy, the short call
queues behind its work as before.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

_EXECUTOR: ThreadPoolExecutor | None = None
_EXECUTOR_LOCK = threading.Lock()
_LAST: Future | None = None  # the job submitted last (the thread runs jobs in order: when it is done, all are)


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


def engine_busy() -> bool:
    """True while a job is queued on or running in the engine thread (even one whose caller went away)."""
    last = _LAST
    return last is not None and not last.done()


async def on_engine(fn: Callable, *args, **kwargs):
    """Run `fn` on the engine thread and await its result."""
    global _LAST
    job = _executor().submit(functools.partial(fn, *args, **kwargs))
    _LAST = job
    return await asyncio.wrap_future(job)


async def on_engine_short(fn: Callable, *args, **kwargs):
    """Run `fn`, a short engine call, inline when the engine thread is idle, else on it (see above)."""
    if not engine_busy():
        return fn(*args, **kwargs)
    return await on_engine(fn, *args, **kwargs)
