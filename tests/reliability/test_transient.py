"""Only a transient failure is retried: the warehouse file opened by a process outside the lock
(someone's ``duckdb`` shell) makes the step wait with jitter and try again; any other failure
fails the run at once. The outside holder is a real process."""

import subprocess
import sys

import dagster as dg
import pytest

import kj_pipelines.defs.resources as resources
from kj_pipelines.core.settings import DataPaths
from kj_pipelines.defs.resources import WarehouseResource
from kj_pipelines.storage.lock import WarehouseBusy, retry_delay

HOLD = """
import sys, time, duckdb
conn = duckdb.connect(sys.argv[1])
print("holding", flush=True)
time.sleep(120)
"""


@pytest.fixture
def outsider(data_dir: DataPaths):
    """A process holding the warehouse file without taking the lock (a person's duckdb shell)."""
    child = subprocess.Popen([sys.executable, "-c", HOLD, str(data_dir.warehouse)],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "holding"
    yield child
    child.kill()
    child.wait()


@pytest.fixture
def one_try(monkeypatch: pytest.MonkeyPatch):
    """dagster-duckdb's resource tries ~100 s before giving up: here once, same error."""
    from contextlib import contextmanager

    import duckdb

    class OneTry(resources.DuckDBResource):
        @contextmanager
        def get_connection(self):
            conn = duckdb.connect(self.database)
            yield conn
            conn.close()

    monkeypatch.setattr(resources, "DuckDBResource", OneTry)


@dg.asset
def counted(warehouse: WarehouseResource) -> None:
    with warehouse.get_connection() as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
        conn.execute("INSERT INTO t VALUES (1)")


def test_a_locked_file_is_retried_with_jitter_until_the_holder_leaves(
        data_dir, outsider, one_try, monkeypatch):
    waits: list[int] = []

    def holder_leaves(attempt: int) -> float:
        waits.append(attempt)
        if attempt == 2:  # the person closes the shell while the step waits its second time
            outsider.kill()
            outsider.wait()
        return 0.05

    monkeypatch.setattr(resources, "retry_delay", holder_leaves)
    result = dg.materialize([counted], resources={
        "warehouse": WarehouseResource(data_dir=str(data_dir.root))})
    assert result.success
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert len(retries) == 2 and waits == [1, 2]


def test_retries_give_up_after_a_few(data_dir, outsider, one_try, monkeypatch):
    monkeypatch.setattr(resources, "retry_delay", lambda attempt: 0.01)
    result = dg.materialize([counted], raise_on_error=False, resources={
        "warehouse": WarehouseResource(data_dir=str(data_dir.root))})
    assert not result.success
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert len(retries) == resources.TRANSIENT_RETRIES


def test_any_other_failure_is_not_retried(data_dir, one_try):
    data_dir.warehouse.mkdir()  # not a database file: an error no wait will cure
    result = dg.materialize([counted], raise_on_error=False, resources={
        "warehouse": WarehouseResource(data_dir=str(data_dir.root))})
    assert not result.success
    assert not [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]


def test_a_sensor_tick_skips_instead_of_retrying(data_dir, outsider):
    warehouse = WarehouseResource(data_dir=str(data_dir.root))
    with pytest.raises(WarehouseBusy, match="本系统以外的进程"), \
            warehouse.get_connection(wait=1, purpose="sensor"):
        pass


def test_retry_delays_grow_and_are_jittered():
    firsts = {round(retry_delay(1), 6) for _ in range(50)}
    assert len(firsts) > 40 and all(10 <= d <= 20 for d in firsts)
    assert all(20 <= retry_delay(2) <= 40 for _ in range(50))
    assert all(150 <= retry_delay(9) <= 300 for _ in range(50))  # capped
