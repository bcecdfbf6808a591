"""A figure read from a frame or a record: a float, or ``None`` for a missing one (None, NaN,
pandas' NA)."""

from __future__ import annotations

import pandas as pd


def as_number(value: object, digits: int | None = None) -> float | None:
    if value is None or pd.isna(value):
        return None
    return round(float(value), digits) if digits is not None else float(value)
