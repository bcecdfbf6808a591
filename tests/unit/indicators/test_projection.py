"""预判预警 on hand-worked numbers: the projected year end, its two windows, whole-unit plans,
batch indicators before their announcement, and the warnings and digests they raise."""

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from kj_pipelines.alerts.rules import projected_misses
from kj_pipelines.indicators.backschedule import build_plan
from kj_pipelines.indicators.backtest import score
from kj_pipelines.indicators.progress import compute_progress
from kj_pipelines.indicators.projection import project, severity_step


def _flow_values(unit, year_amounts):
    """Year-to-date rows of a flow from {year: [monthly amounts]}."""
    rows = []
    for year, amounts in year_amounts.items():
        running = 0.0
        for m, amount in enumerate(amounts, start=1):
            running += amount
            rows.append({"period": f"{year}-{m:02d}", "unit": unit, "value": running,
                         "monthly": amount})
    return pd.DataFrame(rows)


@pytest.fixture
def flow(catalog):
    return dataclasses.replace(catalog.indicators["TECH_CONTRACT"], profile="linear")


def _plan(catalog, ind, unit, target, history, year=2026):
    listed = pd.DataFrame([{"year": year, "indicator": ind.code, "unit": unit, "target": target,
                            "deadline_month": 12}])
    return build_plan(ind, catalog, year, listed, history[history["period"] < f"{year}-01"])


def test_a_slowing_unit_is_projected_short_while_its_plan_line_is_still_close(catalog, flow):
    even = [10.0] * 12  # three past years, 120 a year at an even pace
    values = _flow_values("JC", {2023: even, 2024: even, 2025: even,
                                 2026: [10, 10, 10, 6, 6, 6]})
    plan = _plan(catalog, flow, "JC", 120.0, values)
    rows = project(flow, 2026, values, plan, margin=2.0).set_index("month")
    # March: on its pattern (30 of 120 by a quarter of the year), nothing to say
    assert rows.loc[3, "projected_seasonal"] == pytest.approx(120)
    assert rows.loc[3, "projected_pace"] == pytest.approx(120)
    assert not rows.loc[3, "fast"]
    # June: 48 = 40 % of the target at half the year → 96 on the pattern; the last three
    # months (18 in a quarter's share) carried on: 48 + 18 / 0.25 × 0.5 = 84
    june = rows.loc[6]
    assert june["projected_seasonal"] == pytest.approx(96)
    assert june["projected_pace"] == pytest.approx(84)
    assert june["projected"] == pytest.approx(84)  # the more pessimistic judges
    assert (june["band_low"], june["band_high"]) == pytest.approx((96, 96))  # the years agree
    assert june["shortfall"] == pytest.approx(30)
    assert june["needed_monthly"] == pytest.approx(12)  # (120 - 48) / 6 months left
    # the slow window: the mean of April (105.33), May (93.33) and June (84) is 94.22 < 120
    assert june["fast"] and june["slow"] and june["confirmed"]
    assert june["basis"] == "本单位往年规律"


def test_one_odd_month_is_not_confirmed(catalog, flow):
    even = [10.0] * 12
    values = _flow_values("JC", {2023: even, 2024: even, 2025: even,
                                 2026: [10, 10, 10, 10, 10, 0]})
    plan = _plan(catalog, flow, "JC", 120.0, values)
    june = project(flow, 2026, values, plan, margin=12.0).set_index("month").loc[6]
    # June alone: 50 → 100 on the pattern, 50 + 20 / 0.25 × 0.5 = 90 at the pace: 25 points
    # short, beyond a 12-point margin...
    assert june["projected"] == pytest.approx(90) and june["fast"]
    # ...but April and May projected 120 each: the three months' mean, 110, is 8.3 points
    # short, within the margin: the slow window does not agree, nothing is confirmed
    assert not june["slow"] and not june["confirmed"]


