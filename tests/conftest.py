"""Fixtures: a temporary KJ_DATA_DIR per test, the packaged catalog, a small sample built once.

The suite never reads ``./data`` (collection builds the definitions from an empty temporary data
directory, so the packaged catalog) and never the wall clock (``KJ_TODAY`` pins the day)."""

from __future__ import annotations

import atexit
import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import duckdb
import pytest
from openpyxl import Workbook

from kj_pipelines.catalog.loader import load_catalog
from kj_pipelines.catalog.model import Catalog
from kj_pipelines.core.settings import DataPaths
from kj_pipelines.sample.generator import CATALOG_SOURCE, generate_sample
from kj_pipelines.storage.warehouse import ensure_schema

# before any test module builds the definitions (none of the imports above does)
os.environ["KJ_DATA_DIR"] = tempfile.mkdtemp(prefix="kj_tests_")
atexit.register(shutil.rmtree, os.environ["KJ_DATA_DIR"], True)
os.environ["KJ_TODAY"] = "2026-11-23"
os.environ["KJ_INBOX_SETTLE_SECONDS"] = "0"  # a test's workbooks are whole when written
os.environ.pop("KJ_NOTIFY_URLS", None)
os.environ.pop("KJ_SOURCE_DB_URL", None)

TODAY = dt.date(2026, 11, 23)
REVIEWED_MONTHS = ["2026-08", "2026-09", "2026-10"]
HEADER = ["单位代码", "单位名称", "报告期", "指标代码", "指标名称", "本期值", "累计值", "备注"]


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(CATALOG_SOURCE)


@pytest.fixture(scope="session")
def small_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sample with submissions for 2026-08…2026-10 only (registry and targets complete)."""
    root = tmp_path_factory.mktemp("sample")
    generate_sample(root, start="2026-08", end="2026-10")
    return root


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DataPaths:
    """An empty data directory holding only the catalog; KJ_DATA_DIR points at it."""
    root = tmp_path / "data"
    shutil.copytree(CATALOG_SOURCE, root / "catalog")
    monkeypatch.setenv("KJ_DATA_DIR", str(root))
    monkeypatch.delenv("KJ_SOURCE_DB_URL", raising=False)
    monkeypatch.delenv("KJ_NOTIFY_URLS", raising=False)
    paths = DataPaths(root)
    paths.ensure()
    return paths


@pytest.fixture
def sample_dir(small_sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DataPaths:
    """A private copy of the small sample; KJ_DATA_DIR points at it."""
    root = tmp_path / "data"
    shutil.copytree(small_sample, root)
    monkeypatch.setenv("KJ_DATA_DIR", str(root))
    monkeypatch.delenv("KJ_SOURCE_DB_URL", raising=False)
    monkeypatch.delenv("KJ_NOTIFY_URLS", raising=False)
    return DataPaths(root)


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(tmp_path / "test.duckdb"))
    ensure_schema(connection)
    try:
        yield connection
    finally:
        connection.close()


def write_rows(path: Path, rows: Sequence[Sequence[object]], *, header: Sequence[str] = HEADER,
               title: str | None = "测试填报表", sheet: str = "填报") -> Path:
    """A submission workbook with an optional title row above the header."""
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    if title:
        ws.append([title])
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


@pytest.fixture(scope="session")
def reviewed(small_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """The small sample after the whole ``monthly_review`` job over 2026-08…2026-10 as one
    single-run range (the end-to-end backfill): (data paths, instance). Shared and read-only: a
    test that writes uses :func:`reviewed_copy`."""
    import dagster as dg

    from kj_pipelines.definitions import build_defs

    root = tmp_path_factory.mktemp("reviewed") / "data"
    shutil.copytree(small_sample, root)
    previous = os.environ["KJ_DATA_DIR"]
    os.environ["KJ_DATA_DIR"] = str(root)
    try:
        # in memory: the tests read its materializations, none its storage; an instance on
        # disk (instance_for_test) makes the build a third slower
        with dg.DagsterInstance.ephemeral() as instance:
            job = build_defs().resolve_job_def("monthly_review")
            assert job.execute_in_process(instance=instance, tags={
                "dagster/asset_partition_range_start": REVIEWED_MONTHS[0],
                "dagster/asset_partition_range_end": REVIEWED_MONTHS[-1]}).success
            yield DataPaths(root), instance
    finally:
        os.environ["KJ_DATA_DIR"] = previous


@pytest.fixture
def reviewed_copy(reviewed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DataPaths:
    """A private copy of the reviewed sample; KJ_DATA_DIR points at it."""
    root = tmp_path / "data"
    shutil.copytree(reviewed[0].root, root)
    monkeypatch.setenv("KJ_DATA_DIR", str(root))
    return DataPaths(root)


def stored_warnings(paths: DataPaths, columns: str = "warning_id, notified, attempts, last_error"
                    ) -> list[tuple]:
    """mart.warnings as (warning_id, notified, attempts, last_error), in id order."""
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        return con.execute(f"SELECT {columns} FROM mart.warnings ORDER BY warning_id").fetchall()
    finally:
        con.close()


def warned_units(paths: DataPaths) -> set[str]:
    """The units with a warning or reminder stored."""
    return {unit for (unit,) in stored_warnings(paths, "unit")}


def lookback_forever(paths: DataPaths) -> None:
    """Warnings are only raised for recent months: make the sample's months count as recent
    whenever the suite runs."""
    settings = paths.catalog / "settings.yaml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(text.replace("warning_lookback_months: 2", "warning_lookback_months: 120"),
                        encoding="utf-8")


def tick(sensor, instance, cursor: str | None = None, resources: dict | None = None):
    """One evaluation of ``sensor`` as the daemon makes it (resources opened and closed with the
    context): (its result, the cursor it left)."""
    import dagster as dg

    from kj_pipelines.defs.resources import default_resources

    with dg.build_sensor_context(instance=instance, cursor=cursor,
                                 resources=resources or default_resources()) as ctx:
        return sensor(ctx), ctx.cursor
