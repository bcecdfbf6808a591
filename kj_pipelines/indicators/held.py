"""Figures held back (暂扣): a unit's figure that cannot be right is kept out of every sum and
status until the unit corrects it or the bureau accepts it, instead of stopping the review.

A submitted figure is implausible when a flow's year to date falls, a month jumps beyond the
indicator's factor, a stock steps beyond it, or a figure leaves its range
(:func:`~kj_pipelines.indicators.progress.implausible`). Of the two figures a fall, jump or step
compares, the one that arrived later is held (a town re-sending its original September after
its 更正 makes September the suspect, not October); of two from the same workbook, the later
month. Held figures are dropped from the facts and the check runs again, until nothing is left
to hold, so a unit counts as not yet reported for exactly the figures held. A figure the bureau
accepted (``kj accept``, with its value) is never held again; a new figure from the unit is
judged afresh.

Plain functions over frames: which figure arrived when is asked through a callable, so the
warehouse stays outside.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

import numpy as np
import pandas as pd

from kj_pipelines.catalog.model import Catalog, Indicator
from kj_pipelines.indicators.progress import implausible
from kj_pipelines.indicators.values import compute_values, roll_up

HELD_COLUMNS = ["period", "indicator", "unit", "value", "reason", "advice", "compared", "held"]
ADVICE = ("如数据有误，请重新报送该月更正表；如数据属实（确有大幅变动），请向科技局书面说明原因，"
          "经确认（kj accept）后纳入统计")
NOTED = "登记库数据，不暂扣：请核对登记库记录"
MAX_PASSES = 6
TOLERANCE = 1e-6

# (unit, period) pairs → when each figure arrived (comparable values; missing: unknown)
Arrivals = Callable[[str, list[tuple[str, str]]], dict[tuple[str, str], object]]
Accepted = Collection[tuple[str, str, str, float]]  # (indicator, unit, period, value)


def _accepted(accepted: Accepted, code: str, unit: str, period: str, value: float) -> bool:
    return any(a[0] == code and a[1] == unit and a[2] == period
               and abs(float(a[3]) - value) <= TOLERANCE * max(1.0, abs(value))
               for a in accepted)


def hold_facts(indicator: Indicator, catalog: Catalog, facts: pd.DataFrame,
               accepted: Accepted = (), arrivals: Arrivals | None = None,
               inputs: Collection[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``facts`` without the figures of ``indicator`` held, and those held
    (:data:`HELD_COLUMNS`) with what looks wrong and what to do. For a submitted indicator the
    facts dropped are its own; for a derived one (a share out of its range) the unit's facts of
    every input for that month (``inputs``), so its total leaves the unit out as well."""
    inputs = set(inputs or [indicator.code])
    mine = facts["indicator"].isin(list(inputs))
    if not mine.any():
        return facts, pd.DataFrame(columns=HELD_COLUMNS)
    periods = sorted(set(facts.loc[mine, "period"].astype(str)))
    totals = catalog.rollup_units(indicator)
    held: list[dict] = []
    dropped: set[tuple[str, str]] = set()
    kept = facts
    for _ in range(MAX_PASSES):
        # totals are not judged (their units are): not computed either
        values = compute_values(indicator, catalog, kept, periods, without=totals)
        found = implausible(indicator, values, periods, totals=totals)
        chosen = [c for c in _choose(indicator.code, found, accepted, arrivals)
                  if (c["unit"], c["period"]) not in dropped]
        if not chosen:
            break
        keys = {(c["unit"], c["period"]) for c in chosen}
        dropped |= keys
        held += chosen
        pairs = pd.MultiIndex.from_arrays([kept["unit"].astype(str),
                                           kept["period"].astype(str)])
        kept = kept[~(pairs.isin(list(keys)) & kept["indicator"].isin(list(inputs)))]
    return kept, pd.DataFrame(held, columns=HELD_COLUMNS)


