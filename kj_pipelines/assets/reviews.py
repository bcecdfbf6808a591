"""Assets of the review cadence beyond the month: the weekly consultation list (周会商), the
quarterly ranking (季晾晒) and the annual scores (年考评). The review documents themselves (Excel
reports) build on these in a later step."""

import datetime as dt

import dagster as dg
import pandas as pd

from kj_pipelines.assets.common import WAREHOUSE_POOL, markdown_table
from kj_pipelines.domain.catalog import Catalog
from kj_pipelines.domain.periods import add_months, last_complete_month, parse_month
from kj_pipelines.domain.progress import STATUS_MARK, worst_first
from kj_pipelines.domain.scoring import score_units
from kj_pipelines.ingest import pending_files
from kj_pipelines.partitions import quarterly_partitions, weekly_partitions, yearly_partitions
from kj_pipelines.resources import KJDataResource, WarehouseResource
from kj_pipelines.warehouse import ensure_schema, query, replace_rows


def _names(frame: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    return frame.assign(
        指标=[catalog.indicators[c].name if c in catalog.indicators else c
              for c in frame["indicator"]],
        单位=[catalog.unit_name(u) for u in frame["unit"]])


@dg.asset(
    group_name="reviews",
    partitions_def=weekly_partitions,
    deps=["indicator_progress", "warnings"],
    pool=WAREHOUSE_POOL,
    kinds={"duckdb"},
    description="周会商清单：截至本周一，最近一个已调度月份中红灯、黄灯和缺报的事项，以及上周新发预警和待处理填报。",
)
def weekly_watchlist(context: dg.AssetExecutionContext, kj_data: KJDataResource,
                     warehouse: WarehouseResource) -> dg.MaterializeResult:
    catalog = kj_data.catalog()
    monday = dt.date.fromisoformat(context.partition_key)
    with warehouse.get_connection() as conn:
        ensure_schema(conn)
        latest = conn.execute("SELECT max(period) FROM mart.indicator_progress WHERE period <= ?",
                              [last_complete_month(monday)]).fetchone()[0]
        items = query(conn, """SELECT period, indicator, unit, status, gap
                               FROM mart.indicator_progress
                               WHERE period = ? AND status IN ('red', 'yellow', 'grey')""",
                      [latest or ""])
        items = worst_first(items).assign(week=context.partition_key)
        replace_rows(conn, "mart.weekly_watchlist", items, "week = ?", [context.partition_key],
                     allow_empty=True)
        raised = query(conn, """SELECT level, count(*) AS n FROM mart.warnings
                                WHERE raised_at >= ? AND raised_at < ? GROUP BY level""",
                       [monday - dt.timedelta(days=7), monday])
    table = _names(items, catalog).assign(状态=items["status"].map(STATUS_MARK))
    return dg.MaterializeResult(metadata={
        "period_reviewed": latest or "—",
        "items": len(items),
        "red": int((items["status"] == "red").sum()),
        "warnings_last_week": int(raised["n"].sum()) if not raised.empty else 0,
        "inbox_pending": len(pending_files(kj_data.paths.inbox)),
        "watchlist": markdown_table(table[["状态", "指标", "单位", "gap"]]),
    })


def _scores(conn, catalog: Catalog, month: str, label: str) -> pd.DataFrame:
    # a month's own figures: a quarterly or annual figure carried from an earlier period
    # (as_of before the month) was scored in its own period
    progress = query(conn, """SELECT * FROM mart.indicator_progress
                              WHERE period = ? AND (as_of IS NULL OR as_of = period)""", [month])
    scores = score_units(progress, catalog, label)
    replace_rows(conn, "mart.unit_scores", scores, "period = ?", [label], allow_empty=True)
    return scores


def _score_result(scores: pd.DataFrame, catalog: Catalog, month: str) -> dg.MaterializeResult:
    table = scores.assign(单位=[catalog.units[u].name for u in scores["unit"]])
    behind = scores[scores["band"] == "滞后"]
    return dg.MaterializeResult(metadata={
        "month_scored": month,
        "units": len(scores),
        "lagging_units": len(behind),
        "ranking": markdown_table(table[["rank", "单位", "score", "band", "red", "yellow", "grey"]]),
    })


@dg.asset(
    group_name="reviews",
    partitions_def=quarterly_partitions,
    deps=["indicator_progress"],
    pool=WAREHOUSE_POOL,
    kinds={"duckdb"},
    description="季晾晒：按季末月份各指标红黄绿状态为镇街、园区和责任部门打分排名（mart.unit_scores），"
                "“滞后”档单位列入季度分析会约谈名单。",
)
def quarterly_ranking(context: dg.AssetExecutionContext, kj_data: KJDataResource,
                      warehouse: WarehouseResource) -> dg.MaterializeResult:
    catalog = kj_data.catalog()
    month = add_months(context.partition_key, 2)
    year, first = parse_month(context.partition_key)
    with warehouse.get_connection() as conn:
        ensure_schema(conn)
        scores = _scores(conn, catalog, month, f"{year}-Q{(first - 1) // 3 + 1}")
    return _score_result(scores, catalog, month)


@dg.asset(
    group_name="reviews",
    partitions_def=yearly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=["indicator_progress", "indicator_plan"],
    pool=WAREHOUSE_POOL,
    kinds={"duckdb"},
    description="年考评：按12月各指标完成状态为镇街、园区和责任部门打分排名，纳入区政府年度目标管理绩效考核。",
)
def annual_scores(context: dg.AssetExecutionContext, kj_data: KJDataResource,
                  warehouse: WarehouseResource) -> dg.MaterializeResult:
    catalog = kj_data.catalog()
    with warehouse.get_connection() as conn:
        ensure_schema(conn)
        for year in context.partition_keys:
            scores = _scores(conn, catalog, f"{year}-12", year)
    return _score_result(scores, catalog, f"{context.partition_keys[-1]}-12")
