"""The weekly and quarterly jobs on the sample (scoring itself: test_scoring)."""

import dagster as dg
import duckdb

from kj_pipelines.definitions import build_defs


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
