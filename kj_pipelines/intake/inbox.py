"""Inbox → warehouse: each dropped workbook is read once (keyed by SHA-256), its good rows stored
with provenance, its bad cells quarantined, and the file moved to ``archive/``.

The database commit comes before the move: a crash in between leaves a file whose hash is known,
which the next run only archives.

A workbook's submission time is when it reached the inbox: the inbox sensor's first sight of
it (recorded in ``inbox/.arrivals/<sha256>``), or the ingestion's time for a file no sensor
saw. Lateness is judged on it, never on the file's modification time (a workbook written
today for a past month, or copied with its folder, says nothing of when it was sent). History
loaded on purpose is catch-up (补录) and never late: workbooks put in ``inbox/补录/``, and on
a warehouse's first ingestion every workbook no sensor saw arrive (a region loading its past).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from kj_pipelines.catalog.model import Catalog
from kj_pipelines.core.files import ARRIVALS, sha256_of, write_atomic
from kj_pipelines.core.settings import DataPaths, local
from kj_pipelines.intake.listsheets import ListContext
from kj_pipelines.intake.planlists import PlansByYear
from kj_pipelines.intake.submissions import FileResult, read_submissions
from kj_pipelines.storage.warehouse import ensure_schema, insert_frame, transaction
from kj_pipelines.worklists.service import stored_ledger

REJECTION_COLUMNS = ["source_file", "sha256", "sheet", "row", "column", "value", "reason_code",
                     "message", "received_at"]


@dataclass
class IngestReport:
    results: list[FileResult] = field(default_factory=list)
    already_seen: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # still being written: the next run
    quarantined: list[tuple[str, str, str]] = field(default_factory=list)  # (name, why, where)

    @property
    def periods(self) -> list[str]:
        found: set[str] = set()
        for r in self.results:
            found.update(r.accepted["period"].unique())
            for frame in (r.lists.tasks, r.lists.projects, r.lists.problems):
                found.update(frame["period"].unique())
        return sorted(found)


CATCH_UP = "补录"  # inbox/补录/: history loaded on purpose, never scored late


def pending_files(inbox: Path) -> list[Path]:
    """The workbooks waiting: those in ``inbox/补录/`` (history, first), then the inbox's own,
    each in name order (an office's temporary ``~$`` file, hidden files, links and folders
    left alone: :func:`inbox_entries`)."""
    return inbox_entries(inbox)[0]


def is_catch_up(path: Path, inbox: Path) -> bool:
    return path.parent == inbox / CATCH_UP


def record_arrival(inbox: Path, sha: str, when: dt.datetime) -> bool:
    """Note when a workbook was first seen in the inbox (the first note stands); True if this
    was the first."""
    marker = inbox / ARRIVALS / sha
    if marker.exists():
        return False
    marker.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(marker, local(when).isoformat().encode())
    return True


def arrival_of(inbox: Path, sha: str) -> dt.datetime | None:
    """When the workbook was first seen, if anyone noted it."""
    try:
        return local(dt.datetime.fromisoformat((inbox / ARRIVALS / sha).read_text().strip()))
    except (OSError, ValueError):
        return None


def forget_arrival(inbox: Path, sha: str) -> None:
    (inbox / ARRIVALS / sha).unlink(missing_ok=True)
    try:
        (inbox / ARRIVALS).rmdir()  # gone with the last workbook it was about
    except OSError:
        pass


def stored_cumulatives(conn: duckdb.DuckDBPyConnection):
    """The 累计值 the warehouse holds (the latest version of each figure), asked for the keys a
    batch's rows must agree with (:func:`~kj_pipelines.intake.submissions.read_submissions`)."""
    def lookup(keys: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], float]:
        found: dict[tuple[str, str, str], float] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            rows = conn.execute(
                "SELECT unit, indicator, period, cumulative FROM core.submitted_values "
                "WHERE cumulative IS NOT NULL AND (unit, indicator, period) IN "
                "(SELECT * FROM (VALUES " + ", ".join("(?, ?, ?)" for _ in chunk) + "))",
                [v for key in chunk for v in key]).fetchall()
            found.update({(u, i, p): float(c) for u, i, p, c in rows})
        return found
    return lookup


