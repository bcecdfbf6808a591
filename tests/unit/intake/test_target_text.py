"""Targets as work plans write them, parsed into value, comparator and stretch (hand-made)."""

import pytest

from kj_pipelines.excel.cleaning import CellProblem
from kj_pipelines.intake.target_text import Target, parse_target


@pytest.mark.parametrize(("raw", "measure", "expected"), [
    ("≥850", "家", (850, ">=", None)),
    (">=850", "家", (850, ">=", None)),
    ("850以上", "家", (850, ">=", None)),
    ("850家以上", "家", (850, ">=", None)),
    ("不低于850", "家", (850, ">=", None)),
    ("突破470家", "家", (470, ">=", None)),
    ("力争900", "家", (900, None, 900)),
    ("850家以上，力争900家", "家", (850, ">=", 900)),
    ("不低于850、力争900", "家", (850, ">=", 900)),
    ("≤5", "个", (5, "<=", None)),
    ("控制在3以内", "个", (3, "<=", None)),
    ("3个以下", "个", (3, "<=", None)),
    ("清零", "个", (0, "<=", None)),
    ("2.6%", "%", (2.6, None, None)),
    ("≥3.51%，力争3.6%", "%", (3.51, ">=", 3.6)),
    ("１,２００", "家", (1200, None, None)),
    (850, "家", (850, None, None)),
])
def test_targets_as_plans_write_them(raw, measure, expected):
    got = parse_target(raw, percentage=measure == "%", measure=measure)
    assert isinstance(got, Target)
    assert (got.value, got.comparator, got.stretch) == expected
    assert got.text == str(raw).strip()


# the texts of the issue (a city's 2023 plan), of seeds 000/002/003/004 and of examples/city
@pytest.mark.parametrize(("raw", "measure", "kind", "expected"), [
    ("百名", "人", "flow", (100, None, None)),
    ("集聚高端人才100名以上", "人", "flow", None),  # words before the figure: not a target
    ("100名以上", "人", "flow", (100, ">=", None)),
    ("百家", "家", "flow", (100, None, None)),
    ("千家", "家", "flow", (1000, None, None)),
    ("两个", "个", "stock", (2, None, None)),
    ("1万人", "人", "flow", (10000, None, None)),
    ("1万人次以上", "人次", "flow", (10000, ">=", None)),
    ("一百二十家以上", "家", "flow", (120, ">=", None)),
    ("7个（3个中心、4个平台）", "个", "stock", (7, None, None)),
    ("7个(省级3个、市级4个)", "个", "stock", (7, None, None)),
    ("850家以上（累计突破xxxx家）", "家", "flow", (850, ">=", None)),
    ("8%—10%", "%", "ratio", (8, ">=", 10)),
    ("8-10%", "%", "ratio", (8, ">=", 10)),
    ("3至5个", "个", "flow", (3, ">=", 5)),
    ("突破1000家", "家", "stock", (1000, ">=", None)),
    ("达到2.6%", "%", "ratio", (2.6, ">=", None)),
    ("140亿元以上，力争150亿元", "亿元", "flow", (140, ">=", 150)),
    ("3亿元", "万元", "flow", (30000, None, None)),  # converted to the list's measure
    ("500万元", "万元", "flow", (500, None, None)),
    ("超30项", "项", "flow", (30, ">=", None)),
    ("7名左右", "人", "stock", (7, None, None)),
    ("百余场", "场", "flow", (100, ">=", None)),
    ("实现零的突破", "家", "flow", (1, ">=", None)),
    ("力争新增20个", "个", "flow", (20, None, 20)),  # a flow's new ones: the count itself
    ("新增高新技术企业110家", "家", "flow", None),  # the indicator's name is not the target's
    ("增长8%以上", "%", "growth", (8, ">=", None)),  # a growth rate's target is the rate
    ("同比增长不低于8%", "%", "growth", (8, ">=", None)),
    ("下降2%", "%", "growth", (-2, "<=", None)),
])
def test_more_targets_as_plans_write_them(raw, measure, kind, expected):
    got = parse_target(raw, percentage=measure == "%", measure=measure, kind=kind)
    if expected is None:
        assert isinstance(got, CellProblem) and "可识别的写法" in got.message
        return
    assert isinstance(got, Target), got
    assert not got.relative and (got.value, got.comparator, got.stretch) == expected


# relative to the year before: (factor, offset, comparator), then resolved on a baseline of 200
@pytest.mark.parametrize(("raw", "measure", "kind", "relative", "on_200"), [
    ("增长20%以上", "亿元", "flow", (1.2, 0, ">="), (240, None)),
    ("同比增长不低于8%", "家", "flow", (1.08, 0, ">="), (216, None)),
    ("较上年增长10%", "亿元", "flow", (1.1, 0, ">="), (220, None)),
    ("翻一番", "亿元", "flow", (2.0, 0, ">="), (400, None)),
    ("翻两番", "亿元", "flow", (4.0, 0, ">="), (800, None)),
    ("下降5%以上", "个", "stock", (0.95, 0, "<="), (190, None)),
    ("增长20%以内", "亿元", "flow", (1.2, 0, "<="), (240, None)),
    ("增加5家以上", "家", "stock", (1.0, 5, ">="), (205, None)),
    ("新增20家", "家", "stock", (1.0, 20, ">="), (220, None)),
    ("力争新增20个", "个", "stock", (1.0, 20, ">="), (220, 220)),
    ("新增15个，力争新增20个", "个", "stock", (1.0, 15, ">="), (215, 220)),
    ("增长10%以上，力争增长15%", "亿元", "flow", (1.1, 0, ">="), (220, 230)),
    ("提高0.2个百分点", "%", "ratio", (1.0, 0.2, ">="), (200.2, None)),
])
def test_targets_relative_to_the_year_before(raw, measure, kind, relative, on_200):
    got = parse_target(raw, percentage=measure == "%", measure=measure, kind=kind)
    assert isinstance(got, Target) and got.relative and got.value is None
    assert (round(got.factor, 6), got.offset, got.comparator) == relative
    done = got.resolved(200.0)
    assert not done.relative and (done.value, done.stretch) == on_200
    assert got.resolved(None) == got and got.resolved(float("nan")) == got


def test_the_figure_of_a_composite_must_equal_its_parts():
    got = parse_target("8个（3个中心、4个平台）", measure="个")
    assert isinstance(got, CellProblem) and "分项合计7与总数不符" in got.message


@pytest.mark.parametrize(("raw", "reason"), [
    ("xx", "placeholder"), ("待定", "placeholder"), ("≥850以内", "not_a_number"),
    ("力争800，≥850", "out_of_range"), ("多多益善", "not_a_number"),
    ("xx家以上", "placeholder"), ("100人", "not_a_number"), ("850家，900家", "not_a_number"),
    ("新增20家", None),
])
def test_targets_that_cannot_be_read(raw, reason):
    got = parse_target(raw, measure="家", kind="ratio")
    if reason is None:  # 新增 of a rate
        assert isinstance(got, CellProblem) and "新增" in got.message
        return
    assert isinstance(got, CellProblem) and got.reason_code == reason


def test_an_empty_cell_is_no_target():
    assert parse_target(None) is None and parse_target("  ") is None
