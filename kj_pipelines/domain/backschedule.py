"""倒排工期: back-scheduling an annual target into the value to have reached by each month.

A profile gives the cumulative share of the year's work done by the end of each month, reaching
1 at the target's deadline month. Flows plan ``target × share``; stocks and ratios plan a level
moving from last year's value (the baseline) to the target; growth rates plan the target level
every month. Lower-is-better indicators plan their descent the same way, from a higher baseline.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

import pandas as pd

from kj_pipelines.domain.catalog import DISTRICT, Catalog, Goal, Indicator
from kj_pipelines.domain.workdays import monthly_workdays

PLAN_COLUMNS = ["year", "indicator", "unit", "month", "period", "quarter", "baseline", "target",
                "planned", "planned_share", "profile", "target_source", "comparator",
                "baseline_source"]
BASELINE_LAST_DECEMBER, BASELINE_LISTED, BASELINE_NONE, BASELINE_FLOW = (
    "上年12月实际", "目标清单基数", "无基数（按目标值）", "流量从0累计")


def _fold(weights: Sequence[float], deadline: int) -> list[float]:
    """Cumulative shares from monthly weights, reaching 1 at ``deadline`` and staying there."""
    head = [max(float(w), 0.0) for w in weights[:deadline]]
    total = sum(head)
    if total <= 0:
        return linear_shares(deadline)
    out, running = [], 0.0
    for m in range(12):
        if m < deadline:
            running += head[m]
            out.append(running / total)
        else:
            out.append(1.0)
    out[deadline - 1] = 1.0
    return out


def linear_shares(deadline: int = 12) -> list[float]:
    return [min((m + 1) / deadline, 1.0) for m in range(12)]


def workday_shares(year: int, deadline: int = 12,
                   holiday_file: Mapping[int, Mapping[str, list[str]]] | None = None) -> list[float]:
    counts, _ = monthly_workdays(year, dict(holiday_file or {}))
    return _fold(counts, deadline)


def milestone_shares(shares: Mapping[int, float], deadline: int = 12) -> list[float]:
    """Piecewise-linear through the milestones (e.g. 时间过半任务过半: {6: 0.5}), 1 at the deadline."""
    points = sorted((int(m), float(s)) for m, s in shares.items() if int(m) < deadline)
    points = [(0, 0.0)] + points + [(deadline, 1.0)]
    out = []
    for m in range(1, 13):
        if m >= deadline:
            out.append(1.0)
            continue
        for (m0, s0), (m1, s1) in zip(points, points[1:], strict=False):
            if m0 <= m <= m1:
                out.append(s0 + (s1 - s0) * (m - m0) / (m1 - m0))
                break
    return out


def batch_shares(months: Mapping[int, float], deadline: int = 12) -> list[float]:
    """Steps in the months results are announced (e.g. high-tech recognitions in Q4)."""
    weights = [0.0] * 12
    for m, share in months.items():
        weights[min(int(m), deadline) - 1] += float(share)
    return _fold(weights, deadline)


def seasonal_shares(history: Sequence[Sequence[float]], deadline: int = 12) -> list[float] | None:
    """Average monthly share over past years (each a list of 12 monthly amounts); None if unusable."""
    usable = [list(year) for year in history
              if len(year) == 12 and all(not math.isnan(v) for v in year) and sum(year) > 0]
    if not usable:
        return None
    avg = [sum(year[m] / sum(year) for year in usable) / len(usable) for m in range(12)]
    return _fold(avg, deadline)


def profile_shares(indicator: Indicator, year: int, deadline: int, *,
                   unit_history: Sequence[Sequence[float]] = (),
                   district_history: Sequence[Sequence[float]] = (),
                   holiday_file: Mapping[int, Mapping[str, list[str]]] | None = None,
                   profile: str | None = None) -> tuple[list[float], str]:
    """The cumulative shares for one unit's target, and the profile actually used."""
    name = profile or indicator.profile
    params = indicator.profile_params
    if name == "linear":
        return linear_shares(deadline), name
    if name == "workdays":
        return workday_shares(year, deadline, holiday_file), name
    if name == "milestones":
        return milestone_shares(params.get("shares", {}), deadline), name
    if name == "batch":
        return batch_shares(params.get("months", {}), deadline), name
    shares = seasonal_shares(unit_history, deadline)
    if shares is not None:
        return shares, "seasonal"
    shares = seasonal_shares(district_history, deadline)
    if shares is not None:
        return shares, "seasonal(district)"
    return linear_shares(deadline), "seasonal(linear)"


