from openpyxl import Workbook

from kj_pipelines.intake.targets import read_target_lists


def test_sample_target_lists_load(small_sample, catalog):
    lists = read_target_lists(small_sample / "plans", catalog)
    assert lists.rejections == []
    assert set(lists.targets["year"]) == set(range(2019, 2028))
    row = lists.targets[(lists.targets["year"] == 2024) & (lists.targets["indicator"] == "HT_NEW")
                        & (lists.targets["unit"] == "ALL")]
    assert float(row["target"].iloc[0]) == 110  # seed 004: 新增高新技术企业110家


def test_a_bad_row_is_rejected_and_the_rest_loads(tmp_path, catalog):
    wb = Workbook()
    ws = wb.active
    ws.append(["镇海区2026年目标清单"])
    ws.append(["指标代码", "单位代码", "年度目标", "完成时限（月）"])
    ws.append(["HT_VA", "JC", "80", 12])
    ws.append(["HT_VA", "ZS", "xx", 12])
    ws.append(["HT_VA", "NOPE", 5, 12])
    ws.append(["TECH_CONTRACT", "ALL", "90", 13])
    (tmp_path / "2026").mkdir()
    wb.save(tmp_path / "2026" / "list.xlsx")
    lists = read_target_lists(tmp_path, catalog)
    assert lists.targets[["indicator", "unit", "target"]].values.tolist() == [["HT_VA", "JC", 80.0]]
    found = [(r.row, r.column, r.reason_code) for _, _, r in lists.rejections]
    assert found == [(4, "年度目标", "placeholder"), (5, "单位代码", "unknown_unit"),
                     (6, "完成时限", "out_of_range")]


def test_targets_as_plans_write_them_with_a_baseline(tmp_path, catalog):
    wb = Workbook()
    ws = wb.active
    ws.append(["指标代码", "单位代码", "年度目标", "完成时限（月）", "上年基数"])
    ws.append(["HT_EFFECTIVE", "ALL", "620家以上，力争650家", 12, 560])
    ws.append(["ZERO_RD_ORG", "JC", "清零", 12, "8"])
    ws.append(["RD_GDP", "ALL", "≥3.51%", 12, None])
    ws.append(["HT_NEW", "ALL", "多多益善", 12, None])
    (tmp_path / "2026").mkdir()
    wb.save(tmp_path / "2026" / "list.xlsx")
    lists = read_target_lists(tmp_path, catalog)
    got = lists.targets.set_index("indicator")
    assert got.loc["HT_EFFECTIVE", ["target", "comparator", "stretch", "baseline"]].tolist() == \
        [620.0, ">=", 650.0, 560.0]
    assert got.loc["HT_EFFECTIVE", "target_text"] == "620家以上，力争650家"
    assert got.loc["ZERO_RD_ORG", ["target", "comparator", "baseline"]].tolist() == [0.0, "<=", 8.0]
    assert got.loc["RD_GDP", ["target", "comparator"]].tolist() == [3.51, ">="]
    assert [(r.row, r.column, r.reason_code) for _, _, r in lists.rejections] == \
        [(5, "年度目标", "not_a_number")]


def test_the_sample_writes_some_targets_as_text(small_sample, catalog):
    lists = read_target_lists(small_sample / "plans", catalog)
    row = lists.targets[(lists.targets["year"] == 2026) & (lists.targets["indicator"]
                                                           == "HT_EFFECTIVE")
                        & (lists.targets["unit"] == "ALL")].iloc[0]
    assert (row["target"], row["comparator"], row["stretch"]) == (620.0, ">=", 651.0)
