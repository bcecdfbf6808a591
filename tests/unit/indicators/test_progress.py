"""Status at its boundaries, completion by direction, grey after the deadline, done once met."""

import dataclasses
import datetime as dt

import pandas as pd
import pytest

from kj_pipelines.indicators.backschedule import build_plan
from kj_pipelines.indicators.progress import completion, compute_progress, is_met, status_of
from kj_pipelines.indicators.status import status_with_estimate
from kj_pipelines.indicators.values import carried_forward, compute_values


@pytest.mark.parametrize(("gap", "status"), [
    (3.0, "green"), (0.0, "green"), (-5.0, "green"), (-5.01, "yellow"), (-15.0, "yellow"),
    (-15.01, "red"), (-80.0, "red"),
])
def test_status_boundaries(catalog, gap, status):
    ind = catalog.indicators["TECH_CONTRACT"]  # yellow 5, red 15
    assert (ind.yellow, ind.red) == (5, 15)
    assert status_of(ind, gap) == status


def test_completion_follows_direction(catalog):
    higher = catalog.indicators["TECH_CONTRACT"]
    assert completion(higher, 30, 120, 0) == pytest.approx(25)
    lower = catalog.indicators["ZERO_RD_ORG"]
    assert completion(lower, 20, 0, 40) == pytest.approx(50)  # half of the reduction done
    assert completion(lower, 0, 0, 0) == 100 and completion(lower, 2, 0, 0) == 0


def test_done_rules(catalog):
    assert is_met(catalog.indicators["TECH_CONTRACT"], 121, 120, 9)
    assert not is_met(catalog.indicators["HT_VA_SHARE"], 46, 45, 9)  # a ratio is judged in December
    assert is_met(catalog.indicators["HT_VA_SHARE"], 46, 45, 12)
    assert is_met(catalog.indicators["ZERO_RD_ORG"], 0, 0, 4)


def test_a_figure_equal_to_its_target_but_for_the_last_bit_meets_it(catalog):
    share = 1.1 * 3  # a share summed from units: 3.3000000000000003
    assert share > 3.3
    lower = catalog.indicators["ZERO_RD_ORG"]  # a share to keep below its target
    assert is_met(lower, share, 3.3, 12)
    assert completion(lower, share, 3.3, None) == 100
    assert not is_met(lower, 3.301, 3.3, 12)  # a real difference still counts
    assert completion(lower, 3.301, 3.3, None) == 0
    higher = catalog.indicators["TECH_CONTRACT"]
    assert 0.1 * 3 > 0.3 and 0.7 * 3 < 2.1
    assert is_met(higher, 0.7 * 3, 2.1, 12) and not is_met(higher, 2.099, 2.1, 12)


def _plan(catalog, code, unit, target):
    listed = pd.DataFrame([{"year": 2026, "indicator": code, "unit": unit, "target": target,
                            "deadline_month": 12}])
    history = pd.DataFrame(columns=["period", "unit", "value", "monthly"])
    return build_plan(catalog.indicators[code], catalog, 2026, listed, history)


def test_progress_rows_hand_worked(catalog):
    ind = dataclasses.replace(catalog.indicators["TECH_CONTRACT"], profile="linear")
    listed = pd.DataFrame([{"year": 2026, "indicator": ind.code, "unit": u, "target": 120.0,
                            "deadline_month": 12} for u in ("JC", "ZS", "LT")])
    history = pd.DataFrame(columns=["period", "unit", "value", "monthly"])
    plan = build_plan(ind, catalog, 2026, listed, history)
    values = pd.DataFrame({"period": "2026-10", "unit": ["JC", "ZS"], "value": [100.0, 70.0]})
    rows = compute_progress(ind, catalog, ["2026-10"], values, plan, dt.date(2026, 11, 23))
    by = rows.set_index("unit")
    # planned 100 by October (10/12 of 120): JC on plan, ZS 25 points behind, LT missing
    assert by.loc["JC", "planned"] == pytest.approx(100)
    assert by.loc["JC", "gap"] == pytest.approx(0) and by.loc["JC", "status"] == "green"
    assert by.loc["ZS", "gap"] == pytest.approx(-25) and by.loc["ZS", "status"] == "red"
    assert by.loc["LT", "status"] == "grey" and pd.isna(by.loc["LT", "actual"])
    assert by.loc["ALL", "status"] == "grey"  # no district figure either


