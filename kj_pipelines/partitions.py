"""Partitions of the review cadence, declared once (keys fixed by the shared interface).

They start at the catalog's first monitored month (settings.yaml ``first_period``, 2019-01 when
not set): the code location reads the catalog of ``$KJ_DATA_DIR`` when it loads.
"""

import datetime as dt

import dagster as dg

from kj_pipelines.domain.catalog import load_catalog
from kj_pipelines.domain.periods import parse_month
from kj_pipelines.settings import TIMEZONE, DataPaths


def _first_monday(year: int, month: int) -> str:
    day = dt.date(year, month, 1)
    return (day + dt.timedelta(days=(7 - day.weekday()) % 7)).isoformat()


FIRST_PERIOD = load_catalog(DataPaths.from_env().catalog_folder()).first_period
_YEAR, _MONTH = parse_month(FIRST_PERIOD)

monthly_partitions = dg.MonthlyPartitionsDefinition(
    start_date=FIRST_PERIOD, fmt="%Y-%m", timezone=TIMEZONE, end_offset=0)
quarterly_partitions = dg.TimeWindowPartitionsDefinition(
    cron_schedule="0 0 1 */3 *", start=f"{_YEAR:04d}-{(_MONTH - 1) // 3 * 3 + 1:02d}",
    fmt="%Y-%m", timezone=TIMEZONE)
yearly_partitions = dg.TimeWindowPartitionsDefinition(
    cron_schedule="0 0 1 1 *", start=f"{_YEAR:04d}", fmt="%Y", timezone=TIMEZONE,
    end_offset=2)  # the current year and the next, whose target list is issued in advance
weekly_partitions = dg.WeeklyPartitionsDefinition(
    start_date=_first_monday(_YEAR, _MONTH), fmt="%Y-%m-%d", timezone=TIMEZONE, day_offset=1)
