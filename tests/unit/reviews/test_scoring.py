"""Scoring by the rules of scoring.yaml, on hand-worked units (季晾晒 2026-Q3, window 2026-01…09)."""

import dataclasses
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from kj_pipelines.catalog.loader import load_catalog
from kj_pipelines.catalog.model import CatalogError, Landmark, Part, ScoringRules
from kj_pipelines.reviews.scoring import ScoreInputs, _cents, score_units
from kj_pipelines.worklists import ledger as lg

D = dt.date
RULES = ScoringRules(
    parts={"indicators": Part(60, 1.2), "milestones": Part(20), "problems": Part(20)},
    missing_points=2, missing_cap=3, late_points=1, late_cap=5, landmark_cap=3,
    bands=(("先进", 90), ("良好", 80), ("一般", 65), ("滞后", 0)),
    share_top=1, talk_bands=("滞后",),
    landmarks=(Landmark("JC", D(2026, 5, 1), 2, "甲"), Landmark("JC", D(2026, 8, 1), 2, "乙"),
               Landmark("JC", D(2026, 10, 15), 1, "窗口之后"), Landmark("JC", D(2025, 6, 1), 1, "上年")))


def _progress():
    rows = [  # indicator, unit, completion %, planned share %, status
        ("IND_RD_EXP", "JC", 60, 75, "yellow"), ("ZERO_RD_ORG", "JC", None, 75, "grey"),
        ("HT_VA", "JC", 90, 75, "green"), ("TECH_CONTRACT", "JC", 100, 50, "green"),
        ("IND_RD_EXP", "LT", 20, 75, "red"),
        ("TECH_CONTRACT", "ALL", 80, 75, "green"), ("HL_PLATFORM", "ALL", None, 75, "grey"),
        ("IND_RD_EXP", "ALL", 75, 75, "green"),
    ]
    for unit in ("ZS", "XP"):  # two units tied at the top, over the part's cap
        rows += [("IND_RD_EXP", unit, 100, 50, "green"), ("HT_VA", unit, 120, 75, "done"),
                 ("TECH_CONTRACT", unit, 100, 50, "green")]
    frame = pd.DataFrame(rows, columns=["indicator", "unit", "completion", "planned_share", "status"])
    frame["actual"] = frame["completion"]  # a missing figure has no actual
    return frame.assign(period="2026-09")


def _milestones():
    rows = [  # due, done_on, late
        (D(2026, 3, 31), D(2026, 3, 20), False), (D(2026, 6, 30), D(2026, 6, 30), False),
        (D(2026, 6, 30), D(2026, 7, 20), True), (D(2026, 9, 15), None, False),
        (D(2026, 12, 1), D(2026, 8, 1), False),   # done early: counts, on time
        (D(2026, 11, 30), None, False)]           # not due yet: not counted
    return pd.DataFrame([{"task_code": f"T{i}", "seq": 1, "milestone": f"节点{i}", "due": d,
                          "done_on": done, "late": late, "status": "done" if done else "overdue",
                          "lead_unit": "JC"} for i, (d, done, late) in enumerate(rows)])


def _problems():
    return pd.DataFrame([
        {"problem_id": "P1", "handler": "KJJ", "state": lg.CONFIRMED, "due": D(2026, 5, 1),
         "resolved_on": D(2026, 4, 20), "closed_on": D(2026, 4, 25), "on_time": True},
        {"problem_id": "P2", "handler": "KJJ", "state": lg.RESOLVED, "due": D(2026, 9, 10),
         "resolved_on": D(2026, 9, 5), "closed_on": None, "on_time": True},
        {"problem_id": "P3", "handler": "KJJ", "state": lg.RAISED, "due": D(2026, 10, 20),
         "resolved_on": None, "closed_on": None, "on_time": None}])


def _submissions():
    rows = []
    for unit in ("ZS", "XP", "JC"):
        for month in range(1, 10):
            if unit == "JC" and month == 9:
                continue  # never came
            day = 20 if unit == "JC" and month == 3 else 5  # JC's March came after the 10th
            rows.append((unit, f"2026-{month:02d}", pd.Timestamp(2026, month + 1, day, 9)))
    return pd.DataFrame(rows, columns=["unit", "period", "first_submitted"])


def _inputs(shuffle: int | None = None) -> ScoreInputs:
    empty = pd.DataFrame(columns=["lead_unit", "due", "done_on", "late"])
    progress = _progress()
    if shuffle is not None:
        progress = progress.sample(frac=1, random_state=shuffle)
    return ScoreInputs("2026-Q3", "2026-09", progress, _milestones(), empty,
                       pd.DataFrame(columns=["lead_unit", "completion", "planned_share"]),
                       _problems(), pd.DataFrame(columns=["unit", "due", "closed_on", "status"]),
                       _submissions())


@pytest.fixture
def rules_catalog(catalog):
    return dataclasses.replace(catalog, scoring=RULES)


