"""One asset per catalog indicator (key ``["indicator", code]``): the month's values per unit and
for the district, its progress against the back-scheduled plan, and three checks.

Generated from the catalog by :func:`build_indicator_assets`; adding an indicator is a YAML edit.
"""


import dagster as dg
import numpy as np
import pandas as pd

from kj_pipelines.catalog.model import DISTRICT, Catalog, Indicator, derived_inputs
from kj_pipelines.core.keys import mapped
from kj_pipelines.core.numbers import as_number
from kj_pipelines.core.settings import now_local
from kj_pipelines.defs.metadata import (
    glance,
    markdown_rows,
    markdown_table,
    partitioned_result,
    records,
)
from kj_pipelines.defs.partitions import monthly_partitions
from kj_pipelines.defs.resources import KJDataResource, WarehouseResource
from kj_pipelines.indicators.service import IndicatorRun, run_indicator
from kj_pipelines.indicators.status import (
    STATUS_ORDER,
    is_incomplete,
    status_rule,
    status_with_estimate,
    worst_first,
)

KIND_LABEL = {"flow": "流量（年内累计）", "stock": "存量（期末数）", "ratio": "比重/水平", "growth": "同比增速"}
SOURCE_LABEL = {"submission": "单位月度填报", "registry": "登记库自动计算", "derived": "由其他指标派生"}
FREQUENCY_LABEL = {"monthly": "月度", "quarterly": "季度", "annual": "年度"}
PROFILE_LABEL = {"linear": "按月均衡", "workdays": "按法定工作日", "seasonal": "按近三年季节规律",
                 "milestones": "按时间节点（如时间过半任务过半）", "batch": "按批次公布月份"}


def indicator_key(code: str) -> dg.AssetKey:
    return dg.AssetKey(["indicator", code])


def describe(ind: Indicator, catalog: Catalog) -> str:
    lines = [f"**{ind.name}**（{ind.measure}）", "", ind.definition or "",
             "", f"- 类型：{KIND_LABEL[ind.kind]}；方向：{'越高越好' if ind.direction == 'higher' else '越低越好'}",
             f"- 来源：{SOURCE_LABEL[ind.source]}；频度：{FREQUENCY_LABEL[ind.frequency]}"
             + (f"，滞后{ind.release_lag}个月" if ind.release_lag else ""),
             f"- 责任部门：{catalog.units[ind.department].name}；所属行动：{catalog.actions[ind.action].name}",
             f"- 倒排方式：{PROFILE_LABEL[ind.profile]}；预警阈值：落后计划{ind.yellow:g}个百分点黄、{ind.red:g}个百分点红"]
    if ind.aggregate == "ratio":
        lines.append(f"- 计算：{catalog.indicators[ind.numerator].name} ÷ "
                     f"{catalog.indicators[ind.denominator].name}")
    if ind.aggregate == "growth":
        lines.append(f"- 计算：{catalog.indicators[ind.base].name}较上年同期增长")
    return "\n".join(lines)


def progress_table(progress: "pd.DataFrame", catalog: Catalog) -> "pd.DataFrame":
    rows = worst_first(progress)
    return pd.DataFrame({
        "状态": [status_with_estimate(*r, mark=True) for r in zip(
            rows["status"], rows["missing_units"], rows["estimate_status"], strict=True)],
        "单位": [catalog.level_label(u) for u in rows["unit"]],
        "层级": [catalog.kind_name(u) for u in rows["unit"]],
        "实际": rows["actual"].to_numpy(), "计划": rows["planned"].to_numpy(),
        "年度目标": rows["target"].to_numpy(), "完成率%": rows["completion"].to_numpy(),
        "计划进度%": rows["planned_share"].to_numpy(), "差距(百分点)": rows["gap"].to_numpy()})


