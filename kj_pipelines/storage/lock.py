"""One writer at a time on the warehouse file, across every process that touches it.

DuckDB lets one process open a database file for writing and refuses every other process
(readers included) while it does. Runs, sensors and `kj` commands therefore take this lock —
an exclusive ``flock`` on ``warehouse.duckdb.lock`` beside the file — before they open it, and
hold it until they close it.

Why not Dagster's pool: a pool slot is a row in the instance's database. A run killed with
SIGKILL (an OOM kill, a reboot) kept its slot and every later step waited for it forever, spinning
a core and ignoring SIGTERM (measured). An ``flock`` belongs to the open file: the kernel drops it
the moment its holder dies, whatever killed it, for runs launched from the CLI or by the daemon
alike. A process waiting for the lock sleeps between tries (with jitter) and a SIGTERM ends it as
any sleep. The holder writes its pid, start time and purpose into the lock file, so an operator
sees who holds the warehouse (``kj lock``).

Linux and macOS (``fcntl``); the bureau's servers are Linux.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger("kj.warehouse")

POLL_SECONDS = 0.5
REPORT_EVERY_SECONDS = 60.0


class WarehouseBusy(RuntimeError):
    """The warehouse is held by another process and the caller chose not to wait (longer)."""

    def __init__(self, holder: str) -> None:
        super().__init__(f"数仓正被其他进程使用（{holder or '占用者未知'}）")
        self.holder = holder


def is_file_locked_error(exc: BaseException) -> bool:
    """DuckDB refused to open the file because a process outside this lock has it open (someone's
    ``duckdb`` shell, a notebook): transient, unlike every other error opening or writing it."""
    return "could not set lock on file" in str(exc).lower()


def retry_delay(attempt: int, base: float = 20.0, cap: float = 300.0) -> float:
    """Seconds to wait before retry ``attempt`` (1, 2, …): exponential, capped, with full jitter
    (uniform between half and the whole), so runs that failed together do not retry together."""
    ceiling = min(cap, base * 2 ** (attempt - 1))
    return ceiling * (0.5 + random.random() / 2)


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


def holder(warehouse: Path) -> str:
    """Who holds (or last held) the lock: 'pid 123 since 2026-11-24T08:00:00 monthly_review'."""
    try:
        return lock_path(warehouse).read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def is_held(warehouse: Path) -> bool:
    """Whether a live process holds the lock now (a dead holder's lock is already gone)."""
    path = lock_path(warehouse)
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops a lock taken just now
    return False


@contextmanager
def warehouse_lock(warehouse: Path, *, purpose: str = "", wait: float | None = None,
                   poll: float = POLL_SECONDS) -> Iterator[None]:
    """Hold the warehouse's writer lock for the block.

    ``wait``: seconds to wait for a holder to finish before raising :class:`WarehouseBusy`;
    ``None`` waits as long as it takes (a run), ``0`` tries once (a sensor tick).
    """
    path = lock_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        started = time.monotonic()
        reported = started
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                now = time.monotonic()
                if wait is not None and now - started >= wait:
                    raise WarehouseBusy(holder(warehouse)) from None
                if now - reported >= REPORT_EVERY_SECONDS:
                    log.info("waiting %.0f s for the warehouse, held by %s", now - started,
                             holder(warehouse))
                    reported = now
                time.sleep(poll * (0.5 + random.random()))
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {dt.datetime.now().isoformat(timespec='seconds')}"
                      f" {purpose}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock; the holder line stays for `kj lock` to show as past
