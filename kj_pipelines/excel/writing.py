"""Writing workbooks the bureau opens: the same content gives the same bytes (fixed timestamps,
so a regenerated report and its SHA-256 do not change), a file is written whole or not at all,
submitted text is always text (never a formula), and the border and fills every workbook shares
are made once. openpyxl is imported where a workbook is written: the definitions load without it.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from functools import cache
from types import SimpleNamespace
from typing import TYPE_CHECKING

from kj_pipelines.core.files import write_atomic

if TYPE_CHECKING:
    from pathlib import Path

    from openpyxl import Workbook


@cache
def cell_styles() -> SimpleNamespace:
    """The border and fills every workbook of the project shares (made once, when the first
    workbook is written)."""
    from openpyxl.styles import Border, PatternFill, Side

    thin = Side(style="thin", color="999999")
    return SimpleNamespace(border=Border(left=thin, right=thin, top=thin, bottom=thin),
                           input_fill=PatternFill("solid", fgColor="FFF8DC"),
                           head_fill=PatternFill("solid", fgColor="DDEBF7"))


FIXED_TIME = dt.datetime(2026, 1, 1)


def save_workbook(wb: Workbook, path: Path) -> None:
    """Save with fixed timestamps, so the same content gives the same bytes (and SHA-256), and
    atomically, so the inbox never holds half a file."""
    wb.properties.created = wb.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    wb.save(buffer)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" on save
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2026-01-01T00:00:00Z",
                              data)
            dst.writestr(fixed, data)
    write_atomic(path, out.getvalue())


def write_text(cell, text: object) -> None:
    """Write submitted text as text: a value starting with '=' must never become a formula."""
    cell.value = text
    if isinstance(text, str) and text.startswith(("=", "+", "-", "@", "\t", "\r")):
        cell.data_type = "s"
        cell.quotePrefix = True
