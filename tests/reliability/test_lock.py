"""The warehouse lock with real processes: a holder killed with SIGKILL lets go at once, a waiter
sleeps (no spinning) and stops on SIGTERM, a sensor-style try names the holder."""

import os
import signal
import subprocess
import sys
import time

import pytest

from kj_pipelines.cli import main
from kj_pipelines.storage.lock import WarehouseBusy, holder, is_held, warehouse_lock

HOLD = """
import sys, time
from pathlib import Path
from kj_pipelines.storage.lock import warehouse_lock
with warehouse_lock(Path(sys.argv[1]), purpose=sys.argv[2]):
    print("held", flush=True)
    time.sleep(600)
"""


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", HOLD, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_holder_killed_with_sigkill_lets_go_at_once(tmp_path, capsys, monkeypatch):
    warehouse = tmp_path / "warehouse.duckdb"
    child = _start(str(warehouse), "backfill 2019-01...2026-10")
    try:
        assert child.stdout.readline().strip() == "held"
        assert is_held(warehouse)
        assert f"pid {child.pid}" in holder(warehouse) and "backfill" in holder(warehouse)
        with pytest.raises(WarehouseBusy, match="backfill"):
            with warehouse_lock(warehouse, wait=0):
                pass
        monkeypatch.setenv("KJ_DATA_DIR", str(tmp_path))
        assert main(["lock"]) == 1 and f"pid {child.pid}" in capsys.readouterr().out
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    # no slot to free by hand: the kernel dropped the lock with the process
    assert not is_held(warehouse)
    started = time.monotonic()
    with warehouse_lock(warehouse, wait=2):
        assert time.monotonic() - started < 1
    assert main(["lock"]) == 0 and "free" in capsys.readouterr().out


# SIGTERM as a process started by the daemon or a shell has it: the default. A pytest process
# in which Dagster ran in-process has SIGTERM mapped to SIGINT's handler, and a shell's
# background job has SIGINT ignored, so a child started from it would inherit SIGTERM ignored.
WAIT = """
import signal, sys
signal.signal(signal.SIGTERM, signal.SIG_DFL)
from pathlib import Path
from kj_pipelines.storage.lock import warehouse_lock
print("waiting", flush=True)
with warehouse_lock(Path(sys.argv[1]), purpose="waiter"):
    print("got it", flush=True)
"""


@pytest.mark.slow  # watches a waiter for two seconds
def test_a_waiter_sleeps_and_stops_on_sigterm(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with warehouse_lock(warehouse, purpose="a long run"):
        waiter = subprocess.Popen([sys.executable, "-c", WAIT, str(warehouse)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert waiter.stdout.readline().strip() == "waiting"
            before = _cpu_seconds(waiter.pid)
            time.sleep(2.0)
            assert _cpu_seconds(waiter.pid) - before < 0.3  # sleeping, not spinning a core
            waiter.send_signal(signal.SIGTERM)
            assert waiter.wait(timeout=5) == -signal.SIGTERM
        finally:
            if waiter.poll() is None:
                waiter.kill()
                waiter.wait()
    assert "got it" not in waiter.stdout.read()


def test_a_waiter_goes_on_when_the_holder_finishes(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with warehouse_lock(warehouse, purpose="first"):
        waiter = subprocess.Popen([sys.executable, "-c", WAIT, str(warehouse)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert waiter.stdout.readline().strip() == "waiting"
        time.sleep(0.5)
    out, _ = waiter.communicate(timeout=10)
    assert waiter.returncode == 0 and "got it" in out
