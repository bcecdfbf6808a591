"""Inbox → warehouse: each dropped workbook is read once (keyed by SHA-256), its good rows stored
with provenance, its bad cells quarantined, and the file moved to ``archive/``.

The database commit comes before the move: a crash in between leaves a file whose hash is known,
which the next run only archives.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from kj_pipelines.domain.catalog import Catalog
from kj_pipelines.domain.submissions import FileResult, read_submission, sha256_of
from kj_pipelines.lists import list_context, store_list_rows
from kj_pipelines.settings import DataPaths
from kj_pipelines.warehouse import ensure_schema, insert_frame, transaction

REJECTION_COLUMNS = ["source_file", "sha256", "sheet", "row", "column", "value", "reason_code",
                     "message", "received_at"]


@dataclass
class IngestReport:
    results: list[FileResult] = field(default_factory=list)
    already_seen: list[str] = field(default_factory=list)

    @property
    def periods(self) -> list[str]:
        found: set[str] = set()
        for r in self.results:
            found.update(r.accepted["period"].unique())
            for frame in (r.lists.tasks, r.lists.projects, r.lists.problems):
                found.update(frame["period"].unique())
        return sorted(found)


def pending_files(inbox: Path) -> list[Path]:
    if not inbox.exists():
        return []
    return sorted(p for p in inbox.iterdir()
                  if p.is_file() and not p.name.startswith((".", "~$")))


def rejections_frame(result: FileResult, received_at: dt.datetime) -> pd.DataFrame:
    return pd.DataFrame(
        [(result.file, result.sha256, r.sheet, r.row, r.column, r.value, r.reason_code,
          r.message, received_at) for r in result.rejections],
        columns=REJECTION_COLUMNS).astype({"row": "Int64"})


def ingest_pending(paths: DataPaths, catalog: Catalog, conn: duckdb.DuckDBPyConnection,
                   now: dt.datetime) -> IngestReport:
    ensure_schema(conn)
    report = IngestReport()
    files = pending_files(paths.inbox)
    # list sheets are checked against the plans and the problem ledger, which each accepted
    # event moves on: a town's 提出 earlier in the run is known to a department's 受理 after it
    lists = list_context(conn, paths.plans, catalog) if files else None
    for path in files:
        try:
            sha = sha256_of(path)
        except OSError:
            continue  # unreadable right now (still being copied, permissions): next run

        seen = conn.execute("SELECT 1 FROM raw.submission_files WHERE sha256 = ?", [sha]).fetchone()
        if seen:
            report.already_seen.append(path.name)
            _archive(paths, path, sha, now)
            continue
        result = read_submission(path, catalog, now.date(), display_name=path.name, lists=lists)
        submitted_at = dt.datetime.fromtimestamp(path.stat().st_mtime)
        archived_as = _archive_name(paths, path, sha, now)
        _store(conn, result, submitted_at, now, archived_as)
        _archive(paths, path, sha, now)
        report.results.append(result)
    return report


def _archive_name(paths: DataPaths, path: Path, sha: str, now: dt.datetime) -> str:
    return f"{now:%Y-%m}/{sha[:12]}_{path.name}"


def _archive(paths: DataPaths, path: Path, sha: str, now: dt.datetime) -> None:
    target = paths.archive / _archive_name(paths, path, sha, now)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(path), target)


def _store(conn: duckdb.DuckDBPyConnection, result: FileResult, submitted_at: dt.datetime,
           received_at: dt.datetime, archived_as: str) -> None:
    values = result.accepted.assign(sha256=result.sha256, source_file=result.file,
                                    submitted_at=submitted_at, received_at=received_at)
    rejections = rejections_frame(result, received_at)
    with transaction(conn):
        insert_frame(conn, "raw.submission_values", values)
        insert_frame(conn, "quarantine.rejections", rejections)
        store_list_rows(conn, result, submitted_at, received_at)
        conn.execute("INSERT INTO raw.submission_files VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     [result.sha256, result.file, archived_as, submitted_at, received_at,
                      result.status, result.rows_read, result.rows_accepted])
