"""An indicator's value for a month, per unit and for the district (``ALL``).

Flows are read year-to-date (累计), stocks at period end, ratios as the ratio of two year-to-date
flows, growth rates against the same period of last year. Totals follow the catalog: the sum
of the units below (towns to their county, every reporting unit to the top ``ALL``), the
department's district-only figure, or the ratio of the sums.

A total is the sum of what its units reported. While some have not reported, that partial sum
is kept as the total's ``value`` and an ``estimate`` is made beside it: each missing unit
carries its latest figure forward (a flow its year to date of the same year, nothing before
its first month; a stock its latest figure), so a total with one town late does not collapse.
Which of the two a document shows, and that a total with units missing is never judged, is
:mod:`progress`'s rule; a unit's own row has its figure as its estimate.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from kj_pipelines.catalog.model import DISTRICT, Catalog, Indicator
from kj_pipelines.core.keys import sorted_codes, unit_month_order
from kj_pipelines.core.periods import add_months, parse_month

VALUE_COLUMNS = ["period", "indicator", "unit", "value", "monthly", "source", "estimate"]


def required_periods(indicator: Indicator, catalog: Catalog, periods: list[str]) -> list[str]:
    """Months of facts needed: the years of ``periods`` (and the year before, for growth)."""
    years = {parse_month(p)[0] for p in periods}
    if _needs_last_year(indicator, catalog):
        years |= {y - 1 for y in years}
    return [f"{y:04d}-{m:02d}" for y in sorted(years) for m in range(1, 13)]


def _needs_last_year(indicator: Indicator, catalog: Catalog) -> bool:
    if indicator.aggregate == "growth":
        return True
    return any(_needs_last_year(catalog.indicators[c], catalog)
               for c in (indicator.numerator, indicator.denominator) if c)


def compute_values(indicator: Indicator, catalog: Catalog, facts: pd.DataFrame,
                   periods: list[str], without: Collection[str] = ()) -> pd.DataFrame:
    """Values for ``periods`` from the facts (submitted and registry rows of the inputs).
    ``without``: totals not wanted (a plausibility check judges the units, not their sums);
    every other row is as it would be with them."""
    if indicator.aggregate == "ratio":
        num = compute_values(catalog.indicators[indicator.numerator], catalog, facts, periods,
                             without)
        den = compute_values(catalog.indicators[indicator.denominator], catalog, facts, periods,
                             without)
        both = num.merge(den, on=["period", "unit"], suffixes=("_n", "_d"))
        both = both[both["value_d"] > 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            estimate = np.where(both["estimate_d"] > 0,
                                both["estimate_n"] / both["estimate_d"] * 100, np.nan)
        out = both.assign(value=both["value_n"] / both["value_d"] * 100, monthly=float("nan"),
                          estimate=estimate)
        return _finish(out, indicator, "derived")
    if indicator.aggregate == "growth":
        base_ind = catalog.indicators[indicator.base]
        last_year = [add_months(p, -12) for p in periods]
        base = compute_values(base_ind, catalog, facts, sorted(set(periods) | set(last_year)),
                              without)
        next_year = {p: add_months(p, 12) for p in base["period"].unique()}
        # an empty base (no figures yet) maps to a float column, which cannot be merged on
        prev = base.assign(period=base["period"].map(next_year) if not base.empty
                           else base["period"].astype(object))
        both = base[base["period"].isin(periods)].merge(prev, on=["period", "unit"],
                                                        suffixes=("", "_prev"))
        both = both[both["value_prev"] > 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            estimate = np.where(both["estimate_prev"] > 0,
                                (both["estimate"] / both["estimate_prev"] - 1) * 100, np.nan)
        out = both.assign(value=(both["value"] / both["value_prev"] - 1) * 100,
                          monthly=float("nan"), estimate=estimate)
        return _finish(out, indicator, "derived")
    own = facts[facts["indicator"] == indicator.code]
    allowed: list[str] = []
    if indicator.aggregate == "district_only":
        own = own.assign(unit=DISTRICT)
    else:
        allowed = [u.code for u in catalog.reporting_units(indicator)]
        own = own[own["unit"].isin(allowed)]
    flow = indicator.kind == "flow"
    # every month the facts hold, so a missing unit can carry its figure of a month before
    values = _flow_ytd(own) if flow else _levels(own)
    values = values.assign(estimate=values["value"])
    rollups = {above: units for above, units in catalog.rollup_units(indicator).items()
               if above not in without}
    if indicator.aggregate == "sum" and not values.empty and rollups:
        totals = roll_up(values, rollups)
        carried = carried_forward(values, allowed, flow) \
            if indicator.source == "submission" else values.iloc[0:0]
        if carried.empty:
            totals = totals.assign(estimate=totals["value"])
        else:
            estimates = roll_up(pd.concat([values, carried], ignore_index=True), rollups)
            totals = totals.merge(estimates[["period", "unit", "value"]].rename(
                columns={"value": "estimate"}), on=["period", "unit"], how="left")
        values = pd.concat([values, totals], ignore_index=True)
    values = values[values["period"].isin(periods)]
    return _finish(values, indicator, indicator.source)


def carried_forward(values: pd.DataFrame, units: list[str], flow: bool) -> pd.DataFrame:
    """For every month in which any of ``units`` has a figure, a row for each unit without one,
    carrying its latest earlier figure: a flow's year to date of the same year (nothing yet that
    year: 0, where every year starts), a stock's latest figure (none before its first: no row).
    These rows make a total's estimate while units are missing, never its value."""
    if values.empty or not units:
        return pd.DataFrame(columns=["period", "unit", "value", "monthly"])
    months = pd.Index(sorted(set(values["period"])))
    names = pd.Index(units)
    u = names.get_indexer(values["unit"])
    m = months.get_indexer(values["period"])
    known = u >= 0
    grid = np.full((len(names), len(months)), np.nan)
    grid[u[known], m[known]] = values["value"].to_numpy(dtype="float64")[known]
    have = ~np.isnan(grid)
    column = np.arange(len(months))
    last = np.maximum.accumulate(np.where(have, column, -1), axis=1)  # latest month with one
    filled = np.where(last >= 0, np.take_along_axis(grid, np.maximum(last, 0), axis=1), np.nan)
    if flow:
        years = np.array([int(str(p)[:4]) for p in months])
        same_year = (last >= 0) & (years[np.maximum(last, 0)] == years[None, :])
        filled = np.where(same_year, filled, 0.0)
    wanted = ~have & ~np.isnan(filled)
    rows, cols = np.nonzero(wanted)
    return pd.DataFrame({"period": months[cols].astype(str), "unit": names[rows].astype(str),
                         "value": filled[rows, cols], "monthly": 0.0 if flow else np.nan})


