"""The lists as people read them: Chinese labels, unit names, the columns of the printed table.

One definition per list serves the list's own workbook (``reports/<month>/<名称>_<month>.xlsx``)
and the sheets of the review documents (月调度 report, 周会商 brief), so a list reads the same
wherever it is printed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from kj_pipelines.catalog.model import DISTRICT, Catalog
from kj_pipelines.excel.printing import Column, mark_whole
from kj_pipelines.indicators.status import month_counts, status_label, status_rules
from kj_pipelines.worklists import ledger as lg
from kj_pipelines.worklists.state import item_number
from kj_pipelines.worklists.status import LIST_STATUS_LABEL, SOURCE_LABEL, SUPERVISION_LABEL


@dataclass
class Table:
    """A titled table ready to print: its columns, the labelled rows, where the data came from."""

    title: str
    columns: list[Column]
    frame: pd.DataFrame
    source: str
    status_key: str | None = None
    summary: list[tuple[str, object]] = field(default_factory=list)


def unit_label(catalog: Catalog, code: object) -> str:
    return catalog.unit_name(code) if code else "—"


def region(catalog: Catalog) -> str:
    return catalog.unit_name(DISTRICT)


def targets_table(frame: pd.DataFrame, catalog: Catalog, year: int) -> Table:
    shown = frame.assign(
        指标=[catalog.indicators[c].name if c in catalog.indicators else c for c in frame["indicator"]],
        单位=[unit_label(catalog, u) for u in frame["unit"]],
        状态=[status_label(s, m)
            for s, m in zip(frame["status"], frame["missing_units"]
                            if "missing_units" in frame.columns else [0] * len(frame),
                            strict=True)],
        责任部门=[unit_label(catalog, d) for d in frame["department"]],
        判灯规则=status_rules(catalog, frame["indicator"]))
    order = {"red": 0, "grey": 1, "yellow": 2, "green": 3, "pending": 4, "done": 5}
    shown = mark_whole(shown, catalog.counted()).assign(_o=shown["status"].map(order)).sort_values(
        ["_o", "indicator", "unit"])
    return Table(
        f"{region(catalog)}{year}年度目标清单",
        [Column("指标", "指标", 36), Column("单位", "单位", 20),
         Column("年度目标", "target", 12, "#,##0.00"), Column("目标原文", "target_text", 18),
         Column("截至", "as_of", 10), Column("实际", "actual", 12, "#,##0.00"),
         Column("完成率%", "completion", 10, "0.0"), Column("状态", "状态", 10),
         Column("判灯规则（差距，百分点）", "判灯规则", 23), Column("责任部门", "责任部门", 20)],
        shown, catalog.sources("年度目标清单"), "状态",
        list(month_counts(frame, catalog.top_label).items()))


def tasks_table(tasks: pd.DataFrame, catalog: Catalog, year: int) -> Table:
    shown = tasks.assign(
        状态=tasks["status"].map(LIST_STATUS_LABEL), 牵头单位=[unit_label(catalog, u) for u in tasks["lead_unit"]],
        行动=[catalog.actions[a].name if a in catalog.actions else a for a in tasks["action"]],
        节点=[f"{d}/{n}" for d, n in zip(tasks["milestones_done"], tasks["milestones"], strict=True)])
    return Table(
        f"{region(catalog)}{year}年{catalog.actions_label()}重点任务攻坚表",
        [Column("状态", "状态", 10), Column("任务代码", "task_code", 10), Column("所属行动", "行动", 20),
         Column("任务内容", "content", 56), Column("牵头单位", "牵头单位", 18),
         Column("下一节点", "next_milestone", 26), Column("节点时限", "due", 12),
         Column("节点完成", "节点", 9), Column("进度%", "progress", 8, "0"),
         Column("逾期天数", "days_overdue", 8), Column("进展说明", "note", 30)],
        shown, "重点任务攻坚表、各牵头单位任务进展", "状态",
        [("任务", len(tasks)), ("逾期", int((tasks["status"] == "overdue").sum())),
         ("临期", int((tasks["status"] == "at_risk").sum()))])


def projects_table(projects: pd.DataFrame, catalog: Catalog, year: int) -> Table:
    shown = projects.assign(状态=projects["status"].map(LIST_STATUS_LABEL),
                            牵头单位=[unit_label(catalog, u) for u in projects["lead_unit"]])
    return Table(
        f"{region(catalog)}{year}年科技创新重大项目实施表",
        [Column("状态", "状态", 10), Column("项目代码", "project_code", 10), Column("项目名称", "name", 34),
         Column("牵头单位", "牵头单位", 18), Column("年度计划投资(万元)", "annual_investment", 12, "#,##0"),
         Column("应完成(万元)", "planned_investment", 12, "#,##0"),
         Column("已完成(万元)", "completed_investment", 12, "#,##0"),
         Column("完成率%", "completion", 9, "0.0"), Column("差距(百分点)", "gap", 9, "0.0"),
         Column("下一节点", "next_milestone", 10), Column("节点时限", "due", 12),
         Column("进展说明", "note", 28)],
        shown, "重大项目实施表、各牵头单位项目进展", "状态")


def problems_table(problems: pd.DataFrame, catalog: Catalog) -> Table:
    shown = problems.assign(
        提出单位=[unit_label(catalog, u) for u in problems["raised_by"]],
        承办部门=[unit_label(catalog, u) for u in problems["handler"]],
        超期=["超期" if o else "" for o in problems["overdue"]])
    return Table(
        f"{region(catalog)}问题销号进度表",
        [Column("问题编号", "problem_id", 18), Column("提出单位", "提出单位", 16),
         Column("问题内容", "content", 40), Column("类别", "category", 10),
         Column("承办部门", "承办部门", 18), Column("状态", "state", 10),
         Column("提出日期", "raised_on", 11), Column("应解决日期", "due", 11),
         Column("销号日期", "closed_on", 11), Column("已历天数", "age_days", 8),
         Column("超期", "超期", 6), Column("答复/说明", "reply", 30)],
        shown, f"各{catalog.kinds_label(departments=True)}月度填报“问题清单”", "state")


def supervision_table(items: pd.DataFrame, catalog: Catalog) -> Table:
    shown = items.assign(
        督办编号=[item_number(i) for i in items["item_id"]], 来源=items["source"].map(SOURCE_LABEL),
        责任单位=[unit_label(catalog, u) for u in items["unit"]],
        状态=[("未反馈超期" if o else SUPERVISION_LABEL[s])
            for s, o in zip(items["status"], items["overdue"], strict=True)])
    return Table(
        f"{region(catalog)}督办清单",
        [Column("状态", "状态", 12), Column("督办编号", "督办编号", 30), Column("来源", "来源", 10),
         Column("督办事项", "title", 46), Column("责任单位", "责任单位", 18),
         Column("下派日期", "opened_on", 11), Column("反馈时限", "due", 11),
         Column("销号日期", "closed_on", 11), Column("销号原因", "close_reason", 24),
         Column("重新督办次数", "reopened", 8)],
        shown, "指标进度、重点任务、重大项目、问题销号", "状态")


def open_problems(problems: pd.DataFrame) -> pd.DataFrame:
    """Problems not yet confirmed closed, overdue and oldest first."""
    open_ = problems[problems["state"] != lg.CONFIRMED]
    return open_.sort_values(["overdue", "age_days"], ascending=[False, False])
