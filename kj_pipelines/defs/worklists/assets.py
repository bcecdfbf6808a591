"""The lists (清单) as assets, key ``["list", name]``, monthly like the indicators: 年度目标清单,
责任清单, 六大行动重点任务攻坚表, 科技创新重大项目实施表, 问题销号进度表 and 督办清单, plus
``work_plans``, the bureau's task, project and feedback lists read from ``plans/<year>/``.

Each list asset keeps one snapshot per month in its ``mart`` table (a rerun of a past month
reproduces that month), exports the month's list to ``reports/<period>/`` as the bureau prints it,
and shows it worst first in its metadata with counts the UI plots.
"""


from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

from kj_pipelines.catalog.model import Catalog
from kj_pipelines.core.periods import month_end, parse_month
from kj_pipelines.core.settings import DataPaths, now_local
from kj_pipelines.defs.metadata import markdown_table, partitioned_result
from kj_pipelines.defs.partitions import monthly_partitions
from kj_pipelines.defs.resources import KJDataResource, WarehouseResource
from kj_pipelines.excel.printing import Column, write_list_report
from kj_pipelines.intake.inbox import REJECTION_COLUMNS
from kj_pipelines.intake.planlists import read_plan_lists, write_plans
from kj_pipelines.intake.targets import read_target_lists
from kj_pipelines.storage.warehouse import ensure_schema, replace_rows
from kj_pipelines.worklists import ledger as lg
from kj_pipelines.worklists.service import (
    ListData,
    calendar,
    problems_at,
    projects_at,
    responsibilities_at,
    supervision_at,
    targets_at,
    tasks_at,
)
from kj_pipelines.worklists.state import LIST_STATUS_MARK, worst_list_first
from kj_pipelines.worklists.tables import (
    Table,
    problems_table,
    projects_table,
    supervision_table,
    targets_table,
    tasks_table,
)


@dg.asset(
    group_name="ingestion",
    kinds={"duckdb", "excel"},
    description="年度任务与项目清单：读取 plans/<年份>/ 下局里维护的六大行动重点任务攻坚表（任务、节点、时限）、"
                "科技创新重大项目实施表（分季度计划投资、开工/主体完工/竣工/投产节点）和督办反馈认可表，"
                "写入 core.task_plan 等表；plans/ 下所有清单（含年度目标清单）的问题行进入隔离表。",
)
def work_plans(kj_data: KJDataResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    paths, catalog = kj_data.paths, kj_data.catalog()
    plans = read_plan_lists(paths.plans, catalog)
    targets = read_target_lists(paths.plans, catalog)
    received = now_local()
    rejected = pd.DataFrame(
        [(name, sha, r.sheet, r.row, r.column, r.value, r.reason_code, r.message, received)
         for name, sha, r in plans.rejections]
        + [(name, sha, r.sheet, r.row, r.column, r.value, r.reason_code, r.message,
            received) for name, sha, r in targets.rejections], columns=REJECTION_COLUMNS)
    with warehouse.get_connection() as conn:
        ensure_schema(conn)
        write_plans(conn, plans)
        # the one writer of the plans' quarantine slice (target lists included)
        replace_rows(conn, "quarantine.rejections", rejected, "source_file LIKE 'plans/%'",
                     allow_empty=True)
    per_year = pd.DataFrame({
        "年度": sorted(set(plans.tasks["year"]) | set(plans.projects["year"])),
    })
    per_year["重点任务"] = per_year["年度"].map(plans.tasks.groupby("year").size()).fillna(0)
    per_year["节点"] = per_year["年度"].map(plans.milestones.groupby("year").size()).fillna(0)
    per_year["重大项目"] = per_year["年度"].map(plans.projects.groupby("year").size()).fillna(0)
    return dg.MaterializeResult(metadata={
        "tasks": len(plans.tasks), "milestones": len(plans.milestones),
        "projects": len(plans.projects), "feedback_accepted": len(plans.feedback),
        "rows_rejected": len(rejected),
        "per_year": markdown_table(per_year.astype({c: int for c in per_year.columns})),
        "rejections": markdown_table(rejected[["source_file", "row", "column", "reason_code",
                                               "message"]]),
    })


@dataclass
class ListPeriod:
    """One month of one list: the rows of its tables, metadata, and each check's findings."""

    frames: dict[str, "pd.DataFrame"]
    metadata: dict[str, object]
    findings: dict[str, "pd.DataFrame"] = field(default_factory=dict)


Compute = Callable[["duckdb.DuckDBPyConnection", ListData, Catalog, str, DataPaths], ListPeriod]


@dataclass(frozen=True)
class ListSpec:
    name: str
    description: str
    deps: tuple[str | dg.AssetKey, ...]
    checks: dict[str, tuple[dg.AssetCheckSeverity, str]]
    compute: Compute


def list_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["list", name])


