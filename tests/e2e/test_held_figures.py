"""A town's implausible figure on the reviewed sample: held, the month computed, the review
completed for everyone, the figure accepted with a reason and shown by kj audit."""

from __future__ import annotations

import pytest


def _stored(paths, sql, params=()):
    import duckdb

    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def _resend_original(paths, catalog, tmp_path):
    """JLH re-sends its 2026-09 workbook as it first had it: 高新技术产业增加值 above its
    October year to date (its 更正 had replaced it). Ingested; returns the figure."""
    import datetime as dt
    import shutil

    import duckdb

    from kj_pipelines.intake.inbox import ingest_pending
    from tests.workbooks import archived, set_figure

    ((october,), (august,)) = (_stored(paths, """SELECT value FROM mart.indicator_values
        WHERE indicator = 'HT_VA' AND unit = 'JLH' AND period = ?""", [p])[0]
        for p in ("2026-10", "2026-08"))
    original = tmp_path / "2026-09_JLH_原表.xlsx"
    shutil.copy(archived(paths, "2026-09_JLH.xlsx"), original)
    set_figure(original, "HT_VA", value=october + 5 - august, cumulative=october + 5,
               note="原表")
    shutil.copy(original, paths.inbox / original.name)
    con = duckdb.connect(str(paths.warehouse))
    try:
        report = ingest_pending(paths, catalog, con, dt.datetime(2026, 11, 25, 9))
    finally:
        con.close()
    assert [r.status for r in report.results] == ["accepted"]
    return october + 5


def test_a_resent_original_is_held_and_the_month_still_computes(reviewed_copy, catalog,
                                                                   tmp_path, capsys):
    import datetime as dt
    import json

    import dagster as dg
    import duckdb
    from conftest import tick

    from kj_pipelines.cli import main
    from kj_pipelines.defs.indicators.sensors import acceptance_sensor
    from kj_pipelines.indicators.service import run_indicator

    paths = reviewed_copy
    figure = _resend_original(paths, catalog, tmp_path)
    con = duckdb.connect(str(paths.warehouse))
    try:
        run = run_indicator(con, catalog, "HT_VA", ["2026-09"], dt.date(2026, 11, 25))
    finally:
        con.close()
    (held,) = run.implausible.itertuples(index=False)
    assert (held.unit, held.period, held.value) == ("JLH", "2026-09", figure)
    assert "重报了旧表" in held.reason and not run.inconsistent
    top = run.progress.set_index("unit").loc["ALL"]
    assert (top["status"], top["missing_list"]) == ("grey", "JLH")  # 待报齐, JLH's held
    assert _stored(paths, "SELECT unit, period, value FROM core.held_figures") == [
        ("JLH", "2026-09", figure)]
    # the bureau accepts it with a reason; the sensor re-runs September and October
    assert main(["accept", "--indicator", "HT_VA", "--unit", "JLH", "--period", "2026-09"]) == 2
    assert main(["accept", "--indicator", "HT_VA", "--unit", "JLH", "--period", "2026-09",
                 "--reason", "企业追加申报，经统计局核实"]) == 0
    with dg.instance_for_test() as instance:
        requests, cursor = tick(acceptance_sensor, instance)
        assert sorted(r.partition_key for r in requests) == ["2026-09", "2026-10"]
        again, _ = tick(acceptance_sensor, instance, cursor)
        assert isinstance(again, dg.SkipReason)  # once
    con = duckdb.connect(str(paths.warehouse))
    try:
        run = run_indicator(con, catalog, "HT_VA", ["2026-09"], dt.date(2026, 11, 25))
    finally:
        con.close()
    assert run.implausible.empty  # September in, as accepted
    assert run.values.set_index("unit").at["JLH", "value"] == figure
    capsys.readouterr()
    assert main(["audit", "--indicator", "HT_VA", "--unit", "JLH", "--period", "2026-09",
                 "--json"]) == 0
    audit = json.loads(capsys.readouterr().out)
    assert audit["accepted"][0]["reason"] == "企业追加申报，经统计局核实"
    assert audit["stored"] == figure


@pytest.mark.slow  # a whole monthly_review: in make test-slow
def test_one_towns_implausible_figure_does_not_stop_the_districts_review(reviewed_copy,
                                                                        catalog, tmp_path):
    import dagster as dg

    from kj_pipelines.definitions import build_defs

    paths = reviewed_copy
    figure = _resend_original(paths, catalog, tmp_path)
    with dg.instance_for_test() as instance:
        result = build_defs().resolve_job_def("monthly_review").execute_in_process(
            instance=instance, partition_key="2026-09", raise_on_error=False)
        assert result.success
        checks = {(e.asset_check_evaluation_data.asset_key.to_user_string(),
                   e.asset_check_evaluation_data.check_name):
                  e.asset_check_evaluation_data.passed
                  for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}
        assert checks[("indicator/HT_VA", "values_plausible")] is False  # shown, WARN
        assert checks[("indicator/HT_VA", "values_consistent")] is True
        # the reasons are in the run's log, not only in the check's metadata
        logged = [e.user_message for e in instance.all_logs(result.run_id)
                  if "暂扣" in (e.user_message or "")]
        assert any("九龙湖" in m and "2026-09" in m for m in logged), logged
    assert (paths.reports / "2026-09" / "月调度报告_2026-09.xlsx").exists()
    assert _stored(paths, "SELECT unit, value FROM core.held_figures WHERE indicator = 'HT_VA'"
                   ) == [("JLH", figure)]
