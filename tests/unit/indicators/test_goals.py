"""The distance to a multi-year goal, and the words it is printed in (hand-worked numbers)."""

import math

import pandas as pd

from kj_pipelines.catalog.model import Goal
from kj_pipelines.indicators.goals import explained, goal_distance, remaining_text
from kj_pipelines.indicators.status import month_counts, status_counts, status_rule


def test_progress_is_measured_from_the_base_and_the_distance_is_said_in_words():
    goals = [Goal("RD", "ALL", 2027, 3.51, 2022, 3.40), Goal("HT", "ALL", 2027, 600, 2022, 400),
             Goal("PM", "ALL", 2027, 30, 2022, 50), Goal("NEW", "ALL", 2027, 10, 2022, 0)]
    latest = pd.DataFrame({"indicator": ["RD", "HT", "PM"], "unit": "ALL",
                           "period": ["2026-12", "2026-12", "2026-12"],
                           "value": [3.47, 614.0, 35.0]})
    rows = explained(goal_distance(goals, latest), goals).set_index("indicator")
    # (3.47 − 3.40) ÷ (3.51 − 3.40) = 63.6 %: the way covered since the base, not 3.47 / 3.51
    assert math.isclose(rows.at["RD", "progress"], 0.07 / 0.11 * 100)
    assert rows.at["RD", "remaining_text"] == "尚差0.04" and rows.at["RD", "baseline"] == 3.40
    assert rows.at["HT", "remaining"] == -14 and rows.at["HT", "remaining_text"] == "已超出14.00"
    # a goal to bring a figure down (50 → 30): at 35 it is 5 short, not 5 beyond
    assert rows.at["PM", "remaining_text"] == "尚差5.00"
    assert math.isclose(rows.at["PM", "progress"], 75.0)
    assert rows.at["NEW", "remaining_text"] == "—"
    assert remaining_text(600, 400, 600.0) == "已达到"
    assert explained(goal_distance(goals, latest), goals, {"HT"}).set_index("indicator").at[
        "HT", "remaining_text"] == "已超出14"


def test_the_rule_and_the_counts_read_as_printed():
    from kj_pipelines.catalog.model import Indicator
    fields = {f: None for f in Indicator.__dataclass_fields__}
    ind = Indicator(**{**fields, "code": "X", "yellow": 20.0, "red": 60.0, "profile": "linear"})
    assert status_rule(ind) == "≥−20绿，≥−60黄，<−60红"
    progress = pd.DataFrame({
        "unit": ["ALL", "A", "B", "ALL", "A", "B"],
        "status": ["grey", "red", "grey", "yellow", "yellow", "done"],
        "missing_units": [1, 0, 0, 0, 0, 0]})
    counts = month_counts(progress, "全区")
    assert counts == {"全区红灯指标": 0, "全区黄灯指标": 1, "全区绿灯或完成指标": 0,
                      "全区待报齐指标": 1, "红灯单位次（不含全区）": 1,
                      "黄灯单位次（不含全区）": 1, "绿灯或完成单位次（不含全区）": 1,
                      "缺报单位次（不含全区）": 1}
    assert status_counts(progress[progress["unit"] == "ALL"], {"red": 1, "yellow": 1,
                                                               "green": 1, "grey": 1},
                         "全区") == counts
