"""Each list as the bureau prints it: a titled table with a frozen header, filters, status
colours (conditional formatting, so a re-sorted sheet keeps them), A4 landscape fitted to the
page width, the data date and the source in the footer.

Text that came from a submission is written as text, never as a formula.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from copy import copy
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from kj_pipelines.excel.writing import cell_styles, save_workbook, write_text

if TYPE_CHECKING:
    from openpyxl.styles import Font
    from openpyxl.worksheet.worksheet import Worksheet

# openpyxl is imported where a workbook is written: the definitions load without it
STATUS_FILLS = {  # label → fill: red for late or far behind, amber at risk, green fine, grey pending
    "逾期": "F8CBAD", "严重滞后": "F8CBAD", "超期": "F8CBAD", "红": "F8CBAD", "未反馈超期": "F8CBAD",
    "临期/滞后": "FFE699", "黄": "FFE699", "办理中": "FFE699", "重新督办": "FFE699", "督办中": "FFE699",
    "正常": "C6EFCE", "完成": "C6EFCE", "确认销号": "C6EFCE", "已销号": "C6EFCE", "绿": "C6EFCE",
    "未到期": "EDEDED", "缺报": "EDEDED", "待报齐": "EDEDED",
}


def display_width(text: str) -> int:
    """Width in Excel's character units: a Chinese character takes two."""
    return sum(2 if ord(ch) >= 0x2E80 else 1 for ch in text)


AMOUNT = "#,##0.00"  # a figure's format; a row marked whole (WHOLE) prints it as WHOLE_AMOUNT
WHOLE_AMOUNT = "#,##0"
WHOLE = "_whole"  # a frame's column: True where the row's figures are counts (家, 个, 人)


def mark_whole(frame: pd.DataFrame, counted: set[str], key: str = "indicator") -> pd.DataFrame:
    """``frame`` with its rows of a counted indicator marked, so their figures print whole."""
    if key not in frame.columns:
        return frame
    return frame.assign(**{WHOLE: frame[key].isin(counted)})


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    width: int = 14
    number_format: str | None = None


def write_list_report(path: Path, title: str, columns: list[Column], frame: pd.DataFrame, *,
                      data_date: str, source: str, status_key: str | None = None,
                      summary: list[tuple[str, object]] | None = None) -> Path:
    from openpyxl import Workbook
    wb = Workbook()
    write_table(wb.active, title, columns, frame, data_date=data_date, source=source,
                status_key=status_key, summary=summary)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_workbook(wb, path)
    return path


def cell_value(value: object) -> object:
    """A frame's value as a cell takes it: None for missing, dates as dates, numpy as Python."""
    if value is None or (not isinstance(value, (str, dt.date)) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _banner(ws: Worksheet, row: int, text: str, width: float, columns: int, font: Font,
            horizontal: str = "left") -> None:
    """A line above the table (title, data date, summary) merged across the table's width and
    wrapped there, the row as tall as its lines: a narrow table never cuts its title."""
    from openpyxl.styles import Alignment
    cell = ws.cell(row=row, column=1)
    write_text(cell, text)
    cell.font = font
    cell.alignment = Alignment(horizontal=horizontal, vertical="center", wrap_text=True)
    if columns > 1:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=columns)
    size = font.sz or 11
    places = display_width(text) * size / 11  # display_width is at 11 pt
    ws.row_dimensions[row].height = row_height(math.ceil(places / max(width, 1)), size)


def row_height(lines: int, size: float = 11) -> float:
    """Points for ``lines`` lines of text at ``size`` pt: Excel and LibreOffice keep a written
    row's height when printing, so a wrapped cell's row is made as tall as its lines."""
    return max(1, lines) * size * 1.45 + 2


