"""月调度 report: the month's dispatch document, one Excel workbook the bureau prints and hands on.

Sheets: 总览 (every indicator at the top level: actual, plan, target, status, how many units
are behind), 分单位进度 (every unit and level, worst first), 挂图作战 (a native Excel line chart
per indicator: planned against actual by month, with the year's target line), 重点任务, 重大项目,
下月节点 (milestones due next month), 问题协调 (problems still open) and 督办清单.

Plain Python over frames the caller reads from the warehouse; the same frames give the same
bytes (fixed workbook timestamps), so a backfilled month regenerates its report identically.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from kj_pipelines.catalog.model import DISTRICT, Catalog
from kj_pipelines.core.periods import add_months, month_end, parse_month
from kj_pipelines.excel.printing import (
    AMOUNT,
    WHOLE_AMOUNT,
    Column,
    cell_value,
    mark_whole,
    print_setup,
    write_table,
)
from kj_pipelines.excel.writing import save_workbook, write_text
from kj_pipelines.indicators.status import (
    RULE_NOTE,
    STATUS_LABEL,
    is_incomplete,
    month_counts,
    status_label,
    status_rule,
    status_rules,
    worst_first,
)
from kj_pipelines.worklists.tables import (
    Table,
    open_problems,
    problems_table,
    projects_table,
    region,
    supervision_table,
    tasks_table,
    unit_label,
)

if TYPE_CHECKING:
    from openpyxl import Workbook

# openpyxl is imported where a workbook is written: the definitions load without it

SERIES_COLUMNS = ["indicator", "month", "planned", "actual", "target"]


@dataclass
class MonthInputs:
    """What the month's documents are made of, as the warehouse holds it for ``period``."""

    period: str
    progress: pd.DataFrame  # mart.indicator_progress of the month, every unit and level
    series: pd.DataFrame  # SERIES_COLUMNS: the top's plan and actual by month of the year
    tasks: pd.DataFrame
    milestones: pd.DataFrame
    projects: pd.DataFrame
    problems: pd.DataFrame
    supervision: pd.DataFrame


def month_series(plan: pd.DataFrame, progress: pd.DataFrame, period: str) -> pd.DataFrame:
    """The top's planned value for each month of the year (``plan``: mart.indicator_plan rows)
    and its actual for each month up to ``period`` whose figure is that month's own
    (``progress``: mart.indicator_progress rows of the year)."""
    year = parse_month(period)[0]
    top = plan[(plan["unit"] == DISTRICT) & (plan["year"] == year)]
    own = progress[(progress["unit"] == DISTRICT) & (progress["period"] <= period)
                   & (progress["as_of"].isna() | (progress["as_of"] == progress["period"]))]
    # a month still waiting for units is drawn at its estimate, not a collapsing partial sum
    estimate = own["estimate"] if "estimate" in own.columns else own["actual"]
    waiting = [is_incomplete(s, m) for s, m in zip(
        own["status"], own["missing_units"] if "missing_units" in own.columns
        else [0] * len(own), strict=True)]
    actual = {(i, parse_month(p)[1]): (e if w and pd.notna(e) else a) for i, p, a, e, w in zip(
        own["indicator"], own["period"], own["actual"], estimate, waiting, strict=True)}
    out = top.assign(actual=[actual.get((i, m)) for i, m in zip(top["indicator"], top["month"],
                                                                  strict=True)])
    return out[SERIES_COLUMNS].sort_values(["indicator", "month"]).reset_index(drop=True)


