"""A range backfill in one run gives exactly what month-by-month runs give, and each month of the
range carries its own metadata (the UI's plots are a trajectory, not a flat line)."""

import shutil

import dagster as dg
import duckdb
import pandas as pd
import pytest
from conftest import REVIEWED_MONTHS, TODAY

from kj_pipelines.core.settings import DataPaths
from kj_pipelines.indicators.service import assemble_progress, run_indicator

COLUMNS = "period, indicator, unit, actual, target, planned, completion, planned_share, gap, " \
          "status, missing_units, as_of"


def _tables(paths: DataPaths) -> tuple[pd.DataFrame, pd.DataFrame]:
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        progress = con.execute(f"""SELECT {COLUMNS} FROM mart.indicator_progress
                                   ORDER BY period, indicator, unit""").df()
        values = con.execute("""SELECT period, indicator, unit, value, monthly
                                FROM mart.indicator_values ORDER BY period, indicator, unit""").df()
    finally:
        con.close()
    return progress, values


def test_range_backfill_equals_month_by_month(catalog, reviewed, tmp_path):
    paths, _ = reviewed
    in_one = _tables(paths)  # the session's end-to-end run: 2026-08…2026-10 in one run
    assert len(in_one[0]) > 100

    # month by month through the same pipeline functions, on a copy of the same warehouse
    copy = DataPaths(tmp_path / "by_month")
    shutil.copytree(paths.root, copy.root)
    con = duckdb.connect(str(copy.warehouse))
    try:
        for month in REVIEWED_MONTHS:
            for indicator in catalog.topological_indicators():
                run_indicator(con, catalog, indicator.code, [month], TODAY)
            assemble_progress(con, [month])
    finally:
        con.close()
    by_month = _tables(copy)
    pd.testing.assert_frame_equal(in_one[0], by_month[0])
    pd.testing.assert_frame_equal(in_one[1], by_month[1])


def test_each_month_of_a_range_has_its_own_metadata(reviewed):
    paths, instance = reviewed
    progress, _ = _tables(paths)
    district = progress[(progress["indicator"] == "HT_VA") & (progress["unit"] == "ALL")]
    district = district.set_index("period")
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(["indicator", "HT_VA"])), limit=10).records
    assert sorted(r.partition_key for r in records) == REVIEWED_MONTHS
    for record in records:
        month, metadata = record.partition_key, record.asset_materialization.metadata
        assert metadata["period"].value == month
        assert metadata["全区·实际（缺报按上期结转）"].value == pytest.approx(district.at[month, "actual"])
        assert metadata["全区·计划"].value == pytest.approx(district.at[month, "planned"],
                                                                   abs=1e-3)
        assert metadata["全区·年度目标"].value == pytest.approx(district.at[month, "target"])
    assert len({r.asset_materialization.metadata["全区·实际（缺报按上期结转）"].value for r in records}) == 3
    # the lists too
    tasks = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(["list", "tasks"])), limit=10).records
    assert sorted(r.partition_key for r in tasks) == REVIEWED_MONTHS
    assert all(r.asset_materialization.metadata["period"].value == r.partition_key for r in tasks)
