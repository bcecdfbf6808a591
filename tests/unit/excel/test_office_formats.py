"""Workbooks as the towns' offices save them: a filled template saved by LibreOffice as .xls and
.ods (and WPS's .et, the same BIFF8 file) validates exactly as its .xlsx, with percentages,
dates and merged cells read as Excel shows them (fixtures: tests/fixtures/office/make.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from kj_pipelines.excel.reading import WorkbookError, container, read_workbook
from kj_pipelines.intake.listsheets import ListContext
from kj_pipelines.intake.planlists import read_plan_lists
from kj_pipelines.intake.submissions import read_submission

OFFICE = Path(__file__).resolve().parents[2] / "fixtures" / "office"
TODAY = dt.date(2026, 11, 23)
FORMATS = ["xls", "et", "ods"]


def _read(path: Path, catalog, plans: Path | None = None):
    lists = ListContext(read_plan_lists(plans, catalog)) if plans else None
    return read_submission(path, catalog, TODAY, display_name=path.name.rsplit(".")[0],
                           lists=lists)


def _same(a, b) -> None:
    assert (a.status, a.rows_read, a.rows_accepted) == (b.status, b.rows_read, b.rows_accepted)
    assert [(r.sheet, r.row, r.column, r.reason_code) for r in a.rejections] == \
        [(r.sheet, r.row, r.column, r.reason_code) for r in b.rejections]
    pd.testing.assert_frame_equal(a.accepted.drop(columns=["value_column", "cumulative_column"]),
                                  b.accepted.drop(columns=["value_column", "cumulative_column"]),
                                  check_dtype=False)
    for attr in ("tasks", "projects", "problems"):
        pd.testing.assert_frame_equal(getattr(a.lists, attr), getattr(b.lists, attr),
                                      check_dtype=False)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_filled_template_saved_by_libreoffice_reads_as_its_xlsx(fmt, catalog, small_sample):
    plans = small_sample / "plans"
    original = _read(OFFICE / "filled.xlsx", catalog, plans)
    assert original.status == "accepted" and original.rows_accepted == 10 + 1 + 1
    assert container(OFFICE / f"filled.{fmt}") == ("ods" if fmt == "ods" else "xls")
    _same(_read(OFFICE / f"filled.{fmt}", catalog, plans), original)


@pytest.mark.parametrize("fmt", ["xlsx", *FORMATS])
def test_a_percentage_typed_as_one_is_read_in_percent(fmt, catalog):
    got = _read(OFFICE / f"percent.{fmt}", catalog)
    assert got.status == "accepted", got.rejections
    assert got.accepted["value"].tolist() == [pytest.approx(2.6)]


@pytest.mark.parametrize("fmt", ["xlsx", *FORMATS])
def test_merged_codes_carry_down_their_column(fmt):
    (sheet,) = read_workbook(OFFICE / f"merged.{fmt}")
    rows = {number: values for number, values in sheet.rows}
    assert rows[4][:3] == ("KJJ", "2026-03", "T26101")  # shown merged from row 3
    assert rows[4][3] == "全面完成" and sheet.merged == 3


def test_a_hostile_old_format_file_is_refused_not_crashed(tmp_path, catalog):
    fake = tmp_path / "fake.xls"
    fake.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    got = _read(fake, catalog)
    assert got.status == "rejected" and got.rejections[0].reason_code == "unreadable_file"
    with pytest.raises(WorkbookError):
        read_workbook(fake)


@pytest.mark.parametrize("fmt", ["xls", "ods"])
def test_a_libreoffice_copy_ingests_exactly_as_its_xlsx(fmt, catalog, small_sample, tmp_path):
    import shutil

    import duckdb

    from kj_pipelines.core.settings import DataPaths
    from kj_pipelines.intake.inbox import ingest_pending

    stored = {}
    for suffix in ("xlsx", fmt):
        root = tmp_path / suffix
        shutil.copytree(small_sample / "catalog", root / "catalog")
        shutil.copytree(small_sample / "plans", root / "plans")
        paths = DataPaths(root)
        paths.ensure()
        shutil.copy(OFFICE / f"filled.{suffix}", paths.inbox / f"2026-10_XP.{suffix}")
        con = duckdb.connect(str(paths.warehouse))
        try:
            report = ingest_pending(paths, catalog, con, dt.datetime(2026, 11, 23, 9))
            assert [r.status for r in report.results] == ["accepted"]
            stored[suffix] = [con.execute(f"""SELECT * EXCLUDE (sha256, source_file, submitted_at,
                                                  received_at{extra}) FROM {table} ORDER BY ALL""")
                              .fetchall() for table, extra in (
                ("raw.submission_values", ", value_column, cumulative_column, modified_at"),
                ("raw.task_progress", ""), ("raw.problem_events", ""))]
            assert not any(paths.inbox.iterdir())  # archived
        finally:
            con.close()
    assert stored[fmt] == stored["xlsx"]
    assert all(stored["xlsx"])
