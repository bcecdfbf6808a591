"""The one reader of submission workbooks (月度填报), used by the pipeline and by ``kj validate``.

A file goes through three stages: the container is checked and its rows read
(:mod:`workbook`), every cell is cleaned on its own (:mod:`cleaning`), then the cleaned rows are
validated against the catalog with a pandera schema. A bad cell rejects its row, never the file;
``rows_read == rows_accepted + rows rejected`` always holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kj_pipelines.catalog.model import Catalog
from kj_pipelines.core.files import sha256_of
from kj_pipelines.core.periods import add_months
from kj_pipelines.excel.cleaning import (
    FORMULA_WITHOUT_VALUE,
    CellProblem,
    clean_code,
    clean_note,
    clean_number,
    clean_period,
    normalize_text,
)
from kj_pipelines.excel.reading import PREFERRED_SHEET, SheetRows, WorkbookError, read_workbook
from kj_pipelines.excel.tables import header_row
from kj_pipelines.intake.findings import Rejection, display_value, empty_frame
from kj_pipelines.intake.listsheets import (
    LIST_SHEETS,
    PROBLEM_SHEET,
    ListContext,
    ListRows,
    apply_moves,
    list_table,
    validate_list_sheet,
)
from kj_pipelines.intake.planlists import PlanLists

if TYPE_CHECKING:
    import pandera.pandas as pa

COLUMNS = {"单位代码": "unit", "报告期": "period", "指标代码": "indicator", "本期值": "value",
           "累计值": "cumulative", "备注": "note"}
REQUIRED = ("单位代码", "报告期", "指标代码")
VALUE_COLUMNS = ("本期值", "累计值")
HEADER_ALIASES = {name: name for name in COLUMNS}  # 填报's columns are found by their own names
ACCEPTED_COLUMNS = ["unit", "indicator", "period", "value", "cumulative", "note", "sheet", "row",
                    "value_column", "cumulative_column"]  # the cells' column letters (kj audit)


@dataclass
class FileResult:
    file: str
    sha256: str
    status: str = "rejected"
    rows_read: int = 0
    rows_accepted: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    accepted: pd.DataFrame = field(default_factory=lambda: empty_frame(ACCEPTED_COLUMNS))
    lists: ListRows = field(default_factory=ListRows)
    # where the 问题清单 sheet's rejections sit among the file's: its moves rejected by the
    # ledger join them there once the batch is applied
    problems_at: tuple[int, int] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "sha256": self.sha256, "status": self.status,
                "rows_read": self.rows_read, "rows_accepted": self.rows_accepted,
                "rejections": [asdict(r) for r in self.rejections]}


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def read_submission(path: Path, catalog: Catalog, today: dt.date, *,
                    display_name: str | None = None, lists: ListContext | None = None) -> FileResult:
    """Read and validate one workbook (the ``填报`` sheet and the list sheets 任务进展, 项目进展,
    问题清单 it may carry); never raises for anything wrong inside the file. Problem-ledger events
    that are accepted are applied to ``lists.ledger``."""
    return read_submissions([(path, display_name or str(path))], catalog, today, lists=lists)[0]


# (unit, indicator, period) keys → the 累计值 the warehouse holds for them (those it has)
Cumulatives = Callable[[list[tuple[str, str, str]]], dict[tuple[str, str, str], float]]


def read_submissions(files: Sequence[tuple[Path, str]], catalog: Catalog, today: dt.date, *,
                     lists: ListContext | None = None,
                     stored: Cumulatives | None = None) -> list[FileResult]:
    """:func:`read_submission` for several workbooks ``(path, display name)``, in order. Each file
    is read and cleaned on its own and its list sheets applied to the ledger in turn; the catalog's
    schema then checks the ``填报`` rows of all the files at once (one pandera validation for a
    batch instead of one a file: 7 ms a workbook). ``stored``: the 累计值 the warehouse holds,
    which a row's 本期值 and 累计值 must agree with (:func:`_cumulatives_agree`)."""
    lists = lists if lists is not None else ListContext(PlanLists())
    read = [_read_file(path, name, catalog, today, lists) for path, name in files]
    pending = [main for _, mains, _ in read for main in mains]
    for main, found in zip(pending, _schema_problems(pending, catalog, today), strict=True):
        main.finish(found)
    for _, mains, _ in read:
        if len(mains) > 1:  # a copied 填报 sheet: the same figure twice must agree
            _conflicts_across_sheets(mains)
    _cumulatives_agree([result for result, _, _ in read], catalog, stored)
    # the batch's ledger moves by their dates, whichever file brought them (a department's
    # 已办结 before the town's 确认销号 of it, in either file order)
    results = [result for result, _, _ in read]
    for result, rejected in zip(results, apply_moves([r.lists for r in results], lists),
                                strict=True):
        if rejected:  # among the sheet's own, in row order
            start, end = result.problems_at or (len(result.rejections),) * 2
            result.rejections[start:end] = sorted(result.rejections[start:end] + rejected,
                                                  key=lambda r: r.row or 0)
        result.rows_accepted += len(result.lists) - len(result.lists.tasks) \
            - len(result.lists.projects)  # the problem moves the ledger took
    for result in results:
        if not result.rows_read and not result.rejections:  # a blank template sent back
            result.rejections.append(Rejection(
                None, None, None, None, "empty_workbook",
                "工作簿中没有任何填报数据或清单变动：请填写后再报送（本月清单无变动的，无需报送）"))
        result.status = file_status(result)
    return results


