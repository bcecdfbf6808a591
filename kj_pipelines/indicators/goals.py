"""Distance to the multi-year goals (seed 000: 到2027年 …)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import pandas as pd

from kj_pipelines.catalog.model import Goal

GOAL_COLUMNS = ["indicator", "unit", "goal_year", "goal", "as_of", "latest", "remaining",
                "progress"]


def goal_distance(goals: Sequence[Goal], latest: pd.DataFrame) -> pd.DataFrame:
    """For each goal: the latest value, what remains, and the share of the way covered (%).

    ``latest`` holds the latest (indicator, unit, period, value) per indicator.
    """
    rows = []
    for goal in goals:
        match = latest[(latest["indicator"] == goal.indicator) & (latest["unit"] == goal.unit)]
        if match.empty:
            rows.append((goal.indicator, goal.unit, goal.year, goal.value, None, None, None, None))
            continue
        value, period = float(match["value"].iloc[0]), str(match["period"].iloc[0])
        span = goal.value - goal.baseline_value
        progress = (value - goal.baseline_value) / span * 100 if span else 100.0
        rows.append((goal.indicator, goal.unit, goal.year, goal.value, period, value,
                     goal.value - value, progress))
    return pd.DataFrame(rows, columns=GOAL_COLUMNS).astype(
        {"latest": "float64", "remaining": "float64", "progress": "float64"})


GOAL_NOTE = ("进度＝（最新值−基期值）÷（目标值−基期值）；“尚差”为距目标值还差的量，"
             "“已超出”表示最新值已越过目标值")


def explained(distance: pd.DataFrame, goals: Sequence[Goal],
              counted: Collection[str] = ()) -> pd.DataFrame:
    """``distance`` (:func:`goal_distance`'s rows) with what a reader needs to check them: the
    base each goal is measured from (``baseline``, ``baseline_year``) and the distance in words
    (``remaining_text``: 尚差 12.00, 已超出 14.00 or 已达到; a goal to bring a figure down is
    short while the figure is above it; ``counted``: indicators counted in whole units, their
    distance printed without decimals)."""
    base = {(g.indicator, g.unit): g for g in goals}
    rows = []
    for r in distance.to_dict("records"):
        goal = base.get((r["indicator"], r["unit"]))
        rows.append({"baseline_year": goal.baseline_year if goal else None,
                     "baseline": goal.baseline_value if goal else None,
                     "remaining_text": remaining_text(
                         r["goal"], goal.baseline_value, r["latest"],
                         0 if r["indicator"] in counted else 2) if goal else "—"})
    extra = pd.DataFrame(rows, index=distance.index,
                         columns=["baseline_year", "baseline", "remaining_text"])
    return pd.concat([distance, extra], axis=1)


def still_to_go(goal: float, baseline: float, latest: float | None) -> float | None:
    """How far the latest figure still is from the goal, in the goal's direction (negative:
    beyond it; a goal to bring a figure down is short while the figure is above it); None
    without a figure."""
    if latest is None or latest != latest:  # NaN: no figure yet
        return None
    return (goal - latest) if goal >= baseline else (latest - goal)


def remaining_text(goal: float, baseline: float, latest: float | None, digits: int = 2) -> str:
    left = still_to_go(goal, baseline, latest)
    if left is None:
        return "—"
    if abs(left) < 1e-9:
        return "已达到"
    return f"尚差{left:,.{digits}f}" if left > 0 else f"已超出{-left:,.{digits}f}"
