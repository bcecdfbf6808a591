"""SIGKILL in the middle of a partition write and of an ingestion, with real processes: every
slice is as before or wholly new, nothing is counted twice, and the next run completes it.

The child processes run the project's own functions; a wrapper around one of them only marks
the moment to kill (it prints, then sleeps), so the kill lands exactly mid-write."""

import datetime as dt
import shutil
import signal
import subprocess
import sys

import pandas as pd
import pytest

from kj_pipelines.core.settings import DataPaths
from kj_pipelines.intake.inbox import ingest_pending
from kj_pipelines.storage.lock import is_held, warehouse_lock
from kj_pipelines.storage.warehouse import connect, ensure_schema, replace_rows

pytestmark = pytest.mark.slow  # real processes killed mid-write: `make test-slow`, .ci/run

NOW = dt.datetime(2026, 11, 23, 9, 0)

WRITE = """
import sys, time
from pathlib import Path
import duckdb, pandas as pd
import kj_pipelines.storage.warehouse as wh
from kj_pipelines.storage.warehouse import connect
from kj_pipelines.storage.lock import warehouse_lock

original = wh.insert_frame
def slow_insert(conn, table, frame):
    print("deleted, inserting", flush=True)  # the old slice is gone inside the transaction
    time.sleep(600)
    original(conn, table, frame)
wh.insert_frame = slow_insert

path = Path(sys.argv[1])
new = pd.DataFrame({"period": "2026-09", "indicator": "HT_VA", "unit": [f"U{i}" for i in range(500)],
                    "actual": 2.0, "status": "red"})
with warehouse_lock(path, purpose="crashing writer"):
    conn = connect(path)
    wh.replace_rows(conn, "mart.indicator_progress", new, "period = ?", ["2026-09"])
"""


def _slice(path):
    con = connect(path, read_only=True)
    try:
        return con.execute("SELECT unit, actual, status FROM mart.indicator_progress "
                           "WHERE period = '2026-09' ORDER BY unit").df()
    finally:
        con.close()


def _kill_when(child: subprocess.Popen, line: str) -> None:
    try:
        assert child.stdout.readline().strip() == line, child.stderr.read()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()


def test_sigkill_mid_partition_write_leaves_the_old_slice_and_the_next_run_completes(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    con = connect(path)
    ensure_schema(con)
    old = pd.DataFrame({"period": "2026-09", "indicator": "HT_VA",
                        "unit": [f"U{i}" for i in range(300)], "actual": 1.0, "status": "green"})
    replace_rows(con, "mart.indicator_progress", old, "period = ?", ["2026-09"])
    con.close()
    before = _slice(path)

    _kill_when(subprocess.Popen([sys.executable, "-c", WRITE, str(path)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True), "deleted, inserting")

    assert not is_held(path)  # the dead writer holds nothing
    pd.testing.assert_frame_equal(_slice(path), before)  # as before: not partial, not empty
    with warehouse_lock(path, wait=1):  # the next run gets the warehouse at once
        con = connect(path)
        new = old.assign(actual=2.0, status="red")
        replace_rows(con, "mart.indicator_progress", new, "period = ?", ["2026-09"])
        con.close()
    after = _slice(path)
    assert len(after) == 300 and set(after["status"]) == {"red"}


INGEST = """
import sys, time, datetime as dt
from pathlib import Path
import duckdb
import kj_pipelines.intake.inbox as ingest
from kj_pipelines.storage.warehouse import connect
ingest.BATCH_FILES = 3  # six workbooks: two batches
from kj_pipelines.catalog.loader import load_catalog
from kj_pipelines.core.settings import DataPaths

where = sys.argv[2]
name = "_store" if where == "before_commit" else "_remove"  # the inbox file, after the commit
original = getattr(ingest, name)
calls = []
def pause(*args, **kwargs):
    calls.append(1)
    if len(calls) == 2:  # the second batch before its commit, or the second file after it
        print("at " + where, flush=True)
        time.sleep(600)
    return original(*args, **kwargs)
setattr(ingest, name, pause)

paths = DataPaths(Path(sys.argv[1]))
conn = connect(paths.warehouse)
ingest.ingest_pending(paths, load_catalog(paths.catalog), conn, dt.datetime(2026, 11, 23, 9, 0))
"""


def _workbooks(paths) -> list:
    """The inbox's workbooks (its hidden arrival records aside)."""
    return sorted(p for p in paths.inbox.iterdir() if not p.name.startswith("."))


def _counts(paths):
    con = connect(paths.warehouse, read_only=True)
    try:
        return (con.execute("SELECT count(*) FROM raw.submission_files").fetchone()[0],
                con.execute("SELECT count(*) FROM raw.submission_values").fetchone()[0],
                con.execute("SELECT count(*), count(DISTINCT (sha256, sheet, row)) "
                            "FROM raw.submission_values").fetchone())
    finally:
        con.close()


@pytest.mark.parametrize("where", ["before_commit", "after_commit"])
def test_sigkill_mid_ingestion_loses_and_duplicates_nothing(small_sample, catalog, tmp_path,
                                                            where):
    reference = DataPaths(tmp_path / "reference")
    crashed = DataPaths(tmp_path / "crashed")
    for paths in (reference, crashed):
        shutil.copytree(small_sample, paths.root)
        for extra in _workbooks(paths)[6:]:
            extra.unlink()  # six workbooks are enough
    con = connect(reference.warehouse)
    ingest_pending(reference, catalog, con, NOW)
    con.close()
    files = [p.name for p in _workbooks(crashed)]

    _kill_when(subprocess.Popen([sys.executable, "-c", INGEST, str(crashed.root), where],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
               f"at {where}")

    left = [p.name for p in _workbooks(crashed)]
    # killed before the second batch's commit, its three workbooks are still in the inbox; killed
    # after the first batch's commit, while taking its second file out of the inbox, that file
    # and the next too: a workbook leaves the inbox only after its rows are committed
    assert left == (files[3:] if where == "before_commit" else files[1:])
    con = connect(crashed.warehouse)
    report = ingest_pending(crashed, catalog, con, NOW)
    con.close()
    if where == "after_commit":
        assert report.already_seen == files[1:3]  # recognised by their SHA-256, not read again
    assert not _workbooks(crashed)
    assert _counts(crashed) == _counts(reference)
    files_n, values_n, (rows, distinct) = _counts(crashed)
    assert files_n == 6 and rows == distinct == values_n
