"""The 2023 annual work summary written by the real pipeline on the sample states seed 004's
figures (the sample is calibrated to seed 004; the summary must say them as the seed does).

Slow: it runs ``monthly_review`` over 2022-12…2023-12 in one run and ``annual_evaluation`` for
2023 on a sample written for those months (`make test-slow`, and .ci/run)."""

import os

import dagster as dg
import pytest
from openpyxl import load_workbook

from kj_pipelines.definitions import build_defs
from kj_pipelines.sample.generator import generate_sample

pytestmark = pytest.mark.slow

SEED_004 = [
    "高新技术产业投资增速达24.2%",
    "高新技术产业增加值占规上工业增加值比重达41.9%",
    "有效高新技术企业数达474家",
    "技术交易额达67.08亿元",
    "区级及以上企业研发机构总数达363家",
    "科技贷发放金额达4.02亿元",
    "2022年度全社会R&D经费支出占GDP比重达3.4%",
    "新增高新技术企业达123家",
    "新增区级及以上企业研发机构达84家",
    "科技贷惠及企业数达127家",
    "重大科技建设项目投资额达25.23亿元",
    "高新技术产业投资占固定资产投资比重达47.94%",
    "2024年，力争全年",
    "新增高新技术企业达到110家",  # seed 004's target for 2024
]


@pytest.fixture(scope="module")
def summary_2023(tmp_path_factory):
    root = tmp_path_factory.mktemp("y2023") / "data"
    generate_sample(root, start="2022-12", end="2023-12")
    previous = os.environ["KJ_DATA_DIR"]
    os.environ["KJ_DATA_DIR"] = str(root)
    try:
        defs = build_defs()
        with dg.instance_for_test() as instance:
            assert defs.resolve_job_def("monthly_review").execute_in_process(
                instance=instance, tags={"dagster/asset_partition_range_start": "2022-12",
                                         "dagster/asset_partition_range_end": "2023-12"}).success
            assert defs.resolve_job_def("annual_evaluation").execute_in_process(
                instance=instance, partition_key="2023").success
    finally:
        os.environ["KJ_DATA_DIR"] = previous
    return root / "reports" / "2023" / "年度工作总结_2023.xlsx"


def test_the_2023_summary_states_seed_004s_figures(summary_2023):
    ws = load_workbook(summary_2023)["总结"]
    text = "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    assert "2023年" in ws["A1"].value and "初稿" not in ws["A1"].value
    for said in SEED_004:
        assert said in text, said
