"""The lists' work between the warehouse and the domain: what the list sheets are checked against
(plans and the problem ledger), where their accepted rows are stored, and each list's state at a
month's end, computed from the facts of that month and before (so a past month reruns the same).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from kj_pipelines.catalog.model import Catalog
from kj_pipelines.core.periods import add_months, month_end, months_between, parse_month
from kj_pipelines.excel.printing import Column, write_list_report
from kj_pipelines.indicators.progress import red_streak
from kj_pipelines.indicators.status import month_counts
from kj_pipelines.storage.warehouse import query, table_columns
from kj_pipelines.worklists import ledger as lg
from kj_pipelines.worklists.state import (
    Calendar,
    indicator_item_id,
    project_snapshot,
    responsibilities,
    supervision_causes,
    supervision_ledger,
    task_snapshot,
)
from kj_pipelines.worklists.status import LIST_STATUS_MARK, worst_list_first
from kj_pipelines.worklists.tables import (
    Table,
    problems_table,
    projects_table,
    supervision_table,
    targets_table,
    tasks_table,
)

PLAN_TABLES = {"tasks": "core.task_plan", "milestones": "core.task_milestones",
               "projects": "core.project_plan", "project_milestones": "core.project_milestones",
               "feedback": "core.supervision_feedback"}
STREAK_CAP = 24  # months of red streak a supervision item's title counts
# the ledger replays every move stored by its date, whichever file brought it and whenever
# (a 确认销号 that came before the 已办结 it follows takes effect once that is reported); on one
# day, in the order they were applied (``seq``; events stored before it in file order)
_EVENT_ORDER = 'ORDER BY event_date, seq NULLS FIRST, received_at, source_file, sheet, "row"'


def calendar(catalog: Catalog) -> Calendar:
    return Calendar(catalog.holidays, catalog.lists.at_risk_workdays)


def ledger_events(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every accepted problem event in the order it was accepted (a legal sequence)."""
    # a warehouse opened read-only before its upgrade (kj validate, kj template) has no seq yet
    order = _EVENT_ORDER if "seq" in table_columns(conn, "raw.problem_events") \
        else 'ORDER BY event_date, received_at, source_file, sheet, "row"'
    return query(conn, f"SELECT * FROM raw.problem_events {order}")


def stored_ledger(conn: duckdb.DuckDBPyConnection) -> dict[str, lg.Problem]:
    """The problem ledger as the warehouse holds it: its accepted events replayed."""
    ledger, _ = lg.replay(lg.events_from_frame(ledger_events(conn)))
    return ledger


@dataclass
class ListData:
    """Everything the lists are computed from, loaded once for a run."""

    plans: dict[str, pd.DataFrame]
    task_progress: pd.DataFrame
    project_progress: pd.DataFrame
    events: pd.DataFrame
    # a month's supervision causes and the indicator items judged that month, computed once per
    # run (a range replays overlapping months)
    causes: dict[str, tuple[list, set[str]]] = field(default_factory=dict)

    @classmethod
    def load(cls, conn: duckdb.DuckDBPyConnection) -> ListData:
        plans = {attr: query(conn, f"SELECT * FROM {table}") for attr, table in PLAN_TABLES.items()}
        order = 'ORDER BY period, submitted_at, received_at, "row"'
        return cls(plans, query(conn, f"SELECT * FROM raw.task_progress {order}"),
                   query(conn, f"SELECT * FROM raw.project_progress {order}"),
                   ledger_events(conn))

    def of_year(self, attr: str, year: int) -> pd.DataFrame:
        frame = self.plans[attr]
        return frame[frame["year"] == year]


def _reported(frame: pd.DataFrame, period: str) -> pd.DataFrame:
    """Rows reported for the period's year, for months up to the period."""
    return frame[(frame["period"] <= period) & (frame["period"] >= f"{period[:4]}-01")]


def tasks_at(data: ListData, period: str, cal: Calendar) -> tuple[pd.DataFrame, pd.DataFrame]:
    year = parse_month(period)[0]
    return task_snapshot(data.of_year("tasks", year), data.of_year("milestones", year),
                         _reported(data.task_progress, period), month_end(period), cal)


