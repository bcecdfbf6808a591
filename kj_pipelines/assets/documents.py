"""The review documents as assets of their jobs: the month's 月调度 report (Excel) and the
挂图作战 board (a self-contained HTML page), written to ``reports/<YYYY-MM>/``."""


import dagster as dg
import duckdb
import pandas as pd

from kj_pipelines.assets.common import WAREHOUSE_POOL, markdown_table, partitioned_result
from kj_pipelines.domain.board import write_board
from kj_pipelines.domain.catalog import Catalog
from kj_pipelines.domain.list_tables import open_problems
from kj_pipelines.domain.periods import parse_month
from kj_pipelines.domain.reports import (
    MonthInputs,
    month_series,
    overview_frame,
    write_monthly_report,
)
from kj_pipelines.partitions import monthly_partitions
from kj_pipelines.pipeline import run_plan
from kj_pipelines.resources import KJDataResource, WarehouseResource
from kj_pipelines.settings import DataPaths
from kj_pipelines.warehouse import ensure_schema, query

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


def _document_paths(paths: DataPaths, period: str) -> tuple:
    folder = paths.reports / period
    return folder / f"月调度报告_{period}.xlsx", folder / f"挂图作战_{period}.html"


@dg.asset(
    group_name="reviews",
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=["indicator_progress", "goal_distance", "annual_targets",
          *(dg.AssetKey(["list", n]) for n in ("tasks", "projects", "problems", "supervision"))],
    pool=WAREHOUSE_POOL,
    kinds={"excel", "html"},
    description="月调度报告与挂图作战图：每月一份Excel报告（总览、分单位进度、每个指标一张计划与实际对比图、"
                "重点任务、重大项目、下月节点、需协调问题、督办清单），以及一页可离线打开、按A3横向打印的"
                "挂图作战网页；写入 reports/<年-月>/。",
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
                "red_indicators": int((overview["状态"] == "红").sum()),
                "open_problems": len(open_problems(inputs.problems)),
                "preview": markdown_table(overview[[
                    "状态", "指标", "实际", "计划", "年度目标", "完成率%", "红灯单位", "黄灯单位"]]),
            }
    return partitioned_result(context, per_period)
