"""Working days in mainland China: statutory holidays, 补假 and 调休.

A *working day* is a day that the State Council's holiday arrangement for its year makes a
working day, the weekend days it turns into working days (调休上班) included. For the years
whose arrangement is published, chinese-calendar's data is used as it is. For any other year
the calendar is *provisional*: it is computed from the rules in `kb/calendar.yaml` (the
全国年节及纪念日放假办法 as revised in 2024): Saturdays and Sundays are rest days, so are the
statutory holidays for all citizens, and a holiday day falling on a Saturday or Sunday is
compensated (补假, 第六条) by the next weekday that is neither a holiday nor already given as
补假. 调休 swaps cannot be known before they are published and are never invented, so a
provisional calendar has fewer rest days than the real one will have.

Deadline semantics (the project's contract): the day of the triggering event is not counted.
"N个工作日内" after an event is due on the Nth working day after the event day, "之日前N个
工作日" on the Nth working day before it, and N months after or before on the same day of the
month N months later or earlier (see `add_months`).

Everything is computed once per year and cached: for each year a frozenset of rest days and a
sorted tuple of working days, as proleptic Gregorian ordinals; counting is then a bisection.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as _dt
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date
from functools import cache

import chinese_calendar
from borax.calendars.lunardate import LCalendars, LunarDate

from engine.errors import KnowledgeBaseError, Problem
from engine.paths import KB_DIR, relative
from engine.yamlio import load_yaml

__all__ = [
    "WorkdayResult",
    "add_months",
    "add_working_days",
    "is_provisional",
    "is_working_day",
    "provisional_rest_days",
    "rules",
    "statutory_days",
    "working_days_between",
]

CALENDAR_FILE = KB_DIR / "calendar.yaml"

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ONE_DAY = _dt.timedelta(days=1)


@dataclass(frozen=True)
class WorkdayResult:
    """The day a working-day count lands on.

    `provisional` is True when any day counted or skipped on the way lies in a year without a
    published State Council arrangement, so the date may move once that year's 调休 is known.
    """

    date: date
    provisional: bool


# --------------------------------------------------------------------------- rules (kb)


@cache
def rules() -> dict:
    """The calendar rules of `kb/calendar.yaml`, validated against `calendar.schema.json`.

    Raises `KnowledgeBaseError` listing every problem when the file is invalid.
    """
    from engine.kb.schemas import schema_problems

    file = relative(CALENDAR_FILE)
    data = load_yaml(CALENDAR_FILE)
    problems = schema_problems("calendar", data, file)
    if not problems:
        ids = [h["id"] for h in data["holidays"]]
        for i, h in enumerate(data["holidays"]):
            where = f"holidays.{i}"
            if ids.count(h["id"]) > 1:
                problems.append(Problem(file, f"{where}.id", f"duplicate holiday id {h['id']!r}"))
            if h["rule"] == "fixed":
                try:
                    date(2000, h["month"], h["day"])  # a leap year: 29 February is allowed
                except ValueError:
                    problems.append(Problem(file, f"{where}.day", f"{h['month']}/{h['day']} is not a calendar day"))
    if problems:
        raise KnowledgeBaseError(problems)
    return data


@cache
def _weekly_rest_days() -> frozenset[int]:
    """Weekday numbers (Monday = 0) of the weekly rest days."""
    return frozenset(_WEEKDAYS.index(name) for name in rules()["weekly_rest_days"]["days"])


# --------------------------------------------------------------------------- provisional calendar


def _lunar_to_solar(lunar_year: int, month: int, day) -> date | None:
    """The Gregorian date of lunar `month`/`day` (never the leap month) of `lunar_year`.

    None when the lunar library has no data for that lunar year.
    """
    if not LunarDate.min.year <= lunar_year <= LunarDate.max.year:
        return None
    if day == "last":
        day = LCalendars.ndays(lunar_year, month, 0)
    try:
        return LunarDate(lunar_year, month, day, 0).to_solar_date()
    except ValueError:  # day 30 in a 29-day month: that holiday does not occur that year
        return None


def _first_days(holiday: dict, year: int) -> list[date]:
    """First days of the occurrences of `holiday` that start in Gregorian `year`."""
    rule = holiday["rule"]
    if rule == "fixed":
        try:
            return [date(year, holiday["month"], holiday["day"])]
        except ValueError:  # 29 February in a common year
            return []
    if rule == "solar_term":
        try:
            terms = chinese_calendar.get_solar_terms(date(year, 1, 1), date(year, 12, 31))
        except NotImplementedError as exc:
            raise ValueError(f"no solar-term data for {year}: {exc}") from None
        return [d for d, name in terms if name == holiday["term"]]
    # lunar: a lunar year straddles two Gregorian years, so look at both that can reach `year`
    out = []
    for lunar_year in (year - 1, year):
        d = _lunar_to_solar(lunar_year, holiday["month"], holiday["day"])
        if d is not None and d.year == year:
            out.append(d)
    return out


def _check_supported(year: int) -> None:
    lo, hi = LunarDate.min.year + 1, LunarDate.max.year
    if not lo <= year <= hi:
        raise ValueError(
            f"no calendar for {year}: it has no published arrangement and the lunar calendar "
            f"used for provisional years covers only {lo}-{hi}"
        )


def _holiday_days(year: int) -> dict[date, str]:
    """Statutory holiday days of all occurrences starting in `year` (may run into `year + 1`)."""
    out: dict[date, str] = {}
    for holiday in rules()["holidays"]:
        for first in _first_days(holiday, year):
            for k in range(holiday["length"]):
                out.setdefault(first + k * _ONE_DAY, holiday["name"])
    return out


def statutory_days(year: int) -> dict[date, str]:
    """The statutory holiday and 补假 days of `year` under the rules of kb/calendar.yaml alone.

    Maps each day to the holiday's name; a 补假 day is named `<holiday>（补假）`. Computed for
    any supported year (also the published ones, which is how the rules are checked against
    the real arrangements); `is_working_day` uses it only for provisional years.
    Raises ValueError outside the years the lunar calendar covers.
    """
    return dict(_statutory_days(year))


@cache
def _statutory_days(year: int) -> tuple[tuple[date, str], ...]:
    _check_supported(year)
    weekly = _weekly_rest_days()
    holidays: dict[date, str] = {}
    for y in (year - 1, year):  # a holiday, or its 补假, may run over New Year
        if y >= LunarDate.min.year + 1:
            for d, name in _holiday_days(y).items():
                holidays.setdefault(d, name)
    days = dict(holidays)
    if rules()["compensation"]["rule"] == "next_weekday_not_holiday":
        for d in sorted(holidays):
            if d.weekday() in weekly:
                c = d + _ONE_DAY
                while c.weekday() in weekly or c in days:
                    c += _ONE_DAY
                days[c] = f"{holidays[d]}（补假）"
    return tuple((d, days[d]) for d in sorted(days) if d.year == year)


def provisional_rest_days(year: int) -> frozenset[date]:
    """Every rest day of `year` under the provisional rules: weekly rest days, holidays, 补假."""
    weekly = _weekly_rest_days()
    first, last = date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal()
    rest = {date.fromordinal(o) for o in range(first, last + 1) if date.fromordinal(o).weekday() in weekly}
    return frozenset(rest.union(d for d, _ in _statutory_days(year)))


# --------------------------------------------------------------------------- per-year tables


@cache
def _published(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 7, 1))
    except NotImplementedError:
        return False
    return True


@cache
def _year(year: int) -> tuple[frozenset[int], tuple[int, ...]]:
    """(rest-day ordinals, sorted working-day ordinals) of `year`."""
    first, last = date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal()
    if _published(year):
        rest = frozenset(o for o in range(first, last + 1) if not chinese_calendar.is_workday(date.fromordinal(o)))
    else:
        rest = frozenset(d.toordinal() for d in provisional_rest_days(year))
    work = tuple(o for o in range(first, last + 1) if o not in rest)
    return rest, work


def _as_date(d) -> date:
    if type(d) is date:
        return d
    if isinstance(d, _dt.datetime):
        return d.date()
    if isinstance(d, date):
        return date(d.year, d.month, d.day)
    raise TypeError(f"expected a datetime.date, got {type(d).__name__}")


def _as_int(n) -> int:
    if type(n) is int:
        return n
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"expected an int, got {type(n).__name__}")
    return int(n)


# --------------------------------------------------------------------------- public API


def is_provisional(d: date) -> bool:
    """True when `d`'s year has no published State Council arrangement in chinese-calendar."""
    return not _published(_as_date(d).year)


