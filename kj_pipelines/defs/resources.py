"""Resources: where the data lives (``KJ_DATA_DIR``), the warehouse, and the notifier."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from kj_pipelines.alerts.notify import Notifier
from kj_pipelines.catalog.loader import load_catalog
from kj_pipelines.catalog.model import Catalog
from kj_pipelines.core.processes import TAG as WORKER_TAG
from kj_pipelines.core.processes import worker_identity
from kj_pipelines.core.settings import DataPaths
from kj_pipelines.storage.lock import (
    WarehouseBusy,
    is_file_locked_error,
    retry_delay,
    warehouse_lock,
)
from kj_pipelines.storage.warehouse import CONFIG, in_local_time

# a step that could not open the file because a process outside the lock held it is retried
# this many times (see WarehouseResource.get_connection); any other failure is not retried
TRANSIENT_RETRIES = 3


class KJDataResource(dg.ConfigurableResource):
    """The data directory and its catalog (目录)."""

    root: str

    @property
    def paths(self) -> DataPaths:
        return DataPaths(Path(self.root))

    def catalog(self) -> Catalog:
        """The catalog as the folder holds it now: read again only when a file in it changed
        (every asset of a run asks; a backfill of 30 assets read it 30 times)."""
        folder = self.paths.catalog
        stamp = _folder_stamp(folder)
        cached = _CATALOGS.get(folder)
        if cached is None or cached[0] != stamp:
            cached = (stamp, load_catalog(folder))
            _CATALOGS[folder] = cached
        return cached[1]


_CATALOGS: dict[Path, tuple[tuple, Catalog]] = {}


def _folder_stamp(folder: Path) -> tuple:
    """Name, size and modification time of every file in the folder (a changed, added or
    removed file changes it)."""
    try:
        return tuple(sorted((p.name, st.st_size, st.st_mtime_ns)
                            for p in folder.iterdir() if p.is_file() for st in [p.stat()]))
    except OSError:
        return ()


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse, ``warehouse.duckdb`` in the data directory (one file per region).

    Every connection holds the warehouse lock (:mod:`kj_pipelines.storage.lock`) while open:
    one process at a time, released by the kernel when its holder dies. In a run, the first
    step that asks opens the connection and the run keeps it (and the lock) to its end: opening
    and closing DuckDB at every step (a checkpoint at each close) cost ~30 ms a step, a third of
    a month's computation."""

    data_dir: str
    _holder: str = PrivateAttr(default="")
    _in_run: bool = PrivateAttr(default=False)  # a run keeps one connection to its end
    _refused: int = PrivateAttr(default=0)  # opens refused for an outside holder, this run
    _run: ExitStack | None = PrivateAttr(default=None)
    # a duckdb.DuckDBPyConnection; typed loosely so that pydantic, reading the annotation as
    # the class is made, does not import DuckDB with the definitions
    _run_conn: object | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # the lock file names the run holding the warehouse, for `kj lock` and the logs
        run_id = getattr(context, "run_id", None)
        self._in_run = bool(run_id)
        self._holder = f"dagster run {run_id}" if run_id else "dagster"
        if run_id and context.instance is not None:
            # which process runs it: orphaned_runs_sensor fails the run if a crash ends it
            try:
                context.instance.add_run_tags(run_id, {WORKER_TAG: worker_identity()})
            except Exception as exc:  # noqa: BLE001 - a run is never stopped for its label
                context.log.warning(f"could not record the run's worker: {exc}")

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._run is not None:  # closes the run's connection, then lets the lock go
            self._run_conn, run, self._run = None, self._run, None
            run.close()

    @contextmanager
    def get_connection(self, *, wait: float | None = None,
                       purpose: str = "") -> Iterator[duckdb.DuckDBPyConnection]:
        """``wait``: seconds to wait for another holder (None: as long as it takes, for runs;
        a few seconds for a sensor tick, which raises :class:`WarehouseBusy` and skips)."""
        if wait is None and self._in_run:
            if self._run_conn is None:
                run = ExitStack()
                try:
                    self._run_conn = run.enter_context(self._open(wait, purpose))
                except BaseException:
                    run.close()
                    raise
                self._run = run
            yield self._run_conn
            return
        with self._open(wait, purpose) as conn:
            yield conn

    @contextmanager
    def _open(self, wait: float | None, purpose: str) -> Iterator[duckdb.DuckDBPyConnection]:
        path = DataPaths(Path(self.data_dir)).warehouse
        with warehouse_lock(path, purpose=purpose or self._holder or "dagster", wait=wait), \
                ExitStack() as stack:
            try:
                if wait is None:
                    # a run: dagster-duckdb's resource retries opening for ~100 s
                    conn = stack.enter_context(DuckDBResource(
                        database=str(path), connection_config=CONFIG).get_connection())
                else:
                    # a sensor tick has a minute in all: one try
                    conn = stack.enter_context(closing(duckdb.connect(str(path), config=CONFIG)))
                in_local_time(conn)
            except duckdb.IOException as exc:
                if not is_file_locked_error(exc):
                    raise
                # held by a process outside the lock: the only failure worth retrying
                if wait is not None:
                    raise WarehouseBusy(f"本系统以外的进程打开了数仓文件：{exc}") from exc
                self._refused += 1
                raise dg.RetryRequested(max_retries=TRANSIENT_RETRIES,
                                        seconds_to_wait=retry_delay(self._refused)) from exc
            yield conn


class NotifierResource(dg.ConfigurableResource):
    """Apprise URLs, space separated (``KJ_NOTIFY_URLS``); none: Markdown files in ``outbox/``."""

    urls: str = ""
    data_dir: str

    def notifier(self) -> Notifier:
        return Notifier.from_setting(self.urls, DataPaths(Path(self.data_dir)).outbox)


def default_resources() -> dict[str, object]:
    """Configured from the environment when the run starts (``EnvVar``), so the UI shows where
    each setting comes from; without ``KJ_DATA_DIR``, the repository's ``data/``."""
    data_dir = dg.EnvVar("KJ_DATA_DIR") if os.environ.get("KJ_DATA_DIR") \
        else str(DataPaths.from_env().root)
    urls = dg.EnvVar("KJ_NOTIFY_URLS") if os.environ.get("KJ_NOTIFY_URLS") else ""
    return {
        "kj_data": KJDataResource(root=data_dir),
        "warehouse": WarehouseResource(data_dir=data_dir),
        "notifier": NotifierResource(urls=urls, data_dir=data_dir),
    }


# A tick waits this long for a run holding the warehouse, then skips and keeps its cursor: the
# next tick (a minute later) picks up where this one would have.
SENSOR_WAIT_SECONDS = 5.0


def busy_reason(exc: WarehouseBusy) -> dg.SkipReason:
    """What a sensor tick says when the warehouse was busy: it skipped, its cursor kept."""
    return dg.SkipReason(f"{exc}：本次跳过，游标不动，下次再评估")
