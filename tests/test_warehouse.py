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