def build_indicator_asset(ind: Indicator, catalog: Catalog) -> dg.AssetsDefinition:
    key = indicator_key(ind.code)
    upstream: list[dg.AssetKey | str] = ["annual_targets"]
    if ind.source == "submission":
        upstream.append("submission_inbox")
    elif ind.source == "registry":
        upstream.append("registry_snapshot")
    upstream += [indicator_key(c) for c in derived_inputs(ind)]
    checks = [
        dg.AssetCheckSpec("values_consistent", asset=key, blocking=True,
                          description="数据完整性：同一单位同月只有一个值、均为有限数、合计等于下级之和；"
                                      "不满足时指标整体不可用，下游不再计算"),
        dg.AssetCheckSpec("values_plausible", asset=key,
                          description="数值合理性：流量累计值不应回落，环比不应超过设定倍数，比重在合理范围内；"
                                      "不合理的数暂扣（视同未报），告知单位，其余照常计算；"
                                      "科技局可用 kj accept 确认纳入"),
        dg.AssetCheckSpec("submissions_complete", asset=key,
                          description="报送完整性：截止日后仍未报送的单位"),
        dg.AssetCheckSpec("on_schedule", asset=key,
                          description=f"进度：落后倒排计划（黄/红）的单位；判灯：差距{status_rule(ind)}"),
    ]

    @dg.asset(
        key=key,
        description=describe(ind, catalog),
        group_name=ind.action,
        partitions_def=monthly_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        deps=upstream,
        check_specs=checks,
        kinds={"duckdb"},
        tags={"frequency": ind.frequency, "source": ind.source},
        metadata={"计量单位": ind.measure, "责任部门": catalog.units[ind.department].name,
                  "判灯规则": f"差距{status_rule(ind)}（差距＝完成率−计划进度，百分点；"
                          "完成年度目标为“完成”；缺报不评灯）"},
    )
    def _indicator(context: dg.AssetExecutionContext, kj_data: KJDataResource,
                   warehouse: WarehouseResource) -> dg.MaterializeResult:
        fresh = kj_data.catalog()
        periods = list(context.partition_keys)
        with warehouse.get_connection() as conn:
            run = run_indicator(conn, fresh, ind.code, periods, now_local().date())
        return indicator_result(context, run, fresh, ind, periods)

    return _indicator


VALUE_COLUMNS = ["单位", "层级", "本期值", "累计/期末"]
GLANCE_COLUMNS = ["状态", "单位", "完成率%", "计划进度%", "差距"]
# narrow enough for the asset page's panel (with 层级 and 年度目标 as well, unit names wrapped a
# character a line): the kind is in `values`, the year's target in the plots
PROGRESS_COLUMNS = ["状态", "单位", "实际", "计划", "完成率%", "计划进度%", "差距"]


