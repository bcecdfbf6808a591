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


@pytest.mark.parametrize(("raw", "reason"), [
    ("xx", "placeholder"), ("待定", "placeholder"), ("≥850以内", "not_a_number"),
    ("力争800，≥850", "out_of_range"), ("多多益善", "not_a_number"),
])
def test_targets_that_cannot_be_read(raw, reason):
    got = parse_target(raw, measure="家")
    assert isinstance(got, CellProblem) and got.reason_code == reason


def test_an_empty_cell_is_no_target():
    assert parse_target(None) is None and parse_target("  ") is None