def test_grey_only_after_the_deadline(catalog):
    ind = catalog.indicators["TECH_CONTRACT"]
    plan = _plan(catalog, ind.code, "JC", 120.0)
    empty = pd.DataFrame(columns=["period", "unit", "value"])
    before = compute_progress(ind, catalog, ["2026-10"], empty, plan, dt.date(2026, 11, 10))
    after = compute_progress(ind, catalog, ["2026-10"], empty, plan, dt.date(2026, 11, 11))
    assert before.empty
    judged = after[after["status"].notna()]
    assert dict(zip(judged["unit"], judged["status"], strict=True)) == {"JC": "grey", "ALL": "grey"}
    # the towns without a target of their own owe the figure too: a row each, no status
    others = after[after["status"].isna()]
    assert set(others["unit"]) == {u.code for u in catalog.reporting_units(ind)} - {"JC"}
    assert others["actual"].isna().all() and others["target"].isna().all()


def test_every_unit_shows_its_figure_and_only_those_with_a_target_are_judged(catalog):
    ind = catalog.indicators["TECH_CONTRACT"]
    plan = _plan(catalog, ind.code, "JC", 120.0)
    values = pd.DataFrame({"period": ["2026-10"] * 2, "unit": ["JC", "ZS"], "value": [99.0, 7.5]})
    rows = compute_progress(ind, catalog, ["2026-10"], values, plan,
                            dt.date(2026, 11, 5)).set_index("unit")
    assert rows.loc["JC", "status"] == "green" and rows.loc["JC", "target"] == 120.0
    assert rows.loc["ZS", "actual"] == 7.5 and rows.loc["ZS", "status"] is None
    assert pd.isna(rows.loc["ZS", "target"]) and pd.isna(rows.loc["ZS", "completion"])


def test_annual_indicator_is_due_after_its_release_lag(catalog):
    ind = catalog.indicators["RD_GDP"]  # annual, released 9 months after the year
    plan = _plan(catalog, ind.code, "ALL", 3.48)
    empty = pd.DataFrame(columns=["period", "unit", "value"])
    assert compute_progress(ind, catalog, ["2026-10"], empty, plan, dt.date(2027, 1, 5)).empty
    # December, before the release: the target shown, not yet due (未到期), never judged
    waiting = compute_progress(ind, catalog, ["2026-12"], empty, plan, dt.date(2027, 10, 9))
    assert list(zip(waiting["unit"], waiting["status"], waiting["target"], strict=True)) == [
        ("ALL", "pending", 3.48)]
    late = compute_progress(ind, catalog, ["2026-12"], empty, plan, dt.date(2027, 10, 11))
    assert list(late["status"]) == ["grey"]


def test_an_annual_rate_shows_its_target_in_the_months_before_it_is_due(catalog):
    from kj_pipelines.indicators.progress import carry_forward, pending_rows

    ind = catalog.indicators["RD_GDP"]
    plan = _plan(catalog, ind.code, "ALL", 3.48)
    months = ["2026-03", "2026-10"]
    # a region's first year: no figure ever due yet
    due = pd.DataFrame(columns=["period", "unit", "actual", "status", "as_of", "target"])
    first = pending_rows(ind, months, carry_forward(ind, months, due), plan)
    assert list(zip(first["period"], first["status"], first["target"], strict=True)) == [
        ("2026-03", "pending", 3.48), ("2026-10", "pending", 3.48)]
    assert first["actual"].isna().all() and first["as_of"].isna().all()
    # later: last December's figure beside this year's target, named as of its month
    due = pd.DataFrame({"period": ["2025-12"], "unit": ["ALL"], "actual": [3.41],
                        "status": ["red"], "target": [3.45]}).assign(as_of="2025-12")
    later = pending_rows(ind, months, carry_forward(ind, months, due), plan)
    assert list(zip(later["status"], later["target"], later["actual"], later["as_of"],
                    strict=True)) == [("pending", 3.48, 3.41, "2025-12")] * 2
    # a unit with last year's figure and no target this year: the figure, no verdict
    due = due.assign(unit="JC")
    other = pending_rows(ind, months, carry_forward(ind, months, due), plan)
    jc = other[other["unit"] == "JC"]
    assert list(jc["actual"]) == [3.41] * 2 and jc["status"].isna().all()
    assert jc["target"].isna().all()


def _values(rows):
    return pd.DataFrame(rows, columns=["period", "unit", "value", "monthly"])


