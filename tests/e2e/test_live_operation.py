"""Live operation: figures that agree with themselves, poison files that never stop the inbox,
runs that a crash does not leave hanging."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import duckdb

from kj_pipelines.cli import main
from kj_pipelines.intake.submissions import read_submissions
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
    from kj_pipelines.intake.inbox import ingest_pending

    shutil.copy(book, paths.inbox / book.name)
    con = duckdb.connect(str(paths.warehouse))
    try:
        from kj_pipelines.catalog.loader import load_catalog

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


def _inbox(paths, catalog, when=dt.datetime(2026, 11, 23, 9)):
    from kj_pipelines.intake.inbox import ingest_pending

    con = duckdb.connect(str(paths.warehouse))
    try:
        report = ingest_pending(paths, catalog, con, when)
        stored = con.execute("SELECT count(*) FROM raw.submission_values").fetchone()[0]
        rejected = con.execute("SELECT source_file, reason_code, message "
                               "FROM quarantine.rejections ORDER BY ALL").fetchall()
    finally:
        con.close()
    return report, stored, rejected


LONG = "镇海区蛟川街道二〇二六年十月科技创新主要指标月度填报表（含重点任务项目进展及问题清单）第二次补充报送终稿" \
    "请审核"  # a 报送 title as offices write them


def test_a_name_at_the_file_systems_limit_is_archived_under_a_shorter_one(data_dir, catalog):
    from conftest import write_rows

    name = (LONG * 2)[:78] + ".xlsx"
    assert 230 <= len(name.encode()) <= 250
    write_rows(data_dir.inbox / name, [["JC", "", "2026-10", "HT_VA", "", 1.0, 5.0, ""]])
    write_rows(data_dir.inbox / "2026-10_ZS.xlsx", [["ZS", "", "2026-10", "HT_VA", "", 2.0, 6.0,
                                                      ""]])
    report, stored, rejected = _inbox(data_dir, catalog)
    assert [r.status for r in report.results] == ["accepted", "accepted"]
    assert stored == 2 and rejected == [] and not report.quarantined
    archived = [p.name for p in data_dir.archive.rglob("*.xlsx")]
    assert len(archived) == 2 and all(len(n.encode()) <= 255 for n in archived)
    assert any("…" in n for n in archived)  # shortened, its extension kept
    assert not any(data_dir.inbox.iterdir())
    # a second run finds nothing to do and duplicates nothing
    report, stored, _ = _inbox(data_dir, catalog)
    assert (report.results, stored) == ([], 2)


def test_poison_in_the_inbox_is_quarantined_and_the_rest_goes_on(data_dir, catalog,
                                                                 monkeypatch, tmp_path):
    import os

    from conftest import write_rows

    from kj_pipelines.intake import inbox as ingest

    inbox = data_dir.inbox
    good = write_rows(inbox / "2026-10_JC.xlsx", [["JC", "", "2026-10", "HT_VA", "", 1.0, 5.0, ""]])
    elsewhere = write_rows(tmp_path / "secret.xlsx", [["ZS", "", "2026-10", "HT_VA", "", 1, 1, ""]])
    (inbox / "链接.xlsx").symlink_to(elsewhere)
    (inbox / "文件夹.xlsx").mkdir()
    os.mkfifo(inbox / "管道.xlsx")
    locked = write_rows(inbox / "2026-10_ZS.xlsx", [["ZS", "", "2026-10", "HT_VA", "", 1, 1, ""]])
    real_hash = ingest.sha256_of

    def hash_of(path):  # as root every file is readable: the permission refused by hand
        if path == locked:
            raise PermissionError(13, "Permission denied")
        return real_hash(path)

    monkeypatch.setattr(ingest, "sha256_of", hash_of)
    report, stored, rejected = _inbox(data_dir, catalog)
    assert [r.file for r in report.results] == [good.name] and stored == 1
    assert sorted(name for name, _, _ in report.quarantined) == [
        "2026-10_ZS.xlsx", "文件夹.xlsx", "管道.xlsx", "链接.xlsx"]
    codes = {name: code for name, code, _ in rejected}
    assert codes == {"链接.xlsx": "unsafe_file", "管道.xlsx": "unsafe_file",
                     "文件夹.xlsx": "unreadable_file", "2026-10_ZS.xlsx": "unreadable_file"}
    assert all("已隔离" in message for _, _, message in rejected)
    assert not any(inbox.iterdir())  # all moved aside, the link itself, never its target
    assert elsewhere.exists() and elsewhere.is_file()
    aside = {p.name.split("_", 1)[1] for p in (data_dir.archive / "2026-11" / "隔离").iterdir()}
    assert aside == {"链接.xlsx", "文件夹.xlsx", "管道.xlsx", "2026-10_ZS.xlsx"}


def test_a_file_still_being_written_waits_and_one_that_cannot_be_archived_keeps_nothing(
        data_dir, catalog, monkeypatch):
    from conftest import write_rows

    from kj_pipelines.intake import inbox as ingest

    fresh = write_rows(data_dir.inbox / "2026-10_JC.xlsx",
                       [["JC", "", "2026-10", "HT_VA", "", 1.0, 5.0, ""]])
    monkeypatch.setenv("KJ_INBOX_SETTLE_SECONDS", "600")
    report, stored, rejected = _inbox(data_dir, catalog)
    assert report.waiting == [fresh.name] and stored == 0 and rejected == [] and fresh.exists()
    monkeypatch.setenv("KJ_INBOX_SETTLE_SECONDS", "0")
    monkeypatch.setattr(ingest, "_archive_copy", lambda paths, path, name: None)
    report, stored, rejected = _inbox(data_dir, catalog)
    assert stored == 0 and [n for n, _, _ in report.quarantined] == [fresh.name]
    assert "无法归档" in rejected[0][2]
