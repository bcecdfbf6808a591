"""The lists' work between the warehouse and the domain: what the list sheets are checked against
(plans and the problem ledger), where their accepted rows are stored, and each list's state at a
month's end, computed from the facts of that month and before (so a past month reruns the same).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from kj_pipelines.alerts.rules import red_streak
from kj_pipelines.catalog.model import DEPARTMENT, DISTRICT, Catalog
from kj_pipelines.core.periods import add_months, month_end, months_between, parse_month
from kj_pipelines.core.settings import DataPaths
from kj_pipelines.intake.listsheets import ListContext
from kj_pipelines.intake.planlists import PlanLists, PlansByYear, read_plan_lists
from kj_pipelines.intake.submissions import FileResult
from kj_pipelines.intake.template import ListSheets
from kj_pipelines.storage.warehouse import connect, insert_frame, query, table_columns, transaction
from kj_pipelines.worklists import ledger as lg
from kj_pipelines.worklists.state import (
    Calendar,
    indicator_item_id,
    project_snapshot,
    responsibilities,
    supervision_causes,
    supervision_ledger,
    task_snapshot,
)

PLAN_TABLES = {"tasks": "core.task_plan", "milestones": "core.task_milestones",
               "projects": "core.project_plan", "project_milestones": "core.project_milestones",
               "feedback": "core.supervision_feedback"}
STREAK_CAP = 24  # months of red streak a supervision item's title counts
# the ledger replays every move stored by its date, whichever file brought it and whenever
# (a 确认销号 that came before the 已办结 it follows takes effect once that is reported); on one
# day, in the order they were applied (``seq``; events stored before it in file order)
_EVENT_ORDER = 'ORDER BY event_date, seq NULLS FIRST, received_at, source_file, sheet, "row"'


def calendar(catalog: Catalog) -> Calendar:
    return Calendar(catalog.holidays, catalog.lists.at_risk_workdays)


def write_plans(conn: duckdb.DuckDBPyConnection, plans: PlanLists) -> None:
    """Replace the stored plan lists with what ``plans/`` holds now, in one transaction."""
    with transaction(conn):
        for attr, table in PLAN_TABLES.items():
            conn.execute(f"DELETE FROM {table}")
            insert_frame(conn, table, getattr(plans, attr))


def ledger_events(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every accepted problem event in the order it was accepted (a legal sequence)."""
    # a warehouse opened read-only before its upgrade (kj validate, kj template) has no seq yet
    order = _EVENT_ORDER if "seq" in table_columns(conn, "raw.problem_events") \
        else 'ORDER BY event_date, received_at, source_file, sheet, "row"'
    return query(conn, f"SELECT * FROM raw.problem_events {order}")


def stored_ledger(conn: duckdb.DuckDBPyConnection) -> dict[str, lg.Problem]:
    """The problem ledger as the warehouse holds it: its accepted events replayed."""
    ledger, _ = lg.replay(lg.events_from_frame(ledger_events(conn)))
    return ledger


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


@dataclass
class ListData:
    """Everything the lists are computed from, loaded once for a run."""

    plans: dict[str, pd.DataFrame]
    task_progress: pd.DataFrame
    project_progress: pd.DataFrame
    events: pd.DataFrame
    # a month's supervision causes and the indicator items judged that month, computed once per
    # run (a range replays overlapping months)
    causes: dict[str, tuple[list, set[str]]] = field(default_factory=dict)

    @classmethod
    def load(cls, conn: duckdb.DuckDBPyConnection) -> ListData:
        plans = {attr: query(conn, f"SELECT * FROM {table}") for attr, table in PLAN_TABLES.items()}
        order = 'ORDER BY period, submitted_at, received_at, "row"'
        return cls(plans, query(conn, f"SELECT * FROM raw.task_progress {order}"),
                   query(conn, f"SELECT * FROM raw.project_progress {order}"),
                   ledger_events(conn))

    def of_year(self, attr: str, year: int) -> pd.DataFrame:
        frame = self.plans[attr]
        return frame[frame["year"] == year]


def _reported(frame: pd.DataFrame, period: str) -> pd.DataFrame:
    """Rows reported for the period's year, for months up to the period."""
    return frame[(frame["period"] <= period) & (frame["period"] >= f"{period[:4]}-01")]


def tasks_at(data: ListData, period: str, cal: Calendar) -> tuple[pd.DataFrame, pd.DataFrame]:
    year = parse_month(period)[0]
    return task_snapshot(data.of_year("tasks", year), data.of_year("milestones", year),
                         _reported(data.task_progress, period), month_end(period), cal)


def projects_at(data: ListData, period: str, cal: Calendar,
                catalog: Catalog) -> tuple[pd.DataFrame, pd.DataFrame]:
    year = parse_month(period)[0]
    return project_snapshot(data.of_year("projects", year),
                            data.of_year("project_milestones", year),
                            _reported(data.project_progress, period), period, month_end(period),
                            cal, catalog.lists.project_yellow, catalog.lists.project_red)


def problems_at(data: ListData, period: str, cal: Calendar, catalog: Catalog) -> pd.DataFrame:
    """The ledger as reported through the month: events of periods up to it, dated by its end."""
    as_of = month_end(period)
    events = data.events[(data.events["period"] <= period)]
    events = events[pd.to_datetime(events["event_date"]).dt.date <= as_of]
    ledger, _ = lg.replay(lg.events_from_frame(events))
    days = catalog.lists.problem_due_workdays
    return lg.snapshot(ledger, as_of,
                       lambda p: lg.problem_due(p, days, cal.add_workdays), cal.effective)


