"""A list's printable table (domain/list_export): body cells styled, wrapped text given the rows
it needs, submitted text kept as text."""

import pandas as pd
from openpyxl import load_workbook

from kj_pipelines.excel.printing import Column, row_height, write_list_report


def test_body_cells_are_bordered_and_wrapped_rows_are_tall_enough(tmp_path):
    long = "科技型中小企业首贷难，需对接银行专项产品（XP第26号）并协调担保机构"  # 66 units wide
    frame = pd.DataFrame({"code": ["XP-1", "XP-2"], "text": [long, "短"],
                          "amount": [1234.5, 2.0], "formula": ["=1+1", "办理中"]})
    path = write_list_report(tmp_path / "t.xlsx", "测试表", [
        Column("编号", "code", 10), Column("问题内容", "text", 20),
        Column("金额", "amount", 10, "#,##0.00"), Column("状态", "formula", 8)],
        frame, data_date="2026-10-31", source="测试")
    ws = load_workbook(path).active
    first, second = 4, 5  # title, data date, header above
    for row in (first, second):
        for col in range(1, 5):
            cell = ws.cell(row=row, column=col)
            assert cell.border.left.style == "thin" and cell.alignment.vertical == "top"
            assert cell.font.name == "Calibri" and cell.font.sz == 11
    assert ws.cell(row=first, column=2).alignment.wrap_text
    assert not ws.cell(row=second, column=2).alignment.wrap_text
    assert ws.row_dimensions[first].height == row_height(4)  # 66 units in a column of 20
    assert ws.row_dimensions[second].height is None  # one line: the default height
    assert ws.cell(row=first, column=3).number_format == "#,##0.00"
    assert ws.cell(row=first, column=4).data_type == "s"  # "=1+1" stays text
    assert ws.cell(row=first, column=4).value == "=1+1"


def test_a_long_title_in_the_footer_does_not_run_into_the_page_number():
    from kj_pipelines.excel.printing import FOOTER_WIDTH, display_width, footer_text

    weekly = "镇海区科技创新工作周会商简报（2026-W47会商，11月16日；回顾2026-W46，11月09日—11月15日）·红黄灯"
    assert footer_text(weekly, "2026-11-15", "A4") == "镇海区科技创新工作周会商简报·红黄灯　数据截至2026-11-15"
    assert footer_text("月调度报告", "2026-10-31", "A4") == "月调度报告　数据截至2026-10-31"
    long = footer_text("甲" * 80, "2026-10-31", "A4")
    assert display_width(long) <= FOOTER_WIDTH["A4"] and long.endswith("…　数据截至2026-10-31")
