"""The one reader: every reason code at its row and column, hostile files, counts that reconcile."""

import datetime as dt
import zipfile
from pathlib import Path

import pytest
from conftest import TODAY, write_rows
from openpyxl import Workbook

from kj_pipelines.intake.listsheets import ListContext
from kj_pipelines.intake.planlists import read_plan_lists
from kj_pipelines.intake.submissions import read_submission, read_submissions


def codes(result):
    return [(r.row, r.column, r.reason_code) for r in result.rejections]


def read(path, catalog):
    result = read_submission(path, catalog, TODAY)
    rejected_rows = {r.row for r in result.rejections
                     if r.row is not None and r.reason_code != "missing_column"}
    assert result.rows_read == result.rows_accepted + len(rejected_rows)
    return result


def test_clean_workbook_is_accepted(tmp_path, catalog):
    path = write_rows(tmp_path / "ok.xlsx", [
        ["JC", "蛟川街道", "2026-10", "HT_VA", "", "12.5", "100.25", ""],
        [" jc ", "", "2026年10月", "IND_VA", "", "１,２３４.５", "", "备注"],
        ["JC", "", dt.datetime(2026, 10, 1), "FAI", "", 3, 30, None],
    ])
    result = read(path, catalog)
    assert result.status == "accepted"
    assert result.rows_read == 3
    assert list(result.accepted["value"]) == [12.5, 1234.5, 3.0]
    assert list(result.accepted["row"]) == [3, 4, 5]  # title row 1, header row 2
    assert set(result.accepted["period"]) == {"2026-10"}


def test_each_reason_code_at_its_row_and_column(tmp_path, catalog):
    path = write_rows(tmp_path / "bad.xlsx", [
        ["XX_TOWN", "", "2026-10", "HT_VA", "", 1, 1, ""],          # 3 unknown_unit
        ["JC", "", "2026-10", "NOPE", "", 1, 1, ""],                # 4 unknown_indicator
        ["JC", "", "2026-14", "HT_VA", "", 1, 1, ""],               # 5 bad_period
        ["JC", "", "2027-01", "HT_VA", "", 1, 1, ""],               # 6 future_period
        ["JC", "", "2026-10", "HT_VA", "", "十二", 1, ""],           # 7 not_a_number
        ["JC", "", "2026-10", "IND_VA", "", "待定", None, ""],       # 8 placeholder
        ["JC", "", "2026-10", "FAI", "", -5, 1, ""],                # 9 out_of_range
        ["JC", "", "2026-09", "HT_INV", "", 1, 2, ""],              # 10 duplicate_conflict
        ["JC", "", "2026-09", "HT_INV", "", 2, 3, ""],              # 11 duplicate_conflict
        ["JC", "", "2026-10", "HT_NEW", "", 3, 3, ""],              # 12 registry-only indicator
        ["JC", "", "2018-12", "HT_VA", "", 1, 1, ""],               # 13 before monitoring start
        ["JC", "", "2026-08", "HT_VA", "", 1, 1, "fine"],           # 14 accepted
    ])
    result = read(path, catalog)
    assert result.status == "partial"
    assert result.rows_read == 12 and result.rows_accepted == 1
    found = codes(result)
    assert (3, "单位代码", "unknown_unit") in found
    assert (4, "指标代码", "unknown_indicator") in found
    assert (5, "报告期", "bad_period") in found
    assert (6, "报告期", "future_period") in found
    assert (7, "本期值", "not_a_number") in found
    assert (8, "本期值", "placeholder") in found
    assert (9, "本期值", "out_of_range") in found
    assert (10, "本期值", "duplicate_conflict") in found
    assert (11, "本期值", "duplicate_conflict") in found
    assert (12, "指标代码", "unknown_indicator") in found
    assert (13, "报告期", "bad_period") in found
    assert all(r.sheet == "填报" for r in result.rejections)
    assert next(r for r in result.rejections if r.row == 7).value == "十二"


