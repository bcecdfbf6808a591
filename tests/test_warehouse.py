import duckdb
import pandas as pd
import pytest

from kj_pipelines.warehouse import EmptyPartitionError, replace_rows


def _rows(period, values):
    return pd.DataFrame({"period": period, "indicator": "HT_VA", "unit": list(values),
                         "value": list(values.values())})


def test_replace_is_idempotent_and_scoped(conn):
    replace_rows(conn, "mart.indicator_values", _rows("2026-09", {"JC": 1.0}), "period = ?",
                 ["2026-09"])
    for _ in range(2):
        replace_rows(conn, "mart.indicator_values", _rows("2026-10", {"JC": 2.0, "ZS": 3.0}),
                     "period = ?", ["2026-10"])
    got = conn.execute("SELECT period, unit, value FROM mart.indicator_values ORDER BY 1, 2").fetchall()
    assert got == [("2026-09", "JC", 1.0), ("2026-10", "JC", 2.0), ("2026-10", "ZS", 3.0)]


def test_failed_rerun_keeps_the_old_rows(conn):
    replace_rows(conn, "mart.indicator_values", _rows("2026-10", {"JC": 2.0}), "period = ?",
                 ["2026-10"])
    bad = _rows("2026-10", {"JC": 5.0}).assign(value=["not a number"])
    with pytest.raises(duckdb.Error):
        replace_rows(conn, "mart.indicator_values", bad, "period = ?", ["2026-10"])
    assert conn.execute("SELECT value FROM mart.indicator_values").fetchall() == [(2.0,)]


def test_empty_result_never_wipes_a_partition(conn):
    replace_rows(conn, "mart.indicator_values", _rows("2026-10", {"JC": 2.0}), "period = ?",
                 ["2026-10"])
    with pytest.raises(EmptyPartitionError):
        replace_rows(conn, "mart.indicator_values", _rows("2026-10", {}), "period = ?",
                     ["2026-10"])
    assert conn.execute("SELECT count(*) FROM mart.indicator_values").fetchone() == (1,)
    # an empty result for an empty slice is fine (e.g. an annual indicator in October)
    assert replace_rows(conn, "mart.indicator_values", _rows("2026-11", {}), "period = ?",
                        ["2026-11"]) == 0


def test_a_warehouse_of_the_first_release_is_upgraded_in_place(tmp_path):
    import duckdb

    from kj_pipelines.warehouse import SCHEMA_VERSION, ensure_schema

    path = tmp_path / "old.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute("CREATE SCHEMA mart")
    conn.execute("""CREATE TABLE mart.indicator_progress (
        period VARCHAR, indicator VARCHAR, unit VARCHAR, actual DOUBLE, target DOUBLE,
        planned DOUBLE, completion DOUBLE, planned_share DOUBLE, gap DOUBLE, status VARCHAR,
        department VARCHAR, updated_at TIMESTAMP)""")
    conn.execute("""INSERT INTO mart.indicator_progress VALUES ('2025-12', 'HT_VA', 'JC', 1, 2, 1,
                    50, 50, 0, 'green', 'JXJ', NULL)""")
    conn.execute("CREATE TABLE mart.goal_distance (indicator VARCHAR, unit VARCHAR, goal_year INTEGER,"
                 " goal DOUBLE, as_of VARCHAR, latest DOUBLE, remaining DOUBLE, progress DOUBLE)")
    ensure_schema(conn)
    row = conn.execute("SELECT status, missing_units, as_of FROM mart.indicator_progress").fetchall()
    assert row == [("green", None, None)]  # the old row kept, the new columns added
    assert conn.execute("SELECT count(*) FROM mart.tasks").fetchone() == (0,)
    assert conn.execute("SELECT max(version) FROM core.schema_version").fetchone() == (SCHEMA_VERSION,)
    ensure_schema(conn)  # at its version: nothing to do
    assert conn.execute("SELECT count(*) FROM core.schema_version").fetchone() == (
        SCHEMA_VERSION - 3,)  # the baseline (4), then 5, 6, …
    conn.close()
