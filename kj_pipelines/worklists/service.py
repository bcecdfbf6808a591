"""The lists' work between the warehouse and the domain: what the list sheets are checked against
(plans and the problem ledger), where their accepted rows are stored, and each list's state at a
month's end, computed from the facts of that month and before (so a past month reruns the same).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pandas as pd

from kj_pipelines.catalog.model import Catalog
from kj_pipelines.core.periods import add_months, month_end, months_between, parse_month
from kj_pipelines.indicators.progress import red_streak
from kj_pipelines.storage.warehouse import query, table_columns
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


