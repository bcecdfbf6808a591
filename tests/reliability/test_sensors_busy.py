"""Sensors while a run holds the warehouse: the tick says so, keeps its cursor, and the next tick
after the writer finishes raises every warning once; a failing delivery leaks no token."""

import logging

import dagster as dg
from conftest import lookback_forever, stored_warnings, tick

from kj_pipelines.defs.alerts.sensors import behind_schedule_sensor
from kj_pipelines.defs.resources import NotifierResource, default_resources
from kj_pipelines.storage.lock import warehouse_lock


def test_a_tick_while_a_run_holds_the_warehouse_skips_and_keeps_its_cursor(reviewed_copy,
                                                                             monkeypatch):
    import kj_pipelines.defs.alerts.sensors as sensors

    monkeypatch.setattr(sensors, "SENSOR_WAIT_SECONDS", 0.2)
    paths = reviewed_copy
    lookback_forever(paths)
    with dg.instance_for_test() as instance:
        instance.report_runless_asset_event(dg.AssetMaterialization(
            asset_key="indicator_progress", partition="2026-10"))
        with warehouse_lock(paths.warehouse, purpose="dagster run a-long-backfill"):
            busy, cursor = tick(behind_schedule_sensor, instance, "0")
            assert "a-long-backfill" in busy.skip_message and "游标不动" in busy.skip_message
            assert cursor == "0"
            legacy = '{"after": 0, "lists_on": "2026-11-01"}'
            skipped, cursor = tick(behind_schedule_sensor, instance, legacy)
            assert "游标不动" in skipped.skip_message and cursor == legacy
        assert stored_warnings(paths) == []  # nothing half-done while it waited
        # the writer finished: the next tick does all of it, once
        _, cursor = tick(behind_schedule_sensor, instance, "0")
        first = stored_warnings(paths)
        assert first and all(notified for _, notified, _, _ in first) and cursor != "0"
        tick(behind_schedule_sensor, instance, cursor)
        assert stored_warnings(paths) == first


TOKEN = "9f3c2e1d8b7a6c5d4e3f2a1b0c9d8e7f"


def test_a_failed_delivery_leaks_no_token(reviewed_copy, caplog):
    paths = reviewed_copy
    lookback_forever(paths)
    # local endpoints that refuse at once (no DNS, no network), the token in user, password,
    # path and query: wherever a webhook service puts it
    urls = (f"json://kj:{TOKEN}@127.0.0.1:9/hook?access_token={TOKEN} "
            f"xml://{TOKEN}@127.0.0.1:9/robot/{TOKEN}/send")
    resources = default_resources() | {"notifier": NotifierResource(
        urls=urls, data_dir=str(paths.root))}
    caplog.set_level(logging.DEBUG)
    with dg.instance_for_test() as instance:
        instance.report_runless_asset_event(dg.AssetMaterialization(
            asset_key="indicator_progress", partition="2026-10"))
        result, _ = tick(behind_schedule_sensor, instance, resources=resources)
    failed = stored_warnings(paths)
    assert failed and all(not notified and error for _, notified, _, error in failed)
    for _, _, _, error in failed:
        assert TOKEN not in error and "json" in error  # says which channel, not its address
    assert TOKEN not in result.skip_message
    assert TOKEN not in caplog.text  # Apprise's own log names the endpoint: silenced