def file_status(result: FileResult) -> str:
    """accepted: every row, and nothing wrong with the file or any sheet; partial: some rows;
    rejected: none (the interface's rule)."""
    if result.rows_accepted and result.rows_accepted == result.rows_read \
            and not result.rejections:
        return "accepted"
    return "partial" if result.rows_accepted else "rejected"


def _read_file(path: Path, name: str, catalog: Catalog, today: dt.date,
               lists: ListContext) -> tuple[FileResult, list[_MainRows], bool]:
    """One workbook read, every sheet placed by its name or header, its cells cleaned and its
    list sheets checked; the ``填报`` rows wait for the schema (with whether a sheet was cut at
    the row limit)."""
    try:
        digest = sha256_of(path)
    except OSError as exc:
        return FileResult(name, "", rejections=[
            Rejection(None, None, None, None, "unreadable_file", f"无法读取文件：{exc}")]), [], False
    result = FileResult(name, digest)
    try:
        sheets = read_workbook(path, skip=lambda sheet: normalize_text(sheet) in INFO_SHEETS)
        mains, extras, unplaced = place_sheets(sheets)
        if not mains and not extras:
            raise WorkbookError("missing_sheet", "工作簿中没有可读取的工作表")
    except WorkbookError as exc:
        result.rejections.append(Rejection(exc.sheet, None, None, None, exc.reason_code, exc.message))
        return result, [], False
    except Exception as exc:  # noqa: BLE001 - a hostile file must never crash the run
        result.rejections.append(Rejection(None, None, None, None, "unreadable_file",
                                           f"无法读取：{type(exc).__name__}: {exc}"))
        return result, [], False
    truncated = [s for s in sheets if s.truncated]
    pending = []
    for main in mains:
        if main.rows or not extras:
            rows = _clean_rows(main.sheet, main.rows, catalog, result,
                               header_only_ok=bool(extras) or len(mains) > 1)
            if rows is not None:
                pending.append(rows)
    current = f"{today.year:04d}-{today.month:02d}"
    for key, sheet in extras:
        rejections, read = validate_list_sheet(key, sheet.sheet, sheet.rows, catalog, lists,
                                               current, result.lists)
        if key == PROBLEM_SHEET:
            start = len(result.rejections)
            result.problems_at = (start, start + len(rejections))
        result.rejections.extend(rejections)
        result.rows_read += read
    result.rows_accepted += len(result.lists.tasks) + len(result.lists.projects)
    for sheet in unplaced:
        result.rejections.append(Rejection(
            sheet.sheet, None, None, None, "unknown_sheet",
            f"工作表“{sheet.sheet}”既不是填报表，也不是任务进展、项目进展或问题清单（找不到这些表的表头），"
            "未读取；如有需要报送的内容，请恢复其表头或移到相应工作表"))
    for sheet in truncated:
        result.rejections.append(Rejection(sheet.sheet, None, None, None, "unsafe_file",
                                           "行数超过上限，超出部分未读取"))
    return result, pending, bool(truncated)


# sheets that explain the workbook (the template's 指标说明): read by people, not by us
INFO_SHEETS = ("指标说明", "说明", "填表说明", "填报说明")
_INFO_HEADER = {"指标代码", "指标名称", "口径说明"}