def test_without_a_past_year_the_district_pattern_then_an_even_pace(catalog, flow):
    even = [10.0] * 12
    history = _flow_values("ALL", {2023: even, 2024: even, 2025: even})
    values = pd.concat([history, _flow_values("JC", {2026: [5, 5, 5]})])
    plan = _plan(catalog, flow, "JC", 60.0, values)
    march = project(flow, 2026, values, plan, margin=2.0).set_index("month").loc[3]
    assert march["basis"] == "ALL往年规律" and march["projected_seasonal"] == pytest.approx(60)
    alone = _flow_values("JC", {2026: [5, 5, 5]})
    march = project(flow, 2026, alone, _plan(catalog, flow, "JC", 60.0, alone),
                    margin=2.0).set_index("month").loc[3]
    assert march["basis"] == "按月均衡" and march["projected_seasonal"] == pytest.approx(60)


def test_nothing_is_confirmed_before_the_half_year(catalog, flow):
    even = [10.0] * 12
    values = _flow_values("JC", {2023: even, 2024: even, 2025: even, 2026: [4] * 12})
    plan = _plan(catalog, flow, "JC", 120.0, values)
    early = project(flow, 2026, values, plan, margin=2.0).set_index("month")
    half = project(flow, 2026, values, plan, margin=2.0, confirm_from=6).set_index("month")
    # 4 a month against 10: 48 projected from March on, 60 points short every month
    assert early.loc[3, "projected"] == pytest.approx(48) and early.loc[3, "confirmed"]
    # 时间过半: the same projections, stored and shown, but confirmed from June only
    assert half.loc[5, "fast"] and not half.loc[5, "confirmed"]
    assert half.loc[5, "projected"] == pytest.approx(48) and half.loc[6, "confirmed"]


def _pooled(years_a, years_b, district):
    """_pooled on one month: two towns' past years' shares of the year's work by then."""
    from kj_pipelines.indicators.projection import _pooled

    each = np.ones((len(years_a), 3, 12))  # towns A, B and the district's own row
    each[:, 0, 0], each[:, 1, 0], each[:, 2, 0] = years_a, years_b, district
    own = each.mean(axis=0)
    pattern, weight = _pooled(each, own, np.full(3, len(years_a)), np.full(12, district),
                              np.array([True, True, False]))
    return pattern[:, 0], weight[:, 0]


def test_a_towns_pattern_is_drawn_toward_the_districts_as_far_as_towns_differ():
    # towns truly apart: A's years 0.6 and 0.8, B's 0.2 and 0.4 (the district's 0.5). A
    # single year scatters 0.1 around its town's mean: within 0.02 (4 × 0.01 over 2 degrees
    # of freedom), 0.01 for a mean of two years; the means' spread 0.04 beyond that 0.01
    # leaves between 0.03; a town's own years weigh 0.03 / (0.03 + 0.01) = 0.75
    pattern, weight = _pooled([0.6, 0.8], [0.2, 0.4], 0.5)
    assert weight[:2] == pytest.approx([0.75, 0.75])
    assert pattern == pytest.approx([0.5 + 0.75 * 0.2, 0.5 - 0.75 * 0.2, 0.5])
    # one rhythm, noisy years: A 0.4 and 0.6, B 0.3 and 0.5 around 0.45; the means' spread
    # (0.0025) is less than a mean's own noise (0.01): no difference to believe, both 0.45
    pattern, weight = _pooled([0.4, 0.6], [0.3, 0.5], 0.45)
    assert weight[:2] == pytest.approx([0, 0]) and pattern[:2] == pytest.approx([0.45, 0.45])
    # towns that keep their rhythms year after year (0.7, 0.7 and 0.2, 0.2): each its own
    pattern, weight = _pooled([0.7, 0.7], [0.2, 0.2], 0.5)
    assert weight[:2] == pytest.approx([1, 1]) and pattern[:2] == pytest.approx([0.7, 0.2])
    assert weight[2] == 1  # the district's own row is not drawn anywhere


