"""Reading untrusted workbooks safely: ``.xlsx``, and ``.xls``/``.et`` (WPS) and ``.ods`` as the
towns' offices save them, through one function with the same checks and messages.

Submitted workbooks come from dozens of offices; some are broken, some are hostile. Before a
parser sees a file it is checked as a container: a zip archive (``.xlsx``, ``.ods``: size, entry
count, real decompressed bytes, compression ratio, XML with a DOCTYPE) or an OLE compound file
(``.xls``, ``.et``: size, encryption, macros). Then at most a bounded number of rows and columns
is read, each cell as Excel shows it: a cached formula result (a formula without one is marked),
a percentage-formatted number as such, a date as a date, and a merged cell's value carried down
its column (the bureau's tables merge a task's code over its milestones' rows). Every failure is
a :class:`WorkbookError` with a reason code.

Which library reads what, and why (measured in ``make bench``): openpyxl reads ``.xlsx`` (it
sees a cell's number format and a formula without a cached value; python-calamine, several
times faster, sees neither); xlrd reads ``.xls``/``.et`` with their formats (calamine does not
give them: a "15%" typed in WPS would become 0.15); ``.ods`` is XML read here (calamine gives
neither its formats nor its merged cells).
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kj_pipelines.excel.cleaning import FORMULA_WITHOUT_VALUE, ExcelPercent, normalize_text

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ENTRIES = 2_000
MAX_TOTAL_UNCOMPRESSED = 200 * 1024 * 1024
MAX_RATIO = 200
MAX_ROWS = 50_000
MAX_COLS = 60
MAX_SHEETS = 50
MAX_EMPTY_STREAK = 2_000
PREFERRED_SHEET = "填报"
SUFFIXES = (".xlsx", ".xls", ".et", ".ods")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY", "<!DOCTYPE".encode("utf-16-le"),
                "<!ENTITY".encode("utf-16-le"), "<!DOCTYPE".encode("utf-16-be"))
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
# an OLE directory names its streams in UTF-16: a workbook with VBA has one of these
_OLE_MACROS = ("_VBA_PROJECT_CUR".encode("utf-16-le"), "VBA".encode("utf-16-le") + b"\x00\x00")


class WorkbookError(Exception):
    def __init__(self, reason_code: str, message: str, sheet: str | None = None):
        super().__init__(message)
        self.reason_code, self.message, self.sheet = reason_code, message, sheet


@dataclass
class SheetRows:
    sheet: str
    rows: list[tuple[int, tuple[Any, ...]]]  # (1-based Excel row, cell values)
    truncated: bool = False
    merged: int = 0  # merged ranges whose value was carried down


def container(path: Path) -> str:
    """What the file is, whatever its name says: ``xlsx``, ``ods`` or ``xls`` (an OLE compound
    file: .xls, or WPS's .et); checks its size first."""
    size = path.stat().st_size
    if size == 0:
        raise WorkbookError("unreadable_file", "文件为空（0字节）")
    if size > MAX_FILE_BYTES:
        raise WorkbookError("unsafe_file", f"文件大小{size}字节，超过上限{MAX_FILE_BYTES}字节")
    with path.open("rb") as fh:
        head = fh.read(8)
    if head == _OLE_MAGIC:
        return "xls"
    if not zipfile.is_zipfile(path):
        raise WorkbookError("unreadable_file", "不是有效的Excel工作簿（.xlsx、.xls、.et、.ods均不是）")
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "mimetype" in names and zf.read("mimetype").strip() == _ODS_MIME:
                return "ods"
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
        raise WorkbookError("unreadable_file", f"压缩包已损坏：{exc}") from exc
    return "xlsx"


def inspect_archive(path: Path, kind: str = "xlsx") -> tuple[bool, dict[str, list]]:
    """Check a zip container (.xlsx, .ods); returns whether any worksheet holds formulas and,
    per worksheet entry, its merged ranges spanning more than one row (the ones carried
    down; a title merged across a row is just a title)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_ENTRIES:
                raise WorkbookError("unsafe_file", f"压缩包内有{len(infos)}个文件，超过上限")
            names = {i.filename for i in infos}
            if kind == "ods":
                if "content.xml" not in names:
                    raise WorkbookError("unreadable_file", "不是电子表格（缺少content.xml）")
                if any("basic/" in n.lower() or n.lower().endswith(".xba") for n in names):
                    raise WorkbookError("unsafe_file", "工作簿包含宏，请另存为不含宏的表格")
            else:
                if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
                    raise WorkbookError("unreadable_file", "不是Excel工作簿（缺少workbook.xml）")
                if not any(n.startswith("xl/worksheets/") for n in names):
                    raise WorkbookError("missing_sheet",
                                        f"工作簿中没有工作表“{PREFERRED_SHEET}”，也没有其他工作表")
                if any(n.lower().endswith("vbaproject.bin") for n in names):
                    raise WorkbookError("unsafe_file", "工作簿包含宏（VBA），请另存为不含宏的.xlsx")
            total, has_formula, merged = 0, False, {}
            for info in infos:
                if info.flag_bits & 0x1:
                    raise WorkbookError("unreadable_file", "工作簿已加密，请取消密码后重新提交")
                total, found, merges = _scan_entry(zf, info, total)
                if found and info.filename.startswith("xl/worksheets/"):
                    has_formula = True
                if merges:
                    merged[info.filename] = merges
            if kind == "xlsx":
                content_types = zf.read("[Content_Types].xml")
                if b"macroEnabled" in content_types or b"vbaProject" in content_types:
                    raise WorkbookError("unsafe_file", "工作簿声明了宏内容，请另存为不含宏的.xlsx")
    except zipfile.BadZipFile as exc:
        raise WorkbookError("unreadable_file", f"压缩包已损坏：{exc}") from exc
    except (NotImplementedError, RuntimeError, EOFError, OSError) as exc:
        raise WorkbookError("unreadable_file", f"无法解压：{exc}") from exc
    return has_formula, merged


_MERGE = re.compile(rb'<(?:x:)?mergeCell ref="\$?([A-Z]{1,3})\$?(\d+):\$?([A-Z]{1,3})\$?(\d+)"')


def _scan_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, total: int
                ) -> tuple[int, bool, list[tuple[int, int, int, int]]]:
    """Decompress one entry, counting the real bytes (headers can lie) and looking for a DTD;
    (bytes so far, holds a formula, its merged ranges spanning rows), read in the same pass
    (a second parse of every sheet cost ingestion a tenth of its time)."""
    is_xml = info.filename.endswith((".xml", ".rels", ".vml"))
    found_formula = False
    merges: list[tuple[int, int, int, int]] = []
    tail = b""
    written = 0
    with zf.open(info) as fh:
        while True:
            chunk = fh.read(1 << 16)
            if not chunk:
                break
            written += len(chunk)
            total += len(chunk)
            if total > MAX_TOTAL_UNCOMPRESSED:
                raise WorkbookError("unsafe_file", "解压后体积超过上限（疑似压缩炸弹）")
            if written > 1_000_000 and written > MAX_RATIO * max(info.compress_size, 1):
                raise WorkbookError("unsafe_file",
                                    f"{info.filename}压缩比异常（疑似压缩炸弹）")
            if is_xml:
                window = tail + chunk
                if any(marker in window for marker in _DTD_MARKERS):
                    raise WorkbookError("unsafe_file",
                                        f"{info.filename}含有DTD/实体声明（可能的实体扩展攻击）")
                if b"<f>" in window or b"<f " in window or b"<x:f" in window:
                    found_formula = True
                if b"mergeCell " in window:
                    # a ref cut by the chunk's end is found whole in the next window
                    start = max(0, len(tail) - 80) if tail else 0
                    for m in _MERGE.finditer(window, start):
                        if m.end() > len(tail) and int(m.group(4)) > int(m.group(2)):
                            merges.append((int(m.group(2)), _col_index(m.group(1).decode()),
                                           int(m.group(4)), _col_index(m.group(3).decode())))
                tail = chunk[-96:]
    return total, found_formula, merges


def read_rows(path: Path) -> SheetRows:
    """The rows of sheet ``填报`` (or the first worksheet), values as Excel cached them."""
    sheets = read_workbook(path)
    if not sheets:
        raise WorkbookError("missing_sheet", f"没有工作表“{PREFERRED_SHEET}”，也没有其他工作表")
    named = [s for s in sheets if normalize_text(s.sheet) == PREFERRED_SHEET]
    return (named or sheets)[0]


def read_workbook(path: Path, skip: Callable[[str], bool] | None = None) -> list[SheetRows]:
    """Every worksheet of the workbook, in its order (at most ``MAX_SHEETS``), whatever the
    container; a sheet whose name ``skip`` accepts is listed without its rows (a notes sheet
    nobody needs read)."""
    kind = container(path)
    skip = skip or (lambda name: False)
    try:
        if kind == "xls":
            return _read_xls(path, skip)
        has_formula, merged = inspect_archive(path, kind)
        if kind == "ods":
            return [s if not skip(s.sheet) else SheetRows(s.sheet, []) for s in _read_ods(path)]
        return _read_xlsx(path, has_formula, merged, skip)
    except WorkbookError:
        raise
    except Exception as exc:  # the parsers raise many types on malformed parts
        if type(exc).__module__.startswith("defusedxml"):
            raise WorkbookError("unsafe_file", f"XML含有被禁止的结构：{type(exc).__name__}") from exc
        raise WorkbookError("unreadable_file", f"无法读取工作簿：{type(exc).__name__}: {exc}") from exc


def _collect(name: str, rows_iter, merges=()) -> SheetRows:
    """The sheet's non-blank rows, (1-based Excel row, values), at most ``MAX_ROWS``; each merged
    range's value carried down its first column (a merged 任务代码 over a task's milestones).
    ``merges``: (first row, first column, last row, last column), rows 1-based, columns
    0-based."""
    below: dict[int, list[tuple[int, int]]] = {}  # row → (column, the range's first row)
    for first_row, first_col, last_row, _ in merges:
        if last_row > first_row and first_col < MAX_COLS:
            for r in range(first_row + 1, min(last_row, MAX_ROWS) + 1):
                below.setdefault(r, []).append((first_col, first_row))
    carried: dict[tuple[int, int], Any] = {}  # (first row, column) → the range's value
    tops = {(first_row, first_col) for first_row, first_col, last_row, _ in merges
            if last_row > first_row}
    rows: list[tuple[int, tuple[Any, ...]]] = []
    empty_streak, truncated = 0, False
    for number, values in rows_iter:
        if number > MAX_ROWS:
            truncated = True
            break
        if tops:
            for col, value in enumerate(values):
                if (number, col) in tops:
                    carried[(number, col)] = value
        if number in below:
            values = list(values)
            for col, first_row in below[number]:
                while len(values) <= col:
                    values.append(None)
                if values[col] is None:
                    values[col] = carried.get((first_row, col))
            values = tuple(values)
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            empty_streak += 1
            if empty_streak > MAX_EMPTY_STREAK:
                break
            continue
        empty_streak = 0
        rows.append((number, tuple(values)))
    return SheetRows(name, rows, truncated, len(merges))


# -- .xlsx (openpyxl) ---------------------------------------------------------------------------

def _cell_value(cell: Any) -> Any:
    value = getattr(cell, "value", None)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and \
            "%" in (getattr(cell, "number_format", "") or ""):
        return ExcelPercent(value)
    return value


def _read_xlsx(path: Path, has_formula: bool, merged_entries: dict[str, list],
               skip: Callable[[str], bool]) -> list[SheetRows]:
    import openpyxl  # deferred: importing it costs time the CLI's --help should not pay

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    wb_formulas = openpyxl.load_workbook(path, read_only=True, data_only=False) \
        if has_formula else None
    try:
        worksheets = [n for n in wb.sheetnames if wb[n].__class__.__name__ != "Chartsheet"]
        if len(worksheets) > MAX_SHEETS:
            raise WorkbookError("unsafe_file", f"工作簿有{len(worksheets)}张工作表，超过上限{MAX_SHEETS}")
        entries = {}
        if merged_entries:
            with zipfile.ZipFile(path) as zf:
                entries = _xlsx_sheet_entries(zf)
        out = []
        for name in worksheets:
            if skip(name):
                out.append(SheetRows(name, []))
                continue
            ws = wb[name]
            merges = merged_entries.get(entries.get(name, ""), [])
            out.append(_collect(name, _xlsx_rows(ws, wb_formulas[name] if wb_formulas else None),
                                merges))
        return out
    finally:
        wb.close()
        if wb_formulas is not None:
            wb_formulas.close()


def _xlsx_rows(ws: Any, wsf: Any):
    ws.reset_dimensions()
    values_iter = (tuple(_cell_value(c) for c in row)
                   for row in ws.iter_rows(min_row=1, max_col=MAX_COLS))
    formula_iter = None
    if wsf is not None:
        wsf.reset_dimensions()
        formula_iter = wsf.iter_rows(min_row=1, max_col=MAX_COLS)
    for number, values in enumerate(values_iter, start=1):
        cells = next(formula_iter, ()) if formula_iter is not None else ()
        if cells:
            values = tuple(
                FORMULA_WITHOUT_VALUE
                if v is None and i < len(cells) and getattr(cells[i], "data_type", None) == "f"
                else v
                for i, v in enumerate(values))
        yield number, values


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _xlsx_sheet_entries(zf: zipfile.ZipFile) -> dict[str, str]:
    """Each worksheet's name → its XML entry, from the workbook and its relationships."""
    from defusedxml.ElementTree import fromstring

    rels = fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    out = {}
    for sheet in fromstring(zf.read("xl/workbook.xml")).iter():
        if sheet.tag.rsplit("}", 1)[-1] != "sheet":
            continue
        rid = next((v for k, v in sheet.attrib.items() if k.rsplit("}", 1)[-1] == "id"), None)
        target = targets.get(rid, "")
        out[sheet.get("name", "")] = target.lstrip("/") if target.startswith("/") \
            else f"xl/{target}"
    return out


