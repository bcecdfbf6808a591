"""Scores for the quarterly ranking and the annual evaluation; the weekly and quarterly jobs."""

import dagster as dg
import duckdb
import pandas as pd

from kj_pipelines.definitions import build_defs
from kj_pipelines.domain.scoring import score_units


def test_scores_rank_and_bands_hand_worked(catalog):
    progress = pd.DataFrame([
        ("TECH_CONTRACT", "JC", "green"), ("HT_VA", "JC", "done"),          # 100
        ("TECH_CONTRACT", "ZS", "green"), ("HT_VA", "ZS", "red"),           # 70
        ("TECH_CONTRACT", "LT", "grey"), ("HT_VA", "LT", "red"),            # 20
        ("TECH_CONTRACT", "ALL", "yellow"), ("HT_VA", "ALL", "green"),      # KJJ 70, TJJ 100
    ], columns=["indicator", "unit", "status"])
    scores = score_units(progress, catalog, "2026-Q3").set_index("unit")
    assert scores.loc["JC", "score"] == 100 and scores.loc["JC", "band"] == "优秀"
    assert scores.loc["ZS", "score"] == 70 and scores.loc["ZS", "band"] == "一般"
    assert scores.loc["LT", "score"] == 20 and scores.loc["LT", "band"] == "滞后"
    assert scores.loc["KJJ", "score"] == 70 and scores.loc["TJJ", "score"] == 100
    # ranked within peer groups: towns and parks together, departments together
    assert scores.loc["JC", "rank"] == 1 and scores.loc["ZS", "rank"] == 2
    assert scores.loc["LT", "rank"] == 3
    assert scores.loc["TJJ", "rank"] == 1 and scores.loc["KJJ", "rank"] == 2
    assert scores.loc["JC", "peer_group"] == "town" and scores.loc["TJJ", "peer_group"] == "department"
    assert set(scores["period"]) == {"2026-Q3"}


def test_weekly_and_quarterly_jobs_on_the_sample(catalog, reviewed_copy):
    sample_dir = reviewed_copy  # 2026-09 and 2026-10 already reviewed
    defs = build_defs(catalog)
    with dg.instance_for_test() as instance:
        assert defs.resolve_job_def("quarterly_analysis").execute_in_process(
            partition_key="2026-07", instance=instance).success
        weekly = defs.resolve_job_def("weekly_consultation").execute_in_process(
            partition_key="2026-10-12", instance=instance)
        assert weekly.success
        [mat] = weekly.asset_materializations_for_node("weekly_watchlist")
        assert mat.metadata["period_reviewed"].value == "2026-09"
    con = duckdb.connect(str(sample_dir.warehouse), read_only=True)
    try:
        scores = con.execute("SELECT unit, score, rank, band, peer_group FROM mart.unit_scores "
                             "WHERE period = '2026-Q3' ORDER BY peer_group, rank").df()
        watch = con.execute("SELECT status FROM mart.weekly_watchlist WHERE week = '2026-10-12'"
                            ).df()
    finally:
        con.close()
    assert len(scores) >= 10
    assert scores["score"].between(0, 100).all()
    assert set(scores["peer_group"]) == {"town", "department"}
    for _, group in scores.groupby("peer_group"):
        assert group["rank"].iloc[0] == 1 and group["score"].is_monotonic_decreasing
    assert not watch.empty and set(watch["status"]) <= {"red", "yellow", "grey"}
