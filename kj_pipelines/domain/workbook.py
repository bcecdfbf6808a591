"""Reading untrusted ``.xlsx`` files safely.

Submitted workbooks come from dozens of offices; some are broken, some are hostile. Before
openpyxl sees a file we check it as a zip archive (size, entry count, real decompressed bytes,
compression ratio), refuse macros and XML with a DOCTYPE (entity expansion), and then read at most
a bounded number of rows and columns. Every failure is a :class:`WorkbookError` with a reason code.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kj_pipelines.domain.cleaning import FORMULA_WITHOUT_VALUE, ExcelPercent, normalize_text

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ENTRIES = 2_000
MAX_TOTAL_UNCOMPRESSED = 200 * 1024 * 1024
MAX_RATIO = 200
MAX_ROWS = 50_000
MAX_COLS = 60
MAX_EMPTY_STREAK = 2_000
PREFERRED_SHEET = "填报"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY", "<!DOCTYPE".encode("utf-16-le"),
                "<!ENTITY".encode("utf-16-le"), "<!DOCTYPE".encode("utf-16-be"))


class WorkbookError(Exception):
    def __init__(self, reason_code: str, message: str, sheet: str | None = None):
        super().__init__(message)
        self.reason_code, self.message, self.sheet = reason_code, message, sheet


@dataclass
class SheetRows:
    sheet: str
    rows: list[tuple[int, tuple[Any, ...]]]  # (1-based Excel row, cell values)
    truncated: bool = False


def inspect_archive(path: Path) -> bool:
    """Check the container; returns whether any worksheet holds formulas."""
    size = path.stat().st_size
    if size == 0:
        raise WorkbookError("unreadable_file", "文件为空（0字节）")
    if size > MAX_FILE_BYTES:
        raise WorkbookError("unsafe_file", f"文件大小{size}字节，超过上限{MAX_FILE_BYTES}字节")
    with path.open("rb") as fh:
        head = fh.read(8)
    if head == _OLE_MAGIC:
        raise WorkbookError("unreadable_file", "文件是旧版.xls或加密的工作簿，请另存为未加密的.xlsx")
    if not zipfile.is_zipfile(path):
        raise WorkbookError("unreadable_file", "不是有效的.xlsx文件（不是zip压缩包）")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_ENTRIES:
                raise WorkbookError("unsafe_file", f"压缩包内有{len(infos)}个文件，超过上限")
            names = {i.filename for i in infos}
            if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
                raise WorkbookError("unreadable_file", "不是Excel工作簿（缺少workbook.xml）")
            if not any(n.startswith("xl/worksheets/") for n in names):
                raise WorkbookError("missing_sheet", f"工作簿中没有工作表“{PREFERRED_SHEET}”，也没有其他工作表")
            if any(n.lower().endswith("vbaproject.bin") for n in names):
                raise WorkbookError("unsafe_file", "工作簿包含宏（VBA），请另存为不含宏的.xlsx")
            total, has_formula = 0, False
            for info in infos:
                if info.flag_bits & 0x1:
                    raise WorkbookError("unreadable_file", "工作簿已加密，请取消密码后重新提交")
                total, found = _scan_entry(zf, info, total)
                if found and info.filename.startswith("xl/worksheets/"):
                    has_formula = True
            content_types = zf.read("[Content_Types].xml")
            if b"macroEnabled" in content_types or b"vbaProject" in content_types:
                raise WorkbookError("unsafe_file", "工作簿声明了宏内容，请另存为不含宏的.xlsx")
    except zipfile.BadZipFile as exc:
        raise WorkbookError("unreadable_file", f"压缩包已损坏：{exc}") from exc
    except (NotImplementedError, RuntimeError, EOFError, OSError) as exc:
        raise WorkbookError("unreadable_file", f"无法解压：{exc}") from exc
    return has_formula


def _scan_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, total: int) -> tuple[int, bool]:
    """Decompress one entry, counting the real bytes (headers can lie) and looking for a DTD."""
    is_xml = info.filename.endswith((".xml", ".rels", ".vml"))
    found_formula, head, tail = False, b"", b""
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
                if len(head) < 4096:
                    head += chunk[: 4096 - len(head)]
                if any(marker in window for marker in _DTD_MARKERS):
                    raise WorkbookError("unsafe_file",
                                        f"{info.filename}含有DTD/实体声明（可能的实体扩展攻击）")
                if b"<f>" in window or b"<f " in window or b"<x:f" in window:
                    found_formula = True
                tail = chunk[-32:]
    return total, found_formula


def read_rows(path: Path) -> SheetRows:
    """The rows of sheet ``填报`` (or the first worksheet), values as Excel cached them."""
    main, _ = read_sheets(path)
    if main is None:
        raise WorkbookError("missing_sheet", f"没有工作表“{PREFERRED_SHEET}”，也没有其他工作表")
    return main


def read_sheets(path: Path, extra: tuple[str, ...] = ()) -> tuple[SheetRows | None,
                                                                   dict[str, SheetRows]]:
    """The main sheet (``填报``, else the first worksheet not among ``extra``) and each sheet
    named in ``extra`` that the workbook has (matched after normalizing the name)."""
    has_formula = inspect_archive(path)
    import openpyxl  # deferred: importing it costs time the CLI's --help should not pay

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        wb_formulas = openpyxl.load_workbook(path, read_only=True, data_only=False) \
            if has_formula else None
    except WorkbookError:
        raise
    except Exception as exc:  # openpyxl raises many types on malformed parts
        if type(exc).__module__.startswith("defusedxml"):
            raise WorkbookError("unsafe_file", f"XML含有被禁止的结构：{type(exc).__name__}") from exc
        raise WorkbookError("unreadable_file", f"无法打开工作簿：{type(exc).__name__}: {exc}") from exc
    try:
        worksheets = [n for n in wb.sheetnames if wb[n].__class__.__name__ != "Chartsheet"]
        if not worksheets:
            raise WorkbookError("missing_sheet", f"没有工作表“{PREFERRED_SHEET}”，也没有其他工作表")
        by_key = {normalize_text(n): n for n in worksheets}
        extras = {key: _read_sheet(wb, wb_formulas, by_key[key]) for key in extra if key in by_key}
        main_name = by_key.get(PREFERRED_SHEET) or next(
            (n for n in worksheets if normalize_text(n) not in extra), None)
        main = _read_sheet(wb, wb_formulas, main_name) if main_name else None
        return main, extras
    except WorkbookError:
        raise
    except Exception as exc:
        if type(exc).__module__.startswith("defusedxml"):
            raise WorkbookError("unsafe_file", f"XML含有被禁止的结构：{type(exc).__name__}") from exc
        raise WorkbookError("unreadable_file", f"读取工作表失败：{type(exc).__name__}: {exc}") from exc
    finally:
        wb.close()
        if wb_formulas is not None:
            wb_formulas.close()


def _cell_value(cell: Any) -> Any:
    value = getattr(cell, "value", None)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and \
            "%" in (getattr(cell, "number_format", "") or ""):
        return ExcelPercent(value)
    return value


def _read_sheet(wb: Any, wb_formulas: Any, name: str) -> SheetRows:
    ws = wb[name]
    ws.reset_dimensions()
    values_iter = (tuple(_cell_value(c) for c in row)
                   for row in ws.iter_rows(min_row=1, max_col=MAX_COLS))
    formula_iter = None
    if wb_formulas is not None:
        wsf = wb_formulas[name]
        wsf.reset_dimensions()
        formula_iter = wsf.iter_rows(min_row=1, max_col=MAX_COLS)
    rows: list[tuple[int, tuple[Any, ...]]] = []
    empty_streak, truncated = 0, False
    for number, values in enumerate(values_iter, start=1):
        cells = next(formula_iter, ()) if formula_iter is not None else ()
        if number > MAX_ROWS:
            truncated = True
            break
        if cells:
            values = tuple(
                FORMULA_WITHOUT_VALUE
                if v is None and i < len(cells) and getattr(cells[i], "data_type", None) == "f"
                else v
                for i, v in enumerate(values))
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            empty_streak += 1
            if empty_streak > MAX_EMPTY_STREAK:
                break
            continue
        empty_streak = 0
        rows.append((number, tuple(values)))
    return SheetRows(name, rows, truncated)