# -- .xls / .et (xlrd) --------------------------------------------------------------------------

def _read_xls(path: Path, skip: Callable[[str], bool]) -> list[SheetRows]:
    import xlrd  # deferred, as openpyxl

    data = path.read_bytes()
    if any(marker in data for marker in _OLE_MACROS):
        raise WorkbookError("unsafe_file", "工作簿包含宏（VBA），请另存为不含宏的表格")
    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True,
                                  logfile=_Silent())
    except xlrd.biffh.XLRDError as exc:
        if "encrypt" in str(exc).lower():
            raise WorkbookError("unreadable_file", "工作簿已加密，请取消密码后重新提交") from exc
        raise WorkbookError("unreadable_file", f"无法读取.xls/.et工作簿：{exc}") from exc
    try:
        if book.nsheets > MAX_SHEETS:
            raise WorkbookError("unsafe_file", f"工作簿有{book.nsheets}张工作表，超过上限{MAX_SHEETS}")
        out = []
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            if skip(sheet.name):
                out.append(SheetRows(sheet.name, []))
                continue
            merges = [(r0 + 1, c0, r1, c1 - 1) for r0, r1, c0, c1 in sheet.merged_cells]
            out.append(_collect(sheet.name, _xls_rows(book, sheet), merges))
            book.unload_sheet(index)
        return out
    finally:
        book.release_resources()