def projects_at(data: ListData, period: str, cal: Calendar,
                catalog: Catalog) -> tuple[pd.DataFrame, pd.DataFrame]:
    year = parse_month(period)[0]
    return project_snapshot(data.of_year("projects", year),
                            data.of_year("project_milestones", year),
                            _reported(data.project_progress, period), period, month_end(period),
                            cal, catalog.lists.project_yellow, catalog.lists.project_red)


def problems_at(data: ListData, period: str, cal: Calendar, catalog: Catalog) -> pd.DataFrame:
    """The ledger as reported through the month: events of periods up to it, dated by its end."""
    as_of = month_end(period)
    events = data.events[(data.events["period"] <= period)]
    events = events[pd.to_datetime(events["event_date"]).dt.date <= as_of]
    ledger, _ = lg.replay(lg.events_from_frame(events))
    days = catalog.lists.problem_due_workdays
    return lg.snapshot(ledger, as_of,
                       lambda p: lg.problem_due(p, days, cal.add_workdays), cal.effective)


def responsibilities_at(data: ListData, period: str, catalog: Catalog) -> pd.DataFrame:
    year = parse_month(period)[0]
    return responsibilities(catalog, data.of_year("tasks", year), data.of_year("projects", year))


def supervision_at(conn: duckdb.DuckDBPyConnection, data: ListData, period: str,
                   catalog: Catalog) -> pd.DataFrame:
    """Replay the causes month by month from January of the year before, so items carry their
    opening date and reopen when a cause comes back."""
    cal = calendar(catalog)
    year = parse_month(period)[0]
    start = f"{year - 1}-01"
    escalate = catalog.escalate_after_red_months
    progress = query(conn, """SELECT period, indicator, unit, status FROM mart.indicator_progress
                              WHERE period BETWEEN ? AND ?""",
                     [add_months(start, -STREAK_CAP), period])
    months = []
    for month in months_between(start, period):
        if month not in data.causes:
            of_month = progress[progress["period"] == month]
            red = of_month[of_month["status"] == "red"]
            # a figure not reported (grey, or no row before the deadline) is not judged: an
            # item on it neither opens nor closes as 原因消除 that month
            seen = of_month[of_month["status"].isin(["green", "yellow", "red", "done"])]
            judged = {indicator_item_id(i, u) for i, u in zip(seen["indicator"], seen["unit"],
                                                               strict=True)}
            # capped, so a month's causes read the same from any run's window
            streaks = {(r.indicator, r.unit): min(red_streak(progress, r.indicator, r.unit,
                                                             month), STREAK_CAP)
                       for r in red.itertuples(index=False)}
            _, milestones = tasks_at(data, month, cal)
            projects, _ = projects_at(data, month, cal, catalog)
            problems = problems_at(data, month, cal, catalog)
            data.causes[month] = (supervision_causes(catalog, red, milestones, projects,
                                                     problems, escalate, streaks), judged)
        causes, judged = data.causes[month]
        months.append((month_end(month), causes, judged))
    return supervision_ledger(months, data.plans["feedback"],
                              catalog.lists.supervision_feedback_workdays, cal)