def test_implausible_values(catalog):
    from kj_pipelines.indicators.progress import implausible

    flow = catalog.indicators["TECH_CONTRACT"]  # jump factor 5
    values = _values([("2026-08", "JC", 10.0, 2.0), ("2026-09", "JC", 9.0, -1.0),
                      ("2026-08", "ZS", 10.0, 1.0), ("2026-09", "ZS", 16.0, 6.0),
                      ("2026-08", "LT", 10.0, 1.0), ("2026-09", "LT", 14.0, 4.0),
                      ("2025-12", "GS", 50.0, 9.0), ("2026-01", "GS", 1.0, 1.0)])
    found = implausible(flow, values, ["2026-09", "2026-01"]).set_index("unit")
    assert "下降" in found.loc["JC", "reason"]       # year to date fell
    assert "6.0倍" in found.loc["ZS", "reason"]      # 6 > 5 × 1
    assert "LT" not in found.index                   # 4 × is within the factor
    assert "GS" not in found.index                   # January starts a new year
    ratio = catalog.indicators["HT_VA_SHARE"]
    out = implausible(ratio, _values([("2026-09", "JC", 104.0, None)]), ["2026-09"])
    assert "超出合理范围" in out["reason"].iloc[0]


def test_batch_announcements_may_jump(catalog):
    from kj_pipelines.indicators.progress import implausible

    batch = catalog.indicators["HT_NEW"]
    values = _values([("2026-10", "JC", 1.0, 1.0), ("2026-11", "JC", 9.0, 8.0)])
    assert implausible(batch, values, ["2026-11"]).empty


def test_a_district_total_with_units_missing_is_not_green(catalog):
    ind = dataclasses.replace(catalog.indicators["TECH_CONTRACT"], profile="linear")
    towns = [u.code for u in catalog.reporting_units(ind)]
    listed = pd.DataFrame([{"year": 2026, "indicator": ind.code, "unit": u,
                            "target": 12.0 * (len(towns) if u == "ALL" else 1),
                            "deadline_month": 12} for u in ["ALL", *towns]])
    history = pd.DataFrame(columns=["period", "unit", "value", "monthly"])
    plan = build_plan(ind, catalog, 2026, listed, history)
    # 11 of 12 by October in every town but the last; the district sums those present:
    # 11 × 9 of 120 = 82.5 % against 83.3 % planned, less than a point behind
    present = towns[:-1]
    values = pd.DataFrame({"period": "2026-10", "unit": [*present, "ALL"],
                           "value": [11.0] * len(present) + [11.0 * len(present)]})
    rows = compute_progress(ind, catalog, ["2026-10"], values, plan, dt.date(2026, 11, 5))
    district = rows.set_index("unit").loc["ALL"]
    assert district["gap"] == pytest.approx(82.5 - 100 * 10 / 12)  # green by its figures...
    assert (district["status"], district["missing_units"]) == ("grey", 1)  # ...but incomplete
    complete = pd.concat([values.replace({"value": {11.0 * len(present): 11.0 * len(towns)}}),
                          pd.DataFrame({"period": ["2026-10"], "unit": [towns[-1]],
                                        "value": [11.0]})])
    rows = compute_progress(ind, catalog, ["2026-10"], complete, plan, dt.date(2026, 11, 5))
    district = rows.set_index("unit").loc["ALL"]
    assert (district["status"], district["missing_units"]) == ("green", 0)


