"""Temporal validity of documents whose dates may be known only to the year (Jilin) or not at all.

A dated value is `{date: "YYYY-MM-DD" | "YYYY-MM" | "YYYY" | null, precision: day | month | year | unknown}`.
"""

from __future__ import annotations

import calendar
import datetime as dt

APPLICABLE = (
    "in_force",
    "uncertain",
)  # statuses under which a document's rules apply (an uncertain start still applies)


def bounds(value: dict | None) -> tuple[dt.date | None, dt.date | None]:
    """The earliest and latest day a dated value can denote; (None, None) when unknown."""
    if not value or value.get("precision") == "unknown" or not value.get("date"):
        return None, None
    text, precision = str(value["date"]), value["precision"]
    if precision == "day":
        d = dt.date.fromisoformat(text)
        return d, d
    if precision == "month":
        y, m = map(int, text.split("-")[:2])
        return dt.date(y, m, 1), dt.date(y, m, calendar.monthrange(y, m)[1])
    y = int(text[:4])
    return dt.date(y, 1, 1), dt.date(y, 12, 31)


def exact(value: dict | None) -> dt.date | None:
    """The day a dated value denotes when it is known to the day, else None."""
    lo, hi = bounds(value)
    return lo if lo is not None and lo == hi else None


def status_on(dates: dict, as_of: dt.date) -> str:
    """in_force | not_yet_in_force | expired | uncertain for a document's `dates` on `as_of`.

    `uncertain` when the day falls inside the imprecise window of the start or end date,
    or when the start is wholly unknown.
    """
    start_lo, start_hi = bounds(dates.get("in_force_from"))
    end_lo, end_hi = bounds(dates.get("in_force_until"))
    if start_lo is None:
        return "uncertain"
    if as_of < start_lo:
        return "not_yet_in_force"
    if end_hi is not None and as_of > end_hi:
        return "expired"
    if (start_hi is not None and as_of < start_hi) or (end_lo is not None and as_of > end_lo):
        return "uncertain"
    return "in_force"