def place_sheets(sheets: list[SheetRows]) -> tuple[list[SheetRows], list[tuple[str, SheetRows]],
                                                   list[SheetRows]]:
    """Which sheet is what: by its name (``填报``, ``任务进展``, ``项目进展``, ``问题清单``, and the
    template's 指标说明), else by its header, so a renamed or copied sheet (``问题清单 (2)``, as
    Excel names a copy) is read as what it is. Returns (indicator sheets, list sheets as
    (kind, sheet), sheets that are none of these). With no indicator sheet placed, the first
    sheet that is none of these is read as one (the interface's "if absent, the first sheet"),
    so its missing columns are named (when list sheets were found, only if its header looks
    like 填报's); empty sheets are passed over."""
    mains, extras, unplaced = [], [], []
    for sheet in sheets:
        key = normalize_text(sheet.sheet)
        if key == PREFERRED_SHEET:
            mains.append(sheet)
        elif key in LIST_SHEETS:
            extras.append((key, sheet))
        elif key in INFO_SHEETS or not sheet.rows:
            continue
        else:
            kind = sheet_kind(sheet.rows)
            if kind == PREFERRED_SHEET:
                mains.append(sheet)
            elif kind in LIST_SHEETS:
                extras.append((kind, sheet))
            elif kind is None:
                unplaced.append(sheet)
    # no 填报 found: the first other sheet is read as one if nothing else was placed, or if its
    # header names some of 填报's columns (a 填报 renamed with a column's name broken)
    if not mains and unplaced and (not extras or len(_find_header(unplaced[0].rows)[1]) >= 2):
        mains.append(unplaced.pop(0))
    return mains, extras, unplaced


def sheet_kind(rows: list[tuple[int, tuple[Any, ...]]]) -> str | None:
    """What a sheet's header says it is: ``填报``, one of the list sheets, ``说明`` (the
    template's notes on the indicators), or None."""
    _, found, texts = _find_header(rows)
    if all(c in found for c in REQUIRED) and any(c in found for c in VALUE_COLUMNS):
        return PREFERRED_SHEET
    for kind in LIST_SHEETS:
        if list_table(kind, rows) is not None:
            return kind
    if header_row(rows, {name: name for name in _INFO_HEADER}, tuple(_INFO_HEADER))[0] >= 0:
        return "说明"
    return None


def _find_header(rows: list[tuple[int, tuple[Any, ...]]]) -> tuple[int, dict[str, int], list[str]]:
    """The header row among the first rows: the one naming most of the interface's columns
    (:func:`~kj_pipelines.excel.tables.header_row`), with every header text of that row."""
    position, found, _ = header_row(rows, HEADER_ALIASES)
    if position < 0:
        return -1, {}, []
    texts = ["" if v is None or v is FORMULA_WITHOUT_VALUE else str(v).strip()
             for v in rows[position][1]]
    return position, found, texts


@dataclass
class _MainRows:
    """A ``填报`` sheet's rows, each cell cleaned, waiting for the catalog's schema: ``clean`` holds
    the rows without a cell problem, indexed by Excel row; ``problems`` the rejections by row."""

    result: FileResult
    sheet: str
    clean: pd.DataFrame
    problems: dict[int, list[Rejection]]
    found: dict[str, int]
    header_texts: list[str]
    at: int  # where the sheet's rejections go among the file's (before its list sheets')

    def col_label(self, key: str) -> str:
        i = self.found[key]
        text = self.header_texts[i] if i < len(self.header_texts) else ""
        return text or column_letter(i)

    def finish(self, schema_problems: list[tuple[int, Rejection]]) -> None:
        """Add the schema's and the duplicates' problems; what is left is accepted."""
        problems, clean, found = self.problems, self.clean, self.found
        for excel_row, rejection in schema_problems:
            problems.setdefault(excel_row, []).append(rejection)
        if not clean.empty:
            value_label = self.col_label("本期值" if "本期值" in found else "累计值")
            for excel_row, rejection in _duplicate_conflicts(clean, problems, value_label,
                                                             self.sheet):
                problems.setdefault(excel_row, []).append(rejection)
        self.result.rejections[self.at:self.at] = [
            r for excel_row in sorted(problems) for r in problems[excel_row]]
        kept = clean[~clean["row"].isin(problems.keys())] if problems and not clean.empty \
            else clean
        # one frame built from the kept rows' arrays (an assign, a selection and two casts cost
        # a year's ingest 0.2–0.3 s more)
        accepted = pd.DataFrame({
            "unit": kept["unit"].to_numpy(), "indicator": kept["indicator"].to_numpy(),
            "period": kept["period"].to_numpy(),
            "value": kept["value"].to_numpy(dtype="float64", na_value=float("nan")),
            "cumulative": kept["cumulative"].to_numpy(dtype="float64", na_value=float("nan")),
            "note": kept["note"].to_numpy(), "sheet": self.sheet, "row": kept["row"].to_numpy(),
            "value_column": column_letter(found["本期值"]) if "本期值" in found else None,
            "cumulative_column": column_letter(found["累计值"]) if "累计值" in found else None,
        }, columns=ACCEPTED_COLUMNS)
        before = self.result.accepted
        self.result.accepted = accepted if before.empty else pd.concat(
            [before, accepted], ignore_index=True)
        self.result.rows_accepted += len(accepted)