def test_a_flow_is_projected_on_its_pooled_pattern(catalog, flow):
    even, early, late = [10.0] * 12, [12.0, 8.0] + [10.0] * 10, [8.0, 12.0] + [10.0] * 10
    towns = {"JC": (early, early, even), "ZS": (late, late, even), "LT": (even, even, even)}
    values = pd.concat([_flow_values(unit, {2023: a, 2024: b, 2025: c})
                        for unit, (a, b, c) in towns.items()]
                       + [_flow_values("ALL", {y: [30.0] * 12 for y in (2023, 2024, 2025)}),
                          _flow_values("JC", {2026: [11.0]})])
    listed = pd.DataFrame([{"year": 2026, "indicator": flow.code, "unit": unit, "target": 120.0,
                            "deadline_month": 12} for unit in towns])
    plan = build_plan(flow, catalog, 2026, listed, values[values["period"] < "2026-01"])
    january = project(flow, 2026, values, plan, margin=2.0).set_index(["unit", "month"])
    # January's share: JC's years 0.1, 0.1, 1/12 (mean 17/180), the district's 1/12. Within
    # (JC's and ZS's years around their means, over 6 degrees of freedom) 1/16200, 1/48600
    # for a mean of three; the means' spread 1/12150, less that, leaves between 1/16200: JC's
    # own years weigh 3/4, its share is 1/12 + 3/4 × 1/90 = 11/120, and its 11 project 120
    # (its own pattern alone would project 11 ÷ 17/180 = 116.5)
    assert january.loc[("JC", 1), "projected_seasonal"] == pytest.approx(120)
    assert january.loc[("JC", 1), "basis"] == "本单位与ALL往年规律加权"


def _events(unit, years):
    """Year-to-date counts of a registry flow from {year: {month: count}}."""
    return _flow_values(unit, {y: [float(months.get(m, 0)) for m in range(1, 13)]
                               for y, months in years.items()})


def test_a_total_is_confirmed_short_only_when_a_unit_summed_into_it_is(catalog, flow):
    even = [10.0] * 12
    towns = pd.concat([_flow_values(unit, {2023: even, 2024: even, 2025: even,
                                           2026: [10.0] * 10}) for unit in ("JC", "ZS")])
    # the total's own path looks short from June (its figures lag its towns', as a sum of
    # whole firms closing in different months can), while both towns are on course
    top = _flow_values("ALL", {2023: [20.0] * 12, 2024: [20.0] * 12, 2025: [20.0] * 12,
                               2026: [20, 20, 20, 20, 20, 10, 10, 10, 20, 20]})
    values = pd.concat([towns, top], ignore_index=True)
    listed = pd.DataFrame([{"year": 2026, "indicator": flow.code, "unit": unit,
                            "target": target, "deadline_month": 12}
                           for unit, target in (("ALL", 240.0), ("JC", 120.0), ("ZS", 120.0))])
    plan = build_plan(flow, catalog, 2026, listed, values[values["period"] < "2026-01"])
    alone = project(flow, 2026, values, plan, margin=2.0, confirm_from=6)
    with_towns = project(flow, 2026, values, plan, margin=2.0, confirm_from=6,
                         totals={"ALL": ["JC", "ZS"]})
    top_alone = alone[alone["unit"] == "ALL"].set_index("month")
    top_now = with_towns[with_towns["unit"] == "ALL"].set_index("month")
    # August, on its own path: 130 of 240 (160 due); its last quarter's 30 carried over the
    # four months left: 130 + 30 / 0.25 × 1/3 = 170, 29 points short
    assert top_alone.loc[8, "projected"] == pytest.approx(170)
    assert top_alone.loc[8, "confirmed"]
    # with its towns: both windows still say short, but no town is, so no miss is confirmed
    assert top_now.loc[8, "fast"] and top_now.loc[8, "slow"]
    assert not top_now["confirmed"].any()
    assert not with_towns["confirmed"].any()