def partitions_metadata(run: IndicatorRun, catalog: Catalog, ind: Indicator,
                        periods: list[str]) -> dict[str, dict[str, object]]:
    """Each month's metadata. A backfill builds this for every month of every indicator (a
    province's: 1,900 units a month), so the rows are ordered and counted by month on arrays,
    and only the rows a table shows become records."""
    totals = {DISTRICT, *catalog.rollup_units(ind)}  # figures summed from the units below
    order = {code: i for i, code in enumerate(catalog.units)}
    values, progress = run.values, run.progress
    value_month, months = pd.factorize(values["period"])
    value_counts = dict(zip(months, np.bincount(value_month, minlength=len(months)),
                            strict=True))
    reported = dict(zip(months, np.bincount(value_month, weights=~values["unit"].isin(
        list(totals)).to_numpy(), minlength=len(months)), strict=True))
    is_top = values["unit"].eq(DISTRICT).to_numpy()
    # the top's line plots its estimate: while units are missing, their latest figures carried
    # forward, not a partial sum that collapses (the sum reported so far is given beside it)
    district = dict(zip(values["period"].to_numpy()[is_top],
                        values["estimate"].to_numpy()[is_top], strict=True))
    reported_sum = dict(zip(values["period"].to_numpy()[is_top],
                            values["value"].to_numpy()[is_top], strict=True))
    shown = _records_by_period(values, _first_rows(
        [value_month, is_top, mapped(values["unit"], order, len(order))]))

    status_rank = progress["status"].map(STATUS_ORDER).to_numpy()
    gap = progress["gap"].to_numpy(dtype="float64")
    progress_month, progress_months = pd.factorize(progress["period"])
    worst = _records_by_period(progress, _first_rows(
        [progress_month, status_rank, np.isnan(gap), np.nan_to_num(gap)]))
    progress_counts = dict(zip(progress_months, np.bincount(progress_month), strict=True))
    below = progress[progress["unit"] != DISTRICT]
    status_counts = below.groupby(["period", "status"], observed=True).size().to_dict()
    top_rows = progress[progress["unit"] == DISTRICT].drop_duplicates("period")
    top = {r["period"]: r for r in records(top_rows)}
    projected = _projections_by_period(run.projections, catalog)
    labels = plot_labels(catalog.top_label)
    # the measure said once above each table (in every figure's header it made the columns
    # too wide for the panel: unit names wrapped a character a line)
    measure = f"计量单位：{ind.measure}；差距为百分点\n\n"
    out = {}
    for p in periods:
        metadata: dict[str, object] = {
            "period": p,
            # the units furthest behind, shown without a click; the whole table below
            "落后单位": glance(GLANCE_COLUMNS, [
                (status_with_estimate(r["status"], r["missing_units"], r["estimate_status"],
                                      mark=True), catalog.unit_name(r["unit"]),
                 _judged(r)[0], r["planned_share"], _judged(r)[1]) for r in worst.get(p, [])],
                total=int(progress_counts.get(p, 0)), full="progress"),
            "units_reported": int(reported.get(p, 0)),
            "values": _with_intro(measure, markdown_rows(VALUE_COLUMNS, [
                (catalog.level_label(r["unit"]), catalog.kind_name(r["unit"]), r["monthly"],
                 r["value"]) for r in shown.get(p, [])], total=int(value_counts.get(p, 0)),
                max_rows=SHOWN_ROWS)),
            "progress": _with_intro(measure, markdown_rows(PROGRESS_COLUMNS, [
                (status_with_estimate(r["status"], r["missing_units"], r["estimate_status"],
                                      mark=True), catalog.level_label(r["unit"]),
                 r["actual"], r["planned"], r["completion"], r["planned_share"], r["gap"])
                for r in worst.get(p, [])],
                total=int(progress_counts.get(p, 0)), max_rows=SHOWN_ROWS)),
            **{f"{status}_units": int(status_counts.get((p, status), 0))
               for status in ("red", "yellow", "grey")},
        }
        if p in district and as_number(district[p]) is not None:
            metadata["district_value"] = dg.MetadataValue.float(float(district[p]))
        if p in top:
            row = top[p]
            waiting = is_incomplete(row["status"], row["missing_units"])
            # while units are missing, the top's completion and gap are its estimate's, named so
            figures = {"completion": row["estimate_completion"], "gap": row["estimate_gap"]} \
                if waiting else {"completion": row["completion"], "gap": row["gap"]}
            for name, figure in (("planned", row["planned"]), ("target", row["target"]),
                                 ("planned_share", row["planned_share"]), *figures.items()):
                if as_number(figure) is not None:
                    metadata[f"district_{name}"] = dg.MetadataValue.float(
                        round(float(figure), 4))
            metadata["district_status"] = status_with_estimate(
                row["status"], row["missing_units"], row["estimate_status"], mark=True)
            metadata["district_missing_units"] = int(row["missing_units"])
            if waiting:
                metadata["district_missing"] = "、".join(
                    catalog.unit_name(u) for u in str(row["missing_list"]).split(","))
                metadata["district_value_basis"] = (
                    f"估算：已报{catalog.top_label}合计"
                    f"{float(reported_sum[p]):,.2f}，缺报单位按最近一期数结转")
                metadata["district_reported_sum"] = dg.MetadataValue.float(
                    float(reported_sum[p]))
        if p in projected:
            metadata.update(projected[p])
        out[p] = {labels.get(k, k): v for k, v in metadata.items()}
    return out


def _judged(row: dict) -> tuple[object, object]:
    """(completion, gap) a row's status is read with: a total still waiting for its units, its
    estimate's (its label says 估算), not its partial sum's."""
    if is_incomplete(row["status"], row["missing_units"]):
        return row["estimate_completion"], row["estimate_gap"]
    return row["completion"], row["gap"]


