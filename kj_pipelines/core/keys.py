"""Unit, period and indicator columns held as pandas categoricals with one shared, sorted set of
categories each, so that merges, ``isin``, sorts and duplicate checks over a province's millions
of rows compare integer codes instead of hashing Python strings (about a third of the
computation before).

The categories are sorted, so a categorical column sorts as its strings do, and every frame
keyed here carries the same dtype, which pandas joins on codes. A column holding a value outside
its categories (a unit the catalog does not know, a period that is not a month) stays as it is:
slower, never wrong.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import numpy as np
import pandas as pd

FIRST_YEAR, LAST_YEAR = 1900, 2099


@lru_cache(maxsize=1)
def period_dtype() -> pd.CategoricalDtype:
    return pd.CategoricalDtype([f"{y:04d}-{m:02d}" for y in range(FIRST_YEAR, LAST_YEAR + 1)
                                for m in range(1, 13)])


@lru_cache(maxsize=8)
def _dtype(values: tuple[str, ...]) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(values)


def name_dtype(names: Iterable[str]) -> pd.CategoricalDtype:
    """The dtype for a column of ``names`` (unit codes, indicator codes), cached per set."""
    return _dtype(tuple(sorted(set(names))))


def keyed(frame: pd.DataFrame, units: Iterable[str], indicators: Iterable[str] = ()
          ) -> pd.DataFrame:
    """``frame`` with its ``unit``, ``period`` and ``indicator`` columns (those it has) as
    categoricals; a column with a value outside its categories is left as it was."""
    dtypes = {"unit": name_dtype(units), "period": period_dtype(),
              "indicator": name_dtype(indicators)}
    coded = {}
    for column, dtype in dtypes.items():
        if column not in frame.columns or isinstance(frame[column].dtype, pd.CategoricalDtype):
            continue
        values = frame[column]
        column_coded = pd.Categorical(values, dtype=dtype)
        if (column_coded.codes == -1).sum() == values.isna().sum():
            coded[column] = column_coded
    return frame.assign(**coded) if coded else frame


def mapped(column: pd.Series, mapping: dict, default: object) -> np.ndarray:
    """``column``'s values looked up in ``mapping`` (``default`` for a value it lacks and for a
    missing one), once per category when the column is keyed."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        lookup = np.array([mapping.get(c, default) for c in column.cat.categories] + [default])
        return lookup[column.cat.codes.to_numpy()]  # a missing value's code -1: the default
    return column.map(mapping).fillna(default).to_numpy()


def sorted_codes(column: pd.Series) -> tuple[np.ndarray, pd.Index | None]:
    """Integer codes that order as ``column``'s values sort, and what they stand for: a keyed
    column's own codes (None: its dtype says), else its sorted factorization's."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(), None
    codes, uniques = pd.factorize(column, sort=True)
    return codes, pd.Index(uniques)


def unit_month_order(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                    np.ndarray]:
    """(order, unit codes, years, months) of ``frame``'s rows, each unit's rows in month order
    (a stable sort: rows of the same unit and month keep theirs); the codes, years and months
    already in that order."""
    from kj_pipelines.core.periods import year_month_arrays
    units = sorted_codes(frame["unit"])[0]
    year, month = year_month_arrays(frame["period"])
    order = np.lexsort((month, year, units))
    return order, units[order], year[order], month[order]
