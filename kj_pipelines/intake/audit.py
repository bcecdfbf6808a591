"""Where a stored figure comes from (``kj audit``): the chain from an indicator's value for a
unit and month down to every source cell (file, SHA-256, sheet, row, column) or registry record,
with the submissions each cell replaced.

The chain follows :func:`kj_pipelines.indicators.values.compute_values` step by step — a total
is the sum of the units below it, a ratio its numerator over its denominator, a growth rate this
year over last, a flow's year to date the submitted 累计值 or the sum of the year's 本期值 — and
recomputes the figure from the sources, so a stored figure that no longer matches them is named.
Plain Python over frames; :func:`audit` only loads them from the warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd

from kj_pipelines.catalog.model import Catalog, Indicator
from kj_pipelines.core.numbers import as_number
from kj_pipelines.core.periods import TIMEZONE, add_months, parse_month
from kj_pipelines.indicators.acceptance import acceptances_of
from kj_pipelines.indicators.status import is_incomplete, status_label
from kj_pipelines.intake.registry import counted_records
from kj_pipelines.storage.warehouse import in_list, query

COLUMN_NAME = {"value": "本期值", "cumulative": "累计值"}
TOLERANCE = 1e-6


@dataclass
class SourceCell:
    """One submitted cell, as stored: where it was read and when it arrived."""

    unit: str
    period: str
    column: str  # 本期值 / 累计值
    value: float
    file: str
    sha256: str
    archived_as: str | None
    sheet: str
    row: int
    cell: str  # "G8", or the column header for rows stored before column letters were kept
    submitted_at: str
    received_at: str
    replaced_by: str | None = None  # the file whose row took its place
    replaced_at: str | None = None


@dataclass
class Trace:
    """A figure and how it is made: from ``parts`` (other figures) or from ``cells``/``records``
    (the sources)."""

    indicator: str
    unit: str
    period: str
    value: float | None
    how: str
    parts: list[Trace] = field(default_factory=list)
    cells: list[SourceCell] = field(default_factory=list)
    replaced: list[SourceCell] = field(default_factory=list)  # earlier versions, newest first
    records: list[dict[str, Any]] = field(default_factory=list)  # registry records counted
    note: str = ""


@dataclass
class Audit:
    indicator: str
    unit: str
    period: str
    stored: float | None
    stored_at: str | None
    progress: dict[str, Any] | None
    target_source: str | None
    trace: Trace
    mismatch: bool
    accepted: list[dict[str, Any]] = field(default_factory=list)  # kj accept, newest first


class Sources:
    """Every submitted version and registry figure the chain may need, loaded once."""

    def __init__(self, versions: pd.DataFrame, registry: pd.DataFrame,
                 registry_tables: dict[str, pd.DataFrame] | None = None,
                 held: pd.DataFrame | None = None) -> None:
        # the figures held back (core.held_figures): left out, as the computation leaves them
        self.held = {} if held is None else {
            (r.indicator, r.unit, r.period): r.reason for r in held.itertuples(index=False)}
        # latest first, as core.submitted_values picks the version a figure is computed from
        order = ["submitted_at", "received_at", "sha256", "row"]
        self.versions = versions.sort_values(order, ascending=False).reset_index(drop=True)
        self.by_key = {k: g for k, g in self.versions.groupby(["unit", "indicator", "period"])}
        self.registry = {(r.unit, r.indicator, r.period): r
                         for r in registry.itertuples(index=False)}
        self.registry_tables = registry_tables

    def versions_of(self, unit: str, indicator: str, period: str) -> pd.DataFrame:
        return self.by_key.get((unit, indicator, period), self.versions.iloc[0:0])

    def submitters(self, indicator: str, period: str) -> list[str]:
        return sorted({u for (u, i, p) in self.by_key if i == indicator and p == period})


def _stamp(x: Any) -> str:
    """A stored time as the bureau reads it: Asia/Shanghai's."""
    if x is None or pd.isna(x):
        return ""
    moment = pd.Timestamp(x)
    if moment.tzinfo is not None:
        moment = moment.tz_convert(TIMEZONE)
    return moment.strftime("%Y-%m-%d %H:%M")


def _cell(row: Any, column: str) -> SourceCell:
    letter = getattr(row, f"{column}_column", None)
    where = f"{letter}{row.row}" if isinstance(letter, str) and letter else COLUMN_NAME[column]
    return SourceCell(unit=row.unit, period=row.period, column=COLUMN_NAME[column],
                      value=float(getattr(row, column)), file=row.source_file, sha256=row.sha256,
                      archived_as=row.archived_as if isinstance(row.archived_as, str) else None,
                      sheet=row.sheet, row=int(row.row), cell=where,
                      submitted_at=_stamp(row.submitted_at), received_at=_stamp(row.received_at))


