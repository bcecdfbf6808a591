"""The submission workbook a unit fills in each month (月度填报表), and its writer.

``kj template`` writes it blank; the sample generator writes it filled, through the same function,
so the sample is exactly what a town would send back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kj_pipelines.catalog.model import DEPARTMENT, DISTRICT, Catalog, Indicator
from kj_pipelines.core.periods import add_months, parse_month
from kj_pipelines.excel.writing import cell_styles, save_workbook, write_text
from kj_pipelines.intake.planlists import read_plan_lists
from kj_pipelines.intake.validation import read_only_ledger
from kj_pipelines.worklists import ledger as lg

HEADER = ["单位代码", "单位名称", "报告期", "指标代码", "指标名称", "计量单位", "本期值", "累计值", "备注"]

if TYPE_CHECKING:
    from openpyxl import Workbook

# openpyxl is imported where a workbook is written: the definitions load without it


@dataclass
class SubmissionRow:
    indicator: Indicator
    period: str
    value: object = None
    cumulative: object = None
    note: str = ""


def due_rows(catalog: Catalog, unit_code: str, period: str) -> list[SubmissionRow]:
    """The rows a unit owes in its workbook for a month (lagged annual figures included)."""
    rows = []
    for ind in catalog.indicators_for_unit(unit_code):
        target_period = add_months(period, -ind.release_lag)
        if parse_month(target_period)[1] in ind.due_months():
            rows.append(SubmissionRow(ind, target_period))
    return rows


@dataclass
class ListSheets:
    """What the list sheets of a unit's workbook carry: rows pre-filled for the unit (its tasks'
    milestones, its projects, its open problems) or, in the sample, filled in."""

    tasks: list[dict] = field(default_factory=list)
    projects: list[dict] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)
    with_tasks: bool = False
    with_projects: bool = False
    with_problems: bool = False
    blank_problem_rows: int = 0
    departments: list[str] = field(default_factory=list)


TASK_HEADER = ["单位代码", "报告期", "任务代码", "任务内容", "节点", "节点时限", "完成日期", "进度（%）", "说明"]
PROJECT_HEADER = ["单位代码", "报告期", "项目代码", "项目名称", "累计完成投资（万元）", "节点", "完成日期",
                  "说明"]
PROBLEM_HEADER = ["单位代码", "报告期", "问题编号", "问题内容", "类别", "承办部门", "期望解决日期",
                  "当前状态", "状态", "日期", "答复/说明"]
PROBLEM_ACTIONS = "提出,受理,办理中,已办结,确认销号,退回"


def _page_setup(ws, protect: bool) -> None:
    """Header row 3 frozen and printed on every page, landscape fitted to the width; only the
    input cells editable when protected."""
    ws.freeze_panes = "A4"
    ws.print_title_rows = "3:3"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if protect:
        ws.protection.sheet = True
        ws.protection.formatColumns = False


def _list_sheet(wb: Workbook, title: str, note: str, header: list[str], rows: list[list],
                widths: tuple[int, ...], inputs: set[int], dates: set[int],
                protect: bool) -> object:
    from openpyxl.styles import Alignment, Font, Protection
    styles = cell_styles()
    ws = wb.create_sheet(title)
    ws["A1"] = title
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = note
    for col, text in enumerate(header, start=1):
        c = ws.cell(row=3, column=col, value=text)
        c.font, c.fill, c.border = Font(bold=True), styles.head_fill, styles.border
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for r, values in enumerate(rows, start=4):
        for col, v in enumerate(values, start=1):
            c = ws.cell(row=r, column=col)
            write_text(c, v)
            c.border = styles.border
            if col in dates:
                c.number_format = "yyyy-mm-dd"
            if col in inputs:
                c.fill, c.protection = styles.input_fill, Protection(locked=False)
    for i, width in enumerate(widths):
        ws.column_dimensions[chr(65 + i)].width = width
    _page_setup(ws, protect)
    return ws


def _choice(ws, options: str, cells: str, title: str) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation
    dv = DataValidation(type="list", formula1=f'"{options}"', allow_blank=True,
                        showErrorMessage=True, errorTitle=title, error=f"请从下拉列表中选择：{options}")
    dv.add(cells)
    ws.add_data_validation(dv)


def _code_choice(ws, codes: list[str], cells: str, title: str) -> None:
    options = ",".join(dict.fromkeys(codes))
    if options and len(options) < 250:  # Excel's limit for an inline list
        _choice(ws, options, cells, title)


def _date_rule(ws, cells: str) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation
    dv = DataValidation(type="date", operator="greaterThan", formula1="36526", allow_blank=True,
                        showErrorMessage=True, errorTitle="请输入日期", error="请填写日期，如2026-03-31")
    dv.add(cells)
    ws.add_data_validation(dv)


def write_list_sheets(wb: Workbook, catalog: Catalog, unit_code: str, period: str,
                      lists: ListSheets, *, protect: bool = True) -> None:
    """任务进展, 项目进展 and 问题清单, each with its instructions, inputs and dropdowns. A row may
    name its own ``unit`` and ``period`` (a workbook carrying several, like any submission)."""
    unit = catalog.units[unit_code]
    if lists.with_tasks:
        rows = [[t.get("unit", unit.code), t.get("period", period), t["task_code"],
                 t.get("content", ""), t["milestone"],
                 t.get("due"), t.get("done_on"), t.get("progress"), t.get("note", "")]
                for t in lists.tasks]
        ws = _list_sheet(wb, "任务进展", "填报说明：本单位牵头的重点任务。某节点本月完成的，填写完成日期；"
                         "进度填任务总体完成百分比；未完成的说明原因和下步措施。", TASK_HEADER, rows,
                         (10, 10, 12, 40, 30, 12, 12, 10, 40), {7, 8, 9}, {6, 7}, protect)
        last = max(4, 3 + len(rows))
        _date_rule(ws, f"G4:G{last}")
        _code_choice(ws, [t["task_code"] for t in lists.tasks], f"C4:C{last}", "任务代码")
    if lists.with_projects:
        rows = [[p.get("unit", unit.code), p.get("period", period), p["project_code"],
                 p.get("name", ""), p.get("invested"),
                 p.get("milestone", ""), p.get("done_on"), p.get("note", "")]
                for p in lists.projects]
        ws = _list_sheet(wb, "项目进展", "填报说明：本单位牵头的重大项目。累计完成投资填年初至本月末累计（万元）；"
                         "本月完成开工、主体完工、竣工、投产节点的，选择节点并填写完成日期。", PROJECT_HEADER,
                         rows, (10, 10, 12, 36, 14, 12, 12, 40), {5, 6, 7, 8}, {7}, protect)
        last = max(4, 3 + len(rows))
        _choice(ws, "开工,主体完工,竣工,投产", f"F4:F{last}", "节点")
        _date_rule(ws, f"G4:G{last}")
        _code_choice(ws, [p["project_code"] for p in lists.projects], f"C4:C{last}", "项目代码")
    if lists.with_problems:
        rows = [[q.get("unit", unit.code), q.get("period", period), q.get("problem_id"),
                 q.get("content", ""), q.get("category", ""),
                 q.get("handler", ""), q.get("wish_date"), q.get("current", ""), q.get("action", ""),
                 q.get("event_date"), q.get("reply", "")] for q in lists.problems]
        rows += [[unit.code, period] + [None] * 9 for _ in range(lists.blank_problem_rows)]
        ws = _list_sheet(
            wb, "问题清单",
            f"填报说明：{catalog.kinds_label().replace('、', '/')}在空白行提出新问题（编号留空，状态选“提出”，"
            f"写明承办{catalog.department_label()}）；承办{catalog.department_label()}依次改为"
            "受理、办理中、已办结（须填答复）；提出单位对已办结的问题选“确认销号”或“退回”（须写理由）。",
            PROBLEM_HEADER, rows, (10, 10, 18, 40, 12, 18, 12, 10, 10, 12, 40),
            {4, 5, 6, 7, 9, 10, 11} if unit.kind != DEPARTMENT else {9, 10, 11}, {7, 10},
            protect)
        last = max(4, 3 + len(rows))
        _choice(ws, PROBLEM_ACTIONS, f"I4:I{last}", "状态")
        if lists.departments and len(",".join(lists.departments)) < 250:
            _choice(ws, ",".join(lists.departments), f"F4:F{last}", "承办部门")
        _date_rule(ws, f"G4:G{last}")
        _date_rule(ws, f"J4:J{last}")


def write_submission(path: Path, catalog: Catalog, unit_code: str, period: str,
                     rows: list[SubmissionRow], *, protect: bool = True,
                     lists: ListSheets | None = None) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, Protection
    from openpyxl.worksheet.datavalidation import DataValidation
    styles = cell_styles()
    unit = catalog.units[unit_code]
    wb = Workbook()
    ws = wb.active
    ws.title = "填报"
    if not rows and lists is not None:
        wb.remove(ws)
        write_list_sheets(wb, catalog, unit_code, period, lists, protect=protect)
        save_workbook(wb, path)
        return
    year, month = parse_month(period)
    ws["A1"] = f"{unit.name} {year}年{month}月 科技创新主要指标填报表"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = (f"填报说明：请于次月{catalog.submission_deadline_day}日前填写黄色单元格；"
                "流量指标填当月值和年初至今累计值，存量与比重指标填期末值；无数据请留空并在备注说明。")
    ws["A2"].alignment = Alignment(wrap_text=False)
    for col, title in enumerate(HEADER, start=1):
        c = ws.cell(row=3, column=col, value=title)
        c.font, c.fill, c.border = Font(bold=True), styles.head_fill, styles.border
        c.alignment = Alignment(horizontal="center", vertical="center")
    for i, row in enumerate(rows, start=4):
        ind = row.indicator
        values = [unit.code, unit.name, row.period, ind.code, ind.name, ind.measure]
        for col, v in enumerate(values, start=1):
            c = ws.cell(row=i, column=col)
            write_text(c, v)
            c.border = styles.border
        for col, v in ((7, row.value), (8, row.cumulative if ind.kind == "flow" else None)):
            c = ws.cell(row=i, column=col, value=v)
            c.border, c.fill = styles.border, styles.input_fill
            c.protection = Protection(locked=False)
            c.number_format = "0" if catalog.is_count(ind) else "0.00"
        c = ws.cell(row=i, column=9)
        write_text(c, row.note)
        c.border, c.fill = styles.border, styles.input_fill
        c.protection = Protection(locked=False)
    last = max(4, 3 + len(rows))
    dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="-1000000",
                        allow_blank=True, showErrorMessage=True,
                        errorTitle="请输入数字", error="本期值、累计值只能填写数字，不要填写文字或占位符")
    dv.add(f"G4:H{last}")
    ws.add_data_validation(dv)
    for col, width in zip("ABCDEFGHI", (10, 22, 10, 16, 40, 9, 12, 12, 30), strict=True):
        ws.column_dimensions[col].width = width
    _page_setup(ws, protect)
    guide = wb.create_sheet("指标说明")
    guide.append(["指标代码", "指标名称", "计量单位", "类型", "口径说明"])
    kinds = {"flow": "累计（流量）", "stock": "期末（存量）", "ratio": "比重/水平", "growth": "同比增速"}
    for row in rows:
        ind = row.indicator
        for cell_value in ([ind.code, ind.name, ind.measure, kinds[ind.kind], ind.definition],):
            guide.append(cell_value)
    for col, width in zip("ABCDE", (16, 40, 9, 14, 70), strict=True):
        guide.column_dimensions[col].width = width
    if lists is not None:
        write_list_sheets(wb, catalog, unit_code, period, lists, protect=protect)
    save_workbook(wb, path)


def template_lists(catalog: Catalog, plans_dir: Path, warehouse: Path, unit: str,
                   period: str) -> tuple[ListSheets, str | None]:
    """The list sheets of a unit's blank workbook: its tasks' milestones, its projects and the
    problems waiting for its step, with blank rows for a town to raise new ones."""
    year = parse_month(period)[0]
    plans = read_plan_lists(plans_dir, catalog)
    kind = catalog.units[unit].kind
    sheets = ListSheets(departments=[u.name for u in catalog.units.values()
                                     if u.kind == DEPARTMENT])
    tasks = plans.tasks_of(year)
    for t in tasks[tasks["lead_unit"] == unit].itertuples(index=False):
        ms = plans.milestones[(plans.milestones["year"] == year)
                              & (plans.milestones["task_code"] == t.task_code)]
        for m in ms.itertuples(index=False):
            sheets.tasks.append({"task_code": t.task_code, "content": t.content,
                                 "milestone": m.milestone, "due": m.due})
    projects = plans.projects_of(year)
    for p in projects[projects["lead_unit"] == unit].itertuples(index=False):
        sheets.projects.append({"project_code": p.project_code, "name": p.name})
    ledger, note = read_only_ledger(warehouse)
    for problem in sorted(ledger.values(), key=lambda q: q.problem_id):
        mine = (problem.handler == unit and problem.state in lg.HANDLING) or (
            problem.raised_by == unit and problem.state == lg.RESOLVED)
        if mine:
            sheets.problems.append({
                "problem_id": problem.problem_id, "content": problem.content,
                "category": problem.category, "handler": catalog.units[problem.handler].name
                if problem.handler in catalog.units else problem.handler,
                "wish_date": problem.wish_date, "current": problem.state})
    sheets.with_tasks = bool(sheets.tasks)
    sheets.with_projects = bool(sheets.projects)
    sheets.with_problems = unit != DISTRICT
    sheets.blank_problem_rows = 5 if kind != DEPARTMENT and unit != DISTRICT else 0
    return sheets, note