def targets_at(conn: duckdb.DuckDBPyConnection, period: str) -> pd.DataFrame:
    """年度目标清单 of the period's year with each target's latest due figure and status."""
    year = parse_month(period)[0]
    # the latest judged figure of the year; the month's own row gives the target as planned (a
    # target written against last year, 增长20%以上, resolved on last year's actual)
    return query(conn, """
        WITH latest AS (
            SELECT indicator, unit, period AS as_of, actual, completion, status, missing_units,
                   row_number() OVER (PARTITION BY indicator, unit ORDER BY period DESC) AS rn
            FROM mart.indicator_progress WHERE period BETWEEN ? AND ?
                 AND (as_of IS NULL OR as_of = period)
                 AND status IS NOT NULL AND status <> 'pending'),
        planned AS (
            SELECT indicator, unit, any_value(target) AS target FROM mart.indicator_progress
            WHERE period = ? AND target IS NOT NULL GROUP BY indicator, unit)
        SELECT ? AS period, t.year, t.indicator, t.unit, coalesce(t.target, p.target) AS target,
               t.deadline_month, t.department, l.as_of, l.actual, l.completion,
               coalesce(l.status, 'pending') AS status, l.missing_units,
               coalesce(t.target_text, CAST(t.target AS VARCHAR)) AS target_text, t.stretch
        FROM core.annual_targets t
        LEFT JOIN latest l ON l.indicator = t.indicator AND l.unit = t.unit AND l.rn = 1
        LEFT JOIN planned p ON p.indicator = t.indicator AND p.unit = t.unit
        WHERE t.year = ?
        ORDER BY t.indicator, t.unit""", [f"{year}-01", period, period, period, year])


# ── each list's month: its tables' rows, its printed workbook, what its asset shows ─────────

@dataclass
class ListMonth:
    """One month of one list: the report written, its tables' rows (``frames``: table → rows),
    its figures and shown tables (``metadata``: numbers and DataFrames, named as the UI shows
    them) and each check's findings (check → rows, empty when it passes)."""

    report: Path
    frames: dict[str, pd.DataFrame]
    metadata: dict[str, object]
    findings: dict[str, pd.DataFrame] = field(default_factory=dict)


def _unit(catalog: Catalog, code: object) -> str:
    return catalog.unit_name(code) if code else "—"


def _report(reports: Path, period: str, name: str) -> Path:
    return reports / period / f"{name}_{period}.xlsx"


def _export(reports: Path, period: str, name: str, table: Table) -> Path:
    return write_list_report(_report(reports, period, name), table.title, table.columns,
                             table.frame, data_date=str(month_end(period)), source=table.source,
                             status_key=table.status_key, summary=table.summary or None)


def _counts(series: pd.Series, keys: tuple[str, ...]) -> dict[str, int]:
    counts = series.value_counts()
    return {k: int(counts.get(k, 0)) for k in keys}


# ── 年度目标清单 ────────────────────────────────────────────────────────────────────

def targets_list(conn, data, catalog: Catalog, period: str, reports: Path) -> ListMonth:
    frame = targets_at(conn, period).drop(columns="period")
    year = parse_month(period)[0]
    table = targets_table(frame, catalog, year)
    shown = table.frame
    report = _export(reports, period, "年度目标清单", table)
    missing = sorted(set(catalog.indicators) - set(frame["indicator"]))
    return ListMonth(report,
        {"mart.targets": frame},
        {"targets": len(frame), **month_counts(frame, catalog.top_label),
         "list": (shown[["状态", "指标", "单位", "target_text", "as_of", "actual",
                                       "completion"]].rename(columns={
                                           "target_text": "年度目标", "as_of": "截至", "actual": "实际",
                                           "completion": "完成率%"}))},
        {"every_indicator_targeted": pd.DataFrame({"未下达年度目标的指标": [
            catalog.indicators[c].name for c in missing]})})


# ── 责任清单 ──────────────────────────────────────────────────────────────────────

KIND_LABEL = {"indicator": "指标", "task": "重点任务", "project": "重大项目"}


