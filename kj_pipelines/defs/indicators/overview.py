"""The assets across all indicators: the month's overview (挂图作战总览, ``indicator_progress``), what
the weekly consultation and the monthly dispatch look at first and what the warning sensor
watches; 年度主要指标进度表 (``indicator_plan``), every annual target back-scheduled by month and
quarter (倒排工期); and, each month, the distance still to go to each multi-year goal
(``goal_distance``, 到2027年目标)."""

import dagster as dg
import pandas as pd

from kj_pipelines.catalog.model import DISTRICT, Catalog
from kj_pipelines.core.numbers import as_number
from kj_pipelines.defs.indicators.assets import indicator_key
from kj_pipelines.defs.metadata import glance_table, markdown_table, partitioned_result
from kj_pipelines.defs.partitions import monthly_partitions, yearly_partitions
from kj_pipelines.defs.resources import KJDataResource, WarehouseResource
from kj_pipelines.indicators.goals import GOAL_NOTE, explained, goal_distance
from kj_pipelines.indicators.service import assemble_progress, run_plan
from kj_pipelines.indicators.status import (
    RULE_NOTE,
    is_incomplete,
    status_counts,
    status_rule,
    status_with_estimate,
)
from kj_pipelines.storage.warehouse import ensure_schema, query, replace_rows


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
            "红": int(r["red"]), "黄": int(r["yellow"]), "缺报": int(r["grey"]),
            "判灯规则（差距）": status_rule(catalog.indicators[code]) if code in catalog.indicators
            else ""})
    frame = pd.DataFrame(rows, columns=["指标", f"{top}状态", f"{top}完成率%", "计划进度%", "截至",
                                        f"{top}缺报", "红", "黄", "缺报", "判灯规则（差距）"])
    return frame.sort_values(["红", "黄", "缺报"], ascending=False).rename(columns={
        "红": f"红（不含{top}）", "黄": f"黄（不含{top}）", "缺报": f"缺报（不含{top}）"})


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
    # the counts the board and the monthly report print, named as they print them
    top = month.rename(columns={"top_status": "status", "top_missing": "missing_units"})
    top = top[top["status"].notna()]
    below = {status: int(month[status].sum()) for status in ("red", "yellow", "grey")}
    below["green"] = int(month["green_or_done"].sum())
    overview, top_label = progress_overview(month, catalog), catalog.top_label
    return {
        "period": period,
        "rows": int(month["rows"].sum()),
        **status_counts(top, below, catalog.top_label),
        "一览": glance_table(overview[["指标", f"{top_label}状态", *(
            f"{c}（不含{top_label}）" for c in ("红", "黄", "缺报"))]], full="overview"),
        "overview": markdown_table(overview),
        "判灯规则": RULE_NOTE,
    }


@dg.asset(
    group_name="plan",
    partitions_def=yearly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=["annual_targets", "submission_inbox", "registry_snapshot"],
    kinds={"duckdb"},
    description="年度主要指标进度表：按指标、单位将年度目标倒排分解到季度和月度（线性、工作日、季节性、"
                "节点、批次等方式），多年目标未列入年度清单的按基期至目标年均匀分解。",
)
def indicator_plan(context: dg.AssetExecutionContext, kj_data: KJDataResource,
                   warehouse: WarehouseResource) -> dg.MaterializeResult:
    catalog = kj_data.catalog()
    years = [int(k) for k in context.partition_keys]
    with warehouse.get_connection() as conn:
        plan = run_plan(conn, catalog, years)
    district = plan[(plan["unit"] == DISTRICT) & plan["month"].isin([3, 6, 9, 12])]
    year = years[-1]
    quarter_view = district[district["year"] == year].pivot_table(
        index="indicator", columns="quarter", values="planned", aggfunc="first")
    quarter_view.columns = [f"Q{q}" for q in quarter_view.columns]
    quarter_view = quarter_view.reset_index()
    quarter_view.insert(1, "指标", [catalog.indicators[c].name for c in quarter_view["indicator"]])
    return dg.MaterializeResult(metadata={
        "rows": len(plan),
        "indicators_planned": int(plan["indicator"].nunique()),
        "units_planned": int(plan["unit"].nunique()),
        "targets_from_goals": int((plan["target_source"] == "goal").sum() // 12),
        # where each plan starts from: last December, the list's 上年基数, or no baseline at all
        "baselines": markdown_table(plan[plan["month"] == 12].groupby("baseline_source").size()
                                    .rename("单位×指标").reset_index()
                                    .rename(columns={"baseline_source": "起点"})),
        "district_quarters": markdown_table(quarter_view),
    })


def build_goal_distance_asset(catalog: Catalog) -> dg.AssetsDefinition:
    @dg.asset(
        name="goal_distance",
        group_name="plan",
        partitions_def=monthly_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        deps=[indicator_key(c) for c in sorted({g.indicator for g in catalog.goals})],
        kinds={"duckdb"},
        description="距多年目标差距（mart.goal_distance）：截至本月，各项“到2027年”目标的最新值、剩余差距和"
                    "已完成的进程（流量指标按最近一个完整年度计）。",
    )
    def goal_distance_asset(context: dg.AssetExecutionContext, kj_data: KJDataResource,
                            warehouse: WarehouseResource) -> dg.MaterializeResult:
        fresh = kj_data.catalog()
        flows = [c for c, i in fresh.indicators.items() if i.kind == "flow"]
        results = {}
        with warehouse.get_connection() as conn:
            for period in context.partition_keys:
                # a flow's goal is a full year's amount: measure it on the last complete year
                latest = query(conn, """
                    SELECT indicator, unit, period, value FROM mart.indicator_values
                    WHERE unit = ? AND period <= ?
                      AND (indicator NOT IN (SELECT unnest(?::VARCHAR[])) OR period LIKE '%-12')
                    QUALIFY row_number() OVER (PARTITION BY indicator ORDER BY period DESC) = 1""",
                               [DISTRICT, period, flows])
                distance = goal_distance(fresh.goals, latest).assign(period=period)
                replace_rows(conn, "mart.goal_distance", distance, "period = ?", [period])
                results[period] = distance
        return partitioned_result(
            context, {p: _distance_metadata(d, fresh, p) for p, d in results.items()})

    return goal_distance_asset


def _distance_metadata(distance, catalog: Catalog, period: str) -> dict[str, object]:
    goals = explained(distance, catalog.goals, catalog.counted()).assign(
        指标=[catalog.indicators[c].name for c in distance["indicator"]])
    metadata: dict[str, object] = {
        "period": period,
        "goals": len(distance),
        "table": markdown_table(goals[["指标", "baseline", "goal_year", "goal", "as_of", "latest",
                                       "remaining_text", "progress"]].rename(columns={
            "baseline": "基期值", "goal_year": "目标年", "goal": "目标值", "as_of": "截至",
            "latest": "最新值", "remaining_text": "距目标", "progress": "进度%"})),
        "说明": GOAL_NOTE,
    }
    for row in distance.itertuples(index=False):
        if row.progress is not None and row.progress == row.progress:
            metadata[f"progress_{row.indicator}"] = dg.MetadataValue.float(round(row.progress, 2))
    return metadata