def test_a_total_follows_its_units_only_where_their_targets_cover_its_own():
    from kj_pipelines.indicators.projection import _totals_follow_parts

    months = np.zeros((3, 12), dtype=bool)
    months[0, 5:8] = True  # the total short in June, July and August
    months[1, 6] = True  # JC short in July
    units, below = ["ALL", "JC", "ZS"], {"ALL": ["JC", "ZS"]}
    higher = np.array([False, False, False])

    def total(target, lower=higher, confirmed=months, totals=below):
        return _totals_follow_parts(units, np.array(target), lower, confirmed,
                                    totals)[0].nonzero()[0] + 1

    assert total([30.0, 10.0, 20.0]).tolist() == [7]  # only while a town is short too
    assert total([30.02, 10.0, 20.0]).tolist() == [7]  # the towns' targets rounded: the same
    assert total([35.0, 10.0, 20.0]).tolist() == [6, 7, 8]  # it asks more than its towns
    # counts brought down (两清零): the towns' 2 and 3 left cover a total of 5, not of 4
    lower = np.array([True, True, True])
    assert total([5.0, 2.0, 3.0], lower).tolist() == [7]
    assert total([4.0, 2.0, 3.0], lower).tolist() == [6, 7, 8]
    # a unit below without a target: the total is judged on its own path
    assert total([30.0, 10.0, 20.0], totals={"ALL": ["JC", "ZS", "LT"]}).tolist() == [6, 7, 8]


def test_a_registry_count_is_projected_as_its_share_of_the_district(catalog):
    ind = catalog.indicators["RD_INST_NEW"]  # 新增研发机构: announced in quarterly batches
    batches = {3: 2, 6: 8, 9: 4, 12: 6}  # the district's 20 a year
    town = {6: 2, 12: 2}  # JC: 4 of the district's 20 in each past year, a fifth
    values = pd.concat([_events("ALL", {2023: batches, 2024: batches, 2025: batches,
                                        2026: {3: 2, 6: 8}}),
                        _events("JC", {2023: town, 2024: town, 2025: town, 2026: {}})])
    plan = _plan(catalog, ind, "JC", 4.0, values)
    rows = project(ind, 2026, values, plan, margin=2.0)
    june = rows[rows["unit"] == "JC"].set_index("month").loc[6]
    # JC has none by June (its own pattern: 2 of 4 by now, so 0 projects 0); the district's
    # year is on its pattern (10 of 20): JC is due a fifth of the district's remaining 10
    assert june["basis"] == "本单位往年占ALL比重"
    assert june["projected_seasonal"] == pytest.approx(2.0)
    assert june["projected_pace"] == pytest.approx(2.0)  # the district's pace, split alike
    assert june["projected"] == pytest.approx(2.0) and june["shortfall"] == pytest.approx(50)


def test_a_registry_stock_is_judged_by_its_path_not_a_renewal_dip(catalog):
    ind = catalog.indicators["TECH_SME"]  # 科技型中小企业: a stock renewed every year
    usual = [50, 50, 40, 45, 55, 60, 60, 60, 60, 60, 60, 60]  # March's expiries, then renewals
    dip = [50, 50, 30, 30, 30]  # renewals late this year
    values = _flow_values("JC", {})
    rows = []
    for year, path in ((2023, usual), (2024, usual), (2025, usual), (2026, dip)):
        rows += [{"period": f"{year}-{m:02d}", "unit": "JC", "value": float(v), "monthly": None}
                 for m, v in enumerate(path, start=1)]
    rows.append({"period": "2022-12", "unit": "JC", "value": 50.0, "monthly": None})
    values = pd.DataFrame(rows)
    plan = _plan(catalog, ind, "JC", 60.0, values)
    may = project(ind, 2026, values, plan, margin=2.0).set_index("month").loc[5]
    # the past years' path from May to December (+5) on today's 30: 35 judges; the recent
    # pace (30 below the usual 15 gained Feb-May, carried on) is shown, lower still
    assert may["projected_seasonal"] == pytest.approx(35)
    assert may["projected_pace"] < may["projected_seasonal"]
    assert may["projected"] == pytest.approx(35)


