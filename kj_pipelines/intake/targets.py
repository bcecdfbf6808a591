"""年度目标清单: the bureau's annual targets by indicator and unit (``plans/<year>/*.xlsx``).

Read with the same safe reader and cell cleaning as submissions; a bad row is rejected with a
reason code and the rest of the list still loads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kj_pipelines.catalog.model import DISTRICT, Catalog
from kj_pipelines.excel.cleaning import CellProblem, clean_code, clean_number
from kj_pipelines.excel.tables import header_row
from kj_pipelines.excel.writing import save_workbook, write_text
from kj_pipelines.intake.findings import Rejection, display_value
from kj_pipelines.intake.planlists import plan_kind, plan_workbooks
from kj_pipelines.intake.target_text import parse_target

# openpyxl is imported where a workbook is written: the definitions load without it

HEADER = ["序号", "指标代码", "指标名称", "计量单位", "单位代码", "单位名称", "年度目标", "完成时限（月）",
          "责任部门", "备注", "上年基数"]
TARGET_COLUMNS = ["year", "indicator", "unit", "target", "deadline_month", "department",
                  "source_file", "row", "comparator", "stretch", "target_text", "baseline",
                  "base_factor", "base_offset", "stretch_factor", "stretch_offset"]


@dataclass
class TargetList:
    targets: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=TARGET_COLUMNS))
    rejections: list[tuple[str, str, Rejection]] = field(default_factory=list)  # (file, sha, r)


def write_target_list(path: Path, catalog: Catalog, year: int, rows: list[dict]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    wb = Workbook()
    ws = wb.active
    ws.title = "年度目标清单"
    ws["A1"] = f"{catalog.units[DISTRICT].name}{year}年科技创新主要指标年度目标清单"
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(HEADER)
    for i, row in enumerate(rows, start=1):
        ind, unit = catalog.indicators[row["indicator"]], catalog.units[row["unit"]]
        ws.append([i, ind.code, ind.name, ind.measure, unit.code, unit.name, None,
                   row.get("deadline_month", 12), catalog.units[ind.department].name, None,
                   row.get("baseline")])
        write_text(ws.cell(row=ws.max_row, column=7), row["target"])  # a number, or "≥850"
        write_text(ws.cell(row=ws.max_row, column=10), row.get("note", ""))
    for col, width in zip("ABCDEFGHIJK", (6, 16, 40, 9, 10, 22, 16, 14, 22, 20, 12), strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A3"
    save_workbook(wb, path)


REQUIRED = ("指标代码", "单位代码", "年度目标")
HEADER_ALIASES = {name: name for name in (*REQUIRED, "完成时限", "上年基数", "基期值")}


def read_target_lists(plans_dir: Path, catalog: Catalog, years: set[int] | None = None
                      ) -> TargetList:
    """The target lists under ``plans/<year>/`` (of ``years`` only, when given)."""
    out = TargetList()
    all_records: list[dict] = []
    for year, name, sha, sheet in plan_workbooks(plans_dir, years):
        if isinstance(sheet, Rejection):
            out.rejections.append((name, sha, sheet))
            continue
        header_pos, cols, _ = header_row(sheet.rows, HEADER_ALIASES, REQUIRED)
        header_pos = None if header_pos < 0 else header_pos
        if header_pos is None and plan_kind(sheet.rows, sheet.sheet) not in (None, "targets"):
            continue  # a task, project or feedback list of the same folder (planlists)
        if header_pos is None:
            out.rejections.append((name, sha, Rejection(sheet.sheet, None, "年度目标", None,
                                                        "missing_column",
                                                        "找不到含“指标代码、单位代码、年度目标”的表头行")))
            continue
        records, rejected = _parse_rows(sheet.sheet, sheet.rows[header_pos + 1:], cols,
                                        catalog, year, name)
        out.rejections.extend((name, sha, r) for r in rejected)
        all_records += records
    if all_records:
        targets = pd.DataFrame(all_records, columns=TARGET_COLUMNS)
        # a later row for the same year, indicator and unit corrects an earlier one
        out.targets = targets.drop_duplicates(["year", "indicator", "unit"], keep="last")
    return out


def _parse_rows(sheet: str, rows: list, cols: dict[str, int], catalog: Catalog, year: int,
                name: str) -> tuple[list[dict], list[Rejection]]:
    records: list[dict] = []
    rejected: list[Rejection] = []
    for excel_row, values in rows:
        def cell(key: str, _v=values):
            i = cols.get(key)
            return _v[i] if i is not None and i < len(_v) else None

        def reject(key: str, code: str, message: str, _r=excel_row) -> None:
            rejected.append(Rejection(sheet, _r, key, display_value(cell(key)), code, message))

        ind_code, unit_code = clean_code(cell("指标代码")), clean_code(cell("单位代码"))
        if isinstance(ind_code, CellProblem) or ind_code not in catalog.indicators:
            reject("指标代码", "unknown_indicator", f"指标代码“{cell('指标代码')}”不在指标目录中")
            continue
        if isinstance(unit_code, CellProblem) or unit_code not in catalog.units:
            reject("单位代码", "unknown_unit", f"单位代码“{cell('单位代码')}”不在单位目录中")
            continue
        ind = catalog.indicators[ind_code]
        target = parse_target(cell("年度目标"), percentage=ind.is_percentage, measure=ind.measure,
                              kind=ind.kind, direction=ind.direction)
        if isinstance(target, CellProblem) or target is None:
            problem = target if isinstance(target, CellProblem) else CellProblem(
                "not_a_number", "年度目标为空")
            reject("年度目标", problem.reason_code, problem.message)
            continue
        base_key = "上年基数" if "上年基数" in cols else "基期值"
        baseline = clean_number(cell(base_key), percentage=ind.is_percentage, measure=ind.measure)
        if isinstance(baseline, CellProblem):
            reject(base_key, baseline.reason_code, baseline.message)
            continue
        deadline = clean_number(cell("完成时限"))
        if isinstance(deadline, CellProblem) or (deadline is not None and (
                deadline != int(deadline) or not 1 <= deadline <= 12)):
            reject("完成时限", "out_of_range", "完成时限应为1-12的月份")
            continue
        # 增长20%以上 against the list's 上年基数 now; without one, against last year's actual
        # when the year is planned (indicators.backschedule.resolve_targets)
        target = target.resolved(baseline)
        records.append({"year": year, "indicator": ind_code, "unit": unit_code,
                        "target": target.value, "deadline_month": int(deadline or 12),
                        "department": ind.department, "source_file": name, "row": excel_row,
                        "comparator": target.comparator, "stretch": target.stretch,
                        "target_text": target.text, "baseline": baseline,
                        "base_factor": target.factor, "base_offset": target.offset,
                        "stretch_factor": target.stretch_factor,
                        "stretch_offset": target.stretch_offset})
    return records, rejected


FINDING_COLUMNS = ["文件", "工作表", "行", "列", "内容", "问题"]


def target_findings(lists: TargetList, catalog: Catalog,
                    last_year: dict[tuple[str, int], dict[str, float]]) -> pd.DataFrame:
    """What keeps a target list from giving every row its target, each naming its cell: rows
    refused (a text that is none of the understood forms, an unknown code), and targets written
    relative to the year before (增长20%以上) with neither a 上年基数 in the list nor last year's
    figure in the warehouse (``last_year``: (indicator, year) → unit → last December's figure)."""
    found = [(file, r.sheet, r.row, r.column, r.value, r.message)
             for file, _, r in lists.rejections]
    targets = lists.targets
    if not targets.empty and "base_factor" in targets.columns:
        waiting = targets[targets["base_factor"].notna() & targets["target"].isna()]
        for row in waiting.itertuples(index=False):
            if row.unit in last_year.get((row.indicator, int(row.year)), {}):
                continue
            found.append((row.source_file, "年度目标清单", row.row, "年度目标", row.target_text,
                          f"“{row.target_text}”以上年为基数，但清单未填“上年基数”，"
                          f"{catalog.unit_name(row.unit)}{int(row.year) - 1}年12月也没有"
                          f"{catalog.indicators[row.indicator].name}的数据：请在清单填写上年基数，"
                          "或补录上年数据"))
    return pd.DataFrame(found, columns=FINDING_COLUMNS)
