"""The lists (清单) as assets, key ``["list", name]``, monthly like the indicators: 年度目标清单,
责任清单, 六大行动重点任务攻坚表, 科技创新重大项目实施表, 问题销号进度表 and 督办清单, plus
``work_plans``, the bureau's task, project and feedback lists read from ``plans/<year>/``.

Each list asset keeps one snapshot per month in its ``mart`` table (a rerun of a past month
reproduces that month), exports the month's list to ``reports/<period>/`` as the bureau prints it,
and shows it worst first in its metadata with counts the UI plots.
"""


from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd

from kj_pipelines.catalog.model import Catalog
from kj_pipelines.core.settings import now_local
from kj_pipelines.defs.metadata import glance_table, markdown_table, partitioned_result
from kj_pipelines.defs.partitions import monthly_partitions
from kj_pipelines.defs.resources import KJDataResource, WarehouseResource
from kj_pipelines.intake.inbox import REJECTION_COLUMNS
from kj_pipelines.intake.planlists import read_plan_lists, write_plans
from kj_pipelines.intake.targets import read_target_lists
from kj_pipelines.storage.warehouse import ensure_schema, replace_rows
from kj_pipelines.worklists.service import (
    ListData,
    ListMonth,
    problems_list,
    projects_list,
    responsibilities_list,
    supervision_list,
    targets_list,
    tasks_list,
)


@dg.asset(
    group_name="ingestion",
    kinds={"duckdb", "excel"},
    description="年度任务与项目清单：读取 plans/<年份>/ 下局里维护的重点任务攻坚表（任务、节点、时限）、"
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


Compute = Callable[["duckdb.DuckDBPyConnection", ListData, Catalog, str, Path], ListMonth]


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
        results: dict[str, ListMonth] = {}
        with warehouse.get_connection() as conn:
            ensure_schema(conn)
            data = ListData.load(conn)
            for period in periods:
                result = spec.compute(conn, data, catalog, period, kj_data.paths.reports)
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
            context, {p: {"period": p, **_metadata(r)} for p, r in results.items()},
            check_results=checks)

    return _list


def _metadata(month: ListMonth) -> dict[str, object]:
    """A list's month as the UI shows it: its figures, its tables (Markdown), its workbook."""
    out: dict[str, object] = {}
    for name, value in month.metadata.items():
        if name == "list":  # the workbook beside the list it prints, its worst rows at a glance
            out["report"] = dg.MetadataValue.path(str(month.report))
            out["一览"] = glance_table(value, full="list")
        out[name] = markdown_table(value) if isinstance(value, pd.DataFrame) else value
    return out


ERROR, WARN = dg.AssetCheckSeverity.ERROR, dg.AssetCheckSeverity.WARN
LIST_SPECS = (
    ListSpec("targets", "年度目标清单（mart.targets）：当年各指标、各单位的年度目标，以及截至本月最近一次应报数据的实际、"
             "完成率和红黄绿灯状态（季度、年度指标取最近到期的数据并注明截至月份）。",
             ("annual_targets", "indicator_progress"),
             {"every_indicator_targeted": (WARN, "目标完整性：目录中的每个指标当年都应下达目标")},
             targets_list),
    ListSpec("responsibilities", "责任清单（mart.responsibilities）：每个指标、重点任务和重大项目的牵头单位、配合单位和责任人。",
             ("work_plans",),
             {"leads_known": (ERROR, "责任落实：每一项都有牵头单位，且牵头、配合单位都在单位目录中")},
             responsibilities_list),
    ListSpec("tasks", "重点任务攻坚表（mart.tasks、mart.milestones）：每项重点任务的节点（时间表、路线图）、"
             "完成情况和状态：完成、正常、临期（下一节点N个工作日内到期未完成）、逾期。",
             ("work_plans", "submission_inbox"),
             {"no_overdue_milestones": (WARN, "节点按期：没有逾期未完成的任务节点"),
              "plan_loaded": (WARN, "已下达当年重点任务攻坚表")},
             tasks_list),
    ListSpec("projects", "科技创新重大项目实施表（mart.projects）：分季度计划投资与累计完成投资的对比（按指标阈值判断滞后），"
             "开工、主体完工、竣工、投产节点的按期情况。",
             ("work_plans", "submission_inbox"),
             {"investment_on_plan": (WARN, "项目按计划推进：没有投资严重滞后或节点逾期的项目")},
             projects_list),
    ListSpec("problems", "问题销号进度表（mart.problems，事件历史在 raw.problem_events）：基层单位提出诉求→责任部门受理、"
             "办理→办结→提出单位确认销号（或退回重办）；账龄、超期和各部门按期销号率。",
             ("submission_inbox",),
             {"no_overdue_problems": (WARN, "问题按期解决：没有超过期望解决日期仍未销号的问题"),
              "ledger_replays_cleanly": (ERROR, "台账一致：入库的办理记录按顺序重放全部合法")},
             problems_list),
    ListSpec("supervision", "督办清单（mart.supervision）：由指标红灯（含升级）、逾期任务节点、滞后或逾期的重大项目、"
             "超期问题自动生成；原因消除或局里认可反馈后销号，原因再现则重新督办。",
             (dg.AssetKey(["list", "tasks"]), dg.AssetKey(["list", "projects"]),
              dg.AssetKey(["list", "problems"]), "indicator_progress", "work_plans"),
             {"feedback_on_time": (WARN, "督办反馈按期：没有超过反馈时限仍未销号的督办事项")},
             supervision_list),
)


def build_list_assets() -> list[dg.AssetsDefinition]:
    return [build_list_asset(spec) for spec in LIST_SPECS]
