"""Partitions of the review cadence, declared once (keys fixed by the shared interface)."""

import dagster as dg

from kj_pipelines.settings import TIMEZONE

monthly_partitions = dg.MonthlyPartitionsDefinition(
    start_date="2019-01", fmt="%Y-%m", timezone=TIMEZONE, end_offset=0)
quarterly_partitions = dg.TimeWindowPartitionsDefinition(
    cron_schedule="0 0 1 */3 *", start="2019-01", fmt="%Y-%m", timezone=TIMEZONE)
yearly_partitions = dg.TimeWindowPartitionsDefinition(
    cron_schedule="0 0 1 1 *", start="2019", fmt="%Y", timezone=TIMEZONE,
    end_offset=2)  # the current year and the next, whose target list is issued in advance
weekly_partitions = dg.WeeklyPartitionsDefinition(
    start_date="2019-01-07", fmt="%Y-%m-%d", timezone=TIMEZONE, day_offset=1)
