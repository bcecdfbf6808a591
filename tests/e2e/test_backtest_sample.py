"""The warning rules' backtest on the sample's history 2020-2025, its figures fixed: the
sample as it is (seed 315) and a second history drawn with another seed (2027). A change to a
rule, the projection or the plan shows here as a change of these figures (and of
bench/backtest.md, which ``make backtest`` writes)."""

import duckdb
import pytest

from kj_pipelines.catalog.loader import load_catalog
from kj_pipelines.indicators.backtest import backtest
from kj_pipelines.sample.generator import generate_sample

# (rule, unit-years, missed, warned, hits, precision, recall, median lead in months)
EXPECTED = {
    315: [("status", 1098, 285, 349, 143, 0.41, 0.502, 8.0),
          ("projection", 1098, 285, 522, 270, 0.517, 0.947, 11.0),
          ("projection_confirmed", 1098, 285, 306, 235, 0.768, 0.825, 6.0)],
    2027: [("status", 1098, 280, 352, 136, 0.386, 0.486, 9.0),
           ("projection", 1098, 280, 511, 259, 0.507, 0.925, 11.0),
           ("projection_confirmed", 1098, 280, 329, 235, 0.714, 0.839, 6.0)],
}


@pytest.mark.slow
@pytest.mark.parametrize("seed", list(EXPECTED))
def test_backtest_figures(seed, tmp_path, monkeypatch):
    import dagster as dg

    from kj_pipelines.defs.intake.assets import annual_targets, registry_snapshot, submission_inbox
    from kj_pipelines.defs.resources import default_resources
    from kj_pipelines.defs.worklists.assets import work_plans

    root = tmp_path / "data"
    monkeypatch.setenv("KJ_DATA_DIR", str(root))
    generate_sample(root, seed=seed)
    with dg.instance_for_test() as instance:
        assert dg.materialize([submission_inbox, annual_targets, registry_snapshot, work_plans],
                              instance=instance, resources=default_resources()).success
    conn = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:
        scores = backtest(conn, load_catalog(root / "catalog"), list(range(2020, 2026)))
    finally:
        conn.close()
    got = [tuple(s.as_row().values()) for s in scores]
    assert got == EXPECTED[seed]
