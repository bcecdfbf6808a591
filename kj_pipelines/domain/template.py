"""The submission workbook a unit fills in each month (月度填报表), and its writer.

``kj template`` writes it blank; the sample generator writes it filled, through the same function,
so the sample is exactly what a town would send back.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.worksheet.datavalidation import DataValidation

from kj_pipelines.domain.catalog import Catalog, Indicator
from kj_pipelines.domain.periods import add_months, parse_month

HEADER = ["单位代码", "单位名称", "报告期", "指标代码", "指标名称", "计量单位", "本期值", "累计值", "备注"]
_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_INPUT_FILL = PatternFill("solid", fgColor="FFF8DC")
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")


@dataclass
class SubmissionRow:
    indicator: Indicator
    period: str
    value: object = None
    cumulative: object = None
    note: str = ""


FIXED_TIME = dt.datetime(2026, 1, 1)


def save_workbook(wb: Workbook, path: Path) -> None:
    """Save with fixed timestamps, so the same content gives the same bytes (and SHA-256), and
    atomically, so the inbox never holds half a file."""
    wb.properties.created = wb.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    wb.save(buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src, \
            zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" on save
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2026-01-01T00:00:00Z",
                              data)
            dst.writestr(fixed, data)
    os.replace(tmp, path)


def write_text(cell, text: object) -> None:
    """Write submitted text as text: a value starting with '=' must never become a formula."""
    cell.value = text
    if isinstance(text, str) and text.startswith(("=", "+", "-", "@")):
        cell.data_type = "s"
        cell.quotePrefix = True


def due_rows(catalog: Catalog, unit_code: str, period: str) -> list[SubmissionRow]:
    """The rows a unit owes in its workbook for a month (lagged annual figures included)."""
    rows = []
    for ind in catalog.indicators_for_unit(unit_code):
        target_period = add_months(period, -ind.release_lag)
        if parse_month(target_period)[1] in ind.due_months():
            rows.append(SubmissionRow(ind, target_period))
    return rows


def write_submission(path: Path, catalog: Catalog, unit_code: str, period: str,
                     rows: list[SubmissionRow], *, protect: bool = True) -> None:
    unit = catalog.units[unit_code]
    wb = Workbook()
    ws = wb.active
    ws.title = "填报"
    year, month = parse_month(period)
    ws["A1"] = f"{unit.name} {year}年{month}月 科技创新主要指标填报表"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = (f"填报说明：请于次月{catalog.submission_deadline_day}日前填写黄色单元格；"
                "流量指标填当月值和年初至今累计值，存量与比重指标填期末值；无数据请留空并在备注说明。")
    ws["A2"].alignment = Alignment(wrap_text=False)
    for col, title in enumerate(HEADER, start=1):
        c = ws.cell(row=3, column=col, value=title)
        c.font, c.fill, c.border = Font(bold=True), _HEAD_FILL, _BORDER
        c.alignment = Alignment(horizontal="center", vertical="center")
    for i, row in enumerate(rows, start=4):
        ind = row.indicator
        values = [unit.code, unit.name, row.period, ind.code, ind.name, ind.measure]
        for col, v in enumerate(values, start=1):
            c = ws.cell(row=i, column=col)
            write_text(c, v)
            c.border = _BORDER
        for col, v in ((7, row.value), (8, row.cumulative if ind.kind == "flow" else None)):
            c = ws.cell(row=i, column=col, value=v)
            c.border, c.fill = _BORDER, _INPUT_FILL
            c.protection = Protection(locked=False)
            c.number_format = "0.00" if ind.measure not in ("家", "名", "个") else "0"
        c = ws.cell(row=i, column=9)
        write_text(c, row.note)
        c.border, c.fill = _BORDER, _INPUT_FILL
        c.protection = Protection(locked=False)
    last = max(4, 3 + len(rows))
    dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="-1000000",
                        allow_blank=True, showErrorMessage=True,
                        errorTitle="请输入数字", error="本期值、累计值只能填写数字，不要填写文字或占位符")
    dv.add(f"G4:H{last}")
    ws.add_data_validation(dv)
    for col, width in zip("ABCDEFGHI", (10, 22, 10, 16, 40, 9, 12, 12, 30), strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A4"
    ws.print_title_rows = "3:3"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if protect:
        ws.protection.sheet = True
        ws.protection.formatColumns = False
    guide = wb.create_sheet("指标说明")
    guide.append(["指标代码", "指标名称", "计量单位", "类型", "口径说明"])
    kinds = {"flow": "累计（流量）", "stock": "期末（存量）", "ratio": "比重/水平", "growth": "同比增速"}
    for row in rows:
        ind = row.indicator
        for cell_value in ([ind.code, ind.name, ind.measure, kinds[ind.kind], ind.definition],):
            guide.append(cell_value)
    for col, width in zip("ABCDE", (16, 40, 9, 14, 70), strict=True):
        guide.column_dimensions[col].width = width
    save_workbook(wb, path)
