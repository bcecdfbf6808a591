"""Inputs of the review cycle: submitted workbooks (月度填报), the annual target lists (年度目标清单)
and the enterprise/institution registry (登记库), each landed in the warehouse with provenance."""


import dagster as dg
import pandas as pd

from kj_pipelines.core.periods import last_complete_month, months_between
from kj_pipelines.core.settings import now_local
from kj_pipelines.defs.metadata import markdown_table
from kj_pipelines.defs.resources import KJDataResource, WarehouseResource
from kj_pipelines.intake.inbox import ingest_pending
from kj_pipelines.intake.registry import RegistryUnavailable, read_registry, registry_values
from kj_pipelines.intake.targets import read_target_lists
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
    description="年度目标清单：读取 plans/<年份>/ 下局里下达的各指标、各单位年度目标（Excel），"
                "校验后写入 core.annual_targets；问题行进入隔离表。",
    kinds={"duckdb", "excel"},
)
def annual_targets(kj_data: KJDataResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    paths, catalog = kj_data.paths, kj_data.catalog()
    lists = read_target_lists(paths.plans, catalog)
    rejected = pd.DataFrame(
        [(file, r.row, r.column, r.reason_code, r.message)
         for file, _, r in lists.rejections],
        columns=["source_file", "row", "column", "reason_code", "message"])
    with warehouse.get_connection() as conn:
        ensure_schema(conn)
        replace_rows(conn, "core.annual_targets", lists.targets, "TRUE")
    # their rows go to quarantine.rejections through work_plans, the one writer of plans/ rejections
    per_year = lists.targets.groupby("year").size()
    return dg.MaterializeResult(metadata={
        "targets": len(lists.targets),
        "years": ", ".join(str(y) for y in per_year.index),
        "rows_rejected": len(rejected),
        "rejections": markdown_table(rejected),
        "per_year": markdown_table(per_year.rename("目标数").reset_index().rename(
            columns={"year": "年度"})),
    })


@dg.asset(
    group_name="ingestion",
    description="登记库指标：通过SQLAlchemy读取企业/机构登记库（高企认定与到期、科技型中小企业、"
                "研发机构、院士工作站与博士创新站），逐月计算各镇街的登记库指标，不经手工填报。",
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
