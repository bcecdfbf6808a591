"""Figures laid out on grids [unit, month] by position: how the plan and the projection read a
province's history (1,900 units) without a Python loop over units or a pivot per year."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kj_pipelines.core.periods import year_month_arrays


class MonthGrid:
    """One column of rows (period, unit, …) by unit, year and month. Each year's grid is built
    once and each list of units looked up once; the first row of a duplicate wins, a unit or
    month without a row is NaN."""

    def __init__(self, rows: pd.DataFrame, column: str = "value"):
        self.years, self.months = year_month_arrays(rows["period"])
        self.codes, self.names = pd.factorize(rows["unit"].to_numpy())
        self.values = rows[column].to_numpy(dtype="float64")
        self._grids: dict[int, np.ndarray] = {}
        self._rows: dict[tuple[str, ...], np.ndarray] = {}

    def _grid(self, year: int) -> np.ndarray:
        if year not in self._grids:
            rows = np.flatnonzero(self.years == year)[::-1]  # the first of a duplicate wins
            grid = np.full((len(self.names) + 1, 12), np.nan)  # the last row: unknown units
            grid[self.codes[rows], self.months[rows] - 1] = self.values[rows]
            self._grids[year] = grid
        return self._grids[year]

    def year(self, units: Sequence[str], year: int) -> np.ndarray:
        """The figures of ``year`` on a grid [unit, month]; ``units`` may repeat a unit."""
        key = tuple(units)
        if key not in self._rows:
            found = pd.Index(self.names).get_indexer(list(units))
            self._rows[key] = np.where(found >= 0, found, len(self.names))
        return self._grid(year)[self._rows[key]]

    def december(self, units: Sequence[str], year: int) -> np.ndarray:
        return self.year(units, year)[:, 11]
