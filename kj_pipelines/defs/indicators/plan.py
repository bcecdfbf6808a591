"""年度主要指标进度表: every annual target back-scheduled by month and quarter (倒排工期), and, each
month, the distance still to go to each multi-year goal (到2027年目标)."""


import dagster as dg

from kj_pipelines.catalog.model import DISTRICT, Catalog
from kj_pipelines.defs.indicators.assets import indicator_key
from kj_pipelines.defs.metadata import markdown_table, partitioned_result
from kj_pipelines.defs.partitions import monthly_partitions, yearly_partitions
from kj_pipelines.defs.resources import KJDataResource, WarehouseResource
from kj_pipelines.indicators.goals import goal_distance
from kj_pipelines.indicators.service import run_plan
from kj_pipelines.storage.warehouse import query, replace_rows


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
    goals = distance.assign(指标=[catalog.indicators[c].name for c in distance["indicator"]])
    metadata: dict[str, object] = {
        "period": period,
        "goals": len(distance),
        "table": markdown_table(goals[["指标", "goal_year", "goal", "as_of", "latest", "remaining",
                                       "progress"]].rename(columns={
            "goal_year": "目标年", "goal": "目标值", "as_of": "截至", "latest": "最新值",
            "remaining": "剩余差距", "progress": "进程%"})),
    }
    for row in distance.itertuples(index=False):
        if row.progress is not None and row.progress == row.progress:
            metadata[f"progress_{row.indicator}"] = dg.MetadataValue.float(round(row.progress, 2))
    return metadata
