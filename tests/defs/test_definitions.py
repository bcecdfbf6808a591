"""The code location loads, its asset keys do not drift, and a sample month runs end to end."""

import dagster as dg
import duckdb

from kj_pipelines.definitions import build_defs

EXPECTED_NON_INDICATOR = {"submission_inbox", "annual_targets", "registry_snapshot",
                          "indicator_plan", "indicator_progress"}


def test_definitions_load_with_one_asset_per_indicator(catalog, data_dir):
    defs = build_defs(catalog)
    keys = {k.to_user_string() for k in defs.resolve_all_asset_keys()}
    indicator_keys = {f"indicator/{c}" for c in catalog.indicators}
    assert indicator_keys <= keys
    assert keys - indicator_keys >= EXPECTED_NON_INDICATOR
    for name in ("monthly_review", "annual_evaluation"):
        assert defs.resolve_job_def(name) is not None
    spec = defs.resolve_assets_def(dg.AssetKey(["indicator", "HT_NEW"]))
    assert spec.partitions_def.get_partition_keys()[0] == "2019-01"
    assert spec.group_names_by_key[dg.AssetKey(["indicator", "HT_NEW"])] == "enterprises"
    checks = {c.name for c in spec.check_specs}
    assert checks == {"values_consistent", "values_plausible", "submissions_complete",
                      "on_schedule"}


def test_module_level_defs_import():
    from kj_pipelines import definitions

    assert isinstance(definitions.defs, dg.Definitions)


def test_sample_month_materializes_end_to_end(catalog, reviewed):
    paths, instance = reviewed
    assert list(paths.inbox.iterdir()) == []
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        indicators = {r[0] for r in con.execute(
            "SELECT DISTINCT indicator FROM mart.indicator_values WHERE period = '2026-10'").fetchall()}
        statuses = {r[0] for r in con.execute(
            "SELECT DISTINCT status FROM mart.indicator_progress WHERE period = '2026-10'").fetchall()}
        rejected = con.execute("SELECT count(*) FROM quarantine.rejections").fetchone()[0]
    finally:
        con.close()
    quarterly_or_annual = {c for c, i in catalog.indicators.items() if i.frequency != "monthly"}
    growth = {c for c, i in catalog.indicators.items() if i.kind == "growth"}  # no 2025 in sample
    assert indicators == set(catalog.indicators) - quarterly_or_annual - growth
    assert {"red", "yellow", "grey"} <= statuses
    assert rejected == 0
    event = instance.get_latest_materialization_event(dg.AssetKey(["indicator", "HT_VA"]))
    metadata = event.asset_materialization.metadata
    assert metadata["period"].value == "2026-10" and "全区·实际（缺报按上期结转）" in metadata and "落后单位" in metadata


LIST_CHECKS = {
    "targets": {"every_indicator_targeted"},
    "responsibilities": {"leads_known"},
    "tasks": {"no_overdue_milestones", "plan_loaded"},
    "projects": {"investment_on_plan"},
    "problems": {"no_overdue_problems", "ledger_replays_cleanly"},
    "supervision": {"feedback_on_time"},
}


def test_each_list_is_a_monthly_asset_of_the_monthly_review(catalog, data_dir):
    defs = build_defs(catalog)
    job_keys = defs.resolve_job_def("monthly_review").asset_layer.selected_asset_keys
    assert dg.AssetKey("work_plans") in job_keys
    for name, checks in LIST_CHECKS.items():
        key = dg.AssetKey(["list", name])
        spec = defs.resolve_assets_def(key)
        assert key in job_keys
        assert spec.partitions_def.get_partition_keys()[:2] == ["2019-01", "2019-02"]
        assert spec.group_names_by_key[key] == "lists"
        assert {c.name for c in spec.check_specs} == checks
    sensors = {s.name for s in defs.sensors}
    assert sensors == {"behind_schedule_sensor", "inbox_sensor", "acceptance_sensor",
                       "orphaned_runs_sensor"}


def test_a_region_without_a_registry_still_runs(catalog, sample_dir):
    (sample_dir.source / "registry.sqlite").unlink()
    defs = build_defs(catalog)
    registry_fed = [c for c, i in catalog.indicators.items() if i.source == "registry"]
    selection = dg.AssetSelection.assets("submission_inbox", "annual_targets", "registry_snapshot",
                                         *[dg.AssetKey(["indicator", c]) for c in registry_fed])
    from kj_pipelines.defs.resources import default_resources

    result = dg.materialize(list(defs.assets), selection=selection, partition_key="2026-10",
                            resources=default_resources(), instance=dg.DagsterInstance.ephemeral())
    assert result.success
    [snapshot] = result.asset_materializations_for_node("registry_snapshot")
    assert "未配置或不可用" in snapshot.metadata["registry"].value
    [ht_new] = result.asset_materializations_for_node("indicator__HT_NEW")
    assert "登记库" in ht_new.metadata["registry"].value
    assert not (sample_dir.source / "registry.sqlite").exists()  # nothing created in its place
    con = duckdb.connect(str(sample_dir.warehouse), read_only=True)
    try:
        statuses = {r[0] for r in con.execute(
            "SELECT DISTINCT status FROM core.indicator_status WHERE indicator = 'HT_NEW'").fetchall()}
    finally:
        con.close()
    assert statuses == {"grey"}
