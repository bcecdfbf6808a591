"""The lists on the sample: 2026-10's monthly review fills every list table (the session's
reviewed sample, whose lists carry their history from 2024), a rerun of 2026-08 after 2026-10
reproduces August, and the overdue sensor warns once."""

import shutil

import dagster as dg
import duckdb
import pandas as pd
from conftest import tick

from kj_pipelines.core.settings import DataPaths
from kj_pipelines.defs.resources import default_resources

LIST_TABLES = ["mart.targets", "mart.responsibilities", "mart.tasks", "mart.milestones",
               "mart.projects", "mart.project_milestones", "mart.problems", "mart.supervision"]


def _frame(paths: DataPaths, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def test_monthly_review_fills_every_list(reviewed):
    reviewed = reviewed[0]
    period = "period = '2026-10'"
    tasks = _frame(reviewed, f"SELECT * FROM mart.tasks WHERE {period}")
    assert {"period", "task_code", "action", "lead_unit", "due", "progress", "status"} <= set(tasks)
    assert len(tasks) >= 30 and (tasks["status"] == "overdue").any()
    assert len(_frame(reviewed, f"SELECT * FROM mart.milestones WHERE {period}")) >= 60
    projects = _frame(reviewed, f"SELECT * FROM mart.projects WHERE {period}")
    assert {"project_code", "lead_unit", "planned_investment", "completed_investment",
            "status"} <= set(projects)
    assert len(projects) >= 15 and projects["status"].isin(["behind", "overdue"]).any()
    problems = _frame(reviewed, f"SELECT * FROM mart.problems WHERE {period}")
    assert {"problem_id", "raised_by", "handler", "state", "raised_on", "due", "closed_on",
            "overdue"} <= set(problems)
    assert len(problems) >= 40 and problems["overdue"].any()
    assert (problems["state"] == "确认销号").any() and (problems["refusals"] > 0).any()
    supervision = _frame(reviewed, f"SELECT * FROM mart.supervision WHERE {period}")
    assert {"item_id", "source", "unit", "opened_on", "due", "status"} <= set(supervision)
    assert (supervision["status"] != "closed").any() and (supervision["status"] == "closed").any()
    assert set(supervision["source"]) == {"indicator", "task", "project", "problem"}
    responsibilities = _frame(reviewed, f"SELECT * FROM mart.responsibilities WHERE {period}")
    assert (responsibilities["issue"] == "").all()
    targets = _frame(reviewed, f"SELECT * FROM mart.targets WHERE {period}")
    assert set(targets["status"]) >= {"red", "green"}
    # every submitted row was accepted, and each list has its workbook for the month
    assert _frame(reviewed, "SELECT count(*) AS n FROM quarantine.rejections")["n"][0] == 0
    reports = sorted(p.name for p in (reviewed.reports / "2026-10").iterdir())
    assert reports == sorted([*(f"{n}_2026-10.xlsx" for n in (
        "年度目标清单", "责任清单", "重点任务攻坚表", "重大项目实施表", "问题销号进度表", "督办清单",
        "月调度报告")), "挂图作战_2026-10.html"])


def test_the_months_overview_covers_every_indicator(reviewed, catalog):
    rows = _frame(reviewed[0], """SELECT indicator, unit, as_of, status, missing_units
                                  FROM mart.indicator_progress WHERE period = '2026-10'""")
    # the small sample starts in 2026-08: growth rates (against 2025's months) have nothing to
    # compare with; every other indicator is there
    growth = {c for c, i in catalog.indicators.items() if i.kind == "growth"}
    assert set(rows["indicator"]) == set(catalog.indicators) - growth
    as_of = rows[rows["unit"] == "ALL"].set_index("indicator")["as_of"]
    assert as_of["HL_PLATFORM"] == "2026-09"  # quarterly: its September figure, said so
    assert as_of["RD_GDP"] == "2025-12"  # annual, released in the 2026-09 workbooks
    assert as_of["TECH_CONTRACT"] == "2026-10"
    # 贵驷街道 has not sent its 2026-10 technology contracts: the district total says so
    district = rows[(rows["unit"] == "ALL") & (rows["indicator"] == "TECH_CONTRACT")].iloc[0]
    assert district["missing_units"] == 1 and district["status"] not in ("green", "done")


def test_list_reports_print_well_and_keep_text_as_text(reviewed):
    from openpyxl import load_workbook

    wb = load_workbook(reviewed[0].reports / "2026-10" / "问题销号进度表_2026-10.xlsx")
    ws = wb.active
    assert ws.freeze_panes == "A4" and ws.auto_filter.ref.startswith("A3")
    assert ws.page_setup.orientation == "landscape"
    assert ws.conditional_formatting  # status colours
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def _lists_at(paths: DataPaths, catalog, period: str) -> dict[str, pd.DataFrame]:
    """Every list's tables for a month, through the list assets' own computations."""
    from kj_pipelines.defs.worklists.assets import LIST_SPECS
    from kj_pipelines.worklists.service import ListData

    con = duckdb.connect(str(paths.warehouse))
    try:
        data = ListData.load(con)
        out = {}
        for spec in LIST_SPECS:
            for table, frame in spec.compute(con, data, catalog, period,
                                             paths.reports).frames.items():
                out[table] = frame.sort_values(list(frame.columns[:2])).reset_index(drop=True)
        return out
    finally:
        con.close()


def _ingest(paths: DataPaths, catalog) -> None:
    import datetime as dt

    from kj_pipelines.intake.inbox import ingest_pending
    from kj_pipelines.intake.planlists import read_plan_lists, write_plans
    from kj_pipelines.storage.warehouse import ensure_schema

    con = duckdb.connect(str(paths.warehouse))
    try:
        ensure_schema(con)
        write_plans(con, read_plan_lists(paths.plans, catalog))
        ingest_pending(paths, catalog, con, dt.datetime(2026, 11, 23, 9))
    finally:
        con.close()


def test_a_rerun_of_august_after_october_reproduces_august(small_sample, catalog, tmp_path):
    paths = DataPaths(tmp_path / "data")
    shutil.copytree(small_sample, paths.root)
    later = tmp_path / "later"
    later.mkdir()
    for path in paths.inbox.iterdir():  # what arrives after August's review
        if path.name >= "2026-09":
            shutil.move(str(path), later / path.name)
    _ingest(paths, catalog)
    august = _lists_at(paths, catalog, "2026-08")
    assert len(august["mart.tasks"]) >= 30 and len(august["mart.problems"]) >= 40
    for path in later.iterdir():
        shutil.move(str(path), paths.inbox / path.name)
    _ingest(paths, catalog)
    october = _lists_at(paths, catalog, "2026-10")
    assert not october["mart.problems"].equals(august["mart.problems"])
    again = _lists_at(paths, catalog, "2026-08")
    for table, frame in august.items():
        pd.testing.assert_frame_equal(again[table], frame, obj=table)


def test_the_warning_sensor_reminds_of_the_lists_once_per_item_and_level(reviewed_copy,
                                                                       monkeypatch):
    import datetime as dt

    from kj_pipelines.defs.alerts import sensors
    from kj_pipelines.defs.resources import KJDataResource

    reviewed = reviewed_copy
    monkeypatch.setattr(sensors, "now_local", lambda: dt.datetime(2026, 11, 3, 9, 0))
    resources = default_resources()
    assert isinstance(resources["kj_data"], KJDataResource)
    with dg.instance_for_test() as instance:
        _, cursor = tick(sensors.behind_schedule_sensor, instance, resources=resources)
        first = _frame(reviewed, "SELECT warning_id, kind, level, notified FROM mart.warnings "
                                 "WHERE kind IN ('milestone', 'project', 'problem', 'supervision')")
        assert {"overdue", "due_soon"} <= set(first["level"])
        assert set(first["kind"]) >= {"milestone", "problem", "supervision"}
        assert first["notified"].all()
        # the same day: the lists are not evaluated again; from scratch, nothing is raised twice
        result, _ = tick(sensors.behind_schedule_sensor, instance, cursor, resources)
        assert "清单新提醒/预警 0 条" in result.skip_message
        tick(sensors.behind_schedule_sensor, instance, "", resources)
        second = _frame(reviewed, "SELECT warning_id FROM mart.warnings "
                                  "WHERE kind IN ('milestone', 'project', 'problem', 'supervision')")
        assert sorted(second["warning_id"]) == sorted(first["warning_id"])
    outbox = {p.stem for p in reviewed.outbox.iterdir()}
    assert any(name.startswith("milestone_") for name in outbox)