def planned_values(indicator: Indicator, target: float, baseline: float | None,
                   shares: Sequence[float]) -> list[tuple[float, float]]:
    """(planned value, planned share of the target in %) for each month."""
    out = []
    for share in shares:
        if indicator.kind == "flow":
            planned = target * share
        elif indicator.kind == "growth" or baseline is None or math.isnan(baseline):
            planned = target
        else:
            planned = baseline + (target - baseline) * share
        out.append((planned, planned_share(indicator, planned, target, baseline)))
    return out


def planned_share(indicator: Indicator, planned: float, target: float,
                  baseline: float | None) -> float:
    if indicator.direction == "lower":
        if baseline is None or math.isnan(baseline) or baseline <= target:
            return 100.0
        return (baseline - planned) / (baseline - target) * 100
    if target == 0:
        return 100.0
    return planned / target * 100


def goal_targets(goal: Goal, year: int) -> float | None:
    """An annual target on the straight path from a multi-year goal's baseline to the goal."""
    if not goal.baseline_year < year <= goal.year:
        return None
    step = (goal.value - goal.baseline_value) / (goal.year - goal.baseline_year)
    return goal.baseline_value + step * (year - goal.baseline_year)


def resolve_targets(indicator: Indicator, catalog: Catalog, year: int,
                    listed: pd.DataFrame) -> pd.DataFrame:
    """Targets per unit for a year: the list's; for a summed indicator, a county's or the top's
    the sum of the units below it (bottom up, so a county's listed target counts for the city);
    else a multi-year goal's path."""
    rows = listed[(listed["indicator"] == indicator.code) & (listed["year"] == year)]
    rows = rows.reindex(columns=[*rows.columns, *(
        c for c in ("comparator", "baseline") if c not in rows.columns)])  # older lists
    out = rows[["unit", "target", "deadline_month", "comparator", "baseline"]].assign(
        target_source="list")
    summed = _summed_targets(indicator, catalog, out) if indicator.aggregate == "sum" else None
    if summed is not None and not summed.empty:
        out = pd.concat([out, summed], ignore_index=True)
    for goal in catalog.goals:
        if goal.indicator == indicator.code and goal.unit not in set(out["unit"]):
            target = goal_targets(goal, year)
            if target is not None:
                out = pd.concat([out, pd.DataFrame([{"unit": goal.unit, "target": target,
                                                     "deadline_month": 12,
                                                     "target_source": "goal"}])])
    return out.reset_index(drop=True)


def _summed_targets(indicator: Indicator, catalog: Catalog, listed: pd.DataFrame
                    ) -> pd.DataFrame:
    """Targets of the units above the reporters that the list leaves out: the sum of their
    children's (listed or summed), deepest first. A ``≥`` or ``力争`` reading of the units'
    targets does not carry up: the sum is a plain figure."""
    known = {r.unit: (float(r.target), int(r.deadline_month))
             for r in listed.itertuples(index=False)}
    above = sorted(catalog.rollup_units(indicator), key=catalog.level, reverse=True)
    added = []
    for unit in above:
        if unit in known:
            continue
        children = [known[c] for c in catalog.units if catalog.parent_of(c) == unit
                    and c in known]
        if children:
            known[unit] = (sum(t for t, _ in children), max(d for _, d in children))
            added.append({"unit": unit, "target": known[unit][0],
                          "deadline_month": known[unit][1], "target_source": "units_sum"})
    return pd.DataFrame(added, columns=["unit", "target", "deadline_month", "target_source"])


