import duckdb
import pandas as pd
import pytest

from kj_pipelines.storage.warehouse import EmptyPartitionError, replace_rows


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

    from kj_pipelines.storage.warehouse import SCHEMA_VERSION, ensure_schema

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


def test_the_latest_version_of_a_submitted_figure_is_the_one_read(conn):
    """core.submitted_values: per unit, indicator and month the row submitted last (then received
    last, then the larger file hash and row); a missing key sorts below any value."""
    rows = [  # (sha256, row, value, submitted_at, received_at)
        ("a", 5, 1.0, "2026-11-03 09:00", "2026-11-03 10:00"),
        ("b", 5, 2.0, "2026-11-05 09:00", "2026-11-05 10:00"),  # submitted later: read
        ("c", 5, 3.0, None, "2026-11-09 10:00"),  # when submitted unknown: never above a known
        ("d", 7, 4.0, "2026-11-05 09:00", "2026-11-04 10:00"),  # same submission, received sooner
    ]
    frame = pd.DataFrame(rows, columns=["sha256", "row", "value", "submitted_at", "received_at"])
    frame = frame.assign(unit="JC", indicator="HT_VA", period="2026-10",
                         submitted_at=pd.to_datetime(frame["submitted_at"]),
                         received_at=pd.to_datetime(frame["received_at"]))
    from kj_pipelines.storage.warehouse import insert_frame

    insert_frame(conn, "raw.submission_values", frame)
    assert conn.execute("SELECT value, sha256 FROM core.submitted_values").fetchall() == [
        (2.0, "b")]
    # the same submission and reception: the larger hash, then the larger row
    insert_frame(conn, "raw.submission_values", frame.iloc[[1]].assign(sha256="e", row=2,
                                                                        value=5.0))
    insert_frame(conn, "raw.submission_values", frame.iloc[[1]].assign(sha256="e", row=3,
                                                                        value=6.0))
    assert conn.execute("SELECT value, sha256, \"row\" FROM core.submitted_values").fetchall() == [
        (6.0, "e", 3)]
    # every column of the view, in its order
    assert [c for (c, *_) in conn.execute("DESCRIBE core.submitted_values").fetchall()] == [
        "unit", "indicator", "period", "value", "cumulative", "sha256", "source_file", "sheet",
        "row", "submitted_at", "received_at"]
