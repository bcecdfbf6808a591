"""Assets of the review cadence beyond the month: the weekly consultation list (周会商), the
quarterly ranking (季晾晒) and the annual scores (年考评). The review documents themselves (Excel
reports) build on these in a later step."""

import datetime as dt

import dagster as dg
import pandas as pd

from kj_pipelines.catalog.model import Catalog
from kj_pipelines.core.periods import add_months, last_complete_month, quarter_label
from kj_pipelines.defs.metadata import each_partition, glance_table, markdown_table
from kj_pipelines.defs.partitions import quarterly_partitions, weekly_partitions, yearly_partitions
from kj_pipelines.defs.resources import KJDataResource, WarehouseResource
from kj_pipelines.indicators.status import status_label, worst_first
from kj_pipelines.intake.inbox import pending_files
from kj_pipelines.reviews.rankings import with_unit_names
from kj_pipelines.reviews.service import (
    NotReviewedYet,
    queue_ranking_notice,
    score_period,
    year_end_month,
)
from kj_pipelines.storage.warehouse import ensure_schema, query, replace_rows


def _names(frame: "pd.DataFrame", catalog: Catalog) -> "pd.DataFrame":
    return with_unit_names(frame, catalog).assign(
        指标=[catalog.indicators[c].name if c in catalog.indicators else c
              for c in frame["indicator"]])


@dg.asset(
    group_name="reviews",
    partitions_def=weekly_partitions,
    deps=["indicator_progress", "warnings"],
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
        items = query(conn, """SELECT period, indicator, unit, status, gap, missing_units
                               FROM mart.indicator_progress
                               WHERE period = ? AND status IN ('red', 'yellow', 'grey')""",
                      [latest or ""])
        items = worst_first(items).assign(week=context.partition_key)
        replace_rows(conn, "mart.weekly_watchlist", items, "week = ?", [context.partition_key],
                     allow_empty=True)
        raised = query(conn, """SELECT level, count(*) AS n FROM mart.warnings
                                WHERE raised_at >= ? AND raised_at < ? GROUP BY level""",
                       [monday - dt.timedelta(days=7), monday])
    table = _names(items, catalog).assign(状态=[
        status_label(s, m, mark=True) for s, m in zip(items["status"], items["missing_units"],
                                                      strict=True)])
    return dg.MaterializeResult(metadata={
        "period_reviewed": latest or "—",
        "items": len(items),
        "red": int((items["status"] == "red").sum()),
        "warnings_last_week": int(raised["n"].sum()) if not raised.empty else 0,
        "inbox_pending": len(pending_files(kj_data.paths.inbox)),
        "一览": glance_table(table[["状态", "指标", "单位", "gap"]], full="watchlist"),
        "watchlist": markdown_table(table[["状态", "指标", "单位", "gap"]]),
    })


def score_metadata(scores: "pd.DataFrame", catalog: Catalog, month: str, queued: bool) -> dict:
    table = with_unit_names(scores, catalog).assign(
        组别=[catalog.peer_group_name(g) for g in scores["peer_group"]])
    rules = catalog.scoring
    return {
        "month_scored": month,
        "units": len(scores),
        "talk_units": int((scores["review"] == rules.talk_label).sum()),
        "share_units": int((scores["review"] == rules.share_label).sum()),
        "mean_score": round(float(scores["score"].mean()), 2)
        if scores["score"].notna().any() else 0.0,
        "notice_queued": queued,
        "一览": glance_table(table[["rank", "单位", "score", "review"]].rename(columns={
            "rank": "名次", "score": "得分", "review": "结果运用"}), full="ranking"),
        "ranking": markdown_table(table[["组别", "rank", "单位", "score", "band", "bonus",
                                         "deduction", "review"]], max_rows=60),
    }


def _ranking(conn, catalog: Catalog, label: str, month: str) -> dict:
    """Score the period, store it, queue its notice; the period's metadata."""
    try:
        scores, _ = score_period(conn, catalog, month, label)
    except NotReviewedYet as exc:
        raise dg.Failure(str(exc)) from exc
    queued = queue_ranking_notice(conn, catalog, label, month, scores)
    return score_metadata(scores, catalog, month, queued)


SCORED_LISTS = tuple(dg.AssetKey(["list", n]) for n in ("tasks", "projects", "problems",
                                                        "supervision"))


@dg.asset(
    group_name="reviews",
    partitions_def=quarterly_partitions,
    deps=["indicator_progress", *SCORED_LISTS],
    kinds={"duckdb"},
    description="季晾晒：按 scoring.yaml 的规则，以年初至季末的指标完成、任务节点、重大项目、问题销号、督办落实"
                "为各报送单位和责任部门打分，加标志性成果分、扣缺报迟报分，分组排名定档，写入 mart.unit_scores"
                "和得分明细 mart.score_items；点名介绍经验和约谈的单位，晾晒结果经通知渠道推送。",
)
def quarterly_ranking(context: dg.AssetExecutionContext, kj_data: KJDataResource,
                      warehouse: WarehouseResource) -> dg.MaterializeResult:
    return each_partition(context, kj_data, warehouse, lambda conn, catalog, key: _ranking(
        conn, catalog, quarter_label(key), add_months(key, 2)))


@dg.asset(
    group_name="reviews",
    partitions_def=yearly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=["indicator_progress", "indicator_plan", *SCORED_LISTS],
    kinds={"duckdb"},
    description="年考评：按 scoring.yaml 的规则（年度未结束时按最近已调度月份预评）对全年工作为各报送单位和责任部门综合打分排名（得分明细可查），"
                "结果供年度目标管理绩效考核使用，并经通知渠道通报。",
)
def annual_scores(context: dg.AssetExecutionContext, kj_data: KJDataResource,
                  warehouse: WarehouseResource) -> dg.MaterializeResult:
    return each_partition(context, kj_data, warehouse, lambda conn, catalog, year: _ranking(
        conn, catalog, year, year_end_month(conn, year)))