def plot_labels(top: str) -> dict[str, str]:
    """The numbers the UI plots across months, named as the ops team reads them (the key is
    the plot's label, and the plots are listed by it: the top's figures together)."""
    return {
        "district_value": f"{top}·实际（缺报按上期结转）", "district_planned": f"{top}·计划",
        "district_target": f"{top}·年度目标", "district_completion": f"{top}·完成率%",
        "district_planned_share": f"{top}·计划进度%", "district_gap": f"{top}·差距（百分点）",
        "district_missing_units": f"{top}·缺报下级单位数",
        "district_reported_sum": f"{top}·已报合计", "district_projected": f"{top}·预计年末",
        "district_band_low": f"{top}·预计年末区间下限",
        "district_band_high": f"{top}·预计年末区间上限",
        "district_projected_completion": f"{top}·预计完成率%",
        "units_reported": "已报单位数", "red_units": "红灯单位数", "yellow_units": "黄灯单位数",
        "grey_units": "缺报单位数", "projected_miss_units": f"预计完不成目标单位数（确认，不含{top}）"}


PROJECTION_TABLE = ["单位", "实际", "预计年末", "区间", "按近三月进度", "年度目标", "预计完成率%",
                    "还需月均", "窗口"]


def _projections_by_period(projections: "pd.DataFrame", catalog: Catalog
                           ) -> dict[str, dict[str, object]]:
    """预判预警 per month: the top's projected year end and its band (plotted beside the plan),
    and the units whose projection is short of the target, worst first."""
    if projections.empty:
        return {}
    out: dict[str, dict[str, object]] = {}
    short = projections[projections["fast"].astype(bool) | projections["slow"].astype(bool)]
    short = short.sort_values(["period", "shortfall"], ascending=[True, False])
    rows_of = _records_by_period(short, _first_rows([pd.factorize(short["period"])[0]]))
    confirmed = projections[projections["confirmed"].astype(bool)
                            & (projections["unit"] != DISTRICT)]
    confirmed_counts = confirmed.groupby("period", observed=True).size().to_dict()
    top = {r["period"]: r for r in records(projections[projections["unit"] == DISTRICT])}
    for period in set(projections["period"]):
        rows = rows_of.get(period, [])
        confirmed_n = int(confirmed_counts.get(period, 0))
        # the table lists every unit one window finds short, the count only those confirmed
        intro = (f"确认预计完不成{confirmed_n}家（快、慢两个窗口均低于目标，不含{catalog.top_label}）；"
                 f"下表{len(rows)}行列出任一窗口低于目标的单位（含{catalog.top_label}），"
                 "“窗口”列说明是否确认。\n\n")
        metadata: dict[str, object] = {
            "projected_miss_units": confirmed_n,
            "projection": _with_intro(intro, markdown_rows(PROJECTION_TABLE, [
                (catalog.level_label(r["unit"]), r["actual"], r["projected_seasonal"],
                 f"{r['band_low']:,.2f}–{r['band_high']:,.2f}", r["projected_pace"], r["target"],
                 r["projected_completion"], r["needed_monthly"],
                 _window(r))
                for r in rows], max_rows=SHOWN_ROWS))
            if rows else dg.MetadataValue.md("（各单位预计年末均可完成目标）"),
        }
        if period in top:
            row = top[period]
            for name in ("projected", "band_low", "band_high", "projected_completion"):
                if as_number(row[name]) is not None:
                    metadata[f"district_{name}"] = dg.MetadataValue.float(
                        round(float(row[name]), 4))
        out[period] = metadata
    return out


def _with_intro(intro: str, table: dg.MetadataValue) -> dg.MetadataValue:
    return dg.MetadataValue.md(intro + table.md_str)


def _window(row: dict) -> str:
    """Which of the two windows say the unit is short (and, for a total, why a shortfall on
    both is not a confirmed miss: none of the units summed into it is confirmed short)."""
    if row["confirmed"]:
        return "快慢均确认"
    if row["fast"] and row["slow"]:
        return "快慢均低于目标，但下属单位均未确认落后"
    return "仅本月" if row["fast"] else "仅近三月"


