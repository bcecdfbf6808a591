"""Inputs of the review cycle: submitted workbooks (月度填报), the annual target lists (年度目标清单)
and the enterprise/institution registry (登记库), each landed in the warehouse with provenance."""


import dagster as dg
import pandas as pd

from kj_pipelines.core.periods import last_complete_month, months_between
from kj_pipelines.core.settings import now_local
from kj_pipelines.defs.metadata import markdown_table
from kj_pipelines.defs.resources import KJDataResource, WarehouseResource
from kj_pipelines.indicators.service import indicator_values_for
from kj_pipelines.intake.inbox import ingest_pending
from kj_pipelines.intake.registry import RegistryUnavailable, read_registry, registry_values
from kj_pipelines.intake.targets import read_target_lists, target_findings
from kj_pipelines.storage.warehouse import ensure_schema, in_list, replace_rows


@dg.asset(
    group_name="ingestion",
    deps=["work_plans"],
    description="月度填报入库：读取 inbox/ 中新提交的填报表（按SHA-256只读一次），合格行入库并保留来源，"
                "不合格单元格进入隔离表 quarantine.rejections，文件移至 archive/。任务进展、项目进展和问题清单三张表按当年清单和问题台账校验后入库。",
    kinds={"duckdb", "excel"},
)
def submission_inbox(context: dg.AssetExecutionContext, kj_data: KJDataResource,
                     warehouse: WarehouseResource) -> dg.MaterializeResult:
    paths, catalog = kj_data.paths, kj_data.catalog()
    paths.ensure()
    with warehouse.get_connection() as conn:
        report = ingest_pending(paths, catalog, conn, now_local())
    files = pd.DataFrame([{"文件": r.file, "状态": r.status, "读取行": r.rows_read,
                           "接受行": r.rows_accepted, "问题数": len(r.rejections)}
                          for r in report.results])
    rejections = pd.DataFrame(
        [{"文件": r.file, "行": rej.row, "列": rej.column, "原因": rej.reason_code,
          "说明": rej.message} for r in report.results for rej in r.rejections])
    for r in report.results:
        if r.status != "accepted":
            context.log.warning(f"{r.file}: {r.status}, {len(r.rejections)} 个问题")
    for name, why, where in report.quarantined:
        context.log.warning(f"{name}: 已隔离，{why}（{where}）")
    return dg.MaterializeResult(metadata={
        "files_read": len(report.results),
        "files_already_seen": len(report.already_seen),
        "files_quarantined": len(report.quarantined),
        "files_still_being_written": ", ".join(report.waiting) or "—",
        "quarantined": markdown_table(pd.DataFrame(report.quarantined,
                                                   columns=["文件", "原因", "现在位置"])),
        "rows_read": int(sum(r.rows_read for r in report.results)),
        "rows_accepted": int(sum(r.rows_accepted for r in report.results)),
        "rows_rejected": int(sum(r.rows_read - r.rows_accepted for r in report.results)),
        "periods_touched": ", ".join(report.periods[-24:]) or "—",
        "files": markdown_table(files.sort_values("状态") if not files.empty else files),
        "rejections": markdown_table(rejections),
    })


