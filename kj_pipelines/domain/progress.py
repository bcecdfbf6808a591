"""Progress against the back-scheduled plan (挂图作战) and its status.

For a unit and month: the actual (year to date for flows, period end for stocks, the level for
ratios, the cumulative growth for growth rates), its completion of the annual target, the share
of the target the plan wanted by then, and the gap between the two in percentage points of the
target, signed so that behind plan is negative whatever the indicator's direction.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection

import pandas as pd

from kj_pipelines.domain.backschedule import with_comparator
from kj_pipelines.domain.catalog import DISTRICT, Catalog, Indicator, derived_inputs
from kj_pipelines.domain.periods import add_months, deadline, parse_month

PROGRESS_COLUMNS = ["period", "indicator", "unit", "actual", "target", "planned", "completion",
                    "planned_share", "gap", "status", "department", "missing_units"]
CARRY_BACK = 2  # due periods a quarterly or annual indicator looks back for its latest figure
STATUS_ORDER = {"red": 0, "grey": 1, "yellow": 2, "green": 3, "done": 4}
STATUS_MARK = {"red": "🔴 红", "yellow": "🟡 黄", "green": "🟢 绿", "grey": "⚪ 缺报", "done": "✅ 完成"}


def completion(indicator: Indicator, actual: float, target: float,
               baseline: float | None) -> float:
    """Share of the annual target achieved, in %."""
    if indicator.direction == "lower":
        if baseline is None or math.isnan(baseline) or baseline <= target:
            return 100.0 if actual <= target else 0.0
        return (baseline - actual) / (baseline - target) * 100
    if target == 0:
        return 100.0 if actual >= 0 else 0.0
    return actual / abs(target) * 100


def is_met(indicator: Indicator, actual: float, target: float, month: int,
           deadline_month: int = 12) -> bool:
    """达标: flows and stocks once reached; ratios and growth only at the year's last figure."""
    met = actual <= target if indicator.direction == "lower" else actual >= target
    if indicator.kind in ("ratio", "growth"):
        return met and month >= max(deadline_month, max(indicator.due_months()))
    return met


def status_of(indicator: Indicator, gap: float) -> str:
    if gap >= -indicator.yellow:
        return "green"
    if gap >= -indicator.red:
        return "yellow"
    return "red"


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
    (a county's, the top's) built while units below it are missing says how many
    (``missing_units``) and is never green or done until complete: it shows grey instead."""
    department = indicator.department
    expected = set(expected_units(indicator, catalog))
    # the units whose figures a total above them (a county's, the top's) is made of
    below = {above: expected & set(catalog.descendants(above))
             for above in {a for unit in expected for a in catalog.ancestors(unit)}}
    present = values.groupby("period")["unit"].agg(set).to_dict()
    reported = set(values["period"])
    values = values.set_index(["period", "unit"])["value"]
    rows = []
    for p in plan[plan["period"].isin(periods)].itertuples(index=False):
        if not is_due(indicator, p.period):
            continue
        actual = values.get((p.period, p.unit), float("nan"))
        if pd.isna(actual):
            # a registry figure is owed too when the registry gave nothing for the month (a
            # region without a registry): its indicators show grey, not absent
            owed = indicator.source == "submission" or (
                indicator.source == "registry" and p.period not in reported) or (
                # a rate computed for the others this month lacks this unit's inputs
                indicator.source == "derived" and p.period in reported
                and (p.unit in expected or p.unit in below))
            if owed and overdue(indicator, p.period, today, catalog.submission_deadline_day):
                rows.append((p.period, indicator.code, p.unit, float("nan"), p.target, p.planned,
                             float("nan"), p.planned_share, float("nan"), "grey", department,
                             0))
            continue
        judged = with_comparator(indicator, getattr(p, "comparator", None))
        done = completion(judged, float(actual), p.target, p.baseline)
        gap = done - p.planned_share
        if is_met(judged, float(actual), p.target, p.month):
            status = "done"
        else:
            status = status_of(indicator, gap)
        missing = len(below.get(p.unit, set()) - present.get(p.period, set()))
        if missing and status in ("green", "done"):
            status = "grey"  # a partial total cannot show green
        rows.append((p.period, indicator.code, p.unit, float(actual), p.target, p.planned, done,
                     p.planned_share, gap, status, department, missing))
    return pd.DataFrame(rows, columns=PROGRESS_COLUMNS)


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
    rows = []
    ordered = progress.sort_values("period")
    for period in periods:
        if is_due(indicator, period):
            continue
        earlier = ordered[ordered["period"] < period]
        latest = earlier.groupby("unit", sort=False).tail(1)
        rows.append(latest.assign(period=period))
    return pd.concat(rows, ignore_index=True) if rows else progress.iloc[0:0]


def missing_units(indicator: Indicator, catalog: Catalog, period: str, values: pd.DataFrame,
                  today: dt.date) -> list[str]:
    """Units owing this indicator's figure for ``period`` whose deadline has passed without it."""
    if indicator.source != "submission" or not is_due(indicator, period):
        return []
    if not overdue(indicator, period, today, catalog.submission_deadline_day):
        return []
    have = set(values.loc[values["period"] == period, "unit"])
    owed = [u.code for u in catalog.reporting_units(indicator)]
    if indicator.aggregate == "district_only":
        return [] if DISTRICT in have else owed
    return [u for u in owed if u not in have]


