"""Expected dates worked out from the State Council's arrangement (chinese_calendar), never from the engine."""

import datetime as dt

import chinese_calendar


def nth_working_day_after(day: dt.date, n: int) -> dt.date:
    """The nth working day after `day` (the day itself not counted)."""
    while n:
        day += dt.timedelta(days=1)
        if chinese_calendar.is_workday(day):
            n -= 1
    return day
