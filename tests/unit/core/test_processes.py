"""Whether a run's worker still lives, told from /proc: alive, gone, its pid reused, the host
booted since, and another host's (unknown)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from kj_pipelines.core.processes import ALIVE, DEAD, UNKNOWN, worker_identity, worker_state


def test_a_live_process_is_alive_and_a_finished_one_dead():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        identity = worker_identity(child.pid)
        assert worker_state(identity) == ALIVE
    finally:
        child.kill()
        child.wait()
    assert worker_state(identity) == DEAD


def test_a_reused_pid_a_new_boot_and_another_host_are_told_apart():
    me = json.loads(worker_identity())
    assert worker_state(json.dumps(me)) == ALIVE
    assert worker_state(json.dumps({**me, "started": me["started"] - 3600})) == DEAD  # reused
    assert worker_state(json.dumps({**me, "boot": "an-earlier-boot"})) == DEAD
    assert worker_state(json.dumps({**me, "host": "another-host"})) == UNKNOWN
    assert worker_state(None) == UNKNOWN and worker_state("not json") == UNKNOWN
    assert me["pid"] == os.getpid()


def test_only_runs_whose_worker_is_gone_are_failed_or_canceled():
    from types import SimpleNamespace

    import dagster as dg

    from kj_pipelines.defs.runs import orphaned_runs

    started, canceling = dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING
    runs = [SimpleNamespace(run_id=name, status=status, tags={"kj/worker": name})
            for name, status in (("dead", started), ("alive", started),
                                 ("elsewhere", started), ("dead-cancel", canceling))]
    states = {"dead": DEAD, "alive": ALIVE, "elsewhere": UNKNOWN, "dead-cancel": DEAD}
    got = [(run.run_id, verdict) for run, verdict in orphaned_runs(runs, states.get)]
    assert got == [("dead", "failed"), ("dead-cancel", "canceled")]
