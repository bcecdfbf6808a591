"""The review documents as assets of their jobs: the month's 月调度 report (Excel) and the
挂图作战 board (a self-contained HTML page), written to ``reports/<YYYY-MM>/``."""

import datetime as dt

import dagster as dg
import pandas as pd

from kj_pipelines.catalog.model import Catalog
from kj_pipelines.core.periods import add_months, parse_month, quarter_label
from kj_pipelines.core.settings import DataPaths
from kj_pipelines.defs.metadata import (
    each_partition,
    glance_table,
    markdown_table,
    partitioned_result,
)
from kj_pipelines.defs.partitions import (
    monthly_partitions,
    quarterly_partitions,
    weekly_partitions,
    yearly_partitions,
)
from kj_pipelines.defs.resources import KJDataResource, WarehouseResource
from kj_pipelines.indicators.service import run_plan
from kj_pipelines.indicators.status import month_counts
from kj_pipelines.reviews.annual_summary import paragraphs, write_annual_summary
from kj_pipelines.reviews.board import write_board
from kj_pipelines.reviews.monthly_report import (
    overview_frame,
    write_monthly_report,
)
from kj_pipelines.reviews.rankings import with_unit_names, write_ranking_workbook
from kj_pipelines.reviews.service import (
    month_inputs,
    week_inputs,
    year_end_month,
    year_inputs,
)
from kj_pipelines.reviews.weekly_brief import summary, week_label, write_weekly_brief
from kj_pipelines.storage.warehouse import ensure_schema, query
from kj_pipelines.worklists.tables import open_problems


def _document_paths(paths: DataPaths, period: str) -> tuple:
    folder = paths.reports / period
    return folder / f"月调度报告_{period}.xlsx", folder / f"挂图作战_{period}.html"


@dg.asset(
    group_name="reviews",
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=["indicator_progress", "goal_distance", "annual_targets",
          *(dg.AssetKey(["list", n]) for n in ("tasks", "projects", "problems", "supervision"))],
    kinds={"excel", "html"},
    description="月调度报告与挂图作战图：每月一份Excel报告（总览、分单位进度、每个指标一张计划与实际对比图、"
                "重点任务、重大项目、下月节点、需协调问题、督办清单），以及一页可离线打开、按A3横向打印的"
                "挂图作战网页（各月共用 reports/assets/ 下的一份图表脚本）；写入 reports/<年-月>/。",
)
def monthly_report(context: dg.AssetExecutionContext, kj_data: KJDataResource,
                   warehouse: WarehouseResource) -> dg.MaterializeResult:
    catalog = kj_data.catalog()
    periods = list(context.partition_keys)
    years = sorted({parse_month(p)[0] for p in periods})
    per_period = {}
    with warehouse.get_connection() as conn:
        ensure_schema(conn)
        plan = run_plan(conn, catalog, years, write=False)
        for period in periods:
            inputs = month_inputs(conn, catalog, period, plan)
            goals = query(conn, "SELECT * FROM mart.goal_distance WHERE period = ?", [period])
            report, board = _document_paths(kj_data.paths, period)
            write_monthly_report(report, catalog, inputs)
            write_board(board, catalog, inputs, goals)
            overview = overview_frame(inputs.progress, catalog)
            per_period[period] = {
                "period": period,
                "report": dg.MetadataValue.path(str(report)),
                "board": dg.MetadataValue.path(str(board)),
                **month_counts(inputs.progress, catalog.top_label),
                "open_problems": len(open_problems(inputs.problems)),
                "一览": glance_table(_worst_first(overview)[["状态", "指标", "完成率%", "红灯单位"]],
                                    full="preview"),
                "preview": markdown_table(overview[[
                    "状态", "指标", "实际", "计划", "年度目标", "完成率%", "红灯单位", "黄灯单位"]]),
            }
    return partitioned_result(context, per_period)


def _worst_first(overview: "pd.DataFrame") -> "pd.DataFrame":
    """The overview's indicators, red first, then 待报齐/缺报, yellow, the rest."""
    order = {"红": 0, "待报齐": 1, "缺报": 1, "黄": 2}
    return overview.assign(_o=overview["状态"].map(order).fillna(3)).sort_values(
        "_o", kind="stable")


def _ranking_document(conn, catalog: Catalog, label: str, month: str, path,
                      with_history: bool) -> dict:
    scores = query(conn, "SELECT * FROM mart.unit_scores WHERE period = ? "
                         "ORDER BY peer_group, rank, unit", [label])
    if scores.empty:
        raise dg.Failure(f"mart.unit_scores 中没有 {label} 的得分：请先物化该期的排名。")
    items = query(conn, "SELECT * FROM mart.score_items WHERE period = ? "
                        "ORDER BY unit, seq", [label])
    progress = query(conn, """SELECT * FROM mart.indicator_progress
                              WHERE period = ? ORDER BY indicator, unit""", [month])
    history = None
    if with_history:
        history = query(conn, """SELECT * FROM mart.unit_scores
                                 WHERE length(period) = 4 AND period <= ?
                                 ORDER BY period, unit""", [label])
    write_ranking_workbook(path, catalog, label, month, scores, items, progress, history)
    rules = catalog.scoring
    named = with_unit_names(scores, catalog)
    return {
        "period": label,
        "workbook": dg.MetadataValue.path(str(path)),
        "units": len(scores),
        rules.talk_label: "、".join(named[named["review"] == rules.talk_label]["单位"]) or "无",
        rules.share_label: "、".join(named[named["review"] == rules.share_label]["单位"]) or "无",
        "preview": markdown_table(named[["rank", "单位", "score", "band", "review"]], 60),
    }


