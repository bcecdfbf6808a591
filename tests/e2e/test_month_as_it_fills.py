"""The month as it really fills: units missing, late, twice, out of order and wrong. What the
ops team sees in that state must be true (nothing judged on a partial sum, nothing opened or
closed for a figure nobody sent) and nothing a clerk sent may be lost."""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pytest
from openpyxl import load_workbook

from kj_pipelines.intake.listsheets import new_problem_id
from kj_pipelines.sample.generator import MISSING_2026_10
from tests.workbooks import fill_like_month_before, raise_problem, template


def _read(paths, sql: str, params: list | None = None) -> pd.DataFrame:
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).df()
    finally:
        con.close()


def test_in_the_samples_october_no_total_with_units_missing_is_judged(reviewed):
    paths, _ = reviewed
    missing = {code for _, code in MISSING_2026_10}
    rows = _read(paths, """SELECT indicator, unit, status, missing_units, missing_list,
                                  actual, estimate, estimate_status
                           FROM mart.indicator_progress WHERE period = '2026-10'""")
    waiting = rows[rows["missing_units"] > 0]
    # the district's 重大科技建设项目投资额 and 技术交易额 (贵驷街道 sent neither) and what is
    # derived from them
    assert missing <= set(waiting["indicator"])
    assert set(waiting["status"]) == {"grey"}
    assert set(waiting["missing_list"]) == {"GS"}
    # each with an estimate above its partial sum (GS's September carried forward), judged
    assert (waiting["estimate"] > waiting["actual"]).all()
    assert waiting["estimate_status"].isin(["green", "yellow", "red", "done"]).all()
    # and no supervision item opened on such a total in October
    items = _read(paths, """SELECT item_id, status, opened_on FROM mart.supervision
                            WHERE period = '2026-10' AND source = 'indicator'
                              AND status <> 'closed'""")
    for code in waiting["indicator"]:
        opened = items[items["item_id"] == f"indicator:{code}:ALL"]
        assert (opened["opened_on"].astype(str) < "2026-10-31").all(), opened


def test_the_monthly_report_names_a_waiting_total_and_counts_it(reviewed):
    paths, _ = reviewed
    wb = load_workbook(paths.reports / "2026-10" / "月调度报告_2026-10.xlsx", read_only=True)
    ws = wb["总览"]
    summary = next(row[0] for row in ws.iter_rows(values_only=True)
                   if row and isinstance(row[0], str) and row[0].startswith("指标："))
    assert "全区待报齐指标：2" in summary, summary
    header = next(row for row in ws.iter_rows(values_only=True) if row and row[0] == "指标")
    rows = [dict(zip(header, row, strict=False)) for row in ws.iter_rows(values_only=True)
            if row and row[0] in ("重大科技建设项目投资额", "技术交易额")]
    assert len(rows) == 2
    for row in rows:
        assert row["状态"] == "待报齐" and row["待报单位"] == "贵驷街道"
        assert row["估算状态"] in ("红", "黄", "绿", "完成")


def test_every_indicator_computes_on_a_warehouse_without_submissions(conn, catalog):
    # a backfill before ingestion, a region's first months, a new indicator: grey, not a crash
    import datetime as dt

    from kj_pipelines.indicators.service import run_indicator

    kinds = set()
    for code, ind in catalog.indicators.items():
        run = run_indicator(conn, catalog, code, ["2026-09", "2026-10"], dt.date(2026, 11, 23))
        kinds.add((ind.kind, ind.aggregate, ind.source))
        assert run.values.empty and run.implausible.empty
        # grey where a figure is due, 未到期 where it is not; no status without a target
        due = bool({9, 10} & set(ind.due_months()))
        assert set(run.progress["status"]) <= {"grey" if due else "pending", None}, code
        assert run.progress["actual"].isna().all(), code
    # every kind of indicator the catalog has was tried
    assert {k for k, _, _ in kinds} == {"flow", "stock", "ratio", "growth"}
    assert {a for _, a, _ in kinds} >= {"sum", "ratio", "growth", "district_only"}


