"""The review documents beyond the month: 周会商 brief, 季晾晒 and 年考评 workbooks, the annual
summary; their tables, byte-for-byte regeneration and formula payloads staying text."""

import dataclasses
import datetime as dt
import re

import dagster as dg
import duckdb
import pandas as pd
import pytest
from openpyxl import load_workbook

from kj_pipelines.catalog.model import DEPARTMENT, DISTRICT, Landmark
from kj_pipelines.core.periods import last_complete_quarter, review_monday
from kj_pipelines.definitions import build_defs
from kj_pipelines.reviews.annual_summary import YearInputs, paragraphs, write_annual_summary
from kj_pipelines.reviews.rankings import write_ranking_workbook
from kj_pipelines.reviews.scoring import score_units
from kj_pipelines.reviews.service import score_inputs, week_inputs, year_inputs
from kj_pipelines.reviews.weekly_brief import week_label, write_weekly_brief

PAYLOADS = ["=HYPERLINK(\"http://x\",\"点我\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\r=1"]
MONDAY = dt.date(2026, 10, 12)


@pytest.fixture(scope="module")
def documents(reviewed, tmp_path_factory):
    """The reviewed sample after quarterly_analysis 2026-07, annual_evaluation 2026 (a preview
    to October) and weekly_consultation for the week of 2026-10-12."""
    import os
    import shutil

    root = tmp_path_factory.mktemp("documents") / "data"
    shutil.copytree(reviewed[0].root, root)
    previous = os.environ["KJ_DATA_DIR"]
    os.environ["KJ_DATA_DIR"] = str(root)
    try:
        defs = build_defs()
        with dg.DagsterInstance.ephemeral() as instance:
            for job, key in (("quarterly_analysis", "2026-07"), ("annual_evaluation", "2026"),
                             ("weekly_consultation", MONDAY.isoformat())):
                assert defs.resolve_job_def(job).execute_in_process(
                    partition_key=key, instance=instance).success, job
        yield root
    finally:
        os.environ["KJ_DATA_DIR"] = previous


def _connect(root):
    return duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)


def test_rankings_cover_every_town_park_and_department(documents, catalog):
    con = _connect(documents)
    try:
        scores = con.execute("SELECT * FROM mart.unit_scores WHERE period IN ('2026-Q3', '2026')"
                             ).df()
        items = con.execute("SELECT unit, period, sum(points) AS points FROM mart.score_items "
                            "GROUP BY unit, period").df()
        notices = con.execute("SELECT period, message FROM mart.warnings WHERE kind = 'ranking'"
                              ).df()
    finally:
        con.close()
    expected = {u.code for u in catalog.units.values() if u.kind in ("town", "park", DEPARTMENT)}
    for period in ("2026-Q3", "2026"):
        mine = scores[scores["period"] == period]
        assert set(mine["unit"]) == expected
        assert mine["score"].notna().all() and mine["score"].between(0, 105).all()
        for _, group in mine.groupby("peer_group"):
            ordered = group.sort_values("rank")
            assert ordered["rank"].iloc[0] == 1 and ordered["score"].is_monotonic_decreasing
    # the breakdown adds up to the score
    merged = scores.merge(items, on=["unit", "period"])
    assert (merged["score"] - merged["points"]).abs().max() < 1e-9
    assert (scores["score"] - scores["bonus"]).max() <= 100
    assert set(scores[scores["period"] == "2026"]["month"]) == {"2026-10"}  # a preview
    # the ranking is queued for the Notifier once per period, with the units' names
    assert sorted(notices["period"]) == ["2026", "2026-Q3"]
    assert all(catalog.units["JC"].name in m for m in notices["message"])


