"""Which process runs a run, and whether it still does: what a crash leaves behind.

Dagster's default run launcher starts each run as a process of the code server, and cannot tell
the run monitoring daemon whether that process still lives. After a crash that takes the code
server with it (a host reboot, an out-of-memory kill, a container restart, ``kill`` of the
whole ``dg dev`` process group) the run would stay STARTED for ever, holding a run slot. So a
run's worker records who it is (host, boot, process and the moment it started, as a run tag),
and :func:`worker_state` tells from ``/proc`` whether that very process is still there: a pid
the kernel has given to another process since, or a host booted since, is a dead worker.

Linux only (``/proc``); elsewhere, or asked on another host than the worker's, the answer is
``unknown`` and nothing is done.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

TAG = "kj/worker"
ALIVE, DEAD, UNKNOWN = "alive", "dead", "unknown"


def boot_id(proc: Path = Path("/proc")) -> str:
    try:
        return (proc / "sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def started_at(pid: int, proc: Path = Path("/proc")) -> float | None:
    """When process ``pid`` started (seconds since the epoch), or None if there is none."""
    try:
        stat = (proc / str(pid) / "stat").read_text()
        boot = next(float(line.split()[1]) for line in (proc / "stat").read_text().splitlines()
                    if line.startswith("btime "))
    except (OSError, StopIteration, ValueError):
        return None
    # the command name may hold spaces and parentheses: fields count from the last ')'
    fields = stat[stat.rindex(")") + 2:].split()
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def worker_identity(pid: int | None = None) -> str:
    """This process as a run's worker: host, boot, pid and when it started."""
    pid = pid or os.getpid()
    return json.dumps({"host": socket.gethostname(), "boot": boot_id(), "pid": pid,
                       "started": started_at(pid)}, sort_keys=True)


def worker_state(identity: str | None, proc: Path = Path("/proc"),
                 host: str | None = None) -> str:
    """``alive`` while the recorded process runs, ``dead`` once it is gone (its pid free or
    another process's, or the host booted since), ``unknown`` when it cannot be told from
    here (no record, another host, no ``/proc``)."""
    try:
        worker = json.loads(identity or "")
        pid, started, recorded_boot = int(worker["pid"]), worker["started"], worker["boot"]
    except (ValueError, TypeError, KeyError):
        return UNKNOWN
    if worker.get("host") != (host or socket.gethostname()) or not recorded_boot \
            or not (proc / "stat").exists():
        return UNKNOWN
    if boot_id(proc) != recorded_boot:
        return DEAD  # the host started again since: every process of then is gone
    now_started = started_at(pid, proc)
    if now_started is None:
        return DEAD
    if started is None or abs(now_started - float(started)) > 1.0:
        return DEAD  # the pid is another process's now
    return ALIVE
