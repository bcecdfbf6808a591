"""Figures held back and the bureau's word on them (``kj accept``): the held figures as the
last run of their month left them, and an acceptance recorded with its reason, so the month
re-runs with the figure in (``acceptance_sensor``) and ``kj audit`` shows who accepted what."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pandas as pd

from kj_pipelines.storage.warehouse import ensure_schema, query, transaction


class NotHeld(LookupError):
    """Nothing of that indicator, unit and month is held (as of its month's last run)."""


@dataclass(frozen=True)
class Acceptance:
    accepted_id: int
    indicator: str
    unit: str
    period: str
    value: float
    reason: str
    accepted_by: str
    accepted_at: dt.datetime


def held_figures(conn: duckdb.DuckDBPyConnection, periods_from: str = "") -> pd.DataFrame:
    """Every figure held now, newest month first."""
    return query(conn, """SELECT period, indicator, unit, value, reason, compared, updated_at
                          FROM core.held_figures WHERE period >= ?
                          ORDER BY period DESC, indicator, unit""", [periods_from])


def accept(conn: duckdb.DuckDBPyConnection, indicator: str, unit: str, period: str,
           reason: str, by: str, now: dt.datetime) -> Acceptance:
    """Record that the bureau accepts the held figure with ``reason``: from the month's next
    run on it is taken as it is (a new figure from the unit is judged afresh)."""
    ensure_schema(conn)
    found = conn.execute("""SELECT value FROM core.held_figures
                            WHERE indicator = ? AND unit = ? AND period = ?""",
                         [indicator, unit, period]).fetchone()
    if found is None:
        raise NotHeld(f"{indicator} {unit} {period} 没有被暂扣的数（以该月最近一次月调度为准）")
    with transaction(conn):
        next_id = conn.execute("SELECT coalesce(max(accepted_id), 0) + 1 "
                               "FROM core.accepted_figures").fetchone()[0]
        conn.execute("""INSERT INTO core.accepted_figures (accepted_id, indicator, unit, period,
                                                           value, reason, accepted_by,
                                                           accepted_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                     [next_id, indicator, unit, period, found[0], reason, by, now])
    return Acceptance(int(next_id), indicator, unit, period, float(found[0]), reason, by, now)


def acceptances_after(conn: duckdb.DuckDBPyConnection, after: int) -> list[Acceptance]:
    """The acceptances recorded after id ``after``, oldest first (what the sensor re-runs)."""
    rows = conn.execute("""SELECT accepted_id, indicator, unit, period, value, reason,
                                  accepted_by, accepted_at
                           FROM core.accepted_figures WHERE accepted_id > ?
                           ORDER BY accepted_id""", [after]).fetchall()
    return [Acceptance(*row) for row in rows]


def acceptances_of(conn: duckdb.DuckDBPyConnection, indicator: str, unit: str,
                   period: str) -> list[Acceptance]:
    """Every acceptance of one figure, newest first (kj audit)."""
    rows = conn.execute("""SELECT accepted_id, indicator, unit, period, value, reason,
                                  accepted_by, accepted_at
                           FROM core.accepted_figures
                           WHERE indicator = ? AND unit = ? AND period = ?
                           ORDER BY accepted_id DESC""", [indicator, unit, period]).fetchall()
    return [Acceptance(*row) for row in rows]
