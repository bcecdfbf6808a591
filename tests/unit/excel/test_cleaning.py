import datetime as dt

import pytest

from kj_pipelines.excel.cleaning import (
    FORMULA_WITHOUT_VALUE,
    CellProblem,
    clean_code,
    clean_number,
    clean_period,
    header_key,
)


@pytest.mark.parametrize(("raw", "expected"), [
    (12, 12.0), (3.5, 3.5), ("1,234.5", 1234.5), ("１２３４．５", 1234.5), ("  42  ", 42.0),
    ("１，２３４", 1234.0), ("-3.2", -3.2), ("12家", 12.0), ("\u200b7\u200b", 7.0), ("", None),
    (None, None), ("1e3", 1000.0),
])
def test_numbers_in_their_messy_forms(raw, expected):
    assert clean_number(raw, measure="家") == expected


def test_percent_only_for_percentage_indicators():
    assert clean_number("15%", percentage=True) == 15.0
    assert clean_number("１５％", percentage=True) == 15.0
    problem = clean_number("15%", percentage=False)
    assert isinstance(problem, CellProblem) and problem.reason_code == "not_a_number"


@pytest.mark.parametrize("raw", ["xx", "XX", "—", "——", "/", "待定", "暂无", "-", "N/A", "？"])
def test_placeholders(raw):
    problem = clean_number(raw)
    assert isinstance(problem, CellProblem) and problem.reason_code == "placeholder"


@pytest.mark.parametrize("raw", ["abc", "1,23", "12.3.4", "1 2", True, dt.date(2026, 1, 1),
                                 float("nan"), float("inf"), "12亿元"])
def test_not_a_number(raw):
    problem = clean_number(raw, measure="家")
    assert isinstance(problem, CellProblem) and problem.reason_code == "not_a_number"


def test_formula_without_cached_value():
    for fn in (clean_number, clean_period, clean_code):
        problem = fn(FORMULA_WITHOUT_VALUE)
        assert isinstance(problem, CellProblem) and problem.reason_code == "formula_without_value"


@pytest.mark.parametrize(("raw", "expected"), [
    ("2026-10", "2026-10"), ("2026年10月", "2026-10"), ("2026/10", "2026-10"),
    ("2026年1月份", "2026-01"), (dt.datetime(2024, 3, 1), "2024-03"), (dt.date(2024, 3, 31), "2024-03"),
    ("２０２６－１０", "2026-10"), (202610, "2026-10"), ("2026.7", "2026-07"),
])
def test_periods(raw, expected):
    assert clean_period(raw) == expected


@pytest.mark.parametrize("raw", ["2026-13", "十月", "", None, "1999-01-01x", "26-10"])
def test_bad_periods(raw):
    problem = clean_period(raw)
    assert isinstance(problem, CellProblem) and problem.reason_code == "bad_period"


def test_codes_trimmed_and_upper_cased():
    assert clean_code("  jc ") == "JC"
    assert clean_code("ＨＴ＿ＮＥＷ") == "HT_NEW"


def test_header_keys_ignore_notes_and_spaces():
    assert header_key("本期值（当月）") == "本期值"
    assert header_key(" 累计值(年初至今) ") == "累计值"
    assert header_key("单位 代码") == "单位代码"
