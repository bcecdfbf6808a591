"""The facts an indicator is computed from, read from the warehouse keyed (unit, indicator and
month as categoricals): the same rows, order and values whichever way they are keyed, and a
name the catalog does not know kept as it was."""

import datetime as dt

import pandas as pd

from kj_pipelines.core.keys import keyed
from kj_pipelines.indicators.service import load_facts
from kj_pipelines.storage.warehouse import insert_frame


def _submitted(rows):
    frame = pd.DataFrame(rows, columns=["unit", "indicator", "period", "value", "cumulative",
                                        "sha256", "row"])
    return frame.assign(submitted_at=dt.datetime(2026, 11, 3, 9),
                        received_at=dt.datetime(2026, 11, 3, 10))


def _as_strings(conn, catalog):
    rows = conn.execute("""
        SELECT unit, indicator, period, value, cumulative FROM core.submitted_values
        UNION ALL SELECT unit, indicator, period, value, cumulative FROM core.registry_values
        ORDER BY ALL""").df()
    return keyed(rows, catalog.units, catalog.indicators)


def test_facts_are_read_keyed_in_a_fixed_order(conn, catalog):
    insert_frame(conn, "raw.submission_values", _submitted([
        ("ZS", "HT_VA", "2026-02", 2.0, None, "a", 5),
        ("JC", "HT_VA", "2026-02", None, 7.5, "a", 6),  # no 本期值: NaN, not a number
        ("JC", "HT_VA", "2026-01", 4.0, 4.0, "a", 7),
        ("JC", "FAI", "2026-01", 1.0, 1.0, "a", 8),
    ]))
    insert_frame(conn, "core.registry_values", pd.DataFrame(
        [("JC", "HT_NEW", "2025-12", 3.0, 3.0)],
        columns=["unit", "indicator", "period", "value", "cumulative"]))
    facts = load_facts(conn, catalog, ["HT_VA", "HT_NEW"], ["2025-12", "2026-02"])
    assert [(u, i, p) for u, i, p in zip(facts["unit"], facts["indicator"], facts["period"],
                                          strict=True)] == [
        ("JC", "HT_NEW", "2025-12"), ("JC", "HT_VA", "2026-01"), ("JC", "HT_VA", "2026-02"),
        ("ZS", "HT_VA", "2026-02")]
    assert facts["value"].isna().tolist() == [False, False, True, False]
    assert all(isinstance(facts[c].dtype, pd.CategoricalDtype)
               for c in ("unit", "indicator", "period"))
    expected = _as_strings(conn, catalog)
    expected = expected[expected["indicator"].isin(["HT_VA", "HT_NEW"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(facts, expected)


def test_a_unit_the_catalog_no_longer_has_is_kept_as_a_name(conn, catalog):
    insert_frame(conn, "raw.submission_values", _submitted([
        ("JC", "HT_VA", "2026-01", 4.0, 4.0, "a", 5),
        ("OLD", "HT_VA", "2026-01", 1.0, 1.0, "a", 6),  # a town since merged away
    ]))
    facts = load_facts(conn, catalog, ["HT_VA"], ["2026-01"])
    assert facts["unit"].tolist() == ["JC", "OLD"]
    assert not isinstance(facts["unit"].dtype, pd.CategoricalDtype)  # left as it was
    assert isinstance(facts["period"].dtype, pd.CategoricalDtype)