def test_quarterly_figures_carry_into_the_months_between(catalog):
    from kj_pipelines.indicators.progress import carry_forward, previous_due_periods

    ind = catalog.indicators["HL_PLATFORM"]  # quarterly
    assert ind.frequency == "quarterly"
    assert previous_due_periods(ind, "2026-10") == ["2026-06", "2026-09"]
    due = pd.DataFrame({"period": ["2026-06", "2026-09", "2026-09"], "unit": ["ALL", "ALL", "JC"],
                        "status": ["yellow", "green", "red"]}).assign(as_of=lambda f: f["period"])
    carried = carry_forward(ind, ["2026-09", "2026-10", "2026-11"], due)
    assert sorted(zip(carried["period"], carried["unit"], carried["as_of"], carried["status"],
                      strict=True)) == [("2026-10", "ALL", "2026-09", "green"),
                                        ("2026-10", "JC", "2026-09", "red"),
                                        ("2026-11", "ALL", "2026-09", "green"),
                                        ("2026-11", "JC", "2026-09", "red")]
    assert carry_forward(catalog.indicators["TECH_CONTRACT"], ["2026-10"], due).empty
    # each unit carries its own latest due row: ZS missed September and carries June; a month
    # before any due row carries nothing; rows come month by month
    due = pd.DataFrame({"period": ["2026-09", "2026-06", "2026-09", "2026-06"],
                        "unit": ["ALL", "ZS", "JC", "ALL"],
                        "status": ["green", "yellow", "red", "grey"]}).assign(
        as_of=lambda f: f["period"])
    carried = carry_forward(ind, ["2026-05", "2026-08", "2026-10"], due)
    assert list(zip(carried["period"], carried["unit"], carried["as_of"], strict=True)) == [
        ("2026-08", "ZS", "2026-06"), ("2026-08", "ALL", "2026-06"),
        ("2026-10", "ZS", "2026-06"), ("2026-10", "ALL", "2026-09"),
        ("2026-10", "JC", "2026-09")]


def _listed(code, unit, target, **extra):
    return pd.DataFrame([{"year": 2026, "indicator": code, "unit": unit, "target": target,
                          "deadline_month": 12, **extra}])


def test_a_first_year_plan_starts_from_the_lists_baseline(catalog):
    ind = dataclasses.replace(catalog.indicators["ZERO_RD_ORG"], profile="linear")  # lower, stock
    history = pd.DataFrame(columns=["period", "unit", "value", "monthly"])  # no December figure
    plan = build_plan(ind, catalog, 2026, _listed(ind.code, "JC", 0.0, comparator="<=",
                                                 baseline=40.0), history)
    october = plan[plan["month"] == 10].iloc[0]
    assert october["baseline_source"] == "目标清单基数" and october["comparator"] == "<="
    assert october["planned"] == pytest.approx(40 - 40 * 10 / 12)  # 6.67 left by October
    values = pd.DataFrame({"period": ["2026-10"], "unit": ["JC"], "value": [10.0]})
    row = compute_progress(ind, catalog, ["2026-10"], values, plan, dt.date(2026, 11, 23)).iloc[0]
    # 30 of the 40 removed (75 %) against 83.3 % planned: 8.3 points behind
    assert row["completion"] == pytest.approx(75)
    assert row["gap"] == pytest.approx(75 - 100 * 10 / 12)
    without = build_plan(ind, catalog, 2026, _listed(ind.code, "JC", 0.0), history)
    assert set(without["baseline_source"]) == {"无基数（按目标值）"}


def test_the_targets_comparator_decides_the_direction(catalog):
    from kj_pipelines.indicators.backschedule import with_comparator

    higher = catalog.indicators["TECH_CONTRACT"]
    assert with_comparator(higher, ">=") is higher and with_comparator(higher, None) is higher
    capped = with_comparator(higher, "<=")
    assert capped.direction == "lower"
    assert is_met(capped, 4.0, 5.0, 10) and not is_met(capped, 6.0, 5.0, 10)


def test_worst_first_orders_by_status_then_gap_and_keeps_ties_in_order():
    from kj_pipelines.indicators.status import worst_first

    rows = pd.DataFrame({"unit": list("abcdefg"),
                         "status": ["green", "red", "yellow", "red", "grey", "done", "red"],
                         "gap": [1.0, -5.0, -2.0, -9.0, float("nan"), 0.0, -5.0]})
    # red furthest behind first, equal gaps in their own order, then grey, yellow, green, done
    assert worst_first(rows)["unit"].tolist() == ["d", "b", "g", "e", "c", "a", "f"]
    # a status without a rank and a missing gap go last within what they are
    odd = pd.DataFrame({"unit": ["x", "y", "z"], "status": ["?", "red", "red"],
                        "gap": [-50.0, None, -1.0]})
    assert worst_first(odd)["unit"].tolist() == ["z", "y", "x"]


def _district_plan(catalog, ind, towns, per_town=12.0):
    listed = pd.DataFrame([{"year": 2026, "indicator": ind.code, "unit": u,
                            "target": per_town * (len(towns) if u == "ALL" else 1),
                            "deadline_month": 12} for u in ["ALL", *towns]])
    history = pd.DataFrame(columns=["period", "unit", "value", "monthly"])
    return build_plan(ind, catalog, 2026, listed, history)


