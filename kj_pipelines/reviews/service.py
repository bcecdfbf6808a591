"""The reviews' work between the warehouse and their documents: what each document and score is
made of, read from the warehouse as it holds the period (a rerun of a past period reads its
snapshot again), the scores stored, and a current ranking queued for the notifier."""

from __future__ import annotations

import datetime as dt
import hashlib

import duckdb
import pandas as pd

from kj_pipelines.alerts.rules import Alert
from kj_pipelines.alerts.service import recent_enough, store_warnings
from kj_pipelines.catalog.model import DISTRICT, Catalog
from kj_pipelines.core.periods import parse_month
from kj_pipelines.core.settings import now_local
from kj_pipelines.reviews.annual_summary import YearInputs
from kj_pipelines.reviews.monthly_report import MonthInputs, month_series
from kj_pipelines.reviews.rankings import ranking_notice
from kj_pipelines.reviews.scoring import ScoreInputs, score_units
from kj_pipelines.reviews.weekly_brief import WeekInputs
from kj_pipelines.storage.warehouse import query, replace_rows, transaction


class NotReviewedYet(LookupError):
    """A review asked for a period whose figures were never computed: run the month first."""


LIST_TABLES = ("tasks", "milestones", "projects", "problems", "supervision")


def month_inputs(conn: duckdb.DuckDBPyConnection, catalog: Catalog, period: str,
                 plan: pd.DataFrame) -> MonthInputs:
    year = parse_month(period)[0]
    progress_year = query(conn, "SELECT * FROM mart.indicator_progress WHERE period LIKE ? "
                          "AND period <= ? ORDER BY period, indicator, unit",
                          [f"{year}-%", period])
    lists = {name: query(conn, f"SELECT * FROM mart.{name} WHERE period = ?", [period])
             for name in LIST_TABLES}
    return MonthInputs(
        period=period,
        progress=progress_year[progress_year["period"] == period].reset_index(drop=True),
        series=month_series(plan, progress_year, period), **lists)


def week_inputs(conn, monday: dt.date) -> WeekInputs:
    """The warehouse as the brief for the week before ``monday`` reads it: the lists of the
    latest month materialized up to the Monday's month."""
    start = monday - dt.timedelta(days=7)
    month = f"{monday:%Y-%m}"
    lists_month = conn.execute("SELECT max(period) FROM mart.milestones WHERE period <= ?",
                               [month]).fetchone()[0] or ""
    milestones = pd.concat([
        query(conn, """SELECT '任务' AS kind, task_code AS code, milestone, due, done_on, status,
                              lead_unit FROM mart.milestones WHERE period = ?""", [lists_month]),
        query(conn, """SELECT '项目' AS kind, m.project_code AS code, m.milestone, m.due,
                              m.done_on, m.status, p.lead_unit
                       FROM mart.project_milestones m
                       JOIN mart.projects p USING (period, project_code)
                       WHERE m.period = ?""", [lists_month])], ignore_index=True)
    return WeekInputs(
        monday=monday,
        warnings=query(conn, """SELECT * FROM mart.warnings WHERE raised_at >= ?
                                AND raised_at < ? AND kind <> 'ranking'
                                ORDER BY raised_at, warning_id""", [start, monday]),
        milestones=milestones,
        problems=query(conn, "SELECT * FROM mart.problems WHERE period = ? ORDER BY problem_id",
                       [lists_month]),
        supervision=query(conn, "SELECT * FROM mart.supervision WHERE period = ? "
                                "ORDER BY item_id", [lists_month]),
        submissions=query(conn, """SELECT DISTINCT unit, period FROM raw.submission_values
                                   WHERE submitted_at < ?""", [monday]),
        watchlist=query(conn, "SELECT * FROM mart.weekly_watchlist WHERE week = ?",
                        [monday.isoformat()]),
        lists_month=lists_month)