def rejections_frame(results: list[FileResult], received_at: dt.datetime) -> pd.DataFrame:
    """The rejections of a batch's files as ``quarantine.rejections`` rows (one frame for the
    batch: built a file at a time, empty frames cost 3 ms a workbook)."""
    return pd.DataFrame(
        [(result.file, result.sha256, r.sheet, r.row, r.column, r.value, r.reason_code,
          r.message, received_at) for result in results for r in result.rejections],
        columns=REJECTION_COLUMNS).astype({"row": "Int64"})


# Workbooks committed together: one transaction and one insert per table for the batch instead
# of five per file (measured: a year's 177 workbooks, 16 ms a file in inserts and commits). A
# crash loses at most the batch's uncommitted rows, whose files are still in the inbox.
BATCH_FILES = 100


def ingest_pending(paths: DataPaths, catalog: Catalog, conn: duckdb.DuckDBPyConnection,
                   now: dt.datetime) -> IngestReport:
    """Every workbook waiting in the inbox into the warehouse. Whatever else lies there (a
    link, a folder, a file nobody may read, one whose name cannot be archived) is quarantined
    with its reason and the rest goes on; a file still being written waits for the next run."""
    ensure_schema(conn)
    now = local(now)
    report = IngestReport()
    files, odd = inbox_entries(paths.inbox)
    # a warehouse's first ingestion loads the region's past: what no sensor saw is catch-up
    first_ever = not conn.execute("SELECT 1 FROM raw.submission_files LIMIT 1").fetchone()
    # list sheets are checked against the plans and the problem ledger, which each accepted
    # event moves on: a town's 提出 earlier in the run is known to a department's 受理 after it
    lists = list_context(conn, paths.plans, catalog) if files else None
    poison = [Poison(path, why) for path, why in odd]
    batch: list[Stored] = []
    in_batch: set[str] = set()
    for path in files:
        if still_written(path):
            report.waiting.append(path.name)
            continue
        try:
            sha = sha256_of(path)
        except OSError as exc:
            poison.append(Poison(path, f"无法读取文件（{exc.strerror or exc}）"))
            continue
        if sha in in_batch:  # a copy of a file of this batch: archived after the commit
            report.already_seen.append(path.name)
            batch.append(Stored(path, sha, now, archive_name(path, sha, now), copy=True))
            continue
        if conn.execute("SELECT 1 FROM raw.submission_files WHERE sha256 = ?", [sha]).fetchone():
            report.already_seen.append(path.name)  # stored before (a crash after its commit)
            if _archive_copy(paths, path, archive_name(path, sha, now)) is None:
                poison.append(Poison(path, "无法归档（文件名或归档目录不可写）"))
                continue
            _remove(path)
            forget_arrival(paths.inbox, sha)
            continue
        seen = arrival_of(paths.inbox, sha)
        modified = local(dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC))
        batch.append(Stored(path, sha, seen or now, archive_name(path, sha, now),
                            catch_up=is_catch_up(path, paths.inbox)
                            or (first_ever and seen is None), modified_at=modified))
        in_batch.add(sha)
        if len(in_batch) >= BATCH_FILES:
            report.results.extend(_flush(paths, catalog, conn, batch, lists, now, poison))
            batch, in_batch = [], set()
    report.results.extend(_flush(paths, catalog, conn, batch, lists, now, poison))
    report.quarantined = _quarantine(paths, conn, poison, now)
    return report


SETTLE_SECONDS = 3.0  # a file written to less than this long ago is still being copied in


def still_written(path: Path) -> bool:
    """A file modified a moment ago (by the wall clock, whatever day the project thinks it is):
    a copy or an upload not finished, read on the next run (``KJ_INBOX_SETTLE_SECONDS``, 3 by
    default)."""
    settle = float(os.environ.get("KJ_INBOX_SETTLE_SECONDS") or SETTLE_SECONDS)
    try:
        return time.time() - path.stat().st_mtime < settle
    except OSError:
        return False


