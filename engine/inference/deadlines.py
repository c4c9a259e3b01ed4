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
    trigger: dt.date | None = None  # the day of the event the period runs from, when there is one
    # when `date` cannot be computed but is bounded (a document's date known only to its year, contract
    # §5 "Bounds instead of blanks"): the first and the last day it can be
    earliest: dt.date | None = None
    latest: dt.date | None = None


def _date_ref(ref, documents) -> dt.date | None:
    if ref is None:
        return None
    if isinstance(ref, str):
        return dt.date.fromisoformat(ref)
    return validity.exact(documents[ref["document"]].dates.get(ref["date"]))


# (id of the spec, event day, id of the documents) -> (spec, documents, Due): a due date is a function of
# the spec, the day it runs from and the calendar, and decisions ask of the same few days again and again
_MEMO: dict[tuple, tuple] = {}
_MEMO_LIMIT = 65536


def compute_due(spec: dict, events: dict[str, dt.date], documents: dict) -> Due:
    """The due date of one deadline spec, or Due(None) when it cannot be computed."""
    return due_from(spec, events.get(spec["event"]) if spec.get("event") else None, documents)


def due_from(spec: dict, event: dt.date | None, documents: dict) -> Due:
    """The due date of one deadline spec whose event (if it has one) happened on `event` (memoised)."""
    key = (id(spec), event, id(documents))
    hit = _MEMO.get(key)
    if hit is not None and hit[0] is spec and hit[1] is documents:
        return hit[2]
    due = _compute_due(spec, event, documents)
    if len(_MEMO) >= _MEMO_LIMIT:
        _MEMO.clear()
    _MEMO[key] = (spec, documents, due)
    return due


def _compute_due(spec: dict, event: dt.date | None, documents: dict) -> Due:
    kind = spec["kind"]
    if kind in ("none",):
        return Due(None, trigger=event)
    if kind in ("on_date",):
        return Due(_date_ref(spec.get("date"), documents))
    if kind == "months_after_document":
        base = _date_ref(spec.get("date"), documents)
        if base is None and isinstance(spec.get("date"), dict):
            ref = spec["date"]
            lo, hi = validity.bounds(documents[ref["document"]].dates.get(ref["date"]))
            if lo is not None and hi is not None:
                return Due(None, earliest=add_months(lo, spec["months"]), latest=add_months(hi, spec["months"]))
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
        # the first period: the event's quarter, reported in the next quarter's first week
        return quarter_due(spec, next_quarter(quarter_start(event)), trigger=event)
    if kind == "half_year_end":
        return Due(dt.date(event.year, 6, 30) if event.month <= 6 else dt.date(event.year, 12, 31), trigger=event)
    raise ValueError(f"unknown deadline kind {kind}")


def quarter_start(day: dt.date) -> dt.date:
    """The first day of the quarter `day` falls in."""
    return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def next_quarter(start: dt.date) -> dt.date:
    """The first day of the quarter after the one starting on `start`."""
    return dt.date(start.year + 1, 1, 1) if start.month == 10 else dt.date(start.year, start.month + 3, 1)


def quarter_due(spec: dict, start: dt.date, trigger: dt.date | None = None) -> Due:
    """The due date of a report in the first week of the quarter starting on `start`: the rule's
    `days`-th working day of that quarter (the reading of 第1周 is the rule's, see its comment)."""
    result = add_working_days(start - dt.timedelta(days=1), spec.get("days", 5))
    return Due(result.date, result.provisional, trigger)


def quarter_label(start: dt.date) -> str:
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}"


def recurring(spec: dict, first: dt.date, as_of: dt.date, applies) -> list[tuple[str, Due]]:
    """A per-period duty (quarter_first_week): one (period, Due) for each quarter from the one of the
    first event, or from the later quarter in which the governing document took effect (`applies`: it
    is in force that day), up to and including the first whose due date is not yet past on `as_of`."""
    out: list[tuple[str, Due]] = []
    period = quarter_start(first)

    def covered(start: dt.date) -> bool:  # the governing document is in force at the period's start or end
        return applies(max(start, first)) or applies(next_quarter(start) - dt.timedelta(days=1))

    # a document that took effect after the first event governs from the quarter it took effect in
    while period <= as_of and not covered(period):
        period = next_quarter(period)
    while covered(period):
        due = quarter_due(spec, next_quarter(period), trigger=first)
        if due.date is not None and not applies(due.date):
            break  # due after the governing document expired: no occurrence falls due outside it
        out.append((quarter_label(period), due))
        if due.date is None or due.date >= as_of:
            break
        period = next_quarter(period)
    return out


# deadlines owed per period rather than per event: each period is governed by the law of its own days
PERIODIC_KINDS = ("quarter_first_week",)

# deadlines that run up to an event: a step that had to precede it (self-assessment, ethics review,
# 论证, training before the first case; a training base filed before its enrolment notice)
BEFORE_KINDS = ("before_event", "working_days_before", "months_before")


def status(
    kind: str,
    due: dt.date | None,
    as_of: dt.date,
    done: bool,
    *,
    trigger: dt.date | None = None,
    authority: bool = False,
    latest: dt.date | None = None,
) -> str:
    """pending | due_today | overdue | done | immediate | to_confirm.

    `to_confirm` (contract section 5, "Steps that precede an event"): a step due before an event
    that has already happened, or an authority's step whose day has passed; nothing in the request
    can say whether it was done, so it is never `overdue`. `latest`: the last day an unknown due day
    can be (contract §5 "Bounds instead of blanks"). Whether a passed day is `overdue` or to be confirmed
    is for the caller to decide (engine.inference.obligations: what the request says was not done).
    """
    if done:
        return "done"
    if kind == "immediately":
        return "immediate"
    if kind in BEFORE_KINDS and trigger is not None and trigger <= as_of:
        return "to_confirm"
    if due is None and latest is not None and as_of > latest:
        due = latest  # a day not known but bounded: past its latest day it is never pending
    if due is None or as_of < due:
        return "pending"
    if as_of == due:
        return "due_today"
    return "to_confirm" if authority else "overdue"


def later_periods(kb, obligation: dict, until: dt.date) -> list[tuple[str, Due]]:
    """The periods of a recurring duty (a response obligation whose deadline kind is periodic) after the
    ones its `deadline.occurrences` list, each with its due date, up to `until`, while the document that
    sets the duty is in force: what a calendar shows ahead. [] for any other obligation."""
    deadline = obligation.get("deadline") or {}
    if deadline.get("kind") not in PERIODIC_KINDS or not deadline.get("occurrences"):
        return []
    rules = [kb.rule_by_id.get(r) for r in obligation.get("rules") or []]
    rule = next(
        (r for r in rules if r is not None and (r.spec.get("deadline") or {}).get("kind") in PERIODIC_KINDS), None
    )
    if rule is None:
        return []
    last = max(str(o.get("period") or "") for o in deadline["occurrences"])
    try:
        year, quarter = int(last[:4]), int(last[-1])
    except ValueError:
        return []
    start = next_quarter(dt.date(year, 3 * quarter - 2, 1))
    doc = kb.documents[rule.document]
    periods = recurring(
        rule.spec["deadline"], start, until, lambda day: validity.status_on(doc.dates, day) in validity.APPLICABLE
    )
    return [(p, due) for p, due in periods if due.date is not None and due.date <= until]
