"""年度主要指标进度表: every annual target back-scheduled by month and quarter (倒排工期), and the
distance still to go to each multi-year goal (到2027年目标)."""


import dagster as dg
from dagster_duckdb import DuckDBResource

from kj_pipelines.assets.common import WAREHOUSE_POOL, markdown_table
from kj_pipelines.domain.catalog import DISTRICT
from kj_pipelines.domain.goals import goal_distance
from kj_pipelines.domain.periods import last_complete_month
from kj_pipelines.partitions import yearly_partitions
from kj_pipelines.pipeline import run_plan
from kj_pipelines.resources import KJDataResource
from kj_pipelines.settings import now_local
from kj_pipelines.warehouse import query, replace_rows


@dg.asset(
    group_name="plan",
    partitions_def=yearly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=["annual_targets", "submission_inbox", "registry_snapshot"],
    pool=WAREHOUSE_POOL,
    kinds={"duckdb"},
    description="年度主要指标进度表：按指标、单位将年度目标倒排分解到季度和月度（线性、工作日、季节性、"
                "节点、批次等方式），多年目标未列入年度清单的按基期至目标年均匀分解；并给出距2027年目标的剩余差距。",
)
def indicator_plan(context: dg.AssetExecutionContext, kj_data: KJDataResource,
                   warehouse: DuckDBResource) -> dg.MaterializeResult:
    catalog = kj_data.catalog()
    years = [int(k) for k in context.partition_keys]
    as_of = last_complete_month(now_local().date())
    with warehouse.get_connection() as conn:
        plan = run_plan(conn, catalog, years)
        flows = [c for c, i in catalog.indicators.items() if i.kind == "flow"]
        # a flow's goal is a full year's amount: measure it on the last complete year
        latest = query(conn, """
            SELECT indicator, unit, period, value FROM mart.indicator_values
            WHERE unit = ? AND period <= ?
              AND (indicator NOT IN (SELECT unnest(?::VARCHAR[])) OR period LIKE '%-12')
            QUALIFY row_number() OVER (PARTITION BY indicator ORDER BY period DESC) = 1""",
                       [DISTRICT, as_of, flows])
        distance = goal_distance(catalog.goals, latest)
        replace_rows(conn, "mart.goal_distance", distance, "TRUE", allow_empty=True)
    district = plan[(plan["unit"] == DISTRICT) & plan["month"].isin([3, 6, 9, 12])]
    year = years[-1]
    quarter_view = district[district["year"] == year].pivot_table(
        index="indicator", columns="quarter", values="planned", aggfunc="first")
    quarter_view.columns = [f"Q{q}" for q in quarter_view.columns]
    quarter_view = quarter_view.reset_index()
    quarter_view.insert(1, "指标", [catalog.indicators[c].name for c in quarter_view["indicator"]])
    goals = distance.assign(指标=[catalog.indicators[c].name for c in distance["indicator"]])
    return dg.MaterializeResult(metadata={
        "rows": len(plan),
        "indicators_planned": int(plan["indicator"].nunique()),
        "units_planned": int(plan["unit"].nunique()),
        "targets_from_goals": int((plan["target_source"] == "goal").sum() // 12),
        "district_quarters": markdown_table(quarter_view),
        "goal_distance": markdown_table(goals[["指标", "goal_year", "goal", "as_of", "latest",
                                               "remaining", "progress"]]),
    })
