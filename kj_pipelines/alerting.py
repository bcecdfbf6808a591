"""Raising and delivering warnings: decisions from :mod:`domain.warnings`, stored once in
``mart.warnings``, delivered by the notifier; a failed delivery stays pending and is retried."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from kj_pipelines.domain.catalog import Catalog
from kj_pipelines.domain.periods import add_months
from kj_pipelines.domain.warnings import Warning, decide
from kj_pipelines.notify import DeliveryError, Notifier
from kj_pipelines.warehouse import ensure_schema, query

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
                                 WHERE period BETWEEN ? AND ?""", [start, period])
        current = history[history["period"] == period]
        for w in decide(current, history, catalog, period, escalate_after):
            inserted = conn.execute(
                """INSERT INTO mart.warnings VALUES (?, ?, ?, ?, ?, ?, ?, FALSE, 0, NULL, ?)
                   ON CONFLICT (warning_id) DO NOTHING RETURNING warning_id""",
                [w.warning_id, now, w.period, w.indicator, w.unit, w.level,
                 f"{w.title}\n\n{w.message}", w.kind]).fetchall()
            if inserted:
                new.append(w)
    return new


def deliver_pending(conn: duckdb.DuckDBPyConnection, notifier: Notifier) -> tuple[int, int]:
    """Send every warning not yet delivered; record failures for the next attempt."""
    pending = query(conn, """SELECT warning_id, message FROM mart.warnings
                             WHERE NOT notified AND attempts < ? ORDER BY raised_at, warning_id""",
                    [MAX_ATTEMPTS])
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
