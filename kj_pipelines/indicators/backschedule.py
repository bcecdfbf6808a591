"""倒排工期: back-scheduling an annual target into the value to have reached by each month.

A profile gives the cumulative share of the year's work done by the end of each month, reaching
1 at the target's deadline month. Flows plan ``target × share``; stocks and ratios plan a level
moving from last year's value (the baseline) to the target; growth rates plan the target level
every month. Lower-is-better indicators plan their descent the same way, from a higher baseline.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from kj_pipelines.catalog.model import DISTRICT, Catalog, Goal, Indicator
from kj_pipelines.core.grids import MonthGrid
from kj_pipelines.core.workdays import monthly_workdays

PLAN_COLUMNS = ["year", "indicator", "unit", "month", "period", "quarter", "baseline", "target",
                "planned", "planned_share", "profile", "target_source", "comparator",
                "baseline_source"]
BASELINE_LAST_DECEMBER, BASELINE_LISTED, BASELINE_NONE, BASELINE_FLOW = (
    "上年12月实际", "目标清单基数", "无基数（按目标值）", "流量从0累计")


def _fold(weights: Sequence[float], deadline: int) -> list[float]:
    """Cumulative shares from monthly weights, reaching 1 at ``deadline`` and staying there
    (one row of :func:`fold_many`)."""
    row = np.array([list(weights)[:12]], dtype="float64")
    return fold_many(row, np.array([deadline])).ravel().tolist()


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
    """Average monthly share over past years (each a list of 12 monthly amounts); None if unusable
    (one unit of :func:`seasonal_many`)."""
    years = [list(year) for year in history if len(year) == 12]
    if not years:
        return None
    shares, usable = seasonal_many(np.array([years], dtype="float64"), np.array([deadline]))
    return shares[0].tolist() if usable[0] else None


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
    """(planned value, planned share of the target in %) for each month (one row of
    :func:`planned_many`)."""
    planned, share = planned_many(
        indicator, np.array([target], dtype="float64"),
        np.array([np.nan if baseline is None else baseline], dtype="float64"),
        np.array([list(shares)], dtype="float64"), np.array([indicator.direction == "lower"]))
    return list(zip(planned[0].tolist(), share[0].tolist(), strict=True))


def goal_targets(goal: Goal, year: int) -> float | None:
    """An annual target on the straight path from a multi-year goal's baseline to the goal."""
    if not goal.baseline_year < year <= goal.year:
        return None
    step = (goal.value - goal.baseline_value) / (goal.year - goal.baseline_year)
    return goal.baseline_value + step * (year - goal.baseline_year)


RELATIVE_COLUMNS = ("base_factor", "base_offset", "stretch_factor", "stretch_offset")


def resolve_targets(indicator: Indicator, catalog: Catalog, year: int,
                    listed: pd.DataFrame, history: pd.DataFrame | None = None) -> pd.DataFrame:
    """Targets per unit for a year: the list's (one written relative to the year before,
    增长20%以上, against the list's 上年基数 or else last year's actual in ``history``: a
    flow's year total, a level's December); for a summed indicator, a county's or the top's
    the sum of the units below it (bottom up, so a county's listed target counts for the city);
    else a multi-year goal's path. A relative target with no baseline yet has none (the target
    list's check names it)."""
    rows = listed[(listed["indicator"] == indicator.code) & (listed["year"] == year)]
    rows = rows.reindex(columns=[*rows.columns, *(
        c for c in ("comparator", "baseline", *RELATIVE_COLUMNS)
        if c not in rows.columns)])  # older lists
    rows = resolve_relative(rows, last_year_actuals(history, year))
    rows = rows[rows["target"].notna()]
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


def last_year_actuals(history: pd.DataFrame | None, year: int) -> dict[str, float]:
    """Each unit's figure of last December (a flow's year total, a level's year-end)."""
    if history is None or history.empty:
        return {}
    december = history[(history["period"] == f"{year - 1:04d}-12") & history["value"].notna()]
    return dict(zip(december["unit"].astype(str), december["value"].astype(float), strict=True))


