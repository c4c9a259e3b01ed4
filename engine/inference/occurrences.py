"""Event occurrences: every date a request gives for each event type, and how repeated events count.

Contract §5 "Repeated and recurring duties": 首例 and 首次 count from the earliest event of their type,
a duty owed per occurrence (each discharged patient) is owed for every one; how each type counts is
data (kb/vocabulary.yaml `event_counting`, `event_dates_from_request`), not code.
"""

from __future__ import annotations

import datetime as dt

from engine.inference.request import Request

EARLIEST, LATEST, EACH = "earliest", "latest", "each"


def counting(vocab, event_type: str) -> str:
    """earliest | latest | each: how repeated events of this type count (latest when the vocabulary is silent)."""
    return (vocab.raw.get("event_counting") or {}).get(event_type, LATEST)


def occurrences(request: Request, vocab) -> dict[str, list[dt.date]]:
    """Every distinct date of each event type, sorted; request fields that date an event (a technique
    in use since a day had its first clinical use that day) count as occurrences of it."""
    out: dict[str, set[dt.date]] = {}
    for e in request.events:
        out.setdefault(e.type, set()).add(e.date)
    tech = request.technology or {}
    for path, etype in (vocab.raw.get("event_dates_from_request") or {}).items():
        section, _, name = path.partition(".")
        value = tech.get(name) if section == "technology" else None
        if isinstance(value, dt.date):
            out.setdefault(etype, set()).add(value)
    return {k: sorted(v) for k, v in out.items()}


def counted(occ: dict[str, list[dt.date]], vocab) -> dict[str, dt.date]:
    """The one date of each event type that facts and single deadlines use: the earliest for 首例/首次
    and per-occurrence types (the first occurrence), the latest otherwise."""
    return {t: (dates[-1] if counting(vocab, t) == LATEST else dates[0]) for t, dates in occ.items()}
