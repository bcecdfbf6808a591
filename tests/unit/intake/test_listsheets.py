"""The list sheets of the monthly workbook (任务进展, 项目进展, 问题清单): reason codes at their row
and column, hostile sheets, and the round trip kj template → filled → kj validate."""

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from openpyxl import Workbook, load_workbook

from kj_pipelines.cli import main
from kj_pipelines.intake.inbox import ingest_pending
from kj_pipelines.intake.listsheets import ListContext, new_problem_id
from kj_pipelines.intake.planlists import read_plan_lists, write_project_list, write_task_list
from kj_pipelines.intake.submissions import read_submission
from kj_pipelines.worklists import ledger as lg

TODAY = dt.date(2026, 11, 23)
D = dt.date
TASK_HEAD = ["单位代码", "报告期", "任务代码", "节点", "完成日期", "进度（%）", "说明"]
PROJECT_HEAD = ["单位代码", "报告期", "项目代码", "累计完成投资（万元）", "节点", "完成日期", "说明"]
PROBLEM_HEAD = ["单位代码", "报告期", "问题编号", "问题内容", "类别", "承办部门", "期望解决日期", "状态",
                "日期", "答复/说明"]


@pytest.fixture
def plans(tmp_path: Path, catalog) -> Path:
    root = tmp_path / "plans"
    write_task_list(root / "2026" / "任务.xlsx", catalog, 2026, "镇海区", [
        {"code": "T26101", "action": "reform", "content": "谋划推进科技创新攻坚行动", "lead": "KJJ",
         "coop": ("FGJ",), "milestones": [("制定工作方案", D(2026, 3, 31)), ("全面完成", D(2026, 12, 25))]},
        {"code": "T26501", "action": "enterprises", "content": "研发活动清零", "lead": "JLH",
         "coop": (), "milestones": [("完成摸底", D(2026, 6, 30))]}])
    write_project_list(root / "2026" / "项目.xlsx", catalog, 2026, "镇海区", [
        {"code": "P2601", "name": "中试基地", "lead": "HGQ", "coop": ("FGJ",), "total": 30000,
         "quarters": [1000, 2000, 3000, 4000], "milestones": {"开工": D(2026, 3, 28)}}])
    return root


def _book(path: Path, sheets: dict[str, tuple[list, list[list]]]) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    for name, (header, rows) in sheets.items():
        ws = wb.create_sheet(name)
        ws.append([f"{name}（测试）"])
        ws.append(header)
        for row in rows:
            ws.append(row)
        for line in ws.iter_rows(min_row=3):
            for cell in line:  # submitted text, not formulas (a formula is tested on its own)
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _read(path: Path, catalog, plans: Path, ledger=None):
    ctx = ListContext(read_plan_lists(plans, catalog), {} if ledger is None else ledger)
    return read_submission(path, catalog, TODAY, lists=ctx), ctx


def _codes(result) -> list[tuple]:
    return [(r.sheet, r.row, r.column, r.reason_code) for r in result.rejections]


def test_task_progress_rows_accepted_and_rejected_at_their_cells(tmp_path, catalog, plans):
    path = _book(tmp_path / "kjj.xlsx", {"任务进展": (TASK_HEAD, [
        ["KJJ", "2026-03", "T26101", "制定工作方案", "2026-03-20", "40%", "按计划"],   # row 3: fine
        ["KJJ", "2026-03", "T99999", "制定工作方案", "2026-03-20", 40, ""],           # unknown task
        ["KJJ", "2026-06", "T26501", "完成摸底", "2026-06-20", 100, ""],              # not the lead
        ["KJJ", "2026-03", "T26101", "不存在的节点", "2026-03-20", 40, ""],           # no such milestone
        ["KJJ", "2026-03", "T26101", "制定工作方案", "2026年13月1日", 40, ""],          # bad date
        ["KJJ", "2026-03", "T26101", "制定工作方案", "2026-04-02", 40, ""],           # after the month
        ["KJJ", "2026-03", "T26101", "", None, 150, ""],                            # progress > 100
    ])})
    result, _ = _read(path, catalog, plans)
    assert result.status == "partial"
    assert (result.rows_read, result.rows_accepted) == (7, 1)
    assert _codes(result) == [
        ("任务进展", 4, "任务代码", "unknown_task"), ("任务进展", 5, "任务代码", "unknown_task"),
        ("任务进展", 6, "节点", "unknown_task"), ("任务进展", 7, "完成日期", "bad_date"),
        ("任务进展", 8, "完成日期", "bad_date"), ("任务进展", 9, "进度（%）", "out_of_range")]
    row = result.lists.tasks.iloc[0]
    assert (row["task_code"], row["done_on"], row["progress"]) == ("T26101", D(2026, 3, 20), 40.0)