def roll_up(values: pd.DataFrame, rollups: dict[str, list[str]]) -> pd.DataFrame:
    """Sums of the reporting units' values for each unit above them (a county's towns, and every
    reporting unit for ``ALL``): one row per unit above and period that has any figure.

    Each row is repeated once per unit above it, in the rows' order (what a merge with the
    links gives, without its cost), and summed by pandas as before: the same additions in the
    same order, so the same last bit."""
    below = [unit for units in rollups.values() for unit in units]
    above = np.array([a for a, units in rollups.items() for _ in units], dtype=object)
    if not below or values.empty:
        return pd.DataFrame({"period": values["period"].iloc[0:0], "unit": pd.Series(
            [], dtype=object), "value": [], "monthly": []}).astype(
            {"value": "float64", "monthly": "float64"})
    names, link_unit = np.unique(np.array(below, dtype=object), return_inverse=True)
    row_unit = pd.Index(names).get_indexer(values["unit"])
    per_unit = np.bincount(link_unit, minlength=len(names))  # links of each unit, in order
    links = np.argsort(link_unit, kind="stable")
    first_link = np.concatenate([[0], np.cumsum(per_unit)[:-1]])
    linked = row_unit >= 0
    repeats = np.where(linked, per_unit[np.maximum(row_unit, 0)], 0)
    rows = np.repeat(np.arange(len(values)), repeats)
    nth = np.arange(len(rows)) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    link = links[first_link[row_unit[rows]] + nth]
    period = values["period"]
    period_codes, months = sorted_codes(period)
    above_names, above_codes = np.unique(above, return_inverse=True)
    # one integer key per (month, unit above), ordered as the month then the unit's name
    key = period_codes[rows].astype("int64") * len(above_names) + above_codes[link]
    parts = pd.DataFrame({"value": values["value"].to_numpy(dtype="float64")[rows],
                          "monthly": values["monthly"].to_numpy(dtype="float64")[rows]})
    sums = parts.groupby(key).sum(min_count=1)
    keys = sums.index.to_numpy()
    month_codes = keys // len(above_names)
    return pd.DataFrame({
        "period": pd.Categorical.from_codes(month_codes, dtype=period.dtype) if months is None
        else months[month_codes],
        "unit": above_names[keys % len(above_names)],
        "value": sums["value"].to_numpy(), "monthly": sums["monthly"].to_numpy()})


def _finish(frame: pd.DataFrame, indicator: Indicator, source: str) -> pd.DataFrame:
    out = frame.assign(indicator=indicator.code, source=source)
    if "monthly" not in out.columns:
        out["monthly"] = float("nan")
    if "estimate" not in out.columns:
        out["estimate"] = out["value"]
    out = out[VALUE_COLUMNS].sort_values(["period", "unit"]).reset_index(drop=True)
    wrong = {c: "float64" for c in ("value", "monthly", "estimate") if out[c].dtype != "float64"}
    return out.astype(wrong) if wrong else out


def _levels(own: pd.DataFrame) -> pd.DataFrame:
    rows = own
    value = rows["value"].where(rows["value"].notna(), rows["cumulative"])
    out = pd.DataFrame({"period": rows["period"], "unit": rows["unit"], "value": value,
                        "monthly": float("nan")})
    return out[out["value"].notna()]


def _flow_ytd(own: pd.DataFrame) -> pd.DataFrame:
    """Year-to-date per unit: the submitted 累计值, else the sum of the year's 本期值 so far.

    On arrays: the rows ordered by unit and month, each (unit, year) a run of rows; the running
    sum is pandas' grouped cumsum over those runs (the additions its two-key groupby made)."""
    if own.empty:
        return pd.DataFrame(columns=["period", "unit", "value", "monthly"])
    order, u, y, m = unit_month_order(own)
    value = own["value"].to_numpy(dtype="float64")[order]
    cumulative = own["cumulative"].to_numpy(dtype="float64")[order]
    starts = np.ones(len(order), dtype=bool)
    starts[1:] = (u[1:] != u[:-1]) | (y[1:] != y[:-1])
    run = np.cumsum(starts)
    running = pd.Series(np.where(np.isnan(value), 0.0, value)).groupby(run).cumsum().to_numpy()
    ytd = np.where(np.isnan(cumulative), running, cumulative)
    prev = np.concatenate([[np.nan], ytd[:-1]])
    prev[starts] = np.nan
    with np.errstate(invalid="ignore"):
        monthly = np.where(np.isnan(value), ytd - np.where(m > 1, prev, 0.0), value)
    return pd.DataFrame({"period": own["period"].iloc[order].reset_index(drop=True),
                         "unit": own["unit"].iloc[order].reset_index(drop=True),
                         "value": ytd, "monthly": monthly})