def _xls_rows(book: Any, sheet: Any):
    import xlrd

    for r in range(min(sheet.nrows, MAX_ROWS + 1)):
        values = []
        for c in range(min(sheet.ncols, MAX_COLS)):
            cell = sheet.cell(r, c)
            if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                values.append(None)
            elif cell.ctype == xlrd.XL_CELL_NUMBER:
                fmt = book.format_map.get(book.xf_list[cell.xf_index].format_key)
                values.append(ExcelPercent(cell.value)
                              if fmt is not None and "%" in fmt.format_str else cell.value)
            elif cell.ctype == xlrd.XL_CELL_DATE:
                values.append(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode))
            elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                values.append(bool(cell.value))
            elif cell.ctype == xlrd.XL_CELL_ERROR:
                values.append(FORMULA_WITHOUT_VALUE)
            else:
                values.append(cell.value)
        yield r + 1, tuple(values)


class _Silent:
    """xlrd writes warnings about odd records to a log file: not to the user's terminal."""

    def write(self, text: str) -> None:
        pass


# -- .ods (its content.xml) ---------------------------------------------------------------------

_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"


def _t(name: str) -> str:
    return f"{{{_TABLE}}}{name}"


def _read_ods(path: Path) -> list[SheetRows]:
    """An OpenDocument spreadsheet's tables: each cell by its value type (a percentage, a
    date, a number, text), repeated rows and columns expanded only where they hold something,
    spans as merged ranges."""
    from defusedxml.ElementTree import iterparse

    out: list[SheetRows] = []
    with zipfile.ZipFile(path) as zf, zf.open("content.xml") as fh:
        name, rows, merges, number = "", [], [], 0
        for event, element in iterparse(fh, events=("start", "end")):
            if element.tag == _t("table"):
                if event == "start":
                    name, rows, merges, number = element.get(_t("name"), ""), [], [], 0
                    if len(out) >= MAX_SHEETS:
                        raise WorkbookError("unsafe_file",
                                            f"工作簿的工作表超过上限{MAX_SHEETS}")
                else:
                    out.append(_collect(name, iter(rows), merges))
                    element.clear()
            elif element.tag == _t("table-row") and event == "end":
                repeat = min(int(element.get(_t("number-rows-repeated"), "1")), MAX_ROWS + 1)
                values = _ods_row(element, number + 1, merges)
                if any(v is not None for v in values):
                    for i in range(repeat):
                        if number + i + 1 <= MAX_ROWS + 1:
                            rows.append((number + i + 1, values))
                number += repeat
                element.clear()
    return out