def test_project_progress_rows(tmp_path, catalog, plans):
    path = _book(tmp_path / "hgq.xlsx", {"项目进展": (PROJECT_HEAD, [
        ["HGQ", "2026-03", "P2601", 600, "开工", "2026-03-27", "开工"],
        ["HGQ", "2026-03", "P9999", 600, "", None, ""],
        ["HGQ", "2026-03", "P2601", -5, "", None, ""],
        ["HGQ", "2026-03", "P2601", 600, "剪彩", "2026-03-27", ""],
        ["JC", "2026-03", "P2601", 600, "", None, ""],
    ])})
    result, _ = _read(path, catalog, plans)
    assert _codes(result) == [
        ("项目进展", 4, "项目代码", "unknown_project"), ("项目进展", 5, "累计完成投资（万元）", "out_of_range"),
        ("项目进展", 6, "节点", "unknown_project"), ("项目进展", 7, "项目代码", "unknown_project")]
    assert result.lists.projects["invested"].tolist() == [600.0]


def test_problem_sheet_raises_moves_and_refuses_illegal_steps(tmp_path, catalog, plans):
    town = _book(tmp_path / "jlh.xlsx", {"问题清单": (PROBLEM_HEAD, [
        ["JLH", "2026-03", None, "用地指标不足", "用地保障", "区发展和改革局", "2026-04-30", "提出", "2026-03-10", ""],
        ["JLH", "2026-03", None, "电力增容慢", "要素保障", "JXJ", None, "提出", None, ""],
        ["JLH", "2026-03", None, "内容", "x", "骆驼街道", None, "提出", None, ""],  # handler not a department
    ])})
    result, ctx = _read(town, catalog, plans)
    assert _codes(result) == [("问题清单", 5, "承办部门", "unknown_unit")]
    land = new_problem_id("JLH", "2026-03", "用地指标不足", "FGJ", {})
    power = new_problem_id("JLH", "2026-03", "电力增容慢", "JXJ", {})
    assert sorted(ctx.ledger) == sorted([land, power]) and land.startswith("JLH-202603-")
    assert ctx.ledger[land].handler == "FGJ"
    assert ctx.ledger[power].raised_on == D(2026, 3, 31)  # no date: the month's end

    dept = _book(tmp_path / "fgj.xlsx", {"问题清单": (PROBLEM_HEAD, [
        ["FGJ", "2026-04", land, None, None, None, None, "受理", "2026-04-02", ""],
        ["FGJ", "2026-04", land, None, None, None, None, "已办结", "2026-04-03", "已解决"],
        ["FGJ", "2026-04", power, None, None, None, None, "受理", "2026-04-02", ""],
        ["FGJ", "2026-04", "NOPE-1", None, None, None, None, "受理", "2026-04-02", ""],
        ["FGJ", "2026-04", None, "部门提问题", None, "KJJ", None, "提出", None, ""],
        ["FGJ", "2026-04", land, None, None, None, None, "解决了", None, ""],
        ["FGJ", "2026-04", land, "电力增容慢", None, None, None, "办理中", "2026-04-03", ""],
    ])})
    result, _ = _read(dept, catalog, plans, ctx.ledger)
    assert _codes(result) == [
        ("问题清单", 4, "状态", "illegal_transition"),   # 受理 → 已办结 skips 办理中
        ("问题清单", 5, "问题编号", "unknown_problem"),  # JXJ handles the power problem, not FGJ
        ("问题清单", 6, "问题编号", "unknown_problem"),
        ("问题清单", 7, "单位代码", "illegal_transition"),  # departments do not raise problems
        ("问题清单", 8, "状态", "illegal_transition"),
        ("问题清单", 9, "问题编号", "unknown_problem")]  # the id of another problem's text
    assert ctx.ledger[land].state == lg.ACCEPTED
    assert result.rows_accepted == 1


