from openpyxl import Workbook

from kj_pipelines.domain.targets import read_target_lists


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