def overview_frame(progress: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """One row per indicator: the top's figures and the count of units red, yellow, missing."""
    rows = []
    for code, ind in catalog.indicators.items():
        group = progress[progress["indicator"] == code]
        top = group[group["unit"] == DISTRICT]
        units = group[group["unit"] != DISTRICT]["status"].value_counts()
        row = top.iloc[0] if not top.empty else None
        waiting = row is not None and is_incomplete(row["status"], row.get("missing_units"))
        rows.append({
            "indicator": code, "指标": ind.name, "计量单位": ind.measure,
            "责任部门": unit_label(catalog, ind.department),
            "实际": row["actual"] if row is not None else None,
            "计划": row["planned"] if row is not None else None,
            "年度目标": row["target"] if row is not None else None,
            "完成率%": row["completion"] if row is not None else None,
            "计划进度%": row["planned_share"] if row is not None else None,
            "差距": row["gap"] if row is not None else None,
            "状态": status_label(row["status"], row.get("missing_units")) if row is not None
            else "无目标",
            "判灯规则": status_rule(ind),
            # a total still waiting for units: the estimate beside it, never its status
            "估算": row.get("estimate") if waiting else None,
            "估算状态": STATUS_LABEL.get(row.get("estimate_status"), "") if waiting else "",
            "缺报下级": _names(catalog, row.get("missing_list")) if waiting else "",
            "截至": (row["as_of"] if row is not None and isinstance(row["as_of"], str)
                   else (row["period"] if row is not None else "")),
            "红灯单位": int(units.get("red", 0)), "黄灯单位": int(units.get("yellow", 0)),
            "缺报单位": int(units.get("grey", 0)),
        })
    return mark_whole(pd.DataFrame(rows), catalog.counted())


def _names(catalog: Catalog, codes: object) -> str:
    """Unit codes as stored (``GS,JLH``) as the names a reader knows."""
    if not isinstance(codes, str) or not codes:
        return ""
    return "、".join(catalog.unit_name(c) for c in codes.split(","))


def units_frame(progress: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    rows = worst_first(progress[progress["unit"] != DISTRICT])
    missing = rows["missing_units"] if "missing_units" in rows.columns \
        else pd.Series(0, index=rows.index)
    return mark_whole(rows, catalog.counted()).assign(
        指标=[catalog.indicators[c].name if c in catalog.indicators else c
              for c in rows["indicator"]],
        单位=[catalog.level_label(u) for u in rows["unit"]],
        层级=[catalog.kind_name(u) for u in rows["unit"]],
        状态=[status_label(s, m) for s, m in zip(rows["status"], missing, strict=True)],
        判灯规则=status_rules(catalog, rows["indicator"]))


def next_month_milestones(milestones: pd.DataFrame, catalog: Catalog, period: str
                          ) -> pd.DataFrame:
    nxt = add_months(period, 1)
    due = pd.to_datetime(milestones["due"])
    rows = milestones[(due.dt.strftime("%Y-%m") == nxt) & (milestones["status"] != "done")]
    return rows.sort_values(["due", "task_code"]).assign(
        牵头单位=[unit_label(catalog, u) for u in rows["lead_unit"]])


def write_monthly_report(path: Path, catalog: Catalog, inputs: MonthInputs) -> Path:
    from openpyxl import Workbook
    period, year = inputs.period, parse_month(inputs.period)[0]
    month = parse_month(period)[1]
    date = str(month_end(period))
    title = f"{region(catalog)}{year}年{month}月科技创新工作月调度报告"
    wb = Workbook()
    overview = overview_frame(inputs.progress, catalog)
    top = catalog.top_label
    write_table(wb.active, title, [
        Column("指标", "指标", 36), Column("计量单位", "计量单位", 8),
        Column(f"{top}实际", "实际", 12, "#,##0.00"), Column("计划", "计划", 12, "#,##0.00"),
        Column("年度目标", "年度目标", 12, "#,##0.00"), Column("完成率%", "完成率%", 9, "0.0"),
        Column("计划进度%", "计划进度%", 9, "0.0"), Column("差距(百分点)", "差距", 10, "0.0"),
        Column("状态", "状态", 8), Column("判灯规则（差距，百分点）", "判灯规则", 23),
        Column("截至", "截至", 9), Column(f"红灯单位（不含{top}）", "红灯单位", 8),
        Column(f"黄灯单位（不含{top}）", "黄灯单位", 8), Column(f"缺报单位（不含{top}）", "缺报单位", 8),
        Column(f"{top}估算（缺报按上期结转）", "估算", 12, "#,##0.00"),
        Column("估算状态", "估算状态", 8), Column("待报单位", "缺报下级", 20),
        Column("责任部门", "责任部门", 20)],
        overview, data_date=date, source=catalog.sources("年度目标清单"), status_key="状态",
        sheet_name="总览", note=RULE_NOTE, summary=[
            ("指标", len(overview)), *month_counts(inputs.progress, top).items()])
    write_table(wb.create_sheet(), f"{title}·分单位进度", [
        Column("状态", "状态", 8), Column("指标", "指标", 34), Column("单位", "单位", 18),
        Column("层级", "层级", 12), Column("实际", "actual", 12, "#,##0.00"),
        Column("计划", "planned", 12, "#,##0.00"), Column("年度目标", "target", 12, "#,##0.00"),
        Column("完成率%", "completion", 9, "0.0"), Column("差距(百分点)", "gap", 10, "0.0"),
        Column("判灯规则（差距）", "判灯规则", 23), Column("缺报下级", "missing_units", 8)],
        units_frame(inputs.progress, catalog), data_date=date, source=catalog.sources(),
        status_key="状态", sheet_name="分单位进度")
    _chart_sheet(wb, catalog, inputs.series, f"{title}·挂图作战", date, month)
    for name, table in (("重点任务", tasks_table(inputs.tasks, catalog, year)),
                        ("重大项目", projects_table(inputs.projects, catalog, year))):
        _table_sheet(wb, name, table, date)
    write_table(wb.create_sheet(), f"{title}·下月节点", [
        Column("任务代码", "task_code", 10), Column("节点", "milestone", 40),
        Column("时限", "due", 12), Column("牵头单位", "牵头单位", 20)],
        next_month_milestones(inputs.milestones, catalog, period), data_date=date,
        source="重点任务攻坚表", sheet_name="下月节点")
    problems = problems_table(open_problems(inputs.problems), catalog)
    problems.title = f"{problems.title}（需协调事项）"
    _table_sheet(wb, "问题协调", problems, date)
    _table_sheet(wb, "督办清单", supervision_table(inputs.supervision, catalog), date)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_workbook(wb, path)
    return path


def _table_sheet(wb: Workbook, name: str, table: Table, date: str) -> None:
    write_table(wb.create_sheet(), table.title, table.columns, table.frame, data_date=date,
                source=table.source, status_key=table.status_key,
                summary=table.summary or None, sheet_name=name)


CHART_ROWS = 16  # rows each indicator's block takes: a title, the header, 12 months, space


def _chart_sheet(wb: Workbook, catalog: Catalog, series: pd.DataFrame, title: str, date: str,
                 month: int) -> None:
    """Per indicator, a small table (month, plan, actual, target) and a line chart beside it."""
    from openpyxl.chart import LineChart, Reference
    from openpyxl.styles import Font
    ws = wb.create_sheet("挂图作战")
    ws["A1"] = title
    ws["A1"].font = Font(bold=True, size=16)
    ws["A2"] = (f"数据截至：{date}　　计划为倒排工期的月度进度，实际为当月累计（存量、比重为期末数）；"
                "缺报单位未齐的月份，实际为估算（缺报单位按其最近一期数结转）")
    ws["A2"].font = Font(size=11, color="555555")
    for col, width in zip("ABCDE", (8, 12, 12, 12, 2), strict=True):
        ws.column_dimensions[col].width = width
    row = 4
    for code, ind in catalog.indicators.items():
        rows = series[series["indicator"] == code].sort_values("month")
        if rows.empty:
            continue
        write_text(ws.cell(row=row, column=1), f"{ind.name}（{ind.measure}）")
        ws.cell(row=row, column=1).font = Font(bold=True)
        for col, head in enumerate(("月份", "计划", "实际", "年度目标"), start=1):
            ws.cell(row=row + 1, column=col, value=head).font = Font(bold=True)
        for i, r in enumerate(rows.itertuples(index=False), start=row + 2):
            ws.cell(row=i, column=1, value=f"{r.month}月")
            for col, value in ((2, r.planned), (3, r.actual), (4, r.target)):
                cell = ws.cell(row=i, column=col, value=cell_value(value))
                cell.number_format = WHOLE_AMOUNT if catalog.is_count(ind) else AMOUNT
        chart = LineChart()
        chart.title = ind.name
        chart.y_axis.title = ind.measure
        chart.height, chart.width = 7.0, 16.0
        first, last = row + 1, row + 1 + len(rows)
        chart.add_data(Reference(ws, min_col=2, max_col=4, min_row=first, max_row=last),
                       titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=first + 1, max_row=last))
        planned, actual, target = chart.series
        for line in chart.series:  # straight lines: a smoothed count overshoots and dips below 0
            line.smooth = False
        planned.graphicalProperties.line.dashStyle = "dash"
        planned.graphicalProperties.line.solidFill = "7F7F7F"
        target.graphicalProperties.line.solidFill = "C00000"
        actual.graphicalProperties.line.solidFill = "1565C0"
        actual.graphicalProperties.line.width = 28575
        ws.add_chart(chart, f"F{row}")
        row += CHART_ROWS
    print_setup(ws, title, date)
    ws.print_area = f"A1:P{max(row, 4)}"