def _ingest(paths, catalog, when):
    import datetime as dt

    from kj_pipelines.intake.inbox import ingest_pending
    from kj_pipelines.storage.lock import warehouse_lock  # noqa: F401 - the test runs alone

    con = duckdb.connect(str(paths.warehouse))
    try:
        return ingest_pending(paths, catalog, con, when or dt.datetime(2026, 11, 23, 9))
    finally:
        con.close()


def _problems(paths) -> dict[str, tuple]:
    from kj_pipelines.worklists.service import stored_ledger

    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        return {pid: (p.raised_by, p.handler, p.content, p.state)
                for pid, p in stored_ledger(con).items() if p.raised_on.year == 2026
                and p.raised_on.month == 11}
    finally:
        con.close()


@pytest.mark.parametrize("order", ["as_sent", "supplement_first"])
def test_a_supplementary_workbook_keeps_the_problem_raised_before_it(reviewed_copy, catalog,
                                                                     tmp_path, order):
    import datetime as dt

    paths = reviewed_copy
    drafts = tmp_path / "drafts"
    first = fill_like_month_before(template("XP", "2026-11", drafts / "2026-11_XP.xlsx"),
                                   paths.warehouse)
    raise_problem(first, "研发中试线电力增容审批慢", "区经济和信息化局", day=dt.date(2026, 11, 6))
    supplement = template("XP", "2026-11", drafts / "2026-11_XP_补报.xlsx")
    raise_problem(supplement, "科技型企业首贷难，需对接银行专项产品", "JRB",
                  category="融资服务", day=dt.date(2026, 11, 18))
    for unit in ("ZS", "FGJ"):
        fill_like_month_before(template(unit, "2026-11", drafts / f"2026-11_{unit}.xlsx"),
                               paths.warehouse) if unit != "FGJ" else \
            template(unit, "2026-11", drafts / f"2026-11_{unit}.xlsx")
    batches = [[first, drafts / "2026-11_ZS.xlsx", drafts / "2026-11_FGJ.xlsx"], [supplement]]
    if order == "supplement_first":
        batches.reverse()
    for hour, batch in enumerate(batches, start=9):
        for path in batch:
            shutil.copy(path, paths.inbox / path.name)
        _ingest(paths, catalog, dt.datetime(2026, 11, 23, hour))
    raised = _problems(paths)
    assert sorted(raised.values()) == sorted([
        ("XP", "JRB", "科技型企业首贷难，需对接银行专项产品", "提出"),
        ("XP", "JXJ", "研发中试线电力增容审批慢", "提出")])
    # each id names its problem whatever order the files came in
    assert sorted(raised) == sorted([
        new_problem_id("XP", "2026-11", "研发中试线电力增容审批慢", "JXJ", {}),
        new_problem_id("XP", "2026-11", "科技型企业首贷难，需对接银行专项产品", "JRB", {})])


def _open_problems(paths, state: str) -> list:
    from kj_pipelines.worklists.service import stored_ledger

    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        return sorted((p for p in stored_ledger(con).values() if p.state == state),
                      key=lambda p: p.problem_id)
    finally:
        con.close()