def _clean_rows(sheet: str, rows: list[tuple[int, tuple[Any, ...]]], catalog: Catalog,
                result: FileResult, *, header_only_ok: bool = False) -> _MainRows | None:
    position, found, header_texts = _find_header(rows)
    missing = [c for c in REQUIRED if c not in found]
    if not any(c in found for c in VALUE_COLUMNS):
        missing.append("本期值")
    if len(found) < 2:
        result.rejections.append(Rejection(sheet, None, None, None, "missing_column",
                                           "找不到表头行（应含 单位代码、报告期、指标代码、本期值 等列）"))
        return None
    header_row = rows[position][0]
    if missing:
        for col in missing:
            result.rejections.append(Rejection(sheet, header_row, col, None, "missing_column",
                                               f"第{header_row}行表头缺少“{col}”列"))
        return None
    pending = _MainRows(result, sheet, pd.DataFrame(), {}, found, header_texts,
                        len(result.rejections))
    col_label, problems = pending.col_label, pending.problems
    records: list[dict[str, Any]] = []
    for excel_row, values in rows[position + 1:]:
        def cell(key: str, _values: tuple[Any, ...] = values) -> Any:
            i = found.get(key)
            return _values[i] if i is not None and i < len(_values) else None

        if all(cell(k) is None or (isinstance(cell(k), str) and not cell(k).strip())
               for k in COLUMNS if k in found):
            continue  # a row with only informational columns filled (e.g. a total line)
        row_problems: list[Rejection] = []

        def note(key: str, problem: CellProblem, raw: Any, _p: list[Rejection] = row_problems,
                 _r: int = excel_row) -> None:
            _p.append(Rejection(sheet, _r, col_label(key), display_value(raw), problem.reason_code,
                                problem.message))

        unit = clean_code(cell("单位代码"))
        if isinstance(unit, CellProblem):
            note("单位代码", unit, cell("单位代码"))
        indicator = clean_code(cell("指标代码"))
        if isinstance(indicator, CellProblem):
            note("指标代码", indicator, cell("指标代码"))
        period = clean_period(cell("报告期"))
        if isinstance(period, CellProblem):
            note("报告期", period, cell("报告期"))
        ind = catalog.indicators.get(indicator) if isinstance(indicator, str) else None
        numbers: dict[str, float | None] = {}
        for key in VALUE_COLUMNS:
            if key not in found:
                numbers[key] = None
                continue
            number = clean_number(cell(key), percentage=bool(ind and ind.is_percentage),
                                  measure=ind.measure if ind else "")
            if isinstance(number, CellProblem):
                note(key, number, cell(key))
                numbers[key] = None
            else:
                numbers[key] = number
        note_text = clean_note(cell("备注"))
        if isinstance(note_text, CellProblem):
            note("备注", note_text, cell("备注"))
        if not row_problems and numbers["本期值"] is None and numbers["累计值"] is None:
            key = "本期值" if "本期值" in found else "累计值"
            note(key, CellProblem("not_a_number", "本期值与累计值均为空"), None)
        if row_problems:
            problems[excel_row] = row_problems
            records.append({"row": excel_row, "ok": False})
            continue
        records.append({"row": excel_row, "ok": True, "unit": unit, "indicator": indicator,
                        "period": period, "value": numbers["本期值"],
                        "cumulative": numbers["累计值"], "note": note_text})

    result.rows_read = len(records)
    if not records and not header_only_ok:
        result.rejections.append(Rejection(sheet, None, None, None, "unreadable_file",
                                           f"工作表“{sheet}”第{header_row}行表头下没有数据行"))
    clean = pd.DataFrame([r for r in records if r["ok"]],
                         columns=["row", "ok", "unit", "indicator", "period", "value",
                                  "cumulative", "note"])
    pending.clean = clean.set_index("row", drop=False)
    return pending