def _used_column(row: Any, indicator: Indicator) -> str:
    """The column the computation reads from a row: a flow's 累计值 when given (else its 本期值,
    summed over the year), a stock's 本期值 when given (else its 累计值)."""
    if indicator.kind == "flow":
        return "cumulative" if as_number(row.cumulative) is not None else "value"
    return "value" if as_number(row.value) is not None else "cumulative"


def _history(rows: pd.DataFrame, indicator: Indicator) -> list[SourceCell]:
    """The versions a winner replaced, newest first, each with what replaced it."""
    out = []
    listed = list(rows.itertuples(index=False))
    for newer, older in zip(listed, listed[1:], strict=False):
        cell = _cell(older, _used_column(older, indicator))
        cell.replaced_by, cell.replaced_at = newer.source_file, _stamp(newer.received_at)
        out.append(cell)
    return out


def trace(catalog: Catalog, sources: Sources, code: str, unit: str, period: str,
          left_out: frozenset[str] = frozenset()) -> Trace:
    """``left_out``: units a derived figure's total leaves out (its own figure held back)."""
    ind = catalog.indicators[code]
    reason = sources.held.get((code, unit, period))
    if reason is not None:
        return Trace(code, unit, period, None, "暂扣，未纳入统计", note=f"原因：{reason}")
    if ind.source == "derived":
        left_out = left_out | {u for (c, u, p) in sources.held if c == code and p == period}
    if ind.aggregate == "ratio":
        num = trace(catalog, sources, ind.numerator, unit, period, left_out)
        den = trace(catalog, sources, ind.denominator, unit, period, left_out)
        value = num.value / den.value * 100 if num.value is not None and den.value else None
        return Trace(code, unit, period, value, f"{catalog.indicators[ind.numerator].name} ÷ "
                     f"{catalog.indicators[ind.denominator].name} × 100", parts=[num, den])
    if ind.aggregate == "growth":
        now = trace(catalog, sources, ind.base, unit, period, left_out)
        before = trace(catalog, sources, ind.base, unit, add_months(period, -12))
        value = (now.value / before.value - 1) * 100 \
            if now.value is not None and before.value else None
        return Trace(code, unit, period, value,
                     f"（{period}累计 ÷ 上年同期累计 − 1）× 100", parts=[now, before])
    rollups = catalog.rollup_units(ind)
    if ind.aggregate == "sum" and unit in rollups:
        parts = [trace(catalog, sources, code, below, period) for below in rollups[unit]
                 if below not in left_out]
        present = [p.value for p in parts if p.value is not None]
        missing = [catalog.unit_name(p.unit) for p in parts if p.value is None]
        return Trace(code, unit, period, sum(present) if present else None,
                     f"下级{len(parts)}个单位之和", parts=parts,
                     note=f"未报送：{'、'.join(missing)}" if missing else "")
    if ind.source == "registry":
        return _registry_leaf(catalog, sources, ind, unit, period)
    submitter = unit
    if ind.aggregate == "district_only":  # the department's figure is the district's
        found = sources.submitters(code, period)
        submitter = found[0] if found else ind.department
    return _submitted_leaf(sources, ind, unit, submitter, period)


def _submitted_leaf(sources: Sources, ind: Indicator, unit: str, submitter: str,
                    period: str) -> Trace:
    rows = sources.versions_of(submitter, ind.code, period)
    if rows.empty:  # a flow's months before are not this month's figure: a total sums without it
        return Trace(ind.code, unit, period, None, "未报送")
    if not rows.empty:
        winner = next(rows.itertuples(index=False))
        column = _used_column(winner, ind)
        if ind.kind != "flow" or column == "cumulative":
            how = "报送的累计值（年内累计）" if ind.kind == "flow" else \
                ("报送的期末数" if column == "value" else "报送的累计值（期末数）")
            return Trace(ind.code, unit, period, float(getattr(winner, column)), how,
                         cells=[_cell(winner, column)], replaced=_history(rows, ind))
    # a flow without 累计值: the sum of the year's 本期值 up to the month
    cells, replaced = [], []
    for month in [f"{period[:4]}-{m:02d}" for m in range(1, parse_month(period)[1] + 1)]:
        versions = sources.versions_of(submitter, ind.code, month)
        if versions.empty:
            continue
        first = next(versions.itertuples(index=False))
        if as_number(first.value) is not None:
            cells.append(_cell(first, "value"))
        replaced += _history(versions, ind)
    total = sum(c.value for c in cells)
    return Trace(ind.code, unit, period, total if cells else None,
                 f"1月至{parse_month(period)[1]}月本期值之和", cells=cells, replaced=replaced)


