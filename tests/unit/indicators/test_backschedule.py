"""Every back-scheduling profile on hand-worked numbers."""

import dataclasses

import pandas as pd
import pytest

from kj_pipelines.core.workdays import monthly_workdays
from kj_pipelines.indicators.backschedule import (
    batch_shares,
    build_plan,
    goal_targets,
    linear_shares,
    milestone_shares,
    planned_values,
    profile_shares,
    seasonal_shares,
    workday_shares,
)


def approx(values):
    return pytest.approx(values, abs=1e-9)


def test_linear_and_deadline():
    assert linear_shares()[2] == pytest.approx(0.25)
    # deadline June: half by March, all from June on
    assert linear_shares(6)[:7] == approx([1 / 6, 2 / 6, 0.5, 4 / 6, 5 / 6, 1.0, 1.0])


def test_workdays_spring_festival_and_make_up_days():
    counts, source = monthly_workdays(2024)
    assert source == "chinese-calendar"
    # Feb 2024: 21 weekdays (leap year: the 29th is a Thursday) - 5 festival days + 2 make-up Sundays
    assert counts[1] == 18
    # Oct 2024: 23 weekdays - 5 National Day weekdays + make-up Saturday 12 Oct
    assert counts[9] == 19
    assert sum(counts) == 251
    shares = workday_shares(2024)
    assert shares[0] == pytest.approx(22 / 251)
    assert shares[1] == pytest.approx(40 / 251)  # February adds only 18 days
    assert shares[11] == 1.0


def test_workdays_after_the_library_use_the_holiday_file_then_weekdays():
    holiday_file = {2030: {"holidays": ["2030-01-01"], "workdays": ["2030-01-05"]}}
    counts, source = monthly_workdays(2030, holiday_file)
    assert source == "holidays.yaml"
    assert counts[0] == 23  # 23 weekdays - New Year + make-up Saturday
    counts, source = monthly_workdays(2031)
    assert source == "weekdays"
    assert counts[0] == 23  # January 2031: Wednesday 1st, 23 weekdays


def test_milestones_time_half_task_half():
    shares = milestone_shares({6: 0.5})
    assert shares[2] == pytest.approx(0.25)
    assert shares[5] == pytest.approx(0.5)
    assert shares[8] == pytest.approx(0.75)
    assert milestone_shares({6: 0.6, 9: 0.8})[7] == pytest.approx(0.6 + 0.2 * 2 / 3)


def test_batch_steps_in_announcement_months():
    shares = batch_shares({10: 0.2, 11: 0.5, 12: 0.3})
    assert shares == approx([0] * 9 + [0.2, 0.7, 1.0])


def test_seasonal_average_of_past_years_with_fallbacks():
    slow_start = [1.0] * 6 + [3.0] * 6  # a quarter of the year's work by June
    even = [2.0] * 12
    shares = seasonal_shares([slow_start, even])
    assert shares[5] == pytest.approx((0.25 + 0.5) / 2)
    assert shares[11] == 1.0
    assert seasonal_shares([[float("nan")] * 12]) is None


def test_seasonal_profile_falls_back_to_district_then_linear(catalog):
    ind = catalog.indicators["HT_VA"]
    district = [[1.0] * 6 + [3.0] * 6]
    shares, used = profile_shares(ind, 2026, 12, unit_history=[], district_history=district)
    assert used == "seasonal(district)" and shares[5] == pytest.approx(0.25)
    shares, used = profile_shares(ind, 2026, 12)
    assert used == "seasonal(linear)" and shares[5] == pytest.approx(0.5)


def test_planned_values_by_kind(catalog):
    flow = catalog.indicators["TECH_CONTRACT"]
    assert planned_values(flow, 120, 0, linear_shares())[2] == approx((30.0, 25.0))
    stock = catalog.indicators["HT_EFFECTIVE"]
    planned, share = planned_values(stock, 520, 470, batch_shares({10: .2, 11: .5, 12: .3}))[9]
    assert planned == pytest.approx(480) and share == pytest.approx(480 / 520 * 100)
    lower = catalog.indicators["ZERO_RD_ORG"]
    assert planned_values(lower, 0, 30, linear_shares())[5] == approx((15.0, 50.0))
    ratio = catalog.indicators["RD_GDP"]
    assert planned_values(ratio, 3.42, 3.40, linear_shares())[5][0] == pytest.approx(3.41)
    growth = catalog.indicators["HT_INV_GROWTH"]
    assert planned_values(growth, 10, 24.2, linear_shares())[0] == approx((10.0, 100.0))


def test_goal_back_scheduled_into_annual_targets(catalog):
    goal = next(g for g in catalog.goals if g.indicator == "HL_PLATFORM")  # 7 (2022) → 12 (2027)
    assert goal_targets(goal, 2024) == pytest.approx(9)
    assert goal_targets(goal, 2027) == pytest.approx(12)
    assert goal_targets(goal, 2022) is None


def test_build_plan_uses_list_units_sum_and_goals(catalog):
    listed = pd.DataFrame([
        {"year": 2026, "indicator": "TECH_CONTRACT", "unit": "JC", "target": 12.0,
         "deadline_month": 12},
        {"year": 2026, "indicator": "TECH_CONTRACT", "unit": "ZS", "target": 8.0,
         "deadline_month": 6},
    ])
    history = pd.DataFrame(columns=["period", "unit", "value", "monthly"])
    ind = dataclasses.replace(catalog.indicators["TECH_CONTRACT"], profile="linear")
    plan = build_plan(ind, catalog, 2026, listed, history)
    by = plan.set_index(["unit", "month"])
    assert by.loc[("JC", 3), "planned"] == pytest.approx(3.0)
    assert by.loc[("ZS", 3), "planned"] == pytest.approx(4.0)  # deadline June
    assert by.loc[("ALL", 12), "target"] == pytest.approx(20.0)
    assert by.loc[("ALL", 1), "target_source"] == "units_sum"
    goal_plan = build_plan(catalog.indicators["HL_PLATFORM"], catalog, 2025, listed, history)
    assert set(goal_plan["target_source"]) == {"goal"}
    assert goal_plan["target"].iloc[0] == pytest.approx(10)


def test_stock_baseline_is_last_december(catalog):
    listed = pd.DataFrame([{"year": 2026, "indicator": "ZERO_RD_ORG", "unit": "JC",
                            "target": 0.0, "deadline_month": 12}])
    history = pd.DataFrame([{"period": "2025-12", "unit": "JC", "value": 12.0, "monthly": None}])
    plan = build_plan(catalog.indicators["ZERO_RD_ORG"], catalog, 2026, listed, history)
    row = plan[plan["month"] == 3].iloc[0]
    assert row["baseline"] == 12 and row["planned"] == pytest.approx(9)
    assert row["planned_share"] == pytest.approx(25)


def test_a_unit_may_override_the_profile(catalog):
    ind = catalog.indicators["MAJOR_PROJ_INV"]  # workdays, YJKC overridden to linear
    assert ind.unit_profiles == {"YJKC": "linear"}
    listed = pd.DataFrame([{"year": 2024, "indicator": ind.code, "unit": u, "target": 12.0,
                            "deadline_month": 12} for u in ("JC", "YJKC")])
    history = pd.DataFrame(columns=["period", "unit", "value", "monthly"])
    plan = build_plan(ind, catalog, 2024, listed, history).set_index(["unit", "month"])
    assert plan.loc[("YJKC", 2), "planned"] == pytest.approx(2.0)
    assert plan.loc[("JC", 2), "planned"] == pytest.approx(12 * 40 / 251)
    assert plan.loc[("YJKC", 2), "profile"] == "linear"