def test_a_stock_worked_down_is_projected_by_its_share_of_the_change(catalog):
    ind = catalog.indicators["ZERO_RD_EXP"]  # 两清零: a submitted count brought down to target
    rows = [{"period": "2022-12", "unit": "JC", "value": 25.0, "monthly": None}]
    for year, start in ((2023, 25.0), (2024, 20.0), (2025, 15.0)):  # 5 fewer a year, evenly
        rows += [{"period": f"{year}-{m:02d}", "unit": "JC", "value": start - 5 * m / 12,
                  "monthly": None} for m in range(1, 13)]
    # this year's target asks for twice that, the remaining 10, and half of it is done by June
    rows += [{"period": f"2026-{m:02d}", "unit": "JC", "value": 10.0 - 10 * m / 12,
              "monthly": None} for m in range(1, 7)]
    values = pd.DataFrame(rows)
    plan = _plan(catalog, ind, "JC", 0.0, values)
    june = project(ind, 2026, values, plan, margin=2.0).set_index("month").loc[6]
    # 5 of the 10 gone by June, the share of their change the past years had made by June (a
    # half): 0 in December, on course, nothing to warn of (their drift, 2.5 fewer from June to
    # December, would have carried it to 2.5 and warned)
    assert june["projected_seasonal"] == pytest.approx(0.0)
    assert june["projected_pace"] == pytest.approx(0.0)  # 2.5 a quarter, a quarter's share
    assert not june["fast"]
    # 8 gone by June (2 left): at the same share it would end at -6, and a count ends at 0
    rows[-1] = {**rows[-1], "value": 2.0}
    fast = project(ind, 2026, pd.DataFrame(rows), plan, margin=2.0).set_index("month").loc[6]
    assert fast["projected_seasonal"] == pytest.approx(0.0) and fast["band_low"] >= 0
    # 2 fewer than that by June (7 left): 4 short at the same share, warned
    rows[-1] = {**rows[-1], "value": 7.0}
    slow = project(ind, 2026, pd.DataFrame(rows), plan, margin=2.0).set_index("month").loc[6]
    assert slow["projected_seasonal"] == pytest.approx(4.0) and slow["fast"]


def test_a_small_count_a_unit_never_reaches_is_warned_before_december(catalog):
    ind = catalog.indicators["ACAD_WS"]  # 院士工作站: a stock; JC has had none in three years
    rows = [{"period": f"{y}-{m:02d}", "unit": "JC", "value": 0.0, "monthly": None}
            for y in range(2022, 2027) for m in range(1, 13) if (y, m) <= (2026, 10)]
    values = pd.DataFrame(rows)
    plan = _plan(catalog, ind, "JC", 1.0, values)
    rows = project(ind, 2026, values, plan, margin=2.0, small_count_max=5,
                   confirm_from=6).set_index("month")
    # its one is planned for December (no whole-unit step is behind before), but even its
    # best past year (none) leaves it short: confirmed from June
    assert not rows.loc[5, "confirmed"] and rows.loc[6, "confirmed"]
    assert rows.loc[10, "band_high"] == pytest.approx(0)


def test_a_small_count_target_is_planned_in_whole_units(catalog):
    ind = catalog.indicators["ACAD_WS"]  # 院士工作站: a stock, milestones {6: 0.5}
    listed = pd.DataFrame([{"year": 2026, "indicator": ind.code, "unit": "JC", "target": 2.0,
                            "deadline_month": 12}])
    history = pd.DataFrame([{"period": "2025-12", "unit": "JC", "value": 0.0, "monthly": None}])
    plan = build_plan(ind, catalog, 2026, listed, history)
    plan = plan[plan["unit"] == "JC"].set_index("month")
    # a line would want 1.67 by October; whole units: one by the mid-year milestone, two in Dec
    assert plan.loc[5, "planned"] == 0 and plan.loc[6, "planned"] == 1
    assert plan.loc[10, "planned"] == 1 and plan.loc[12, "planned"] == 2
    assert plan.loc[10, "planned_share"] == pytest.approx(50)
    values = pd.DataFrame({"period": "2026-10", "unit": ["JC"], "value": [1.0]})
    row = compute_progress(ind, catalog, ["2026-10"], values, plan.reset_index(),
                           dt.date(2026, 11, 23)).set_index("unit").loc["JC"]
    assert row["status"] == "green"  # one of two by October is on its step


