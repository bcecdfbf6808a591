"""How far warnings are to be believed: each warning rule replayed on past years.

For every year, indicator and unit with a target and a December figure, each rule is asked at
every month from January to November whether it would have warned, and the year's December
figure says whether the target was in fact missed. A unit-year the rule warned on and that
missed is a hit; warned and met, a false alarm; missed without a warning, a miss. The lead time
of a hit is the months from its first warning to the year end (a warning in September: 3).

``kj backtest`` (:func:`backtest`) replays the rules on a warehouse's past years: every monthly
indicator's progress and projections recomputed as each month would have seen them (a month's
status and projection use only figures up to that month and the years before), then scored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from kj_pipelines.catalog.model import Catalog
from kj_pipelines.indicators.service import run_indicator

RULES = {
    "status": "现行规则：落后倒排计划转黄/红即预警",
    "projection": "预计年末：较悲观的预计年末值低于目标超过容差即预警",
    "projection_confirmed": "预计年末＋快慢窗口确认（本月与近三个月均值都低于目标超过容差）",
}
SHIPPED_RULE = "projection_confirmed"
KEY = ["indicator", "unit", "year"]


@dataclass(frozen=True)
class RuleScore:
    rule: str
    unit_years: int
    missed: int
    warned: int
    hits: int
    precision: float
    recall: float
    median_lead: float

    def as_row(self) -> dict[str, object]:
        return {"rule": self.rule, "unit_years": self.unit_years, "missed": self.missed,
                "warned": self.warned, "hits": self.hits,
                "precision": round(self.precision, 3), "recall": round(self.recall, 3),
                "median_lead_months": self.median_lead}


def outcomes(progress: pd.DataFrame) -> pd.DataFrame:
    """Each unit-year's December result: (indicator, unit, year, missed); a December without a
    figure (grey), not yet due (pending) or without a target (no status) is left out, its
    outcome unknown."""
    december = progress[progress["period"].str.endswith("-12")
                        & progress["status"].isin(["green", "yellow", "red", "done"])]
    out = december.assign(year=december["period"].str[:4].astype(int),
                          missed=december["status"] != "done")
    return out[[*KEY, "missed"]].drop_duplicates(KEY)


def signals(progress: pd.DataFrame, projections: pd.DataFrame) -> pd.DataFrame:
    """Per unit-year and month (1…11), whether each rule warns."""
    status = progress[~progress["period"].str.endswith("-12")].assign(
        year=lambda f: f["period"].str[:4].astype(int),
        month=lambda f: f["period"].str[5:7].astype(int),
        status_rule=lambda f: f["status"].isin(["yellow", "red"]))[[*KEY, "month", "status_rule"]]
    projected = projections[projections["month"] < 12][[*KEY, "month", "fast", "confirmed"]]
    both = status.merge(projected, on=[*KEY, "month"], how="outer")
    return both.assign(status=both["status_rule"].eq(True), projection=both["fast"].eq(True),
                       projection_confirmed=both["confirmed"].eq(True))[
        [*KEY, "month", *RULES]]


def score(progress: pd.DataFrame, projections: pd.DataFrame,
          indicators: set[str] | None = None) -> list[RuleScore]:
    """Each rule's precision, recall and median lead time over the unit-years of ``progress``
    (restricted to ``indicators`` when given: the monthly ones a projection is made for)."""
    results = outcomes(progress)
    if indicators is not None:
        results = results[results["indicator"].isin(indicators)]
    marks = signals(progress, projections)
    out = []
    for rule in RULES:
        fired = marks[marks[rule]].groupby(KEY, as_index=False)["month"].min()
        judged = results.merge(fired, on=KEY, how="left")
        warned = judged["month"].notna()
        hits = warned & judged["missed"]
        lead = (12 - judged.loc[hits, "month"]).to_numpy()
        out.append(RuleScore(
            rule, len(judged), int(judged["missed"].sum()), int(warned.sum()), int(hits.sum()),
            float(hits.sum() / warned.sum()) if warned.any() else float("nan"),
            float(hits.sum() / judged["missed"].sum()) if judged["missed"].any()
            else float("nan"),
            float(np.median(lead)) if len(lead) else float("nan")))
    return out


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