def build_list_asset(spec: ListSpec) -> dg.AssetsDefinition:
    key = list_key(spec.name)

    @dg.asset(
        key=key,
        description=spec.description,
        group_name="lists",
        partitions_def=monthly_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        deps=list(spec.deps),
        check_specs=[dg.AssetCheckSpec(n, asset=key, description=d, blocking=s == dg.AssetCheckSeverity.ERROR)
                     for n, (s, d) in spec.checks.items()],
        kinds={"duckdb", "excel"},
    )
    def _list(context: dg.AssetExecutionContext, kj_data: KJDataResource,
              warehouse: WarehouseResource) -> dg.MaterializeResult:
        catalog = kj_data.catalog()
        periods = list(context.partition_keys)
        results: dict[str, ListPeriod] = {}
        with warehouse.get_connection() as conn:
            ensure_schema(conn)
            data = ListData.load(conn)
            for period in periods:
                result = spec.compute(conn, data, catalog, period, kj_data.paths)
                for table, frame in result.frames.items():
                    replace_rows(conn, table, frame.assign(period=period), "period = ?",
                                 [period])
                results[period] = result
        checks = []
        for name, (severity, _) in spec.checks.items():
            found = {p: r.findings.get(name, pd.DataFrame()) for p, r in results.items()}
            bad = {p: f for p, f in found.items() if not f.empty}
            last = periods[-1]
            shown = bad.get(last, next(iter(bad.values()), pd.DataFrame()))
            checks.append(dg.AssetCheckResult(
                check_name=name, asset_key=key, passed=not bad, severity=severity,
                metadata={"findings": int(sum(len(f) for f in bad.values())),
                          "periods_failing": ", ".join(bad) or "—",
                          "details": markdown_table(shown)}))
        return partitioned_result(
            context, {p: {"period": p, **r.metadata} for p, r in results.items()},
            check_results=checks)

    return _list


def _unit(catalog: Catalog, code: object) -> str:
    return catalog.unit_name(code) if code else "—"


def _report(paths: DataPaths, period: str, name: str) -> Path:
    return paths.reports / period / f"{name}_{period}.xlsx"


def _export(paths: DataPaths, period: str, name: str, table: Table) -> Path:
    return write_list_report(_report(paths, period, name), table.title, table.columns,
                             table.frame, data_date=str(month_end(period)), source=table.source,
                             status_key=table.status_key, summary=table.summary or None)


def _counts(series: "pd.Series", keys: tuple[str, ...]) -> dict[str, int]:
    counts = series.value_counts()
    return {k: int(counts.get(k, 0)) for k in keys}


# ── 年度目标清单 ────────────────────────────────────────────────────────────────────