def _first_rows(keys: list["np.ndarray"], limit: int | None = None) -> "np.ndarray":
    """Positions of the first ``limit`` rows of each group, ordered by ``keys`` (the group
    first, then the order within it; a stable sort keeps the rows' own order on ties)."""
    limit = SHOWN_ROWS if limit is None else limit
    if not len(keys[0]):
        return np.zeros(0, dtype="int64")
    ordered = np.lexsort(keys[::-1])
    group = keys[0][ordered]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    rank = np.arange(len(ordered)) - np.repeat(starts, np.diff(np.r_[starts, len(ordered)]))
    return ordered[rank < limit]


SHOWN_ROWS = 40  # rows of a month's table in the UI (the rest are in the warehouse)


def _records_by_period(frame: "pd.DataFrame", positions: "np.ndarray") -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in records(frame.iloc[positions]):
        out.setdefault(r["period"], []).append(r)
    return out


def indicator_result(context: dg.AssetExecutionContext, run: IndicatorRun, catalog: Catalog,
                     ind: Indicator, periods: list[str]) -> dg.MaterializeResult:
    """Each month of the run gets its own metadata (the plots show the month-by-month
    trajectory); the checks judge every month of the run."""
    key = indicator_key(ind.code)

    progress = run.progress[run.progress["period"].isin(periods)]
    behind = progress[progress["status"].isin(["yellow", "red"])]
    missing_rows = [{"报告期": p, "单位": catalog.unit_name(u)} for p, units in run.missing.items()
                    for u in units]
    problems = run.implausible.assign(
        单位=[catalog.unit_name(u) for u in run.implausible["unit"]],
        处理=["暂扣" if h else "未暂扣（登记库）" for h in run.implausible["held"]])
    for r in problems.itertuples(index=False):  # the reasons in the run's log, not only the UI
        context.log.warning(f"{key.to_user_string()} {r.period} {r.单位}：{r.reason}；{r.处理}。"
                            f"{r.advice}")
    for fault in run.inconsistent:
        context.log.error(f"{key.to_user_string()}：{fault}")
    worst_behind = worst_first(behind).head(SHOWN_ROWS)  # a province's range: 100,000 rows
    behind_table = progress_table(worst_behind, catalog)
    behind_table.insert(0, "报告期", worst_behind["period"].to_numpy())
    check_results = [
        dg.AssetCheckResult(
            check_name="values_consistent", asset_key=key, passed=not run.inconsistent,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"faults": len(run.inconsistent),
                      "details": "；".join(run.inconsistent) or "—"}),
        dg.AssetCheckResult(
            check_name="values_plausible", asset_key=key, passed=run.implausible.empty,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"held": int(run.implausible["held"].astype(bool).sum()),
                      "details": markdown_table(problems.rename(columns={
                          "period": "报告期", "value": "数值", "reason": "原因"})[
                          ["报告期", "单位", "数值", "原因", "处理"]]),
                      "what_to_do": "单位核实后重报更正表；数据属实的，科技局执行 kj accept --indicator "
                                    f"{ind.code} --unit <单位代码> --period <报告期> --reason <理由> "
                                    "确认纳入，该月随即重算"}),
        dg.AssetCheckResult(
            check_name="submissions_complete", asset_key=key, passed=not missing_rows,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"missing": len(missing_rows),
                      "units": markdown_table(pd.DataFrame(missing_rows, columns=["报告期", "单位"]))}),
        dg.AssetCheckResult(
            check_name="on_schedule", asset_key=key, passed=behind.empty,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"periods": f"{periods[0]}…{periods[-1]}" if len(periods) > 1 else periods[0],
                      "behind": len(behind),
                      "periods_behind": ", ".join(sorted(set(behind["period"]))) or "—",
                      "units": markdown_table(behind_table, total=len(behind))}),
    ]
    per_period = partitions_metadata(run, catalog, ind, periods)
    if ind.source == "registry":
        computed = set(run.values["period"])
        for period, metadata in per_period.items():
            if period not in computed:
                metadata["registry"] = "登记库未配置或本期无数据：本指标显示为缺报"
    return partitioned_result(context, per_period, check_results=check_results)


def build_indicator_assets(catalog: Catalog) -> list[dg.AssetsDefinition]:
    return [build_indicator_asset(ind, catalog) for ind in catalog.topological_indicators()]