def test_a_total_with_a_unit_missing_is_never_judged_on_its_partial_sum(catalog):
    # ten towns, 12 each a year, linear: 10 planned by October, 100 of 120 for the district.
    # Nine reported 9.5 in October (79.2 %, 4.2 points behind: green); the tenth, GS, had 6.0
    # in September and nothing yet for October. The partial sum 85.5 is 71.25 %: 12.1 points
    # behind, yellow (TECH_CONTRACT: yellow beyond 5 points, red beyond 15)
    ind = dataclasses.replace(catalog.indicators["TECH_CONTRACT"], profile="linear")
    towns = [u.code for u in catalog.reporting_units(ind)]
    assert len(towns) == 10 and "GS" in towns and (ind.yellow, ind.red) == (5, 15)
    plan = _district_plan(catalog, ind, towns)
    facts = pd.DataFrame(
        [{"unit": u, "indicator": ind.code, "period": "2026-09", "value": float("nan"),
          "cumulative": 6.0 if u == "GS" else 9.0} for u in towns]
        + [{"unit": u, "indicator": ind.code, "period": "2026-10", "value": float("nan"),
            "cumulative": 9.5} for u in towns if u != "GS"])
    values = compute_values(ind, catalog, facts, ["2026-09", "2026-10"])
    top = values[values["unit"] == "ALL"].set_index("period")
    assert top.loc["2026-10", "value"] == pytest.approx(85.5)  # what was reported
    assert top.loc["2026-10", "estimate"] == pytest.approx(85.5 + 6.0)  # GS's September carried
    assert top.loc["2026-09", "estimate"] == pytest.approx(top.loc["2026-09", "value"])
    rows = compute_progress(ind, catalog, ["2026-10"], values, plan, dt.date(2026, 11, 5))
    district = rows.set_index("unit").loc["ALL"]
    assert district["gap"] == pytest.approx(71.25 - 100 * 10 / 12)  # yellow by its figures...
    assert district["status"] == "grey"  # ...never judged: 待报齐
    assert (district["missing_units"], district["missing_list"]) == (1, "GS")
    # the estimate 91.5 is 76.25 %, 7.1 points behind: yellow, shown, not the status
    assert district["estimate"] == pytest.approx(91.5)
    assert district["estimate_completion"] == pytest.approx(76.25)
    assert district["estimate_status"] == "yellow"
    assert status_with_estimate(district["status"], district["missing_units"],
                                district["estimate_status"]) == "待报齐（缺1家，估算黄）"
    # the nine who reported are judged as they are; GS has no row before the deadline
    assert set(rows["unit"]) == set(towns) - {"GS"} | {"ALL"}
    assert set(rows[rows["unit"] != "ALL"]["status"]) == {"green"}
    # once GS reports, the total is judged on the whole sum
    facts.loc[len(facts)] = {"unit": "GS", "indicator": ind.code, "period": "2026-10",
                             "value": float("nan"), "cumulative": 6.5}
    values = compute_values(ind, catalog, facts, ["2026-10"])
    rows = compute_progress(ind, catalog, ["2026-10"], values, plan, dt.date(2026, 11, 5))
    district = rows.set_index("unit").loc["ALL"]
    assert district["actual"] == pytest.approx(92.0) and district["status"] == "yellow"
    assert district["missing_units"] == 0 and pd.isna(district["estimate"])


def test_carried_forward_keeps_a_flows_year_and_a_stocks_latest():
    values = pd.DataFrame({"period": ["2025-12", "2026-01", "2026-02", "2026-02"],
                           "unit": ["A", "B", "A", "B"], "value": [7.0, 1.0, 2.0, 3.0]})
    flow = carried_forward(values, ["A", "B", "C"], flow=True)
    # January: A's last figure is of 2025, so a flow starts the year at 0; C never reported
    assert sorted(map(tuple, flow[["period", "unit", "value"]].to_numpy().tolist())) == [
        ("2025-12", "B", 0.0), ("2025-12", "C", 0.0), ("2026-01", "A", 0.0),
        ("2026-01", "C", 0.0), ("2026-02", "C", 0.0)]
    stock = carried_forward(values, ["A", "B", "C"], flow=False)
    # a stock carries A's December into January; B and C have nothing earlier to carry
    assert sorted(map(tuple, stock[["period", "unit", "value"]].to_numpy().tolist())) == [
        ("2026-01", "A", 7.0)]