def test_a_batch_reads_each_file_as_alone(tmp_path, catalog):
    """One schema validation for the batch: each problem still lands in its own file, row and
    column, with the same counts and status as the file read on its own."""
    bad = write_rows(tmp_path / "a.xlsx", [
        ["JC", "", "2026-10", "HT_VA", "", 1, 1, ""],
        ["XX_TOWN", "", "2026-10", "HT_VA", "", 1, 1, ""],           # 4 unknown_unit
        ["JC", "", "2026-10", "FAI", "", -5, 1, ""],                 # 5 out_of_range
    ])
    good = write_rows(tmp_path / "b.xlsx", [["JC", "", "2026-10", "IND_VA", "", 2, 2, ""]])
    broken = tmp_path / "c.xlsx"
    broken.write_bytes(b"not a workbook")
    other = write_rows(tmp_path / "d.xlsx", [
        ["JC", "", "2027-01", "HT_VA", "", 1, 1, ""],                # 3 future_period
        ["JC", "", "2026-10", "HT_INV", "", "十二", 1, ""],           # 4 not_a_number
        ["JC", "", "2026-09", "FAI", "", 1, 1, ""],
    ])
    files = [bad, good, broken, other]
    together = read_submissions([(f, f.name) for f in files], catalog, TODAY)
    alone = [read_submission(f, catalog, TODAY, display_name=f.name) for f in files]
    for t, a in zip(together, alone, strict=True):
        assert (t.file, t.status, t.rows_read, t.rows_accepted) == \
            (a.file, a.status, a.rows_read, a.rows_accepted)
        assert t.rejections == a.rejections
        assert t.accepted.equals(a.accepted)
    assert codes(together[0]) == [(4, "单位代码", "unknown_unit"), (5, "本期值", "out_of_range")]
    assert together[1].status == "accepted" and together[2].status == "rejected"
    assert codes(together[3]) == [(3, "报告期", "future_period"), (4, "本期值", "not_a_number")]
    assert list(together[3].accepted["row"]) == [5]


def test_identical_duplicates_are_not_a_conflict(tmp_path, catalog):
    row = ["JC", "", "2026-10", "HT_VA", "", 1.5, 10, ""]
    result = read(write_rows(tmp_path / "dup.xlsx", [row, row]), catalog)
    assert result.status == "accepted"


def test_missing_column_is_reported_at_the_header(tmp_path, catalog):
    header = ["单位代码", "报告期", "本期值"]
    result = read(write_rows(tmp_path / "nocol.xlsx", [["JC", "2026-10", 1]], header=header),
                  catalog)
    assert result.status == "rejected"
    assert (2, "指标代码", "missing_column") in codes(result)


def test_header_with_notes_any_order_and_first_sheet_fallback(tmp_path, catalog):
    header = ["备注", "累计值（年初至今）", "本期值（当月）", "指标代码", "报告期", " 单位代码 ", "填报人"]
    path = write_rows(tmp_path / "order.xlsx", [["", 20, 2, "HT_VA", "2026/10", "ZS", "张三"]],
                      header=header, sheet="Sheet1", title=None)
    result = read(path, catalog)
    assert result.status == "accepted"
    assert result.accepted.iloc[0][["unit", "value", "cumulative"]].tolist() == ["ZS", 2.0, 20.0]


def test_formula_without_cached_value(tmp_path, catalog):
    wb = Workbook()
    ws = wb.active
    ws.title = "填报"
    ws.append(["单位代码", "报告期", "指标代码", "本期值", "累计值"])
    ws.append(["JC", "2026-10", "HT_VA", "=1+1", 5])
    ws.append(["JC", "2026-10", "FAI", 1, 5])
    path = tmp_path / "formula.xlsx"
    wb.save(path)  # openpyxl writes no cached value for formulas
    result = read(path, catalog)
    assert (2, "本期值", "formula_without_value") in codes(result)
    assert result.rows_accepted == 1