def test_scores_hand_worked(rules_catalog):
    scores, items = score_units(_inputs(), rules_catalog)
    s = scores.set_index("unit")
    # JC: indicators — three groups of 20: reform (60/75=0.8 → 8, grey → 0), enterprises
    # (90/75=1.2 → 24), services (100/50 capped at 1.2 → 24) = 56 of 60; milestones: 5 counted,
    # 3 on time → 12 of 20; problems not applicable → ×100/80: 70 + 15 = 85; landmarks 2+2
    # capped at 3; March late −1; September missing −2 → 85
    assert s.loc["JC", "score"] == 85.0 and s.loc["JC", "band"] == "良好"
    assert s.loc["JC", "bonus"] == 3.0 and s.loc["JC", "deduction"] == 3.0
    # ZS and XP: 24 × 3 = 72 capped at the part's 60, the only part → 100; tied at rank 1
    assert s.loc["ZS", "score"] == s.loc["XP", "score"] == 100.0
    assert s.loc["ZS", "rank"] == s.loc["XP", "rank"] == 1 and s.loc["JC", "rank"] == 3
    assert s.loc["ZS", "review"] == s.loc["XP", "review"] == "介绍经验"
    # LT: 60 × 20/75 → 100 × 0.2667 = 26.67; nine months missing, −2 each capped at 3
    assert s.loc["LT", "score"] == 23.67 and s.loc["LT", "rank"] == 4
    assert s.loc["LT", "band"] == "滞后" and s.loc["LT", "review"] == "约谈"
    # KJJ on the top's figures of its indicators: services 80/75 → 32, platforms missing → 0;
    # problems: P1 closed, P2 resolved but not confirmed, P3 not due → 1/2 → 10; ×100/80 = 52.5;
    # its quarterly and monthly workbooks never came: −3
    assert s.loc["KJJ", "score"] == 49.5 and s.loc["KJJ", "review"] == "约谈"
    # TJJ answers only for IND_RD_EXP at the top (on plan) and owes no monthly workbook
    assert s.loc["TJJ", "score"] == 100.0 and s.loc["TJJ", "deduction"] == 0
    assert s.loc["TJJ", "rank"] == 1 and s.loc["KJJ", "rank"] == 2
    # a unit with nothing to score is listed without a score or rank
    assert pd.isna(s.loc["GS", "score"]) and s.loc["GS", "band"] == "无数据"
    assert pd.isna(s.loc["GS", "rank"])
    # each unit's items add up to its score, and say what they were computed from
    for unit in ("JC", "ZS", "LT", "KJJ", "TJJ"):
        assert round(items[items["unit"] == unit]["points"].sum(), 2) == s.loc[unit, "score"]
    jc = items[items["unit"] == "JC"].set_index("item")
    assert jc.loc["MILESTONES", "figure"] == "到期或已完成5个，按时完成3个，逾期完成1个"
    assert jc.loc["ZERO_RD_ORG", "figure"] == "缺报，按0计"
    assert "2026-09" in jc.loc["MISSING", "figure"] and "2026-03" in jc.loc["LATE", "figure"]
    assert set(items[items["unit"] == "ZS"]["item"]) >= {"CAP"}
    assert set(scores["period"]) == {"2026-Q3"} and set(items["period"]) == {"2026-Q3"}


def test_ranks_are_stable_whatever_the_row_order(rules_catalog):
    first, first_items = score_units(_inputs(), rules_catalog)
    for seed in (1, 2, 3):
        again, again_items = score_units(_inputs(shuffle=seed), rules_catalog)
        pd.testing.assert_frame_equal(first, again)
        pd.testing.assert_frame_equal(first_items, again_items)


def _broken_scoring(tmp_path: Path, catalog_source: Path, text: str) -> Path:
    import shutil

    folder = tmp_path / "catalog"
    shutil.copytree(catalog_source, folder)
    (folder / "scoring.yaml").write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize(("text", "message"), [
    ("parts: {indicators: {weight: 60}, teamwork: {weight: 40}}", "parts.teamwork"),
    ("parts: {indicators: {weight: 60, groups: {reform: 1}}}", "no weight for"),
    ("bands: [{name: 好, min: 50}]", "lowest band must start at 0"),
    ("review: {talk_bands: [差]}", "not a band"),
    ("landmarks: [{unit: NOPE, date: 2026-01-01, points: 1, title: x}]", "landmarks #1"),
    ("deductions: {late_submission: {points: -1}}", "deductions.late_submission"),
])
def test_scoring_yaml_errors_name_the_entry(tmp_path, text, message):
    from tests.conftest import CATALOG_SOURCE

    folder = _broken_scoring(tmp_path, CATALOG_SOURCE, text)
    with pytest.raises(CatalogError, match="scoring.yaml") as err:
        load_catalog(folder)
    assert message in str(err.value)


def test_first_release_scoring_yaml_still_loads(tmp_path):
    from tests.conftest import CATALOG_SOURCE

    folder = _broken_scoring(tmp_path, CATALOG_SOURCE, "weights: {green: 100, yellow: 60}\n"
                             "bands: [{name: 好, min: 60}, {name: 差, min: 0}]\n")
    rules = load_catalog(folder).scoring
    assert rules.status_points["yellow"] == 60 and rules.band(59.9) == "差"
    assert rules.parts["indicators"].weight == 60


def test_rounded_items_add_up_to_the_rounded_score():
    # three thirds of 100: rounding each gives 99.99; the largest remainder gives 100.00
    assert _cents([100 / 3] * 3) == [3334, 3333, 3333]
    assert sum(_cents([100 / 3] * 3)) == 10000
    # a deduction rounds with the rest, and nothing is lost or invented
    assert _cents([59.996, 15.004, -2.0]) == [6000, 1500, -200]
    assert _cents([0.125, 0.125]) == [13, 12]  # 0.25 in total, the tie to the first item
