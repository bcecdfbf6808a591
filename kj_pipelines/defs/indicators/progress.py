"""The month's progress across all indicators (挂图作战总览): what the weekly consultation and the
monthly dispatch look at first, and what the behind-schedule sensor watches."""


import dagster as dg
import pandas as pd

from kj_pipelines.catalog.model import Catalog
from kj_pipelines.core.numbers import as_number
from kj_pipelines.defs.indicators.assets import indicator_key
from kj_pipelines.defs.metadata import markdown_table, partitioned_result
from kj_pipelines.defs.partitions import monthly_partitions
from kj_pipelines.defs.resources import KJDataResource, WarehouseResource
from kj_pipelines.indicators.progress import is_incomplete, status_with_estimate
from kj_pipelines.indicators.service import assemble_progress
from kj_pipelines.storage.warehouse import ensure_schema


def progress_overview(summary: "pd.DataFrame", catalog: Catalog) -> "pd.DataFrame":
    """Per indicator: the top's status (全区 / 全市) and how many units are red, yellow, grey,
    from one month's rows of :func:`~kj_pipelines.indicators.service.progress_summary`."""
    top = catalog.top_label
    rows = []
    for r in summary.to_dict("records"):
        code = r["indicator"]
        status = r["top_status"] if isinstance(r["top_status"], str) else None
        waiting = is_incomplete(status, r["top_missing"])
        rows.append({
            "指标": catalog.indicators[code].name if code in catalog.indicators else code,
            f"{top}状态": status_with_estimate(status, r["top_missing"],
                                             r["top_estimate_status"], mark=True)
            if status else "—",
            # while units are missing: the estimate's completion, the status says so
            f"{top}完成率%": as_number(r["top_estimate_completion"] if waiting
                                    else r["top_completion"]) if status else None,
            "计划进度%": as_number(r["top_planned_share"]) if status else None,
            "截至": r["as_of"], f"{top}缺报": int(as_number(r["top_missing"]) or 0),
            "红": int(r["red"]), "黄": int(r["yellow"]), "缺报": int(r["grey"])})
    frame = pd.DataFrame(rows, columns=["指标", f"{top}状态", f"{top}完成率%", "计划进度%", "截至",
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
            summary = assemble_progress(conn, periods)
        months = dict(tuple(summary.groupby("period", sort=False, observed=True)))
        return partitioned_result(context, {
            p: _month_metadata(months.get(p, summary.iloc[0:0]), fresh, p) for p in periods})

    return indicator_progress


def _month_metadata(month: "pd.DataFrame", catalog: Catalog, period: str) -> dict[str, object]:
    return {
        "period": period,
        "rows": int(month["rows"].sum()),
        "red": int(month["red"].sum()),
        "yellow": int(month["yellow"].sum()),
        "grey": int(month["grey"].sum()),
        "green_or_done": int(month["green_or_done"].sum()),
        "overview": markdown_table(progress_overview(month, catalog)),
    }
