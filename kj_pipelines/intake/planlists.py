"""The bureau's annual lists in ``plans/<year>/`` besides the targets: 六大行动重点任务攻坚表 (key
tasks with milestones: 时间表、路线图), 科技创新重大项目实施表 (major projects: planned investment by
quarter and milestone dates) and 督办反馈认可表 (the bureau's acceptance of supervision feedback).

Read with the same safe reader as submissions. The bureau keeps these tables by hand: a task's
columns are often merged down over its milestone rows, so a blank task cell continues the task
above. Units are written by code or by name; a name that matches no unit is kept as written, so
the responsibility check (责任清单) can point at it rather than the row silently vanishing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from kj_pipelines.catalog.model import Catalog
from kj_pipelines.core.files import sha256_of
from kj_pipelines.excel.cleaning import (
    CellProblem,
    clean_code,
    clean_date,
    clean_number,
    clean_text,
    is_blank,
    normalize_text,
)
from kj_pipelines.excel.reading import SheetRows, WorkbookError, read_rows
from kj_pipelines.excel.tables import Table, find_table
from kj_pipelines.excel.writing import save_workbook, write_text
from kj_pipelines.intake.findings import Rejection, display_value
from kj_pipelines.storage.warehouse import insert_frame, transaction
from kj_pipelines.worklists.service import PLAN_TABLES

# openpyxl is imported where a workbook is written: the definitions load without it

TASK_ALIASES = {"任务代码": "task", "任务编号": "task", "所属行动": "action", "行动": "action",
                "任务内容": "content", "重点任务": "content", "牵头单位": "lead", "配合单位": "coop",
                "责任人": "official", "节点": "milestone", "节点名称": "milestone",
                "时间节点": "milestone", "完成时限": "due", "节点时限": "due"}
PROJECT_ALIASES = {"项目代码": "project", "项目编号": "project", "项目名称": "name",
                   "牵头单位": "lead", "责任单位": "lead", "配合单位": "coop", "责任人": "official",
                   "总投资": "total", "年度计划投资": "annual",
                   "一季度计划投资": "q1", "二季度计划投资": "q2", "三季度计划投资": "q3",
                   "四季度计划投资": "q4", "开工": "m_开工", "计划开工": "m_开工",
                   "主体完工": "m_主体完工", "计划主体完工": "m_主体完工", "竣工": "m_竣工",
                   "计划竣工": "m_竣工", "投产": "m_投产", "计划投产": "m_投产"}
FEEDBACK_ALIASES = {"督办编号": "item", "认可日期": "accepted_on", "反馈说明": "note",
                    "反馈内容": "note"}
TARGET_HEADERS = ("指标代码", "单位代码", "年度目标")
PROJECT_MILESTONES = ("开工", "主体完工", "竣工", "投产")
TASK_COLUMNS = ["year", "task_code", "action", "content", "lead_unit", "cooperating", "official",
                "source_file", "row"]
MILESTONE_COLUMNS = ["year", "task_code", "seq", "milestone", "due"]
PROJECT_COLUMNS = ["year", "project_code", "name", "lead_unit", "cooperating", "official",
                   "total_investment", "q1", "q2", "q3", "q4", "source_file", "row"]
PROJECT_MILESTONE_COLUMNS = ["year", "project_code", "seq", "milestone", "due"]
FEEDBACK_COLUMNS = ["year", "item_id", "accepted_on", "note", "source_file", "row"]
_SPLIT = re.compile(r"[、，,;；/\s]+")


@dataclass
class PlanLists:
    tasks: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=TASK_COLUMNS))
    milestones: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=MILESTONE_COLUMNS))
    projects: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PROJECT_COLUMNS))
    project_milestones: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=PROJECT_MILESTONE_COLUMNS))
    feedback: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FEEDBACK_COLUMNS))
    rejections: list[tuple[str, str, Rejection]] = field(default_factory=list)

    def tasks_of(self, year: int) -> pd.DataFrame:
        return self.tasks[self.tasks["year"] == year]

    def projects_of(self, year: int) -> pd.DataFrame:
        return self.projects[self.projects["year"] == year]

    def milestones_of(self, year: int) -> pd.DataFrame:
        return self.milestones[self.milestones["year"] == year]


class PlansByYear:
    """The plan lists of ``plans/<year>/``, each year read the first time a list sheet's row asks
    for it: a month's workbooks name one or two years, and ``plans/`` keeps every year's (reading
    all of them cost a year's ingest of 177 workbooks 0.8 s, and grows with every year kept)."""

    def __init__(self, plans_dir: Path, catalog: Catalog):
        self._dir, self._catalog = plans_dir, catalog
        self._years: dict[int, PlanLists] = {}

    def of_year(self, year: int) -> PlanLists:
        if year not in self._years:
            self._years[year] = read_plan_lists(self._dir, self._catalog, years={year})
        return self._years[year]

    def tasks_of(self, year: int) -> pd.DataFrame:
        return self.of_year(year).tasks_of(year)

    def projects_of(self, year: int) -> pd.DataFrame:
        return self.of_year(year).projects_of(year)

    def milestones_of(self, year: int) -> pd.DataFrame:
        return self.of_year(year).milestones_of(year)


def resolve_unit(text: object, catalog: Catalog) -> str:
    """A unit written by code or by its catalog name; anything else is kept as written."""
    raw = normalize_text(text) if not is_blank(text) else ""
    if not raw:
        return ""
    if raw.upper() in catalog.units:
        return raw.upper()
    for unit in catalog.units.values():
        if unit.name == raw:
            return unit.code
    return raw


def resolve_units(text: object, catalog: Catalog) -> list[str]:
    if is_blank(text):
        return []
    return [resolve_unit(p, catalog) for p in _SPLIT.split(normalize_text(text)) if p]


def resolve_action(text: object, catalog: Catalog) -> str:
    raw = normalize_text(text) if not is_blank(text) else ""
    for action in catalog.actions.values():
        if raw in (action.code, action.name):
            return action.code
    return raw


def plan_kind(table_rows: list, sheet: str) -> str | None:
    """Which list a plan workbook holds, told by its header row."""
    if find_table(sheet, table_rows, TASK_ALIASES, ("task", "milestone", "due")):
        return "tasks"
    if find_table(sheet, table_rows, PROJECT_ALIASES, ("project", "name")):
        return "projects"
    if find_table(sheet, table_rows, FEEDBACK_ALIASES, ("item", "accepted_on")):
        return "feedback"
    if find_table(sheet, table_rows, {k: k for k in TARGET_HEADERS}, TARGET_HEADERS):
        return "targets"
    return None


def plan_files(plans_dir: Path, years: set[int] | None = None) -> list[tuple[int, str, Path]]:
    """(year, display name, path) of every workbook under ``plans/<year>/`` (of ``years`` only,
    when given)."""
    out = []
    for path in sorted(plans_dir.glob("*/*.xlsx")):
        if path.parent.name.isdigit() and not path.name.startswith(("~$", ".")) \
                and (years is None or int(path.parent.name) in years):
            out.append((int(path.parent.name), f"plans/{path.parent.name}/{path.name}", path))
    return out


_PARSED: dict[str, SheetRows | Rejection] = {}  # by SHA-256: a run reads the same plans often
_PARSED_MAX = 256


def plan_workbooks(plans_dir: Path, years: set[int] | None = None
                   ) -> Iterator[tuple[int, str, str, SheetRows | Rejection]]:
    """(year, name, SHA-256, the sheet's rows — or the rejection of a file that cannot be read)
    of every workbook under ``plans/<year>/``, read with the safe reader. Several readers go
    through the same folder in one run (targets, task and project lists, list-sheet checks):
    a workbook is parsed once per process, recognised by its content's hash."""
    for year, name, path in plan_files(plans_dir, years):
        sha = sha256_of(path)
        if sha not in _PARSED:
            try:
                parsed: SheetRows | Rejection = read_rows(path)
            except WorkbookError as exc:
                parsed = Rejection(exc.sheet, None, None, None, exc.reason_code, exc.message)
            if len(_PARSED) >= _PARSED_MAX:
                _PARSED.clear()
            _PARSED[sha] = parsed
        yield year, name, sha, _PARSED[sha]


def read_plan_lists(plans_dir: Path, catalog: Catalog, years: set[int] | None = None
                    ) -> PlanLists:
    """The plan lists of every year under ``plans/`` (of ``years`` only, when given)."""
    out = PlanLists()
    frames: dict[str, list[pd.DataFrame]] = {k: [] for k in ("tasks", "milestones", "projects",
                                                              "project_milestones", "feedback")}
    for year, name, sha, sheet in plan_workbooks(plans_dir, years):
        if isinstance(sheet, Rejection):
            out.rejections.append((name, sha, sheet))
            continue
        kind = plan_kind(sheet.rows, sheet.sheet)
        rejected: list[Rejection] = []
        if kind == "tasks":
            table = find_table(sheet.sheet, sheet.rows, TASK_ALIASES, ("task", "milestone", "due"))
            tasks, milestones = _read_tasks(table, catalog, year, name, rejected)
            frames["tasks"].append(tasks)
            frames["milestones"].append(milestones)
        elif kind == "projects":
            table = find_table(sheet.sheet, sheet.rows, PROJECT_ALIASES, ("project", "name"))
            projects, milestones = _read_projects(table, catalog, year, name, rejected)
            frames["projects"].append(projects)
            frames["project_milestones"].append(milestones)
        elif kind == "feedback":
            table = find_table(sheet.sheet, sheet.rows, FEEDBACK_ALIASES, ("item", "accepted_on"))
            frames["feedback"].append(_read_feedback(table, year, name, rejected))
        out.rejections.extend((name, sha, r) for r in rejected)
    for key, parts in frames.items():
        parts = [p for p in parts if not p.empty]
        if parts:
            setattr(out, key, pd.concat(parts, ignore_index=True))
    return out


def _problem(rejected: list[Rejection], table: Table, excel_row: int, fld: str, default: str,
             raw: object, problem: CellProblem) -> None:
    rejected.append(Rejection(table.sheet, excel_row, table.label(fld, default), display_value(raw),
                              problem.reason_code, problem.message))


def _read_tasks(table: Table, catalog: Catalog, year: int, name: str,
                rejected: list[Rejection]) -> tuple[pd.DataFrame, pd.DataFrame]:
    tasks: dict[str, dict] = {}
    milestones: list[dict] = []
    carry: dict[str, object] = {}
    for excel_row, rec in table.records():
        # merged task cells: a blank task column continues the task above
        if is_blank(rec.get("task")):
            rec = {**rec, **{k: carry.get(k) for k in ("task", "action", "content", "lead", "coop",
                                                        "official") if is_blank(rec.get(k))}}
        else:
            carry = dict(rec)
        code = clean_code(rec.get("task"))
        if isinstance(code, CellProblem):
            _problem(rejected, table, excel_row, "task", "任务代码", rec.get("task"), code)
            continue
        due = clean_date(rec.get("due"))
        if due is None or isinstance(due, CellProblem):
            _problem(rejected, table, excel_row, "due", "完成时限", rec.get("due"),
                     due or CellProblem("bad_date", "节点完成时限为空"))
            continue
        milestone = clean_text(rec.get("milestone"), 200)
        if isinstance(milestone, CellProblem) or not milestone:
            _problem(rejected, table, excel_row, "milestone", "节点", rec.get("milestone"),
                     milestone or CellProblem("placeholder", "节点名称为空"))
            continue
        if code not in tasks:
            tasks[code] = {
                "year": year, "task_code": code, "action": resolve_action(rec.get("action"), catalog),
                "content": _text(rec.get("content")),
                "lead_unit": resolve_unit(rec.get("lead"), catalog),
                "cooperating": "、".join(resolve_units(rec.get("coop"), catalog)),
                "official": _text(rec.get("official")), "source_file": name,
                "row": excel_row}
        seq = sum(1 for m in milestones if m["task_code"] == code) + 1
        if any(m["task_code"] == code and m["milestone"] == milestone for m in milestones):
            _problem(rejected, table, excel_row, "milestone", "节点", milestone,
                     CellProblem("duplicate_conflict", f"任务{code}的节点“{milestone}”重复"))
            continue
        milestones.append({"year": year, "task_code": code, "seq": seq, "milestone": milestone,
                           "due": due})
    return (pd.DataFrame(list(tasks.values()), columns=TASK_COLUMNS),
            pd.DataFrame(milestones, columns=MILESTONE_COLUMNS))


def _text(value: object) -> str:
    text = clean_text(value)
    return "" if isinstance(text, CellProblem) else text


def _read_projects(table: Table, catalog: Catalog, year: int, name: str,
                   rejected: list[Rejection]) -> tuple[pd.DataFrame, pd.DataFrame]:
    projects: list[dict] = []
    milestones: list[dict] = []
    for excel_row, rec in table.records():
        code = clean_code(rec.get("project"))
        if isinstance(code, CellProblem):
            _problem(rejected, table, excel_row, "project", "项目代码", rec.get("project"), code)
            continue
        if any(p["project_code"] == code for p in projects):
            _problem(rejected, table, excel_row, "project", "项目代码", code,
                     CellProblem("duplicate_conflict", f"项目代码{code}重复"))
            continue
        amounts: dict[str, float] = {}
        bad = False
        for q in ("total", "q1", "q2", "q3", "q4"):
            number = clean_number(rec.get(q))
            if isinstance(number, CellProblem) or (number is not None and number < 0):
                _problem(rejected, table, excel_row, q, q, rec.get(q),
                         number if isinstance(number, CellProblem)
                         else CellProblem("out_of_range", "投资额不能为负"))
                bad = True
                break
            amounts[q] = float(number or 0.0)
        if bad:
            continue
        dates = []
        for seq, milestone in enumerate(PROJECT_MILESTONES, start=1):
            fld = f"m_{milestone}"
            due = clean_date(rec.get(fld))
            if isinstance(due, CellProblem):
                _problem(rejected, table, excel_row, fld, milestone, rec.get(fld), due)
                bad = True
                break
            if due is not None:
                dates.append({"year": year, "project_code": code, "seq": seq,
                              "milestone": milestone, "due": due})
        if bad:
            continue
        milestones.extend(dates)
        projects.append({
            "year": year, "project_code": code, "name": _text(rec.get("name")),
            "lead_unit": resolve_unit(rec.get("lead"), catalog),
            "cooperating": "、".join(resolve_units(rec.get("coop"), catalog)),
            "official": _text(rec.get("official")), "total_investment": amounts["total"],
            "q1": amounts["q1"], "q2": amounts["q2"], "q3": amounts["q3"], "q4": amounts["q4"],
            "source_file": name, "row": excel_row})
    return (pd.DataFrame(projects, columns=PROJECT_COLUMNS),
            pd.DataFrame(milestones, columns=PROJECT_MILESTONE_COLUMNS))


def _read_feedback(table: Table, year: int, name: str, rejected: list[Rejection]) -> pd.DataFrame:
    rows = []
    for excel_row, rec in table.records():
        item = clean_text(rec.get("item"), 200)
        if isinstance(item, CellProblem) or not item:
            _problem(rejected, table, excel_row, "item", "督办编号", rec.get("item"),
                     item or CellProblem("placeholder", "督办编号为空"))
            continue
        when = clean_date(rec.get("accepted_on"))
        if when is None or isinstance(when, CellProblem):
            _problem(rejected, table, excel_row, "accepted_on", "认可日期", rec.get("accepted_on"),
                     when or CellProblem("bad_date", "认可日期为空"))
            continue
        rows.append({"year": year, "item_id": item, "accepted_on": when,
                     "note": _text(rec.get("note")), "source_file": name, "row": excel_row})
    return pd.DataFrame(rows, columns=FEEDBACK_COLUMNS)


# ── writers (the sample, and a blank list for a bureau to start from) ─────────────

def _sheet(title: str, header: list[str], widths: tuple[int, ...]):
    from openpyxl import Workbook
    from openpyxl.styles import Font
    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws["A1"] = title
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(header)
    for i, w in enumerate(widths):
        ws.column_dimensions[chr(65 + i)].width = w
    ws.freeze_panes = "A3"
    return wb, ws


def write_task_list(path: Path, catalog: Catalog, year: int, region: str,
                    tasks: list[dict]) -> None:
    """One row per milestone; the task's own columns are written on its first row only (as the
    bureau merges them), which the reader carries down."""
    from openpyxl.styles import Alignment
    wb, ws = _sheet(f"{region}{year}年{catalog.actions_label()}重点任务攻坚表",
                    ["任务代码", "所属行动", "任务内容", "牵头单位", "配合单位", "责任人", "节点",
                     "完成时限"], (12, 22, 60, 18, 30, 16, 36, 12))
    for task in tasks:
        for i, (milestone, due) in enumerate(task["milestones"]):
            first = i == 0
            row = [task["code"] if first else None,
                   catalog.actions[task["action"]].name if first else None,
                   task["content"] if first else None,
                   catalog.unit_name(task["lead"]) if first else None,
                   "、".join(catalog.unit_name(c) for c in task.get("coop", ())) if first else None,
                   task.get("official", "") if first else None, milestone, due]
            ws.append([None] * len(row))
            for col, value in enumerate(row, start=1):
                write_text(ws.cell(row=ws.max_row, column=col), value)
            ws.cell(row=ws.max_row, column=8).number_format = "yyyy-mm-dd"
            ws.cell(row=ws.max_row, column=3).alignment = Alignment(wrap_text=True)
    save_workbook(wb, path)


def write_project_list(path: Path, catalog: Catalog, year: int, region: str,
                       projects: list[dict]) -> None:
    header = ["项目代码", "项目名称", "牵头单位", "配合单位", "责任人", "总投资", "一季度计划投资",
              "二季度计划投资", "三季度计划投资", "四季度计划投资", *PROJECT_MILESTONES]
    wb, ws = _sheet(f"{region}{year}年科技创新重大项目实施表（投资：万元）", header,
                    (12, 36, 18, 24, 14, 10, 12, 12, 12, 12, 12, 12, 12, 12))
    for p in projects:
        dates = [p["milestones"].get(m) for m in PROJECT_MILESTONES]
        row = [p["code"], p["name"], catalog.unit_name(p["lead"]),
               "、".join(catalog.unit_name(c) for c in p.get("coop", ())), p.get("official", ""),
               p["total"], *p["quarters"], *dates]
        ws.append([None] * len(row))
        for col, value in enumerate(row, start=1):
            cell = ws.cell(row=ws.max_row, column=col)
            write_text(cell, value)
            if isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    save_workbook(wb, path)


def write_feedback_list(path: Path, year: int, region: str, rows: list[dict]) -> None:
    wb, ws = _sheet(f"{region}{year}年督办反馈认可表", ["督办编号", "认可日期", "反馈说明"], (40, 14, 60))
    for r in rows:
        ws.append([None, r["accepted_on"], None])
        write_text(ws.cell(row=ws.max_row, column=1), r["item_id"])
        write_text(ws.cell(row=ws.max_row, column=3), r.get("note", ""))
        ws.cell(row=ws.max_row, column=2).number_format = "yyyy-mm-dd"
    save_workbook(wb, path)


def write_plans(conn: duckdb.DuckDBPyConnection, plans: PlanLists) -> None:
    """Replace the stored plan lists with what ``plans/`` holds now, in one transaction."""
    with transaction(conn):
        for attr, table in PLAN_TABLES.items():
            conn.execute(f"DELETE FROM {table}")
            insert_frame(conn, table, getattr(plans, attr))