def test_hostile_problem_sheet(tmp_path, catalog, plans):
    rows = [["JLH", "2026-03", None, "=HYPERLINK(\"http://x\",\"点我\")", "+cmd", "FGJ", None, "提出",
             None, "@SUM(A1)"],
            ["JLH", "2026-03", 12345, "内容", None, "FGJ", None, 3.5, None, None],
            ["JLH", "2026-03", dt.datetime(2026, 1, 1), "内容", None, "FGJ", "明天", "提出", None, None]]
    rows += [["JLH", "2026-03", None, f"问题{i}", None, "FGJ", None, "提出", "2026-03-05", None]
             for i in range(10_000)]
    path = _book(tmp_path / "hostile.xlsx", {"问题清单": (PROBLEM_HEAD, rows)})
    result, ctx = _read(path, catalog, plans)
    assert result.rows_read == 10_003
    assert _codes(result) == [("问题清单", 4, "状态", "illegal_transition"),
                                  ("问题清单", 5, "问题编号", "unknown_problem"),
                                  ("问题清单", 5, "期望解决日期", "bad_date")]
    first = ctx.ledger[new_problem_id("JLH", "2026-03", rows[0][3], "FGJ", {})]
    assert first.content.startswith("=HYPERLINK")  # kept as text
    assert len(ctx.ledger) == 10_001


def test_formula_without_value_in_a_list_sheet(tmp_path, catalog, plans):
    path = tmp_path / "formula.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "问题清单"
    ws.append(PROBLEM_HEAD)
    ws.append(["JLH", "2026-03", None, "=A1&B1", None, "FGJ", None, "提出", None, None])
    wb.save(path)  # openpyxl stores the formula without a cached value
    result, _ = _read(path, catalog, plans)
    assert _codes(result) == [("问题清单", 2, "问题内容", "formula_without_value")]


def test_template_round_trip_through_validate(tmp_path, catalog, monkeypatch, capsys):
    root = tmp_path / "data"
    shutil.copytree(Path(catalog_dir()), root / "catalog")
    monkeypatch.setenv("KJ_DATA_DIR", str(root))
    from kj_pipelines.sample.lists import write_sample_lists
    write_sample_lists(root / "plans", catalog)
    # a warehouse holding one problem JLH raised and FGJ works on
    raised = _book(root / "inbox" / "2026-09_JLH.xlsx", {"问题清单": (PROBLEM_HEAD, [
        ["JLH", "2026-09", None, "用地指标不足", "用地保障", "FGJ", "2026-12-31", "提出", "2026-09-10", ""]])})
    assert raised.exists()
    from kj_pipelines.core.settings import DataPaths
    paths = DataPaths(root)
    paths.ensure()
    conn = duckdb.connect(str(paths.warehouse))
    try:
        ingest_pending(paths, catalog, conn, dt.datetime(2026, 11, 23, 9))
    finally:
        conn.close()

    for unit in ("FGJ", "JLH", "KJJ"):
        out = tmp_path / f"{unit}.xlsx"
        assert main(["template", "--unit", unit, "--period", "2026-10", "-o", str(out)]) == 0
    fgj = load_workbook(tmp_path / "FGJ.xlsx")
    ws = fgj["问题清单"]
    assert ws.cell(row=4, column=3).value == new_problem_id(
        "JLH", "2026-09", "用地指标不足", "FGJ", {})
    assert ws.cell(row=4, column=8).value == "提出"
    ws.cell(row=4, column=9).value = "受理"
    ws.cell(row=4, column=10).value = dt.datetime(2026, 10, 9)
    fgj.save(tmp_path / "FGJ.xlsx")

    jlh = load_workbook(tmp_path / "JLH.xlsx")
    assert {"填报", "任务进展", "项目进展", "问题清单"} <= set(jlh.sheetnames)
    tasks = jlh["任务进展"]
    assert tasks.cell(row=4, column=3).value.startswith("T26")
    tasks.cell(row=4, column=7).value = dt.datetime(2026, 10, 20)
    tasks.cell(row=4, column=8).value = 60
    problems = jlh["问题清单"]
    first_blank = next(r for r in range(4, problems.max_row + 1)
                       if problems.cell(row=r, column=4).value is None)
    for col, value in ((4, "=人才公寓配套不足"), (5, "人才服务"), (6, "区委人才办"), (9, "提出")):
        problems.cell(row=first_blank, column=col).value = value
    problems.cell(row=first_blank, column=4).data_type = "s"
    filling = jlh["填报"]
    for r in range(4, filling.max_row + 1):
        filling.cell(row=r, column=7).value = 1
        filling.cell(row=r, column=8).value = 10
    jlh.save(tmp_path / "JLH.xlsx")

    capsys.readouterr()
    code = main(["validate", "--json", str(tmp_path / "FGJ.xlsx"), str(tmp_path / "JLH.xlsx")])
    report = json.loads(capsys.readouterr().out)
    fgj_file, jlh_file = report["files"]
    assert [r["reason_code"] for r in jlh_file["rejections"]] == []
    assert jlh_file["status"] == "accepted"
    # FGJ reports no indicator: its workbook is the problem sheet alone
    assert (fgj_file["status"], fgj_file["rows_accepted"], fgj_file["rejections"]) == \
        ("accepted", 1, [])
    assert code == 0
    # nothing was written to the warehouse by validate
    conn = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        assert conn.execute("SELECT count(*) FROM raw.problem_events").fetchone()[0] == 1
    finally:
        conn.close()