def responsibilities_at(data: ListData, period: str, catalog: Catalog) -> pd.DataFrame:
    year = parse_month(period)[0]
    return responsibilities(catalog, data.of_year("tasks", year), data.of_year("projects", year))


def supervision_at(conn: duckdb.DuckDBPyConnection, data: ListData, period: str,
                   catalog: Catalog) -> pd.DataFrame:
    """Replay the causes month by month from January of the year before, so items carry their
    opening date and reopen when a cause comes back."""
    cal = calendar(catalog)
    year = parse_month(period)[0]
    start = f"{year - 1}-01"
    escalate = catalog.escalate_after_red_months
    progress = query(conn, """SELECT period, indicator, unit, status FROM mart.indicator_progress
                              WHERE period BETWEEN ? AND ?""",
                     [add_months(start, -STREAK_CAP), period])
    months = []
    for month in months_between(start, period):
        if month not in data.causes:
            of_month = progress[progress["period"] == month]
            red = of_month[of_month["status"] == "red"]
            # a figure not reported (grey, or no row before the deadline) is not judged: an
            # item on it neither opens nor closes as 原因消除 that month
            seen = of_month[of_month["status"].isin(["green", "yellow", "red", "done"])]
            judged = {indicator_item_id(i, u) for i, u in zip(seen["indicator"], seen["unit"],
                                                               strict=True)}
            # capped, so a month's causes read the same from any run's window
            streaks = {(r.indicator, r.unit): min(red_streak(progress, r.indicator, r.unit,
                                                             month), STREAK_CAP)
                       for r in red.itertuples(index=False)}
            _, milestones = tasks_at(data, month, cal)
            projects, _ = projects_at(data, month, cal, catalog)
            problems = problems_at(data, month, cal, catalog)
            data.causes[month] = (supervision_causes(catalog, red, milestones, projects,
                                                     problems, escalate, streaks), judged)
        causes, judged = data.causes[month]
        months.append((month_end(month), causes, judged))
    return supervision_ledger(months, data.plans["feedback"],
                              catalog.lists.supervision_feedback_workdays, cal)


def targets_at(conn: duckdb.DuckDBPyConnection, period: str) -> pd.DataFrame:
    """年度目标清单 of the period's year with each target's latest due figure and status."""
    year = parse_month(period)[0]
    return query(conn, """
        WITH latest AS (
            SELECT indicator, unit, period AS as_of, actual, completion, status, missing_units,
                   row_number() OVER (PARTITION BY indicator, unit ORDER BY period DESC) AS rn
            FROM mart.indicator_progress WHERE period BETWEEN ? AND ?
                 AND (as_of IS NULL OR as_of = period))
        SELECT ? AS period, t.year, t.indicator, t.unit, t.target, t.deadline_month,
               t.department, l.as_of, l.actual, l.completion, coalesce(l.status, 'pending') AS status,
               l.missing_units,
               coalesce(t.target_text, CAST(t.target AS VARCHAR)) AS target_text, t.stretch
        FROM core.annual_targets t
        LEFT JOIN latest l ON l.indicator = t.indicator AND l.unit = t.unit AND l.rn = 1
        WHERE t.year = ?
        ORDER BY t.indicator, t.unit""", [f"{year}-01", period, period, year])


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
    from kj_pipelines.intake.findings import sha256_of
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


def template_lists(catalog: Catalog, plans_dir: Path, warehouse: Path, unit: str,
                   period: str) -> tuple[ListSheets, str | None]:
    """The list sheets of a unit's blank workbook: its tasks' milestones, its projects and the
    problems waiting for its step, with blank rows for a town to raise new ones."""
    year = parse_month(period)[0]
    plans = read_plan_lists(plans_dir, catalog)
    kind = catalog.units[unit].kind
    sheets = ListSheets(departments=[u.name for u in catalog.units.values()
                                     if u.kind == DEPARTMENT])
    tasks = plans.tasks_of(year)
    for t in tasks[tasks["lead_unit"] == unit].itertuples(index=False):
        ms = plans.milestones[(plans.milestones["year"] == year)
                              & (plans.milestones["task_code"] == t.task_code)]
        for m in ms.itertuples(index=False):
            sheets.tasks.append({"task_code": t.task_code, "content": t.content,
                                 "milestone": m.milestone, "due": m.due})
    projects = plans.projects_of(year)
    for p in projects[projects["lead_unit"] == unit].itertuples(index=False):
        sheets.projects.append({"project_code": p.project_code, "name": p.name})
    ledger, note = read_only_ledger(warehouse)
    for problem in sorted(ledger.values(), key=lambda q: q.problem_id):
        mine = (problem.handler == unit and problem.state in lg.HANDLING) or (
            problem.raised_by == unit and problem.state == lg.RESOLVED)
        if mine:
            sheets.problems.append({
                "problem_id": problem.problem_id, "content": problem.content,
                "category": problem.category, "handler": catalog.units[problem.handler].name
                if problem.handler in catalog.units else problem.handler,
                "wish_date": problem.wish_date, "current": problem.state})
    sheets.with_tasks = bool(sheets.tasks)
    sheets.with_projects = bool(sheets.projects)
    sheets.with_problems = unit != DISTRICT
    sheets.blank_problem_rows = 5 if kind != DEPARTMENT and unit != DISTRICT else 0
    return sheets, note