_SCHEMAS: dict[tuple[int, dt.date], tuple[Catalog, pa.DataFrameSchema]] = {}


def submission_schema(catalog: Catalog, today: dt.date) -> pa.DataFrameSchema:
    """Catalog rules as a pandera schema; each check is named after its reason code and column.
    Built once per catalog and day (an ingestion validates hundreds of files against it)."""
    key = (id(catalog), today)
    if key not in _SCHEMAS or _SCHEMAS[key][0] is not catalog:
        if len(_SCHEMAS) > 8:
            _SCHEMAS.clear()
        _SCHEMAS[key] = (catalog, _build_schema(catalog, today))
    return _SCHEMAS[key][1]


def _build_schema(catalog: Catalog, today: dt.date) -> pa.DataFrameSchema:
    import pandera.pandas as pa  # imported when first needed: the code location loads faster
    current = f"{today.year:04d}-{today.month:02d}"
    allowed = pd.MultiIndex.from_tuples(
        sorted({(u.code, ind.code) for ind in catalog.indicators.values()
                for u in catalog.reporting_units(ind) if ind.source == "submission"}),
        names=["unit", "indicator"])
    minimum = {c: i.minimum for c, i in catalog.indicators.items()}
    maximum = {c: i.maximum for c, i in catalog.indicators.items()}
    whole = {c for c, i in catalog.indicators.items() if catalog.is_count(i)}
    flows = {c for c, i in catalog.indicators.items() if i.kind == "flow"}
    units, indicators = list(catalog.units), list(catalog.indicators)

    def in_range(column: str):
        def check(df: pd.DataFrame) -> pd.Series:
            v = df[column]
            lo = df["indicator"].map(minimum).astype("float64")
            hi = df["indicator"].map(maximum).astype("float64")
            bad = (lo.notna() & (v < lo)) | (hi.notna() & (v > hi))
            bad |= df["indicator"].isin(whole) & v.notna() & (v.round() != v)
            return ~(v.notna() & bad)
        return check

    def cumulative_not_below_value(df: pd.DataFrame) -> pd.Series:
        both = df["value"].notna() & df["cumulative"].notna() & df["indicator"].isin(flows)
        return ~(both & (df["cumulative"] < df["value"] - 1e-9))

    return pa.DataFrameSchema(
        {
            # built-in Check.isin drops the name, which carries the reason code here
            "unit": pa.Column(str, pa.Check(lambda s: s.isin(units), name="unknown_unit|单位代码")),
            "indicator": pa.Column(str, pa.Check(lambda s: s.isin(indicators),
                                                 name="unknown_indicator|指标代码")),
            "period": pa.Column(str, [
                pa.Check(lambda s: s <= current, name="future_period|报告期"),
                pa.Check(lambda s: s >= catalog.first_period, name="bad_period|报告期"),
            ]),
            "value": pa.Column(float, nullable=True),
            "cumulative": pa.Column(float, nullable=True),
        },
        checks=[
            pa.Check(lambda df: pd.Series(
                pd.MultiIndex.from_frame(df[["unit", "indicator"]]).isin(allowed), index=df.index)
                | ~df["indicator"].isin(indicators) | ~df["unit"].isin(units),
                name="not_reported_by_unit|指标代码"),
            pa.Check(in_range("value"), name="out_of_range|本期值"),
            pa.Check(in_range("cumulative"), name="out_of_range|累计值"),
            pa.Check(cumulative_not_below_value, name="cumulative_below|累计值"),
        ],
    )


