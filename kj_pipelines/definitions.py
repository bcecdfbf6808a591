"""The Dagster code location: ``defs``, generated from the catalog in ``$KJ_DATA_DIR/catalog``
(or the packaged district catalog before ``kj sample`` has written one)."""

# ruff: noqa: E402 - the heavy libraries are deferred before the modules that import them
from __future__ import annotations

from kj_pipelines.defs.deferred import defer

# the definitions need none of them (about a second of their load on 2 cores): a body, sensor
# or check loads each when it first uses it
defer("pandas", "numpy", "openpyxl", "duckdb")

import dagster as dg

from kj_pipelines.catalog.loader import load_catalog
from kj_pipelines.catalog.model import Catalog
from kj_pipelines.core.settings import DataPaths
from kj_pipelines.defs.alerts.sensors import behind_schedule_sensor, warnings_asset
from kj_pipelines.defs.indicators.assets import build_indicator_assets
from kj_pipelines.defs.indicators.overview import (
    build_goal_distance_asset,
    build_progress_asset,
    indicator_plan,
)
from kj_pipelines.defs.indicators.sensors import acceptance_sensor
from kj_pipelines.defs.intake.assets import annual_targets, registry_snapshot, submission_inbox
from kj_pipelines.defs.intake.sensors import inbox_sensor
from kj_pipelines.defs.jobs import (
    EXECUTOR,
    annual_evaluation,
    monthly_review,
    quarterly_analysis,
    weekly_consultation,
)
from kj_pipelines.defs.resources import default_resources
from kj_pipelines.defs.reviews.assets import annual_scores, quarterly_ranking, weekly_watchlist
from kj_pipelines.defs.reviews.documents import (
    annual_report,
    annual_summary,
    monthly_report,
    quarterly_report,
    weekly_brief,
)
from kj_pipelines.defs.runs import orphaned_runs_sensor
from kj_pipelines.defs.schedules import build_schedules
from kj_pipelines.defs.worklists.assets import build_list_assets, work_plans


def current_catalog() -> Catalog:
    return load_catalog(DataPaths.from_env().catalog_folder())


def build_defs(catalog: Catalog | None = None) -> dg.Definitions:
    catalog = catalog or current_catalog()
    return dg.Definitions(
        assets=[submission_inbox, annual_targets, registry_snapshot, work_plans, indicator_plan,
                *build_indicator_assets(catalog), build_progress_asset(catalog),
                build_goal_distance_asset(catalog), warnings_asset, *build_list_assets(), monthly_report,
                quarterly_report, annual_report, annual_summary, weekly_brief,
                weekly_watchlist, quarterly_ranking, annual_scores],
        jobs=[monthly_review, weekly_consultation, quarterly_analysis, annual_evaluation],
        schedules=build_schedules(catalog.submission_deadline_day),
        sensors=[behind_schedule_sensor, inbox_sensor, acceptance_sensor,
                 orphaned_runs_sensor],
        resources=default_resources(),
        executor=EXECUTOR,  # also for UI/CLI materializations and backfills (__ASSET_JOB)
    )


defs = build_defs()