def _choose(code: str, found: pd.DataFrame, accepted: Accepted,
            arrivals: Arrivals | None) -> list[dict]:
    """Which figure of each implausible pair to hold: the later-arrived one, a figure the bureau
    accepted never."""
    if found.empty:
        return []
    pairs = [(u, str(c)) for u, c in zip(found["unit"], found["compared"], strict=True)
             if isinstance(c, str)]
    arrived = arrivals(code, pairs + [(u, str(p)) for u, p in zip(
        found["unit"], found["period"], strict=True)]) if arrivals and pairs else {}
    out: dict[tuple[str, str], dict] = {}
    for r in found.itertuples(index=False):
        unit, period, compared = str(r.unit), str(r.period), r.compared
        later_ok = not _accepted(accepted, code, unit, period, float(r.value))
        earlier_ok = isinstance(compared, str) and not _accepted(
            accepted, code, unit, compared, float(r.compared_value))
        earlier_later = isinstance(compared, str) and _after(
            arrived.get((unit, compared)), arrived.get((unit, period)))
        if earlier_ok and (earlier_later or not later_ok):
            out[(unit, compared)] = {
                "period": compared, "indicator": code, "unit": unit,
                "value": float(r.compared_value), "compared": period, "held": True,
                "advice": ADVICE, "reason": _earlier_reason(r, compared, period, earlier_later)}
        elif later_ok:
            out[(unit, period)] = {
                "period": period, "indicator": code, "unit": unit, "value": float(r.value),
                "compared": compared if isinstance(compared, str) else None, "held": True,
                "advice": ADVICE, "reason": r.reason}
    return list(out.values())


def _after(a: object, b: object) -> bool:
    try:
        return a is not None and b is not None and not pd.isna(a) and not pd.isna(b) and a > b
    except TypeError:
        return False


def _earlier_reason(row, compared: str, period: str, arrived_later: bool) -> str:
    what = {"falling": f"{compared}的累计值{row.compared_value:,.2f}高于其后{period}的"
                       f"{row.value:,.2f}（累计值不应回落）",
            "jump": f"与{period}相比，{compared}的数{row.compared_value:,.2f}明显偏离",
            "step": f"{compared}的期末值{row.compared_value:,.0f}与{period}的{row.value:,.0f}"
                    "相差过大"}.get(row.kind, row.reason)
    return what + (f"；{compared}的表晚于{period}报送，疑为重报了旧表" if arrived_later else "")


def noted(indicator: Indicator, values: pd.DataFrame, periods: list[str],
          totals: Collection[str]) -> pd.DataFrame:
    """A registry figure that looks implausible: shown for checking, never held (no unit sent
    it; the registry's records are what to check)."""
    found = implausible(indicator, values, periods, totals=totals)
    return found.assign(indicator=indicator.code, advice=NOTED, held=False)[HELD_COLUMNS] \
        if not found.empty else pd.DataFrame(columns=HELD_COLUMNS)


def inconsistent(indicator: Indicator, catalog: Catalog, values: pd.DataFrame) -> list[str]:
    """What makes an indicator's figures unusable as a whole, whoever sent them: a unit with two
    figures for a month, a figure that is not a finite number, or a total that is not the sum
    of its units (facts counted twice, or a unit summed that is not below it). Each is a fault
    of the warehouse or the catalog, not of one unit: it stops what is computed from it."""
    problems = []
    dup = values.duplicated(["period", "unit"], keep=False)
    if dup.any():
        first = values[dup].iloc[0]
        problems.append(f"{int(dup.sum())}行重复：如{first['unit']} {first['period']}有多个值")
    finite = np.isfinite(values["value"].to_numpy(dtype="float64")) | values["value"].isna()
    if not finite.all():
        bad = values[~finite].iloc[0]
        problems.append(f"{int((~finite).sum())}个值不是有限数：如{bad['unit']} {bad['period']}")
    if indicator.aggregate == "sum" and not values.empty and not dup.any():
        rollups = catalog.rollup_units(indicator)
        units = values[~values["unit"].isin(list(rollups))]
        expected = roll_up(units, rollups)
        stored = values[values["unit"].isin(list(rollups))]
        off = _totals_off(stored, expected)
        if off:
            (period, unit), value, summed = off[0]
            problems.append(f"{len(off)}个合计数不等于下级之和：如{unit} {period}为{value}，"
                            f"下级之和{summed}")
    return problems


def _totals_off(stored: pd.DataFrame, expected: pd.DataFrame
                ) -> list[tuple[tuple[str, str], float, float]]:
    """((period, unit), stored, summed) of every total that differs from the sum of its units
    (a total missing on either side counts as NaN), in (period, unit) order."""
    def by_key(frame: pd.DataFrame) -> dict[tuple[str, str], float]:
        return dict(zip(zip(frame["period"].astype(str), frame["unit"].astype(str),
                            strict=True),
                        frame["value"].to_numpy(dtype="float64").tolist(), strict=True))

    have, want = by_key(stored), by_key(expected)
    keys = sorted(have.keys() | want.keys())
    a = np.array([have.get(k, np.nan) for k in keys], dtype="float64")
    b = np.array([want.get(k, np.nan) for k in keys], dtype="float64")
    off = ~np.isclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True)
    return [(keys[i], a[i], b[i]) for i in np.flatnonzero(off)]