def inbox_entries(inbox: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """(the workbooks waiting, what else lies in the inbox with why it is not read): a link is
    never followed, a folder or a device is not a workbook."""
    files, odd = [], []
    if not inbox.exists():
        return files, odd
    for folder in (inbox / CATCH_UP, inbox):
        if not folder.is_dir() or folder.is_symlink():
            continue
        for entry in sorted(folder.iterdir()):
            if entry.name.startswith((".", "~$")) or (folder == inbox and entry.name == CATCH_UP):
                continue
            if entry.is_symlink():
                odd.append((entry, "是链接（快捷方式），不读取其指向的文件；请直接放入工作簿"))
            elif entry.is_dir():
                odd.append((entry, "是文件夹，不是工作簿"))
            elif not entry.is_file():
                odd.append((entry, "不是普通文件（设备、管道等）"))
            else:
                files.append(entry)
    return files, odd


@dataclass
class Poison:
    """Something in the inbox that cannot be ingested, and why: quarantined, never in the way."""

    path: Path
    why: str


QUARANTINE = "隔离"
NAME_BYTES = 200  # an archived file's name, at most: the file system allows 255


def _quarantine(paths: DataPaths, conn: duckdb.DuckDBPyConnection, poison: list[Poison],
                now: dt.datetime) -> list[tuple[str, str, str]]:
    """Move each poison aside (``archive/<YYYY-MM>/隔离/``) and record a file-level rejection
    naming it; returns (name, why, where it is now). What cannot be moved stays, reported."""
    out, rows = [], []
    for item in poison:
        name = item.path.name
        target = paths.archive / f"{now:%Y-%m}" / QUARANTINE / safe_name(
            f"{now:%Y%m%d-%H%M%S}_{name}")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.rename(item.path, target)  # a link or a folder itself, never what it points to
            where = str(target.relative_to(paths.root))
        except OSError as exc:
            where = f"仍在收件箱（无法移走：{exc.strerror or exc}）"
        code = "unsafe_file" if "链接" in item.why or "不是普通文件" in item.why else \
            "unreadable_file"
        rows.append((name, "", None, None, None, None, code, f"{item.why}；已隔离：{where}", now))
        out.append((name, item.why, where))
    if rows:
        with transaction(conn):
            insert_frame(conn, "quarantine.rejections",
                         pd.DataFrame(rows, columns=REJECTION_COLUMNS).astype({"row": "Int64"}))
    return out


def safe_name(name: str, limit: int = NAME_BYTES) -> str:
    """A name the archive can hold: at most ``limit`` bytes of UTF-8, cut at a character and
    keeping its extension (a 报送 title of 80 Chinese characters is 240 bytes)."""
    if len(name.encode("utf-8")) <= limit:
        return name
    stem, dot, suffix = name.rpartition(".")
    suffix = f".{suffix}" if dot and stem and len(suffix.encode()) <= 10 else ""
    stem = name[: len(name) - len(suffix)]
    room = limit - len(suffix.encode("utf-8")) - len("…".encode())
    cut = stem.encode("utf-8")[:room].decode("utf-8", errors="ignore")
    return f"{cut}…{suffix}"


def archive_name(path: Path, sha: str, now: dt.datetime) -> str:
    """Where the workbook is archived: its month's folder, its hash's start and its own name
    (shortened where the file system would refuse it)."""
    return f"{now:%Y-%m}/{sha[:12]}_{safe_name(path.name)}"


def _archive_copy(paths: DataPaths, path: Path, name: str) -> str | None:
    """A copy of the workbook in the archive under ``name`` (written whole, then renamed), or
    under its hash alone if that name cannot be; its name if done (or already there), else
    None. The inbox file is removed only once its rows are committed."""
    target = paths.archive / name
    fallback = target.with_name(target.name[:12] + path.suffix[:10])
    for candidate in (target, fallback):
        try:
            if candidate.exists():
                return str(candidate.relative_to(paths.archive))
            candidate.parent.mkdir(parents=True, exist_ok=True)
            tmp = candidate.with_name(f".{candidate.name[:12]}.tmp")
            shutil.copyfile(path, tmp)
            os.replace(tmp, candidate)
            return str(candidate.relative_to(paths.archive))
        except OSError:
            continue
    return None


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


@dataclass
class Stored:
    """A workbook of this run's batch, read and committed with the batch (``copy``: a copy of a
    file earlier in the batch, only archived)."""

    path: Path
    sha: str
    submitted_at: dt.datetime  # when it reached the inbox
    archived_as: str
    copy: bool = False
    result: FileResult | None = None
    catch_up: bool = False  # 补录: history loaded on purpose, never late
    modified_at: dt.datetime | None = None  # the file's own time: only to order a tick's files


def _flush(paths: DataPaths, catalog: Catalog, conn: duckdb.DuckDBPyConnection,
           batch: list[Stored], lists: ListContext | None, now: dt.datetime,
           poison: list[Poison]) -> list[FileResult]:
    """Read the batch's workbooks, copy each into the archive, commit the rows of those
    archived, then take them out of the inbox: a workbook's rows are never committed unless it
    is archived, and a crash at any point leaves it to be read again or only removed (its hash
    known). One that cannot be archived is poison: its rows are not kept, the rest go on."""
    if not batch:
        return []
    read = [b for b in batch if not b.copy]
    results = read_submissions([(b.path, b.path.name) for b in read], catalog, now.date(),
                               lists=lists, stored=stored_cumulatives(conn))
    for b, result in zip(read, results, strict=True):
        b.result = result
    kept = []
    for b in batch:
        archived = _archive_copy(paths, b.path, b.archived_as)
        if archived is None:
            poison.append(Poison(b.path, "无法归档（文件名或归档目录不可写）"))
            continue
        b.archived_as = archived
        kept.append(b)
    stored = [b for b in kept if not b.copy]
    _store(conn, stored, now)
    for b in kept:
        _remove(b.path)
        forget_arrival(paths.inbox, b.sha)
    return [b.result for b in stored]


def _store(conn: duckdb.DuckDBPyConnection, batch: list[Stored],
           received_at: dt.datetime) -> None:
    # the files' rows in one frame, then each row's file (one assign a file cost 1–2 ms)
    kept = [b for b in batch if not b.result.accepted.empty]
    values = pd.DataFrame()
    if kept:
        counts = [len(b.result.accepted) for b in kept]
        values = pd.concat([b.result.accepted for b in kept], ignore_index=True).assign(
            sha256=np.repeat([b.result.sha256 for b in kept], counts),
            source_file=np.repeat([b.result.file for b in kept], counts),
            submitted_at=_repeat([b.submitted_at for b in kept], counts),
            modified_at=_repeat([b.modified_at for b in kept], counts),
            catch_up=np.repeat([b.catch_up for b in kept], counts),
            received_at=received_at)
    rejections = rejections_frame([b.result for b in batch], received_at)
    files = pd.DataFrame([(b.result.sha256, b.result.file, b.archived_as, b.submitted_at,
                           received_at, b.result.status, b.result.rows_read,
                           b.result.rows_accepted, b.catch_up, b.modified_at) for b in batch],
                         columns=["sha256", "file", "archived_as", "submitted_at", "received_at",
                                  "status", "rows_read", "rows_accepted", "catch_up",
                                  "modified_at"])
    with transaction(conn):
        insert_frame(conn, "raw.submission_values", values)
        insert_frame(conn, "quarantine.rejections", rejections)
        for table, frame in list_rows(
                [(b.result, b.submitted_at) for b in batch], received_at).items():
            insert_frame(conn, table, frame)
        insert_frame(conn, "raw.submission_files", files)


def _repeat(moments: list[dt.datetime | None], counts: list[int]) -> pd.Series:
    """Each file's time once per row of it, with its zone (numpy's datetime64 would drop it)."""
    return pd.Series(pd.DatetimeIndex(moments).repeat(counts))


def list_context(conn: duckdb.DuckDBPyConnection, plans_dir: Path,
                 catalog: Catalog) -> ListContext:
    """Plans as ``plans/`` holds them (each year read when a row first asks for it) and the
    ledger as the warehouse holds it."""
    applied = conn.execute("SELECT coalesce(max(seq), 0) FROM raw.problem_events").fetchone()[0]
    return ListContext(PlansByYear(plans_dir, catalog), stored_ledger(conn), int(applied))


def list_rows(files: list[tuple[FileResult, dt.datetime]],
              received_at: dt.datetime) -> dict[str, pd.DataFrame]:
    """The files' accepted list rows with their provenance, per raw table (files are
    (result, submitted_at) pairs)."""
    out: dict[str, list[pd.DataFrame]] = {}
    for result, submitted_at in files:
        provenance = {"sha256": result.sha256, "source_file": result.file,
                      "submitted_at": submitted_at, "received_at": received_at}
        for frame, table in ((result.lists.tasks, "raw.task_progress"),
                             (result.lists.projects, "raw.project_progress"),
                             (result.lists.problems, "raw.problem_events")):
            if not frame.empty:
                out.setdefault(table, []).append(frame.assign(**provenance))
    return {table: pd.concat(frames, ignore_index=True) for table, frames in out.items()}
