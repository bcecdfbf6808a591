"""The month's progress across all indicators (挂图作战总览): what the weekly consultation and the
monthly dispatch look at first, and what the behind-schedule sensor watches."""


import dagster as dg
import pandas as pd

from kj_pipelines.assets.common import markdown_table, partitioned_result
from kj_pipelines.assets.indicators import indicator_key
from kj_pipelines.domain.catalog import DISTRICT, Catalog
from kj_pipelines.domain.numbers import as_number
from kj_pipelines.domain.progress import STATUS_MARK
from kj_pipelines.partitions import monthly_partitions
from kj_pipelines.pipeline import assemble_progress
from kj_pipelines.resources import KJDataResource, WarehouseResource
from kj_pipelines.warehouse import ensure_schema


def progress_overview(progress: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """Per indicator: the top's status (全区 / 全市) and how many units are red, yellow, grey.
    Built from plain records in one pass (one per month of a backfill; 57 ms a month by groups)."""
    top = catalog.top_label
    found: dict[str, dict] = {}
    for r in progress.to_dict("records"):
        code = r["indicator"]
        row = found.setdefault(code, {
            "指标": catalog.indicators[code].name if code in catalog.indicators else code,
            f"{top}状态": "—", f"{top}完成率%": None, "计划进度%": None, "截至": "",
            f"{top}缺报": 0, "红": 0, "黄": 0, "缺报": 0})
        # rows written before ``as_of`` existed are as of their own period
        as_of = r.get("as_of") if isinstance(r.get("as_of"), str) else r["period"]
        row["截至"] = max(row["截至"], as_of)
        if r["unit"] == DISTRICT:
            if row[f"{top}状态"] == "—":  # the first of the top's rows, as before
                row[f"{top}状态"] = STATUS_MARK[r["status"]]
                row[f"{top}完成率%"] = float(r["completion"])
                row["计划进度%"] = float(r["planned_share"])
                row[f"{top}缺报"] = int(as_number(r.get("missing_units")) or 0)
        else:
            column = {"red": "红", "yellow": "黄", "grey": "缺报"}.get(r["status"])
            if column:
                row[column] += 1
    frame = pd.DataFrame(list(found.values()),
                         columns=["指标", f"{top}状态", f"{top}完成率%", "计划进度%", "截至",
                                  f"{top}缺报", "红", "黄", "缺报"])
    return frame.sort_values(["红", "黄", "缺报"], ascending=False)


def build_progress_asset(catalog: Catalog) -> dg.AssetsDefinition:
    @dg.asset(
        name="indicator_progress",
        group_name="progress",
        partitions_def=monthly_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        deps=[indicator_key(c) for c in catalog.indicators],
        kinds={"duckdb"},
        description=f"年度主要指标进度总览（mart.indicator_progress）：汇集各指标当月{catalog.top_label}及各单位的"
                    "实际、计划、完成率、差距和红黄绿灯状态（季度、年度指标取最近一期并注明截至月份；合计数缺报单位时"
                    "标灰并注明缺几家）；落后于倒排计划的单位由预警传感器推送。",
    )
    def indicator_progress(context: dg.AssetExecutionContext, kj_data: KJDataResource,
                           warehouse: WarehouseResource) -> dg.MaterializeResult:
        fresh = kj_data.catalog()
        periods = list(context.partition_keys)
        with warehouse.get_connection() as conn:
            ensure_schema(conn)
            progress = assemble_progress(conn, periods)
        return partitioned_result(context, {
            p: _month_metadata(progress[progress["period"] == p], fresh, p) for p in periods})

    return indicator_progress


def _month_metadata(month: pd.DataFrame, catalog: Catalog, period: str) -> dict[str, object]:
    units = month[month["unit"] != DISTRICT]
    counts = units["status"].value_counts()
    return {
        "period": period,
        "rows": len(month),
        "red": int(counts.get("red", 0)),
        "yellow": int(counts.get("yellow", 0)),
        "grey": int(counts.get("grey", 0)),
        "green_or_done": int(counts.get("green", 0) + counts.get("done", 0)),
        "overview": markdown_table(progress_overview(month, catalog)),
    }
