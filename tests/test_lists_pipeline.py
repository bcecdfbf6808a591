"""The lists through Dagster on the sample: 2026-10's monthly review fills every list table, a
rerun of 2026-08 after 2026-10 reproduces August, and the overdue sensor warns once."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from kj_pipelines.definitions import build_defs
from kj_pipelines.domain.sample import generate_sample
from kj_pipelines.resources import default_resources
from kj_pipelines.settings import DataPaths

LIST_TABLES = ["mart.targets", "mart.responsibilities", "mart.tasks", "mart.milestones",
               "mart.projects", "mart.project_milestones", "mart.problems", "mart.supervision"]


@pytest.fixture(scope="session")
def list_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Submissions from 2024-01 (the lists' first year) to 2026-10, not yet ingested."""
    root = tmp_path_factory.mktemp("list_sample")
    generate_sample(root, start="2024-01")
    return root


@pytest.fixture(scope="session")
def reviewed(list_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DataPaths]:
    """The sample after the whole monthly_review job for 2026-10."""
    root = tmp_path_factory.mktemp("reviewed") / "data"
    shutil.copytree(list_sample, root)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KJ_DATA_DIR", str(root))
        mp.delenv("KJ_NOTIFY_URLS", raising=False)
        with dg.instance_for_test() as instance:
            job = build_defs().resolve_job_def("monthly_review")
            result = job.execute_in_process(partition_key="2026-10", instance=instance)
            assert result.success
            yield DataPaths(root)


def _frame(paths: DataPaths, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def test_monthly_review_fills_every_list(reviewed):
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
    assert reports == sorted(f"{n}_2026-10.xlsx" for n in (
        "年度目标清单", "责任清单", "重点任务攻坚表", "重大项目实施表", "问题销号进度表", "督办清单"))


def test_the_months_overview_covers_every_indicator(reviewed, catalog):
    rows = _frame(reviewed, """SELECT indicator, unit, as_of, status, missing_units
                               FROM mart.indicator_progress WHERE period = '2026-10'""")
    assert set(rows["indicator"]) == set(catalog.indicators)
    as_of = rows[rows["unit"] == "ALL"].set_index("indicator")["as_of"]
    assert as_of["HL_PLATFORM"] == "2026-09"  # quarterly: its September figure, said so
    assert as_of["RD_GDP"] == "2025-12"  # annual, released nine months after the year
    assert as_of["TECH_CONTRACT"] == "2026-10"
    # 贵驷街道 has not sent its 2026-10 technology contracts: the district total says so
    district = rows[(rows["unit"] == "ALL") & (rows["indicator"] == "TECH_CONTRACT")].iloc[0]
    assert district["missing_units"] == 1 and district["status"] not in ("green", "done")


def test_list_reports_print_well_and_keep_text_as_text(reviewed):
    from openpyxl import load_workbook

    wb = load_workbook(reviewed.reports / "2026-10" / "问题销号进度表_2026-10.xlsx")
    ws = wb.active
    assert ws.freeze_panes == "A4" and ws.auto_filter.ref.startswith("A3")
    assert ws.page_setup.orientation == "landscape"
    assert ws.conditional_formatting  # status colours
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


LISTS_ONLY = dg.AssetSelection.assets("work_plans", "submission_inbox") \
    | dg.AssetSelection.key_prefixes(["list"])


def _lists_run(paths: DataPaths, period: str) -> None:
    defs = build_defs()
    result = dg.materialize(list(defs.assets), selection=LISTS_ONLY, partition_key=period,
                            resources=default_resources(), instance=dg.DagsterInstance.ephemeral())
    assert result.success


def _snapshot(paths: DataPaths, period: str) -> dict[str, pd.DataFrame]:
    out = {}
    for table in LIST_TABLES:
        frame = _frame(paths, f"SELECT * FROM {table} WHERE period = '{period}'")
        out[table] = frame.sort_values(list(frame.columns[:3])).reset_index(drop=True)
    return out


def test_a_rerun_of_august_after_october_reproduces_august(list_sample, tmp_path, monkeypatch):
    root = tmp_path / "data"
    shutil.copytree(list_sample, root)
    monkeypatch.setenv("KJ_DATA_DIR", str(root))
    paths = DataPaths(root)
    later = tmp_path / "later"
    later.mkdir()
    for path in paths.inbox.iterdir():  # what arrives after August's review
        if path.name >= "2026-09":
            shutil.move(str(path), later / path.name)
    _lists_run(paths, "2026-08")
    august = _snapshot(paths, "2026-08")
    assert len(august["mart.tasks"]) >= 30 and len(august["mart.problems"]) >= 35
    for path in later.iterdir():
        shutil.move(str(path), paths.inbox / path.name)
    _lists_run(paths, "2026-10")
    october = _snapshot(paths, "2026-10")
    assert not october["mart.problems"].equals(august["mart.problems"])
    _lists_run(paths, "2026-08")
    again = _snapshot(paths, "2026-08")
    for table in LIST_TABLES:
        pd.testing.assert_frame_equal(again[table], august[table], obj=table)


def test_overdue_sensor_warns_once_per_item_and_level(reviewed, monkeypatch):
    import datetime as dt

    from kj_pipelines import sensors
    from kj_pipelines.resources import KJDataResource

    monkeypatch.setenv("KJ_DATA_DIR", str(reviewed.root))
    monkeypatch.setattr(sensors, "now_local", lambda: dt.datetime(2026, 11, 3, 9, 0))
    resources = default_resources()
    assert isinstance(resources["kj_data"], KJDataResource)
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources=resources)
        sensors.overdue_sensor(context)
        first = _frame(reviewed, "SELECT warning_id, kind, level, notified FROM mart.warnings "
                                 "WHERE kind IN ('milestone', 'project', 'problem', 'supervision')")
        assert {"overdue", "due_soon"} <= set(first["level"])
        assert set(first["kind"]) >= {"milestone", "problem", "supervision"}
        assert first["notified"].all()
        context = dg.build_sensor_context(instance=instance, resources=resources, cursor="")
        sensors.overdue_sensor(context)
        second = _frame(reviewed, "SELECT warning_id FROM mart.warnings "
                                  "WHERE kind IN ('milestone', 'project', 'problem', 'supervision')")
        assert sorted(second["warning_id"]) == sorted(first["warning_id"])
    outbox = {p.stem for p in reviewed.outbox.iterdir()}
    assert any(name.startswith("milestone_") for name in outbox)
