"""Raising and delivering warnings: decisions from :mod:`domain.warnings`, stored once in
``mart.warnings``, delivered by the notifier; a failed delivery stays pending and is retried."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from dataclasses import dataclass

import duckdb

from kj_pipelines.alerts.notify import DeliveryError, Notifier
from kj_pipelines.alerts.reminders import DueItem
from kj_pipelines.alerts.rules import Alert, decide
from kj_pipelines.catalog.model import Catalog
from kj_pipelines.core.periods import add_months, as_date
from kj_pipelines.storage.warehouse import ensure_schema, in_list, query

MAX_ATTEMPTS = 50


def raise_warnings(conn: duckdb.DuckDBPyConnection, catalog: Catalog, periods: list[str],
                   now: dt.datetime, *, escalate_after: int) -> list[Alert]:
    """Decide and store the warnings of ``periods`` (oldest first); returns the new ones."""
    ensure_schema(conn)
    new: list[Alert] = []
    for period in sorted(periods):
        start = add_months(period, -max(escalate_after, 1) - 12)
        history = query(conn, """SELECT period, indicator, unit, status, actual, planned, target,
                                        completion, planned_share, gap, missing_units
                                 FROM mart.indicator_progress
                                 WHERE period BETWEEN ? AND ?
                                   AND (as_of IS NULL OR as_of = period)""", [start, period])
        current = history[history["period"] == period]
        projections = query(conn, "SELECT * FROM mart.indicator_projection WHERE period = ?",
                            [period])
        held = query(conn, "SELECT * FROM core.held_figures WHERE period = ?", [period])
        new += store_warnings(conn, decide(current, history, catalog, period, escalate_after,
                                           projections, sent_bands(conn, period[:4]), held), now)
    return new


def sent_bands(conn: duckdb.DuckDBPyConnection, year: str) -> dict[tuple[int, str, str], int]:
    """The worst band each (year, indicator, unit) has had a projected miss raised in."""
    rows = query(conn, "SELECT warning_id FROM mart.warnings WHERE warning_id LIKE ?",
                 [f"projected:{year}:%"])
    out: dict[tuple[int, str, str], int] = {}
    for warning_id in rows["warning_id"]:
        parts = warning_id.split(":")  # projected:year:indicator:unit:band
        if len(parts) != 5:
            continue
        key = (int(parts[1]), parts[2], parts[3])
        out[key] = max(out.get(key, -1), int(parts[4]))
    return out


def store_warnings(conn: duckdb.DuckDBPyConnection, warnings: list[Alert],
                   now: dt.datetime) -> list[Alert]:
    """Insert warnings not stored yet (by id); returns the new ones."""
    new = []
    for w in warnings:
        inserted = conn.execute(
            """INSERT INTO mart.warnings (warning_id, raised_at, period, indicator, unit, level,
                                         message, notified, attempts, last_error, kind)
               VALUES (?, ?, ?, ?, ?, ?, ?, FALSE, 0, NULL, ?)
               ON CONFLICT (warning_id) DO NOTHING RETURNING warning_id""",
            [w.warning_id, now, w.period, w.indicator, w.unit, w.level,
             f"{w.title}\n\n{w.message}", w.kind]).fetchall()
        if inserted:
            new.append(w)
    return new


DIGEST_KINDS = ("behind", "missing", "held", "projected", "milestone", "project", "problem",
                "supervision")
# what is delivered: a unit's digest kinds, and the rankings (a message of their own)
DELIVERED_KINDS = (*DIGEST_KINDS, "ranking")


@dataclass(frozen=True)
class Delivery:
    """What one delivery sent: warnings delivered, the messages that carried them (a unit's
    digest carries all of its warnings), and warnings still pending after a failure."""
    warnings: int = 0
    messages: int = 0
    pending: int = 0


def deliver_pending(conn: duckdb.DuckDBPyConnection, notifier: Notifier,
                    catalog: Catalog | None = None) -> Delivery:
    """Send every warning of ``DELIVERED_KINDS`` not yet delivered; record failures for the
    next attempt. One sensor delivers them all, once its tick has raised everything it raises.

    The warnings of one unit go out as one digest (its 月调度 warnings with the day's list
    reminders: one message per unit, not one per warning); each warning keeps its own record
    and is marked delivered with the digest's id. A ranking goes out as a message of its own.
    """
    where, params = in_list("kind", list(DELIVERED_KINDS))
    pending = query(conn, f"""SELECT warning_id, unit, kind, period, message FROM mart.warnings
                             WHERE NOT notified AND attempts < ? AND {where}
                             ORDER BY raised_at, warning_id""",
                    [MAX_ATTEMPTS, *params])
    delivered = messages = failed = 0
    batches: dict[tuple[str, str], list] = {}  # a unit's digest, or a message of its own
    for row in pending.itertuples(index=False):
        group = ("unit", row.unit) if row.kind in DIGEST_KINDS else ("one", row.warning_id)
        batches.setdefault(group, []).append(row)
    for rows in batches.values():
        ids = [r.warning_id for r in rows]
        key, title, body = _message(rows, catalog)
        try:
            notifier.send(key, title, body)
        except DeliveryError as exc:
            where_ids, id_params = in_list("warning_id", ids)
            conn.execute(f"""UPDATE mart.warnings SET attempts = attempts + 1, last_error = ?
                             WHERE {where_ids}""", [str(exc)[:500], *id_params])
            failed += len(ids)
            continue
        where_ids, id_params = in_list("warning_id", ids)
        conn.execute(f"""UPDATE mart.warnings SET notified = TRUE, attempts = attempts + 1,
                         last_error = NULL, digest_id = ? WHERE {where_ids}""",
                     [key, *id_params])
        delivered += len(ids)
        messages += 1
    return Delivery(delivered, messages, failed)


def _message(rows: list, catalog: Catalog | None) -> tuple[str, str, str]:
    """(key, title, body) of one delivery: a single warning as it is, or a unit's digest."""
    if len(rows) == 1:
        title, _, body = rows[0].message.partition("\n\n")
        return rows[0].warning_id, title, body
    unit = rows[0].unit
    name = catalog.unit_name(unit) if catalog is not None else unit
    periods = sorted({r.period for r in rows})
    when = periods[-1] if len(periods) == 1 else f"{periods[0]}…{periods[-1]}"
    titles = [r.message.partition("\n\n")[0] for r in rows]
    counts = Counter(DIGEST_LABEL.get(r.kind, r.kind) for r in rows)
    summary = "、".join(f"{label}{n}条" for label, n in counts.items())
    title = f"【预警汇总】{name} {when}：{summary}"
    parts = [f"**{name}** 本期共有 {len(rows)} 条预警和提醒：", ""]
    parts += [f"{i}. {t}" for i, t in enumerate(titles, start=1)]
    for i, r in enumerate(rows, start=1):
        head, _, body = r.message.partition("\n\n")
        parts += ["", "---", "", f"**{i}. {head}**", "", body]
    digest = hashlib.sha256("|".join(r.warning_id for r in rows).encode()).hexdigest()[:12]
    return f"digest:{unit}:{when}:{digest}", title, "\n".join(parts)


DIGEST_LABEL = {"behind": "进度预警", "missing": "催报", "held": "数据暂扣", "projected": "预判预警",
                "milestone": "任务节点", "project": "项目节点", "problem": "问题办理",
                "supervision": "督办"}


def recent_enough(periods: list[str], latest: str, lookback_months: int) -> tuple[list, list]:
    """Warnings are for current work: periods older than the lookback (backfills) are skipped."""
    floor = add_months(latest, -lookback_months)
    keep = [p for p in periods if p >= floor]
    return keep, [p for p in periods if p < floor]


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
