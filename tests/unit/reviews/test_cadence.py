"""Which reviews a month can run, in a region's first year and after (hand-worked keys)."""

import dataclasses
import datetime as dt

from kj_pipelines.catalog.loader import load_catalog
from kj_pipelines.reviews.cadence import review_keys, target_years
from kj_pipelines.sample.generator import CATALOG_SOURCE

CITY = load_catalog(CATALOG_SOURCE.parents[2] / "examples" / "city" / "catalog")  # 2023-01 on
TODAY = dt.date(2024, 7, 20)


def test_the_first_months_run_only_what_has_a_period_and_targets():
    found = review_keys("2023-06", CITY, TODAY, {2023}.__contains__)
    assert found.keys == {"monthly_review": "2023-06", "weekly_consultation": "2023-07-17",
                          "quarterly_analysis": "2023-04", "history_from": "2023-01",
                          "history": "2023-01...2023-05"}
    assert found.skipped == {"annual_evaluation": "2022年在监测起始月份 2023-01 之前，不做年考评"}


def test_the_very_first_month_has_no_history_quarter_or_year():
    found = review_keys("2023-01", CITY, TODAY, {2023}.__contains__)
    assert set(found.keys) == {"monthly_review", "weekly_consultation", "history_from"}
    assert found.skipped["history"] == "2023-01 是监测的第一个月，没有更早的月份可回填"
    assert "2022年第4季度在监测起始月份 2023-01 之前" in found.skipped["quarterly_analysis"]


def test_a_year_inside_the_monitoring_without_targets_is_not_evaluated():
    started_2022 = dataclasses.replace(CITY, first_period="2022-01")
    found = review_keys("2023-06", started_2022, TODAY, {2023}.__contains__)
    assert found.skipped == {"annual_evaluation": "2022年没有年度目标清单（plans/2022/），无从考评"}
    assert found.keys["history"] == "2022-01...2023-05"
    found = review_keys("2023-02", started_2022, TODAY, {2023}.__contains__)
    assert found.skipped["quarterly_analysis"] == "2022年没有年度目标清单，2022年第4季度无从分析排名"


def test_the_second_year_runs_every_review():
    found = review_keys("2024-12", CITY, dt.date(2025, 1, 27), {2023, 2024}.__contains__)
    assert found.skipped == {}
    assert found.keys == {"monthly_review": "2024-12", "weekly_consultation": "2025-01-13",
                          "quarterly_analysis": "2024-10", "annual_evaluation": "2024",
                          "history_from": "2023-12", "history": "2023-12...2024-11"}


def test_a_month_before_the_first_period_runs_nothing():
    found = review_keys("2022-12", CITY, TODAY, {2023}.__contains__)
    assert found.keys == {} and set(found.skipped) >= {"monthly_review", "annual_evaluation"}


def test_the_years_with_a_target_list():
    plans = CATALOG_SOURCE.parents[2] / "examples" / "city" / "plans"
    assert target_years(plans, CITY, {2022, 2023, 2024, 2025}) == {2023, 2024}