def monthly_history(rows: pd.DataFrame, indicator: Indicator,
                    years: Sequence[int]) -> list[list[float]]:
    """Monthly amounts of past years for the seasonal profile, from one unit's rows.

    Flows use the month's amount (本期值); levels use the month's change, so that the profile is
    the path from last December to this December.
    """
    level = dict(zip(rows["period"], rows["value"], strict=True))
    monthly = dict(zip(rows["period"], rows["monthly"], strict=True))
    out = []
    for year in years:
        amounts = []
        for m in range(1, 13):
            key = f"{year:04d}-{m:02d}"
            if indicator.kind == "flow":
                amounts.append(float(monthly.get(key, float("nan"))))
            else:
                prev = f"{year - 1:04d}-12" if m == 1 else f"{year:04d}-{m - 1:02d}"
                amounts.append(float(level.get(key, float("nan"))) -
                               float(level.get(prev, float("nan"))))
        out.append(amounts)
    return out


def with_comparator(indicator: Indicator, comparator: str | None) -> Indicator:
    """The indicator as a target judges it: "≥850" is reached from below, "控制在3以内" from
    above (lower is better), a bare number by the indicator's own direction."""
    direction = {">=": "higher", "<=": "lower"}.get(comparator or "", indicator.direction)
    if direction == indicator.direction:
        return indicator
    return dataclasses.replace(indicator, direction=direction)


def build_plan(indicator: Indicator, catalog: Catalog, year: int, listed: pd.DataFrame,
               history: pd.DataFrame) -> pd.DataFrame:
    """年度主要指标进度表 for one indicator and year: planned value per unit and month.

    ``history`` holds the indicator's values (period, unit, value, monthly) of the three years
    before ``year``; it gives the baseline (last December) and the seasonal profile.
    """
    targets = resolve_targets(indicator, catalog, year, listed)
    past_years = [year - 3, year - 2, year - 1]  # history must reach back to year - 4 December
    # each unit's rows once: filtering the whole history per unit was quadratic (a province of
    # 1,900 units took 50 s an indicator and year)
    by_unit = dict(tuple(history.groupby("unit", sort=False))) if not history.empty else {}
    no_rows = history.iloc[0:0]
    district_history = monthly_history(by_unit.get(DISTRICT, no_rows), indicator, past_years)
    rows = []
    last_dec = f"{year - 1:04d}-12"
    for t in targets.itertuples(index=False):
        own = by_unit.get(t.unit, no_rows)
        base_rows = own[own["period"] == last_dec]
        listed_base = getattr(t, "baseline", None)
        if indicator.kind == "flow":
            baseline, baseline_source = 0.0, BASELINE_FLOW
        elif not base_rows.empty:
            baseline, baseline_source = float(base_rows["value"].iloc[0]), BASELINE_LAST_DECEMBER
        elif listed_base is not None and not pd.isna(listed_base):
            # a region's first year: no December figure, the list's 上年基数 instead
            baseline, baseline_source = float(listed_base), BASELINE_LISTED
        else:
            baseline, baseline_source = None, BASELINE_NONE
        comparator = getattr(t, "comparator", None)
        comparator = comparator if isinstance(comparator, str) and comparator else None
        judged = with_comparator(indicator, comparator)
        profile = indicator.unit_profiles.get(t.unit, indicator.profile)  # a unit may override
        shares, used = profile_shares(
            indicator, year, int(t.deadline_month),
            unit_history=monthly_history(own, indicator, past_years)
            if profile == "seasonal" else (),
            district_history=district_history, holiday_file=catalog.holidays, profile=profile)
        for month, (planned, share) in enumerate(
                planned_values(judged, float(t.target), baseline, shares), start=1):
            rows.append((year, indicator.code, t.unit, month, f"{year:04d}-{month:02d}",
                         (month - 1) // 3 + 1, baseline, float(t.target), planned, share, used,
                         t.target_source, comparator, baseline_source))
    return pd.DataFrame(rows, columns=PLAN_COLUMNS).astype({"baseline": "float64"})
