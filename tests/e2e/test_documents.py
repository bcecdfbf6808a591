"""The month's review documents: the 月调度 workbook and the 挂图作战 board."""

import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from openpyxl import load_workbook

from kj_pipelines.catalog.model import DISTRICT
from kj_pipelines.indicators.service import run_plan
from kj_pipelines.reviews.board import board_html, write_board
from kj_pipelines.reviews.monthly_report import write_monthly_report
from kj_pipelines.reviews.service import month_inputs

SHEETS = ["总览", "分单位进度", "挂图作战", "重点任务", "重大项目", "下月节点", "问题协调", "督办清单"]
PAYLOADS = ["=HYPERLINK(\"http://x\",\"点我\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\r=1"]


def _inputs(root: Path, catalog, period: str):
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:
        plan = run_plan(con, catalog, [int(period[:4])], write=False)
        inputs = month_inputs(con, catalog, period, plan)
        goals = con.execute("SELECT * FROM mart.goal_distance WHERE period = ?", [period]).df()
    finally:
        con.close()
    return inputs, goals


def test_monthly_review_writes_the_report_and_the_board(reviewed, catalog):
    paths, _ = reviewed
    report = paths.reports / "2026-09" / "月调度报告_2026-09.xlsx"
    assert (paths.reports / "2026-09" / "挂图作战_2026-09.html").exists()
    wb = load_workbook(report)
    assert wb.sheetnames == SHEETS
    overview = wb["总览"]
    at = next(r for r in range(1, 8) if overview.cell(row=r, column=1).value == "指标")
    header = [c.value for c in overview[at]]
    rows = {r[0]: dict(zip(header, r, strict=True))
            for r in overview.iter_rows(min_row=at + 1, values_only=True) if r[0]}
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        top = con.execute("SELECT indicator, actual, status FROM mart.indicator_progress "
                          "WHERE period = '2026-09' AND unit = 'ALL'").df()
    finally:
        con.close()
    for r in top.itertuples():
        row = rows[catalog.indicators[r.indicator].name]
        if not pd.isna(r.actual):
            assert row["全区实际"] == pytest.approx(r.actual)
    # one native line chart per indicator with a plan: planned, actual and the target line
    charts = wb["挂图作战"]._charts
    assert len(charts) == len(catalog.indicators)
    assert all(len(c.series) == 3 for c in charts)
    assert overview.page_setup.orientation == "landscape"
    assert overview.conditional_formatting  # status colours


def test_a_past_report_regenerates_byte_for_byte(reviewed, catalog, tmp_path):
    paths, _ = reviewed
    first = paths.reports / "2026-08" / "月调度报告_2026-08.xlsx"
    inputs, goals = _inputs(paths.root, catalog, "2026-08")  # after 2026-10 was reviewed
    again = write_monthly_report(tmp_path / "again.xlsx", catalog, inputs)
    assert again.read_bytes() == first.read_bytes()
    board = write_board(tmp_path / "board.html", catalog, inputs, goals)
    assert board.read_bytes() == (paths.reports / "2026-08" / "挂图作战_2026-08.html").read_bytes()


def test_submitted_text_stays_text_and_html_is_escaped(reviewed, catalog, tmp_path):
    paths, _ = reviewed
    inputs, goals = _inputs(paths.root, catalog, "2026-10")
    assert not inputs.problems.empty and not inputs.tasks.empty
    n = len(inputs.problems)
    inputs.problems["content"] = [PAYLOADS[i % len(PAYLOADS)] for i in range(n)]
    inputs.problems.loc[inputs.problems.index[0], "content"] = "<script>alert('x')</script>"
    inputs.problems["state"] = "办理中"
    inputs.problems["overdue"] = True
    inputs.tasks["note"] = [PAYLOADS[i % len(PAYLOADS)] for i in range(len(inputs.tasks))]
    wb = load_workbook(write_monthly_report(tmp_path / "r.xlsx", catalog, inputs))
    seen, expected = set(), {v.replace("\r", "\n") for v in PAYLOADS}  # XML reads CR as LF
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value in expected:
                    assert cell.data_type == "s", (ws.title, cell.coordinate, cell.value)
                    seen.add(cell.value)
    assert seen == expected
    page = board_html(catalog, inputs, goals)
    assert "<script>alert(" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page


def test_board_has_one_chart_per_indicator_and_no_network(reviewed, catalog):
    paths, _ = reviewed
    page = (paths.reports / "2026-10" / "挂图作战_2026-10.html").read_text(encoding="utf-8")
    assert page.count('class="chart"') == len(catalog.indicators)
    # one local copy of plotly.js shared by every month's board (the browser test: no request)
    from kj_pipelines.reviews.board import CHART_SCRIPT
    assert re.findall(r'<script src="([^"]+)"', page) == [f"../assets/{CHART_SCRIPT}"]
    assert (paths.reports / "assets" / CHART_SCRIPT).stat().st_size > 3_000_000
    assert len(page.encode()) < 1_000_000
    assert "图表未能显示" in page  # said on the page when the board is copied without it
    assert "@page { size: A3 landscape" in page
    assert catalog.top_label in page


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
def test_board_opens_offline_in_a_real_browser(reviewed, catalog):
    if _chromium() is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    paths, _ = reviewed
    board = paths.reports / "2026-10" / "挂图作战_2026-10.html"
    errors, requests = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.route("http*://**", lambda r: (requests.append(r.request.url), r.abort()))
            page.goto(board.as_uri())
            page.wait_for_function("document.querySelectorAll('.chart .main-svg').length > 0")
            drawn = page.eval_on_selector_all(".chart", "cs => cs.filter(c => c.querySelector("
                                              "'.main-svg')).length")
        finally:
            browser.close()
    assert errors == [] and requests == []
    assert drawn == len(catalog.indicators)
    assert DISTRICT  # the top's figures are on every chart (asserted by the chart count)
