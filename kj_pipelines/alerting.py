"""Raising and delivering warnings: decisions from :mod:`domain.warnings`, stored once in
``mart.warnings``, delivered by the notifier; a failed delivery stays pending and is retried."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from kj_pipelines.domain.catalog import Catalog
from kj_pipelines.domain.periods import add_months, as_date
from kj_pipelines.domain.reminders import DueItem
from kj_pipelines.domain.warnings import Warning, decide
from kj_pipelines.notify import DeliveryError, Notifier
from kj_pipelines.warehouse import ensure_schema, in_list, query

MAX_ATTEMPTS = 50


@dataclass
class AlertReport:
    raised: int = 0
    delivered: int = 0
    failed: int = 0
    skipped_periods: tuple[str, ...] = ()


def raise_warnings(conn: duckdb.DuckDBPyConnection, catalog: Catalog, periods: list[str],
                   now: dt.datetime, *, escalate_after: int) -> list[Warning]:
    """Decide and store the warnings of ``periods`` (oldest first); returns the new ones."""
    ensure_schema(conn)
    new: list[Warning] = []
    for period in sorted(periods):
        start = add_months(period, -max(escalate_after, 1) - 12)
        history = query(conn, """SELECT period, indicator, unit, status, actual, planned, target,
                                        completion, planned_share, gap
                                 FROM mart.indicator_progress
                                 WHERE period BETWEEN ? AND ?
                                   AND (as_of IS NULL OR as_of = period)""", [start, period])
        current = history[history["period"] == period]
        new += store_warnings(conn, decide(current, history, catalog, period, escalate_after),
                              now)
    return new


def store_warnings(conn: duckdb.DuckDBPyConnection, warnings: list[Warning],
                   now: dt.datetime) -> list[Warning]:
    """Insert warnings not stored yet (by id); returns the new ones."""
    new = []
    for w in warnings:
        inserted = conn.execute(
            """INSERT INTO mart.warnings VALUES (?, ?, ?, ?, ?, ?, ?, FALSE, 0, NULL, ?)
               ON CONFLICT (warning_id) DO NOTHING RETURNING warning_id""",
            [w.warning_id, now, w.period, w.indicator, w.unit, w.level,
             f"{w.title}\n\n{w.message}", w.kind]).fetchall()
        if inserted:
            new.append(w)
    return new


def deliver_pending(conn: duckdb.DuckDBPyConnection, notifier: Notifier,
                    kinds: tuple[str, ...] = ("behind", "missing")) -> tuple[int, int]:
    """Send every warning of ``kinds`` not yet delivered; record failures for the next attempt.
    Each sensor delivers its own kinds, so two sensors never send the same message twice."""
    where, params = in_list("kind", list(kinds))
    pending = query(conn, f"""SELECT warning_id, message FROM mart.warnings
                             WHERE NOT notified AND attempts < ? AND {where}
                             ORDER BY raised_at, warning_id""",
                    [MAX_ATTEMPTS, *params])
    delivered = failed = 0
    for row in pending.itertuples(index=False):
        title, _, body = row.message.partition("\n\n")
        try:
            notifier.send(row.warning_id, title, body)
        except DeliveryError as exc:
            conn.execute("""UPDATE mart.warnings SET attempts = attempts + 1, last_error = ?
                            WHERE warning_id = ?""", [str(exc)[:500], row.warning_id])
            failed += 1
            continue
        conn.execute("""UPDATE mart.warnings SET notified = TRUE, attempts = attempts + 1,
                        last_error = NULL WHERE warning_id = ?""", [row.warning_id])
        delivered += 1
    return delivered, failed


def recent_enough(periods: list[str], latest: str, lookback_months: int) -> tuple[list, list]:
    """Warnings are for current work: periods older than the lookback (backfills) are skipped."""
    floor = add_months(latest, -lookback_months)
    keep = [p for p in periods if p >= floor]
    return keep, [p for p in periods if p < floor]


LIST_KINDS = ("milestone", "project", "problem", "supervision")


def due_items(conn: duckdb.DuckDBPyConnection, catalog: Catalog, periods_from: str) -> list:
    """Items not done in each list's latest snapshot (from ``periods_from`` on)."""
    items: list[DueItem] = []
    latest = "(SELECT max(period) FROM {t} WHERE period >= ?)"
    for r in query(conn, f"""SELECT period, task_code, seq, milestone, due, lead_unit
                            FROM mart.milestones WHERE period = {latest.format(t='mart.milestones')}
                            AND status != 'done' AND due IS NOT NULL""", [periods_from]
                   ).itertuples(index=False):
        items.append(DueItem("milestone", f"{r.task_code}:{r.seq}", r.period, r.lead_unit,
                             catalog.unit_name(r.lead_unit), f"重点任务{r.task_code}节点“{r.milestone}”",
                             as_date(r.due)))
    for r in query(conn, f"""SELECT m.period, m.project_code, m.seq, m.milestone, m.due,
                                   p.lead_unit, p.name
                            FROM mart.project_milestones m JOIN mart.projects p
                              ON p.period = m.period AND p.project_code = m.project_code
                            WHERE m.period = {latest.format(t='mart.project_milestones')}
                            AND m.status != 'done'""", [periods_from]).itertuples(index=False):
        items.append(DueItem("project", f"{r.project_code}:{r.seq}", r.period, r.lead_unit,
                             catalog.unit_name(r.lead_unit), f"重大项目{r.project_code}（{r.name}）{r.milestone}节点",
                             as_date(r.due)))
    for r in query(conn, f"""SELECT period, problem_id, handler, due, content FROM mart.problems
                            WHERE period = {latest.format(t='mart.problems')}
                            AND state IN ('提出', '受理', '办理中')""", [periods_from]
                   ).itertuples(index=False):
        items.append(DueItem("problem", r.problem_id, r.period, r.handler, catalog.unit_name(r.handler),
                             f"问题{r.problem_id}（{r.content[:30]}）", as_date(r.due)))
    for r in query(conn, f"""SELECT period, item_id, unit, title, due FROM mart.supervision
                            WHERE period = {latest.format(t='mart.supervision')}
                            AND status != 'closed'""", [periods_from]).itertuples(index=False):
        items.append(DueItem("supervision", r.item_id, r.period, r.unit, catalog.unit_name(r.unit),
                             f"督办事项“{r.title}”", as_date(r.due)))
    return items