def worst_first(progress: pd.DataFrame) -> pd.DataFrame:
    order = progress["status"].map(STATUS_ORDER)
    return progress.assign(_o=order).sort_values(["_o", "gap"]).drop(columns="_o")


def implausible(indicator: Indicator, values: pd.DataFrame, periods: list[str],
                totals: Collection[str] = ()) -> pd.DataFrame:
    """Rows whose value cannot be right: falling year-to-date, a jump, a ratio out of range.
    ``totals`` are units whose figure is summed from others (a county, the top): their parts are
    judged, not the sum, which falls when a part is missing (``missing_units`` says so)."""
    frame = values[~values["unit"].isin(totals)].sort_values(["unit", "period"]).copy()
    frame["prev_period"] = frame.groupby("unit")["period"].shift(1)
    frame["prev_value"] = frame.groupby("unit")["value"].shift(1)
    frame["prev_monthly"] = frame.groupby("unit")["monthly"].shift(1)
    problems = []
    factor = indicator.jump_factor
    # results announced in batches (认定批次) jump by design: only smooth flows are checked
    check_jumps = indicator.profile not in ("batch", "milestones")
    for r in frame[frame["period"].isin(periods)].itertuples(index=False):
        reason = None
        if indicator.minimum is not None and r.value < indicator.minimum - 1e-9 or \
                indicator.maximum is not None and r.value > indicator.maximum + 1e-9:
            reason = f"数值{r.value:.2f}超出合理范围[{indicator.minimum}, {indicator.maximum}]"
        elif indicator.kind == "flow" and isinstance(r.prev_period, str) and \
                r.prev_period[:4] == r.period[:4]:
            if r.value < r.prev_value - 1e-6:
                reason = f"累计值由{r.prev_value:.2f}下降到{r.value:.2f}"
            elif check_jumps and r.prev_monthly and r.prev_monthly > 0 and \
                    not pd.isna(r.monthly) and r.monthly > factor * r.prev_monthly:
                reason = f"当月值{r.monthly:.2f}是上月{r.prev_monthly:.2f}的{r.monthly / r.prev_monthly:.1f}倍"
        elif check_jumps and indicator.kind == "stock" and isinstance(r.prev_period, str) and \
                r.prev_value and r.prev_value >= 10 and \
                (r.value > factor * r.prev_value or r.value * factor < r.prev_value):
            reason = f"期末值由{r.prev_value:.0f}跳变为{r.value:.0f}"
        if reason:
            problems.append({"period": r.period, "unit": r.unit, "value": r.value,
                             "reason": reason})
    return pd.DataFrame(problems, columns=["period", "unit", "value", "reason"])
