"""Sensors: warnings (behind schedule, 预判预警, the lists' due dates) and late submissions
dropped in the inbox.

Their decisions are plain functions (:mod:`kj_pipelines.alerts.service`, :func:`inbox_run_requests`);
the sensors only read the instance, keep a cursor and hand over.
"""

import hashlib
import json
from collections import Counter
from pathlib import Path

import dagster as dg

from kj_pipelines.alerts.reminders import due_warnings
from kj_pipelines.alerts.service import (
    deliver_pending,
    due_items,
    raise_warnings,
    recent_enough,
    store_warnings,
)
from kj_pipelines.catalog.model import FIRST_PERIOD
from kj_pipelines.core.files import sha256_of
from kj_pipelines.core.periods import add_months, last_complete_month
from kj_pipelines.core.run_workers import DEAD, worker_state
from kj_pipelines.core.run_workers import TAG as WORKER_TAG
from kj_pipelines.core.settings import now_local
from kj_pipelines.defs.jobs import monthly_review
from kj_pipelines.defs.resources import KJDataResource, NotifierResource, WarehouseResource
from kj_pipelines.indicators.acceptance import acceptances_after
from kj_pipelines.intake.inbox import inbox_entries, record_arrival, still_written
from kj_pipelines.intake.submissions import read_submissions
from kj_pipelines.storage.lock import WarehouseBusy
from kj_pipelines.worklists.service import calendar

# A tick waits this long for a run holding the warehouse, then skips and keeps its cursor: the
# next tick (a minute later) picks up where this one would have.
SENSOR_WAIT_SECONDS = 5.0


def busy_reason(exc: WarehouseBusy) -> dg.SkipReason:
    return dg.SkipReason(f"{exc}：本次跳过，游标不动，下次再评估")

PROGRESS_KEY = dg.AssetKey("indicator_progress")
WARNINGS_KEY = dg.AssetKey("warnings")