def resolve_relative(rows: pd.DataFrame, actuals: dict[str, float]) -> pd.DataFrame:
    """Targets written relative to the year before made absolute: baseline × factor + offset,
    the baseline the list's 上年基数, else last year's actual; without either, no target."""
    relative = rows["base_factor"].notna() if "base_factor" in rows.columns else None
    if relative is None or not relative.any():
        return rows
    rows = rows.copy()
    listed = pd.to_numeric(rows["baseline"], errors="coerce")
    actual = rows["unit"].astype(str).map(actuals).astype("float64")
    base = listed.where(listed.notna(), actual)
    offset = pd.to_numeric(rows["base_offset"], errors="coerce").fillna(0.0)
    rows["target"] = rows["target"].where(
        ~relative, base * pd.to_numeric(rows["base_factor"], errors="coerce") + offset)
    stretch = rows["stretch_factor"].notna()
    if stretch.any():
        s_offset = pd.to_numeric(rows["stretch_offset"], errors="coerce").fillna(0.0)
        rows["stretch"] = rows["stretch"].where(
            ~stretch, base * pd.to_numeric(rows["stretch_factor"], errors="coerce") + s_offset)
    return rows


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
        children = [known[c] for c in catalog.children(unit) if c in known]
        if children:
            known[unit] = (sum(t for t, _ in children), max(d for _, d in children))
            added.append({"unit": unit, "target": known[unit][0],
                          "deadline_month": known[unit][1], "target_source": "units_sum"})
    return pd.DataFrame(added, columns=["unit", "target", "deadline_month", "target_source"])


def monthly_amounts(grid: MonthGrid | None, indicator: Indicator, years: Sequence[int],
                    units: Sequence[str]) -> np.ndarray:
    """Monthly amounts of past years for the seasonal profile, an array [unit, year, month]
    (NaN where a figure is missing), from ``grid``: the history's 本期值 (``monthly``) for a
    flow, its levels (``value``) otherwise, as :func:`history_grid` lays them out. Flows use
    the month's amount; levels use the month's change, so that the profile is the path from last
    December to this December."""
    n = len(units)
    if grid is None or not n:
        return np.full((n, len(years), 12), np.nan)
    if indicator.kind == "flow":
        return np.stack([grid.year(units, y) for y in years], axis=1)
    # a level's month is its change since the month before (January: since last December)
    return np.stack([np.diff(np.concatenate([grid.december(units, y - 1)[:, None],
                                             grid.year(units, y)], axis=1), axis=1)
                     for y in years], axis=1)


def history_grid(history: pd.DataFrame, indicator: Indicator) -> MonthGrid | None:
    """The column of ``history`` the seasonal profile reads, laid out once per plan."""
    if history.empty:
        return None
    return MonthGrid(history, "monthly" if indicator.kind == "flow" else "value")


