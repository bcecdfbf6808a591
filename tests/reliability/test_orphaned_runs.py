"""A run killed together with its code server is not left STARTED: the whole `dg dev` process
group killed with SIGKILL mid-backfill (what a reboot or an out-of-memory kill does), then `dg
dev` started again: the run is failed and retried within minutes, the tables equal a clean
run's, and cancelling the dead run over GraphQL answers cleanly. Real processes, real GraphQL."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import duckdb
import pandas as pd
import pytest

pytestmark = pytest.mark.slow  # two `dg dev` starts and a backfill: `make test-slow`, .ci/run

ROOT = Path(__file__).resolve().parents[2]
MONTHS = ["2026-08", "2026-09", "2026-10"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(url: str, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(f"{url}/graphql", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        payload = json.load(response)
    assert not payload.get("errors"), payload["errors"]
    return payload["data"]


def _start(home: Path, data: Path, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "DAGSTER_HOME": str(home), "KJ_DATA_DIR": str(data)}
    process = subprocess.Popen([str(ROOT / ".venv/bin/dg"), "dev", "--host", "127.0.0.1",
                                "--port", str(port)], cwd=ROOT, env=env,
                               stdout=log.open("ab"), stderr=subprocess.STDOUT,
                               start_new_session=True)  # its own process group, as make ui's
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        try:
            if _graphql(url, "{ version }"):
                return process
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(2)
    raise AssertionError(f"dg dev did not answer: {log.read_text()[-2000:]}")


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


RUNS = """query Runs($filter: RunsFilter) { runsOrError(filter: $filter) { ... on Runs {
  results { runId status tags { key value } } } } }"""


def _runs(url: str, **filters) -> list[dict]:
    return _graphql(url, RUNS, {"filter": filters})["runsOrError"]["results"]


def _wait(what, seconds: float, step: float = 3.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(step)
    raise AssertionError(f"not within {seconds:.0f} s")


def _progress(data: Path) -> pd.DataFrame:
    con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute("""SELECT period, indicator, unit, actual, target, planned,
                                     completion, gap, status FROM mart.indicator_progress
                              WHERE period BETWEEN '2026-08' AND '2026-10'
                              ORDER BY ALL""").df()
    finally:
        con.close()


def test_a_run_killed_with_its_code_server_is_failed_and_retried(reviewed_copy, tmp_path):
    data = reviewed_copy.root
    clean = _progress(data)  # what a clean run of these months wrote
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    port, log = _free_port(), tmp_path / "dg.log"
    url = f"http://127.0.0.1:{port}"
    server = _start(home, data, port, log)
    try:
        nodes = _graphql(url, "{ assetNodes { assetKey { path } } }")["assetNodes"]
        selection = [{"path": n["assetKey"]["path"]} for n in nodes
                     if n["assetKey"]["path"][0] == "indicator"
                     or n["assetKey"]["path"] == ["indicator_progress"]]
        launched = _graphql(url, """mutation Launch($params: LaunchBackfillParams!) {
            launchPartitionBackfill(backfillParams: $params) {
              __typename ... on LaunchBackfillSuccess { backfillId } } }""",
                            {"params": {"assetSelection": selection,
                                        "partitionNames": MONTHS}})["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        # the backfill's run has started and recorded its worker: kill everything mid-run
        run = _wait(lambda: next((r for r in _runs(url, statuses=["STARTED"])
                                  if any(t["key"] == "kj/worker" for t in r["tags"])), None),
                    240, 1.0)
        time.sleep(3)
        _kill_group(server)
        killed_at = time.monotonic()
        server = _start(home, data, port, log)
        # failed, with the cause, within minutes of the instance coming back...
        _wait(lambda: _runs(url, runIds=[run["runId"]])[0]["status"] == "FAILURE", 300)
        # ...cancelling it now answers cleanly (the run is over, not an HTTP 500)...
        answer = _graphql(url, """mutation T($id: String!) { terminateRun(runId: $id) {
            __typename ... on TerminateRunFailure { message } ... on PythonError { message } } }""",
                          {"id": run["runId"]})["terminateRun"]
        assert answer["__typename"] in ("TerminateRunFailure", "TerminateRunSuccess"), answer
        # ...and it is retried, and the retry finishes the work
        retry = _wait(lambda: next((r for r in _runs(url, tags=[
            {"key": "dagster/parent_run_id", "value": run["runId"]}])), None), 300)
        _wait(lambda: _runs(url, runIds=[retry["runId"]])[0]["status"] == "SUCCESS", 400)
        assert time.monotonic() - killed_at < 600
        assert not _runs(url, statuses=["STARTED"])  # no run left STARTED, no slot held
    finally:
        _kill_group(server)
    pd.testing.assert_frame_equal(_progress(data), clean)