def write_table(ws: Worksheet, title: str, columns: list[Column], frame: pd.DataFrame, *,
                data_date: str, source: str, status_key: str | None = None,
                summary: list[tuple[str, object]] | None = None, sheet_name: str | None = None,
                paper: str | None = None, note: str | None = None) -> int:
    """One titled, printable table filling the sheet ``ws``; returns its last row. ``note``:
    a line under the summary saying how to read the table (the rule its statuses follow)."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    styles = cell_styles()
    ws.title = (sheet_name or title)[:31]
    width = sum(c.width for c in columns)
    _banner(ws, 1, title, width, len(columns), Font(bold=True, size=16), "center")
    _banner(ws, 2, f"数据截至：{data_date}　　来源：{source}", width, len(columns),
            Font(size=BODY_PT, color="555555"))
    header_row = 3
    if summary:
        _banner(ws, 3, "　".join(f"{k}：{v}" for k, v in summary), width, len(columns), Font())
        header_row = 4
    if note:
        _banner(ws, header_row, note, width, len(columns), Font(size=BODY_PT, color="555555"))
        header_row += 1
    for col, c in enumerate(columns, start=1):
        cell = ws.cell(row=header_row, column=col, value=c.header)
        cell.font, cell.fill, cell.border = Font(bold=True), styles.head_fill, styles.border
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(col)].width = c.width
    # a header wrapped in its narrow column (红灯单位（不含全区）) gets the lines it needs
    ws.row_dimensions[header_row].height = row_height(max(
        math.ceil(display_width(c.header) / max(c.width - 1, 1)) for c in columns))
    plain, wrapped = body_styles(ws.parent)
    for r, record in enumerate(frame.to_dict("records"), start=header_row + 1):
        lines = 1
        whole = bool(record.get(WHOLE))
        for col, c in enumerate(columns, start=1):
            value = cell_value(record.get(c.key))
            cell = ws.cell(row=r, column=col)
            places = display_width(value) if isinstance(value, str) else 0
            if places > c.width:
                cell.style = wrapped
                lines = max(lines, math.ceil(places / max(c.width, 1)))
            else:
                cell.style = plain
            write_text(cell, value)
            if isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"
            elif c.number_format and isinstance(value, (int, float)):
                cell.number_format = (WHOLE_AMOUNT if whole and c.number_format == AMOUNT
                                      else c.number_format)
        if lines > 1:
            ws.row_dimensions[r].height = row_height(lines)
    if frame.empty:  # an empty section says so, not a bare header
        cell = ws.cell(row=header_row + 1, column=1)
        cell.style = plain
        write_text(cell, "无")
    last = header_row + max(len(frame), 1)
    end_col = get_column_letter(len(columns))
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    ws.auto_filter.ref = f"A{header_row}:{end_col}{last}"
    if status_key is not None:
        col = get_column_letter([c.key for c in columns].index(status_key) + 1)
        status_colours(ws, f"{col}{header_row + 1}:{col}{last}")
    ws.print_title_rows = f"{header_row}:{header_row}"
    print_setup(ws, title, data_date, paper)
    return last


BODY_STYLES = ("表格正文", "表格正文（换行）")


def body_styles(wb) -> tuple[str, str]:
    """The two cell styles of a table's body (bordered, top-aligned; the second wraps), added to
    the workbook as named styles once: a cell takes one by name, much faster than a border and
    an alignment of its own (openpyxl hashes each to find it in the workbook's list)."""
    from openpyxl.styles import Alignment, NamedStyle
    from openpyxl.styles.fonts import DEFAULT_FONT
    if BODY_STYLES[0] not in wb.named_styles:
        border = cell_styles().border
        for name, wrap in zip(BODY_STYLES, (False, True), strict=True):
            wb.add_named_style(NamedStyle(name=name, font=copy(DEFAULT_FONT), border=border,
                                          alignment=Alignment(vertical="top", wrap_text=wrap)))
    return BODY_STYLES


def status_colours(ws: Worksheet, cells: str) -> None:
    """Conditional fills by status label (a re-sorted or filtered sheet keeps them)."""
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import PatternFill
    for label, colour in STATUS_FILLS.items():
        ws.conditional_formatting.add(cells, CellIsRule(
            operator="equal", formula=[f'"{label}"'], fill=PatternFill("solid", bgColor=colour)))


# Printable width of a landscape page at 100 % in pixels (96 dpi, Excel's default margins of
# 0.7 in each side), and the smallest print a reader is given: an 11 pt body scaled to fit the
# page width may not fall below 9 pt.
PRINTABLE_PX = {"A4": (11.69 - 1.4) * 96, "A3": (16.54 - 1.4) * 96}
BODY_PT, MIN_PT = 11, 9


def sheet_width_px(ws: Worksheet) -> float:
    """The used columns' width in pixels (a column of width w is about 7w + 5 px wide)."""
    from openpyxl.utils import get_column_letter
    total = 0.0
    for col in range(1, (ws.max_column or 1) + 1):
        dim = ws.column_dimensions.get(get_column_letter(col))
        width = dim.width if dim is not None and dim.width else 8.43
        total += 7 * width + 5
    return total


def print_scale(ws: Worksheet, paper: str) -> float:
    """The scale fit-to-width gives the sheet on ``paper`` (1 when it fits)."""
    return min(1.0, PRINTABLE_PX[paper] / max(sheet_width_px(ws), 1.0))


def paper_for(ws: Worksheet) -> str:
    """A4, unless fitting the sheet's width would print its body under 9 pt: then A3."""
    return "A4" if BODY_PT * print_scale(ws, "A4") >= MIN_PT else "A3"


def print_setup(ws: Worksheet, title: str, data_date: str, paper: str | None = None) -> None:
    """Landscape, fitted to the page width (on A3 where A4 would print under 9 pt), centred,
    title and data date in the footer."""
    paper = paper or paper_for(ws)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A3 if paper == "A3" else ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.oddFooter.left.text = footer_text(title, data_date, paper)
    ws.oddFooter.right.text = "第 &P 页，共 &N 页"


FOOTER_WIDTH = {"A4": 90, "A3": 130}  # display width the footer's left part has beside the page number


def footer_text(title: str, data_date: str, paper: str) -> str:
    """The footer's title and data date, short enough not to run into the page number: a long
    title loses its parentheses (the week's dates of the weekly brief: in its banner), then
    its end."""
    limit = FOOTER_WIDTH.get(paper, FOOTER_WIDTH["A4"])
    tail = f"　数据截至{data_date}"
    if display_width(title + tail) > limit:
        title = re.sub(r"（[^（）]*）", "", title)
    while display_width(title + tail) > limit and len(title) > 1:
        title = title[:-2] + "…"
    return title + tail