@dg.asset(
    group_name="ingestion",
    # after the month's workbooks: a target written against last year (增长20%以上) is checked
    # against the figures they bring (a region's catch-up history)
    deps=["submission_inbox"],
    description="年度目标清单：读取 plans/<年份>/ 下局里下达的各指标、各单位年度目标（Excel），"
                "识别“≥850、850家以上、力争900、增长20%以上、翻一番、百名”等写法，"
                "校验后写入 core.annual_targets；读不懂的目标、缺基数的增长目标由检查“目标均可识别”逐格列出。",
    kinds={"duckdb", "excel"},
    check_specs=[dg.AssetCheckSpec(
        "targets_readable", asset="annual_targets",
        description="目标均可识别：清单每一行都读出了目标值（写法可识别、代码在目录中、按上年增长的目标有基数）；"
                    "不通过时逐格列出文件、行和原文。不阻断后续计算：其余目标照常使用。")],
)
def annual_targets(context: dg.AssetExecutionContext, kj_data: KJDataResource,
                   warehouse: WarehouseResource) -> dg.MaterializeResult:
    paths, catalog = kj_data.paths, kj_data.catalog()
    lists = read_target_lists(paths.plans, catalog)
    with warehouse.get_connection() as conn:
        ensure_schema(conn)
        replace_rows(conn, "core.annual_targets", lists.targets, "TRUE")
        findings = target_findings(lists, catalog, _last_year_figures(conn, catalog, lists))
    # their rows go to quarantine.rejections through work_plans, the one writer of plans/ rejections
    for row in findings.itertuples(index=False):
        context.log.error(f"{row.文件} {row.工作表} 第{row.行}行 {row.列}“{row.内容}”：{row.问题}")
    per_year = lists.targets.groupby("year").size()
    check = dg.AssetCheckResult(
        check_name="targets_readable", passed=findings.empty,
        severity=dg.AssetCheckSeverity.ERROR,
        description=("清单每一行都读出了目标值" if findings.empty else
                     f"{len(findings)}个目标未能读出：{findings.iloc[0]['文件']} 第"
                     f"{findings.iloc[0]['行']}行“{findings.iloc[0]['内容']}”等"),
        metadata={"unreadable": len(findings), "cells": markdown_table(findings)})
    return dg.MaterializeResult(check_results=[check], metadata={
        "targets": len(lists.targets),
        "years": ", ".join(str(y) for y in per_year.index),
        "rows_rejected": len(lists.rejections),
        "unreadable": markdown_table(findings),
        "per_year": markdown_table(per_year.rename("目标数").reset_index().rename(
            columns={"year": "年度"})),
    })


def _last_year_figures(conn, catalog, lists) -> dict[tuple[str, int], dict[str, float]]:
    """For each indicator and year with a relative target lacking its 上年基数: last December's
    figures of the units (computed from the facts as the indicator's run would)."""
    targets = lists.targets
    if targets.empty:
        return {}
    waiting = targets[targets["base_factor"].notna() & targets["target"].isna()]
    out = {}
    for (code, year), _ in waiting.groupby(["indicator", "year"]):
        values = indicator_values_for(conn, catalog.indicators[code], catalog,
                                      [f"{int(year) - 1:04d}-12"])
        values = values[values["value"].notna()]
        out[(code, int(year))] = dict(zip(values["unit"].astype(str), values["value"],
                                          strict=True))
    return out


@dg.asset(
    group_name="ingestion",
    description="登记库指标：通过SQLAlchemy读取企业/机构登记库（高企认定与到期、科技型中小企业、"
                "研发机构、院士工作站与博士创新站），逐月计算各单位的登记库指标，不经手工填报。",
    kinds={"duckdb", "sql"},
)
def registry_snapshot(kj_data: KJDataResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    paths, catalog = kj_data.paths, kj_data.catalog()
    rules = {c: i.registry_rule for c, i in catalog.indicators.items() if i.registry_rule}
    try:
        tables = read_registry(paths.source_db_url(), catalog.registry)
    except RegistryUnavailable as exc:
        # a region without a registry still runs: its registry-fed indicators show grey
        return dg.MaterializeResult(metadata={
            "registry": f"未配置或不可用（{exc}）；登记库指标本期无数据，显示为缺报",
            "rows": 0, "indicators_without_registry": ", ".join(sorted(rules)) or "—"})
    units = {c: [u.code for u in catalog.reporting_units(catalog.indicators[c])] for c in rules}
    periods = list(months_between(catalog.first_period, last_complete_month(now_local().date())))
    values = registry_values(tables, rules, units, periods)
    computed = sorted(set(values["indicator"]))
    with warehouse.get_connection() as conn:
        ensure_schema(conn)
        where, params = in_list("indicator", computed)
        replace_rows(conn, "core.registry_values", values, where, params)
    last = values[values["period"] == periods[-1]]
    # flows carry the month's amount in value and the year to date in cumulative
    level = last["cumulative"].where(last["cumulative"].notna(), last["value"])
    latest = level.groupby(last["indicator"]).sum()
    return dg.MaterializeResult(metadata={
        "registry": f"已读取 {len(tables)} 张登记表",
        "rows": len(values),
        "through": periods[-1],
        "enterprises": len(tables.get("enterprises", ())),
        "indicators_without_registry": ", ".join(sorted(set(rules) - set(computed))) or "—",
        "latest_district": markdown_table(latest.rename(catalog.top_label).reset_index()),
    })