def test_a_batchs_ledger_moves_land_by_their_dates_not_by_file_names(reviewed_copy, catalog,
                                                                    tmp_path, capsys):
    import datetime as dt
    import json

    from kj_pipelines.cli import main
    from tests.workbooks import move_problem

    paths = reviewed_copy
    problem = _open_problems(paths, "办理中")[0]
    dept, town = problem.handler, problem.raised_by
    # the town's file sorts first; its 确认销号 (11-20) confirms the 已办结 (11-12) in the other
    town_book = fill_like_month_before(
        template(town, "2026-11", tmp_path / f"2026-11_A_{town}.xlsx"), paths.warehouse)
    move_problem(town_book, problem.problem_id, "确认销号", dt.date(2026, 11, 20))
    dept_book = fill_like_month_before(
        template(dept, "2026-11", tmp_path / f"2026-11_Z_{dept}.xlsx"), paths.warehouse)
    move_problem(dept_book, problem.problem_id, "已办结", dt.date(2026, 11, 12), "已协调解决")
    # kj validate of the town's file alone: the ledger as stored has no 已办结 yet...
    capsys.readouterr()
    assert main(["validate", "--json", str(town_book)]) == 1
    alone = json.loads(capsys.readouterr().out)
    assert [r["reason_code"] for r in alone["files"][0]["rejections"]] == ["illegal_transition"]
    # ...but with the department's workbook waiting in the inbox, it is considered (and said)
    shutil.copy(dept_book, paths.inbox / dept_book.name)
    assert main(["validate", "--json", str(town_book)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["files"][0]["status"] == "accepted"
    assert report["ledger"]["inbox_files"] == [dept_book.name]
    # ingested together, town's file first by name: both moves land, in the order of their dates
    shutil.copy(town_book, paths.inbox / town_book.name)
    report = _ingest(paths, catalog, dt.datetime(2026, 11, 23, 9))
    assert [r.status for r in report.results] == ["accepted", "accepted"], [
        r.rejections for r in report.results]
    confirmed = {p.problem_id for p in _open_problems(paths, "确认销号")}
    assert problem.problem_id in confirmed


def test_a_workbooks_submission_time_is_when_it_reached_the_inbox(data_dir, catalog, tmp_path):
    import datetime as dt
    import os
    from zoneinfo import ZoneInfo

    from conftest import write_rows

    from kj_pipelines.core.files import sha256_of
    from kj_pipelines.intake.inbox import CATCH_UP, record_arrival

    shanghai = ZoneInfo("Asia/Shanghai")
    paths = data_dir

    def book(name, period, folder=paths.inbox):
        path = write_rows(folder / name, [["JC", "", period, "HT_VA", "", 1.0, 5.0, ""]])
        old = dt.datetime(2020, 1, 1).timestamp()  # written long ago: says nothing
        os.utime(path, (old, old))
        return path

    # a region loads its past: on the warehouse's first ingestion, what no sensor saw is 补录
    book("2026-08_JC.xlsx", "2026-08")
    seen = book("2026-09_JC.xlsx", "2026-09")
    record_arrival(paths.inbox, sha256_of(seen), dt.datetime(2026, 10, 9, 16, 30, tzinfo=shanghai))
    _ingest(paths, catalog, dt.datetime(2026, 11, 23, 9))
    rows = dict(((f, (t, c)) for f, t, c in _read(paths, """
        SELECT file, submitted_at, catch_up FROM raw.submission_files""").itertuples(
        index=False)))
    stamp = rows["2026-08_JC.xlsx"][0]
    assert stamp.tzinfo is not None and stamp.tz_convert(shanghai).hour == 9  # ingestion time
    assert rows["2026-08_JC.xlsx"][1]  # catch-up: never late
    seen_at, catch_up = rows["2026-09_JC.xlsx"]
    assert seen_at.tz_convert(shanghai) == pd.Timestamp("2026-10-09 16:30", tz=shanghai)
    assert not catch_up  # the sensor saw it arrive: judged on that
    assert not (paths.inbox / ".arrivals").exists()  # forgotten once archived
    # later, a late workbook with no record arrives now; one put in 补录/ is history
    book("2026-10_JC.xlsx", "2026-10")
    (paths.inbox / CATCH_UP).mkdir()
    book("2025-12_JC.xlsx", "2025-12", paths.inbox / CATCH_UP)
    _ingest(paths, catalog, dt.datetime(2026, 11, 24, 10))
    later = dict(((f, (t, c)) for f, t, c in _read(paths, """
        SELECT file, submitted_at, catch_up FROM raw.submission_files""").itertuples(
        index=False)))
    assert later["2026-10_JC.xlsx"][0].tz_convert(shanghai).day == 24
    assert not later["2026-10_JC.xlsx"][1] and later["2025-12_JC.xlsx"][1]


def test_catch_up_is_never_scored_late(catalog):
    from kj_pipelines.reviews.scoring import _submission_items

    class Inputs:
        month = "2026-03"
        submissions = pd.DataFrame({
            "unit": ["JC"] * 3, "period": ["2026-01", "2026-02", "2026-03"],
            "first_submitted": pd.to_datetime(["2026-11-23 09:00"] * 3).tz_localize(
                "Asia/Shanghai"),
            "catch_up": [True, True, False]})

    items = _submission_items("JC", Inputs, catalog)
    late = [i for i in items if i["item"] == "LATE"]
    # the months loaded as 补录 are not late; March, arrived in November, is
    assert len(late) == 1 and "2026-03" in late[0]["figure"] and "2026-01" not in late[0]["figure"]


def test_the_months_state_is_the_same_whatever_order_its_workbooks_come_in(reviewed, catalog,
                                                                           tmp_path):
    import datetime as dt

    from kj_pipelines.core.settings import DataPaths
    from tests.workbooks import move_problem

    base, _ = reviewed
    drafts = tmp_path / "drafts"
    problem = next(p for p in _open_problems(base, "办理中"))
    books = [
        raise_problem(fill_like_month_before(template("XP", "2026-11", drafts / "a_XP.xlsx"),
                                             base.warehouse), "电力增容审批慢", "JXJ",
                      day=dt.date(2026, 11, 6)),
        raise_problem(template("XP", "2026-11", drafts / "b_XP_补报.xlsx"), "首贷难", "JRB",
                      day=dt.date(2026, 11, 18)),
        move_problem(fill_like_month_before(
            template(problem.handler, "2026-11", drafts / f"c_{problem.handler}.xlsx"),
            base.warehouse), problem.problem_id, "已办结", dt.date(2026, 11, 12), "已解决"),
        move_problem(fill_like_month_before(
            template(problem.raised_by, "2026-11", drafts / f"d_{problem.raised_by}.xlsx"),
            base.warehouse), problem.problem_id, "确认销号", dt.date(2026, 11, 20)),
    ]
    states = []
    for n, order in enumerate([(0, 1, 2, 3), (3, 2, 1, 0), (1, 3, 0, 2)]):
        root = tmp_path / f"order{n}" / "data"
        shutil.copytree(base.root, root)
        paths = DataPaths(root)
        for hour, i in enumerate(order, start=9):  # each in a run of its own
            shutil.copy(books[i], paths.inbox / books[i].name)
            _ingest(paths, catalog, dt.datetime(2026, 11, 23, hour))
        from kj_pipelines.worklists.service import stored_ledger

        con = duckdb.connect(str(paths.warehouse), read_only=True)
        try:
            ledger = {pid: (p.state, p.handler, p.content) for pid, p in stored_ledger(con).items()}
            values = con.execute("""SELECT unit, indicator, period, value, cumulative
                                    FROM core.submitted_values WHERE period = '2026-11'
                                    ORDER BY ALL""").fetchall()
        finally:
            con.close()
        states.append((ledger, values))
    assert states[0][0][problem.problem_id][0] == "确认销号"
    assert len(states[0][1]) > 0
    assert states[1] == states[0] and states[2] == states[0]


def test_the_months_counts_are_one_count_on_every_page(reviewed):
    """The UI's overview, the board, the monthly report and 年度目标清单 print the same
    red/yellow/green/grey counts for 2026-10, each saying that the top's rows are apart."""
    import re

    import dagster as dg

    paths, instance = reviewed

    def metadata(key: str) -> dict[str, int]:
        (record,) = instance.fetch_materializations(dg.AssetRecordsFilter(
            asset_key=dg.AssetKey.from_user_string(key), asset_partitions=["2026-10"]),
            limit=1).records
        return {k: v.value for k, v in record.asset_materialization.metadata.items()
                if k.endswith("指标") or "单位次" in k}

    ui, targets = metadata("indicator_progress"), metadata("list/targets")
    board_html = (paths.reports / "2026-10" / "挂图作战_2026-10.html").read_text("utf-8")
    summary = re.search(r'<div class="summary">(.*?)</div>', board_html).group(1)
    board = {k: int(v) for k, v in re.findall(r"<span>([^<：]+)：(\d+)</span>", summary)}
    wb = load_workbook(paths.reports / "2026-10" / "月调度报告_2026-10.xlsx", read_only=True)
    line = next(row[0] for row in wb["总览"].iter_rows(values_only=True)
                if row and isinstance(row[0], str) and row[0].startswith("指标："))
    report = {k: int(v) for k, v in (part.split("：") for part in line.split("　")[1:])}
    assert ui == board == report == targets, (ui, board, report, targets)
    assert ui["红灯单位次（不含全区）"] > 0 and "全区红灯指标" in ui