def _hostile(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _valid_bytes(tmp_path, catalog) -> Path:
    return write_rows(tmp_path / "base.xlsx", [["JC", "", "2026-10", "HT_VA", "", 1, 1, ""]])


def _rezip(src: Path, dst: Path, extra: dict[str, bytes], replace: dict[str, bytes] | None = None):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = (replace or {}).get(item.filename, zin.read(item.filename))
            zout.writestr(item.filename, data)
        for name, data in extra.items():
            zout.writestr(name, data)
    return dst


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>&lol3;</t></is></c></row></sheetData></worksheet>"""


@pytest.mark.parametrize("kind", ["empty", "not_zip", "ole", "macro", "entities", "zip_bomb",
                                  "truncated", "no_sheets"])
def test_hostile_files_end_as_rejections(tmp_path, catalog, kind):
    base = _valid_bytes(tmp_path, catalog)
    expected = {"empty": "unreadable_file", "not_zip": "unreadable_file",
                "ole": "unreadable_file", "macro": "unsafe_file", "entities": "unsafe_file",
                "zip_bomb": "unsafe_file", "truncated": "unreadable_file",
                "no_sheets": "missing_sheet"}[kind]
    if kind == "empty":
        path = _hostile(tmp_path, "empty.xlsx", b"")
    elif kind == "not_zip":
        path = _hostile(tmp_path, "text.xlsx", "单位代码,报告期\nJC,2026-10\n".encode())
    elif kind == "ole":
        path = _hostile(tmp_path, "old.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    elif kind == "macro":
        path = _rezip(base, tmp_path / "macro.xlsm", {"xl/vbaProject.bin": b"\0VBA" * 100})
    elif kind == "entities":
        path = _rezip(base, tmp_path / "lol.xlsx", {},
                      replace={"xl/worksheets/sheet1.xml": BILLION_LAUGHS})
    elif kind == "zip_bomb":
        path = _rezip(base, tmp_path / "bomb.xlsx", {"xl/media/zeros.bin": b"\0" * (8 << 20)})
    elif kind == "truncated":
        data = base.read_bytes()
        path = _hostile(tmp_path, "cut.xlsx", data[: len(data) // 2])
    else:
        with zipfile.ZipFile(tmp_path / "nosheet.xlsx", "w") as z:
            z.writestr("[Content_Types].xml", "<Types/>")
            z.writestr("xl/workbook.xml", "<workbook/>")
        path = tmp_path / "nosheet.xlsx"
    result = read(path, catalog)
    assert result.status == "rejected"
    assert result.rows_read == 0
    assert [r.reason_code for r in result.rejections] == [expected]
    assert result.rejections[0].message


def test_far_away_cell_does_not_hang(tmp_path, catalog):
    wb = Workbook()
    ws = wb.active
    ws.title = "填报"
    ws.append(["单位代码", "报告期", "指标代码", "本期值", "累计值"])
    ws.append(["JC", "2026-10", "HT_VA", 1, 1])
    ws.cell(row=200_000, column=16_000, value="x")
    path = tmp_path / "far.xlsx"
    wb.save(path)
    result = read(path, catalog)
    assert result.rows_accepted == 1


def test_sample_messy_cells_are_accepted(small_sample, catalog):
    # the list sheets are checked against the sample's plans and the ledger the files build up
    lists = ListContext(read_plan_lists(small_sample / "plans", catalog))
    for path in sorted((small_sample / "inbox").glob("*.xlsx")):
        result = read_submission(path, catalog, TODAY, lists=lists)
        assert result.status == "accepted", (path.name, result.rejections[:3])


def test_percent_formatted_cells(tmp_path, catalog):
    wb = Workbook()
    ws = wb.active
    ws.title = "填报"
    ws.append(["单位代码", "报告期", "指标代码", "本期值", "累计值"])
    ws.append(["TJJ", "2025-12", "RD_GDP", 0.0341, None])   # typed as 3.41% in Excel
    ws.append(["JC", "2026-10", "HT_VA", 0.5, 3])            # % format on a 亿元 figure
    ws["D2"].number_format = "0.00%"
    ws["D3"].number_format = "0%"
    path = tmp_path / "pct.xlsx"
    wb.save(path)
    result = read(path, catalog)
    assert result.accepted["value"].tolist() == [pytest.approx(3.41)]
    assert codes(result) == [(3, "本期值", "not_a_number")]


def test_header_without_data_rows_says_so(tmp_path, catalog):
    result = read(write_rows(tmp_path / "empty_rows.xlsx", []), catalog)
    assert result.status == "rejected" and result.rows_read == 0
    assert [(r.row, r.reason_code) for r in result.rejections] == [(None, "unreadable_file")]
    assert "没有数据行" in result.rejections[0].message


def test_whole_number_measures_come_from_the_catalog(tmp_path, catalog):
    import dataclasses

    path = write_rows(tmp_path / "half.xlsx", [["JC", "", "2026-10", "TECH_CONTRACT", "", 1.5, 3.5, ""]])
    assert read(path, catalog).status == "accepted"  # 亿元 is not a count
    counting = dataclasses.replace(catalog, count_measures=(*catalog.count_measures, "亿元"))
    rejected = read(path, counting)
    assert [r.reason_code for r in rejected.rejections] == ["out_of_range"]
    assert "人" in catalog.count_measures and "家次" in catalog.count_measures