def responsibilities_list(conn, data, catalog: Catalog, period: str,
                             reports: Path) -> ListMonth:
    frame = responsibilities_at(data, period, catalog)
    shown = frame.assign(
        类别=frame["item_kind"].map(KIND_LABEL), 牵头单位=[_unit(catalog, u) for u in frame["lead_unit"]],
        配合单位=["、".join(_unit(catalog, c) for c in str(v).split("、") if c)
              for v in frame["cooperating"]],
        问题=frame["issue"]).sort_values("issue", ascending=False, kind="stable")
    year = parse_month(period)[0]
    report = write_list_report(
        _report(reports, period, "责任清单"), f"{_unit(catalog, 'ALL')}{year}年责任清单",
        [Column("类别", "类别", 10), Column("代码", "item_code", 14), Column("名称", "item_name", 50),
         Column("牵头单位", "牵头单位", 20), Column("配合单位", "配合单位", 36),
         Column("责任人", "official", 24), Column("问题", "问题", 30)],
        shown, data_date=str(month_end(period)), source="单位目录、重点任务攻坚表、重大项目实施表")
    return ListMonth(report,
        {"mart.responsibilities": frame},
        {"items": len(frame), **{f"{k}s": int((frame['item_kind'] == k).sum()) for k in KIND_LABEL},
         "issues": int((frame["issue"] != "").sum()),
         "list": (shown[["问题", "类别", "item_code", "item_name", "牵头单位", "配合单位",
                                       "official"]].rename(columns={
                                           "item_code": "代码", "item_name": "名称",
                                           "official": "责任人"}))},
        {"leads_known": shown.loc[frame["issue"] != "", ["类别", "item_code", "item_name", "问题"]]})


# ── 重点任务攻坚表 ─────────────────────────────────────────────────────────────────

def tasks_list(conn, data, catalog: Catalog, period: str, reports: Path) -> ListMonth:
    tasks, milestones = tasks_at(data, period, calendar(catalog))
    tasks = worst_list_first(tasks)
    year = parse_month(period)[0]
    table = tasks_table(tasks, catalog, year)
    shown = table.frame
    report = _export(reports, period, "重点任务攻坚表", table)
    overdue = milestones[milestones["status"] == "overdue"]
    return ListMonth(report,
        {"mart.tasks": tasks, "mart.milestones": milestones},
        {"tasks": len(tasks), **_counts(tasks["status"], ("done", "on_time", "at_risk", "overdue")),
         "milestones": len(milestones), "milestones_done": int((milestones["status"] == "done").sum()),
         "milestones_overdue": len(overdue),
         "list": (shown.assign(状态=tasks["status"].map(LIST_STATUS_MARK))[[
             "状态", "task_code", "content", "牵头单位", "next_milestone", "due", "节点",
             "progress"]].rename(columns={
                                           "task_code": "任务", "content": "内容", "next_milestone": "下一节点",
                                           "due": "时限", "progress": "进度%"}))},
        {"no_overdue_milestones": overdue.assign(
            牵头单位=[_unit(catalog, u) for u in overdue["lead_unit"]])[
                ["task_code", "milestone", "due", "牵头单位"]],
         "plan_loaded": pd.DataFrame({"说明": [f"{year}年没有重点任务攻坚表"]}) if tasks.empty
         and year >= min(data.plans["tasks"]["year"], default=year + 1) else pd.DataFrame()})


# ── 重大项目实施表 ─────────────────────────────────────────────────────────────────

def projects_list(conn, data, catalog: Catalog, period: str, reports: Path) -> ListMonth:
    projects, milestones = projects_at(data, period, calendar(catalog), catalog)
    projects = worst_list_first(projects)
    table = projects_table(projects, catalog, parse_month(period)[0])
    shown = table.frame
    report = _export(reports, period, "重大项目实施表", table)
    behind = projects[projects["status"].isin(["behind", "overdue"])]
    return ListMonth(report,
        {"mart.projects": projects, "mart.project_milestones": milestones},
        {"projects": len(projects),
         **_counts(projects["status"], ("done", "on_time", "at_risk", "behind", "overdue")),
         "planned_investment": float(projects["planned_investment"].sum()),
         "completed_investment": float(projects["completed_investment"].sum()),
         "list": (shown.assign(状态=projects["status"].map(LIST_STATUS_MARK))[[
             "状态", "project_code", "name", "牵头单位", "planned_investment",
                                       "completed_investment", "gap", "next_milestone", "due"]].rename(
             columns={"project_code": "项目", "name": "名称", "planned_investment": "应完成",
                      "completed_investment": "已完成", "gap": "差距", "next_milestone": "下一节点",
                      "due": "时限"}))},
        {"investment_on_plan": shown.loc[behind.index, ["project_code", "name", "牵头单位", "状态", "gap"]]})


