"""The Dagster code of the project, thin over the business-area packages: assets, checks, jobs,
partitions, schedules, sensors and resources, one folder per area as ``dg`` lays a project out
(``kj_pipelines.definitions`` assembles them into the code location).

BackfillPolicy is marked beta in Dagster 1.13; single-run backfills are a deliberate choice here
(a three-year backfill is one run, not 36), so the warning printed on every CLI invocation is
silenced once."""

import warnings

import dagster as dg

warnings.filterwarnings("ignore", category=dg.BetaWarning)
