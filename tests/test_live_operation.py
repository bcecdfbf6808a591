"""Live operation: figures that agree with themselves, poison files that never stop the inbox,
runs that a crash does not leave hanging."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import duckdb

from kj_pipelines.cli import main
from kj_pipelines.domain.submissions import read_submissions
from tests.workbooks import archived, set_figure


def test_a_changed_cumulative_with_its_monthly_left_is_rejected_naming_both_cells(
        reviewed_copy, tmp_path, capsys):
    paths = reviewed_copy
    book = tmp_path / "2026-10_JC_更正.xlsx"
    shutil.copy(archived(paths, "2026-10_JC.xlsx"), book)
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        (cumulative,) = con.execute("""SELECT cumulative FROM core.submitted_values
            WHERE unit = 'JC' AND indicator = 'HT_VA' AND period = '2026-10'""").fetchone()
        (september,) = con.execute("""SELECT cumulative FROM core.submitted_values
            WHERE unit = 'JC' AND indicator = 'HT_VA' AND period = '2026-09'""").fetchone()
    finally:
        con.close()
    set_figure(book, "HT_VA", cumulative=cumulative + 5)  # 本期值 left as it was
    capsys.readouterr()
    assert main(["validate", "--json", str(book)]) == 1
    (rejection,) = json.loads(capsys.readouterr().out)["files"][0]["rejections"]
    assert rejection["reason_code"] == "inconsistent_cumulative"
    assert rejection["column"] == "累计值"
    message = rejection["message"]
    row = rejection["row"]
    assert f"本期值G{row}" in message and f"累计值H{row}" in message  # both cells named
    assert f"{september:,.2f}" in message and "2026-09" in message  # and the month before
    # at ingestion alike: the row is quarantined, the rest of the workbook taken
    from kj_pipelines.ingest import ingest_pending

    shutil.copy(book, paths.inbox / book.name)
    con = duckdb.connect(str(paths.warehouse))
    try:
        from kj_pipelines.domain.catalog import load_catalog

        report = ingest_pending(paths, load_catalog(paths.catalog), con,
                                dt.datetime(2026, 11, 25, 9))
        codes = con.execute("SELECT reason_code FROM quarantine.rejections "
                            "WHERE source_file = ?", [book.name]).fetchall()
    finally:
        con.close()
    (result,) = report.results
    assert result.status == "partial" and codes == [("inconsistent_cumulative",)]


def _month(rows):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "填报"
    ws.append(["单位代码", "报告期", "指标代码", "本期值", "累计值"])
    for row in rows:
        ws.append(row)
    return wb


def test_the_month_before_is_taken_from_the_same_batch_and_january_from_zero(tmp_path,
                                                                            catalog):
    path = tmp_path / "jc.xlsx"
    _month([["JC", "2026-01", "TECH_CONTRACT", 2.0, 2.0],
            ["JC", "2026-02", "TECH_CONTRACT", 3.0, 5.0],   # 2 + 3
            ["JC", "2026-03", "TECH_CONTRACT", 1.0, 6.01],  # 5 + 1, typed with a cent off
            ["JC", "2026-04", "TECH_CONTRACT", 1.0, 9.0],   # 6.01 + 1 is not 9
            ["ZS", "2026-01", "TECH_CONTRACT", 1.0, 1.5]]).save(path)  # January: 0 + 1
    (result,) = read_submissions([(path, "jc.xlsx")], catalog, dt.date(2026, 11, 23))
    assert [(r.row, r.reason_code) for r in result.rejections] == [
        (5, "inconsistent_cumulative"), (6, "inconsistent_cumulative")]
    assert sorted(result.accepted["period"]) == ["2026-01", "2026-02", "2026-03"]
