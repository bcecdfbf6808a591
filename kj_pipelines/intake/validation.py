"""What ``kj validate`` checks a workbook against, read without writing anything: the problem
ledger and the 累计值 as the warehouse holds them (read-only, and only if no run holds it), and
the workbooks waiting in the inbox, read ahead of the files checked since they arrived first."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from kj_pipelines.catalog.model import Catalog
from kj_pipelines.core.settings import DataPaths
from kj_pipelines.intake.listsheets import ListContext
from kj_pipelines.intake.planlists import PlansByYear
from kj_pipelines.storage.warehouse import connect
from kj_pipelines.worklists import ledger as lg
from kj_pipelines.worklists.service import stored_ledger


def read_only_ledger(warehouse: Path) -> tuple[dict[str, lg.Problem], str | None]:
    """The problem ledger of a warehouse opened read-only (``kj validate``, ``kj template`` never
    write); with no warehouse, or one a run holds, an empty ledger and the reason."""
    ledger, _, note = _read_only(warehouse)
    return ledger, note


def _read_only(warehouse: Path) -> tuple[dict[str, lg.Problem], set[str], str | None]:
    """(the ledger, the SHA-256 of every workbook stored, why not) of a warehouse read-only."""
    if not warehouse.exists():
        return {}, set(), None
    try:
        conn = connect(warehouse, read_only=True)
    except duckdb.Error as exc:
        return {}, set(), (f"warehouse not readable now ({type(exc).__name__}); problem states "
                           "unknown")
    try:
        tables = {r[0] for r in conn.execute(
            "SELECT schema_name || '.' || table_name FROM duckdb_tables()").fetchall()}
        stored = {r[0] for r in conn.execute("SELECT sha256 FROM raw.submission_files")
                  .fetchall()} if "raw.submission_files" in tables else set()
        if "raw.problem_events" not in tables:
            return {}, stored, None
        return stored_ledger(conn), stored, None
    finally:
        conn.close()


def read_only_cumulatives(warehouse: Path):
    """:func:`kj_pipelines.intake.inbox.stored_cumulatives` on a warehouse opened read-only for the
    one question (``kj validate`` writes nothing); nothing known if no warehouse can be read."""
    from kj_pipelines.intake.inbox import stored_cumulatives

    def lookup(keys: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], float]:
        if not warehouse.exists():
            return {}
        try:
            conn = connect(warehouse, read_only=True)
        except duckdb.Error:
            return {}
        try:
            return stored_cumulatives(conn)(keys)
        except duckdb.CatalogException:
            return {}
        finally:
            conn.close()
    return lookup


@dataclass
class ValidationLedger:
    """What ``kj validate`` checks a workbook's 问题清单 against: the ledger as stored, and the
    workbooks waiting in the inbox (read with the files checked, ahead of them, since they
    arrived first: a department's 已办结 waiting there is what a town's 确认销号 confirms)."""

    context: ListContext
    waiting: list[Path]
    notes: list[str]


def validation_ledger(paths: DataPaths, catalog: Catalog, checked: list[Path]) -> ValidationLedger:
    from kj_pipelines.core.files import sha256_of
    from kj_pipelines.intake.inbox import pending_files

    ledger, stored, note = _read_only(paths.warehouse)
    notes = [note] if note else []
    mine = {p.resolve() for p in checked if p.exists()}
    hashes = set()
    for p in checked:
        try:
            hashes.add(sha256_of(p))
        except OSError:
            continue
    waiting = []
    for path in pending_files(paths.inbox):
        try:
            if path.resolve() in mine or sha256_of(path) in hashes | stored:
                continue
        except OSError:
            continue
        waiting.append(path)
    if waiting:
        notes.append(f"问题台账：已按入库顺序考虑收件箱中待入库的{len(waiting)}个文件"
                     f"（{'、'.join(p.name for p in waiting[:5])}{'等' if len(waiting) > 5 else ''}）")
    return ValidationLedger(ListContext(PlansByYear(paths.plans, catalog), ledger), waiting,
                            notes)
