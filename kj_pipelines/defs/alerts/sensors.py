"""The alerts' sensor: warnings (behind schedule, 预判预警, figures held, the lists' due dates)
raised from each materialization of the overview, delivered as one digest per unit, and the
``warnings`` asset they are recorded as.

Its decisions are plain functions (:mod:`kj_pipelines.alerts.service`); the sensor only reads the
instance, keeps a cursor and hands over.
"""

from __future__ import annotations

import json
from collections import Counter

import dagster as dg

from kj_pipelines.alerts.reminders import due_warnings
from kj_pipelines.alerts.service import (
    deliver_pending,
    due_items,
    raise_warnings,
    recent_enough,
    store_warnings,
)
from kj_pipelines.core.periods import add_months, last_complete_month
from kj_pipelines.core.settings import now_local
from kj_pipelines.defs.resources import (
    SENSOR_WAIT_SECONDS,
    KJDataResource,
    NotifierResource,
    WarehouseResource,
    busy_reason,
)
from kj_pipelines.storage.lock import WarehouseBusy
from kj_pipelines.worklists.service import calendar

PROGRESS_KEY = dg.AssetKey("indicator_progress")


WARNINGS_KEY = dg.AssetKey("warnings")


# mart.warnings is written by the sensors, not by a run: an external asset whose materializations
# the sensors report, so the weekly consultation that reads it has a declared input
warnings_asset = dg.AssetSpec(
    WARNINGS_KEY, group_name="progress", kinds={"duckdb"},
    description="预警记录（mart.warnings）：进度预警传感器（behind_schedule_sensor）写入的每一条预警和清单到期提醒（每条只发一次），"
                "含送达状态和失败重试次数；周会商清单读取上周新发预警。")


def report_warnings(context: dg.SensorEvaluationContext, new: list, source: str) -> None:
    """Record the sensor's new warnings as a materialization of the ``warnings`` asset."""
    if not new:
        return
    levels = Counter(w.level for w in new)
    context.instance.report_runless_asset_event(dg.AssetMaterialization(
        asset_key=WARNINGS_KEY, description=f"{source}：新增{len(new)}条",
        metadata={"new": len(new), "source": source,
                  **{f"new_{level}": n for level, n in sorted(levels.items())}}))


def parse_cursor(cursor: str | None) -> tuple[int, str]:
    """(the last progress materialization seen, the day the lists were last evaluated); an older
    cursor was the storage id alone."""
    if not cursor:
        return 0, ""
    if cursor.lstrip("-").isdigit():
        return int(cursor), ""
    state = json.loads(cursor)
    return int(state.get("after", 0)), str(state.get("lists_on", ""))


@dg.sensor(
    name="behind_schedule_sensor",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="预判预警与清单提醒：监视进度总览的每次物化，单位转黄、转红、恶化或连续红灯时发出预警，"
                "预计年末完不成（快慢窗口确认）时即使仍为绿灯也提前预警（每个预警只发一次，回落后再次出现只在更严重时重发），"
                "截止后缺报的向单位催报；每天一次按最近一期清单，对重点任务节点、重大项目节点、问题办理和督办反馈"
                "到期前提醒、逾期后预警；同一轮的全部预警和提醒，每个单位只收到一条汇总消息；"
                "季晾晒和年考评结果单独推送；送达失败的下一轮重试。",
)
def behind_schedule_sensor(context: dg.SensorEvaluationContext, kj_data: KJDataResource,
                           warehouse: WarehouseResource,
                           notifier: NotifierResource) -> dg.SkipReason:
    after, lists_on = parse_cursor(context.cursor)
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=PROGRESS_KEY, after_storage_id=after),
        limit=1000, ascending=True).records
    periods = sorted({r.partition_key for r in records if r.partition_key})
    catalog = kj_data.catalog()
    now = now_local()
    today = now.date().isoformat()
    latest = last_complete_month(now.date())
    keep, skipped = recent_enough(periods, latest, catalog.warning_lookback_months)
    try:
        with warehouse.get_connection(wait=SENSOR_WAIT_SECONDS,
                                      purpose="behind_schedule_sensor") as conn:
            new = raise_warnings(conn, catalog, keep, now,
                                 escalate_after=catalog.escalate_after_red_months)
            listed = []
            if lists_on != today:  # the lists change once a month; one evaluation a day
                floor = add_months(latest, -catalog.warning_lookback_months)
                listed = store_warnings(conn, due_warnings(
                    due_items(conn, catalog, floor), now.date(),
                    catalog.lists.reminder_workdays, calendar(catalog)), now)
            # everything raised this tick in one delivery: one message per unit
            sent = deliver_pending(conn, notifier.notifier(), catalog)
    except WarehouseBusy as exc:
        return busy_reason(exc)
    report_warnings(context, new + listed, "behind_schedule_sensor")
    if records:
        after = max(r.storage_id for r in records)
    context.update_cursor(json.dumps({"after": after, "lists_on": today}))
    message = (f"新预警 {len(new)} 条，清单新提醒/预警 {len(listed)} 条，"
               f"送达 {sent.warnings} 条（{sent.messages} 条消息），待重试 {sent.pending} 条；"
               f"评估 {', '.join(keep) or '无'}"
               + (f"；跳过历史月份 {len(skipped)} 个" if skipped else ""))
    context.log.info(message)
    return dg.SkipReason(message)
