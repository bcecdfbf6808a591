"""A warehouse written by an earlier release's schema (versions 4 to 7, kept in schema_v4.sql
and, as the changes they made, schema_v5.sql to schema_v7.sql) is upgraded in place: every row
of every table kept, the new columns and tables added, every time given its zone (8), each
migration run once; a warehouse of a newer release is refused before anything is written."""

from pathlib import Path

import duckdb
import pytest

from kj_pipelines.storage.warehouse import (
    SCHEMA_VERSION,
    NewerSchemaError,
    ensure_schema,
    replace_rows,
    warehouse_version,
)

RELEASES = [4, 5, 6, 7]


def _tables(conn) -> list[str]:
    return [f"{s}.{t}" for s, t in conn.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_type = 'BASE TABLE' ORDER BY 1, 2").fetchall()]


def _contents(conn, tables) -> dict[str, list]:
    return {t: conn.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}


def _with_zone(value, column: str):
    """A time written without its zone, as migration 8 reads it: Asia/Shanghai's wall clock, a
    former submission time (a file's modification time) the server's own zone's."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    if not isinstance(value, dt.datetime) or value.tzinfo is not None:
        return value
    if column == "submitted_at":
        return value.replace(tzinfo=dt.datetime.now().astimezone().tzinfo)
    return value.replace(tzinfo=ZoneInfo("Asia/Shanghai"))


def _value(sql_type: str) -> str:
    if sql_type.startswith(("VARCHAR", "TEXT")):
        return "'x'"
    if sql_type == "DATE":
        return "DATE '2026-01-31'"
    if sql_type.startswith("TIMESTAMP"):
        return "TIMESTAMP '2026-01-31 09:00:00'"
    if sql_type == "BOOLEAN":
        return "true"
    return "7"


@pytest.fixture(params=RELEASES, ids=[f"v{r}" for r in RELEASES])
def old_warehouse(request, tmp_path):
    conn = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    for release in range(RELEASES[0], request.param + 1):  # each later file is a delta
        conn.execute(Path(__file__).with_name(f"schema_v{release}.sql").read_text(
            encoding="utf-8"))
    # a row in every table of the old schema, every column filled, and real-looking scores
    for table in _tables(conn):
        if table == "core.schema_version":
            continue
        schema, name = table.split(".")
        types = [t for (t,) in conn.execute(
            "SELECT data_type FROM information_schema.columns WHERE table_schema = ? AND "
            "table_name = ? ORDER BY ordinal_position", [schema, name]).fetchall()]
        conn.execute(f"INSERT INTO {table} VALUES ({', '.join(_value(t) for t in types)})")
    conn.execute("INSERT INTO mart.unit_scores (period, unit, score, rank, band, peer_group) "
                 "VALUES ('2025', 'JC', 91.5, 1, '优秀', 'town')")
    yield conn
    conn.close()


def test_a_warehouse_of_the_previous_release_upgrades_with_nothing_lost(old_warehouse):
    conn = old_warehouse
    release = warehouse_version(conn)
    assert release in RELEASES
    tables = _tables(conn)
    before = _contents(conn, tables)
    ensure_schema(conn)
    assert warehouse_version(conn) == SCHEMA_VERSION == 9
    after = _contents(conn, tables)
    for table in tables:
        if table == "core.schema_version":
            continue
        width = len(before[table][0])  # new columns come after the old ones
        names = [c for (c,) in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND "
            "table_name = ? ORDER BY ordinal_position", table.split(".")).fetchall()]
        expected = [tuple(_with_zone(v, name) for v, name in zip(row, names, strict=False))
                    for row in before[table]]
        assert [row[:width] for row in after[table]] == expected, table
    # no timestamp without its zone is left
    assert not conn.execute("SELECT count(*) FROM information_schema.columns "
                            "WHERE data_type = 'TIMESTAMP'").fetchone()[0]
    if release < 5:
        assert conn.execute("SELECT score, band, month, bonus, review FROM mart.unit_scores "
                            "WHERE unit = 'JC'").fetchall() == [(91.5, "优秀", None, None, None)]
    assert "mart.score_items" in _tables(conn)
    if release < 6:
        assert conn.execute("SELECT value, value_column, cumulative_column "
                            "FROM raw.submission_values").fetchall() == [(7.0, None, None)]
    assert "mart.indicator_projection" in _tables(conn)
    if release < 7:
        assert conn.execute("SELECT level, digest_id FROM mart.warnings").fetchall() == [
            ("x", None)]
    assert {"core.held_figures", "core.accepted_figures"} <= set(_tables(conn))
    assert conn.execute("SELECT catch_up, modified_at FROM raw.submission_files").fetchall() == [
        (None, None)]
    # run once: a second start changes nothing and records nothing
    ensure_schema(conn)
    assert [v for (v,) in conn.execute("SELECT version FROM core.schema_version ORDER BY 1"
                                       ).fetchall()] == list(range(4, SCHEMA_VERSION + 1))
    # and the upgraded warehouse takes the new release's writes
    import pandas as pd
    replace_rows(conn, "mart.score_items", pd.DataFrame([{
        "period": "2025", "unit": "JC", "seq": 1, "part": "indicators", "item": "HT_VA",
        "points": 5.0}]), "period = ?", ["2025"])


def test_a_warehouse_of_a_newer_release_is_refused(old_warehouse):
    conn = old_warehouse
    conn.execute("INSERT INTO core.schema_version VALUES (?, current_timestamp)",
                 [SCHEMA_VERSION + 1])
    before = _tables(conn)
    with pytest.raises(NewerSchemaError, match="upgrade kj_pipelines"):
        ensure_schema(conn)
    assert _tables(conn) == before