# mart.warnings is written by the sensors, not by a run: an external asset whose materializations
# the sensors report, so the weekly consultation that reads it has a declared input
warnings_asset = dg.AssetSpec(
    WARNINGS_KEY, group_name="progress", kinds={"duckdb"},
    description="预警记录（mart.warnings）：预警传感器和到期提醒传感器写入的每一条预警、提醒（每条只发一次），"
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
MAX_FILES_PER_TICK = 50
REMEMBERED_HASHES = 2_000


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


def inbox_run_requests(files: list[tuple[str, list[str]]], latest: str,
                       first: str = FIRST_PERIOD) -> list[dg.RunRequest]:
    """One ``monthly_review`` run per month a new file touches (and the month a year later,
    whose growth rate it is the base of); a file with no usable month is ingested with the
    latest month. ``files`` holds (sha256, periods) pairs."""
    requests: dict[str, dg.RunRequest] = {}
    for sha, periods in files:
        months = {p for p in periods if first <= p <= latest}
        months |= {add_months(p, 12) for p in months if add_months(p, 12) <= latest}
        for month in sorted(months or {latest}):
            key = f"inbox:{sha[:16]}:{month}"
            requests.setdefault(month, dg.RunRequest(
                partition_key=month, run_key=key,
                tags={"kj/trigger": "inbox", "kj/file_sha256": sha[:16]}))
    return list(requests.values())


@dg.sensor(
    name="inbox_sensor",
    job=monthly_review,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="填报到达：inbox/ 中出现新文件（按SHA-256识别）时，为其涉及的月份重跑月调度，迟报的历史月份也自动重算。",
)
def inbox_sensor(context: dg.SensorEvaluationContext, kj_data: KJDataResource):
    seen: list[str] = json.loads(context.cursor) if context.cursor else []
    known = set(seen)
    catalog = kj_data.catalog()
    now = now_local()
    today = now.date()
    inbox = kj_data.paths.inbox
    new: list[tuple[str, Path]] = []
    files, odd = inbox_entries(inbox)
    unreadable: list[str] = []
    for path in files[:MAX_FILES_PER_TICK]:
        if still_written(path):
            continue  # a copy in progress: the next tick
        try:
            sha = sha256_of(path)
        except OSError:
            # unreadable (permissions) or moved to the archive by a run meanwhile: a run
            # quarantines what cannot be read, once
            unreadable.append(f"unreadable:{path.name}:{_inode(path)}")
            continue
        if sha not in known:
            new.append((sha, path))
            # when it reached the inbox: what lateness is judged on (kj_pipelines.intake.inbox)
            record_arrival(inbox, sha, now)
    # a link, a folder, an unreadable file: a run quarantines it (keyed by name and inode)
    oddities = [key for key in unreadable + [f"odd:{p.name}:{_inode(p)}" for p, _ in odd]
                if key not in known]
    results = read_submissions([(path, path.name) for _, path in new], catalog, today)
    found = [(sha, sorted(set(result.accepted["period"])))
             for (sha, _), result in zip(new, results, strict=True)]
    found += [(hashlib.sha256(key.encode()).hexdigest(), []) for key in oddities]
    seen.extend([sha for sha, _ in new] + oddities)
    if not found:
        return dg.SkipReason("inbox/ 中没有新文件")
    context.update_cursor(json.dumps(seen[-REMEMBERED_HASHES:]))
    return inbox_run_requests(found, last_complete_month(today), catalog.first_period)


def acceptance_run_requests(accepted: list, latest: str, first: str = FIRST_PERIOD
                            ) -> list[dg.RunRequest]:
    """One ``monthly_review`` run for each month an acceptance touches: its own, the month
    after (the pair a fall or a jump was judged on) and the month a year later (a growth rate's
    base), as far as the latest complete month."""
    requests: dict[str, dg.RunRequest] = {}
    for a in accepted:
        months = {a.period, add_months(a.period, 1), add_months(a.period, 12)}
        for month in sorted(m for m in months if first <= m <= latest):
            requests.setdefault(month, dg.RunRequest(
                partition_key=month, run_key=f"accept:{a.accepted_id}:{month}",
                tags={"kj/trigger": "accept", "kj/accepted_id": str(a.accepted_id)}))
    return list(requests.values())


@dg.sensor(
    name="acceptance_sensor",
    job=monthly_review,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="暂扣数据确认：科技局用 kj accept 确认某个被暂扣的数属实后，重跑该月（及次月、次年同月）的月调度，"
                "使该数纳入统计。",
)
def acceptance_sensor(context: dg.SensorEvaluationContext, kj_data: KJDataResource,
                      warehouse: WarehouseResource):
    after = int(context.cursor or 0)
    catalog = kj_data.catalog()
    try:
        with warehouse.get_connection(wait=SENSOR_WAIT_SECONDS,
                                      purpose="acceptance_sensor") as conn:
            accepted = acceptances_after(conn, after)
    except WarehouseBusy as exc:
        return busy_reason(exc)
    if not accepted:
        return dg.SkipReason("没有新的确认")
    context.update_cursor(str(max(a.accepted_id for a in accepted)))
    requests = acceptance_run_requests(accepted, last_complete_month(now_local().date()),
                                       catalog.first_period)
    context.log.info(f"确认 {len(accepted)} 个暂扣数，重跑 "
                     f"{', '.join(r.partition_key for r in requests) or '无'}")
    return requests


def _inode(path: Path) -> int:
    try:
        return path.lstat().st_ino
    except OSError:
        return 0


ORPHAN_STATUSES = (dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING)


def orphaned_runs(runs: list, state) -> list[tuple[object, str]]:
    """The runs whose worker a crash ended, with what becomes of each: a STARTED run is failed
    (and retried as the instance's run_retries say), a CANCELING one canceled. ``state``: a
    run's worker tag → alive, dead or unknown (:func:`kj_pipelines.core.run_workers.worker_state`)."""
    out = []
    for run in runs:
        if state(run.tags.get(WORKER_TAG)) != DEAD:
            continue
        out.append((run, "failed" if run.status == dg.DagsterRunStatus.STARTED else "canceled"))
    return out


@dg.sensor(
    name="orphaned_runs_sensor",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="进程中断的运行：主机重启、内存不足被杀、容器或 dg dev 整组进程被终止后，仍显示“运行中”的运行"
                "在其进程已不存在时判为失败（按重试策略自动重跑一次），正在取消的判为已取消，不再占用运行名额。",
)
def orphaned_runs_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    instance = context.instance
    runs = list(instance.get_runs(filters=dg.RunsFilter(statuses=list(ORPHAN_STATUSES)),
                                  limit=200))
    done = []
    for run, verdict in orphaned_runs(runs, worker_state):
        message = ("运行进程已不存在（主机重启、进程被终止或代码服务器重启），判为失败；"
                   "按实例的重试策略重跑" if verdict == "failed"
                   else "运行进程已不存在，取消完成")
        if verdict == "failed":
            instance.report_run_failed(run, message=message)
        else:
            instance.report_run_canceled(run, message=message)
        done.append(f"{run.run_id[:8]} {verdict}")
        context.log.warning(f"run {run.run_id}: {message}")
    return dg.SkipReason(f"检查 {len(runs)} 个运行中的运行；"
                         + (f"处理进程已不存在的：{', '.join(done)}" if done else "均在运行"))
