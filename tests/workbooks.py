"""Workbooks as clerks fill them: ``kj template`` for a unit and month, then figures and
problems written into its cells the way a town's or department's office would."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
from openpyxl import load_workbook

from kj_pipelines.cli import main


def template(unit: str, period: str, out: Path) -> Path:
    """``kj template --unit UNIT --period PERIOD -o OUT`` (KJ_DATA_DIR as the test set it)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    assert main(["template", "--unit", unit, "--period", period, "-o", str(out)]) == 0
    return out


def _header(ws) -> tuple[int, dict[str, int]]:
    for row in ws.iter_rows(min_row=1, max_row=10):
        names = {str(c.value).strip(): c.column for c in row if c.value is not None}
        if "单位代码" in names:
            return row[0].row, names
    raise AssertionError(f"no header in {ws.title}")


def fill_like_month_before(path: Path, warehouse: Path, scale: float = 1.0) -> Path:
    """Fill 填报 with what the unit reported the month before, moved on by a month at the same
    pace (a flow's month again, its year to date grown by it; a stock as it was), times
    ``scale``."""
    wb = load_workbook(path)
    if "填报" not in wb.sheetnames:  # a unit that reports no figure (a department's lists)
        return path
    ws = wb["填报"]
    head, col = _header(ws)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        for r in range(head + 1, ws.max_row + 1):
            unit, period, code = (ws.cell(r, col[k]).value for k in ("单位代码", "报告期", "指标代码"))
            if not code:
                continue
            year, month = map(int, str(period).split("-"))
            before = f"{year - (month == 1):04d}-{(month - 2) % 12 + 1:02d}"
            found = con.execute("""SELECT value, monthly FROM mart.indicator_values
                                   WHERE indicator = ? AND unit = ? AND period = ?""",
                                [code, unit, before]).fetchone()
            if found is None:
                continue
            value, monthly = found
            if monthly is not None and monthly == monthly:  # a flow: NaN for a stock
                ws.cell(r, col["本期值"]).value = round(monthly * scale, 4)
                ws.cell(r, col["累计值"]).value = round((value + monthly) * scale, 4)
            else:
                ws.cell(r, col["本期值"]).value = round(value * scale, 4)
    finally:
        con.close()
    wb.save(path)
    return path


def raise_problem(path: Path, content: str, handler: str, *, category: str = "要素保障",
                  day: dt.date | None = None) -> Path:
    """A new problem in the first blank row of 问题清单 (编号 blank, 状态 提出)."""
    wb = load_workbook(path)
    ws = wb["问题清单"]
    head, col = _header(ws)
    row = next(r for r in range(head + 1, ws.max_row + 2)
               if ws.cell(r, col["问题内容"]).value is None)
    if ws.cell(row, col["单位代码"]).value is None:  # past the blank rows: a row of its own
        ws.cell(row, col["单位代码"]).value = ws.cell(head + 1, col["单位代码"]).value
        ws.cell(row, col["报告期"]).value = ws.cell(head + 1, col["报告期"]).value
    for name, value in (("问题内容", content), ("类别", category), ("承办部门", handler),
                        ("状态", "提出"), ("日期", day)):
        ws.cell(row, col[name]).value = value
    wb.save(path)
    return path


def move_problem(path: Path, problem_id: str, action: str, day: dt.date,
                 reply: str = "") -> Path:
    """A step on a problem the template lists (its pre-filled row), or a row of its own."""
    wb = load_workbook(path)
    ws = wb["问题清单"]
    head, col = _header(ws)
    row = next((r for r in range(head + 1, ws.max_row + 1)
                if ws.cell(r, col["问题编号"]).value == problem_id), None)
    if row is None:
        row = ws.max_row + 1
        for name in ("单位代码", "报告期"):
            ws.cell(row, col[name]).value = ws.cell(head + 1, col[name]).value
        ws.cell(row, col["问题编号"]).value = problem_id
    ws.cell(row, col["状态"]).value = action
    ws.cell(row, col["日期"]).value = day
    ws.cell(row, col["答复/说明"]).value = reply
    wb.save(path)
    return path


def set_figure(path: Path, indicator: str, *, value: float | None = None,
               cumulative: float | None = None, note: str | None = None) -> Path:
    """Write an indicator's 本期值 / 累计值 (and 备注) in 填报, as a clerk retypes them."""
    wb = load_workbook(path)
    ws = wb["填报"]
    head, col = _header(ws)
    row = next(r for r in range(head + 1, ws.max_row + 1)
               if ws.cell(r, col["指标代码"]).value == indicator)
    for name, figure in (("本期值", value), ("累计值", cumulative), ("备注", note)):
        if figure is not None:
            ws.cell(row, col[name]).value = figure
    wb.save(path)
    return path


def archived(paths, name: str) -> Path:
    """The archived copy of a workbook first sent as ``name``."""
    found = sorted(paths.archive.rglob(f"*_{name}"))
    assert found, name
    return found[0]