def test_quarterly_and_annual_workbooks(documents, catalog):
    quarter = load_workbook(documents / "reports" / "2026-Q3" / "季度晾晒_2026-Q3.xlsx")
    assert quarter.sheetnames == ["排名-镇（街道）、园区", "排名-部门", "得分明细", "约谈与介绍经验",
                                  "指标进度"]
    first = quarter["排名-镇（街道）、园区"]
    assert "2026年第三季度" in first["A1"].value
    assert first.conditional_formatting and first.page_setup.orientation == "landscape"
    ranked = [r for r in first.iter_rows(min_row=5, values_only=True) if r[0] is not None]
    assert len(ranked) == 10 and ranked[0][0] == 1
    annual = load_workbook(documents / "reports" / "2026" / "年度考评_2026.xlsx")
    assert annual.sheetnames[-1] == "历年排名"
    summary = load_workbook(documents / "reports" / "2026" / "年度工作总结_2026.xlsx")
    assert summary.sheetnames == ["总结", "指标完成情况", "多年目标", "清单完成情况", "下年目标"]
    assert "截至10月，初稿" in summary["总结"]["A1"].value
    brief = load_workbook(documents / "reports" / "2026-W42" / "周会商简报_2026-W42.xlsx")
    assert brief.sheetnames == ["本周要点", "新发预警", "节点", "问题", "督办", "缺报", "红黄灯"]
    assert week_label(MONDAY) == "2026-W42"


def test_the_weekly_watchlist_reads_the_last_reviewed_month(documents):
    con = _connect(documents)
    try:
        watch = con.execute("SELECT status, period FROM mart.weekly_watchlist "
                            "WHERE week = ?", [MONDAY.isoformat()]).df()
    finally:
        con.close()
    # on Monday 12 October the September figures are the latest due (deadline the 10th)
    assert not watch.empty and set(watch["status"]) <= {"red", "yellow", "grey"}
    assert set(watch["period"]) == {"2026-09"}


def test_documents_regenerate_byte_for_byte(documents, catalog, tmp_path):
    con = _connect(documents)
    try:
        scores = con.execute("SELECT * FROM mart.unit_scores WHERE period = '2026-Q3'").df()
        items = con.execute("SELECT * FROM mart.score_items WHERE period = '2026-Q3'").df()
        progress = con.execute("SELECT * FROM mart.indicator_progress WHERE period = '2026-09' "
                               "ORDER BY indicator, unit").df()
        week = week_inputs(con, MONDAY)
        year = year_inputs(con, catalog, 2026)
    finally:
        con.close()
    again = write_ranking_workbook(tmp_path / "q.xlsx", catalog, "2026-Q3", "2026-09", scores,
                                   items, progress)
    assert again.read_bytes() == (documents / "reports" / "2026-Q3" / "季度晾晒_2026-Q3.xlsx"
                                  ).read_bytes()
    brief = write_weekly_brief(tmp_path / "w.xlsx", catalog, week)
    assert brief.read_bytes() == (documents / "reports" / "2026-W42" / "周会商简报_2026-W42.xlsx"
                                  ).read_bytes()
    text = write_annual_summary(tmp_path / "s.xlsx", catalog, year)
    assert text.read_bytes() == (documents / "reports" / "2026" / "年度工作总结_2026.xlsx"
                                 ).read_bytes()


def _payload_cells(path):
    seen, expected = set(), {v.replace("\r", "\n") for v in PAYLOADS}
    for ws in load_workbook(path).worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and any(cell.value.endswith(v) or cell.value == v
                                                       for v in expected):
                    assert cell.data_type == "s", (ws.title, cell.coordinate, cell.value)
                    seen.add(cell.value)
    return seen


