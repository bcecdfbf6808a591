"""One measurement of ``make bench``, run in a process of its own (``python -m benchmarks.items
NAME DATA_DIR``) so that its peak memory and its imports are its own. Prints one JSON line:
``{"seconds": …, "peak_mib": …, …}``.

The indicator graph is the 29 indicator assets and ``indicator_progress``. Its no-op twin has the
same keys, partitions, checks, backfill policy, executor and instance type, with bodies that only
report a materialization and passing checks: what Dagster costs with nothing to compute.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import sys
import time
from pathlib import Path

import dagster as dg

RANGE = ("2019-01", "2026-10")
MONTH = "2026-10"
TODAY = dt.date(2026, 11, 23)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def indicator_graph(catalog, noop: bool) -> list:
    from kj_pipelines.defs.indicators.assets import build_indicator_assets
    from kj_pipelines.defs.indicators.overview import build_progress_asset

    real = [*build_indicator_assets(catalog), build_progress_asset(catalog)]
    return [noop_twin(a) for a in real] if noop else real


def noop_twin(asset):
    """The same asset, doing nothing: one materialization and every check passed."""
    (spec,) = asset.specs
    checks = list(asset.check_specs)

    @dg.multi_asset(name=asset.node_def.name, specs=[spec], check_specs=checks,
                    partitions_def=asset.partitions_def, backfill_policy=asset.backfill_policy)
    def _noop(context):
        return dg.MaterializeResult(asset_key=spec.key, check_results=[
            dg.AssetCheckResult(check_name=c.name, asset_key=c.asset_key, passed=True)
            for c in checks])

    return _noop


def run_graph(root: Path, *, noop: bool, partition_range: tuple[str, str]) -> dict:
    from kj_pipelines.catalog.loader import load_catalog
    from kj_pipelines.defs.resources import default_resources

    catalog = load_catalog(root / "catalog")
    assets = indicator_graph(catalog, noop)
    start, end = partition_range
    with dg.instance_for_test() as instance:
        began = time.perf_counter()
        # materialize runs in process, as the code location's executor does
        result = dg.materialize(assets, instance=instance, resources=default_resources(),
                                tags={"dagster/asset_partition_range_start": start,
                                      "dagster/asset_partition_range_end": end})
        seconds = time.perf_counter() - began
    assert result.success
    return {"seconds": seconds}


def floor(root: Path) -> dict:
    """The same computation as the backfill, called straight: every indicator over every month,
    then the progress overview, through the project's own functions on one connection."""
    import duckdb

    from kj_pipelines.catalog.loader import load_catalog
    from kj_pipelines.core.periods import months_between
    from kj_pipelines.indicators.service import assemble_progress, run_indicator

    catalog = load_catalog(root / "catalog")
    periods = list(months_between(*RANGE))
    began = time.perf_counter()
    conn = duckdb.connect(str(root / "warehouse.duckdb"))
    for code in catalog.indicators:
        run_indicator(conn, catalog, code, periods, TODAY)
    assemble_progress(conn, periods)
    conn.close()
    return {"seconds": time.perf_counter() - began}


def monthly_review(root: Path) -> dict:
    from kj_pipelines.definitions import build_defs

    job = build_defs().resolve_job_def("monthly_review")
    with dg.instance_for_test() as instance:
        began = time.perf_counter()
        assert job.execute_in_process(partition_key=MONTH, instance=instance).success
        return {"seconds": time.perf_counter() - began}


def ingest_year(root: Path) -> dict:
    """A year of submissions (every unit × 12 months) from the inbox into a new warehouse."""
    import duckdb

    from kj_pipelines.catalog.loader import load_catalog
    from kj_pipelines.core.settings import DataPaths
    from kj_pipelines.intake.inbox import ingest_pending

    paths = DataPaths(root)
    catalog = load_catalog(paths.catalog)
    files = len(list(paths.inbox.glob("*.xlsx")))
    conn = duckdb.connect(str(paths.warehouse))
    began = time.perf_counter()
    report = ingest_pending(paths, catalog, conn, dt.datetime(2026, 11, 23, 9))
    seconds = time.perf_counter() - began
    conn.close()
    assert len(report.results) == files
    return {"seconds": seconds, "files": files, "files_per_s": files / seconds}


def read_year(root: Path) -> dict:
    """Reading a year's workbooks (every sheet of each, no validation) with the project's
    reader: openpyxl for .xlsx, as ingestion reads them."""
    from kj_pipelines.excel.reading import read_workbook

    files = sorted(DataPaths_inbox(root).glob("*.xlsx"))
    began = time.perf_counter()
    rows = sum(len(sheet.rows) for path in files for sheet in read_workbook(path))
    return {"seconds": time.perf_counter() - began, "files": len(files), "rows": rows}


def read_year_calamine(root: Path) -> dict:
    """The same workbooks read by python-calamine (values only: no number formats, no formula
    without a cached value), the reader the project compared before choosing openpyxl."""
    from python_calamine import CalamineWorkbook

    files = sorted(DataPaths_inbox(root).glob("*.xlsx"))
    began = time.perf_counter()
    rows = 0
    for path in files:
        with CalamineWorkbook.from_path(str(path)) as wb:
            for name in wb.sheet_names:
                rows += sum(1 for row in wb.get_sheet_by_name(name).to_python()
                            if any(v not in ("", None) for v in row))
    return {"seconds": time.perf_counter() - began, "files": len(files), "rows": rows}


def DataPaths_inbox(root: Path) -> Path:  # noqa: N802 - the inbox of a data directory
    from kj_pipelines.core.settings import DataPaths

    return DataPaths(root).inbox


def prepare(root: Path) -> dict:
    """Ingest the whole sample (submissions, target lists, registry, work plans) once."""
    from kj_pipelines.defs.intake.assets import annual_targets, registry_snapshot, submission_inbox
    from kj_pipelines.defs.resources import default_resources
    from kj_pipelines.defs.worklists.assets import work_plans

    began = time.perf_counter()
    with dg.instance_for_test() as instance:
        assert dg.materialize([submission_inbox, annual_targets, registry_snapshot, work_plans],
                              instance=instance, resources=default_resources()).success
    return {"seconds": time.perf_counter() - began}


ITEMS = {
    "prepare": prepare,
    "floor": floor,
    "backfill": lambda root: run_graph(root, noop=False, partition_range=RANGE),
    "noop_backfill": lambda root: run_graph(root, noop=True, partition_range=RANGE),
    "month": lambda root: run_graph(root, noop=False, partition_range=(MONTH, MONTH)),
    "noop_month": lambda root: run_graph(root, noop=True, partition_range=(MONTH, MONTH)),
    "monthly_review": monthly_review,
    "ingest_year": ingest_year,
    "read_year": read_year,
    "read_year_calamine": read_year_calamine,
}


def main() -> None:
    name, root = sys.argv[1], Path(sys.argv[2])
    os.environ["KJ_DATA_DIR"] = str(root)
    os.environ["KJ_TODAY"] = TODAY.isoformat()
    out = ITEMS[name](root)
    out["peak_mib"] = _peak_mib()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