def year_inputs(conn, catalog: Catalog, year: int) -> YearInputs:
    """The year as of December, or as of the latest month reviewed while it runs (a draft);
    compared with the same month of the year before."""
    december = year_end_month(conn, str(year))
    before = f"{year - 1}-{december[5:]}"
    top = "SELECT * FROM mart.indicator_progress WHERE period = ? AND unit = ? ORDER BY indicator"
    lists = {name: query(conn, f"SELECT * FROM mart.{name} WHERE period = ?", [december])
             for name in ("tasks", "milestones", "projects", "problems")}
    return YearInputs(
        year=year, month=december, progress=query(conn, top, [december, DISTRICT]),
        previous=query(conn, top, [before, DISTRICT]),
        goals=query(conn, "SELECT * FROM mart.goal_distance WHERE period = ? "
                          "ORDER BY indicator, unit", [december]),
        scores=query(conn, "SELECT * FROM mart.unit_scores WHERE period = ?", [str(year)]),
        next_targets=query(conn, """SELECT indicator, target, target_text FROM core.annual_targets
                                    WHERE year = ? AND unit = ? ORDER BY indicator""",
                           [year + 1, DISTRICT]),
        latest=query(conn, """SELECT indicator, max(period) AS period,
                                     arg_max(value, period) AS value
                              FROM mart.indicator_values
                              WHERE unit = ? AND period <= ? AND value IS NOT NULL
                              GROUP BY indicator""", [DISTRICT, december]),
        **lists)


def score_inputs(conn, label: str, month: str) -> ScoreInputs:
    """The warehouse's figures a ranking reads: the month's own indicator figures (a quarterly or
    annual figure carried from an earlier period was scored in its own period), the lists as of
    the month and each month's first workbook of the year."""
    year = parse_month(month)[0]
    lists = {name: query(conn, f"SELECT * FROM mart.{name} WHERE period = ?", [month])
             for name in ("milestones", "projects", "problems", "supervision")}
    return ScoreInputs(
        label=label, month=month,
        progress=query(conn, """SELECT * FROM mart.indicator_progress
                                WHERE period = ? AND (as_of IS NULL OR as_of = period)""", [month]),
        project_milestones=query(conn, """SELECT m.*, p.lead_unit FROM mart.project_milestones m
                                          JOIN mart.projects p USING (period, project_code)
                                          WHERE m.period = ?""", [month]),
        submissions=query(conn, """SELECT unit, period, min(submitted_at) AS first_submitted,
                                          bool_or(coalesce(catch_up, false)) AS catch_up
                                   FROM raw.submission_values
                                   WHERE period >= ? AND period <= ? GROUP BY unit, period""",
                          [f"{year}-01", month]),
        **lists)


def score_period(conn, catalog: Catalog, month: str, label: str
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score every unit for the quarter or year ``label`` as of ``month`` and store the scores
    and every rule's points (``mart.unit_scores``, ``mart.score_items``)."""
    if not conn.execute("SELECT count(*) FROM mart.indicator_progress WHERE period = ?",
                        [month]).fetchone()[0]:
        raise NotReviewedYet(f"{month} 尚无指标进度，无法评出 {label} 的得分：请先对 {month} 运行月调度"
                         f"（monthly_review，或回填该年各月），再运行本次考评。")
    scores, items = score_units(score_inputs(conn, label, month), catalog)
    with transaction(conn):
        replace_rows(conn, "mart.unit_scores", scores, "period = ?", [label], allow_empty=True)
        replace_rows(conn, "mart.score_items", items, "period = ?", [label], allow_empty=True)
    return scores, items


def year_end_month(conn, year: str) -> str:
    """December, or for a year still running the latest month reviewed (a preview)."""
    latest = conn.execute("SELECT max(period) FROM mart.indicator_progress "
                          "WHERE period BETWEEN ? AND ?", [f"{year}-01", f"{year}-12"]).fetchone()[0]
    return latest or f"{year}-12"


def queue_ranking_notice(conn, catalog: Catalog, label: str, month: str,
                         scores: pd.DataFrame) -> bool:
    """Queue the ranking for the Notifier (delivered by ``behind_schedule_sensor``) when it is
    current work: a backfilled past quarter or year is not pushed again. A ranking that changes
    after a correction is pushed once more, marked as corrected."""
    latest = conn.execute("SELECT max(period) FROM mart.indicator_progress").fetchone()[0]
    if latest is None or not recent_enough([month], latest, catalog.warning_lookback_months)[0]:
        return False
    title, body = ranking_notice(catalog, label, scores)
    warning_id = f"ranking:{label}:{hashlib.sha256(body.encode()).hexdigest()[:10]}"
    earlier = query(conn, "SELECT warning_id FROM mart.warnings WHERE kind = 'ranking' "
                          "AND period = ?", [label])["warning_id"].tolist()
    if earlier and warning_id not in earlier:
        title = f"{title}（更正）"
    store_warnings(conn, [Alert(warning_id, "ranking", label, "", DISTRICT, "info", title,
                                  body)], now_local())
    return True
