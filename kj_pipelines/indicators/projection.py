"""预判预警: where each unit's year is heading, before the target is lost.

For a monthly indicator, unit and month, the year-end figure is projected two ways:

- **seasonal**: this year's progress so far scaled by the unit's own pattern of past years (the
  share of a year's work its past years had done by this month; the district's pattern when the
  unit has no usable year, else an even pace). A flow's own pattern is first drawn toward the
  district's as far as the units' patterns differ by more than one unit's years scatter (three
  years of one town's months are mostly noise where all towns keep one rhythm; see
  :func:`_pooled`). The spread of the past years' patterns gives a band (the lowest and highest
  year-end the same progress would give under each past year).
- **pace**: this year's figure plus the last three months' progress, carried over the rest of
  the year at the same rate per share of the year's work (a unit slowing down shows here first).

The more pessimistic of the two judges. A projected year end short of the target by more than
the indicator's margin is a *fast* signal; the mean of the last three months' projections short
by the same margin is the *slow* one. Only when both agree, from the year's third month on, is
the projection *confirmed* (burn-rate style): one odd month does not page anybody.

A stock the units themselves work on toward a target (a submitted count such as the 两清零
enterprises) is projected as a flow is: its change since last December is the year's work, and
its past years' changes give the pattern (a change of 20 done the way the past years' changes
of 25 were is on course, where their drift would carry it 25 down). Registry stocks and rates
(a ratio of year-to-date flows, a growth rate) are projected as their level plus the drift from
this month to December their past years showed (a registry stock's year is a path, not a share
of work: expiries and renewals move it both ways); such a stock's pace is its last three months
against the same months of its past years, and at the recent pace a rate keeps its level. So
is a submitted stock whose change cannot be measured (no December before) or is not yet due.
A flow is not projected while the pattern says less than 2 % of the year's work is due (a
batch-announced figure before its announcement month). Small count targets are judged against
the plan's whole-unit steps as well (see :func:`project`).
Plain numpy over grids [unit, month]: a province projects 1,900 units an indicator and month.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from kj_pipelines.catalog.model import DISTRICT, Indicator
from kj_pipelines.core.grids import MonthGrid
from kj_pipelines.indicators.backschedule import lower_is_better
from kj_pipelines.indicators.progress import completion_many

PROJECTION_COLUMNS = ["period", "indicator", "unit", "year", "month", "actual", "target",
                      "baseline", "projected_seasonal", "projected_pace", "projected",
                      "band_low", "band_high", "projected_completion", "shortfall",
                      "needed_monthly", "fast", "slow", "confirmed", "basis"]
BASIS_OWN, BASIS_DISTRICT, BASIS_EVEN = "本单位往年规律", f"{DISTRICT}往年规律", "按月均衡"
BASIS_SHARE = f"本单位往年占{DISTRICT}比重"
BASIS_POOLED = f"本单位与{DISTRICT}往年规律加权"  # see _pooled
SLOW_WINDOW = 3  # months whose mean projection is the slow signal; none before the third month
MIN_SHARE = 0.02  # below this share of the year's work a projection is a guess, not made


def project(indicator: Indicator, year: int, values: pd.DataFrame, plan: pd.DataFrame,
            margin: float, small_count_max: float = 0, grids: MonthGrid | None = None,
            confirm_from: int = SLOW_WINDOW,
            totals: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """Projections for every unit with a target in ``plan`` (the year's rows of the plan) and
    every month of ``year`` it has a figure for. ``values`` (period, unit, value) hold this
    year's and the three years before; ``margin`` is the shortfall in percentage points of the
    target beyond which a projection warns (``grids``: the same ``values`` laid out once for
    several years' projections). A target of at most ``small_count_max`` whole units
    to gain (0 for figures that are not counts) must also be a whole unit behind the plan's
    whole-unit steps, and have been for the slow window: one workstation arriving in May rather
    than March is no miss; or be short even at the best of its past years' patterns (a town
    that has had none in three years and has none yet). Nothing is confirmed before month
    ``confirm_from`` (the catalog's 时间过半, June) nor before the slow window is full.
    ``totals`` (each unit above the reporters → the reporting units summed into it, as
    :meth:`Catalog.rollup_units` gives them): a total whose target its units' targets cover is
    confirmed short only in a month one of those units is (see :func:`_totals_follow_parts`)."""
    if indicator.frequency != "monthly":
        return pd.DataFrame(columns=PROJECTION_COLUMNS)
    targets = plan[plan["month"] == 12].drop_duplicates("unit")
    if targets.empty:
        return pd.DataFrame(columns=PROJECTION_COLUMNS)
    units = targets["unit"].astype(str).tolist()
    target = targets["target"].to_numpy(dtype="float64")
    baseline = pd.to_numeric(targets["baseline"], errors="coerce").to_numpy(dtype="float64")
    lower = lower_is_better(indicator, targets["comparator"] if "comparator" in targets.columns
                            else pd.Series([None] * len(targets), dtype=object))
    rate = indicator.kind in ("ratio", "growth")
    flow = indicator.kind == "flow"
    grids = grids if grids is not None else MonthGrid(values)
    current = grids.year(units, year)  # [unit, 12]
    base = np.zeros(len(units)) if flow else np.where(
        np.isnan(baseline), grids.december(units, year - 1), baseline)
    past = [(grids.year(units, y), np.zeros(len(units)) if flow
             else grids.december(units, y - 1)) for y in (year - 3, year - 2, year - 1)]
    top = [(grids.year([DISTRICT], y), np.zeros(1) if flow
            else grids.december([DISTRICT], y - 1)) for y in (year - 3, year - 2, year - 1)]

    registry = indicator.source == "registry"
    if rate or (registry and not flow):
        seasonal, band_low, band_high, basis = _drift(current, past, top)
        pace = current.copy() if rate else _stock_pace(current, base, past, seasonal)
    else:
        seasonal, band_low, band_high, pace, basis = _flow(current, base, past, top, indicator,
                                                           units)
        # a stock's change not measurable (no December before) or not due yet: level + drift
        unknown = ~np.isfinite(seasonal)
        if not flow and unknown.any():
            by_drift = _drift(current, past, top)
            drift_pace = _stock_pace(current, base, past, by_drift[0])
            for grid, fallback in zip((seasonal, band_low, band_high, pace),
                                      (*by_drift[:3], drift_pace), strict=True):
                grid[:] = np.where(unknown, fallback, grid)
            basis = np.where(unknown.all(axis=1), by_drift[3], basis).astype(object)
        if registry:  # events announced for the whole district: a unit's usual share of them
            shared = _share_of_district(units, past, top, grids.year([DISTRICT], year),
                                        indicator)
            if shared is not None:
                weight, (d_seasonal, d_low, d_high, d_pace) = shared
                has = np.isfinite(weight)[:, None] & np.isfinite(current + d_seasonal)
                for grid, top_grid in ((seasonal, d_seasonal), (band_low, d_low),
                                       (band_high, d_high), (pace, d_pace)):
                    split = current + weight[:, None] * top_grid
                    grid[:] = np.where(has & np.isfinite(split), split, grid)
                basis = np.where(has.any(axis=1), BASIS_SHARE, basis).astype(object)
    if indicator.minimum is not None:  # no year ends below what a figure can be (a count: 0)
        seasonal, band_low, band_high, pace = (np.maximum(grid, indicator.minimum) for grid in
                                               (seasonal, band_low, band_high, pace))
    # a registry stock moves by certificates' expiries and renewals fixed years ahead, not by
    # a unit's recent effort: its recent pace is shown, its path over past years judges
    judged_pace = seasonal if registry and not flow and not rate else pace
    pessimistic = np.where(lower[:, None], np.fmax(seasonal, judged_pace),
                           np.fmin(seasonal, judged_pace))
    projected_completion = _completion(pessimistic, target, baseline, lower)
    shortfall = 100.0 - projected_completion
    slow_projection = _rolling_mean(pessimistic, SLOW_WINDOW)
    slow_short = 100.0 - _completion(slow_projection, target, baseline, lower)
    month = np.arange(1, 13)[None, :]
    fast = shortfall > margin
    slow_signal = slow_short > margin
    small = np.abs(target - base) <= small_count_max if small_count_max else np.zeros(
        len(units), dtype=bool)
    if small.any():  # whole units: behind the plan's whole-unit steps, or short at best
        planned = MonthGrid(plan, "planned").year(units, year)
        sign = np.where(lower, -1.0, 1.0)[:, None]
        behind = (planned - current) * sign >= 1 - 1e-9
        # (arrivals only: a count to bring down to zero has no "best year" to stay short of)
        hopeless = fast & ~lower[:, None] & (
            100.0 - _completion(band_high, target, baseline, lower) > margin)
        unreported = np.isnan(current)
        fast = np.where(small[:, None], (behind & fast) | hopeless, fast)
        slow_signal = np.where(small[:, None], (_rolling_mean(
            np.where(unreported, np.nan, behind.astype(float)), SLOW_WINDOW) >= 1) | (
            _rolling_mean(np.where(unreported, np.nan, hopeless.astype(float)),
                          SLOW_WINDOW) >= 1), slow_signal)
    slow = slow_signal & (month >= max(SLOW_WINDOW, confirm_from))
    confirmed = fast & slow
    if totals and indicator.aggregate == "sum":  # a rate's total is no sum of its units'
        confirmed = _totals_follow_parts(units, target, lower, confirmed, totals)
    with np.errstate(invalid="ignore", divide="ignore"):
        needed = np.where(rate, target[:, None], (target[:, None] - current) / (12 - month))
    needed = np.where(month == 12, np.nan, needed)

    n = len(units)
    frame = pd.DataFrame({
        "period": [f"{year:04d}-{m:02d}" for m in range(1, 13)] * n,
        "indicator": indicator.code, "unit": np.repeat(units, 12), "year": year,
        "month": np.tile(np.arange(1, 13), n), "actual": current.ravel(),
        "target": np.repeat(target, 12), "baseline": np.repeat(base, 12),
        "projected_seasonal": seasonal.ravel(), "projected_pace": pace.ravel(),
        "projected": pessimistic.ravel(), "band_low": band_low.ravel(),
        "band_high": band_high.ravel(), "projected_completion": projected_completion.ravel(),
        "shortfall": shortfall.ravel(), "needed_monthly": needed.ravel(),
        "fast": fast.ravel(), "slow": slow.ravel(), "confirmed": confirmed.ravel(),
        "basis": np.repeat(basis, 12)}, columns=PROJECTION_COLUMNS)
    return frame[frame["projected"].notna()].reset_index(drop=True)


# a total's target may exceed its units' targets together by their rounding (HT_VA 2020: the
# district's 303.27 against its towns' 303.26) and still be the same target
COVER_TOLERANCE = 1e-3


def _totals_follow_parts(units: list[str], target: np.ndarray, lower: np.ndarray,
                         confirmed: np.ndarray, totals: dict[str, list[str]]) -> np.ndarray:
    """A total (the top's, a county's) is the sum of its units, and when its target is no more
    than theirs together it cannot miss unless one of them does: its own path may look short
    (whole firms closing in different months make a jagged sum) while every unit is on course.
    So its projected miss stands only in a month where some unit below it has one confirmed.
    A total whose target asks more than its units' targets together, or with a unit below it
    that has no target, is judged on its own path alone."""
    out = confirmed.copy()
    row = {unit: i for i, unit in enumerate(units)}
    for above, below in totals.items():
        if above not in row or not below or any(unit not in row for unit in below):
            continue
        i, parts = row[above], [row[unit] for unit in below]
        together = float(target[parts].sum())
        covered = target[i] >= together * (1 - COVER_TOLERANCE) if lower[i] \
            else target[i] <= together * (1 + COVER_TOLERANCE)
        if covered:
            out[i] &= confirmed[parts].any(axis=0)
    return out


def _flow(current: np.ndarray, base: np.ndarray, past, top, indicator: Indicator,
          units: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A flow's (seasonal, band low, band high, pace, basis) from its own or the district's
    pattern (``units``: the rows' names, for :func:`_pooled`)."""
    shares, basis, each = _pattern(past, top, indicator, len(current), units)
    done = current - base[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        seasonal = np.where(shares >= MIN_SHARE, base[:, None] + done / shares, np.nan)
        by_year = np.where(each >= MIN_SHARE, base[None, :, None] + done[None] / each, np.nan)
    band_low, band_high = _band(by_year, seasonal)
    return seasonal, band_low, band_high, _pace(current, base, shares, seasonal), basis


def _share_of_district(units: list[str], past, top, top_now: np.ndarray,
                       indicator: Indicator):
    """A registry flow (recognitions, new institutions: announced district-wide, in batches)
    seen through each unit's usual share of it: (the share [unit], NaN for the district itself
    and a unit without a usable past year; the district's remaining seasonal, band low, band
    high and pace [1, 12] to be split by it), or None without the district's past years. A
    town's own handful of events a quarter says little of its year; its share of the district's
    batches over three years, and how the district's year is going, say more. ``past`` and
    ``top`` are the units' and the district's three past years, ``top_now`` the district's
    year so far."""
    district_past = np.array([grid[0, 11] for grid, _ in top])
    usable = np.isfinite(district_past)
    if not usable.any() or district_past[usable].sum() <= 0:
        return None
    own = np.stack([grid[:, 11] for grid, _ in past], axis=1)  # [unit, year]
    known = np.isfinite(own) & usable[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        weight = np.where(known, own, 0.0).sum(axis=1) / np.where(
            known, district_past[None, :], 0.0).sum(axis=1)
    weight = np.where(known.any(axis=1) & (np.asarray(units) != DISTRICT), weight, np.nan)
    d_seasonal, d_low, d_high, d_pace, _ = _flow(top_now, np.zeros(1), top, top, indicator,
                                                 [DISTRICT])
    remaining = [grid - top_now for grid in (d_seasonal, d_low, d_high, d_pace)]
    if not np.isfinite(remaining[0]).any():
        return None
    return weight, remaining


def _shares(grid: np.ndarray, base: np.ndarray, flow: bool) -> np.ndarray:
    """A past year's cumulative share of its work by each month (NaN for an unusable year: a
    month missing, or no work done over the year)."""
    done = grid - base[:, None]
    total = done[:, 11:12]
    usable = np.isfinite(done).all(axis=1) & (np.abs(total[:, 0]) > 1e-9)
    if flow:
        usable &= total[:, 0] > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(usable[:, None], done / total, np.nan)
    return shares


def _pattern(past, top, indicator: Indicator, n: int, units: list[str]
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the mean pattern [unit, 12], where it came from [unit], each year's [year, unit, 12]).
    A flow's own pattern is drawn toward the district's as far as its units' patterns are no
    more different than one unit's years are (see :func:`_pooled`)."""
    flow = indicator.kind == "flow"
    each = np.stack([_shares(g, b, flow) for g, b in past])  # [year, unit, 12]
    own_count = np.isfinite(each[:, :, 0]).sum(axis=0)
    own = _nanmean(each, axis=0) if len(each) else np.full((n, 12), np.nan)
    district_each = np.stack([_shares(g, b, flow) for g, b in top])[:, 0, :]  # [year, 12]
    usable = np.isfinite(district_each[:, 0])
    district = district_each[usable].mean(axis=0) if usable.any() else None
    drawn = np.zeros(n, dtype=bool)
    if flow and district is not None:
        own, weight = _pooled(each, own, own_count, district, np.asarray(units) != DISTRICT)
        drawn = (weight[:, :11] < 1 - 1e-9).any(axis=1)
    even = np.arange(1, 13) / 12
    shares = np.where((own_count > 0)[:, None], own,
                      district[None, :] if district is not None else even[None, :])
    basis = np.where(own_count > 0, np.where(drawn, BASIS_POOLED, BASIS_OWN),
                     BASIS_DISTRICT if district is not None else BASIS_EVEN).astype(object)
    # a unit without years of its own is banded by the district's years
    fallback = np.broadcast_to(district_each[:, None, :] if district is not None
                               else even[None, None, :], each.shape)
    each = np.where((own_count > 0)[None, :, None], each, fallback)
    return shares, basis, each


def _pooled(each: np.ndarray, own: np.ndarray, own_count: np.ndarray, district: np.ndarray,
            judged: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(each unit's pattern [unit, 12], the weight its own years had [unit, 12]): drawn
    toward the district's, month by month, as far as the data say the units truly differ
    (empirical Bayes, the James-Stein kind). A unit's mean of n past years weighs
    ``between / (between + within / n)`` against the district's, where *within* is how far a
    unit's single years scatter around their own mean (pooled over the units) and *between* is
    how far the units' means spread around the district's beyond what that scatter explains
    (never below 0). Where every town works to the same rhythm (the year-end push, the spring
    festival) three years of one town's months are mostly noise and the district's pattern, a
    sum over all towns, is the better guess; where towns keep rhythms of their own, *between*
    is large and each keeps its own. ``each``: the past years' patterns [year, unit, 12], NaN
    for a year not usable; ``judged``: the units that estimate the spreads (not the totals,
    whose pattern is the district's own; they keep theirs). Without a unit of two usable years
    there is no *within* to weigh by, and every unit keeps its own."""
    finite = np.isfinite(each)
    scatter = np.where(finite, each - own[None], 0.0)[:, judged]
    dof = float(np.clip(own_count[judged] - 1, 0, None).sum())
    has = judged & (own_count > 0)
    if dof < 1 or not has.any():
        return own, np.ones_like(own)
    within = (scatter ** 2).sum(axis=(0, 1)) / dof  # [12]
    noise = within[None, :] / np.maximum(own_count, 1)[:, None]  # [unit, 12]
    spread = ((own[has] - district[None, :]) ** 2).mean(axis=0) - noise[has].mean(axis=0)
    between = np.maximum(spread, 0.0)[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        weight = np.where(noise > 0, between / (between + noise), 1.0)
    weight = np.where(judged[:, None], weight, 1.0)
    pooled = district[None, :] + weight * (own - district[None, :])
    return np.where(judged[:, None], pooled, own), weight


def _band(by_year: np.ndarray, central: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(by_year)
        low = np.where(finite.any(axis=0), np.nanmin(np.where(finite, by_year, np.inf), axis=0),
                       central)
        high = np.where(finite.any(axis=0),
                        np.nanmax(np.where(finite, by_year, -np.inf), axis=0), central)
    return np.fmin(low, central), np.fmax(high, central)


def _pace(current: np.ndarray, base: np.ndarray, shares: np.ndarray,
          seasonal: np.ndarray) -> np.ndarray:
    """The last three months' progress per share of the year's work, carried to December."""
    three_back = _back3(current, base)
    step = shares - _back3(shares, np.zeros(len(shares)))
    with np.errstate(invalid="ignore", divide="ignore"):
        pace = current + (current - three_back) / step * (1.0 - shares)
    return np.where((step >= MIN_SHARE) & np.isfinite(pace), pace, seasonal)


def _back3(grid: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Each month's figure three months before (last December's, ``base``, for Jan…Mar)."""
    return np.concatenate([np.repeat(base[:, None], 3, axis=1), grid[:, :-3]], axis=1)


def _stock_pace(current: np.ndarray, base: np.ndarray, past, seasonal: np.ndarray
                ) -> np.ndarray:
    """A level's last three months against the same three months of its past years: what it
    fell behind (or gained) on them, carried on for the rest of the year."""
    change = current - _back3(current, base)
    usual = np.stack([g - _back3(g, b) for g, b in past])
    usual = _nanmean(usual, axis=0)
    usual = np.where(np.isfinite(usual), usual, 0.0)
    months_back = np.minimum(np.arange(1, 13), 3)[None, :]
    remaining = (12 - np.arange(1, 13))[None, :]
    pace = seasonal + (change - usual) / months_back * remaining
    return np.where(np.isfinite(pace), pace, seasonal)


def _drift(current: np.ndarray, past, top) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                     np.ndarray]:
    """A rate's projection: its level plus the mean drift to December of the past years."""
    drifts = np.stack([g[:, 11:12] - g for g, _ in past])  # [year, unit, 12]
    district = np.stack([g[:, 11:12] - g for g, _ in top])[:, 0, :]
    own = np.isfinite(drifts).any(axis=0)
    mean_own = _nanmean(drifts, axis=0)
    mean_top = _nanmean(district, axis=0)
    mean_top = np.where(np.isfinite(mean_top), mean_top, 0.0)
    drift = np.where(own, mean_own, mean_top[None, :])
    seasonal = current + drift
    by_year = current[None] + np.where(np.isfinite(drifts), drifts, drift[None])
    low, high = _band(by_year, seasonal)
    has_own = own[:, 0] if own.size else np.zeros(len(current), dtype=bool)
    basis = np.where(has_own, BASIS_OWN, BASIS_DISTRICT).astype(object)
    return seasonal, low, high, basis


def _completion(projected: np.ndarray, target: np.ndarray, baseline: np.ndarray,
                lower: np.ndarray) -> np.ndarray:
    shape = projected.shape
    return completion_many(projected.ravel(), np.repeat(target, shape[1]),
                           np.repeat(baseline, shape[1]),
                           np.repeat(lower, shape[1])).reshape(shape)


def _rolling_mean(grid: np.ndarray, window: int) -> np.ndarray:
    """The mean of each month and the ``window - 1`` before it (NaN months left out)."""
    finite = np.isfinite(grid)
    values = np.where(finite, grid, 0.0)
    total = np.cumsum(values, axis=1)
    count = np.cumsum(finite, axis=1)
    total[:, window:] -= total[:, :-window].copy()
    count[:, window:] -= count[:, :-window].copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def _nanmean(grid: np.ndarray, axis: int) -> np.ndarray:
    """The mean of the finite values along ``axis`` (NaN where there are none)."""
    finite = np.isfinite(grid)
    count = finite.sum(axis=axis)
    total = np.where(finite, grid, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def severity_step(shortfall: float, step: float = 10.0) -> int:
    """Which band of shortfall a projected miss is in (0: up to 10 points short, 1: up to 20…):
    a warning is sent again only when its projection falls into a worse band."""
    if shortfall is None or math.isnan(shortfall):
        return 0
    return max(int(shortfall // step), 0)
