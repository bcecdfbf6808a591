"""Partitions of the review cadence, declared once (keys fixed by the shared interface).

They start at the catalog's first monitored month (settings.yaml ``first_period``, 2019-01 when
not set): the code location reads the catalog of ``$KJ_DATA_DIR`` when it loads.
"""

from typing import NamedTuple

import dagster as dg

from kj_pipelines.catalog.loader import load_catalog
from kj_pipelines.core.periods import first_monday, parse_month, quarter_start
from kj_pipelines.core.settings import TIMEZONE, DataPaths


class Cadence(NamedTuple):
    monthly: dg.MonthlyPartitionsDefinition
    quarterly: dg.TimeWindowPartitionsDefinition
    yearly: dg.TimeWindowPartitionsDefinition
    weekly: dg.WeeklyPartitionsDefinition


def cadence_partitions(first_period: str) -> Cadence:
    """Monthly keys from ``first_period``; the quarter, year and week (its first Monday) that
    hold it."""
    year = parse_month(first_period)[0]
    return Cadence(
        monthly=dg.MonthlyPartitionsDefinition(
            start_date=first_period, fmt="%Y-%m", timezone=TIMEZONE, end_offset=0),
        quarterly=dg.TimeWindowPartitionsDefinition(
            cron_schedule="0 0 1 */3 *", start=quarter_start(first_period),
            fmt="%Y-%m", timezone=TIMEZONE),
        # the current year and the next, whose target list is issued in advance
        yearly=dg.TimeWindowPartitionsDefinition(
            cron_schedule="0 0 1 1 *", start=f"{year:04d}", fmt="%Y", timezone=TIMEZONE,
            end_offset=2),
        weekly=dg.WeeklyPartitionsDefinition(
            start_date=first_monday(first_period).isoformat(), fmt="%Y-%m-%d",
            timezone=TIMEZONE, day_offset=1),
    )


FIRST_PERIOD = load_catalog(DataPaths.from_env().catalog_folder()).first_period
monthly_partitions, quarterly_partitions, yearly_partitions, weekly_partitions = \
    cadence_partitions(FIRST_PERIOD)
