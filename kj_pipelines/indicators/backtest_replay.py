"""``kj backtest``: the warning rules replayed on the warehouse's past years (预判预警 可信度).

Every monthly indicator's progress and projections are recomputed for the years asked, as each
month would have seen them (a month's status and projection use only figures up to that month
and the years before), then scored by :mod:`kj_pipelines.indicators.backtest`.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from kj_pipelines.catalog.model import Catalog
from kj_pipelines.indicators.backtest import RuleScore, score
from kj_pipelines.indicators.service import run_indicator


def replay(conn: duckdb.DuckDBPyConnection, catalog: Catalog, years: list[int]
           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(progress, projections) of every monthly indicator over ``years``, every deadline past."""
    periods = [f"{y:04d}-{m:02d}" for y in years for m in range(1, 13)]
    after = dt.date(max(years) + 2, 1, 1)  # every figure of those years is due by then
    progress, projections = [], []
    for indicator in catalog.topological_indicators():
        if indicator.frequency != "monthly":
            continue
        run = run_indicator(conn, catalog, indicator.code, periods, after, write=False)
        progress.append(run.progress)
        projections.append(run.projections)
    return pd.concat(progress, ignore_index=True), pd.concat(projections, ignore_index=True)


def backtest(conn: duckdb.DuckDBPyConnection, catalog: Catalog, years: list[int]
             ) -> list[RuleScore]:
    progress, projections = replay(conn, catalog, years)
    monthly = {c for c, i in catalog.indicators.items() if i.frequency == "monthly"}
    return score(progress, projections, monthly)