def _ods_row(row: Any, number: int, merges: list) -> tuple[Any, ...]:
    values: list[Any] = []
    for cell in row:
        if cell.tag not in (_t("table-cell"), _t("covered-table-cell")):
            continue
        repeat = int(cell.get(_t("number-columns-repeated"), "1"))
        value = _ods_value(cell) if cell.tag == _t("table-cell") else None
        rows_spanned = int(cell.get(_t("number-rows-spanned"), "1"))
        cols_spanned = int(cell.get(_t("number-columns-spanned"), "1"))
        if (rows_spanned > 1 or cols_spanned > 1) and len(values) < MAX_COLS:
            merges.append((number, len(values), number + rows_spanned - 1,
                           len(values) + cols_spanned - 1))
        values.extend([value] * min(repeat, MAX_COLS - len(values)))
        if len(values) >= MAX_COLS:
            break
    while values and values[-1] is None:
        values.pop()
    return tuple(values)


def _ods_value(cell: Any) -> Any:
    kind = cell.get(f"{{{_OFFICE}}}value-type")
    text = "\n".join("".join(p.itertext()) for p in cell if p.tag == f"{{{_TEXT}}}p")
    if kind is None:
        return FORMULA_WITHOUT_VALUE if cell.get(_t("formula")) else (text or None)
    if kind in ("float", "currency"):
        return float(cell.get(f"{{{_OFFICE}}}value"))
    if kind == "percentage":
        return ExcelPercent(float(cell.get(f"{{{_OFFICE}}}value")))
    if kind == "date":
        return dt.datetime.fromisoformat(cell.get(f"{{{_OFFICE}}}date-value"))
    if kind == "boolean":
        return cell.get(f"{{{_OFFICE}}}boolean-value") == "true"
    return text