def test_submitted_text_stays_text_in_every_document(documents, catalog, tmp_path):
    con = _connect(documents)
    try:
        week = week_inputs(con, MONDAY)
        year = year_inputs(con, catalog, 2026)
        inputs = score_inputs(con, "2026-Q3", "2026-09")
    finally:
        con.close()
    # the brief: problems, milestones and warnings carrying formula payloads
    assert not week.problems.empty and not week.milestones.empty
    week.problems["content"] = [PAYLOADS[i % 6] for i in range(len(week.problems))]
    week.problems["raised_on"] = MONDAY - dt.timedelta(days=3)  # all raised last week
    week.milestones["milestone"] = [PAYLOADS[i % 6] for i in range(len(week.milestones))]
    week.milestones["due"] = MONDAY + dt.timedelta(days=3)
    week.milestones["done_on"] = None
    assert len(_payload_cells(write_weekly_brief(tmp_path / "w.xlsx", catalog, week))) == 6
    # the ranking: a landmark's title goes into the breakdown
    rules = dataclasses.replace(catalog.scoring, landmarks=tuple(
        Landmark("JC", dt.date(2026, 3, 1), 0.5, p) for p in PAYLOADS))
    scores, items = score_units(inputs, dataclasses.replace(catalog, scoring=rules))
    ranking = write_ranking_workbook(tmp_path / "r.xlsx", catalog, "2026-Q3", "2026-09", scores,
                                     items, inputs.progress)
    assert len(_payload_cells(ranking)) == 6
    # the summary quotes finished tasks' content
    year.tasks["content"] = [PAYLOADS[i % 6] for i in range(len(year.tasks))]
    year.tasks["status"] = "done"
    path = write_annual_summary(tmp_path / "s.xlsx", catalog, year)
    for ws in load_workbook(path).worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@")):
                    assert cell.data_type == "s", (ws.title, cell.coordinate)


def test_summary_text_hand_worked(catalog):
    """Seed 004's 2023 figures, as the warehouse holds them, come out as the summary writes them."""
    def top(rows, period):
        return pd.DataFrame([{"period": period, "indicator": c, "unit": DISTRICT, "actual": a,
                              "target": t, "completion": a / t * 100, "status": s,
                              "as_of": period} for c, a, t, s in rows])
    now = top([("HT_INV_GROWTH", 24.2, 15, "done"), ("HT_VA_SHARE", 41.9, 41.5, "done"),
               ("HT_EFFECTIVE", 474, 470, "done"), ("TECH_CONTRACT", 67.08, 65.07, "done"),
               ("RD_INST_TOTAL", 363, 360, "done"), ("TECH_LOAN", 4.02, 3.9, "done"),
               ("RD_GDP", float("nan"), 3.4, "grey")], "2023-12")
    before = top([("HT_VA_SHARE", 39.8, 39, "done"), ("HT_EFFECTIVE", 415, 400, "done")],
                 "2022-12")
    empty = pd.DataFrame(columns=["indicator", "unit", "action", "task_code", "status",
                                  "content", "done_on", "late", "annual_investment",
                                  "completed_investment", "state", "overdue", "review"])
    inputs = YearInputs(
        2023, "2023-12", now, before, pd.DataFrame(columns=["unit", "indicator"]), empty, empty,
        empty, empty, empty, pd.DataFrame([{"indicator": "HT_NEW", "target": 110}]),
        pd.DataFrame([{"indicator": "RD_GDP", "period": "2022-12", "value": 3.4}]))
    text = "\n".join(t for _, t in paragraphs(inputs, catalog))
    for said in ("高新技术产业投资增速达24.2%", "高新技术产业增加值占规上工业增加值比重达41.9%，较上年提高2.1个百分点",
                 "有效高新技术企业数达474家，同比增长14.22%", "技术交易额达67.08亿元",
                 "区级及以上企业研发机构总数达363家", "科技贷发放金额达4.02亿元",
                 "2022年度全社会R&D经费支出占GDP比重达3.4%（2023年度数据尚未发布）",
                 "2024年，力争全年新增高新技术企业达到110家"):
        assert said in text, said


@pytest.mark.parametrize(("month", "quarter"), [("2026-10", "2026-07"), ("2026-09", "2026-07"),
                                                ("2026-03", "2026-01"), ("2026-02", "2025-10"),
                                                ("2026-12", "2026-10")])