# ── 问题销号进度表 ─────────────────────────────────────────────────────────────────

def problems_list(conn, data, catalog: Catalog, period: str, reports: Path) -> ListMonth:
    problems = problems_at(data, period, calendar(catalog), catalog)
    problems = problems.assign(_closed=problems["state"] == lg.CONFIRMED) \
        .sort_values(["_closed", "overdue", "age_days"], ascending=[True, False, False]) \
        .drop(columns="_closed")
    table = problems_table(problems, catalog)
    shown = table.frame
    report = _export(reports, period, "问题销号进度表", table)
    by_dept = lg.department_summary(problems)
    open_ = problems[problems["state"] != lg.CONFIRMED]
    closed = problems[problems["state"] == lg.CONFIRMED]
    on_time = closed["on_time"].eq(True)
    # the events accepted when they arrived must replay as a legal sequence (anything of those
    # skipped means a tampered table); a move kept only for the replay may stay without effect
    events = lg.events_from_frame(data.events)
    kept = data.events["accepted"].eq(False).to_numpy() if "accepted" in data.events.columns \
        else [False] * len(events)
    only_kept = {id(e) for e, k in zip(events, kept, strict=True) if k}
    _, skipped = lg.replay(events)
    skipped = [(e, err) for e, err in skipped if id(e) not in only_kept]
    return ListMonth(report,
        {"mart.problems": problems},
        {"problems": len(problems), "open": len(open_), "overdue": int(problems["overdue"].sum()),
         "awaiting_confirmation": int((problems["state"] == lg.RESOLVED).sum()),
         "closed": len(closed), "refusals": int(problems["refusals"].sum()),
         "on_time_closure_rate": round(float(on_time.mean() * 100), 1) if len(closed) else 0.0,
         "list": (shown[shown["state"] != lg.CONFIRMED][[
             "超期", "problem_id", "提出单位", "承办部门", "state", "content", "due", "age_days"]].rename(
             columns={"problem_id": "编号", "state": "状态", "content": "内容", "due": "应解决",
                      "age_days": "已历天数"})),
         "by_department": (by_dept.assign(部门=[_unit(catalog, u) for u in by_dept["handler"]])[
             ["部门", "problems", "open", "overdue", "closed", "on_time_rate"]].rename(columns={
                 "problems": "问题数", "open": "未销号", "overdue": "超期", "closed": "已销号",
                 "on_time_rate": "按期销号率%"}))},
        {"no_overdue_problems": shown.loc[problems["overdue"].astype(bool),
                                          ["problem_id", "提出单位", "承办部门", "state", "due"]],
         "ledger_replays_cleanly": pd.DataFrame(
             [{"问题编号": e.problem_id, "单位": e.unit, "状态": e.action, "原因": err.message}
              for e, err in skipped])})


# ── 督办清单 ──────────────────────────────────────────────────────────────────────

def supervision_list(conn, data, catalog: Catalog, period: str, reports: Path) -> ListMonth:
    items = supervision_at(conn, data, period, catalog)
    items = items.assign(_c=items["status"] == "closed").sort_values(
        ["_c", "overdue", "opened_on"], ascending=[True, False, True]).drop(columns="_c")
    table = supervision_table(items, catalog)
    shown = table.frame
    report = _export(reports, period, "督办清单", table)
    open_ = items[items["status"] != "closed"]
    return ListMonth(report,
        {"mart.supervision": items},
        {"items": len(items), "open": len(open_), "reopened": int((items["status"] == "reopened").sum()),
         "closed": int((items["status"] == "closed").sum()), "overdue": int(items["overdue"].sum()),
         "list": (shown[shown["status"] != "closed"][["状态", "来源", "title", "责任单位",
                                                                   "opened_on", "due"]].rename(columns={
             "title": "督办事项", "opened_on": "下派", "due": "反馈时限"}))},
        {"feedback_on_time": shown.loc[items["overdue"].astype(bool), ["督办编号", "title", "责任单位", "due"]]})