_MESSAGES = {
    "unknown_unit": "单位代码“{v}”不在单位目录中",
    "unknown_indicator": "指标代码“{v}”不在指标目录中",
    "not_reported_by_unit": "该单位不报送此指标{registry}",
    "future_period": "报告期“{v}”晚于当前月份",
    "bad_period": "报告期“{v}”早于监测起始期{first}",
    "out_of_range": "数值{v}超出该指标的合理范围或应为整数",
    "cumulative_below": "累计值小于本期值",
}
# the schema's checks in the order it runs them: columns first, then the frame's checks
_CHECK_ORDER = ["unknown_unit|单位代码", "unknown_indicator|指标代码", "future_period|报告期",
                "bad_period|报告期", "not_reported_by_unit|指标代码", "out_of_range|本期值",
                "out_of_range|累计值", "cumulative_below|累计值"]
_REASON = {"not_reported_by_unit": "unknown_indicator", "cumulative_below": "out_of_range"}


def _schema_problems(pending: list[_MainRows], catalog: Catalog,
                     today: dt.date) -> list[list[tuple[int, Rejection]]]:
    """The schema's problems of each sheet's clean rows, ``(Excel row, rejection)``, found by one
    validation of all the sheets' rows together."""
    frames = [m.clean for m in pending if not m.clean.empty]
    if not frames:
        return [[] for _ in pending]
    owners = np.repeat([i for i, m in enumerate(pending) if not m.clean.empty],
                       [len(f) for f in frames])

    def joined(column: str, dtype: str) -> np.ndarray:
        return np.concatenate([f[column].to_numpy(dtype=dtype) for f in frames])

    frame = pd.DataFrame({"unit": joined("unit", "object"),
                          "indicator": joined("indicator", "object"),
                          "period": joined("period", "object"),
                          "value": joined("value", "float64"),
                          "cumulative": joined("cumulative", "float64")})
    excel_rows = joined("row", "int64")
    from pandera.errors import SchemaErrors

    try:
        submission_schema(catalog, today).validate(frame, lazy=True)
        return [[] for _ in pending]
    except SchemaErrors as err:
        cases = err.failure_cases
    # by row, then in the schema's order of checks (pandera orders its failure cases differently
    # as the frame grows); one rejection per row and reason
    hits = sorted({(int(case.index), _CHECK_ORDER.index(str(case.check)), str(case.check))
                   for case in cases.itertuples(index=False)
                   if str(case.check) in _CHECK_ORDER and not pd.isna(case.index)})
    found: list[list[tuple[int, Rejection]]] = [[] for _ in pending]
    seen: set[tuple[int, str]] = set()
    for position, _, check in hits:
        name, column = check.split("|", 1)
        if (position, name) in seen:
            continue
        seen.add((position, name))
        key = {"单位代码": "unit", "指标代码": "indicator", "报告期": "period",
               "本期值": "value", "累计值": "cumulative"}[column]
        raw = frame.at[position, key]
        owner, excel_row = int(owners[position]), int(excel_rows[position])
        main = pending[owner]
        found[owner].append((excel_row, Rejection(
            main.sheet, excel_row, main.col_label(column), display_value(raw),
            _REASON.get(name, name), _MESSAGES[name].format(
                v=raw, first=catalog.first_period,
                registry="（或该指标由系统从登记库计算）" if catalog.has_registry else ""))))
    return found


def _duplicate_conflicts(clean: pd.DataFrame, problems: dict[int, list[Rejection]],
                         value_label: str, sheet: str):
    ok = clean[~clean["row"].isin(problems.keys())] if problems else clean
    keys = ["unit", "indicator", "period"]
    repeated = ok[ok.duplicated(keys, keep=False)]
    if repeated.empty:
        return
    for _, group in repeated.groupby(keys):
        distinct = group[["value", "cumulative"]].astype("float64").round(9).drop_duplicates()
        if len(distinct) < 2:
            continue
        rows = "、".join(str(r) for r in group["row"])
        for r in group["row"]:
            yield int(r), Rejection(sheet, int(r), value_label, display_value(group.at[r, "value"]),
                                    "duplicate_conflict",
                                    f"同一单位、指标、报告期在第{rows}行填报了不同数值")


