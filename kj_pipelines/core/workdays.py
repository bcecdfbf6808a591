"""Chinese working days (法定节假日与调休), for back-scheduling by working days.

chinese-calendar knows the State Council's schedule for the years it was released with (2004-2026
in 1.11); later years come from the catalog's ``holidays.yaml`` the bureau maintains, and a year
known to neither falls back to Monday-Friday.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import chinese_calendar


def _range(year: int):
    day = dt.date(year, 1, 1)
    while day.year == year:
        yield day
        day += dt.timedelta(days=1)


@lru_cache(maxsize=64)
def _library_workdays(year: int) -> tuple[int, ...] | None:
    try:
        counts = [0] * 12
        for day in _range(year):
            if chinese_calendar.is_workday(day):
                counts[day.month - 1] += 1
        return tuple(counts)
    except NotImplementedError:
        return None


def monthly_workdays(year: int, holiday_file: dict[int, dict[str, list[str]]] | None = None
                     ) -> tuple[list[int], str]:
    """Working days per month of ``year`` and where the calendar came from."""
    spec = (holiday_file or {}).get(year)
    if spec:
        holidays = {dt.date.fromisoformat(d) for d in spec.get("holidays", [])}
        makeup = {dt.date.fromisoformat(d) for d in spec.get("workdays", [])}
        counts = [0] * 12
        for day in _range(year):
            if (day.weekday() < 5 and day not in holidays) or day in makeup:
                counts[day.month - 1] += 1
        return counts, "holidays.yaml"
    library = _library_workdays(year)
    if library is not None:
        return list(library), "chinese-calendar"
    counts = [0] * 12
    for day in _range(year):
        if day.weekday() < 5:
            counts[day.month - 1] += 1
    return counts, "weekdays"


@lru_cache(maxsize=64)
def _library_workday_set(year: int) -> frozenset[dt.date] | None:
    # chinese-calendar checks its range on every call (slow in loops): ask once per year
    try:
        return frozenset(d for d in _range(year) if chinese_calendar.is_workday(d))
    except NotImplementedError:
        return None


def is_workday(day: dt.date, holiday_file: dict[int, dict[str, list[str]]] | None = None) -> bool:
    """A working day by the same calendar as the back-scheduled plans."""
    spec = (holiday_file or {}).get(day.year)
    if spec:
        if day.isoformat() in spec.get("workdays", []):
            return True
        return day.weekday() < 5 and day.isoformat() not in spec.get("holidays", [])
    known = _library_workday_set(day.year)
    return day in known if known is not None else day.weekday() < 5


def effective_due(day: dt.date, holiday_file: dict[int, dict[str, list[str]]] | None = None
                  ) -> dt.date:
    """A deadline falling on a weekend or holiday moves to the next working day (遇节假日顺延)."""
    while not is_workday(day, holiday_file):
        day += dt.timedelta(days=1)
    return day


def workdays_until(today: dt.date, due: dt.date,
                   holiday_file: dict[int, dict[str, list[str]]] | None = None,
                   cap: int | None = None) -> int:
    """Working days in (today, due]: 0 when due today or past, 1 when due the next working day;
    counting stops past ``cap`` when given (callers that only compare with a threshold)."""
    count, day = 0, today
    while day < due and (cap is None or count <= cap):
        day += dt.timedelta(days=1)
        count += is_workday(day, holiday_file)
    return count


def add_workdays(day: dt.date, n: int,
                 holiday_file: dict[int, dict[str, list[str]]] | None = None) -> dt.date:
    """The ``n``-th working day after ``day``."""
    while n > 0:
        day += dt.timedelta(days=1)
        n -= is_workday(day, holiday_file)
    return day
