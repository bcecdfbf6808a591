"""Sensors on a real ephemeral instance, and each schedule's run request for a tick."""

import datetime as dt
import shutil
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from conftest import lookback_forever, stored_warnings, tick, warned_units, write_rows

from kj_pipelines.definitions import build_defs
from kj_pipelines.defs.alerts.sensors import behind_schedule_sensor
from kj_pipelines.defs.intake.sensors import inbox_run_requests, inbox_sensor
from kj_pipelines.defs.resources import KJDataResource, NotifierResource, default_resources
from kj_pipelines.defs.schedules import build_schedules

TZ = ZoneInfo("Asia/Shanghai")


def _materialize(instance, month):
    """What the sensor sees of a monthly review: a materialization of the month's progress (the
    warehouse already holds the month, reviewed once for the whole session)."""
    instance.report_runless_asset_event(dg.AssetMaterialization(
        asset_key="indicator_progress", partition=month))




def _tick(instance, cursor=None, resources=None):
    return tick(behind_schedule_sensor, instance, cursor, resources)




@pytest.fixture
def instance(monkeypatch):
    """An ephemeral instance; the sensors' clock stopped on a day after October's review, so the
    lists' due dates are judged on the same day whenever the suite runs."""
    import kj_pipelines.defs.alerts.sensors as alerts
    import kj_pipelines.defs.intake.sensors as intake

    for sensors in (alerts, intake):
        monkeypatch.setattr(sensors, "now_local", lambda: dt.datetime(2026, 11, 12, 9, 0))
    with dg.instance_for_test() as inst:
        yield inst


def test_behind_schedule_sensor_warns_once_then_on_worsening(catalog, reviewed_copy, instance):
    sample_dir = reviewed_copy
    lookback_forever(sample_dir)
    _materialize(instance, "2026-09")
    result, cursor = _tick(instance)
    first = stored_warnings(sample_dir)
    assert first and all(notified for _, notified, _, _ in first)
    assert "新预警" in result.skip_message
    outbox = sorted(p.name for p in sample_dir.outbox.iterdir())
    # one digest per unit, every warning and list reminder in it
    assert len(outbox) == len(warned_units(sample_dir))
    # a second evaluation with nothing new repeats nothing
    _, cursor = _tick(instance, cursor)
    assert stored_warnings(sample_dir) == first
    # re-running the same month repeats nothing either (ids are stable)
    _materialize(instance, "2026-09")
    _, cursor = _tick(instance, cursor)
    assert stored_warnings(sample_dir) == first
    # the next month warns only on changes: newly yellow/red, worsened, or missing
    _materialize(instance, "2026-10")
    _tick(instance, cursor)
    second = stored_warnings(sample_dir)
    new_ids = {w[0] for w in second} - {w[0] for w in first}
    assert new_ids
    # (a projected miss is named by its year and band: raised again only in a worse band)
    assert all(":2026-10:" in w or w.startswith("projected:2026:") for w in new_ids)
    red_in_sep = {tuple(w[0].split(":")[2:4]) for w in first if w[0].endswith(":red")}
    assert not any(w.endswith(":red") and tuple(w.split(":")[2:4]) in red_in_sep for w in new_ids)
    assert any(w.startswith("missing:2026-10:") for w in new_ids)


def test_failed_delivery_is_recorded_and_retried(catalog, reviewed_copy, instance):
    sample_dir = reviewed_copy
    lookback_forever(sample_dir)
    _materialize(instance, "2026-10")
    broken = default_resources() | {"notifier": NotifierResource(
        urls="json://127.0.0.1:9/", data_dir=str(sample_dir.root))}
    result, cursor = _tick(instance, resources=broken)
    failed = stored_warnings(sample_dir)
    assert failed and all(not n and a == 1 and err for _, n, a, err in failed)
    assert "待重试" in result.skip_message
    assert not sample_dir.outbox.exists() or not any(sample_dir.outbox.iterdir())
    result, _ = _tick(instance, cursor)  # the channel is back (outbox): pending ones go out
    retried = stored_warnings(sample_dir)
    assert [w[0] for w in retried] == [w[0] for w in failed]
    assert all(n and a == 2 and err is None for _, n, a, err in retried)
    # one digest per unit holds all of that unit's warnings, and the tick says so
    messages = len(list(sample_dir.outbox.iterdir()))
    assert messages == len(warned_units(sample_dir)) < len(retried)
    assert f"送达 {len(retried)} 条（{messages} 条消息），待重试 0 条" in result.skip_message


def test_inbox_sensor_requests_the_months_a_late_file_touches(catalog, data_dir, instance):
    write_rows(data_dir.inbox / "late.xlsx", [["JC", "", "2026-08", "HT_VA", "", 1, 10, ""],
                                               ["JC", "", "2025-09", "HT_VA", "", 1, 10, ""]])
    resources = {"kj_data": KJDataResource(root=str(data_dir.root))}
    ctx = dg.build_sensor_context(instance=instance, resources=resources)
    requests = inbox_sensor(ctx)
    months = {r.partition_key for r in requests}
    assert {"2025-09", "2026-08", "2026-09"} <= months  # 2026-09: growth over 2025-09
    assert inbox_run_requests([("ab" * 32, ["2025-09", "2026-08"])], "2026-10")[-1].partition_key \
        == "2026-09"
    assert all(r.run_key.startswith("inbox:") for r in requests)
    again = inbox_sensor(dg.build_sensor_context(instance=instance, resources=resources,
                                                 cursor=ctx.cursor))
    assert isinstance(again, dg.SkipReason)


def test_inbox_requests_for_a_file_with_no_usable_month():
    requests = inbox_run_requests([("ab" * 32, [])], "2026-10")
    assert [r.partition_key for r in requests] == ["2026-10"]