def _registry_leaf(catalog: Catalog, sources: Sources, ind: Indicator, unit: str,
                   period: str) -> Trace:
    fact = sources.registry.get((unit, ind.code, period))
    stock = ind.kind != "flow"
    value = None if fact is None else as_number(fact.value if stock else fact.cumulative)
    how = "登记库：月末有效记录数" if stock else "登记库：1月以来新增记录数"
    out = Trace(ind.code, unit, period, value, how)
    if sources.registry_tables is None:
        out.note = "登记库现在无法读取，未列出记录"
        return out
    records, _ = counted_records(sources.registry_tables, ind.registry_rule, unit, period)
    out.records = [{"id": r.id, "start": _day(r.start), "end": _day(r.end)}
                   for r in records.itertuples(index=False)]
    if value is not None and len(records) != value:
        out.note = (f"登记库现有{len(records)}条记录，与计算时的{value:g}不同："
                    "登记库在计算后有变更，重跑该月即更新")
    return out


def _day(x: Any) -> str:
    return "" if x is None or pd.isna(x) else pd.Timestamp(x).date().isoformat()


def leaf_codes(catalog: Catalog, code: str) -> set[str]:
    ind = catalog.indicators[code]
    deps = [c for c in (ind.numerator, ind.denominator, ind.base) if c]
    return {code} if not deps else set().union(*(leaf_codes(catalog, c) for c in deps))


def load_sources(conn: duckdb.DuckDBPyConnection, catalog: Catalog, code: str, period: str,
                 registry_tables: dict[str, pd.DataFrame] | None) -> Sources:
    codes = sorted(leaf_codes(catalog, code))
    where, params = in_list("indicator", codes)
    year = parse_month(period)[0]
    params += [f"{year}-%", f"{year - 1}-%"]  # a growth rate reads the year before
    versions = query(conn, f"""
        SELECT * FROM (SELECT v.*, f.archived_as FROM raw.submission_values v
                       LEFT JOIN raw.submission_files f USING (sha256))
        WHERE {where} AND (period LIKE ? OR period LIKE ?)""", params)
    registry = query(conn, f"SELECT * FROM core.registry_values WHERE {where} "
                           "AND (period LIKE ? OR period LIKE ?)", params)
    where_held, held_params = in_list("indicator", [*codes, code])
    held = query(conn, f"SELECT * FROM core.held_figures WHERE {where_held} "
                       "AND (period LIKE ? OR period LIKE ?)", held_params + params[-2:]) \
        if "core.held_figures" in _tables(conn) else None
    return Sources(versions, registry, registry_tables, held)


def _tables(conn: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in conn.execute(
        "SELECT schema_name || '.' || table_name FROM duckdb_tables()").fetchall()}


def audit(conn: duckdb.DuckDBPyConnection, catalog: Catalog, code: str, unit: str, period: str,
          registry_tables: dict[str, pd.DataFrame] | None = None) -> Audit:
    """The chain behind ``code`` for ``unit`` in ``period``, from the warehouse as it is."""
    progress = query(conn, "SELECT * FROM mart.indicator_progress WHERE indicator = ? AND "
                           "unit = ? AND period = ?", [code, unit, period])
    as_of = period
    if not progress.empty and isinstance(progress["as_of"].iloc[0], str):
        as_of = progress["as_of"].iloc[0]  # a quarterly figure carried between due months
    stored = query(conn, "SELECT value, updated_at FROM mart.indicator_values WHERE "
                         "indicator = ? AND unit = ? AND period = ?", [code, unit, as_of])
    target = query(conn, "SELECT source_file, \"row\", target_text FROM core.annual_targets "
                         "WHERE indicator = ? AND unit = ? AND year = ?",
                   [code, unit, parse_month(period)[0]])
    chain = trace(catalog, load_sources(conn, catalog, code, as_of, registry_tables),
                  code, unit, as_of)
    if as_of != period:
        chain.note = (chain.note + "；" if chain.note else "") + f"{period}沿用{as_of}的数"
    value = as_number(stored["value"].iloc[0]) if not stored.empty else None
    mismatch = (value is None) != (chain.value is None) or (
        value is not None and abs(value - chain.value) > TOLERANCE * max(1.0, abs(value)))
    target_source = None
    if not target.empty:
        t = target.iloc[0]
        target_source = f"{t['source_file']} 第{t['row']}行" if isinstance(
            t["source_file"], str) else "按规则推算"
    accepted = [{"value": a.value, "reason": a.reason, "by": a.accepted_by,
                 "at": _stamp(a.accepted_at)}
                for a in acceptances_of(conn, code, unit, as_of)] \
        if "core.accepted_figures" in _tables(conn) else []
    return Audit(code, unit, period, value,
                 _stamp(stored["updated_at"].iloc[0]) if not stored.empty else None,
                 None if progress.empty else {
                     k: (as_number(v) if isinstance(v, float) else v)
                     for k, v in progress.iloc[0][[
                         c for c in ("actual", "target", "planned", "completion", "planned_share",
                                     "status", "as_of", "missing_units", "missing_list",
                                     "estimate", "estimate_status")
                         if c in progress.columns]].items()},
                 target_source, chain, mismatch, accepted)