def compute_targets(conn, data, catalog: Catalog, period: str, paths: DataPaths) -> ListPeriod:
    frame = targets_at(conn, period).drop(columns="period")
    year = parse_month(period)[0]
    table = targets_table(frame, catalog, year)
    shown = table.frame
    order = ("red", "grey", "yellow", "green", "pending", "done")
    report = _export(paths, period, "年度目标清单", table)
    missing = sorted(set(catalog.indicators) - set(frame["indicator"]))
    return ListPeriod(
        {"mart.targets": frame},
        {"targets": len(frame), **_counts(frame["status"], order),
         "report": dg.MetadataValue.path(str(report)),
         "list": markdown_table(shown[["状态", "指标", "单位", "target_text", "as_of", "actual",
                                       "completion"]].rename(columns={
                                           "target_text": "年度目标", "as_of": "截至", "actual": "实际",
                                           "completion": "完成率%"}))},
        {"every_indicator_targeted": pd.DataFrame({"未下达年度目标的指标": [
            catalog.indicators[c].name for c in missing]})})


# ── 责任清单 ──────────────────────────────────────────────────────────────────────

KIND_LABEL = {"indicator": "指标", "task": "重点任务", "project": "重大项目"}


def compute_responsibilities(conn, data, catalog: Catalog, period: str,
                             paths: DataPaths) -> ListPeriod:
    frame = responsibilities_at(data, period, catalog)
    shown = frame.assign(
        类别=frame["item_kind"].map(KIND_LABEL), 牵头单位=[_unit(catalog, u) for u in frame["lead_unit"]],
        配合单位=["、".join(_unit(catalog, c) for c in str(v).split("、") if c)
              for v in frame["cooperating"]],
        问题=frame["issue"]).sort_values("issue", ascending=False, kind="stable")
    year = parse_month(period)[0]
    report = write_list_report(
        _report(paths, period, "责任清单"), f"{_unit(catalog, 'ALL')}{year}年责任清单",
        [Column("类别", "类别", 10), Column("代码", "item_code", 14), Column("名称", "item_name", 50),
         Column("牵头单位", "牵头单位", 20), Column("配合单位", "配合单位", 36),
         Column("责任人", "official", 24), Column("问题", "问题", 30)],
        shown, data_date=str(month_end(period)), source="单位目录、重点任务攻坚表、重大项目实施表")
    return ListPeriod(
        {"mart.responsibilities": frame},
        {"items": len(frame), **{f"{k}s": int((frame['item_kind'] == k).sum()) for k in KIND_LABEL},
         "issues": int((frame["issue"] != "").sum()),
         "report": dg.MetadataValue.path(str(report)),
         "list": markdown_table(shown[["问题", "类别", "item_code", "item_name", "牵头单位", "配合单位",
                                       "official"]].rename(columns={
                                           "item_code": "代码", "item_name": "名称",
                                           "official": "责任人"}))},
        {"leads_known": shown.loc[frame["issue"] != "", ["类别", "item_code", "item_name", "问题"]]})


# ── 重点任务攻坚表 ─────────────────────────────────────────────────────────────────

