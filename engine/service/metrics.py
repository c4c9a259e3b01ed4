"""`GET /metrics`: the service's figures in the Prometheus text format (prometheus-client).

Per worker process (each worker answers its own scrape; with `--workers N` scrape each or sum
them): requests by route, method and status; their latency by route; errors (4xx and 5xx) by route
and status; decisions by the action of their verdict; batch slots in use and available. Routes are
the route templates (`/v1/documents/{document}`), never raw paths, so the label sets stay bounded.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from engine.service.limits import BATCHES

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter("medtech_http_requests", "HTTP requests answered", ("route", "method", "status"), registry=REGISTRY)
LATENCY = Histogram(
    "medtech_http_request_duration_seconds",
    "time from the request to the end of its answer",
    ("route",),
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
ERRORS = Counter("medtech_http_errors", "answers with a 4xx or 5xx status", ("route", "status"), registry=REGISTRY)
DECISIONS = Counter(
    "medtech_decisions",
    "decisions answered, by the action of their verdict (none: no verdict)",
    ("action",),
    registry=REGISTRY,
)
BATCH_SLOTS_USED = Gauge("medtech_batch_slots_in_use", "batches being answered on this worker", registry=REGISTRY)
BATCH_SLOTS_USED.set_function(lambda: BATCHES.used)
BATCH_SLOTS = Gauge("medtech_batch_slots", "batches this worker answers at once", registry=REGISTRY)
BATCH_SLOTS.set_function(lambda: BATCHES.size)

router = APIRouter()


_ACTIONS: dict[str, Any] = {}  # action -> its series of DECISIONS (labels() is slow); the actions are the vocabulary's


def count_decision(response: dict) -> None:
    """Count one decision answered, by its verdict's action."""
    verdict = response.get("verdict")
    count_action(verdict.get("action") if isinstance(verdict, dict) else None)


def count_action(action: str | None) -> None:
    """Count one decision answered whose verdict's action is `action` (None: no action)."""
    name = str(action or "none")
    series = _ACTIONS.get(name)
    if series is None:
        series = DECISIONS.labels(action=name)
        if len(_ACTIONS) < 64:
            _ACTIONS[name] = series
    series.inc()


class _MemoCollector:
    """The engine's memos (engine.inference.memo): hits, misses and entries of each, read at each scrape."""

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        from engine.inference import memo

        figures = memo.stats()
        hits = CounterMetricFamily("medtech_memo_hits", "evaluations answered from the memo", labels=("memo",))
        misses = CounterMetricFamily("medtech_memo_misses", "evaluations computed and kept", labels=("memo",))
        size = GaugeMetricFamily("medtech_memo_entries", "entries the memo holds (bounded)", labels=("memo",))
        limit = GaugeMetricFamily("medtech_memo_limit", "entries the memo holds at most", labels=("memo",))
        for name, f in sorted(figures.items()):
            hits.add_metric((name,), f["hits"])
            misses.add_metric((name,), f["misses"])
            size.add_metric((name,), f["size"])
            limit.add_metric((name,), f["limit"])
        return [hits, misses, size, limit]

    def describe(self):
        return []


REGISTRY.register(_MemoCollector())


_SERIES: dict[tuple[str, str, int], tuple] = {}  # (route, method, status) -> its series (labels() is slow)


def observe(route: str, method: str, status: int, seconds: float) -> None:
    """Record one answered request."""
    key = (route, method, status)
    series = _SERIES.get(key)
    if series is None:
        code = str(status)
        series = _SERIES[key] = (
            REQUESTS.labels(route=route, method=method, status=code),
            LATENCY.labels(route=route),
            ERRORS.labels(route=route, status=code) if status >= 400 else None,
        )
    series[0].inc()
    series[1].observe(seconds)
    if series[2] is not None:
        series[2].inc()


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