def catalog_dir() -> Path:
    from kj_pipelines.core.settings import PACKAGED_CATALOG
    return PACKAGED_CATALOG


def test_merged_task_codes_are_read_as_the_bureaus_tables_write_them(tmp_path, catalog, plans):
    # the clerk merged 单位代码, 报告期 and 任务代码 over the task's two milestone rows
    path = _book(tmp_path / "kjj.xlsx", {"任务进展": (TASK_HEAD, [
        ["KJJ", "2026-03", "T26101", "制定工作方案", "2026-03-20", 40, "按计划"],
        [None, None, None, "全面完成", None, 40, "推进中"]])})
    wb = load_workbook(path)
    for col in "ABC":
        wb["任务进展"].merge_cells(f"{col}3:{col}4")
    wb.save(path)
    result, _ = _read(path, catalog, plans)
    assert (result.status, result.rows_accepted, result.rejections) == ("accepted", 2, [])
    done = result.lists.tasks.set_index("milestone")
    assert done.at["制定工作方案", "done_on"] == D(2026, 3, 20)  # the done milestone is kept
    assert done.at["全面完成", "task_code"] == "T26101"


def test_a_renamed_or_copied_list_sheet_is_read_by_its_header(tmp_path, catalog, plans):
    rows = [["JLH", "2026-03", None, "用地指标不足", "用地保障", "FGJ", "2026-04-30", "提出",
             "2026-03-10", ""]]
    copied = _book(tmp_path / "jlh.xlsx", {"问题清单 (2)": (PROBLEM_HEAD, rows)})
    result, ctx = _read(copied, catalog, plans)
    assert (result.status, result.rows_accepted, result.rejections) == ("accepted", 1, [])
    assert len(ctx.ledger) == 1
    # a department's workbook without 填报: the renamed problem sheet is not taken for 填报
    dept = _book(tmp_path / "fgj.xlsx", {"Sheet1": (PROBLEM_HEAD, [
        ["FGJ", "2026-04", next(iter(ctx.ledger)), None, None, None, None, "受理",
         "2026-04-02", ""]])})
    result, _ = _read(dept, catalog, plans, ctx.ledger)
    assert (result.status, result.rows_accepted, result.rejections) == ("accepted", 1, [])


def test_a_sheet_that_cannot_be_placed_is_named_and_the_file_not_accepted(tmp_path, catalog,
                                                                          plans):
    path = _book(tmp_path / "jlh.xlsx", {
        "问题清单": (PROBLEM_HEAD, [["JLH", "2026-03", None, "用地指标不足", "用地保障", "FGJ",
                                  None, "提出", "2026-03-10", ""]]),
        "我的草稿": (["随手记", "数字"], [["电力", 3]])})
    result, _ = _read(path, catalog, plans)
    assert [(r.sheet, r.reason_code) for r in result.rejections] == [("我的草稿", "unknown_sheet")]
    assert (result.status, result.rows_accepted) == ("partial", 1)


def test_validate_json_renders_dates_and_formulas_as_text(tmp_path, catalog, plans,
                                                          monkeypatch, capsys):
    root = tmp_path / "data"
    shutil.copytree(Path(catalog_dir()), root / "catalog")
    shutil.copytree(plans, root / "plans")
    monkeypatch.setenv("KJ_DATA_DIR", str(root))
    path = tmp_path / "kjj.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "任务进展"
    ws.append(TASK_HEAD)
    ws.append(["KJJ", "2026-03", "T26101", "制定工作方案", dt.datetime(2026, 4, 2), 40, "晚了"])
    ws.append(["KJJ", "2026-03", "T26101", "全面完成", None, 40, "=A1&B1"])
    wb.save(path)  # openpyxl stores the formula without a cached value
    capsys.readouterr()
    assert main(["validate", "--json", str(path)]) == 1
    report = json.loads(capsys.readouterr().out)  # valid JSON, every value text
    got = [(r["row"], r["column"], r["value"], r["reason_code"])
           for r in report["files"][0]["rejections"]]
    assert got == [(2, "完成日期", "2026-04-02", "bad_date"),
                   (3, "说明", "（公式，无计算结果）", "formula_without_value")]