def fold_many(weights: np.ndarray, deadlines: np.ndarray) -> np.ndarray:
    """``_fold`` for many rows at once: [n, 12] monthly weights → [n, 12] cumulative shares,
    each reaching 1 at its deadline month (linear where a row's weights add up to nothing)."""
    n = len(weights)
    month = np.arange(12)[None, :]
    before = month < deadlines[:, None]
    head = np.where(before, np.maximum(np.nan_to_num(weights, nan=0.0), 0.0), 0.0)
    running = np.cumsum(head, axis=1)
    total = running[np.arange(n), deadlines - 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(before, running / total[:, None], 1.0)
    linear = np.minimum((month + 1) / deadlines[:, None], 1.0)
    shares = np.where((total > 0)[:, None], shares, linear)
    shares[np.arange(n), deadlines - 1] = 1.0
    return shares


def seasonal_many(amounts: np.ndarray, deadlines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``seasonal_shares`` for many units: amounts [n, years, 12] → (shares [n, 12], usable [n]);
    a unit without one usable year (complete and adding up to more than nothing) is unusable."""
    complete = np.isfinite(amounts).all(axis=2)
    totals = np.nansum(amounts, axis=2)
    usable = complete & (totals > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        parts = np.where(usable[..., None], amounts / totals[..., None], 0.0)
    count = usable.sum(axis=1)
    average = parts.sum(axis=1) / np.maximum(count, 1)[:, None]
    return fold_many(average, deadlines), count > 0


def with_comparator(indicator: Indicator, comparator: str | None) -> Indicator:
    """The indicator as a target judges it: "≥850" is reached from below, "控制在3以内" from
    above (lower is better), a bare number by the indicator's own direction."""
    direction = {">=": "higher", "<=": "lower"}.get(comparator or "", indicator.direction)
    if direction == indicator.direction:
        return indicator
    return dataclasses.replace(indicator, direction=direction)


def lower_is_better(indicator: Indicator, comparators: pd.Series) -> np.ndarray:
    """Whether each row's target is judged lower-is-better (its comparator, else the kind's)."""
    codes, distinct = pd.factorize(comparators)  # a missing comparator: code -1
    judged = np.array([with_comparator(indicator, str(c) or None).direction == "lower"
                       for c in distinct] + [indicator.direction == "lower"], dtype=bool)
    return judged[codes]


def build_plan(indicator: Indicator, catalog: Catalog, year: int, listed: pd.DataFrame,
               history: pd.DataFrame) -> pd.DataFrame:
    """年度主要指标进度表 for one indicator and year: planned value per unit and month.

    ``history`` holds the indicator's values (period, unit, value, monthly) of the three years
    before ``year``; it gives the baseline (last December) and the seasonal profile. Computed
    for all units at once: a province plans 1,900 units an indicator and year.
    """
    targets = resolve_targets(indicator, catalog, year, listed, history)
    if targets.empty:
        return pd.DataFrame(columns=PLAN_COLUMNS).astype({"baseline": "float64"})
    past_years = [year - 3, year - 2, year - 1]  # history must reach back to year - 4 December
    units = targets["unit"].astype(str).tolist()
    n = len(units)
    deadlines = np.clip(targets["deadline_month"].to_numpy().astype(int), 1, 12)
    baseline, baseline_source = _baselines(indicator, targets, history, f"{year - 1:04d}-12")
    comparators = [c if isinstance(c, str) and c else None
                   for c in targets["comparator"].tolist()]
    profiles = [indicator.unit_profiles.get(u, indicator.profile) for u in units]
    shares = np.empty((n, 12))
    used = np.empty(n, dtype=object)
    fixed: dict[tuple[str, int], list[float]] = {}
    for i, (profile, deadline) in enumerate(zip(profiles, deadlines, strict=True)):
        if profile != "seasonal":  # the same shares for every unit with this deadline
            key = (profile, int(deadline))
            if key not in fixed:
                fixed[key] = profile_shares(indicator, year, int(deadline), profile=profile,
                                            holiday_file=catalog.holidays)[0]
            shares[i], used[i] = fixed[key], profile
    seasonal = np.array([p == "seasonal" for p in profiles])
    if seasonal.any():
        rows = np.flatnonzero(seasonal)
        grid = history_grid(history, indicator)
        own, usable = seasonal_many(
            monthly_amounts(grid, indicator, past_years, [units[i] for i in rows]),
            deadlines[rows])
        district, district_usable = seasonal_many(
            monthly_amounts(grid, indicator, past_years, [DISTRICT] * len(rows)),
            deadlines[rows])
        linear = np.minimum(np.arange(1, 13)[None, :] / deadlines[rows][:, None], 1.0)
        shares[rows] = np.where(usable[:, None], own,
                                np.where(district_usable[:, None], district, linear))
        used[rows] = np.where(usable, "seasonal",
                              np.where(district_usable, "seasonal(district)", "seasonal(linear)"))
    target = targets["target"].astype("float64").to_numpy()
    lower = lower_is_better(indicator, targets["comparator"])
    # a count target of a few whole units is planned in whole units (院士工作站 2 a year: one by
    # its mid-year milestone, two by December), not as a line through fractions of one
    steps = np.zeros(n, dtype=bool)
    if catalog.is_count(indicator) and indicator.kind in ("flow", "stock"):
        with np.errstate(invalid="ignore"):
            steps = np.abs(target - np.nan_to_num(baseline, nan=np.inf)) <= catalog.small_count_max
    planned, planned_pct = planned_many(indicator, target, baseline, shares, lower, steps)
    month = np.tile(np.arange(1, 13), n)
    return pd.DataFrame({
        "year": year, "indicator": indicator.code, "unit": np.repeat(units, 12),
        "month": month, "period": [f"{year:04d}-{m:02d}" for m in range(1, 13)] * n,
        "quarter": (month - 1) // 3 + 1, "baseline": np.repeat(baseline, 12),
        "target": np.repeat(target, 12), "planned": planned.ravel(),
        "planned_share": planned_pct.ravel(), "profile": np.repeat(used, 12),
        "target_source": np.repeat(targets["target_source"].to_numpy(), 12),
        "comparator": np.repeat(np.array(comparators, dtype=object), 12),
        "baseline_source": np.repeat(baseline_source, 12)}, columns=PLAN_COLUMNS)


def _baselines(indicator: Indicator, targets: pd.DataFrame, history: pd.DataFrame,
               last_dec: str) -> tuple[np.ndarray, np.ndarray]:
    """Each target's baseline: 0 for a flow, else last December's figure, else the list's
    上年基数 (a region's first year), else none (NaN)."""
    n = len(targets)
    if indicator.kind == "flow":
        return np.zeros(n), np.full(n, BASELINE_FLOW, dtype=object)
    december = history[history["period"] == last_dec].drop_duplicates("unit")
    december = dict(zip(december["unit"], december["value"], strict=True))
    listed = pd.to_numeric(targets["baseline"], errors="coerce").to_numpy(dtype="float64")
    has_december = np.array([u in december for u in targets["unit"]])
    baseline = np.where(has_december, [float(december.get(u, np.nan)) for u in targets["unit"]],
                        listed)
    source = np.where(has_december, BASELINE_LAST_DECEMBER,
                      np.where(np.isnan(listed), BASELINE_NONE, BASELINE_LISTED)).astype(object)
    return baseline, source


def planned_many(indicator: Indicator, target: np.ndarray, baseline: np.ndarray,
                 shares: np.ndarray, lower: np.ndarray, steps: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """``planned_values`` for many targets: (planned [n, 12], planned share of the target in %);
    ``lower`` says which targets are judged lower-is-better (their comparator, or the kind);
    ``steps`` which are planned in whole units (the change from the baseline rounded down)."""
    t, b = target[:, None], baseline[:, None]
    if indicator.kind == "flow":
        planned = t * shares
    elif indicator.kind == "growth":
        planned = np.broadcast_to(t, shares.shape).copy()
    else:
        planned = np.where(np.isnan(b), t, b + (t - b) * shares)
    if steps is not None and steps.any():
        start = np.zeros_like(b) if indicator.kind == "flow" else b
        change = planned - start
        whole = np.sign(change) * np.floor(np.abs(change) + 1e-9)
        planned = np.where(steps[:, None], start + whole, planned)
    with np.errstate(invalid="ignore", divide="ignore"):
        down = np.where(np.isnan(b) | (b <= t), 100.0, (b - planned) / (b - t) * 100)
        up = np.where(t == 0, 100.0, planned / t * 100)
    return planned, np.where(lower[:, None], down, up)
