"""``kj backup DIR`` and ``kj restore DIR``: a consistent copy of what a bureau cannot lose.

What is copied: the warehouse (taken under the warehouse lock, so no run writes while it is
copied: a checkpoint, then the file), the catalog, the target lists and plans (``plans/``), the
archive of every submission received, and the generated reports. A ``MANIFEST.json`` lists each
file with its size and SHA-256; ``restore`` verifies every sum before it puts anything back and
refuses to overwrite a data directory that already holds a warehouse unless told to (the old one
is then kept beside it, never deleted).

Not copied: ``inbox/`` (files not yet received are still with their senders), ``outbox/`` and the
Dagster instance (``DAGSTER_HOME``: run history, schedules' state; see docs/operations.md).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from kj_pipelines.core.files import sha256_of
from kj_pipelines.core.settings import DataPaths
from kj_pipelines.storage.lock import warehouse_lock
from kj_pipelines.storage.warehouse import connect

MANIFEST = "MANIFEST.json"
FOLDERS = ("catalog", "plans", "archive", "reports")
FORMAT = 1


class BackupError(RuntimeError):
    """A backup could not be written or a restore could not be verified."""


@dataclass(frozen=True)
class Entry:
    path: str
    size: int
    sha256: str


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != MANIFEST)


def backup(paths: DataPaths, target: Path, *, wait: float | None = 600) -> list[Entry]:
    """Write the backup into ``target`` (which must not exist or be empty)."""
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: a backup goes into a new directory")
    target.mkdir(parents=True, exist_ok=True)
    warehouse = paths.warehouse
    if warehouse.exists():
        with warehouse_lock(warehouse, purpose="kj backup", wait=wait):
            conn = connect(warehouse)
            try:
                conn.execute("CHECKPOINT")  # the WAL folded into the file: one file is the state
            finally:
                conn.close()
            shutil.copy2(warehouse, target / warehouse.name)
    for folder in FOLDERS:
        source = paths.root / folder
        if source.exists():
            shutil.copytree(source, target / folder)
    entries = [Entry(str(p.relative_to(target)), p.stat().st_size, sha256_of(p))
               for p in _files(target)]
    (target / MANIFEST).write_text(json.dumps({
        "format": FORMAT, "written_at": dt.datetime.now().isoformat(timespec="seconds"),
        "source": paths.root.name,
        "files": [e.__dict__ for e in entries]}, ensure_ascii=False, indent=1), encoding="utf-8")
    return entries


def verify(source: Path) -> list[Entry]:
    """Every file of the manifest present with its size and SHA-256, and nothing else."""
    manifest = source / MANIFEST
    if not manifest.is_file():
        raise BackupError(f"{source}: no {MANIFEST}, not a kj backup")
    data = json.loads(manifest.read_text(encoding="utf-8"))
    entries = [Entry(**e) for e in data["files"]]
    problems = []
    for e in entries:
        path = source / e.path
        if not path.is_file():
            problems.append(f"missing: {e.path}")
        elif path.stat().st_size != e.size or sha256_of(path) != e.sha256:
            problems.append(f"changed: {e.path}")
    listed = {e.path for e in entries}
    problems += [f"not in the manifest: {p.relative_to(source)}" for p in _files(source)
                 if str(p.relative_to(source)) not in listed]
    if problems:
        raise BackupError(f"{source}: the backup does not verify: " + "; ".join(problems[:10]))
    return entries


def restore(source: Path, paths: DataPaths, *, replace: bool = False) -> list[Entry]:
    """Verify the backup, then put it into the data directory. An existing warehouse is kept
    as ``warehouse.duckdb.before-restore-<time>`` when ``replace``; without it, refused."""
    entries = verify(source)
    warehouse = paths.warehouse
    if warehouse.exists() and not replace:
        raise BackupError(f"{paths.root} already holds a warehouse: restore into an empty data "
                          "directory, or pass --replace (the current one is kept beside it)")
    paths.root.mkdir(parents=True, exist_ok=True)
    with warehouse_lock(warehouse, purpose="kj restore", wait=600):
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        for e in entries:
            target = paths.root / e.path
            if target.exists() and sha256_of(target) == e.sha256:
                continue
            if target.exists():
                target.rename(target.with_name(f"{target.name}.before-restore-{stamp}"))
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.restoring")
            shutil.copy2(source / e.path, tmp)
            os.replace(tmp, target)
        wal = warehouse.with_name(warehouse.name + ".wal")
        if wal.exists():  # a WAL of the replaced file would be replayed onto the restored one
            wal.rename(wal.with_name(f"{wal.name}.before-restore-{stamp}"))
    for e in entries:
        if sha256_of(paths.root / e.path) != e.sha256:
            raise BackupError(f"restored {e.path} does not match the backup")
    return entries
