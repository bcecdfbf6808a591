"""A range backfill in one run gives exactly what month-by-month runs give."""

import shutil

import dagster as dg
import duckdb
import pandas as pd
import pytest

from kj_pipelines.definitions import build_defs
from kj_pipelines.settings import DataPaths

MONTHS = ["2026-08", "2026-09", "2026-10"]


def _progress(paths: DataPaths) -> pd.DataFrame:
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        frame = con.execute("""SELECT period, indicator, unit, actual, target, planned, completion,
                                      planned_share, gap, status FROM mart.indicator_progress
                               ORDER BY period, indicator, unit""").df()
        values = con.execute("""SELECT period, indicator, unit, value, monthly
                                FROM mart.indicator_values ORDER BY period, indicator, unit""").df()
    finally:
        con.close()
    return frame, values


def test_range_backfill_equals_month_by_month(catalog, sample_dir, tmp_path, monkeypatch):
    # month by month, on a copy of the sample
    copy = DataPaths(tmp_path / "by_month")
    shutil.copytree(sample_dir.root, copy.root)
    monkeypatch.setenv("KJ_DATA_DIR", str(copy.root))
    with dg.instance_for_test() as instance:
        job = build_defs(catalog).resolve_job_def("monthly_review")
        for month in MONTHS:
            assert job.execute_in_process(partition_key=month, instance=instance).success
    by_month = _progress(copy)

    # one run over the whole range
    monkeypatch.setenv("KJ_DATA_DIR", str(sample_dir.root))
    with dg.instance_for_test() as instance:
        job = build_defs(catalog).resolve_job_def("monthly_review")
        result = job.execute_in_process(instance=instance, tags={
            "dagster/asset_partition_range_start": MONTHS[0],
            "dagster/asset_partition_range_end": MONTHS[-1]})
        assert result.success
        mats = result.asset_materializations_for_node("indicator__HT_VA")
        assert sorted(m.partition for m in mats) == MONTHS
    in_one = _progress(sample_dir)

    # each month of the range carries its own numbers (the plots are a trajectory, not a line)
    district = in_one[0][(in_one[0]["indicator"] == "HT_VA") & (in_one[0]["unit"] == "ALL")]
    district = district.set_index("period")
    for m in mats:
        assert m.metadata["period"].value == m.partition
        assert m.metadata["district_value"].value == pytest.approx(district.at[m.partition, "actual"])
        assert m.metadata["district_planned"].value == pytest.approx(
            district.at[m.partition, "planned"], abs=1e-3)
        assert m.metadata["district_target"].value == pytest.approx(
            district.at[m.partition, "target"])
    assert len({m.metadata["district_value"].value for m in mats}) == len(MONTHS)

    assert len(in_one[0]) > 100
    pd.testing.assert_frame_equal(in_one[0], by_month[0])
    pd.testing.assert_frame_equal(in_one[1], by_month[1])
