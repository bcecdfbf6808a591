"""Progress against the back-scheduled plan (挂图作战) and its status.

For a unit and month: the actual (year to date for flows, period end for stocks, the level for
ratios, the cumulative growth for growth rates), its completion of the annual target, the share
of the target the plan wanted by then, and the gap between the two in percentage points of the
target, signed so that behind plan is negative whatever the indicator's direction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

import numpy as np
import pandas as pd

from kj_pipelines.catalog.model import DISTRICT, Catalog, Indicator, derived_inputs
from kj_pipelines.core.keys import unit_month_order
from kj_pipelines.core.periods import add_months, deadline, parse_month
from kj_pipelines.indicators.backschedule import lower_is_better

PROGRESS_COLUMNS = ["period", "indicator", "unit", "actual", "target", "planned", "completion",
                    "planned_share", "gap", "status", "department", "missing_units",
                    "missing_list", "estimate", "estimate_completion", "estimate_gap",
                    "estimate_status"]
CARRY_BACK = 2  # due periods a quarterly or annual indicator looks back for its latest figure


def completion(indicator: Indicator, actual: float, target: float,
               baseline: float | None) -> float:
    """Share of the annual target achieved, in % (one row of :func:`completion_many`)."""
    return float(completion_many(
        np.array([actual], dtype="float64"), np.array([target], dtype="float64"),
        np.array([np.nan if baseline is None else baseline], dtype="float64"),
        np.array([indicator.direction == "lower"]))[0])


def is_met(indicator: Indicator, actual: float, target: float, month: int,
           deadline_month: int = 12) -> bool:
    """达标 (one row of :func:`met_many`)."""
    return bool(met_many(indicator, np.array([actual], dtype="float64"),
                         np.array([target], dtype="float64"),
                         np.array([indicator.direction == "lower"]), np.array([month]),
                         deadline_month)[0])


def status_of(indicator: Indicator, gap: float) -> str:
    """One row of :func:`status_many`."""
    return str(status_many(indicator, np.array([gap], dtype="float64"))[0])


def _slack(target: np.ndarray) -> np.ndarray:
    """What a computed figure may differ from its target by and still equal it: a share summed
    from many units is off in the last bit (81.266 against a target of 81.266 was not 达标)."""
    return 1e-9 * np.maximum(1.0, np.abs(target))


def met_many(indicator: Indicator, actual: np.ndarray, target: np.ndarray, lower: np.ndarray,
             month: np.ndarray, deadline_month: int = 12) -> np.ndarray:
    """达标: flows and stocks once reached; ratios and growth only at the year's last figure."""
    slack = _slack(target)
    met = np.where(lower, actual <= target + slack, actual >= target - slack)
    if indicator.kind in ("ratio", "growth"):
        met &= month >= max(deadline_month, max(indicator.due_months()))
    return met


def status_many(indicator: Indicator, gap: np.ndarray) -> np.ndarray:
    """Green within the indicator's yellow threshold of the plan, yellow within its red one,
    else red (gap in percentage points of the target, behind plan negative)."""
    return np.where(gap >= -indicator.yellow, "green",
                    np.where(gap >= -indicator.red, "yellow", "red"))


def is_due(indicator: Indicator, period: str) -> bool:
    return parse_month(period)[1] in indicator.due_months()


def overdue(indicator: Indicator, period: str, today: dt.date, deadline_day: int) -> bool:
    return today > deadline(period, indicator.release_lag, deadline_day)


def expected_units(indicator: Indicator, catalog: Catalog) -> list[str]:
    """Units whose submitted figures make up the district's total (none for a registry or a
    district-only figure; a derived indicator's are its inputs')."""
    if indicator.aggregate in ("district_only", "units_only") or indicator.source == "registry":
        return []  # no district total made of units' figures
    if indicator.source == "derived":
        return sorted({u for code in derived_inputs(indicator)
                       for u in expected_units(catalog.indicators[code], catalog)})
    return [u.code for u in catalog.reporting_units(indicator)]