def _conflicts_across_sheets(mains: list[_MainRows]) -> None:
    """Two indicator sheets of one workbook (a copied 填报) giving one unit, indicator and
    month different figures: neither is taken (``duplicate_conflict`` at both rows); the same
    figure twice is kept once (both rows count as accepted)."""
    result = mains[0].result
    frame = result.accepted
    keys = ["unit", "indicator", "period"]
    repeated = frame[frame.duplicated(keys, keep=False)]
    drop: list[int] = []
    for _, group in repeated.groupby(keys):
        distinct = group[["value", "cumulative"]].astype("float64").round(9).drop_duplicates()
        if len(distinct) < 2:
            drop += list(group.index[1:])  # the same figure: kept once
            continue
        drop += list(group.index)
        result.rows_accepted -= len(group)
        where = "、".join(f"“{r.sheet}”第{r.row}行" for r in group.itertuples())
        for r in group.itertuples():
            result.rejections.append(Rejection(
                r.sheet, int(r.row), None, display_value(r.value), "duplicate_conflict",
                f"同一单位、指标、报告期在{where}填报了不同数值"))
    if drop:
        result.accepted = frame.drop(index=drop).reset_index(drop=True)


# what rounding leaves between a 累计值 and the month before's plus the 本期值, each typed to
# two decimals: three half-cents, or a millionth of a large figure
CUMULATIVE_TOLERANCE = 0.015


def _cumulatives_agree(results: list[FileResult], catalog: Catalog,
                       stored: Cumulatives | None) -> None:
    """A flow's row giving both 本期值 and 累计值 must agree with the unit's 累计值 of the month
    before: that month's in this batch (the last file's), else the warehouse's, else nothing
    to check (a unit's first month; January starts from nothing). A row that disagrees is
    rejected (``inconsistent_cumulative``), naming both cells and the figure of the month
    before: which of the three is wrong only the unit can say."""
    flows = {c for c, ind in catalog.indicators.items() if ind.kind == "flow"}
    batch: dict[tuple[str, str, str], tuple[float, str]] = {}  # key → (累计值, where from)
    for result in results:
        a = result.accepted
        for unit, ind, period, cum, row in zip(a["unit"], a["indicator"], a["period"],
                                               a["cumulative"], a["row"], strict=True):
            if ind in flows and not pd.isna(cum):
                batch[(unit, ind, period)] = (float(cum), f"{result.file}第{int(row)}行")
    checked = [(result, i) for result in results for i in np.flatnonzero(
        result.accepted["indicator"].isin(list(flows)).to_numpy()
        & result.accepted["value"].notna().to_numpy()
        & result.accepted["cumulative"].notna().to_numpy())]
    if not checked:
        return
    before = {}
    for result, i in checked:
        row = result.accepted.iloc[i]
        period = str(row["period"])
        if not period.endswith("-01"):
            before[(result.file, i)] = (str(row["unit"]), str(row["indicator"]),
                                        add_months(period, -1))
    wanted = sorted({key for key in before.values() if key not in batch})
    known = stored(wanted) if stored and wanted else {}
    drop: dict[int, list[int]] = {}
    for result, i in checked:
        row = result.accepted.iloc[i]
        key = before.get((result.file, i))
        if key is None:
            previous, source = 0.0, "1月从零起算"
        elif key in batch:
            previous, source = batch[key][0], f"本批{batch[key][1]}"
        elif key in known:
            previous, source = known[key], "已入库"
        else:
            continue  # no month before to check against
        value, cumulative = float(row["value"]), float(row["cumulative"])
        expected = previous + value
        if abs(cumulative - expected) <= max(CUMULATIVE_TOLERANCE, 1e-6 * abs(cumulative)):
            continue
        excel_row = int(row["row"])
        cells = (f"本期值{row['value_column'] or ''}{excel_row}",
                 f"累计值{row['cumulative_column'] or ''}{excel_row}")
        month = f"上月（{key[2]}）累计值{previous:,.2f}（{source}）" if key else source
        result.rejections.append(Rejection(
            str(row["sheet"]), excel_row, "累计值", display_value(cumulative),
            "inconsistent_cumulative",
            f"{cells[0]} {value:,.2f} 与 {cells[1]} {cumulative:,.2f} 不一致：{month}加本期值应为"
            f"{expected:,.2f}。请核对本期值、累计值和上月数后重报"))
        drop.setdefault(id(result), []).append(i)
    for result in results:
        if id(result) in drop:
            rows = drop[id(result)]
            result.accepted = result.accepted.drop(index=result.accepted.index[rows]) \
                .reset_index(drop=True)
            result.rows_accepted -= len(rows)
