"""One indicator's monthly work, from warehouse facts to values, progress and findings.

Plain functions over a DuckDB connection and the domain modules; the Dagster assets call these
and only add metadata and check results.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from kj_pipelines.catalog.model import DISTRICT, Catalog, Indicator, derived_inputs
from kj_pipelines.core.grids import MonthGrid
from kj_pipelines.core.keys import FIRST_YEAR, keyed, name_dtype, period_dtype
from kj_pipelines.core.periods import parse_month, year_month_arrays
from kj_pipelines.core.settings import now_local
from kj_pipelines.indicators.backschedule import PLAN_COLUMNS, build_plan
from kj_pipelines.indicators.held import HELD_COLUMNS, hold_facts, inconsistent, noted
from kj_pipelines.indicators.progress import (
    carry_forward,
    compute_progress,
    missing_by_period,
    pending_rows,
    previous_due_periods,
)
from kj_pipelines.indicators.projection import PROJECTION_COLUMNS, project
from kj_pipelines.indicators.values import compute_values, required_periods
from kj_pipelines.storage.warehouse import ensure_schema, in_list, query, replace_rows, transaction


@dataclass
class IndicatorRun:
    values: pd.DataFrame
    progress: pd.DataFrame
    implausible: pd.DataFrame  # the figures held back (domain.held), a registry's noted
    missing: dict[str, list[str]] = field(default_factory=dict)  # period → units
    projections: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=PROJECTION_COLUMNS))
    # what makes the figures unusable as a whole (domain.held.inconsistent): stops what uses them
    inconsistent: list[str] = field(default_factory=list)


def leaf_inputs(indicator: Indicator, catalog: Catalog) -> list[str]:
    """Submitted or registry indicators an indicator is computed from (itself if not derived)."""
    inputs = derived_inputs(indicator)
    if not inputs:
        return [indicator.code]
    return sorted({c for dep in inputs for c in leaf_inputs(catalog.indicators[dep], catalog)})


def load_facts(conn: duckdb.DuckDBPyConnection, catalog: Catalog, codes: list[str],
               periods: list[str]) -> pd.DataFrame:
    """The submitted and registry facts of ``codes`` over the years of ``periods``, keyed
    (:func:`keyed`: a province's units and months compared as integer codes, not strings)."""
    ind_where, ind_params = in_list("indicator", codes)
    years = sorted({p[:4] for p in periods})
    year_where = " OR ".join("period LIKE ?" for _ in years) or "FALSE"
    # in a fixed order: DuckDB scans large tables in parallel, and sums taken in the order rows
    # arrive differ in the last bit from run to run (at province scale a unit whose share was
    # exactly its target came out 达标 in one backfill and 🔴 in the next)
    facts = f"""
        SELECT unit, indicator, period, value, cumulative FROM core.submitted_values
        WHERE {ind_where} AND ({year_where})
        UNION ALL
        SELECT unit, indicator, period, value, cumulative FROM core.registry_values
        WHERE {ind_where} AND ({year_where})"""
    params = ind_params + [f"{y}-%" for y in years]
    coded = _fetch_coded(conn, facts, params + params, catalog)
    if coded is not None:
        return coded
    return keyed(query(conn, facts + " ORDER BY ALL", params + params), catalog.units,
                 catalog.indicators)


def _fetch_coded(conn: duckdb.DuckDBPyConnection, facts: str, params: list,
                 catalog: Catalog) -> pd.DataFrame | None:
    """The rows of ``facts`` (unit, indicator, period, value, cumulative) already keyed and in
    the same order: DuckDB turns the three names into their categories' codes (sorted as the
    names are), so no string crosses into Python (a province's facts over 2019…2026, every
    indicator: 4.3-5.3 s of fetching and keying strings against 2.5-2.9 s). None when a name is
    outside its categories (a unit the catalog no longer has, a malformed month): the caller
    keys the strings, which leaves such a column as it was."""
    units, indicators = name_dtype(catalog.units), name_dtype(catalog.indicators)
    months = period_dtype()
    coded = f"""
        WITH facts AS ({facts}),
        units AS (SELECT unnest(l) AS unit, generate_subscripts(l, 1) - 1 AS code
                  FROM (SELECT ?::VARCHAR[] AS l)),
        names AS (SELECT unnest(l) AS indicator, generate_subscripts(l, 1) - 1 AS code
                  FROM (SELECT ?::VARCHAR[] AS l))
        SELECT u.code AS unit, n.code AS indicator,
               (try_cast(substr(period, 1, 4) AS INTEGER) - {FIRST_YEAR}) * 12
                   + try_cast(substr(period, 6, 2) AS INTEGER) - 1 AS period,
               value, cumulative,
               NOT regexp_full_match(period, '[0-9]{{4}}-(0[1-9]|1[0-2])') AS odd
        FROM facts LEFT JOIN units u USING (unit) LEFT JOIN names n USING (indicator)
        ORDER BY 1, 2, 3, 4, 5"""
    found = conn.execute(coded, params + [list(units.categories),
                                          list(indicators.categories)]).fetchnumpy()
    codes = {name: found[name] for name in ("unit", "indicator", "period")}
    if any(np.ma.is_masked(c) for c in codes.values()) or found["odd"].any() or \
            (len(codes["period"]) and not 0 <= codes["period"].min() <= codes["period"].max()
             < len(months.categories)):
        return None
    return pd.DataFrame({
        "unit": pd.Categorical.from_codes(np.asarray(codes["unit"], dtype="int64"), dtype=units),
        "indicator": pd.Categorical.from_codes(np.asarray(codes["indicator"], dtype="int64"),
                                               dtype=indicators),
        "period": pd.Categorical.from_codes(np.asarray(codes["period"], dtype="int64"),
                                            dtype=months),
        **{name: np.ma.filled(np.ma.asarray(found[name], dtype="float64"), np.nan)
           for name in ("value", "cumulative")}})  # a NULL figure is NaN, as .df() gives it


def load_targets(conn: duckdb.DuckDBPyConnection, catalog: Catalog, indicator: str
                 ) -> pd.DataFrame:
    """The indicator's annual targets, keyed as :func:`load_facts`' are."""
    targets = query(conn, "SELECT * FROM core.annual_targets WHERE indicator = ?", [indicator])
    return keyed(targets, catalog.units, catalog.indicators)


def history_periods(years: list[int]) -> list[str]:
    """Months needed to plan ``years``: three years back, plus the December before them."""
    first = min(years) - 4
    return [f"{y:04d}-{m:02d}" for y in range(first, max(years) + 1) for m in range(1, 13)]


def plan_for_years(indicator: Indicator, catalog: Catalog, years: list[int],
                   targets: pd.DataFrame, all_values: pd.DataFrame) -> pd.DataFrame:
    value_years = year_month_arrays(all_values["period"])[0]
    # each year plans from the four years before it (its baseline, its seasonal profile)
    frames = [build_plan(indicator, catalog, year, targets, all_values[
        (value_years < year) & (value_years >= year - 4)]) for year in years]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=PLAN_COLUMNS)


