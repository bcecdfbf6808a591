"""Runs started together on one warehouse: four overlapping range backfills, the month's
``monthly_review`` and the run the inbox sensor asks for after a resubmission, each a real
``dg launch`` process against one DAGSTER_HOME and one data directory. All succeed and leave the
warehouse and the reports equal to the same runs made one after the other."""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest
from conftest import write_rows

from kj_pipelines.core.settings import DataPaths
from kj_pipelines.defs.intake.sensors import inbox_sensor
from kj_pipelines.defs.resources import KJDataResource

pytestmark = pytest.mark.slow  # a dozen real runs: `make test-slow`, .ci/run

ROOT = Path(__file__).resolve().parents[2]
DG = Path(sys.executable).with_name("dg")
# the analysts' backfills: indicators and the progress overview over overlapping ranges
SELECTION = 'key:"indicator/*" or key:indicator_progress'
RANGES = ["2026-08...2026-09", "2026-09...2026-10", "2026-08...2026-10", "2026-09...2026-10"]
# columns stamped with the time a row was written: equal content, different clocks
STAMPS = {"updated_at", "received_at", "applied_at", "raised_at"}


def resubmission(paths: DataPaths, folder: Path, unit: str, period: str) -> Path:
    """The unit sends its month again, the same figures in a new file (another SHA-256)."""
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        rows = con.execute("SELECT unit, '', period, indicator, '', value, cumulative, '' "
                           "FROM core.submitted_values WHERE unit = ? AND period = ? "
                           "ORDER BY indicator", [unit, period]).fetchall()
    finally:
        con.close()
    assert rows
    return write_rows(folder / f"{period}_{unit}_重报.xlsx", rows, title="重报")


def commands(paths: DataPaths) -> list[list[str]]:
    """What the ops team and the daemon start: the backfills, the month, the inbox's runs."""
    context = dg.build_sensor_context(resources={"kj_data": KJDataResource(root=str(paths.root))})
    requested = inbox_sensor(context)
    assert [r.partition_key for r in requested] == ["2026-09"]
    runs = [[str(DG), "launch", "--assets", SELECTION, "--partition-range", r] for r in RANGES]
    runs.append([str(DG), "launch", "--job", "monthly_review", "--partition", "2026-10"])
    runs += [[str(DG), "launch", "--job", "monthly_review", "--partition", r.partition_key]
             for r in requested]
    return runs


def environment(paths: DataPaths, home: Path) -> dict[str, str]:
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    # an instance in use has its storage; six processes creating it at once race in Dagster's
    # own SQLite migrations, which is not what this test is about
    dg.DagsterInstance.from_config(str(home)).dispose()
    return {**os.environ, "KJ_DATA_DIR": str(paths.root), "DAGSTER_HOME": str(home)}


def prepared(reviewed, tmp_path: Path, name: str) -> DataPaths:
    """A copy of the reviewed sample with the same resubmission (same bytes, same time) waiting
    in its inbox."""
    paths = DataPaths(tmp_path / name)
    shutil.copytree(reviewed[0].root, paths.root)
    file = tmp_path / "resubmitted" / "2026-09_ZS_重报.xlsx"
    if not file.exists():
        resubmission(paths, file.parent, "ZS", "2026-09")
    shutil.copy2(file, paths.inbox / file.name)
    return paths


def tables(paths: DataPaths) -> dict[str, pd.DataFrame]:
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        names = [f"{s}.{t}" for s, t in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() "
            "WHERE table_name <> 'schema_version'").fetchall()]
        out = {}
        for name in names:
            frame = con.execute(f"SELECT * FROM {name}").df()
            frame = frame.drop(columns=[c for c in frame.columns if c in STAMPS])
            cols = list(frame.columns)
            out[name] = frame.astype(str).sort_values(cols).reset_index(drop=True)
        return out
    finally:
        con.close()


def reports(paths: DataPaths) -> dict[str, str]:
    return {str(p.relative_to(paths.reports)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(paths.reports.rglob("*")) if p.is_file()}


def run_statuses(home: Path) -> list[str]:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return [r.status.value for r in instance.get_runs()]


def test_overlapping_backfills_a_month_and_inbox_runs_together_equal_one_after_another(
        reviewed, tmp_path):
    sequential = prepared(reviewed, tmp_path, "sequential")
    seq_env = environment(sequential, tmp_path / "home_seq")
    for cmd in commands(sequential):
        done = subprocess.run(cmd, env=seq_env, cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-3000:]

    together = prepared(reviewed, tmp_path, "together")
    env = environment(together, tmp_path / "home_together")
    children = [subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True)
                for cmd in commands(together)]
    errors = [child.communicate(timeout=900)[1] for child in children]
    for child, err in zip(children, errors, strict=True):
        assert child.returncode == 0, err[-3000:]
        assert "Could not set lock" not in err
    assert run_statuses(tmp_path / "home_together") == ["SUCCESS"] * 6

    expected, found = tables(sequential), tables(together)
    assert found.keys() == expected.keys()
    for name in expected:
        pd.testing.assert_frame_equal(found[name], expected[name], obj=name)
    assert reports(together) == reports(sequential)
    # the resubmission was stored once, beside the first submission (history kept)
    assert len(found["raw.submission_files"]) == len(tables(reviewed[0])["raw.submission_files"]) + 1
