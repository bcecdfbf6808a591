"""Schedules mirroring the review cadence (Asia/Shanghai, running by default): 周会商 Monday
08:30, 月调度 on the submission deadline 08:00, 季分析 the 15th after the quarter, 年考评 31 January."""


import dagster as dg

from kj_pipelines.core.periods import add_months, month_key
from kj_pipelines.core.settings import TIMEZONE
from kj_pipelines.defs.jobs import (
    annual_evaluation,
    monthly_review,
    quarterly_analysis,
    weekly_consultation,
)
from kj_pipelines.defs.resources import KJDataResource
from kj_pipelines.reviews.cadence import quarter_skip, target_years, year_skip


def _targets_of(kj_data: KJDataResource):
    """Whether a year has a target list (read when asked: a schedule's tick reads one year)."""
    def has_targets(year: int) -> bool:
        return bool(target_years(kj_data.paths.plans, kj_data.catalog(), {year}))
    return has_targets


def build_schedules(deadline_day: int) -> list[dg.ScheduleDefinition]:
    # month and week: Dagster's helper runs each job for its last complete partition
    monthly_review_schedule = dg.build_schedule_from_partitioned_job(
        monthly_review, name="monthly_review_schedule", day_of_month=deadline_day,
        hour_of_day=8, default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"月调度：每月{deadline_day}日（报送截止日）08:00 处理上月。")
    weekly_consultation_schedule = dg.build_schedule_from_partitioned_job(
        weekly_consultation, name="weekly_consultation_schedule", day_of_week=1, hour_of_day=8,
        minute_of_hour=30, default_status=dg.DefaultScheduleStatus.RUNNING,
        description="周会商：每周一 08:30 汇总上一周（以周一日期为分区）。")

    # quarter and year run weeks after their period ends, which the helper does not express
    @dg.schedule(name="quarterly_analysis_schedule", job=quarterly_analysis,
                 cron_schedule="0 8 15 1,4,7,10 *", execution_timezone=TIMEZONE,
                 default_status=dg.DefaultScheduleStatus.RUNNING,
                 description="季分析、季晾晒：每季度结束后次月15日 08:00 处理上一季度。")
    def quarterly_analysis_schedule(context: dg.ScheduleEvaluationContext,
                                    kj_data: KJDataResource) -> dg.RunRequest | dg.SkipReason:
        when = context.scheduled_execution_time
        first = add_months(month_key(when.year, when.month), -3)
        why = quarter_skip(first, kj_data.catalog().first_period, _targets_of(kj_data))
        if why:  # a region's first months: nothing to rank yet
            return dg.SkipReason(why)
        return dg.RunRequest(partition_key=first, run_key=f"quarterly:{first}")

    @dg.schedule(name="annual_evaluation_schedule", job=annual_evaluation,
                 cron_schedule="0 8 31 1 *", execution_timezone=TIMEZONE,
                 default_status=dg.DefaultScheduleStatus.RUNNING,
                 description="年考评：每年1月31日 08:00 处理上一年度。")
    def annual_evaluation_schedule(context: dg.ScheduleEvaluationContext,
                                   kj_data: KJDataResource) -> dg.RunRequest | dg.SkipReason:
        year = context.scheduled_execution_time.year - 1
        why = year_skip(year, kj_data.catalog().first_period, _targets_of(kj_data))
        if why:  # the year before the region's first, or one without a target list
            return dg.SkipReason(why)
        return dg.RunRequest(partition_key=str(year), run_key=f"annual:{year}")

    return [monthly_review_schedule, weekly_consultation_schedule, quarterly_analysis_schedule,
            annual_evaluation_schedule]