def compute_tasks(conn, data, catalog: Catalog, period: str, paths: DataPaths) -> ListPeriod:
    tasks, milestones = tasks_at(data, period, calendar(catalog))
    tasks = worst_list_first(tasks)
    year = parse_month(period)[0]
    table = tasks_table(tasks, catalog, year)
    shown = table.frame
    report = _export(paths, period, "重点任务攻坚表", table)
    overdue = milestones[milestones["status"] == "overdue"]
    return ListPeriod(
        {"mart.tasks": tasks, "mart.milestones": milestones},
        {"tasks": len(tasks), **_counts(tasks["status"], ("done", "on_time", "at_risk", "overdue")),
         "milestones": len(milestones), "milestones_done": int((milestones["status"] == "done").sum()),
         "milestones_overdue": len(overdue),
         "report": dg.MetadataValue.path(str(report)),
         "list": markdown_table(shown.assign(状态=tasks["status"].map(LIST_STATUS_MARK))[[
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

def compute_projects(conn, data, catalog: Catalog, period: str, paths: DataPaths) -> ListPeriod:
    projects, milestones = projects_at(data, period, calendar(catalog), catalog)
    projects = worst_list_first(projects)
    table = projects_table(projects, catalog, parse_month(period)[0])
    shown = table.frame
    report = _export(paths, period, "重大项目实施表", table)
    behind = projects[projects["status"].isin(["behind", "overdue"])]
    return ListPeriod(
        {"mart.projects": projects, "mart.project_milestones": milestones},
        {"projects": len(projects),
         **_counts(projects["status"], ("done", "on_time", "at_risk", "behind", "overdue")),
         "planned_investment": float(projects["planned_investment"].sum()),
         "completed_investment": float(projects["completed_investment"].sum()),
         "report": dg.MetadataValue.path(str(report)),
         "list": markdown_table(shown.assign(状态=projects["status"].map(LIST_STATUS_MARK))[[
             "状态", "project_code", "name", "牵头单位", "planned_investment",
                                       "completed_investment", "gap", "next_milestone", "due"]].rename(
             columns={"project_code": "项目", "name": "名称", "planned_investment": "应完成",
                      "completed_investment": "已完成", "gap": "差距", "next_milestone": "下一节点",
                      "due": "时限"}))},
        {"investment_on_plan": shown.loc[behind.index, ["project_code", "name", "牵头单位", "状态", "gap"]]})


# ── 问题销号进度表 ─────────────────────────────────────────────────────────────────

def compute_problems(conn, data, catalog: Catalog, period: str, paths: DataPaths) -> ListPeriod:
    problems = problems_at(data, period, calendar(catalog), catalog)
    problems = problems.assign(_closed=problems["state"] == lg.CONFIRMED) \
        .sort_values(["_closed", "overdue", "age_days"], ascending=[True, False, False]) \
        .drop(columns="_closed")
    table = problems_table(problems, catalog)
    shown = table.frame
    report = _export(paths, period, "问题销号进度表", table)
    by_dept = lg.department_summary(problems)
    open_ = problems[problems["state"] != lg.CONFIRMED]
    closed = problems[problems["state"] == lg.CONFIRMED]
    on_time = closed["on_time"].eq(True)
    # the stored events must replay as a legal sequence; anything skipped means a tampered table
    _, skipped = lg.replay(lg.events_from_frame(data.events))
    return ListPeriod(
        {"mart.problems": problems},
        {"problems": len(problems), "open": len(open_), "overdue": int(problems["overdue"].sum()),
         "awaiting_confirmation": int((problems["state"] == lg.RESOLVED).sum()),
         "closed": len(closed), "refusals": int(problems["refusals"].sum()),
         "on_time_closure_rate": round(float(on_time.mean() * 100), 1) if len(closed) else 0.0,
         "report": dg.MetadataValue.path(str(report)),
         "list": markdown_table(shown[shown["state"] != lg.CONFIRMED][[
             "超期", "problem_id", "提出单位", "承办部门", "state", "content", "due", "age_days"]].rename(
             columns={"problem_id": "编号", "state": "状态", "content": "内容", "due": "应解决",
                      "age_days": "已历天数"})),
         "by_department": markdown_table(by_dept.assign(部门=[_unit(catalog, u) for u in by_dept["handler"]])[
             ["部门", "problems", "open", "overdue", "closed", "on_time_rate"]].rename(columns={
                 "problems": "问题数", "open": "未销号", "overdue": "超期", "closed": "已销号",
                 "on_time_rate": "按期销号率%"}))},
        {"no_overdue_problems": shown.loc[problems["overdue"].astype(bool),
                                          ["problem_id", "提出单位", "承办部门", "state", "due"]],
         "ledger_replays_cleanly": pd.DataFrame(
             [{"问题编号": e.problem_id, "单位": e.unit, "状态": e.action, "原因": err.message}
              for e, err in skipped])})


# ── 督办清单 ──────────────────────────────────────────────────────────────────────

def compute_supervision(conn, data, catalog: Catalog, period: str, paths: DataPaths) -> ListPeriod:
    items = supervision_at(conn, data, period, catalog)
    items = items.assign(_c=items["status"] == "closed").sort_values(
        ["_c", "overdue", "opened_on"], ascending=[True, False, True]).drop(columns="_c")
    table = supervision_table(items, catalog)
    shown = table.frame
    report = _export(paths, period, "督办清单", table)
    open_ = items[items["status"] != "closed"]
    return ListPeriod(
        {"mart.supervision": items},
        {"items": len(items), "open": len(open_), "reopened": int((items["status"] == "reopened").sum()),
         "closed": int((items["status"] == "closed").sum()), "overdue": int(items["overdue"].sum()),
         "report": dg.MetadataValue.path(str(report)),
         "list": markdown_table(shown[shown["status"] != "closed"][["状态", "来源", "title", "责任单位",
                                                                   "opened_on", "due"]].rename(columns={
             "title": "督办事项", "opened_on": "下派", "due": "反馈时限"}))},
        {"feedback_on_time": shown.loc[items["overdue"].astype(bool), ["item_id", "title", "责任单位", "due"]]})


ERROR, WARN = dg.AssetCheckSeverity.ERROR, dg.AssetCheckSeverity.WARN
LIST_SPECS = (
    ListSpec("targets", "年度目标清单（mart.targets）：当年各指标、各单位的年度目标，以及截至本月最近一次应报数据的实际、"
             "完成率和红黄绿灯状态（季度、年度指标取最近到期的数据并注明截至月份）。",
             ("annual_targets", "indicator_progress"),
             {"every_indicator_targeted": (WARN, "目标完整性：目录中的每个指标当年都应下达目标")},
             compute_targets),
    ListSpec("responsibilities", "责任清单（mart.responsibilities）：每个指标、重点任务和重大项目的牵头单位、配合单位和责任人。",
             ("work_plans",),
             {"leads_known": (ERROR, "责任落实：每一项都有牵头单位，且牵头、配合单位都在单位目录中")},
             compute_responsibilities),
    ListSpec("tasks", "六大行动重点任务攻坚表（mart.tasks、mart.milestones）：每项重点任务的节点（时间表、路线图）、"
             "完成情况和状态：完成、正常、临期（下一节点N个工作日内到期未完成）、逾期。",
             ("work_plans", "submission_inbox"),
             {"no_overdue_milestones": (WARN, "节点按期：没有逾期未完成的任务节点"),
              "plan_loaded": (WARN, "已下达当年重点任务攻坚表")},
             compute_tasks),
    ListSpec("projects", "科技创新重大项目实施表（mart.projects）：分季度计划投资与累计完成投资的对比（按指标阈值判断滞后），"
             "开工、主体完工、竣工、投产节点的按期情况。",
             ("work_plans", "submission_inbox"),
             {"investment_on_plan": (WARN, "项目按计划推进：没有投资严重滞后或节点逾期的项目")},
             compute_projects),
    ListSpec("problems", "问题销号进度表（mart.problems，事件历史在 raw.problem_events）：镇街提出诉求→区级部门受理、"
             "办理→办结→提出单位确认销号（或退回重办）；账龄、超期和各部门按期销号率。",
             ("submission_inbox",),
             {"no_overdue_problems": (WARN, "问题按期解决：没有超过期望解决日期仍未销号的问题"),
              "ledger_replays_cleanly": (ERROR, "台账一致：入库的办理记录按顺序重放全部合法")},
             compute_problems),
    ListSpec("supervision", "督办清单（mart.supervision）：由指标红灯（含升级）、逾期任务节点、滞后或逾期的重大项目、"
             "超期问题自动生成；原因消除或局里认可反馈后销号，原因再现则重新督办。",
             (dg.AssetKey(["list", "tasks"]), dg.AssetKey(["list", "projects"]),
              dg.AssetKey(["list", "problems"]), "indicator_progress", "work_plans"),
             {"feedback_on_time": (WARN, "督办反馈按期：没有超过反馈时限仍未销号的督办事项")},
             compute_supervision),
)


def build_list_assets() -> list[dg.AssetsDefinition]:
    return [build_list_asset(spec) for spec in LIST_SPECS]
