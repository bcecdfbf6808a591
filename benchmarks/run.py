"""``make bench``: the figures that matter for the ops team, measured on the full sample.

Prints medians of ``--repeat`` runs (default 1; the full sample takes about a minute a round):
writing the sample, reading every workbook through the one reader, one month of
``monthly_review`` in-process, a year of months as one single-run backfill, and a plan year.
Nothing here asserts a time; it reports.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
from pathlib import Path


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def one_round(root: Path) -> dict[str, float]:
    os.environ["KJ_DATA_DIR"] = str(root)
    import dagster as dg

    from kj_pipelines.definitions import build_defs
    from kj_pipelines.domain.catalog import load_catalog
    from kj_pipelines.domain.sample import generate_sample
    from kj_pipelines.domain.submissions import read_submission

    out: dict[str, float] = {}
    out["sample_write_s"] = timed(lambda: generate_sample(root))
    catalog = load_catalog(root / "catalog")
    files = sorted((root / "inbox").glob("*.xlsx"))
    today = dt.date.today()
    seconds = timed(lambda: [read_submission(p, catalog, today) for p in files])
    out["validate_ms_per_file"] = seconds / len(files) * 1000
    defs = build_defs(catalog)
    job = defs.resolve_job_def("monthly_review")
    with dg.instance_for_test() as instance:
        out["monthly_review_first_month_incl_ingest_s"] = timed(
            lambda: job.execute_in_process(partition_key="2026-10", instance=instance))
        out["monthly_review_one_month_s"] = timed(
            lambda: job.execute_in_process(partition_key="2026-09", instance=instance))
        out["backfill_12_months_one_run_s"] = timed(lambda: job.execute_in_process(
            instance=instance, tags={"dagster/asset_partition_range_start": "2025-01",
                                     "dagster/asset_partition_range_end": "2025-12"}))
        plan_job = defs.resolve_job_def("annual_evaluation")
        out["annual_evaluation_one_year_s"] = timed(
            lambda: plan_job.execute_in_process(partition_key="2026", instance=instance))
    out["files"] = len(files)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    rounds = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            rounds.append(one_round(Path(tmp) / "data"))
    print(f"kj_pipelines benchmark, median of {args.repeat} round(s), {os.cpu_count()} cores")
    for key in rounds[0]:
        value = statistics.median(r[key] for r in rounds)
        print(f"  {key:45} {value:10.2f}")


if __name__ == "__main__":
    main()
