"""Reporting periods: months ``YYYY-MM``, quarters ``YYYY-Qn``, ISO weeks ``YYYY-Wnn``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

# the bureau's clock: monitoring periods, deadlines and every stored time are Asia/Shanghai's
TIMEZONE = "Asia/Shanghai"


def month_key(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def parse_month(key: str) -> tuple[int, int]:
    year, month = key.split("-")
    return int(year), int(month)


def add_months(key: str, n: int) -> str:
    year, month = parse_month(key)
    index = year * 12 + month - 1 + n
    return month_key(index // 12, index % 12 + 1)


def months_between(start: str, end: str) -> Iterator[str]:
    """Inclusive range of month keys."""
    key = start
    while key <= end:
        yield key
        key = add_months(key, 1)


def month_end(key: str) -> dt.date:
    year, month = parse_month(key)
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def as_date(value: object) -> dt.date | None:
    """A date as the warehouse or a frame gives it back (date, Timestamp, datetime64, ISO text);
    ``None`` for a missing one (None, NaN, NaT)."""
    import pandas as pd  # deferred: the rest of this module is plain datetime

    if value is None or (not isinstance(value, dt.date) and pd.isna(value)) or value is pd.NaT:
        return None
    return pd.Timestamp(value).date()


def quarter_of(month: int) -> int:
    return (month - 1) // 3 + 1


def quarter_label(key: str) -> str:
    year, month = parse_month(key)
    return f"{year}-Q{quarter_of(month)}"


def deadline(key: str, release_lag: int, deadline_day: int) -> dt.date:
    """When a month's figure is due: ``deadline_day`` of the month after period end + lag."""
    year, month = parse_month(add_months(key, 1 + release_lag))
    return dt.date(year, month, deadline_day)


def last_complete_month(today: dt.date) -> str:
    return add_months(month_key(today.year, today.month), -1)


def last_complete_quarter(key: str) -> str:
    """The partition key (first month) of the last quarter ending at or before month ``key``:
    2026-10 → 2026-07, 2026-09 → 2026-07, 2026-02 → 2025-10."""
    quarter_end = add_months(key, -(parse_month(key)[1] % 3))
    return add_months(quarter_end, -2)


def review_monday(key: str, deadline_day: int) -> dt.date:
    """The Monday of the first weekly consultation after month ``key``'s submission deadline
    (the week it can discuss the month's figures)."""
    due = deadline(key, 0, deadline_day)
    return due + dt.timedelta(days=(7 - due.weekday()) % 7 or 7)


def first_monday(first_period: str) -> dt.date:
    """The first Monday on or after month ``first_period``'s first day: the first weekly key."""
    year, month = parse_month(first_period)
    first_day = dt.date(year, month, 1)
    return first_day + dt.timedelta(days=(7 - first_day.weekday()) % 7)


def quarter_start(key: str) -> str:
    """The first month of the quarter holding month ``key``: 2023-05 → 2023-04."""
    year, month = parse_month(key)
    return month_key(year, (month - 1) // 3 * 3 + 1)


def year_month_arrays(keys: object) -> tuple[object, object]:
    """Years and months of many month keys at once, as integer arrays (a province's history is
    a million keys: each distinct key is parsed once)."""
    import numpy as np  # deferred, as pandas above
    import pandas as pd

    codes, distinct = pd.factorize(pd.Series(keys, dtype=object))
    parsed = np.array([parse_month(k) for k in distinct], dtype="int64").reshape(-1, 2)
    if not len(parsed):
        return np.zeros(0, dtype="int64"), np.zeros(0, dtype="int64")
    return parsed[codes, 0], parsed[codes, 1]