def is_working_day(d: date) -> bool:
    """True when `d` is a working day (调休 working weekends included; provisional years by rule)."""
    d = _as_date(d)
    return d.toordinal() not in _year(d.year)[0]


def _any_provisional(first: date, last: date) -> bool:
    """True when any year from `first`'s to `last`'s is provisional."""
    return any(not _published(y) for y in range(first.year, last.year + 1))


def add_working_days(start: date, n: int) -> WorkdayResult:
    """The |n|th working day after (n > 0) or before (n < 0) `start`; `start` itself for n == 0.

    `start` is never counted, whether or not it is a working day: 2025-04-28 + 15 is
    2025-05-22, and n == -3 from a Monday gives the Wednesday before when no holiday intervenes.
    `provisional` is True when a day in (start, result] (n > 0) or [result, start) (n < 0) lies
    in a year without a published arrangement; always False for n == 0, as nothing is counted.
    Raises ValueError past the years the calendar covers.
    """
    start = _as_date(start)
    n = _as_int(n)
    if n == 0:
        return WorkdayResult(start, False)
    s = start.toordinal()
    year = start.year
    if n > 0:
        work = _year(year)[1]
        i = bisect_right(work, s)
        while i + n > len(work):
            n -= len(work) - i
            year += 1
            work = _year(year)[1]
            i = 0
        result = date.fromordinal(work[i + n - 1])
        span = (start + _ONE_DAY, result)
    else:
        m = -n
        work = _year(year)[1]
        i = bisect_left(work, s)  # working days strictly before start in its year
        while m > i:
            m -= i
            year -= 1
            work = _year(year)[1]
            i = len(work)
        result = date.fromordinal(work[i - m])
        span = (result, start - _ONE_DAY)
    return WorkdayResult(result, _any_provisional(*span))