def compute_progress(indicator: Indicator, catalog: Catalog, periods: list[str],
                     values: pd.DataFrame, plan: pd.DataFrame, today: dt.date) -> pd.DataFrame:
    """One row per unit with a target and due month; grey when its figure is overdue. A total
    (a county's, the top's) built while units below it are missing is never judged on the
    partial sum: it is grey (待报齐) whatever that sum says, says how many units it lacks and
    which (``missing_units``, ``missing_list``), and carries beside it the estimate made with
    each missing unit's latest figure (``estimate``, its completion, gap and the status it
    would have, ``estimate_status``), shown as such and never acted on. A batch-announced
    figure (认定批次) is not red before the year's first announcement month. Computed for every
    unit and month at once (a province has 1,900 units a month)."""
    expected = set(expected_units(indicator, catalog))
    # the units whose figures a total above them (a county's, the top's) is made of
    below = {above: expected & set(catalog.descendants(above))
             for above in {a for unit in expected for a in catalog.ancestors(unit)}}
    rows = plan[plan["period"].isin(periods) & plan["month"].isin(indicator.due_months())]
    rows = pd.concat([rows, untargeted_rows(indicator, catalog, periods, values, rows)],
                     ignore_index=True) if not values.empty or expected else rows
    columns = ["period", "unit", "value"] + (["estimate"] if "estimate" in values.columns else [])
    figures = values.drop_duplicates(["period", "unit"])[columns]
    found = rows[["period", "unit"]].merge(figures, on=["period", "unit"], how="left")
    actual = found["value"].to_numpy(dtype="float64")
    estimate = found["estimate"].to_numpy(dtype="float64") if "estimate" in found.columns \
        else actual
    absent = np.isnan(actual)
    reported = set(values["period"])
    in_reported = rows["period"].isin(reported).to_numpy()
    if indicator.source == "submission":
        owed = np.ones(len(rows), dtype=bool)
    elif indicator.source == "registry":
        # a registry figure is owed too when the registry gave nothing for the month (a region
        # without a registry): its indicators show grey, not absent
        owed = ~in_reported
    elif indicator.source == "derived":
        # a rate computed for the others this month lacks this unit's inputs
        owed = in_reported & rows["unit"].isin(expected | set(below)).to_numpy()
    else:
        owed = np.zeros(len(rows), dtype=bool)
    late = {p: overdue(indicator, p, today, catalog.submission_deadline_day)
            for p in set(rows["period"])}
    grey = absent & owed & rows["period"].map(late).to_numpy(dtype=bool)
    # a quarterly or annual figure not yet due (R&D intensity, released months after December):
    # its target shown, 未到期, never judged
    pending = absent & ~grey & (indicator.frequency != "monthly") \
        & ~np.isnan(rows["target"].to_numpy(dtype="float64"))
    kept = ~absent | grey | pending

    target = rows["target"].to_numpy(dtype="float64")
    baseline = pd.to_numeric(rows["baseline"], errors="coerce").to_numpy(dtype="float64")
    lower = lower_is_better(indicator, rows["comparator"] if "comparator" in rows.columns
                            else pd.Series([None] * len(rows), dtype=object))
    planned_share = rows["planned_share"].to_numpy(dtype="float64")

    def judged(figure: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(completion, gap, status) of a figure for every row."""
        done = completion_many(figure, target, baseline, lower)
        gap = done - planned_share
        met = met_many(indicator, figure, target, lower, rows["month"].to_numpy())
        status = np.where(met, "done", status_many(indicator, gap))
        if indicator.profile == "batch":  # announced in batches: not red before the first one
            first = min(int(m) for m in indicator.profile_params.get("months", {12: 1}))
            batch = ~rows["unit"].isin([u for u, p in indicator.unit_profiles.items()
                                        if p != "batch"]).to_numpy()
            early = batch & (rows["month"].to_numpy() < first)
            status = np.where(early & (status == "red"), "yellow", status)
        return done, gap, status

    done, gap, status = judged(actual)
    missing, missing_list = _missing_below(rows, values, below)
    incomplete = (missing > 0) & ~absent
    status = np.where(incomplete | absent, "grey", status)
    status = np.where(pending, "pending", status)
    # a unit without a target of its own: its figure, never a status
    status = np.where(np.isnan(target), None, status)
    per_row = {
        "period": rows["period"].to_numpy(), "unit": rows["unit"].to_numpy(), "actual": actual,
        "target": target, "planned": rows["planned"].to_numpy(),
        "completion": np.where(absent, np.nan, done),
        "planned_share": planned_share, "gap": np.where(absent, np.nan, gap),
        "status": status, "missing_units": np.where(absent, 0, missing).astype("int64"),
        "missing_list": np.where(incomplete, missing_list, None)}
    if incomplete.any():  # the estimate beside a total still waiting for units
        e_done, e_gap, e_status = judged(estimate)
        known = incomplete & ~np.isnan(estimate)
        per_row.update(estimate=np.where(known, estimate, np.nan),
                       estimate_completion=np.where(known, e_done, np.nan),
                       estimate_gap=np.where(known, e_gap, np.nan),
                       estimate_status=np.where(known, e_status, None))
    else:
        nothing = np.full(len(rows), np.nan)
        per_row.update(estimate=nothing, estimate_completion=nothing, estimate_gap=nothing,
                       estimate_status=np.full(len(rows), None, dtype=object))
    # the kept rows only: one frame built, not built and then filtered
    return pd.DataFrame({**{name: column[kept] for name, column in per_row.items()},
                         "indicator": indicator.code, "department": indicator.department},
                        columns=PROGRESS_COLUMNS)


def untargeted_rows(indicator: Indicator, catalog: Catalog, periods: list[str],
                    values: pd.DataFrame, planned: pd.DataFrame) -> pd.DataFrame:
    """Rows (in the plan's columns, no target) for the units with a figure, or owing one, or
    totalling those below them, that have no target of their own in a due month: the overview
    shows every unit's figure, and judges only those with a target."""
    due = [p for p in periods if is_due(indicator, p)]
    if not due:
        return planned.iloc[0:0]
    shown = set(expected_units(indicator, catalog)) | set(catalog.rollup_units(indicator))
    if indicator.source == "submission" and indicator.aggregate != "district_only":
        # (a district-only figure is the top's own, whoever files it)
        shown |= {u.code for u in catalog.reporting_units(indicator)}
    shown |= set(values.loc[values["period"].isin(due) & values["value"].notna(), "unit"]
                 .astype(str))
    shown &= set(catalog.units)
    if not shown:
        return planned.iloc[0:0]
    units = [u for u in catalog.units if u in shown]  # the catalog's order
    grid = pd.DataFrame({"period": np.repeat(due, len(units)),
                         "unit": np.tile(units, len(due))})
    have = pd.MultiIndex.from_arrays([planned["period"].astype(str),
                                      planned["unit"].astype(str)])
    grid = grid[~pd.MultiIndex.from_frame(grid).isin(have)]
    if grid.empty:
        return planned.iloc[0:0]
    return grid.assign(month=[parse_month(p)[1] for p in grid["period"]], target=np.nan,
                       planned=np.nan, planned_share=np.nan, baseline=np.nan, comparator=None)


def completion_many(actual: np.ndarray, target: np.ndarray, baseline: np.ndarray,
                    lower: np.ndarray) -> np.ndarray:
    """:func:`completion` for many rows: share of the target achieved, in %."""
    with np.errstate(invalid="ignore", divide="ignore"):
        no_room = np.isnan(baseline) | (baseline <= target)
        down = np.where(no_room, np.where(actual <= target + _slack(target), 100.0, 0.0),
                        (baseline - actual) / (baseline - target) * 100)
        up = np.where(target == 0, np.where(actual >= 0, 100.0, 0.0),
                      actual / np.abs(target) * 100)
    return np.where(lower, down, up)


def _missing_below(rows: pd.DataFrame, values: pd.DataFrame,
                   below: dict[str, set[str]]) -> tuple[np.ndarray, np.ndarray]:
    """For each row of a total (a county's, the top's), how many units below it have no figure
    for the month, and which (their codes, comma-separated; None where none is missing); 0 for
    a unit nothing is summed into. Counted on a units × months grid of who reported (a
    province: 1,900 units, 91 totals above them); the names are joined only where some are
    missing."""
    out = np.zeros(len(rows), dtype="int64")
    names = np.full(len(rows), None, dtype=object)
    if not below or rows.empty:
        return out, names
    units = pd.Index(sorted(set().union(*below.values())))
    months = pd.Index(sorted(set(rows["period"])))
    grid = np.zeros((len(units), len(months)), dtype=bool)
    u, m = units.get_indexer(values["unit"]), months.get_indexer(values["period"])
    known = (u >= 0) & (m >= 0)
    grid[u[known], m[known]] = True
    totals = pd.Index(list(below))
    members = [units.get_indexer(sorted(below[t])) for t in totals]
    absent = np.stack([len(below[t]) - grid[member].sum(axis=0)
                       for t, member in zip(totals, members, strict=True)])
    t, m = totals.get_indexer(rows["unit"]), months.get_indexer(rows["period"])
    summed = t >= 0
    out[summed] = absent[t[summed], m[summed]]
    for i in np.flatnonzero(out):
        member = members[t[i]]
        names[i] = ",".join(units[member[~grid[member, m[i]]]])
    return out, names


def previous_due_periods(indicator: Indicator, period: str, n: int = CARRY_BACK) -> list[str]:
    """The ``n`` due periods before ``period`` (quarter or year ends), oldest first."""
    out, key = [], add_months(period, -1)
    while len(out) < n and key >= "1900-01":
        if is_due(indicator, key):
            out.append(key)
        key = add_months(key, -1)
    return sorted(out)


def carry_forward(indicator: Indicator, periods: list[str], progress: pd.DataFrame
                  ) -> pd.DataFrame:
    """For the months a quarterly or annual indicator is not due, each unit's latest due row,
    kept as it was (``as_of`` says which period it is), so every month's overview shows every
    goal. ``progress`` holds the due periods' rows (``as_of`` equal to ``period``)."""
    if indicator.frequency == "monthly" or progress.empty:
        return progress.iloc[0:0]
    targets = np.array([p for p in periods if not is_due(indicator, p)], dtype=object)
    if not len(targets):
        return progress.iloc[0:0]
    ordered = progress.sort_values("period")
    period, wanted = ordered["period"].to_numpy().astype(str), targets.astype(str)
    unit, _ = pd.factorize(ordered["unit"])
    rows, months = [], []  # per unit, one search over its due periods for every month
    for code in np.unique(unit):
        at = np.flatnonzero(unit == code)  # its rows, in period order
        last = np.searchsorted(period[at], wanted, side="left") - 1
        rows.append(at[last[last >= 0]])
        months.append(np.flatnonzero(last >= 0))
    rows, months = np.concatenate(rows), np.concatenate(months)
    order = np.lexsort((rows, months))  # month by month, each in the rows' own order
    return ordered.iloc[rows[order]].assign(period=targets[months[order]]).reset_index(
        drop=True)


def pending_rows(indicator: Indicator, periods: list[str], carried: pd.DataFrame,
                 plan: pd.DataFrame) -> pd.DataFrame:
    """The months a quarterly or annual indicator is not due, judged by this year's target: a
    unit with a target whose latest due figure (``carried``, :func:`carry_forward`) is of an
    earlier year shows this year's target and plan, that figure with ``as_of`` naming it, and
    the status pending (未到期) — never no target, never last year's verdict. A carried row of
    this year stays as it is; one of an earlier year for a unit without this year's target
    keeps its figure without a status."""
    if indicator.frequency == "monthly":
        return carried
    months = [p for p in periods if not is_due(indicator, p)]
    targets = plan[plan["period"].isin(months)][["period", "unit", "target", "planned",
                                                 "planned_share"]]
    targets = targets[targets["target"].notna()]
    carried = carried.reset_index(drop=True)
    same_year = carried["as_of"].astype(str).str[:4] == carried["period"].astype(str).str[:4] \
        if not carried.empty else pd.Series(dtype=bool)
    current = carried[same_year.to_numpy(dtype=bool)] if not carried.empty else carried
    earlier = carried[~same_year.to_numpy(dtype=bool)] if not carried.empty else carried
    keys = ["period", "unit"]
    if not current.empty:
        have = pd.MultiIndex.from_frame(current[keys].astype(str))
        targets = targets[~pd.MultiIndex.from_frame(targets[keys].astype(str)).isin(have)]
    latest = earlier.reindex(columns=[*keys, "actual", "as_of"])
    waiting = targets.merge(latest, on=keys, how="left").assign(
        status="pending", completion=np.nan, gap=np.nan, indicator=indicator.code,
        department=indicator.department)
    waiting["missing_units"] = 0
    # an earlier year's figure of a unit with no target this year: shown, not judged
    untargeted = earlier
    if not earlier.empty and not targets.empty:
        untargeted = earlier[~pd.MultiIndex.from_frame(earlier[keys].astype(str)).isin(
            pd.MultiIndex.from_frame(targets[keys].astype(str)))]
    untargeted = untargeted.assign(status=None, target=np.nan, planned=np.nan,
                                   planned_share=np.nan, completion=np.nan, gap=np.nan)
    frames = [f for f in (current, waiting, untargeted) if not f.empty]
    if not frames:
        return carried.iloc[0:0]
    return pd.concat(frames, ignore_index=True).reindex(columns=carried.columns if len(
        carried.columns) else waiting.columns).sort_values(keys, kind="stable") \
        .reset_index(drop=True)


def missing_by_period(indicator: Indicator, catalog: Catalog, periods: list[str],
                      values: pd.DataFrame, today: dt.date) -> dict[str, list[str]]:
    """Units owing this indicator's figure whose deadline has passed without it, for each of
    ``periods`` that has any, in one pass over ``values``."""
    if indicator.source != "submission":
        return {}
    owed = [u.code for u in catalog.reporting_units(indicator)]
    late = [p for p in periods if is_due(indicator, p)
            and overdue(indicator, p, today, catalog.submission_deadline_day)]
    if not late:
        return {}
    rows = values[values["period"].isin(late)]
    have = rows.groupby("period", observed=True)["unit"].agg(set).to_dict() if not rows.empty else {}
    out = {}
    for period in late:
        present = have.get(period, set())
        if indicator.aggregate == "district_only":
            units = [] if DISTRICT in present else owed
        else:
            units = [u for u in owed if u not in present]
        if units:
            out[period] = units
    return out


def implausible(indicator: Indicator, values: pd.DataFrame, periods: list[str],
                totals: Collection[str] = ()) -> pd.DataFrame:
    """Rows whose value cannot be right: falling year-to-date, a jump, a ratio out of range.
    ``totals`` are units whose figure is summed from others (a county, the top): their parts are
    judged, not the sum, which falls when a part is missing (``missing_units`` says so).
    Judged on whole columns; only the rows found get a message."""
    frame = values[~values["unit"].isin(list(totals))]
    # each unit's rows in month order, on arrays: the row before is the unit's month before
    order, unit_codes, year, _ = unit_month_order(frame)
    frame = frame.iloc[order]
    has_prev = np.zeros(len(frame), dtype=bool)
    has_prev[1:] = unit_codes[1:] == unit_codes[:-1]

    def previous(column: np.ndarray, missing: object) -> np.ndarray:
        out = np.full(len(column), missing, dtype=column.dtype)
        out[1:] = column[:-1]
        return np.where(has_prev, out, missing)

    period_text = frame["period"].astype(str).to_numpy(dtype=object)
    prev_period = previous(period_text, None)
    prev_value = previous(frame["value"].to_numpy(dtype="float64"), np.nan)
    prev_monthly = previous(frame["monthly"].to_numpy(dtype="float64"), np.nan)
    value = frame["value"].to_numpy(dtype="float64")
    monthly = frame["monthly"].to_numpy(dtype="float64")
    judged = np.isin(period_text, np.asarray(list(periods), dtype=object))
    same_year = has_prev & (previous(year, -1) == year)
    factor = indicator.jump_factor
    # results announced in batches (认定批次) jump by design: only smooth flows are checked
    check_jumps = indicator.profile not in ("batch", "milestones")
    with np.errstate(invalid="ignore", divide="ignore"):
        out_of_range = np.zeros(len(frame), dtype=bool)
        if indicator.minimum is not None:
            out_of_range |= value < indicator.minimum - 1e-9
        if indicator.maximum is not None:
            out_of_range |= value > indicator.maximum + 1e-9
        falling = jump = step = np.zeros(len(frame), dtype=bool)
        if indicator.kind == "flow":
            falling = same_year & (value < prev_value - 1e-6)
            if check_jumps:
                jump = same_year & ~falling & (prev_monthly > 0) & ~np.isnan(monthly) & (
                    monthly > factor * prev_monthly)
        elif indicator.kind == "stock" and check_jumps:
            step = has_prev & (prev_value >= 10) & (
                (value > factor * prev_value) | (value * factor < prev_value))
    found = judged & (out_of_range | falling | jump | step)
    problems = []
    for i in np.flatnonzero(found):
        before = prev_period[i]
        if out_of_range[i]:
            kind, before = "range", None
            reason = (f"数值{value[i]:.2f}超出合理范围[{indicator.minimum}, "
                      f"{indicator.maximum}]")
        elif falling[i]:
            kind = "falling"
            reason = f"累计值由{before}的{prev_value[i]:.2f}下降到{value[i]:.2f}"
        elif jump[i]:
            kind = "jump"
            reason = (f"当月值{monthly[i]:.2f}是{before}当月值{prev_monthly[i]:.2f}的"
                      f"{monthly[i] / prev_monthly[i]:.1f}倍")
        else:
            kind = "step"
            reason = f"期末值由{before}的{prev_value[i]:.0f}跳变为{value[i]:.0f}"
        problems.append({"period": frame["period"].iat[i], "unit": frame["unit"].iat[i],
                         "value": value[i], "reason": reason, "kind": kind,
                         "compared": None if before is None or pd.isna(before) else str(before),
                         "compared_value": None if kind == "range" else prev_value[i]})
    return pd.DataFrame(problems, columns=IMPLAUSIBLE_COLUMNS)


IMPLAUSIBLE_COLUMNS = ["period", "unit", "value", "reason", "kind", "compared", "compared_value"]


def red_streak(history: pd.DataFrame, indicator: str, unit: str, period: str) -> int:
    """Consecutive red months ending at ``period`` (inclusive)."""
    rows = history[(history["indicator"] == indicator) & (history["unit"] == unit)]
    status = dict(zip(rows["period"], rows["status"], strict=True))
    streak, key = 0, period
    while status.get(key) == "red":
        streak += 1
        key = add_months(key, -1)
    return streak
