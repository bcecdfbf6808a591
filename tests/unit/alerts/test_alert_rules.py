"""Warning decisions: turning yellow or red, worsening, staying red, missing figures."""

import pandas as pd

from kj_pipelines.alerts.rules import decide


def rows(period, statuses):
    return pd.DataFrame([{"period": period, "indicator": "TECH_CONTRACT", "unit": unit,
                          "status": status, "actual": 50.0, "planned": 75.0, "target": 90.0,
                          "completion": 55.6, "planned_share": 83.3, "gap": -27.7}
                         for unit, status in statuses.items()])


def levels(warnings):
    return {(w.unit, w.level, w.kind) for w in warnings}


def test_first_evaluation_warns_yellow_and_red(catalog):
    now = rows("2026-10", {"JC": "yellow", "ZS": "red", "LT": "green", "GS": "grey"})
    got = decide(now, now.iloc[0:0], catalog, "2026-10", escalate_after=3)
    assert levels(got) == {("JC", "yellow", "behind"), ("ZS", "red", "behind"),
                           ("GS", "yellow", "missing")}
    zs = next(w for w in got if w.unit == "ZS")
    assert zs.warning_id == "behind:2026-10:TECH_CONTRACT:ZS:red"
    assert "庄市街道" in zs.title and "技术交易额" in zs.title
    assert "区科技局" in zs.message and "落后 27.7 个百分点" in zs.message


def test_unchanged_status_does_not_warn_again_worsening_does(catalog):
    before = rows("2026-09", {"JC": "yellow", "ZS": "red", "LT": "yellow"})
    now = rows("2026-10", {"JC": "yellow", "ZS": "red", "LT": "red"})
    got = decide(now, before, catalog, "2026-10", escalate_after=3)
    assert levels(got) == {("LT", "red", "behind")}


def test_staying_red_escalates_once(catalog):
    history = pd.concat([rows(p, {"ZS": "red"}) for p in ("2026-07", "2026-08")])
    now = rows("2026-09", {"ZS": "red"})
    got = decide(now, history, catalog, "2026-09", escalate_after=3)
    assert levels(got) == {("ZS", "escalated", "behind")}
    assert "连续 3 个月红灯" in got[0].message
    later = decide(rows("2026-10", {"ZS": "red"}), pd.concat([history, now]), catalog,
                   "2026-10", escalate_after=3)
    assert later == []


def test_improving_does_not_warn(catalog):
    got = decide(rows("2026-10", {"ZS": "yellow"}), rows("2026-09", {"ZS": "red"}), catalog,
                 "2026-10", escalate_after=3)
    assert got == []
