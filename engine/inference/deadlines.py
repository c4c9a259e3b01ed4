"""Due dates and statuses from a rule's deadline spec, the request's events and the calendar.

Semantics (contract section 5): the event day is not counted; "N个工作日内" after an event is
the Nth working day after it, "之日前N个工作日" the Nth working day before it; months are the
same day N months later or earlier.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from engine.inference.workdays import add_months, add_working_days
from engine.kb import validity


@dataclass(frozen=True)
class Due:
    date: dt.date | None
    provisional: bool = False
    trigger: dt.date | None = None   # the day of the event the period runs from, when there is one


def _date_ref(ref, documents) -> dt.date | None:
    if ref is None:
        return None
    if isinstance(ref, str):
        return dt.date.fromisoformat(ref)
    return validity.exact(documents[ref["document"]].dates.get(ref["date"]))


def compute_due(spec: dict, events: dict[str, dt.date], documents: dict) -> Due:
    """The due date of one deadline spec, or Due(None) when it cannot be computed."""
    kind = spec["kind"]
    event = events.get(spec["event"]) if spec.get("event") else None
    if kind in ("none",):
        return Due(None, trigger=event)
    if kind in ("on_date",):
        return Due(_date_ref(spec.get("date"), documents))
    if kind == "months_after_document":
        base = _date_ref(spec.get("date"), documents)
        return Due(add_months(base, spec["months"]) if base else None)
    if event is None:
        return Due(None)
    if kind in ("immediately", "same_day"):
        return Due(event, trigger=event)
    if kind == "before_event":
        return Due(event - dt.timedelta(days=1), trigger=event)
    if kind in ("working_days_after", "working_days_before"):
        n = spec["days"] if kind == "working_days_after" else -spec["days"]
        result = add_working_days(event, n)
        return Due(result.date, result.provisional, event)
    if kind == "months_after":
        return Due(add_months(event, spec["months"]), trigger=event)
    if kind == "months_before":
        return Due(add_months(event, -spec["months"]), trigger=event)
    if kind == "quarter_first_week":
        # cases of one quarter are reported in the first week (days 1-7) of the next quarter
        q_month = ((event.month - 1) // 3 + 1) * 3 + 1
        year = event.year + (1 if q_month > 12 else 0)
        return Due(dt.date(year, (q_month - 1) % 12 + 1, 7), trigger=event)
    if kind == "half_year_end":
        return Due(dt.date(event.year, 6, 30) if event.month <= 6 else dt.date(event.year, 12, 31), trigger=event)
    raise ValueError(f"unknown deadline kind {kind}")


def status(kind: str, due: dt.date | None, as_of: dt.date, done: bool) -> str:
    """pending | due_today | overdue | done | immediate."""
    if done:
        return "done"
    if kind == "immediately":
        return "immediate"
    if due is None or as_of < due:
        return "pending"
    return "due_today" if as_of == due else "overdue"