def working_days_between(a: date, b: date) -> int:
    """The number of working days in (a, b] when a <= b; minus those in [b, a) when b < a.

    Both directions leave out `a` and count as `add_working_days` does, so
    `working_days_between(d, add_working_days(d, n).date) == n` for every n.
    """
    a, b = _as_date(a), _as_date(b)
    if b < a:
        return -working_days_between(b - _ONE_DAY, a - _ONE_DAY)
    wa, wb = _year(a.year)[1], _year(b.year)[1]
    if a.year == b.year:
        return bisect_right(wa, b.toordinal()) - bisect_right(wa, a.toordinal())
    total = len(wa) - bisect_right(wa, a.toordinal())
    for y in range(a.year + 1, b.year):
        total += len(_year(y)[1])
    return total + bisect_right(wb, b.toordinal())


def add_months(d: date, n: int) -> date:
    """The same day of the month `n` months after (n > 0) or before (n < 0) `d`.

    When the target month has no such day, the last day of the target month is used:
    2025-01-31 + 1 month is 2025-02-28 (2024-02-29 in a leap year), 2024-02-29 + 12 months is
    2025-02-28, 2025-03-31 - 1 month is 2025-02-28. This is the rule of 民法典第二百零二条
    (到期月的对应日为期间的最后一日；没有对应日的，月末日为期间的最后一日). The result is
    not moved off a rest day: the contract counts months on the calendar, not in working days.
    Raises ValueError if the result falls outside years 1-9999.
    """
    d = _as_date(d)
    n = _as_int(n)
    y, m0 = divmod(d.year * 12 + (d.month - 1) + n, 12)
    if not 1 <= y <= 9999:
        raise ValueError(f"{d.isoformat()} {n:+d} months is outside years 1-9999")
    m = m0 + 1
    return date(y, m, min(d.day, _calendar.monthrange(y, m)[1]))