# -- rendering ---------------------------------------------------------------------------------



def _fmt(x: float | None) -> str:
    return "—" if x is None else f"{x:,.6g}"


def render(result: Audit, catalog: Catalog) -> str:
    ind = catalog.indicators[result.indicator]
    lines = [f"{ind.name}（{ind.code}，{ind.measure}） · {catalog.level_label(result.unit)}"
             f"（{result.unit}） · {result.period}"]
    stored = f"库中数值：{_fmt(result.stored)}"
    if result.stored_at:
        stored += f"（mart.indicator_values，{result.stored_at} 写入）"
    lines.append(stored)
    if result.progress:
        p = result.progress
        lines.append(f"进度：实际 {_fmt(p['actual'])}，年度目标 {_fmt(p['target'])}，"
                     f"计划 {_fmt(p['planned'])}，完成率 {_fmt(p['completion'])}%，"
                     f"状态 {status_label(p['status'], p.get('missing_units')) or p['status']}")
        if is_incomplete(p["status"], p.get("missing_units")):
            missing = "、".join(catalog.unit_name(u) for u in str(p.get("missing_list")).split(","))
            lines.append(f"待报齐：缺 {missing}，合计只含已报单位，不评灯、不预警、不督办；"
                         f"估算（缺报单位按最近一期数结转）{_fmt(as_number(p.get('estimate')))}"
                         + (f"，估算状态 {status_label(p['estimate_status'])}"
                            if isinstance(p.get("estimate_status"), str) else ""))
    if result.target_source:
        lines.append(f"年度目标来自：{result.target_source}")
    for a in result.accepted:
        lines.append(f"已确认纳入（kj accept）：{_fmt(a['value'])}，{a['at']} 由 {a['by']} 确认，"
                     f"理由：{a['reason']}")
    if result.stored is None and result.trace.value is None:
        lines.append("库中无此数，源数据中也没有（原因见下）")
    elif result.mismatch:
        lines.append(f"⚠ 按源数据重算为 {_fmt(result.trace.value)}，与库中数值不符："
                     f"源数据在计算后有变更，请重跑 {result.period} 的月调度")
    else:
        lines.append("✓ 按源数据重算与库中数值一致")
    lines.append("")
    _render_trace(result.trace, catalog, lines, "")
    return "\n".join(lines)


def _render_trace(t: Trace, catalog: Catalog, lines: list[str], indent: str) -> None:
    ind = catalog.indicators[t.indicator]
    lines.append(f"{indent}{catalog.level_label(t.unit)} {ind.name} {t.period} = {_fmt(t.value)}"
                 f"　[{t.how}]" + (f"　{t.note}" if t.note else ""))
    for part in t.parts:
        _render_trace(part, catalog, lines, indent + "  ")
    for c in t.cells:
        lines.append(f"{indent}  ← {_fmt(c.value)}：{_where(c)}")
    for c in t.replaced:
        lines.append(f"{indent}    曾报 {_fmt(c.value)}：{_where(c)}；"
                     f"{c.replaced_at} 被 {c.replaced_by} 取代")
    if t.records:
        shown = t.records[:20]
        lines.append(f"{indent}  ← 登记库记录 {len(t.records)} 条：" + "，".join(
            f"{r['id']}（{r['start']}起" + (f"至{r['end']}" if r["end"] else "") + "）"
            for r in shown) + ("…" if len(t.records) > len(shown) else ""))


def _where(c: SourceCell) -> str:
    stored_as = f"，归档为 {c.archived_as}" if c.archived_as else ""
    cell = f"“{c.column}”列" if c.cell == c.column else f"{c.cell}（{c.column}）"
    return (f"{c.file}（SHA-256 {c.sha256[:16]}…{stored_as}）工作表“{c.sheet}”第{c.row}行"
            f" {cell}，报告期{c.period}，{c.submitted_at} 报送，{c.received_at} 入库")