@pytest.mark.parametrize(("name", "tick", "partition"), [
    ("monthly_review_schedule", dt.datetime(2026, 11, 10, 8, 0, tzinfo=TZ), "2026-10"),
    ("monthly_review_schedule", dt.datetime(2027, 1, 10, 8, 0, tzinfo=TZ), "2026-12"),
    ("weekly_consultation_schedule", dt.datetime(2026, 11, 23, 8, 30, tzinfo=TZ), "2026-11-16"),
    ("quarterly_analysis_schedule", dt.datetime(2026, 10, 15, 8, 0, tzinfo=TZ), "2026-07"),
    ("quarterly_analysis_schedule", dt.datetime(2027, 1, 15, 8, 0, tzinfo=TZ), "2026-10"),
    ("annual_evaluation_schedule", dt.datetime(2027, 1, 31, 8, 0, tzinfo=TZ), "2026"),
])
def test_schedule_run_request_for_a_tick(catalog, sample_dir, name, tick, partition):
    defs = build_defs(catalog)
    schedule = defs.resolve_schedule_def(name)
    assert schedule.execution_timezone == "Asia/Shanghai"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    context = dg.build_schedule_context(
        scheduled_execution_time=tick, repository_def=defs.get_repository_def(),
        resources={"kj_data": KJDataResource(root=str(sample_dir.root))})
    [run] = schedule.evaluate_tick(context).run_requests
    assert run.partition_key == partition
    job = defs.resolve_job_def(schedule.job_name)
    assert partition in job.partitions_def.get_partition_keys(
        current_time=tick + dt.timedelta(days=1))


@pytest.mark.parametrize(("name", "tick", "why"), [
    ("quarterly_analysis_schedule", dt.datetime(2019, 1, 15, 8, 0, tzinfo=TZ), "之前"),
    ("annual_evaluation_schedule", dt.datetime(2019, 1, 31, 8, 0, tzinfo=TZ), "之前"),
    ("quarterly_analysis_schedule", dt.datetime(2020, 4, 15, 8, 0, tzinfo=TZ), "没有年度目标清单"),
    ("annual_evaluation_schedule", dt.datetime(2021, 1, 31, 8, 0, tzinfo=TZ), "没有年度目标清单"),
])
def test_schedule_skips_a_period_before_the_first(catalog, sample_dir, name, tick, why):
    """A region's first months: the tick says why it skips instead of requesting a run that
    would fail on a partition that does not exist, or a year whose target list is missing."""
    shutil.rmtree(sample_dir.plans / "2020")
    defs = build_defs(catalog)
    context = dg.build_schedule_context(
        scheduled_execution_time=tick, repository_def=defs.get_repository_def(),
        resources={"kj_data": KJDataResource(root=str(sample_dir.root))})
    result = defs.resolve_schedule_def(name).evaluate_tick(context)
    assert not result.run_requests
    assert why in result.skip_message


def test_monthly_schedule_follows_the_configured_deadline(catalog, data_dir):
    import dataclasses

    assert len(build_schedules(15)) == 4
    defs = build_defs(dataclasses.replace(catalog, submission_deadline_day=15))
    assert defs.resolve_schedule_def("monthly_review_schedule").cron_schedule == "0 8 15 * *"


def test_sample_catalog_copies_are_not_shared(sample_dir, small_sample):
    assert sample_dir.root != small_sample
    shutil.rmtree(sample_dir.inbox)
    assert (small_sample / "inbox").exists()


def test_october_projects_every_unit_and_warns_ahead_in_one_digest_per_unit(
        catalog, reviewed_copy, instance):
    """monthly_review 2026-10: a projection for every unit with a target of every monthly
    indicator; a projected miss for a unit still green; one message per unit, its list
    reminders of the day in the same message as its indicator warnings."""
    import duckdb

    sample_dir = reviewed_copy
    lookback_forever(sample_dir)
    con = duckdb.connect(str(sample_dir.warehouse), read_only=True)
    monthly = {c for c, i in catalog.indicators.items() if i.frequency == "monthly"}
    judged = {(i, u) for i, u in con.execute(
        """SELECT indicator, unit FROM mart.indicator_progress
           WHERE period = '2026-10' AND actual IS NOT NULL
             AND target IS NOT NULL""").fetchall() if i in monthly}
    projected = set(con.execute("""SELECT indicator, unit FROM mart.indicator_projection
                                   WHERE period = '2026-10'""").fetchall())
    con.close()
    # every unit with a target and a figure, of every monthly indicator
    assert judged and projected == judged
    _materialize(instance, "2026-10")
    _tick(instance)
    con = duckdb.connect(str(sample_dir.warehouse), read_only=True)
    green_ahead = con.execute("""
        SELECT count(*) FROM mart.warnings w JOIN mart.indicator_progress p
          ON p.period = w.period AND p.indicator = w.indicator AND p.unit = w.unit
        WHERE w.level = 'projected_miss' AND p.status = 'green'""").fetchone()[0]
    units = con.execute("SELECT count(DISTINCT unit) FROM mart.warnings WHERE notified"
                        ).fetchone()[0]
    digests = con.execute("SELECT count(DISTINCT digest_id) FROM mart.warnings WHERE notified"
                          ).fetchone()[0]
    both = con.execute("""SELECT count(*) FROM (SELECT digest_id FROM mart.warnings
                          GROUP BY digest_id
                          HAVING bool_or(kind IN ('behind', 'missing', 'projected'))
                             AND bool_or(kind IN ('milestone', 'project', 'problem',
                                                  'supervision')))""").fetchone()[0]
    con.close()
    assert green_ahead >= 1
    assert units == digests == len(list(sample_dir.outbox.iterdir()))
    assert both >= 1  # a unit with warnings and reminders gets them in one message