@dg.asset(
    group_name="reviews",
    partitions_def=quarterly_partitions,
    deps=["quarterly_ranking", "indicator_progress"],
    kinds={"excel"},
    description="季度晾晒工作簿：各组排名与档次、逐项得分明细、约谈与介绍经验名单、季末指标进度；"
                "写入 reports/<年-Q季>/季度晾晒_<年-Q季>.xlsx。",
)
def quarterly_report(context: dg.AssetExecutionContext, kj_data: KJDataResource,
                     warehouse: WarehouseResource) -> dg.MaterializeResult:
    def document(conn, catalog: Catalog, key: str) -> dict:
        label = quarter_label(key)
        return _ranking_document(conn, catalog, label, add_months(key, 2),
                                 kj_data.paths.reports / label / f"季度晾晒_{label}.xlsx",
                                 with_history=False)
    return each_partition(context, kj_data, warehouse, document)


@dg.asset(
    group_name="reviews",
    partitions_def=yearly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=["annual_scores", "indicator_progress"],
    kinds={"excel"},
    description="年度考评工作簿：全年综合得分排名与档次、逐项得分明细、约谈与介绍经验名单、年末指标进度、历年排名；"
                "写入 reports/<年>/年度考评_<年>.xlsx。",
)
def annual_report(context: dg.AssetExecutionContext, kj_data: KJDataResource,
                  warehouse: WarehouseResource) -> dg.MaterializeResult:
    def document(conn, catalog: Catalog, year: str) -> dict:
        return _ranking_document(conn, catalog, year, year_end_month(conn, year),
                                 kj_data.paths.reports / year / f"年度考评_{year}.xlsx",
                                 with_history=True)
    return each_partition(context, kj_data, warehouse, document)


@dg.asset(
    group_name="reviews",
    partitions_def=weekly_partitions,
    deps=["weekly_watchlist", "warnings", *(dg.AssetKey(["list", n]) for n in
                                             ("tasks", "projects", "problems", "supervision"))],
    kinds={"excel"},
    description="周会商简报：上周新发预警，上周完成、两周内到期和逾期的任务与项目节点，上周新提出、销号和超期的问题，"
                "两周内到期的督办事项，缺报单位，红黄灯清单；写入 reports/<年-W周>/周会商简报_<年-W周>.xlsx。",
)
def weekly_brief(context: dg.AssetExecutionContext, kj_data: KJDataResource,
                 warehouse: WarehouseResource) -> dg.MaterializeResult:
    catalog = kj_data.catalog()
    monday = dt.date.fromisoformat(context.partition_key)
    label = week_label(monday)
    path = kj_data.paths.reports / label / f"周会商简报_{label}.xlsx"
    with warehouse.get_connection() as conn:
        ensure_schema(conn)
        inputs = week_inputs(conn, monday)
    write_weekly_brief(path, catalog, inputs)
    points = summary(inputs, catalog)
    return dg.MaterializeResult(metadata={
        "week": label,
        "workbook": dg.MetadataValue.path(str(path)),
        "lists_as_of": inputs.lists_month or "—",
        "new_warnings": int(points[0][1]),
        "preview": markdown_table(pd.DataFrame(points, columns=["事项", "数量"])),
    })


@dg.asset(
    group_name="reviews",
    partitions_def=yearly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=["annual_scores", "indicator_progress", "goal_distance", "annual_targets",
          *(dg.AssetKey(["list", n]) for n in ("tasks", "projects", "problems"))],
    kinds={"excel"},
    description="年度工作总结（按总结模板）：开篇主要指标、重点科技指标完成情况（目标与实际、同比）、各行动清单进展、"
                "多年目标推进、存在问题、下年目标；文字与数据表一并写入 reports/<年>/年度工作总结_<年>.xlsx，供办公室修改定稿。",
)
def annual_summary(context: dg.AssetExecutionContext, kj_data: KJDataResource,
                   warehouse: WarehouseResource) -> dg.MaterializeResult:
    def document(conn, catalog: Catalog, key: str) -> dict:
        inputs = year_inputs(conn, catalog, int(key))
        if inputs.progress.empty:
            raise dg.Failure(f"{key}年尚无指标进度：请先对该年的月份运行月调度（monthly_review）。")
        path = kj_data.paths.reports / key / f"年度工作总结_{key}.xlsx"
        write_annual_summary(path, catalog, inputs)
        text = paragraphs(inputs, catalog)
        return {"year": key, "workbook": dg.MetadataValue.path(str(path)),
                "preview": dg.MetadataValue.md("\n\n".join(
                    f"**{t}**" if style != "body" else t for style, t in text))}
    return each_partition(context, kj_data, warehouse, document)