def indicator_values_for(conn: duckdb.DuckDBPyConnection, indicator: Indicator,
                         catalog: Catalog, periods: list[str]) -> pd.DataFrame:
    """Values over ``periods`` computed from the facts of every month they depend on, the
    figures held back left out (:func:`held_values_for`)."""
    return held_values_for(conn, indicator, catalog, periods)[0]


def held_values_for(conn: duckdb.DuckDBPyConnection, indicator: Indicator, catalog: Catalog,
                    periods: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(values over ``periods``, the figures held back): each submitted input's implausible
    figures are held first (a derived indicator holds its inputs' as their own runs do), then a
    derived figure out of its range (:mod:`domain.held`); a figure the bureau accepted is
    never held."""
    needed = sorted(set(required_periods(indicator, catalog, periods)) | set(periods))
    codes = leaf_inputs(indicator, catalog)
    facts = load_facts(conn, catalog, codes, needed)
    accepted = accepted_figures(conn, [*codes, indicator.code])
    held = []
    for code in codes:
        leaf = catalog.indicators[code]
        if leaf.source == "submission" and not facts.empty:
            facts, found = hold_facts(leaf, catalog, facts, accepted, arrivals_of(conn))
            held.append(found)
    if indicator.source == "derived" and not facts.empty:
        facts, found = hold_facts(indicator, catalog, facts, accepted, inputs=codes)
        held.append(found)
    values = compute_values(indicator, catalog, facts, periods)
    held = [h for h in held if not h.empty]
    return values, (pd.concat(held, ignore_index=True) if held
                    else pd.DataFrame(columns=HELD_COLUMNS))


def accepted_figures(conn: duckdb.DuckDBPyConnection, codes: list[str]
                     ) -> list[tuple[str, str, str, float]]:
    """The figures the bureau accepted (kj accept): (indicator, unit, period, value)."""
    where, params = in_list("indicator", codes)
    return [tuple(r) for r in conn.execute(
        f"SELECT indicator, unit, period, value FROM core.accepted_figures WHERE {where}",
        params).fetchall()]


def arrivals_of(conn: duckdb.DuckDBPyConnection):
    """When each figure asked for arrived (its workbook's submission time), for the pairs a
    hold must choose between: asked only when something looks implausible."""
    def arrived(code: str, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], object]:
        if not pairs:
            return {}
        keys = sorted(set(pairs))
        rows = conn.execute(
            "SELECT unit, period, max(submitted_at) FROM core.submitted_values "
            "WHERE indicator = ? AND (unit, period) IN (SELECT * FROM (VALUES "
            + ", ".join("(?, ?)" for _ in keys) + ")) GROUP BY unit, period",
            [code, *[v for k in keys for v in k]]).fetchall()
        return {(u, p): t for u, p, t in rows}
    return arrived


def run_indicator(conn: duckdb.DuckDBPyConnection, catalog: Catalog, code: str,
                  periods: list[str], today: dt.date, *, write: bool = True) -> IndicatorRun:
    indicator = catalog.indicators[code]
    if write:
        ensure_schema(conn)
    # a quarterly or annual indicator's months in between carry its latest due figure, which
    # may lie before the run's first month: those due periods are computed too, not written
    earlier = previous_due_periods(indicator, periods[0]) \
        if indicator.frequency != "monthly" else []
    evaluated = earlier + periods
    years = sorted({parse_month(p)[0] for p in evaluated})
    all_periods = history_periods(years)
    all_values, held = held_values_for(conn, indicator, catalog, all_periods)
    values = all_values[all_values["period"].isin(periods)].reset_index(drop=True)
    plan = plan_for_years(indicator, catalog, years, load_targets(conn, catalog, code), all_values)
    due = compute_progress(indicator, catalog, evaluated, all_values[all_values["period"].isin(
        evaluated)], plan, today)
    due = due.assign(as_of=due["period"])
    between = pending_rows(indicator, periods, carry_forward(indicator, periods, due), plan)
    progress = pd.concat([due[due["period"].isin(periods)], between], ignore_index=True)
    # a total still waiting for units is projected from its estimate (its units' latest
    # figures), and no miss of it is confirmed while it waits: like its status, it says nothing
    projections = without_incomplete(
        projections_for(indicator, catalog, periods, with_estimates(all_values), plan), due)
    # this indicator's held figures of the run's months (a registry's odd figure is noted)
    problems = held[(held["indicator"] == code) & held["period"].isin(periods)] \
        .reset_index(drop=True)
    if indicator.source == "registry":
        problems = noted(indicator, all_values, periods, catalog.rollup_units(indicator))
    missing = missing_by_period(indicator, catalog, periods, values, today)
    if write:
        now = now_local()
        where, params = in_list("period", periods)
        # one change: values, statuses and projections of the months are never of two runs
        with transaction(conn):
            # (its months as text: DuckDB reads a categorical column from pandas slowly)
            replace_rows(conn, "mart.indicator_values",
                         values.assign(period=values["period"].astype(str), updated_at=now),
                         f"indicator = ? AND {where}", [code, *params])
            # the indicator's own statuses; the indicator_progress asset assembles the table
            replace_rows(conn, "core.indicator_status", progress.assign(updated_at=now),
                         f"indicator = ? AND {where}", [code, *params])
            replace_rows(conn, "mart.indicator_projection", projections.assign(updated_at=now),
                         f"indicator = ? AND {where}", [code, *params], allow_empty=True)
            replace_rows(conn, "core.held_figures",
                         problems[problems["held"].astype(bool)].assign(updated_at=now),
                         f"indicator = ? AND {where}", [code, *params], allow_empty=True)
    return IndicatorRun(values, progress, problems, missing, projections,
                        inconsistent(indicator, catalog, values))


def with_estimates(values: pd.DataFrame) -> pd.DataFrame:
    """``values`` with each total's figure replaced by its estimate where units are missing (a
    unit's estimate is its own figure): what a projection of the year reads."""
    if "estimate" not in values.columns:
        return values
    estimate = values["estimate"].to_numpy(dtype="float64")
    value = values["value"].to_numpy(dtype="float64")
    differs = ~np.isnan(estimate) & (np.isnan(value) | (estimate != value))
    if not differs.any():
        return values
    return values.assign(value=np.where(differs, estimate, value))


def without_incomplete(projections: pd.DataFrame, progress: pd.DataFrame) -> pd.DataFrame:
    """No projected miss is confirmed for a total in a month it is still waiting for units."""
    waiting = progress[progress["missing_units"].fillna(0).astype("int64") > 0]
    if projections.empty or waiting.empty:
        return projections
    keys = pd.MultiIndex.from_arrays([waiting["period"].astype(str), waiting["unit"].astype(str)])
    hit = pd.MultiIndex.from_arrays([projections["period"].astype(str),
                                     projections["unit"].astype(str)]).isin(keys)
    if not hit.any():
        return projections
    return projections.assign(confirmed=projections["confirmed"].astype(bool) & ~hit)


def projections_for(indicator: Indicator, catalog: Catalog, periods: list[str],
                    all_values: pd.DataFrame, plan: pd.DataFrame) -> pd.DataFrame:
    """预判预警: the projected year end of every unit and month of ``periods`` (monthly
    indicators), each year from its own figures and the three years before."""
    if indicator.frequency != "monthly":
        return pd.DataFrame(columns=PROJECTION_COLUMNS)
    margin = catalog.projection_margin(indicator)
    grids = MonthGrid(all_values)
    totals = catalog.rollup_units(indicator)  # the same every year (a province: 91 totals)
    frames = []
    for year in sorted({parse_month(p)[0] for p in periods}):
        frames.append(project(indicator, year, all_values, plan[plan["year"] == year], margin,
                              catalog.small_count_max if catalog.is_count(indicator) else 0,
                              grids, catalog.projection_confirm_from_month, totals))
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=PROJECTION_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    return out[out["period"].isin(periods)].reset_index(drop=True)


def run_plan(conn: duckdb.DuckDBPyConnection, catalog: Catalog, years: list[int], *,
             write: bool = True) -> pd.DataFrame:
    """年度主要指标进度表 for every indicator and the given years."""
    if write:
        ensure_schema(conn)
    frames = []
    for indicator in catalog.indicators.values():
        all_values = indicator_values_for(conn, indicator, catalog, history_periods(years))
        frames.append(plan_for_years(indicator, catalog, years,
                                     load_targets(conn, catalog, indicator.code), all_values))
    plan = pd.concat(frames, ignore_index=True)
    if write:
        where, params = in_list("year", years)
        replace_rows(conn, "mart.indicator_plan", plan, where, params)
    return plan


PROGRESS_TABLE_COLUMNS = ["period", "indicator", "unit", "actual", "target", "planned",
                          "completion", "planned_share", "gap", "status", "department",
                          "updated_at", "missing_units", "as_of", "missing_list", "estimate",
                          "estimate_completion", "estimate_gap", "estimate_status"]


def assemble_progress(conn: duckdb.DuckDBPyConnection, periods: list[str]) -> pd.DataFrame:
    """mart.indicator_progress for ``periods``: every indicator's statuses, replaced in one
    transaction (no month's overview is ever half old, half new), moved inside the warehouse
    (a province's backfill is 5 M rows). Returns the summary :func:`progress_summary` gives."""
    where, params = in_list("period", periods)
    present = conn.execute(f"SELECT count(*) FROM core.indicator_status WHERE {where}",
                           params).fetchone()[0]
    if present:  # an empty result never wipes what the months hold
        columns = ", ".join(PROGRESS_TABLE_COLUMNS)
        with transaction(conn):
            conn.execute(f"DELETE FROM mart.indicator_progress WHERE {where}", params)
            conn.execute(f"INSERT INTO mart.indicator_progress ({columns}) "
                         f"SELECT {columns} FROM core.indicator_status WHERE {where}", params)
    return progress_summary(conn, periods)


def progress_summary(conn: duckdb.DuckDBPyConnection, periods: list[str]) -> pd.DataFrame:
    """Per month and indicator of mart.indicator_progress: the top's figures (全区 / 全市) and
    how many units below it are red, yellow, grey and green or done, counted in the warehouse."""
    where, params = in_list("period", periods)
    return query(conn, f"""
        SELECT period, indicator, count(*) AS rows,
               max(coalesce(as_of, period)) AS as_of,
               count(*) FILTER (WHERE unit != '{DISTRICT}' AND status = 'red') AS red,
               count(*) FILTER (WHERE unit != '{DISTRICT}' AND status = 'yellow') AS yellow,
               count(*) FILTER (WHERE unit != '{DISTRICT}' AND status = 'grey') AS grey,
               count(*) FILTER (WHERE unit != '{DISTRICT}' AND status IN ('green', 'done'))
                   AS green_or_done,
               first(status ORDER BY rowid) FILTER (WHERE unit = '{DISTRICT}') AS top_status,
               first(completion ORDER BY rowid) FILTER (WHERE unit = '{DISTRICT}')
                   AS top_completion,
               first(planned_share ORDER BY rowid) FILTER (WHERE unit = '{DISTRICT}')
                   AS top_planned_share,
               first(missing_units ORDER BY rowid) FILTER (WHERE unit = '{DISTRICT}')
                   AS top_missing,
               first(estimate_status ORDER BY rowid) FILTER (WHERE unit = '{DISTRICT}')
                   AS top_estimate_status,
               first(estimate_completion ORDER BY rowid) FILTER (WHERE unit = '{DISTRICT}')
                   AS top_estimate_completion
        FROM mart.indicator_progress WHERE {where}
        GROUP BY period, indicator ORDER BY period, min(rowid)""", params)
