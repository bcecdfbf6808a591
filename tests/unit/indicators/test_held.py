"""A figure that cannot be right is held, not a stopped review: which of two figures is held,
the bureau's acceptance, a derived share's inputs, and what corrupts a whole indicator."""

from __future__ import annotations

import pandas as pd

from kj_pipelines.indicators.held import hold_facts, inconsistent
from kj_pipelines.indicators.values import compute_values


def _facts(rows):
    return pd.DataFrame(rows, columns=["unit", "indicator", "period", "value", "cumulative"])


FLOW = [("JC", "TECH_CONTRACT", "2026-08", float("nan"), 20.0),
        ("JC", "TECH_CONTRACT", "2026-09", float("nan"), 30.0),  # the re-sent original
        ("JC", "TECH_CONTRACT", "2026-10", float("nan"), 25.0),
        ("ZS", "TECH_CONTRACT", "2026-09", float("nan"), 10.0),
        ("ZS", "TECH_CONTRACT", "2026-10", float("nan"), 12.0)]


def _arrivals(times):
    def arrived(code, pairs):
        return {pair: times[pair] for pair in pairs if pair in times}
    return arrived


def test_of_a_falling_pair_the_later_arrived_figure_is_held(catalog):
    ind = catalog.indicators["TECH_CONTRACT"]
    # September arrived after October (re-sent): September is the suspect
    late_sep = _arrivals({("JC", "2026-09"): "2026-11-25", ("JC", "2026-10"): "2026-11-08"})
    kept, held = hold_facts(ind, catalog, _facts(FLOW), arrivals=late_sep)
    assert held[["period", "unit", "value", "compared"]].values.tolist() == [
        ["2026-09", "JC", 30.0, "2026-10"]]
    assert "高于其后2026-10" in held["reason"].iloc[0] and "重报了旧表" in held["reason"].iloc[0]
    assert "kj accept" in held["advice"].iloc[0]
    assert len(kept) == len(FLOW) - 1
    # held, JC counts as not reported for September: the district sums ZS alone, waiting
    values = compute_values(ind, catalog, kept, ["2026-09"])
    assert values.set_index("unit").at["ALL", "value"] == 10.0
    # in file order (the same workbook, or October later) the later month is held
    kept, held = hold_facts(ind, catalog, _facts(FLOW), arrivals=_arrivals({}))
    assert held[["period", "unit"]].values.tolist() == [["2026-10", "JC"]]
    assert "下降" in held["reason"].iloc[0]


def test_an_accepted_figure_is_never_held_and_a_new_one_is_judged_afresh(catalog):
    ind = catalog.indicators["TECH_CONTRACT"]
    late_sep = _arrivals({("JC", "2026-09"): "2026-11-25", ("JC", "2026-10"): "2026-11-08"})
    accepted = [("TECH_CONTRACT", "JC", "2026-09", 30.0)]
    _, held = hold_facts(ind, catalog, _facts(FLOW), accepted, late_sep)
    # September is taken as it is: October, now below it, is the one held
    assert held[["period", "unit"]].values.tolist() == [["2026-10", "JC"]]
    changed = [("JC", "TECH_CONTRACT", "2026-09", float("nan"), 31.0), *FLOW[2:], FLOW[0]]
    _, held = hold_facts(ind, catalog, _facts(changed), accepted, late_sep)
    assert held[["period", "unit"]].values.tolist() == [["2026-09", "JC"]]  # 31 is not 30


def test_a_share_out_of_its_range_holds_the_units_inputs_for_it(catalog):
    share = catalog.indicators["HT_VA_SHARE"]  # HT_VA ÷ IND_VA
    num, den = share.numerator, share.denominator
    facts = _facts([("JC", num, "2026-09", float("nan"), 60.0),
                    ("JC", den, "2026-09", float("nan"), 50.0),  # 120 %: cannot be
                    ("ZS", num, "2026-09", float("nan"), 20.0),
                    ("ZS", den, "2026-09", float("nan"), 80.0)])
    kept, held = hold_facts(share, catalog, facts, inputs=[num, den])
    assert held[["indicator", "unit", "period"]].values.tolist() == [
        ["HT_VA_SHARE", "JC", "2026-09"]]
    values = compute_values(share, catalog, kept, ["2026-09"]).set_index("unit")
    assert "JC" not in values.index and values.at["ALL", "value"] == 25.0  # ZS alone


def test_what_corrupts_a_whole_indicator_is_found(catalog):
    ind = catalog.indicators["TECH_CONTRACT"]
    values = compute_values(ind, catalog, _facts(FLOW), ["2026-09", "2026-10"])
    assert inconsistent(ind, catalog, values) == []
    twice = pd.concat([values, values.iloc[[0]]], ignore_index=True)
    assert "重复" in inconsistent(ind, catalog, twice)[0]
    off = values.copy()
    off.loc[off["unit"] == "ALL", "value"] += 1
    assert "不等于下级之和" in inconsistent(ind, catalog, off)[0]
    infinite = values.copy()
    infinite.loc[0, "value"] = float("inf")
    assert any("有限数" in p for p in inconsistent(ind, catalog, infinite))