def test_a_batch_indicator_is_not_red_before_its_announcement(catalog):
    ind = catalog.indicators["HT_EFFECTIVE"]  # stock, batches in October-December
    listed = pd.DataFrame([{"year": 2026, "indicator": ind.code, "unit": "JC", "target": 100.0,
                            "deadline_month": 12}])
    history = pd.DataFrame([{"period": "2025-12", "unit": "JC", "value": 80.0,
                             "monthly": None}])
    plan = build_plan(ind, catalog, 2026, listed, history)
    values = pd.DataFrame({"period": ["2026-09", "2026-10"], "unit": "JC",
                           "value": [40.0, 40.0]})  # expiries, nothing announced yet
    rows = compute_progress(ind, catalog, ["2026-09", "2026-10"], values, plan,
                            dt.date(2026, 12, 23)).set_index("period")
    assert rows.loc["2026-09", "status"] == "yellow"  # far behind, but not red before October
    assert rows.loc["2026-10", "status"] == "red"


def _projection_row(**overrides):
    row = {"period": "2026-10", "indicator": "HT_VA", "unit": "JLH", "year": 2026, "month": 10,
           "actual": 20.0, "target": 40.0, "baseline": 0.0, "projected_seasonal": 30.0,
           "projected_pace": 28.0, "projected": 28.0, "band_low": 27.0, "band_high": 33.0,
           "projected_completion": 70.0, "shortfall": 30.0, "needed_monthly": 10.0,
           "fast": True, "slow": True, "confirmed": True, "basis": "本单位往年规律"}
    return pd.DataFrame([{**row, **overrides}])


def test_a_projected_miss_warns_a_green_unit_once_per_band(catalog):
    rows = _projection_row()
    (warning,) = projected_misses(rows, {("HT_VA", "JLH"): "green"}, catalog, {})
    assert warning.level == "projected_miss" and warning.warning_id == \
        "projected:2026:HT_VA:JLH:3"
    assert "还需月均完成 10.00 亿元（剩余2个月）" in warning.message
    assert "🟢 绿" in warning.message and "请责任单位" in warning.message
    # raised before in this band or a worse one: not again; in a worse band: again
    assert not projected_misses(rows, {}, catalog, {(2026, "HT_VA", "JLH"): 3})
    assert projected_misses(_projection_row(shortfall=45.0), {}, catalog,
                            {(2026, "HT_VA", "JLH"): 3})
    # not confirmed, done, or its figure missing: nothing
    assert not projected_misses(_projection_row(confirmed=False), {}, catalog, {})
    assert not projected_misses(rows, {("HT_VA", "JLH"): "done"}, catalog, {})
    assert severity_step(9.99) == 0 and severity_step(10) == 1 and severity_step(-3) == 0


def test_backtest_scores_hand_worked():
    def months(unit, statuses, december):
        return [{"period": f"2024-{m:02d}", "indicator": "HT_VA", "unit": unit, "status": s}
                for m, s in enumerate(statuses, start=1)] + [
            {"period": "2024-12", "indicator": "HT_VA", "unit": unit, "status": december}]

    green = ["green"] * 11
    progress = pd.DataFrame(months("A", green, "red") + months("B", green, "done")
                            + months("C", green, "yellow") + months("D", green, "grey"))
    projections = pd.DataFrame([
        {"indicator": "HT_VA", "unit": u, "year": 2024, "month": m, "fast": True,
         "confirmed": m >= 9} for u, m in (("A", 8), ("A", 9), ("B", 10), ("D", 5))])
    scores = {s.rule: s for s in score(progress, projections)}
    confirmed = scores["projection_confirmed"]
    # A missed and was warned from September (lead 3); B met but was warned (a false alarm);
    # C missed unwarned; D has no December figure and is not judged
    assert (confirmed.unit_years, confirmed.missed, confirmed.warned, confirmed.hits) == \
        (3, 2, 2, 1)
    assert confirmed.precision == 0.5 and confirmed.recall == 0.5
    assert confirmed.median_lead == 3
    assert scores["projection"].median_lead == 4  # the fast signal alone: from August
    assert scores["status"].warned == 0