def test_the_last_complete_quarter(month, quarter):
    assert last_complete_quarter(month) == quarter


def test_the_weekly_consultation_after_a_months_deadline():
    # 10 November 2026 is a Tuesday: the next Monday; 10 August 2026 is a Monday: a week on
    assert review_monday("2026-10", 10) == dt.date(2026, 11, 16)
    assert review_monday("2026-07", 10) == dt.date(2026, 8, 17)
    assert week_label(review_monday("2026-10", 10)) == "2026-W47"


INTERNAL = re.compile(r"\b(indicator|task|project|problem|ranking):[A-Z0-9_]+|\b(mart|core|raw|"
                      r"quarantine)\.[a-z_]+|\b[a-z_]+\.yaml\b")
MIDNIGHT = re.compile(r"\d{4}-\d{2}-\d{2}[ T]00:00:00")


def _workbooks(root):
    return sorted((root / "reports").rglob("*.xlsx"))


def test_printed_workbooks_read_right(documents, catalog):
    """Every workbook of the month, quarter, year and week: straight chart lines, no internal
    identifier or table name, no date with a time, counts without decimals, and nothing printed
    under 9 pt once the sheet is fitted to its paper's width."""
    import zipfile

    from kj_pipelines.excel.printing import MIN_PT, print_scale

    counted = {ind.name for ind in catalog.indicators.values() if catalog.is_count(ind)}
    measures = set(catalog.count_measures)
    books = _workbooks(documents)
    assert len(books) >= 10
    for path in books:
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                if name.startswith("xl/charts/"):
                    assert b'<c:smooth val="1"/>' not in z.read(name), (path.name, name)
        wb = load_workbook(path)
        for ws in wb.worksheets:
            paper = "A3" if str(ws.page_setup.paperSize) == str(ws.PAPERSIZE_A3) else "A4"
            scale = print_scale(ws, paper)
            header = {}
            for row in ws.iter_rows():
                texts = {c.column: c.value for c in row if isinstance(c.value, str)}
                if "状态" in texts.values() or "指标" in texts.values():
                    header = texts  # the table's header row
                count_row = any(v in counted or v in measures for v in texts.values())
                for c in row:
                    where = f"{path.name}/{ws.title}!{c.coordinate}"
                    if isinstance(c.value, str):
                        assert not INTERNAL.search(c.value), (where, c.value)
                        assert not MIDNIGHT.search(c.value), (where, c.value)
                    if isinstance(c.value, dt.datetime):
                        assert "h" not in c.number_format, (where, c.number_format)
                    if count_row and isinstance(c.value, (int, float)) and header.get(
                            c.column) in ("实际", "计划", "年度目标", "目标", "上年", "全区实际"):
                        assert ".0" not in c.number_format, (where, c.value, c.number_format)
                    if c.value is not None and c.font is not None:
                        assert (c.font.sz or 11) * scale >= MIN_PT - 0.05, (where, c.font.sz,
                                                                             scale)


def test_the_weekly_brief_names_each_iso_week_beside_its_own_dates(catalog):
    from kj_pipelines.reviews.weekly_brief import brief_title

    monday = dt.date(2026, 11, 16)
    title = brief_title(catalog, monday, dt.date(2026, 11, 9), dt.date(2026, 11, 15))
    # 16 November 2026 is in ISO week 47; 9–15 November make up week 46
    assert "2026-W47会商，11月16日" in title and "回顾2026-W46，11月09日—11月15日" in title


def test_an_empty_section_says_none(tmp_path):
    from kj_pipelines.excel.printing import Column, write_list_report

    path = write_list_report(tmp_path / "x.xlsx", "新发预警", [Column("级别", "a", 8)],
                             pd.DataFrame(columns=["a"]), data_date="2026-10-31", source="预警记录")
    ws = load_workbook(path).active
    assert [c.value for c in ws["A"] if c.value][-1] == "无"
