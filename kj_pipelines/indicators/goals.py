"""Distance to the multi-year goals (seed 000: 到2027年 …)."""

from __future__ import annotations

from collections.abc import Sequence

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
