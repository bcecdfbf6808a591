"""The DuckDB warehouse: schema and the one writer of partitions.

Every write replaces exactly one slice (a partition, a file's rows) inside one transaction: a
failed rerun leaves the old rows in place, and an empty result never silently wipes a slice.
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from kj_pipelines.core.settings import TIMEZONE

BASELINE = """
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS mart;
CREATE SCHEMA IF NOT EXISTS quarantine;
CREATE TABLE IF NOT EXISTS raw.submission_files (
    sha256 VARCHAR PRIMARY KEY, file VARCHAR, archived_as VARCHAR, submitted_at TIMESTAMP,
    received_at TIMESTAMP, status VARCHAR, rows_read INTEGER, rows_accepted INTEGER);
CREATE TABLE IF NOT EXISTS raw.submission_values (
    sha256 VARCHAR, source_file VARCHAR, sheet VARCHAR, "row" INTEGER, unit VARCHAR,
    indicator VARCHAR, period VARCHAR, value DOUBLE, cumulative DOUBLE, note VARCHAR,
    submitted_at TIMESTAMP, received_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS quarantine.rejections (
    source_file VARCHAR, sha256 VARCHAR, sheet VARCHAR, "row" INTEGER, "column" VARCHAR,
    value VARCHAR, reason_code VARCHAR, message VARCHAR, received_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS core.annual_targets (
    year INTEGER, indicator VARCHAR, unit VARCHAR, target DOUBLE, deadline_month INTEGER,
    department VARCHAR, source_file VARCHAR, "row" INTEGER);
CREATE TABLE IF NOT EXISTS core.registry_values (
    unit VARCHAR, indicator VARCHAR, period VARCHAR, value DOUBLE, cumulative DOUBLE);
CREATE TABLE IF NOT EXISTS mart.indicator_values (
    period VARCHAR, indicator VARCHAR, unit VARCHAR, value DOUBLE, monthly DOUBLE,
    source VARCHAR, updated_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS mart.indicator_plan (
    year INTEGER, indicator VARCHAR, unit VARCHAR, month INTEGER, period VARCHAR,
    quarter INTEGER, baseline DOUBLE, target DOUBLE, planned DOUBLE, planned_share DOUBLE,
    profile VARCHAR, target_source VARCHAR);
CREATE TABLE IF NOT EXISTS mart.goal_distance (
    indicator VARCHAR, unit VARCHAR, goal_year INTEGER, goal DOUBLE, as_of VARCHAR,
    latest DOUBLE, remaining DOUBLE, progress DOUBLE);
CREATE TABLE IF NOT EXISTS mart.indicator_progress (
    period VARCHAR, indicator VARCHAR, unit VARCHAR, actual DOUBLE, target DOUBLE,
    planned DOUBLE, completion DOUBLE, planned_share DOUBLE, gap DOUBLE, status VARCHAR,
    department VARCHAR, updated_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS mart.warnings (
    warning_id VARCHAR PRIMARY KEY, raised_at TIMESTAMP, period VARCHAR, indicator VARCHAR,
    unit VARCHAR, level VARCHAR, message VARCHAR, notified BOOLEAN, attempts INTEGER,
    last_error VARCHAR, kind VARCHAR);
CREATE TABLE IF NOT EXISTS mart.unit_scores (
    period VARCHAR, unit VARCHAR, score DOUBLE, rank INTEGER, band VARCHAR, indicators INTEGER,
    red INTEGER, yellow INTEGER, grey INTEGER);
CREATE TABLE IF NOT EXISTS mart.weekly_watchlist (
    week VARCHAR, period VARCHAR, indicator VARCHAR, unit VARCHAR, status VARCHAR, gap DOUBLE);
CREATE TABLE IF NOT EXISTS core.task_plan (
    year INTEGER, task_code VARCHAR, action VARCHAR, content VARCHAR, lead_unit VARCHAR,
    cooperating VARCHAR, official VARCHAR, source_file VARCHAR, "row" INTEGER);
CREATE TABLE IF NOT EXISTS core.task_milestones (
    year INTEGER, task_code VARCHAR, seq INTEGER, milestone VARCHAR, due DATE);
CREATE TABLE IF NOT EXISTS core.project_plan (
    year INTEGER, project_code VARCHAR, name VARCHAR, lead_unit VARCHAR, cooperating VARCHAR,
    official VARCHAR, total_investment DOUBLE, q1 DOUBLE, q2 DOUBLE, q3 DOUBLE, q4 DOUBLE,
    source_file VARCHAR, "row" INTEGER);
CREATE TABLE IF NOT EXISTS core.project_milestones (
    year INTEGER, project_code VARCHAR, seq INTEGER, milestone VARCHAR, due DATE);
CREATE TABLE IF NOT EXISTS core.supervision_feedback (
    year INTEGER, item_id VARCHAR, accepted_on DATE, note VARCHAR, source_file VARCHAR,
    "row" INTEGER);
CREATE TABLE IF NOT EXISTS raw.task_progress (
    sha256 VARCHAR, source_file VARCHAR, sheet VARCHAR, "row" INTEGER, unit VARCHAR,
    period VARCHAR, task_code VARCHAR, milestone VARCHAR, done_on DATE, progress DOUBLE,
    note VARCHAR, submitted_at TIMESTAMP, received_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS raw.project_progress (
    sha256 VARCHAR, source_file VARCHAR, sheet VARCHAR, "row" INTEGER, unit VARCHAR,
    period VARCHAR, project_code VARCHAR, invested DOUBLE, milestone VARCHAR, done_on DATE,
    note VARCHAR, submitted_at TIMESTAMP, received_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS raw.problem_events (
    sha256 VARCHAR, source_file VARCHAR, sheet VARCHAR, "row" INTEGER, problem_id VARCHAR,
    period VARCHAR, unit VARCHAR, action VARCHAR, event_date DATE, content VARCHAR,
    category VARCHAR, handler VARCHAR, wish_date DATE, reply VARCHAR, submitted_at TIMESTAMP,
    received_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS mart.targets (
    period VARCHAR, year INTEGER, indicator VARCHAR, unit VARCHAR, target DOUBLE,
    deadline_month INTEGER, department VARCHAR, as_of VARCHAR, actual DOUBLE, completion DOUBLE,
    status VARCHAR);
CREATE TABLE IF NOT EXISTS mart.responsibilities (
    period VARCHAR, item_kind VARCHAR, item_code VARCHAR, item_name VARCHAR, lead_unit VARCHAR,
    cooperating VARCHAR, official VARCHAR, issue VARCHAR);
CREATE TABLE IF NOT EXISTS mart.tasks (
    period VARCHAR, task_code VARCHAR, action VARCHAR, content VARCHAR, lead_unit VARCHAR,
    cooperating VARCHAR, official VARCHAR, due DATE, next_milestone VARCHAR, milestones INTEGER,
    milestones_done INTEGER, progress DOUBLE, status VARCHAR, days_overdue INTEGER,
    note VARCHAR);
CREATE TABLE IF NOT EXISTS mart.milestones (
    period VARCHAR, task_code VARCHAR, seq INTEGER, milestone VARCHAR, due DATE, done_on DATE,
    status VARCHAR, late BOOLEAN, lead_unit VARCHAR);
CREATE TABLE IF NOT EXISTS mart.projects (
    period VARCHAR, project_code VARCHAR, name VARCHAR, lead_unit VARCHAR, cooperating VARCHAR,
    official VARCHAR, annual_investment DOUBLE, planned_investment DOUBLE,
    completed_investment DOUBLE, completion DOUBLE, planned_share DOUBLE, gap DOUBLE,
    next_milestone VARCHAR, due DATE, milestones INTEGER, milestones_done INTEGER,
    status VARCHAR, note VARCHAR);
CREATE TABLE IF NOT EXISTS mart.project_milestones (
    period VARCHAR, project_code VARCHAR, seq INTEGER, milestone VARCHAR, due DATE,
    done_on DATE, status VARCHAR, late BOOLEAN);
CREATE TABLE IF NOT EXISTS mart.problems (
    period VARCHAR, problem_id VARCHAR, raised_by VARCHAR, handler VARCHAR, state VARCHAR,
    content VARCHAR, category VARCHAR, raised_on DATE, due DATE, resolved_on DATE,
    closed_on DATE, reply VARCHAR, refusals INTEGER, last_event DATE, age_days INTEGER,
    overdue BOOLEAN, on_time BOOLEAN);
CREATE TABLE IF NOT EXISTS mart.supervision (
    period VARCHAR, item_id VARCHAR, source VARCHAR, ref VARCHAR, unit VARCHAR, title VARCHAR,
    opened_on DATE, due DATE, status VARCHAR, closed_on DATE, close_reason VARCHAR,
    reopened INTEGER, overdue BOOLEAN);
CREATE TABLE IF NOT EXISTS core.indicator_status (
    period VARCHAR, indicator VARCHAR, unit VARCHAR, actual DOUBLE, target DOUBLE,
    planned DOUBLE, completion DOUBLE, planned_share DOUBLE, gap DOUBLE, status VARCHAR,
    department VARCHAR, updated_at TIMESTAMP, missing_units INTEGER, as_of VARCHAR);
ALTER TABLE mart.indicator_progress ADD COLUMN IF NOT EXISTS missing_units INTEGER;
ALTER TABLE mart.indicator_progress ADD COLUMN IF NOT EXISTS as_of VARCHAR;
ALTER TABLE mart.goal_distance ADD COLUMN IF NOT EXISTS period VARCHAR;
ALTER TABLE core.annual_targets ADD COLUMN IF NOT EXISTS comparator VARCHAR;
ALTER TABLE core.annual_targets ADD COLUMN IF NOT EXISTS stretch DOUBLE;
ALTER TABLE core.annual_targets ADD COLUMN IF NOT EXISTS target_text VARCHAR;
ALTER TABLE core.annual_targets ADD COLUMN IF NOT EXISTS baseline DOUBLE;
ALTER TABLE mart.indicator_plan ADD COLUMN IF NOT EXISTS comparator VARCHAR;
ALTER TABLE mart.targets ADD COLUMN IF NOT EXISTS target_text VARCHAR;
ALTER TABLE mart.targets ADD COLUMN IF NOT EXISTS stretch DOUBLE;
ALTER TABLE mart.indicator_plan ADD COLUMN IF NOT EXISTS baseline_source VARCHAR;
ALTER TABLE mart.unit_scores ADD COLUMN IF NOT EXISTS peer_group VARCHAR;
CREATE OR REPLACE VIEW core.submitted_values AS
    SELECT unit, indicator, period, value, cumulative, sha256, source_file, sheet, "row",
           submitted_at, received_at
    FROM (SELECT *, row_number() OVER (
              PARTITION BY unit, indicator, period
              ORDER BY submitted_at DESC, received_at DESC, sha256 DESC, "row" DESC) AS rn
          FROM raw.submission_values)
    WHERE rn = 1;
"""


class EmptyPartitionError(RuntimeError):
    """Refusing to replace a slice with nothing: that would silently wipe it."""


# Bump with every change to DDL: a warehouse at this version is not touched again, so each
# process pays one small query per connection instead of the whole DDL at every write.
# The schema's history. Versions 1-4 are one idempotent baseline (what release 4 created: every
# statement is CREATE … IF NOT EXISTS / ADD COLUMN IF NOT EXISTS, so it also completes a warehouse
# of version 1, 2 or 3); from 5 on, each version is one migration, run once, in order.
# 1: the first release; 2: the lists, core.indicator_status, as_of and missing_units columns,
# goal_distance by period; 3: targets as plans write them (comparator, stretch, text) and the
# target list's baseline; 4: unit_scores' peer group (ranks are within it).
BASELINE_VERSION = 4
MIGRATIONS: dict[int, str] = {
    # 5: scores by the rules of scoring.yaml: unit_scores' month, bonus, deduction and review;
    # mart.score_items, every rule's points
    5: """ALTER TABLE mart.unit_scores ADD COLUMN IF NOT EXISTS month VARCHAR;
ALTER TABLE mart.unit_scores ADD COLUMN IF NOT EXISTS bonus DOUBLE;
ALTER TABLE mart.unit_scores ADD COLUMN IF NOT EXISTS deduction DOUBLE;
ALTER TABLE mart.unit_scores ADD COLUMN IF NOT EXISTS review VARCHAR;
CREATE TABLE IF NOT EXISTS mart.score_items (
    period VARCHAR, unit VARCHAR, seq INTEGER, part VARCHAR, item VARCHAR, item_name VARCHAR,
    figure VARCHAR,
    ratio DOUBLE, points DOUBLE, max_points DOUBLE);
""",
    # 6: the column letters of a submitted row's cells, so `kj audit` names the cell (E12);
    # rows stored before stay NULL and are named by their column header
    6: """ALTER TABLE raw.submission_values ADD COLUMN IF NOT EXISTS value_column VARCHAR;
ALTER TABLE raw.submission_values ADD COLUMN IF NOT EXISTS cumulative_column VARCHAR;
""",
    # 7: 预判预警: each unit's projected year end by month (seasonal and pace, the band, the
    # shortfall, the monthly pace still needed, the fast and slow signals), written by the
    # indicator assets beside their values
    7: """CREATE TABLE IF NOT EXISTS mart.indicator_projection (
    period VARCHAR, indicator VARCHAR, unit VARCHAR, year INTEGER, month INTEGER,
    actual DOUBLE, target DOUBLE, baseline DOUBLE, projected_seasonal DOUBLE,
    projected_pace DOUBLE, projected DOUBLE, band_low DOUBLE, band_high DOUBLE,
    projected_completion DOUBLE, shortfall DOUBLE, needed_monthly DOUBLE, fast BOOLEAN,
    slow BOOLEAN, confirmed BOOLEAN, basis VARCHAR, updated_at TIMESTAMP);
ALTER TABLE mart.warnings ADD COLUMN IF NOT EXISTS digest_id VARCHAR;
""",
    # 8: the month as it fills. A total with units missing (待报齐): which units, and the
    # estimate made by carrying each missing unit's latest figure forward, with the completion,
    # gap and status it would give (shown beside the total, never acted on); the order a
    # batch's ledger moves were applied in (by their dates), which the ledger replays; the
    # figures held back as implausible, and those the bureau accepted (kj accept)
    8: """ALTER TABLE mart.indicator_values ADD COLUMN IF NOT EXISTS estimate DOUBLE;
ALTER TABLE core.indicator_status ADD COLUMN IF NOT EXISTS missing_list VARCHAR;
ALTER TABLE core.indicator_status ADD COLUMN IF NOT EXISTS estimate DOUBLE;
ALTER TABLE core.indicator_status ADD COLUMN IF NOT EXISTS estimate_completion DOUBLE;
ALTER TABLE core.indicator_status ADD COLUMN IF NOT EXISTS estimate_gap DOUBLE;
ALTER TABLE core.indicator_status ADD COLUMN IF NOT EXISTS estimate_status VARCHAR;
ALTER TABLE mart.indicator_progress ADD COLUMN IF NOT EXISTS missing_list VARCHAR;
ALTER TABLE mart.indicator_progress ADD COLUMN IF NOT EXISTS estimate DOUBLE;
ALTER TABLE mart.indicator_progress ADD COLUMN IF NOT EXISTS estimate_completion DOUBLE;
ALTER TABLE mart.indicator_progress ADD COLUMN IF NOT EXISTS estimate_gap DOUBLE;
ALTER TABLE mart.indicator_progress ADD COLUMN IF NOT EXISTS estimate_status VARCHAR;
ALTER TABLE mart.weekly_watchlist ADD COLUMN IF NOT EXISTS missing_units INTEGER;
ALTER TABLE mart.targets ADD COLUMN IF NOT EXISTS missing_units INTEGER;
ALTER TABLE raw.problem_events ADD COLUMN IF NOT EXISTS seq INTEGER;
ALTER TABLE raw.problem_events ADD COLUMN IF NOT EXISTS accepted BOOLEAN;
CREATE TABLE IF NOT EXISTS core.held_figures (
    period VARCHAR, indicator VARCHAR, unit VARCHAR, value DOUBLE, reason VARCHAR,
    advice VARCHAR, compared VARCHAR, updated_at TIMESTAMPTZ);
CREATE TABLE IF NOT EXISTS core.accepted_figures (
    accepted_id INTEGER, indicator VARCHAR, unit VARCHAR, period VARCHAR, value DOUBLE,
    reason VARCHAR, accepted_by VARCHAR, accepted_at TIMESTAMPTZ);
ALTER TABLE raw.submission_files ADD COLUMN IF NOT EXISTS catch_up BOOLEAN;
ALTER TABLE raw.submission_files ADD COLUMN IF NOT EXISTS modified_at TIMESTAMPTZ;
ALTER TABLE raw.submission_values ADD COLUMN IF NOT EXISTS catch_up BOOLEAN;
ALTER TABLE raw.submission_values ADD COLUMN IF NOT EXISTS modified_at TIMESTAMPTZ;
""",
    # 9: a region's first year. Targets written relative to the year before (增长20%以上,
    # 翻一番, 新增20家 of a stock): baseline × factor + offset, resolved against the list's
    # 上年基数 or, when the year is planned, last year's actual
    9: """ALTER TABLE core.annual_targets ADD COLUMN IF NOT EXISTS base_factor DOUBLE;
ALTER TABLE core.annual_targets ADD COLUMN IF NOT EXISTS base_offset DOUBLE;
ALTER TABLE core.annual_targets ADD COLUMN IF NOT EXISTS stretch_factor DOUBLE;
ALTER TABLE core.annual_targets ADD COLUMN IF NOT EXISTS stretch_offset DOUBLE;
""",
}
# the latest version of a figure: the workbook that reached the inbox last; of two seen in the
# same tick, the one saved last, then the file's hash and the row (a fixed order)
SUBMITTED_VALUES = """
CREATE OR REPLACE VIEW core.submitted_values AS
    SELECT unit, indicator, period, value, cumulative, sha256, source_file, sheet, "row",
           submitted_at, received_at
    FROM (SELECT *, row_number() OVER (
              PARTITION BY unit, indicator, period
              ORDER BY submitted_at DESC, received_at DESC, modified_at DESC NULLS LAST,
                       sha256 DESC, "row" DESC) AS rn
          FROM raw.submission_values)
    WHERE rn = 1;
"""
# columns written from a file's modification time in the server's local time zone (before 8)
_FROM_FILE_TIME = {"submitted_at"}


def _timestamps_with_zone(conn: duckdb.DuckDBPyConnection) -> None:
    """8, continued: every timestamp stored with its time zone (Asia/Shanghai), so a time read
    back says which it is. The times the project wrote were Asia/Shanghai's wall clock; a
    workbook's former submission time was its file's modification time in the server's own
    zone, which the server migrating (the one that wrote them) is taken to be."""
    offset = int(dt.datetime.now().astimezone().utcoffset().total_seconds())
    conn.execute("DROP VIEW IF EXISTS core.submitted_values")
    columns = conn.execute("""SELECT table_schema, table_name, column_name
                              FROM information_schema.columns
                              WHERE data_type = 'TIMESTAMP'
                                AND table_schema IN ('raw', 'core', 'mart', 'quarantine')
                              ORDER BY ALL""").fetchall()
    for schema, table, column in columns:
        using = (f"timezone('UTC', \"{column}\") - INTERVAL {offset} SECOND"
                 if column in _FROM_FILE_TIME else f"timezone('{TIMEZONE}', \"{column}\")")
        conn.execute(f'ALTER TABLE {schema}.{table} ALTER "{column}" '
                     f"SET DATA TYPE TIMESTAMPTZ USING {using}")
    conn.execute(SUBMITTED_VALUES)


# a migration's statements, then what it does in Python (a conversion SQL alone cannot say)
AFTER: dict[int, Callable[[duckdb.DuckDBPyConnection], None]] = {8: _timestamps_with_zone}
SCHEMA_VERSION = max(MIGRATIONS)


class NewerSchemaError(RuntimeError):
    """The warehouse was written by a newer release: this one must not write to it."""


def warehouse_version(conn: duckdb.DuckDBPyConnection) -> int:
    """The warehouse's version; 0 for a new one (or one written before versions were kept)."""
    try:
        return conn.execute("SELECT max(version) FROM core.schema_version").fetchone()[0] or 0
    except duckdb.CatalogException:
        return 0


# DuckDB's own extensions are never downloaded at run time: its time zones (icu) are built in,
# and a warehouse reopened after a crash replays a log that may need them before anyone could
# load them (it tried to download them, and failed offline)
CONFIG = {"autoinstall_known_extensions": False}


def connect(path: Path | str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """The warehouse opened the one way: times read and compared in Asia/Shanghai (a time
    without a zone passed in is that zone's). The caller holds the warehouse lock."""
    conn = duckdb.connect(str(path), read_only=read_only, config=CONFIG)
    in_local_time(conn)
    return conn


def in_local_time(conn: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    conn.execute(f"SET TimeZone = '{TIMEZONE}'")
    return conn


def ensure_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Bring the warehouse to ``SCHEMA_VERSION`` before anything writes: the baseline, then each
    migration it lacks, in order, all in one transaction (a crash leaves the old version). New
    tables and columns, and once (8) every timestamp given its time zone in place: no row is
    ever dropped or replaced."""
    current = warehouse_version(conn)
    if current == SCHEMA_VERSION:
        return
    if current > SCHEMA_VERSION:
        raise NewerSchemaError(
            f"the warehouse has schema version {current}, this release knows {SCHEMA_VERSION}: "
            "upgrade kj_pipelines before running it on this warehouse")
    _COLUMNS.pop(conn, None)  # the migrations may add columns
    with transaction(conn):
        conn.execute("CREATE SCHEMA IF NOT EXISTS core")
        conn.execute("CREATE TABLE IF NOT EXISTS core.schema_version "
                     "(version INTEGER, applied_at TIMESTAMP)")
        if current < BASELINE_VERSION:
            conn.execute(BASELINE)
            conn.execute("INSERT INTO core.schema_version VALUES (?, current_timestamp)",
                         [BASELINE_VERSION])
        for version in sorted(v for v in MIGRATIONS if v > max(current, BASELINE_VERSION)):
            conn.execute(MIGRATIONS[version])
            if version in AFTER:
                AFTER[version](conn)
            conn.execute("INSERT INTO core.schema_version VALUES (?, current_timestamp)",
                         [version])


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Everything inside commits together or not at all. Nested inside another transaction on
    the same connection, it joins the outer one (several tables replaced as one change)."""
    if id(conn) in _IN_TRANSACTION:
        yield
        return
    conn.execute("BEGIN TRANSACTION")
    _IN_TRANSACTION.add(id(conn))
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    finally:
        _IN_TRANSACTION.discard(id(conn))


_IN_TRANSACTION: set[int] = set()


def insert_frame(conn: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> int:
    """Append ``frame`` to ``table``, columns matched by name (the table's others stay NULL)."""
    if frame.empty:
        return 0
    quoted = ", ".join(f'"{c}"' for c in frame.columns)
    # read by DuckDB's replacement scan of this local name: 1 ms a write less than registering
    # and unregistering the frame (measured on a district month's 87 writes)
    _kj_incoming = frame  # noqa: F841
    conn.execute(f"INSERT INTO {table} ({quoted}) SELECT {quoted} FROM _kj_incoming")
    return len(frame)


def replace_rows(conn: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame,
                 where: str, params: Sequence[Any] = (), *, allow_empty: bool = False) -> int:
    """Delete the slice ``where`` and insert ``frame`` in one transaction.

    The frame's columns are matched by name; columns of the table it lacks are NULL. An empty
    frame is refused when the slice holds rows, unless ``allow_empty`` says clearing is meant.
    """
    if frame.empty and not allow_empty:
        existing = conn.execute(f"SELECT count(*) FROM {table} WHERE {where}",
                                list(params)).fetchone()[0]
        if existing:
            raise EmptyPartitionError(
                f"{table}: the new result is empty but {existing} rows exist for "
                f"{where} {list(params)}; refusing to wipe them")
        return 0
    cols = [c for c in table_columns(conn, table) if c in frame.columns]
    with transaction(conn):
        conn.execute(f"DELETE FROM {table} WHERE {where}", list(params))
        insert_frame(conn, table, frame[cols])
    return len(frame)


def table_columns(conn: duckdb.DuckDBPyConnection, table: str) -> tuple[str, ...]:
    """The table's columns, asked once per connection and schema version (only a migration,
    run by :func:`ensure_schema` before anything writes, changes them)."""
    known = _COLUMNS.setdefault(conn, {})
    if table not in known:
        known[table] = tuple(r[0] for r in conn.execute(f"DESCRIBE {table}").fetchall())
    return known[table]


_COLUMNS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def in_list(column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    """A ``column IN (?, ?, …)`` predicate and its parameters."""
    if not values:
        return "FALSE", []
    return f'"{column}" IN ({", ".join("?" for _ in values)})', list(values)


def query(conn: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
    return conn.execute(sql, list(params)).df()
